//! The built-in Pester run on our own test files, `tests/pester/`: the
//! files in `passing/` use every keyword and assertion and pass; those in
//! `failing/` fail on purpose, so that each failure's printed text and the
//! `-PassThru` counts are checked. The NUnit XML report is parsed back.

mod common;

use std::process::Command;

use common::{LIMIT, Run, TempDir, bin, run_bounded};
use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;

/// `lyncsh -Command SCRIPT` in the repository, on a fresh store, every
/// test's duration fixed so that the report is exact.
fn pester(script: &str) -> (Run, TempDir) {
    let dir = TempDir::new("pester-files");
    let mut cmd = Command::new(bin());
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("LYNCSH_PESTER_TIME_MS", "3")
        .args(["-NoProfile", "-NonInteractive", "--store"])
        .arg(dir.path("store.db"))
        .args(["-Command", script]);
    (run_bounded(cmd, b"", LIMIT), dir)
}

/// The report with each `$TestDrive` folder (a random name) written as
/// `<TestDrive>`.
fn without_test_drive(text: &str) -> String {
    let re = regex::Regex::new(r"/[^\s']*lyncsh-testdrive-\d+-[0-9a-f]{8}").expect("pattern");
    re.replace_all(text, "<TestDrive>").into_owned()
}

fn expected(name: &str) -> String {
    let path = format!("{}/tests/pester/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).expect("expected report")
}

#[test]
fn every_keyword_and_assertion_passes() {
    let (r, _dir) = pester("Invoke-Pester tests/pester/passing -EnableExit");
    assert_eq!(r.stderr, "");
    assert_eq!(without_test_drive(&r.stdout), expected("passing.expected"));
    assert_eq!(r.code, Some(0));
}

#[test]
fn deliberate_failures_print_the_expected_text_and_are_counted() {
    let (r, _dir) = pester(
        "$r = Invoke-Pester tests/pester/failing -PassThru\n\
         'Total {0}, passed {1}, failed {2}' -f $r.TotalCount, $r.PassedCount, $r.FailedCount\n\
         $r.TestResult[0].FailureMessage\n\
         Invoke-Pester tests/pester/failing -Show None -EnableExit",
    );
    assert_eq!(r.stderr, "");
    assert_eq!(without_test_drive(&r.stdout), expected("failing.expected"));
    // -EnableExit: the exit status is the number of failed tests.
    assert_eq!(r.code, Some(29));
}

/// One `<test-case>` of the report: its attributes and failure message.
#[derive(Default, Debug)]
struct Case {
    name: String,
    result: String,
    executed: String,
    message: String,
}

#[test]
fn nunit_xml_report_parses_back() {
    let out = TempDir::new("pester-nunit");
    let file = out.path("results.xml");
    let (r, _dir) = pester(&format!(
        "Invoke-Pester tests/pester/passing, tests/pester/failing -Show None \
         -OutputFile '{}' -OutputFormat NUnitXml",
        file.display()
    ));
    assert_eq!(r.stderr, "");
    assert_eq!(r.stdout, "");
    let xml = std::fs::read_to_string(&file).expect("report written");
    let mut reader = Reader::from_str(&xml);
    let mut root = Vec::new();
    let mut suites = Vec::new();
    let mut cases: Vec<Case> = Vec::new();
    let mut in_message = false;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => {
                let attrs: Vec<(String, String)> = e
                    .attributes()
                    .map(|a| {
                        let a = a.expect("attribute");
                        (
                            String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                            a.unescape_value().expect("value").into_owned(),
                        )
                    })
                    .collect();
                let get = |k: &str| {
                    attrs
                        .iter()
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                match e.name().as_ref() {
                    b"test-results" => root = attrs.clone(),
                    b"test-suite" => suites.push(get("name")),
                    b"test-case" => cases.push(Case {
                        name: get("name"),
                        result: get("result"),
                        executed: get("executed"),
                        message: String::new(),
                    }),
                    b"message" => in_message = true,
                    _ => {}
                }
            }
            Event::Text(t) if in_message => {
                if let Some(c) = cases.last_mut() {
                    c.message.push_str(&t.xml_content().expect("text"));
                }
            }
            // `&apos;` and the like come as references of their own.
            Event::GeneralRef(r) if in_message => {
                let name = r.decode().expect("reference");
                let text = resolve_predefined_entity(&name).expect("a predefined entity");
                if let Some(c) = cases.last_mut() {
                    c.message.push_str(text);
                }
            }
            Event::End(e) if e.name().as_ref() == b"message" => in_message = false,
            Event::Eof => break,
            _ => {}
        }
    }
    let attr = |k: &str| {
        root.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(attr("name"), "Pester");
    assert_eq!(attr("total"), "62");
    assert_eq!(attr("failures"), "29");
    assert_eq!(attr("not-run"), "2");
    assert_eq!(attr("inconclusive"), "2");
    assert_eq!(cases.len(), 62);
    assert_eq!(
        suites[..4],
        [
            "Pester",
            "tests/pester/passing/Keywords.Tests.ps1",
            "Structure",
            "Cases",
        ]
    );
    let case = |name: &str| {
        cases
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no test case {name}: {cases:?}"))
    };
    let be = case("Failures.Be");
    assert_eq!(
        (be.result.as_str(), be.executed.as_str()),
        ("Failure", "True")
    );
    assert_eq!(be.message, "Expected 5, but got 4.");
    let contain = case("Failures.Contain");
    assert_eq!(
        contain.message,
        "Expected 'c' to be found in collection @('a', 'b'), but it was not found."
    );
    let passed = case("Structure.Cases.expands one from -TestCases");
    assert_eq!(passed.result, "Success");
    let skipped = case("Structure.is skipped");
    assert_eq!(
        (skipped.result.as_str(), skipped.executed.as_str()),
        ("Ignored", "False")
    );
    let pending = case("Structure.is pending");
    assert_eq!(pending.result, "Inconclusive");
}
