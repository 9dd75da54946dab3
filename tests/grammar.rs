//! The pest grammar against the hand-written parser: every script the
//! project holds (the case suite, `scripts/`, the benchmark's script) must
//! give the same tree, or the same error at the same place.

use std::path::Path;
use std::rc::Rc;

use lyncsh::syntax::build::parse_script_pest;
use lyncsh::syntax::{Source, parse_script};
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    script: String,
}

/// Every script: (where it comes from, its text).
fn scripts() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(root.join("tests/cases"))
        .expect("tests/cases is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("case file is readable");
        let file: File = toml::from_str(&text).expect("case file parses");
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        for case in file.case {
            out.push((
                format!("{}: {}", stem.clone().unwrap_or_default(), case.name),
                case.script,
            ));
        }
    }
    let mut ps1: Vec<_> = std::fs::read_dir(root.join("scripts"))
        .expect("scripts/ is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ps1"))
        .collect();
    ps1.sort();
    for path in ps1 {
        let text = std::fs::read_to_string(&path).expect("script is readable");
        out.push((path.display().to_string(), text));
    }
    let bench = std::fs::read_to_string(root.join("benches/data/admin.ps1"))
        .expect("bench script is readable");
    out.push(("benches/data/admin.ps1".to_string(), bench));
    out
}

/// The tree, or the error with its position, as comparable text.
fn outcome(
    parse: fn(
        Rc<Source>,
    ) -> Result<Rc<lyncsh::syntax::ast::ScriptBlockAst>, lyncsh::syntax::ParseError>,
    text: &str,
) -> String {
    match parse(Rc::new(Source::new(None, text.to_string()))) {
        Ok(ast) => format!("{ast:#?}"),
        Err(e) => {
            let (line, col) = e.line_col();
            format!(
                "error {line}:{col} [{}..{}] incomplete={} {}",
                e.span.start, e.span.end, e.incomplete, e.message
            )
        }
    }
}

fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            let from = i.saturating_sub(6);
            let ctx: Vec<&str> = a.lines().skip(from).take(i - from).collect();
            return format!("  ...\n{}\n  hand: {x}\n  pest: {y}", ctx.join("\n"));
        }
    }
    format!(
        "  hand: {}\n  pest: {}",
        a.lines().next().unwrap_or(""),
        b.lines().next().unwrap_or("")
    )
}

#[test]
fn pest_grammar_builds_the_same_tree_as_the_hand_written_parser() {
    let all = scripts();
    assert!(all.len() > 1000, "only {} scripts found", all.len());
    let mut mismatches = Vec::new();
    for (name, text) in &all {
        let hand = outcome(parse_script, text);
        let pest = outcome(parse_script_pest, text);
        if hand != pest {
            mismatches.push(format!("{name}\n{}", first_difference(&hand, &pest)));
        }
    }
    let errors = all
        .iter()
        .filter(|(_, t)| outcome(parse_script, t).starts_with("error"))
        .count();
    eprintln!("{} scripts, {errors} of them fail to parse", all.len());
    if !mismatches.is_empty() {
        for m in &mismatches {
            eprintln!("--- {m}");
        }
        panic!(
            "{} of {} scripts differ between the two parsers",
            mismatches.len(),
            all.len()
        );
    }
}
