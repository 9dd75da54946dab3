//! The structure of a test file: `Describe` and `Context` run their block
//! where they stand (Pester 4), `It` runs one test at once, and the setup
//! commands `BeforeAll`, `AfterAll`, `BeforeEach`, `AfterEach` are taken
//! from the top level of their group before it runs, as Pester 4 does.

use std::rc::Rc;
use std::time::Instant;

use super::{
    Group, Outcome, Run, TestResult, guarded, in_child_scope, need_group, results, set_vars,
};
use crate::commands::{Args, CommandInfo, Cx, Processor, Signature};
use crate::runtime::Interp;
use crate::runtime::error::{ErrorCategory, ErrorRecord, Flow, Res};
use crate::runtime::interp::Discard;
use crate::runtime::types::PsType;
use crate::runtime::value::Value;
use crate::syntax::ast::{
    CommandElement, CommandName, ExprKind, PipeElement, ScriptBlockAst, Stmt,
};

const PESTER: &str = "Pester";

pub fn infos() -> Vec<CommandInfo> {
    let group = |name: &'static str, about: &'static str| {
        CommandInfo::new::<GroupCmd>(
            name,
            about,
            Signature::new()
                .named("Name", PsType::String, "What the group tests.")
                .positional(0)
                .mandatory()
                .named("Fixture", PsType::ScriptBlock, "The code of the group.")
                .positional(1)
                .named(
                    "Tag",
                    PsType::Array(None),
                    "Tags that -Tag and -ExcludeTag of Invoke-Pester select on.",
                )
                .alias("Tags")
                .named(
                    "ForEach",
                    PsType::Array(None),
                    "Hashtables: the group runs once for each, with its keys as variables.",
                )
                .alias("TestCases"),
        )
        .module(PESTER)
    };
    let setup = |name: &'static str, about: &'static str| {
        CommandInfo::new::<Setup>(
            name,
            about,
            Signature::new()
                .named(
                    "Scriptblock",
                    PsType::ScriptBlock,
                    "The setup or teardown code.",
                )
                .positional(0)
                .mandatory(),
        )
        .module(PESTER)
    };
    vec![
        group("Describe", "Groups tests; its code runs where it stands."),
        group("Context", "Groups tests inside a Describe."),
        CommandInfo::new::<ItCmd>(
            "It",
            "Runs one test (or one per test case).",
            Signature::new()
                .named(
                    "Name",
                    PsType::String,
                    "What the test checks; <key> takes a test case's value.",
                )
                .positional(0)
                .mandatory()
                .named(
                    "Test",
                    PsType::ScriptBlock,
                    "The test; a failing Should or an error fails it.",
                )
                .positional(1)
                .named(
                    "TestCases",
                    PsType::Array(None),
                    "Hashtables: the test runs once for each, with its keys as variables.",
                )
                .alias("ForEach")
                .named(
                    "Tag",
                    PsType::Array(None),
                    "Tags that -Tag and -ExcludeTag of Invoke-Pester select on.",
                )
                .alias("Tags")
                .switch("Skip", "Reports the test as skipped without running it.")
                .switch("Pending", "Reports the test as pending without running it."),
        )
        .module(PESTER),
        setup(
            "BeforeDiscovery",
            "Runs at once, where it stands: Pester 5 runs it before the tests are found.",
        ),
        setup("BeforeAll", "Runs once before the tests of its group."),
        setup("AfterAll", "Runs once after the tests of its group."),
        setup(
            "BeforeEach",
            "Runs before each test of its group, in the test's scope.",
        ),
        setup(
            "AfterEach",
            "Runs after each test of its group, also when it failed.",
        ),
        CommandInfo::new::<SetItResult>(
            "Set-ItResult",
            "Ends the current test as skipped, pending or inconclusive.",
            Signature::new()
                .switch("Skipped", "Reports the test as skipped.")
                .switch("Pending", "Reports the test as pending.")
                .switch("Inconclusive", "Reports the test as inconclusive.")
                .named("Because", PsType::String, "Why."),
        )
        .module(PESTER),
    ]
}

/// The setup commands found at the top level of a group's block.
#[derive(Default)]
struct Hoisted {
    before_all: Vec<Rc<ScriptBlockAst>>,
    after_all: Vec<Rc<ScriptBlockAst>>,
    before_each: Vec<Rc<ScriptBlockAst>>,
    after_each: Vec<Rc<ScriptBlockAst>>,
    at: Vec<u32>,
}

