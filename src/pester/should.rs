//! `Should` and its operators, with Pester's failure messages and its rules
//! for input: piped values are collected; operators that take a collection
//! (`-Be`, `-BeExactly`, `-BeNullOrEmpty`, `-HaveCount`, `-Contain`) see
//! them all, the others check each value in turn.

use std::cmp::Ordering;

use super::nicely::{because, nicely, type_name, type_of};
use super::{guarded, in_child_scope};
use crate::commands::{Args, CommandInfo, Cx, Processor, Signature};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Flow, Res};
use crate::runtime::interp::Discard;
use crate::runtime::types::{PsType, exception_is};
use crate::runtime::value::Value;
use crate::runtime::{ops, regex_cache, wildcard};

/// Operators, in the order they are looked for.
const OPERATORS: &[(&str, &str)] = &[
    (
        "Be",
        "Equal to the expected value (arrays item by item), case-insensitive.",
    ),
    ("BeExactly", "Equal, case-sensitive."),
    ("BeTrue", "True."),
    ("BeFalse", "False."),
    (
        "BeNullOrEmpty",
        "$null, an empty string or an empty collection.",
    ),
    ("BeOfType", "Of the given type or one derived from it."),
    ("HaveCount", "A collection of the given size."),
    ("Match", "Matches the regular expression, case-insensitive."),
    (
        "MatchExactly",
        "Matches the regular expression, case-sensitive.",
    ),
    ("BeLike", "Matches the wildcard pattern, case-insensitive."),
    (
        "BeLikeExactly",
        "Matches the wildcard pattern, case-sensitive.",
    ),
    ("Contain", "A collection holding the expected value."),
    ("BeIn", "Found in the expected collection."),
    ("BeGreaterThan", "Greater than the expected value."),
    (
        "BeGreaterOrEqual",
        "Greater than or equal to the expected value.",
    ),
    ("BeLessThan", "Less than the expected value."),
    ("BeLessOrEqual", "Less than or equal to the expected value."),
    ("Exist", "A path that exists."),
    (
        "FileContentMatch",
        "A file with a line matching the regular expression, case-insensitive.",
    ),
    (
        "HaveParameter",
        "A command (from Get-Command) with the parameter (-Type, -DefaultValue, -Mandatory, -Alias).",
    ),
    ("Throw", "A script block that throws when run."),
    (
        "Invoke",
        "A mocked command was called (-Times, -Exactly, -ParameterFilter, -Scope).",
    ),
    (
        "InvokeVerifiable",
        "Every mock made with -Verifiable was called.",
    ),
];

/// Operators that take the piped values as one collection.
const ARRAY_INPUT: &[&str] = &["Be", "BeExactly", "BeNullOrEmpty", "HaveCount", "Contain"];

