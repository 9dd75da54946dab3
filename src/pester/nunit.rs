//! `-OutputFile … -OutputFormat NUnitXml`: the results as NUnit 2.5 XML,
//! the format CI servers read, laid out as Pester writes it — a suite for
//! the run, one for each test file, one for each Describe and Context,
//! and a test case for each test.

use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

use quick_xml::escape::escape;

use super::{Outcome, Run, TestResult, results};

/// The report as the text of an XML file.
pub fn report(run: &Run, cwd: &Path) -> String {
    let now = chrono::Local::now();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"no\"?>\n");
    let n = |o| results::count(run, o);
    let _ = writeln!(
        out,
        "<test-results xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:noNamespaceSchemaLocation=\"nunit_schema_2.5.xsd\" name=\"Pester\" total=\"{}\" \
         errors=\"0\" failures=\"{}\" not-run=\"{}\" inconclusive=\"{}\" ignored=\"0\" \
         skipped=\"0\" invalid=\"0\" date=\"{}\" time=\"{}\">",
        run.results.len(),
        n(Outcome::Failed),
        n(Outcome::Skipped),
        n(Outcome::Pending) + n(Outcome::Inconclusive),
        now.format("%Y-%m-%d"),
        now.format("%H:%M:%S"),
    );
    let _ = writeln!(
        out,
        "  <environment nunit-version=\"2.5.8.0\" platform=\"{}\" cwd=\"{}\" />",
        std::env::consts::OS,
        escape(cwd.display().to_string().as_str())
    );
    out.push_str("  <culture-info current-culture=\"en-US\" current-uiculture=\"en-US\" />\n");
    let all: Vec<&TestResult> = run.results.iter().collect();
    suite(
        &mut out,
        1,
        "Pester",
        &all,
        &|r| Some(r.file.as_str()),
        &[&|r| Some(r.describe.as_str()), &|r| {
            Some(r.context.as_str())
        }],
    );
    out.push_str("</test-results>\n");
    out
}

type Key<'a> = &'a dyn Fn(&TestResult) -> Option<&str>;

/// A `<test-suite>` holding `tests`: grouped by `key` into sub-suites (a
/// result with an empty key sits in this suite itself), the deeper
/// levels by `rest`.
fn suite(
    out: &mut String,
    depth: usize,
    name: &str,
    tests: &[&TestResult],
    key: Key,
    rest: &[Key],
) {
    let pad = "  ".repeat(depth);
    let failed = tests.iter().any(|r| r.outcome == Outcome::Failed);
    let time: Duration = tests.iter().map(|r| r.time).sum();
    let _ = writeln!(
        out,
        "{pad}<test-suite type=\"TestFixture\" name=\"{0}\" executed=\"True\" result=\"{1}\" \
         success=\"{2}\" time=\"{3}\" asserts=\"0\" description=\"{0}\">",
        escape(name),
        if failed { "Failure" } else { "Success" },
        if failed { "False" } else { "True" },
        seconds(time)
    );
    let _ = writeln!(out, "{pad}  <results>");
    let mut i = 0;
    while i < tests.len() {
        let k = key(tests[i]).unwrap_or_default();
        let mut j = i + 1;
        while j < tests.len() && key(tests[j]).unwrap_or_default() == k {
            j += 1;
        }
        match (k.is_empty(), rest.split_first()) {
            (false, Some((next, deeper))) => suite(out, depth + 2, k, &tests[i..j], *next, deeper),
            (false, None) => suite(out, depth + 2, k, &tests[i..j], &|_| None, &[]),
            (true, _) => {
                for r in &tests[i..j] {
                    case(out, depth + 2, r);
                }
            }
        }
        i = j;
    }
    let _ = writeln!(out, "{pad}  </results>");
    let _ = writeln!(out, "{pad}</test-suite>");
}

fn case(out: &mut String, depth: usize, r: &TestResult) {
    let pad = "  ".repeat(depth);
    let full: Vec<&str> = [r.describe.as_str(), r.context.as_str(), r.name.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let (result, executed, success) = match r.outcome {
        Outcome::Passed => ("Success", "True", Some("True")),
        Outcome::Failed => ("Failure", "True", Some("False")),
        Outcome::Skipped => ("Ignored", "False", None),
        Outcome::Pending | Outcome::Inconclusive => ("Inconclusive", "True", None),
    };
    let success = success
        .map(|s| format!(" success=\"{s}\""))
        .unwrap_or_default();
    let _ = write!(
        out,
        "{pad}<test-case description=\"{}\" name=\"{}\" time=\"{}\" asserts=\"0\"{success} \
         result=\"{result}\" executed=\"{executed}\"",
        escape(r.name.as_str()),
        escape(full.join(".").as_str()),
        seconds(r.time)
    );
    match r.outcome {
        Outcome::Passed => out.push_str(" />\n"),
        Outcome::Failed => {
            let _ = writeln!(
                out,
                ">\n{pad}  <failure>\n{pad}    <message>{}</message>\n{pad}    \
                 <stack-trace>{}</stack-trace>\n{pad}  </failure>\n{pad}</test-case>",
                escape(r.message.as_str()),
                escape(r.stack.as_str())
            );
        }
        _ => {
            let _ = writeln!(
                out,
                ">\n{pad}  <reason>\n{pad}    <message>{}</message>\n{pad}  </reason>\n{pad}</test-case>",
                escape(r.message.as_str())
            );
        }
    }
}

/// Seconds with three decimals, as NUnit reads them.
fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}