fn hoist(sb: &ScriptBlockAst) -> Hoisted {
    let mut h = Hoisted::default();
    let Some(body) = &sb.end else { return h };
    for stmt in body.iter() {
        let Stmt::Pipeline(p) = stmt else { continue };
        let [PipeElement::Command(c)] = p.elements.as_slice() else {
            continue;
        };
        let CommandName::Literal(name) = &c.name else {
            continue;
        };
        let block = c.elements.iter().find_map(|e| match e {
            CommandElement::Arg(x) => match &x.kind {
                ExprKind::ScriptBlock(b) => Some(b.clone()),
                _ => None,
            },
            _ => None,
        });
        let Some(block) = block else { continue };
        let list = match name.to_ascii_lowercase().as_str() {
            "beforeall" => &mut h.before_all,
            "afterall" => &mut h.after_all,
            "beforeeach" => &mut h.before_each,
            "aftereach" => &mut h.after_each,
            _ => continue,
        };
        list.push(block);
        h.at.push(c.span.start);
    }
    h
}

/// Runs each block dot-sourced in the current scope; the first error wins
/// but every block runs.
fn run_blocks(it: &mut Interp, blocks: &[Rc<ScriptBlockAst>]) -> Res<()> {
    let mut first = Ok(());
    for b in blocks {
        let r = it.dot_invoke(b, Value::Null, &mut Discard);
        if first.is_ok() {
            first = r;
        }
    }
    first
}

/// Whether a flow ends the whole run rather than one test.
fn is_fatal(f: &Flow) -> bool {
    matches!(f, Flow::Exit(_) | Flow::Stopped | Flow::Halt(_))
}

/// What a test failure shows under its line: the message, and where.
fn failure(run: &Run, rec: &ErrorRecord) -> (String, String) {
    let stack = match &rec.position {
        Some(p) => {
            let (line, _) = p.line_col();
            let file = match &p.source.path {
                Some(f) => run.show_path(f),
                None => "<script>".into(),
            };
            format!(
                "at <ScriptBlock>, {file}: line {line}\n{line}: {}",
                p.source.line_text(line).trim()
            )
        }
        None => String::new(),
    };
    (rec.message.to_string(), stack)
}

fn tags_of(args: &Args) -> Vec<String> {
    args.get("Tag")
        .map(|t| t.enumerate().iter().map(|v| v.to_string()).collect())
        .unwrap_or_default()
}

fn has_tag(list: &[String], tags: &[String]) -> bool {
    tags.iter()
        .any(|t| list.iter().any(|x| x.eq_ignore_ascii_case(t)))
}

/// The tags of the groups running, which their tests inherit.
fn inherited(run: &Run) -> Vec<String> {
    run.groups.iter().flat_map(|g| g.tags.clone()).collect()
}

/// Whether a group with these tags runs. An excluded tag leaves it out;
/// with `-Tag` given, an untagged group runs only when something in it is
/// tagged, as one of its tests may be selected.
fn group_selected(run: &Run, tags: &[String], fixture: &ScriptBlockAst) -> bool {
    if has_tag(&run.exclude_tags, tags) {
        return false;
    }
    if run.tags.is_empty() || has_tag(&run.tags, tags) || has_tag(&run.tags, &inherited(run)) {
        return true;
    }
    fixture.body_text().to_ascii_lowercase().contains("-tag")
}

/// Whether a test with these tags (and its groups') runs.
fn test_selected(run: &Run, tags: &[String]) -> bool {
    let mut all = inherited(run);
    all.extend(tags.iter().cloned());
    !has_tag(&run.exclude_tags, &all) && (run.tags.is_empty() || has_tag(&run.tags, &all))
}

#[derive(Default)]
struct GroupCmd;

impl Processor for GroupCmd {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let context = cx.rt.name.eq_ignore_ascii_case("Context");
        let name = args.string("Name").unwrap_or_default();
        let fixture = match args.get("Fixture") {
            Some(Value::ScriptBlock(b)) => b.clone(),
            _ => {
                return Err(cx.fail_msg(
                    format!("No test script block is provided. (Have you put the open curly brace on the next line?) in {name}"),
                    "PesterNoFixture",
                    ErrorCategory::InvalidArgument,
                ));
            }
        };
        let own = cx.it.pester.is_none();
        if own {
            let run = Run::new(cx.it);
            cx.it.pester = Some(Box::new(run));
        }
        let cases = match args.get("ForEach") {
            Some(v) if !v.is_null() => v.enumerate().into_iter().map(Some).collect(),
            _ => vec![None],
        };
        let mut r = Ok(());
        for case in cases {
            let title = expand_title(cx.it, &name, case.as_ref());
            r = run_group(
                cx.it,
                &title,
                &fixture,
                context,
                &tags_of(args),
                case.as_ref(),
            );
            if r.is_err() {
                break;
            }
        }
        if own {
            cx.it.pester = None;
        }
        r
    }
}

