//! The report as Pester 4 prints it — `Describing`, `Context`, one line per
//! test with its mark and duration, the failure under it, the summary —
//! and the `-PassThru` result object.

use std::time::Duration;

use super::{Outcome, Run, Show, TestResult};
use crate::host::Color;
use crate::runtime::Interp;
use crate::runtime::value::Value;

/// Pester's human-readable durations: `12ms`, `1.41s`.
pub fn human_time(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 1.0 {
        format!("{}ms", d.as_millis())
    } else if secs < 60.0 {
        format!("{secs:.2}s")
    } else {
        format!("{}m{:.2}s", (secs / 60.0) as u64, secs % 60.0)
    }
}

/// Whether the report of the run (if any) prints `part`.
pub fn shows(it: &Interp, part: Show) -> bool {
    it.pester.as_ref().is_none_or(|r| r.show.has(part))
}

/// Prints a line of the report's `part`, if it is shown.
pub fn say_part(it: &mut Interp, part: Show, text: &str, color: &str) {
    if shows(it, part) {
        say(it, text, color);
    }
}

fn say(it: &mut Interp, text: &str, color: &str) {
    it.flush_output();
    it.host.write_host(text, Color::parse(color), None, true);
}

/// `Describing X` / `Context Y`, after a blank line, indented by depth.
pub fn header(it: &mut Interp, level: usize, context: bool, name: &str) {
    let part = if context {
        Show::CONTEXT
    } else {
        Show::DESCRIBE
    };
    if !shows(it, part) {
        return;
    }
    say(it, "", "Gray");
    let (word, color) = if context {
        ("Context", "Cyan")
    } else {
        ("Describing", "Green")
    };
    say(it, &format!("{}{word} {name}", "  ".repeat(level)), color);
}

/// One test's line, and for a failure its message and where it failed.
pub fn test_line(it: &mut Interp, level: usize, r: &TestResult) {
    let margin = "  ".repeat(level + 1);
    let (mark, color, part) = match r.outcome {
        Outcome::Passed => ("[+]", "DarkGreen", Show::PASSED),
        Outcome::Failed => ("[-]", "Red", Show::FAILED),
        Outcome::Skipped => ("[!]", "Yellow", Show::SKIPPED),
        Outcome::Pending => ("[?]", "Gray", Show::PENDING),
        Outcome::Inconclusive => ("[?]", "Gray", Show::INCONCLUSIVE),
    };
    if !shows(it, part) {
        return;
    }
    let mut name = r.name.clone();
    if r.outcome != Outcome::Failed && !r.message.is_empty() {
        name = format!("{name}, {}", r.message);
    }
    say(
        it,
        &format!("{margin}{mark} {name} {}", human_time(r.time)),
        color,
    );
    if r.outcome == Outcome::Failed {
        for line in r.message.lines().chain(r.stack.lines()) {
            say(it, &format!("{margin}  {line}"), "Red");
        }
    }
}

pub fn count(run: &Run, o: Outcome) -> usize {
    run.results.iter().filter(|r| r.outcome == o).count()
}

pub fn summary(it: &mut Interp, run: &Run) {
    if !run.show.has(Show::SUMMARY) {
        return;
    }
    let total = run.duration(run.started.elapsed());
    say(
        it,
        &format!("Tests completed in {}", human_time(total)),
        "Gray",
    );
    say(
        it,
        &format!(
            "Tests Passed: {}, Failed: {}, Skipped: {}, Pending: {}, Inconclusive: {}",
            count(run, Outcome::Passed),
            count(run, Outcome::Failed),
            count(run, Outcome::Skipped),
            count(run, Outcome::Pending),
            count(run, Outcome::Inconclusive)
        ),
        "Gray",
    );
}

/// The object `-PassThru` returns, with Pester 4's property names.
pub fn pass_thru(run: &Run) -> Value {
    let tests: Vec<Value> = run
        .results
        .iter()
        .map(|r| {
            Interp::custom_object(vec![
                ("Describe", Value::from(r.describe.as_str())),
                ("Context", Value::from(r.context.as_str())),
                ("Name", Value::from(r.name.as_str())),
                ("Result", Value::from(r.outcome.name())),
                ("Passed", Value::Bool(r.outcome == Outcome::Passed)),
                ("FailureMessage", Value::from(r.message.as_str())),
                ("StackTrace", Value::from(r.stack.as_str())),
                ("Time", Value::TimeSpan(to_delta(r.time))),
            ])
        })
        .collect();
    let n = |o| Value::from(count(run, o));
    Interp::custom_object(vec![
        ("TotalCount", Value::from(run.results.len())),
        ("PassedCount", n(Outcome::Passed)),
        ("FailedCount", n(Outcome::Failed)),
        ("SkippedCount", n(Outcome::Skipped)),
        ("PendingCount", n(Outcome::Pending)),
        ("InconclusiveCount", n(Outcome::Inconclusive)),
        (
            "Time",
            Value::TimeSpan(to_delta(run.duration(run.started.elapsed()))),
        ),
        ("TestResult", Value::array(tests)),
    ])
}

fn to_delta(d: Duration) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(d).unwrap_or_default()
}
