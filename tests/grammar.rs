//! The pest grammar against the hand-written parser: every script the
//! project holds (the case suite, `scripts/`, the benchmark's script) must
//! give the same tree, or the same error at the same place.

use std::path::Path;
use std::rc::Rc;

use lyncsh::syntax::Source;
use lyncsh::syntax::build::parse_script_pest;
use lyncsh::syntax::parser::parse_script;
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
    // Unfinished and wrong input the REPL and `lyncsh check` meet.
    for text in [
        "if ($a) {",
        "foreach ($i in 1..3) { $i",
        "'abc",
        "\"abc",
        "@'\nx",
        "Get-X |",
        "$a = ",
        "@{ a = 1",
        "function f {",
        "$x.Foo(1,",
        "if ($a) } ",
        "$a = )",
        "1 +* 2",
        "foreach $i in 1 {}",
        "switch -foo (1) {}",
        "1 -eq",
        "Get-X -Name:",
        "Get-X 2>&2",
        "$a, $b += 1",
        "try { }",
        "[int",
        "[int$x",
        "do { } x",
        ":lbl Get-X",
        "break 'x'",
        "function ($a) {}",
        "param($a $b)",
        "$h = @{ a }",
        "$x.",
        "$x::",
        "$x[]",
        "é",
        "Get-é -é é",
        "Get-X 2>&2; )",
        "$h = @{ a = 1; a = 2 }; )",
        "$n = 1abc; )",
    ] {
        out.push((format!("snippet {text:?}"), text.to_string()));
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
                "error {line}:{col} [{}..{}] incomplete={} {} {}",
                e.span.start, e.span.end, e.incomplete, e.error_id, e.message
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

/// Broken versions of every script: cut short after each line and after
/// each opening bracket, quote or operator (what a REPL sees while the
/// user types), and with one closing bracket or quote left out.
fn broken(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, c) in text.char_indices() {
        let cut = i + c.len_utf8();
        if matches!(
            c,
            '\n' | '{' | '(' | '[' | '"' | '\'' | '|' | '=' | ',' | '@' | '$' | '-' | '+' | '`'
        ) {
            out.push(text[..cut].to_string());
        }
        if matches!(c, '}' | ')' | ']' | '"' | '\'') {
            out.push(format!("{}{}", &text[..i], &text[cut..]));
        }
    }
    out
}

#[test]
fn broken_scripts_give_the_same_error_at_the_same_place() {
    let mut total = 0;
    let mut mismatches: Vec<(String, String, String)> = Vec::new();
    for (name, text) in scripts() {
        for variant in broken(&text) {
            total += 1;
            let hand = outcome(parse_script, &variant);
            let pest = outcome(parse_script_pest, &variant);
            if hand != pest {
                mismatches.push((
                    name.clone(),
                    variant,
                    format!(
                        "  hand: {}\n  pest: {}",
                        hand.lines().next().unwrap_or(""),
                        pest.lines().next().unwrap_or("")
                    ),
                ));
            }
        }
    }
    if !mismatches.is_empty() {
        for (name, variant, diff) in mismatches.iter().take(400) {
            eprintln!("--- {name}: {variant:?}\n{diff}");
        }
        panic!(
            "{} of {total} broken scripts differ between the two parsers",
            mismatches.len()
        );
    }
}