fn run_group(
    it: &mut Interp,
    name: &str,
    fixture: &Rc<ScriptBlockAst>,
    context: bool,
    tags: &[String],
    case: Option<&Value>,
) -> Res<()> {
    let Some(run) = it.pester.as_mut() else {
        return Ok(());
    };
    if !group_selected(run, tags, fixture) {
        return Ok(());
    }
    let level = run.groups.len() + 1;
    let h = hoist(fixture);
    run.serial += 1;
    let id = run.serial;
    run.groups.push(Group {
        id,
        name: name.to_string(),
        context,
        tags: tags.to_vec(),
        before_each: h.before_each,
        after_each: h.after_each,
        hoisted: h.at,
    });
    results::header(it, level, context, name);
    // Each top-level group gets its own $TestDrive, removed when it ends.
    let drive = if level == 1 {
        match super::scratch::TempFolder::new("lyncsh-testdrive") {
            Ok(d) => Some(d),
            Err(e) => {
                if let Some(run) = it.pester.as_mut() {
                    run.groups.pop();
                }
                return Err(Flow::error(e));
            }
        }
    } else {
        None
    };
    let r = in_child_scope(it, |it| {
        if let Some(d) = &drive {
            it.set_local("TestDrive", Value::from(d.path.display().to_string()));
        }
        set_vars(it, case);
        guarded(it, |it| {
            let mut r = run_blocks(it, &h.before_all);
            if r.is_ok() {
                r = it.dot_invoke(fixture, Value::Null, &mut Discard);
            }
            let after = run_blocks(it, &h.after_all);
            r.and(after)
        })
    });
    let Some(run) = it.pester.as_mut() else {
        return r;
    };
    let rec = match r {
        Err(Flow::Error(rec)) => rec,
        Err(f) if is_fatal(&f) => {
            run.groups.pop();
            return Err(f);
        }
        _ => {
            run.groups.pop();
            return Ok(());
        }
    };
    let (message, stack) = failure(run, &rec);
    let (describe, ctx) = run.names();
    let result = TestResult {
        file: run.file.clone(),
        name: format!(
            "Error occurred in {} block",
            if context { "Context" } else { "Describe" }
        ),
        describe,
        context: ctx,
        outcome: Outcome::Failed,
        message,
        stack,
        time: run.duration(std::time::Duration::ZERO),
    };
    run.groups.pop();
    results::test_line(it, level - 1, &result);
    if let Some(run) = it.pester.as_mut() {
        run.results.push(result);
    }
    Ok(())
}

#[derive(Default)]
struct Setup;

impl Processor for Setup {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let Some(Value::ScriptBlock(block)) = args.get("Scriptblock").cloned() else {
            return Ok(());
        };
        let at = cx.rt.position.as_ref().map(|p| p.span.start);
        let kind = cx.rt.name.to_ascii_lowercase();
        if kind == "beforediscovery" {
            // Pester 5 runs it while it finds the tests, before any runs;
            // here the tests are found as they run, so it runs where it
            // stands, in the caller's scope, to set up -ForEach data.
            return cx.it.dot_invoke(&block, Value::Null, &mut Discard);
        }
        let Some(group) = cx.it.pester.as_mut().and_then(|r| r.groups.last_mut()) else {
            return Err(cx.fail_msg(
                format!(
                    "{} may only be used inside a Describe or Context block.",
                    cx.rt.name
                ),
                "PesterSetupOutsideGroup",
                ErrorCategory::InvalidOperation,
            ));
        };
        if at.is_some_and(|a| group.hoisted.contains(&a)) {
            // Already taken out and run (or registered) before the group ran.
            return Ok(());
        }
        match kind.as_str() {
            "beforeeach" => group.before_each.push(block),
            "aftereach" => group.after_each.push(block),
            // Met in the middle of a group (under an `if`, say): run now.
            _ => cx.it.dot_invoke(&block, Value::Null, &mut Discard)?,
        }
        Ok(())
    }
}

#[derive(Default)]
struct ItCmd;

impl Processor for ItCmd {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let name = args.string("Name").unwrap_or_default();
        need_group(
            cx,
            "The It command may only be used inside a Describe block.",
            "PesterItOutsideDescribe",
        )?;
        let body = match args.get("Test") {
            Some(Value::ScriptBlock(b)) => Some(b.clone()),
            _ => None,
        };
        let tags = tags_of(args);
        if cx
            .it
            .pester
            .as_ref()
            .is_some_and(|run| !test_selected(run, &tags))
        {
            return Ok(());
        }
        let cases = match args.get("TestCases") {
            Some(v) if !v.is_null() => v.enumerate().into_iter().map(Some).collect(),
            _ => vec![None],
        };
        for case in cases {
            let title = expand_title(cx.it, &name, case.as_ref());
            let outcome = if args.switch("Skip") {
                Some(Outcome::Skipped)
            } else if args.switch("Pending") || body.is_none() {
                Some(Outcome::Pending)
            } else {
                None
            };
            run_test(cx.it, &title, body.as_ref(), case.as_ref(), outcome)?;
        }
        Ok(())
    }
}

