//! The parser's errors, pinned. When the pest grammar replaced the
//! hand-written parser, both gave the same tree or the same error at the
//! same place for every script the project held and for every broken
//! version of them; the hand-written parser is gone, and `grammar/errors.txt`
//! keeps what it answered for unfinished snippets and for `grammar/admin.ps1`
//! cut short or missing a closing bracket or quote — what a REPL and
//! `lyncsh check` meet while a user types. Where pwsh 7 reads the input
//! differently (`1abc` names a command), the pinned line follows pwsh.

use std::path::Path;
use std::rc::Rc;

use lyncsh::syntax::{Source, parse_script};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The error with its position, as one line; `ok` when the text parses.
fn outcome(text: &str) -> String {
    match parse_script(Rc::new(Source::new(None, text.to_string()))) {
        Ok(_) => "ok".into(),
        Err(e) => {
            let (line, col) = e.line_col();
            format!(
                "error {line}:{col} [{}..{}] incomplete={} {} {}",
                e.span.start, e.span.end, e.incomplete, e.error_id, e.message
            )
        }
    }
}

/// The input a pinned line names: a snippet (as a JSON string), the frozen
/// script cut after byte N, or the frozen script without the byte at N.
fn input(label: &str, script: &str) -> String {
    let at = |n: &str| n.parse::<usize>().expect("a byte offset");
    match label.split_once(' ') {
        Some(("snippet", json)) => serde_json::from_str(json).expect("a JSON string"),
        Some(("cut", n)) => script[..at(n)].to_string(),
        Some(("drop", n)) => {
            let i = at(n);
            let next = script[i..].chars().next().map_or(0, char::len_utf8);
            format!("{}{}", &script[..i], &script[i + next..])
        }
        _ => panic!("unknown label {label:?}"),
    }
}

#[test]
fn broken_input_gives_the_pinned_error_at_the_pinned_place() {
    let script = std::fs::read_to_string(root().join("tests/grammar/admin.ps1"))
        .expect("the frozen script is readable");
    let pinned = std::fs::read_to_string(root().join("tests/grammar/errors.txt"))
        .expect("the pinned list is readable");
    let mut checked = 0;
    let mut differ = Vec::new();
    for line in pinned.lines() {
        let (label, expected) = line.split_once('\t').expect("label<TAB>outcome");
        let got = outcome(&input(label, &script));
        if got != expected {
            differ.push(format!("{label}\n  pinned: {expected}\n  now:    {got}"));
        }
        checked += 1;
    }
    assert!(checked > 900, "only {checked} pinned inputs");
    assert!(
        differ.is_empty(),
        "{} of {checked} inputs differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
}

#[test]
fn the_sample_scripts_and_the_benchmark_script_parse() {
    let mut files: Vec<_> = std::fs::read_dir(root().join("scripts"))
        .expect("scripts/ is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ps1"))
        .collect();
    files.push(root().join("benches/data/admin.ps1"));
    assert!(files.len() > 5);
    for path in files {
        let text = std::fs::read_to_string(&path).expect("script is readable");
        assert_eq!(outcome(&text), "ok", "{}", path.display());
    }
}