pub fn infos() -> Vec<CommandInfo> {
    let mut sig = Signature::new()
        .named("ActualValue", PsType::Object, "The value to check.")
        .from_pipeline()
        .named(
            "ExpectedValue",
            PsType::Object,
            "What the operator compares with.",
        )
        .positional(0)
        .switch("Not", "Reverses the operator.")
        .named(
            "Because",
            PsType::String,
            "Why the expectation holds, shown on failure.",
        )
        .named(
            "ExpectedMessage",
            PsType::String,
            "-Throw: a wildcard pattern the error message must match.",
        )
        .named(
            "ErrorId",
            PsType::String,
            "-Throw: a pattern for the FullyQualifiedErrorId.",
        )
        .named(
            "ExceptionType",
            PsType::Object,
            "-Throw: the exception's type.",
        )
        .switch("PassThru", "-Throw: writes the error that was thrown.")
        .named(
            "CommandName",
            PsType::String,
            "-Invoke: the mocked command.",
        )
        .named(
            "Times",
            PsType::Int,
            "-Invoke: how many calls (at least, or exactly with -Exactly).",
        )
        .switch(
            "Exactly",
            "-Invoke: the number of calls must be exactly -Times.",
        )
        .named(
            "ParameterFilter",
            PsType::ScriptBlock,
            "-Invoke: counts only the calls this accepts.",
        )
        .named("Scope", PsType::String, "-Invoke: It, Context or Describe.")
        .named(
            "ParameterName",
            PsType::String,
            "-HaveParameter: the parameter.",
        )
        .named(
            "Type",
            PsType::Object,
            "-HaveParameter: the parameter's type.",
        )
        .named(
            "DefaultValue",
            PsType::String,
            "-HaveParameter: the parameter's default value, as written.",
        )
        .switch("Mandatory", "-HaveParameter: the parameter is mandatory.")
        .named(
            "Alias",
            PsType::String,
            "-HaveParameter: an alias of the parameter.",
        );
    for (name, help) in OPERATORS {
        sig = sig.switch(name, help);
    }
    sig = sig
        .named("RegularExpression", PsType::String, "-Match: the pattern.")
        .named("ExpectedType", PsType::Object, "-BeOfType: the type.");
    vec![
        CommandInfo::new::<Should>(
            "Should",
            "Checks a value; a failed check fails the test.",
            sig,
        )
        .module("Pester"),
    ]
}

#[derive(Default)]
struct Should {
    input: Vec<Value>,
    named: Option<Value>,
}

impl Processor for Should {
    fn process(&mut self, _: &mut Cx, args: &Args) -> Res<()> {
        let piped = args
            .from_pipeline
            .iter()
            .any(|n| n.eq_ignore_ascii_case("ActualValue"));
        if let Some(v) = args.get("ActualValue") {
            if piped {
                self.input.push(v.clone());
            } else {
                self.named = Some(v.clone());
            }
        }
        Ok(())
    }

    fn end(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let Some(op) = OPERATORS.iter().map(|(n, _)| *n).find(|n| args.switch(n)) else {
            return Err(cx.fail_msg(
                "Should needs an operator, such as -Be, -BeTrue or -Throw.",
                "PesterShouldNoOperator",
                ErrorCategory::InvalidArgument,
            ));
        };
        let values: Vec<Value> = if let Some(v) = self.named.take() {
            vec![v]
        } else if self.input.is_empty() && op == "HaveCount" {
            // `@() | Should -HaveCount 0`: nothing piped is an empty collection.
            vec![Value::array(Vec::new())]
        } else if self.input.is_empty() {
            vec![Value::Null]
        } else if ARRAY_INPUT.contains(&op) {
            let all = std::mem::take(&mut self.input);
            if op == "HaveCount" || all.len() != 1 {
                vec![Value::array(all)]
            } else {
                all
            }
        } else {
            std::mem::take(&mut self.input)
        };
        for actual in values {
            let verdict = check(cx, op, &actual, args)?;
            if let Some(message) = verdict {
                let mut rec = ErrorRecord::new(
                    message,
                    "PesterAssertionFailed",
                    ErrorCategory::InvalidOperation,
                );
                rec.target = actual;
                return Err(cx.fail(rec));
            }
        }
        Ok(())
    }
}

fn expected(args: &Args, also: &str) -> Value {
    args.get(also)
        .or_else(|| args.get("ExpectedValue"))
        .cloned()
        .unwrap_or_default()
}

fn items(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.to_vec(),
        other => vec![other.clone()],
    }
}

fn null_or_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => {
            let all = a.to_vec();
            all.is_empty() || (all.len() == 1 && all[0].is_null())
        }
        _ => false,
    }
}

/// Pester's array equality: item by item, arrays within compared the same
/// way, `$null` and empty equal to each other; the expected value decides
/// how the comparison converts.
fn equal(actual: &Value, expected: &Value, cs: bool) -> bool {
    let (a, e) = (items(actual), items(expected));
    let empty = |x: &[Value]| x.is_empty() || (x.len() == 1 && x[0].is_null());
    if empty(&a) || empty(&e) {
        return empty(&a) && empty(&e);
    }
    a.len() == e.len()
        && a.iter().zip(&e).all(|(x, y)| {
            if matches!(x, Value::Array(_)) || matches!(y, Value::Array(_)) {
                equal(x, y, cs)
            } else {
                ops::equals(y, x, cs)
            }
        })
}