/// `<name>` in a title takes the test case's value for that key, else
/// the value of a variable of that name (a `-ForEach` of an outer group,
/// as Pester 5 does); anything else stays as written.
fn expand_title(it: &Interp, name: &str, case: Option<&Value>) -> String {
    let lookup = |key: &str| -> Option<String> {
        if let Some(Value::Hashtable(h)) = case
            && let Some(v) = h.borrow().get_str(key)
        {
            return Some(v.to_string());
        }
        it.get_var(&key.to_ascii_lowercase()).map(|v| v.to_string())
    };
    let mut out = String::new();
    let mut rest = name;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('>');
        let value = close
            .map(|c| &after[..c])
            .filter(|k| !k.is_empty() && k.chars().all(|ch| ch.is_alphanumeric() || ch == '_'))
            .and_then(lookup);
        match (value, close) {
            (Some(v), Some(c)) => {
                out.push_str(&v);
                rest = &after[c + 1..];
            }
            _ => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn run_test(
    it: &mut Interp,
    title: &str,
    body: Option<&Rc<ScriptBlockAst>>,
    case: Option<&Value>,
    decided: Option<Outcome>,
) -> Res<()> {
    let started = Instant::now();
    let (outcome, message, stack) = match (decided, body) {
        (Some(o), _) => (o, String::new(), String::new()),
        (None, None) => (Outcome::Pending, String::new(), String::new()),
        (None, Some(body)) => {
            let (before, after): (Vec<_>, Vec<_>) = match it.pester.as_ref() {
                Some(run) => (
                    run.groups
                        .iter()
                        .flat_map(|g| g.before_each.clone())
                        .collect(),
                    run.groups
                        .iter()
                        .rev()
                        .flat_map(|g| g.after_each.clone())
                        .collect(),
                ),
                None => (Vec::new(), Vec::new()),
            };
            if let Some(run) = it.pester.as_mut() {
                run.serial += 1;
                run.current_test = Some(run.serial);
            }
            let r = in_child_scope(it, |it| {
                set_vars(it, case);
                guarded(it, |it| {
                    let mut r = run_blocks(it, &before);
                    if r.is_ok() {
                        r = it.dot_invoke(body, Value::Null, &mut Discard);
                    }
                    let after = run_blocks(it, &after);
                    r.and(after)
                })
            });
            if let Some(run) = it.pester.as_mut() {
                run.current_test = None;
            }
            match r {
                Ok(()) => (Outcome::Passed, String::new(), String::new()),
                Err(Flow::Error(rec)) => match rec.error_id.as_ref() {
                    "PesterTestSkipped" => {
                        (Outcome::Skipped, rec.message.to_string(), String::new())
                    }
                    "PesterTestPending" => {
                        (Outcome::Pending, rec.message.to_string(), String::new())
                    }
                    "PesterTestInconclusive" => (
                        Outcome::Inconclusive,
                        rec.message.to_string(),
                        String::new(),
                    ),
                    _ => {
                        let empty = Run::new(it);
                        let (m, s) = failure(it.pester.as_deref().unwrap_or(&empty), &rec);
                        (Outcome::Failed, m, s)
                    }
                },
                Err(f) if is_fatal(&f) => return Err(f),
                // break/continue out of a test end it; it passed.
                Err(_) => (Outcome::Passed, String::new(), String::new()),
            }
        }
    };
    let Some(run) = it.pester.as_mut() else {
        return Ok(());
    };
    let (describe, context) = run.names();
    let level = run.groups.len();
    let result = TestResult {
        file: run.file.clone(),
        name: title.to_string(),
        describe,
        context,
        outcome,
        message,
        stack,
        time: run.duration(started.elapsed()),
    };
    results::test_line(it, level, &result);
    if let Some(run) = it.pester.as_mut() {
        run.results.push(result);
    }
    Ok(())
}

#[derive(Default)]
struct SetItResult;

impl Processor for SetItResult {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let (id, word) = if args.switch("Skipped") {
            ("PesterTestSkipped", "skipped")
        } else if args.switch("Pending") {
            ("PesterTestPending", "pending")
        } else if args.switch("Inconclusive") {
            ("PesterTestInconclusive", "inconclusive")
        } else {
            return Err(cx.fail_msg(
                "Set-ItResult needs one of -Skipped, -Pending or -Inconclusive.",
                "PesterSetItResultNoResult",
                ErrorCategory::InvalidArgument,
            ));
        };
        let mut message = format!("is {word}");
        if let Some(b) = args.string("Because") {
            message.push_str(&super::nicely::because(&b));
            message.pop();
        }
        let mut rec = ErrorRecord::new(message, id, ErrorCategory::OperationStopped);
        rec.script_terminating = true;
        Err(cx.fail(rec))
    }
}