/// One single-element array reads as its element in messages.
fn unrolled(v: &Value) -> Value {
    match v {
        Value::Array(a) if a.to_vec().len() == 1 => a.to_vec().remove(0),
        other => other.clone(),
    }
}

/// Pester's message for two strings that differ: lengths, where, a caret.
fn string_diff(expected: &str, actual: &str, cs: bool, because_text: &str) -> String {
    let (e, a): (Vec<char>, Vec<char>) = (expected.chars().collect(), actual.chars().collect());
    let same = |x: char, y: char| {
        if cs {
            x == y
        } else {
            x.to_lowercase().eq(y.to_lowercase())
        }
    };
    let at = (0..e.len().max(a.len()))
        .find(|&i| match (e.get(i), a.get(i)) {
            (Some(&x), Some(&y)) => !same(x, y),
            _ => true,
        })
        .unwrap_or(0);
    let mut out = vec![format!(
        "Expected strings to be the same,{because_text} but they were different."
    )];
    if e.len() != a.len() {
        out.push(format!("Expected length: {}", e.len()));
        out.push(format!("Actual length:   {}", a.len()));
    } else {
        out.push(format!("String lengths are both {}.", e.len()));
    }
    out.push(format!("Strings differ at index {at}."));
    out.push(format!("Expected: '{}'", escape(expected)));
    out.push(format!("But was:  '{}'", escape(actual)));
    out.push(format!("{}{}^", " ".repeat(11), "-".repeat(at)));
    out.join("\n")
}

/// Control characters shown as PowerShell escapes, so a diff stays on its line.
fn escape(s: &str) -> String {
    s.replace('\r', "\\r")
        .replace('\n', "\\n")
        .replace('\t', "\\t")
}

/// Pester's "Expected X to \[not \]verb Y, but it did\[ not\] verb." message.
fn but_it_did(not: bool, subject: &str, how: &str, verb: &str, object: &str, b: &str) -> String {
    let (neg, did) = if not {
        ("not ", "did")
    } else {
        ("", "did not")
    };
    let object = if object.is_empty() {
        String::new()
    } else {
        format!(" {object}")
    };
    format!("Expected {subject} to {neg}{how}{verb}{object},{b} but it {did} {verb}.")
}

/// The words of a "to be found" message, negated or not.
fn found(not: bool) -> (&'static str, &'static str) {
    if not {
        ("not ", "it was found")
    } else {
        ("", "it was not found")
    }
}

fn order(cx: &Cx, actual: &Value, expected: &Value) -> Res<Ordering> {
    ops::compare(actual, expected, false).map_err(|e| cx.fail(e))
}

/// `None` when the expectation holds, else the failure message.
fn check(cx: &mut Cx, op: &str, actual: &Value, args: &Args) -> Res<Option<String>> {
    let not = args.switch("Not");
    let b = because(&args.string("Because").unwrap_or_default());
    let exp = expected(args, "");
    let (ok, message) = match op {
        "Be" | "BeExactly" => {
            let cs = op == "BeExactly";
            let ok = equal(actual, &exp, cs);
            let exactly = if cs { "exactly " } else { "" };
            let msg = if not {
                format!(
                    "Expected {} to be different from the actual value,{b} but got {}the same value.",
                    nicely(&exp),
                    exactly
                )
            } else {
                match (unrolled(&exp), unrolled(actual)) {
                    (Value::String(e), Value::String(a)) => string_diff(&e, &a, cs, &b),
                    (e, a) => format!(
                        "Expected {exactly}{},{b} but got {}.",
                        nicely(&e),
                        nicely(&a)
                    ),
                }
            };
            (ok, msg)
        }
        "BeTrue" | "BeFalse" => {
            let want = op == "BeTrue";
            let ok = actual.is_true() == want;
            let shown = if want != not { "$true" } else { "$false" };
            (
                ok,
                format!("Expected {shown},{b} but got {}.", nicely(actual)),
            )
        }
        "BeNullOrEmpty" => {
            let ok = null_or_empty(actual);
            let msg = if not {
                format!("Expected a value,{b} but got $null or empty.")
            } else {
                format!(
                    "Expected $null or empty,{b} but got {}.",
                    nicely(&unrolled(actual))
                )
            };
            (ok, msg)
        }
        "BeOfType" => {
            let ty = type_arg(cx, &expected(args, "ExpectedType"))?;
            let ok = ty.is_instance(actual);
            let neg = if not { "not " } else { "" };
            (
                ok,
                format!(
                    "Expected the value to {neg}have type {} or any of its subtypes,{b} but got {} with type {}.",
                    type_name(&ty),
                    nicely(actual),
                    type_of(actual)
                ),
            )
        }
        "HaveCount" => {
            let n = items(actual).len();
            let want = ops::compare(&exp, &Value::from(n), false).map(|o| o == Ordering::Equal);
            let ok = want.map_err(|e| cx.fail(e))?;
            let size = exp.to_string();
            let msg = match (not, size.as_str()) {
                (false, "0") => format!(
                    "Expected an empty collection,{b} but got collection with size {n} {}.",
                    nicely(actual)
                ),
                (false, _) => format!(
                    "Expected a collection with size {size},{b} but got collection with size {n} {}.",
                    nicely(actual)
                ),
                (true, "0") => {
                    format!("Expected a non-empty collection,{b} but got an empty collection.")
                }
                (true, _) => format!(
                    "Expected a collection with size different from {size},{b} but got collection with that size {}.",
                    nicely(actual)
                ),
            };
            (ok, msg)
        }
        "Match" | "MatchExactly" => {
            let cs = op == "MatchExactly";
            let pattern = expected(args, "RegularExpression").to_string();
            let re = regex_cache::get(&pattern, cs).map_err(|e| cx.fail(e))?;
            let ok = re.is_match(&actual.to_string());
            let subject = format!(
                "regular expression {}",
                nicely(&Value::from(pattern.as_str()))
            );
            let how = if cs { "case sensitively " } else { "" };
            let msg = but_it_did(not, &subject, how, "match", &nicely(actual), &b);
            (ok, msg)
        }
        "BeLike" | "BeLikeExactly" => {
            let cs = op == "BeLikeExactly";
            let pattern = exp.to_string();
            let ok = wildcard::like(&actual.to_string(), &pattern, cs);
            let how = if cs { "case sensitive " } else { "" };
            let subject = format!("{how}like wildcard {}", nicely(&exp));
            let msg = but_it_did(not, &subject, "", "match", &nicely(actual), &b);
            (ok, msg)
        }
        "Contain" => {
            let ok = items(actual).iter().any(|x| ops::equals(x, &exp, false));
            let (neg, was) = found(not);
            (
                ok,
                format!(
                    "Expected {} to {neg}be found in collection {},{b} but {was}.",
                    nicely(&exp),
                    nicely(actual)
                ),
            )
        }
        "BeIn" => {
            let ok = items(&exp).iter().any(|x| ops::equals(x, actual, false));
            let (neg, was) = found(not);
            (
                ok,
                format!(
                    "Expected collection {} to {neg}contain {},{b} but {was}.",
                    nicely(&exp),
                    nicely(actual)
                ),
            )
        }
        "BeGreaterThan" | "BeGreaterOrEqual" | "BeLessThan" | "BeLessOrEqual" => {
            let o = order(cx, actual, &exp)?;
            let ok = match op {
                "BeGreaterThan" => o == Ordering::Greater,
                "BeGreaterOrEqual" => o != Ordering::Less,
                "BeLessThan" => o == Ordering::Less,
                _ => o != Ordering::Greater,
            };
            // The negated message states the opposite relation.
            let relation = match (op, not) {
                ("BeGreaterThan", false) | ("BeLessOrEqual", true) => "greater than",
                ("BeGreaterOrEqual", false) | ("BeLessThan", true) => "greater than or equal to",
                ("BeLessThan", false) | ("BeGreaterOrEqual", true) => "less than",
                _ => "less than or equal to",
            };
            (
                ok,
                format!(
                    "Expected the actual value to be {relation} {},{b} but got {}.",
                    nicely(&exp),
                    nicely(actual)
                ),
            )
        }
        "Exist" => {
            let path = actual.to_string();
            let ok = !path.is_empty() && cx.it.resolve_path(&path).exists();
            let subject = format!("path {}", nicely(actual));
            (ok, but_it_did(not, &subject, "", "exist", "", &b))
        }
        "FileContentMatch" => {
            let path = actual.to_string();
            let text = std::fs::read_to_string(cx.it.resolve_path(&path)).map_err(|_| {
                cx.fail_msg(
                    format!("Cannot find path '{path}' because it does not exist."),
                    "PathNotFound",
                    ErrorCategory::ObjectNotFound,
                )
            })?;
            let re = regex_cache::get(&exp.to_string(), false).map_err(|e| cx.fail(e))?;
            let ok = text.lines().any(|l| re.is_match(l));
            let (neg, was) = found(not);
            (
                ok,
                format!(
                    "Expected {} to {neg}be found in file '{path}',{b} but {was}.",
                    nicely(&exp)
                ),
            )
        }
        "HaveParameter" => return super::parameter::check(cx, actual, args, not, &b),
        "InvokeVerifiable" => {
            if not {
                return Err(cx.fail_msg(
                    "Should -Not -InvokeVerifiable is not supported by lyncsh.",
                    "PesterNotInvokeVerifiable",
                    ErrorCategory::InvalidArgument,
                ));
            }
            return super::mock::check_verifiable(cx);
        }
        "Invoke" => {
            let name = expected(args, "CommandName").to_string();
            let times = args
                .get("Times")
                .map(|t| t.to_string().parse().unwrap_or(1))
                .unwrap_or(1);
            let filter = match args.get("ParameterFilter") {
                Some(Value::ScriptBlock(f)) => Some(f.clone()),
                _ => None,
            };
            let scope = args.string("Scope");
            return super::mock::check_called(
                cx,
                &name,
                times,
                args.switch("Exactly"),
                filter.as_ref(),
                scope.as_deref(),
                not,
            );
        }
        _ => return throws(cx, actual, args, not, &b),
    };
    Ok(if ok != not { None } else { Some(message) })
}

/// `-Throw`: runs the block and checks the error it ends with.
fn throws(cx: &mut Cx, actual: &Value, args: &Args, not: bool, b: &str) -> Res<Option<String>> {
    let Value::ScriptBlock(block) = actual else {
        return Err(cx.fail_msg(
            "Input is missing or not a ScriptBlock. Input to '-Throw' and '-Not -Throw' must be enclosed in curly braces.",
            "PesterThrowNeedsScriptBlock",
            ErrorCategory::InvalidArgument,
        ));
    };
    let r = in_child_scope(cx.it, |it| {
        guarded(it, |it| it.dot_invoke(block, Value::Null, &mut Discard))
    });
    let rec = match r {
        Ok(()) => None,
        Err(Flow::Error(rec)) => Some(rec),
        Err(other) => return Err(other),
    };
    if not {
        return Ok(rec.map(|rec| {
            let from = thrown_from(cx, &rec);
            format!(
                "Expected no exception to be thrown,{b} but an exception \"{}\" was thrown {from}.",
                rec.message
            )
        }));
    }
    let mut filters = Vec::new();
    let mut buts = Vec::new();
    if let Some(t) = args.get("ExceptionType").filter(|v| !v.is_null()) {
        let ty = type_arg(cx, t)?;
        filters.push(format!("type {}", type_name(&ty)));
        if let Some(rec) = &rec {
            // The type thrown or one derived from it, as Pester's `-is`.
            let actual_ty = PsType::resolve(&rec.exception_type);
            let ok = actual_ty
                .as_ref()
                .is_some_and(|a| a == &ty || ty.short_name().eq_ignore_ascii_case("Exception"))
                || rec.exception_type.eq_ignore_ascii_case(&ty.short_name())
                || exception_is(&rec.exception_type, &ty.full_name());
            if !ok {
                buts.push(format!("the exception type was [{}]", rec.exception_type));
            }
        }
    }
    let message = args
        .string("ExpectedMessage")
        .or_else(|| args.string("ExpectedValue"));
    if let Some(m) = message.filter(|m| !m.trim().is_empty()) {
        filters.push(format!("message like {}", nicely(&Value::from(m.as_str()))));
        if let Some(rec) = &rec
            && !wildcard::like(&rec.message, &m, false)
        {
            buts.push(format!(
                "the message was {}",
                nicely(&Value::from(&*rec.message))
            ));
        }
    }
    if let Some(id) = args.string("ErrorId").filter(|m| !m.trim().is_empty()) {
        filters.push(format!(
            "FullyQualifiedErrorId {}",
            nicely(&Value::from(id.as_str()))
        ));
        if let Some(rec) = &rec
            && !wildcard::like(&rec.error_id, &id, false)
        {
            buts.push(format!(
                "the FullyQualifiedErrorId was {}",
                nicely(&Value::from(rec.error_id.as_ref()))
            ));
        }
    }
    let Some(rec) = rec else {
        buts.push("no exception was thrown".into());
        return Ok(Some(failed_throw(&filters, &buts, b, "")));
    };
    if !buts.is_empty() {
        let from = thrown_from(cx, &rec);
        return Ok(Some(failed_throw(&filters, &buts, b, &from)));
    }
    if args.switch("PassThru") {
        cx.emit(Value::Error(rec))?;
    }
    Ok(None)
}

/// Pester's Join-And: `a, b and c` from `threshold` items on, else `a, b`.
pub(super) fn join_and(parts: &[String], threshold: usize) -> String {
    match parts.split_last() {
        Some((last, rest)) if parts.len() >= threshold && !rest.is_empty() => {
            format!("{} and {last}", rest.join(", "))
        }
        _ => parts.join(", "),
    }
}

fn failed_throw(filters: &[String], buts: &[String], b: &str, from: &str) -> String {
    let with = if filters.is_empty() {
        String::new()
    } else {
        format!(" with {}", join_and(filters, 2))
    };
    format!(
        "Expected an exception{with} to be thrown,{b} but {}. {from}",
        join_and(buts, 2)
    )
    .trim()
    .to_string()
}

/// A type given as `[string]`, which reaches a command as text.
pub(super) fn type_arg(cx: &Cx, v: &Value) -> Res<PsType> {
    let v = match v {
        Value::String(s) if s.starts_with('[') && s.ends_with(']') => {
            Value::from(&s[1..s.len() - 1])
        }
        other => other.clone(),
    };
    ops::type_operand(&v).map_err(|e| cx.fail(e))
}

/// Where the error was thrown: `from file:line char:col`.
fn thrown_from(cx: &Cx, rec: &ErrorRecord) -> String {
    let Some(p) = &rec.position else {
        return String::new();
    };
    let (line, col) = p.line_col();
    let file = match (&p.source.path, cx.it.pester.as_ref()) {
        (Some(f), Some(run)) => run.show_path(f),
        (Some(f), None) => f.display().to_string(),
        (None, _) => "line".into(),
    };
    format!("from {file}:{line} char:{col}")
}
