//! `Mock`: a function of the mocked command's name, defined in the scope
//! of the `Mock` call, so that it lasts as long as its Describe, Context
//! or It. The function hands its parameters to `Invoke-PesterMock`, which
//! picks the behaviour (the latest mock whose `-ParameterFilter` accepts
//! them, else the latest without a filter), logs the call and runs it.
//! `Should -Invoke` and `Assert-MockCalled` count the logged calls.

use std::rc::Rc;

use super::{Call, Verifiable, in_child_scope, need_group, set_vars};
use crate::commands::{Args, CommandInfo, Cx, Processor, Signature};
use crate::runtime::Interp;
use crate::runtime::error::{ErrorCategory, Res};
use crate::runtime::interp::Discard;
use crate::runtime::types::PsType;
use crate::runtime::value::Value;
use crate::syntax::Source;
use crate::syntax::ast::ScriptBlockAst;

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<MockCmd>(
            "Mock",
            "Replaces a command, within the current Describe, Context or It, by a script block.",
            Signature::new()
                .named("CommandName", PsType::String, "The command to replace.")
                .positional(0)
                .mandatory()
                .named(
                    "MockWith",
                    PsType::ScriptBlock,
                    "What the mock does; its output is the command's.",
                )
                .positional(1)
                .named(
                    "ParameterFilter",
                    PsType::ScriptBlock,
                    "Only calls whose parameters make this true use this mock.",
                )
                .switch(
                    "Verifiable",
                    "Assert-VerifiableMock fails unless this mock is called.",
                ),
        )
        .module("Pester"),
        CommandInfo::new::<InvokeMock>(
            "Invoke-PesterMock",
            "Runs a mock (called by the functions Mock defines).",
            Signature::new()
                .named("CommandName", PsType::String, "The mocked command.")
                .named(
                    "BoundParameters",
                    PsType::Object,
                    "The parameters of the call.",
                )
                .named(
                    "ArgumentList",
                    PsType::Array(None),
                    "Arguments not bound to a parameter.",
                ),
        )
        .module("Pester"),
        CommandInfo::new::<AssertMockCalled>(
            "Assert-MockCalled",
            "Fails the test unless a mocked command was called (as often as said).",
            Signature::new()
                .named("CommandName", PsType::String, "The mocked command.")
                .positional(0)
                .mandatory()
                .named(
                    "Times",
                    PsType::Int,
                    "How many calls: at least this many, or exactly with -Exactly.",
                )
                .positional(1)
                .switch("Exactly", "The number of calls must be exactly -Times.")
                .named(
                    "ParameterFilter",
                    PsType::ScriptBlock,
                    "Counts only the calls whose parameters make this true.",
                )
                .named(
                    "Scope",
                    PsType::String,
                    "It, Context or Describe: where calls are counted.",
                )
                .values(&["It", "Context", "Describe"]),
        )
        .module("Pester"),
        CommandInfo::new::<AssertVerifiableMock>(
            "Assert-VerifiableMock",
            "Fails the test unless every mock made with -Verifiable was called.",
            Signature::new(),
        )
        .module("Pester"),
    ]
}

fn var_key(command: &str) -> String {
    format!("__pestermock_{}", command.to_ascii_lowercase())
}

#[derive(Default)]
struct MockCmd;

impl Processor for MockCmd {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let name = args.string("CommandName").unwrap_or_default();
        need_group(
            cx,
            "Mock may only be used inside a Describe, Context or It block.",
            "PesterMockOutsideGroup",
        )?;
        let params = if let Some(info) = cx.it.registry.get(&name) {
            let mut ps: Vec<_> = info.signature.params.iter().collect();
            ps.sort_by_key(|p| p.position.unwrap_or(usize::MAX));
            let decl: Vec<String> = ps
                .iter()
                .map(|p| {
                    if p.is_switch() {
                        format!("[switch]${}", p.name)
                    } else {
                        format!("${}", p.name)
                    }
                })
                .collect();
            format!("param({})", decl.join(", "))
        } else if let Some(f) = cx.it.scopes.function(&name.to_ascii_lowercase()) {
            // The function's own parameters, so that filters see them bound.
            let decl: Vec<String> = f
                .body
                .params
                .iter()
                .flatten()
                .map(|p| {
                    let switch = p
                        .type_name
                        .as_ref()
                        .is_some_and(|t| t.name.eq_ignore_ascii_case("switch"));
                    let ty = if switch { "[switch]" } else { "" };
                    format!("{ty}${}", p.name.name)
                })
                .collect();
            format!("param({})", decl.join(", "))
        } else {
            return Err(cx.fail_msg(
                format!("Could not find Command {name}"),
                "PesterMockCommandNotFound",
                ErrorCategory::ObjectNotFound,
            ));
        };
        let quoted = name.replace('\'', "''");
        let text = format!(
            "function {name} {{ {params}\n Invoke-PesterMock -CommandName '{quoted}' -BoundParameters $PSBoundParameters -ArgumentList $args }}"
        );
        let sb = crate::syntax::parse_script(Rc::new(Source::new(None, text))).map_err(|e| {
            cx.fail_msg(
                format!("Cannot mock '{name}': {}", e.message),
                "PesterMockName",
                ErrorCategory::InvalidArgument,
            )
        })?;
        // Defined in the caller's scope: it goes when that block ends.
        cx.it.dot_invoke(&sb, Value::Null, &mut Discard)?;
        let key = var_key(&name);
        let mut list = cx
            .it
            .get_var(&key)
            .map(Value::enumerate)
            .unwrap_or_default();
        let behaviour = |n: &str| args.get(n).cloned().unwrap_or_default();
        list.push(Value::array(vec![
            behaviour("ParameterFilter"),
            behaviour("MockWith"),
        ]));
        cx.it.set_local(&key, Value::array(list));
        if args.switch("Verifiable")
            && let Some(run) = cx.it.pester.as_mut()
        {
            let filter = match args.get("ParameterFilter") {
                Some(Value::ScriptBlock(f)) => Some(f.clone()),
                _ => None,
            };
            run.verifiable.push(Verifiable {
                command: name.to_ascii_lowercase(),
                filter,
                groups: run.groups.iter().map(|g| g.id).collect(),
                test: run.current_test,
                first_call: run.calls.len(),
            });
        }
        Ok(())
    }
}

/// Runs `filter` with the call's parameters as variables.
fn accepts(it: &mut Interp, filter: &Rc<ScriptBlockAst>, bound: &Value) -> Res<bool> {
    in_child_scope(it, |it| {
        set_vars(it, Some(bound));
        it.invoke_predicate(filter, Value::Null)
    })
}

#[derive(Default)]
struct InvokeMock;

impl Processor for InvokeMock {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let name = args.string("CommandName").unwrap_or_default();
        let bound = args.get("BoundParameters").cloned().unwrap_or_default();
        let list = cx
            .it
            .get_var(&var_key(&name))
            .map(Value::enumerate)
            .unwrap_or_default();
        let mut chosen = None;
        // Latest first; a mock with a filter wins over one without.
        for entry in list.iter().rev() {
            let parts = entry.enumerate();
            if let Some(Value::ScriptBlock(f)) = parts.first()
                && accepts(cx.it, f, &bound)?
            {
                chosen = Some(parts.get(1).cloned().unwrap_or_default());
                break;
            }
        }
        if chosen.is_none() {
            chosen = list
                .iter()
                .rev()
                .map(Value::enumerate)
                .find(|p| p.first().is_none_or(Value::is_null))
                .map(|p| p.get(1).cloned().unwrap_or_default());
        }
        if let Some(run) = cx.it.pester.as_mut() {
            let call = Call {
                command: name.to_ascii_lowercase(),
                bound: bound.clone(),
                test: run.current_test,
                groups: run.groups.iter().map(|g| g.id).collect(),
            };
            run.calls.push(call);
        }
        if let Some(Value::ScriptBlock(body)) = chosen {
            let out = &mut *cx.out;
            in_child_scope(cx.it, |it| {
                set_vars(it, Some(&bound));
                it.dot_invoke(&body, Value::Null, out)
            })?;
        }
        Ok(())
    }
}

/// Counts the logged calls of a command in a scope; `None` when the count
/// is as expected, else Pester's message.
#[allow(clippy::too_many_arguments)]
pub fn check_called(
    cx: &mut Cx,
    name: &str,
    times: i64,
    exactly: bool,
    filter: Option<&Rc<ScriptBlockAst>>,
    scope: Option<&str>,
    not: bool,
) -> Res<Option<String>> {
    let Some(run) = cx.it.pester.as_ref() else {
        return Err(cx.fail_msg(
            "Mock calls can only be checked inside a Describe block.",
            "PesterMockOutsideGroup",
            ErrorCategory::InvalidOperation,
        ));
    };
    let scope = scope.map(str::to_ascii_lowercase);
    let in_test = run.current_test.is_some() && scope.as_deref().is_none_or(|s| s == "it");
    let group = match scope.as_deref() {
        Some("describe") => run.groups.iter().find(|g| !g.context),
        Some("context") => run.groups.iter().rev().find(|g| g.context),
        _ => run.groups.last(),
    }
    .map(|g| g.id);
    let key = name.to_ascii_lowercase();
    let candidates: Vec<Value> = run
        .calls
        .iter()
        .filter(|c| c.command == key)
        .filter(|c| {
            if in_test {
                c.test == run.current_test
            } else {
                group.is_some_and(|g| c.groups.contains(&g))
            }
        })
        .map(|c| c.bound.clone())
        .collect();
    let mut n = 0i64;
    for bound in candidates {
        let ok = match filter {
            Some(f) => accepts(cx.it, f, &bound)?,
            None => true,
        };
        if ok {
            n += 1;
        }
    }
    let ok = if exactly { n == times } else { n >= times };
    let message = match (not, exactly) {
        (false, true) => {
            format!("Expected {name} to be called {times} times exactly, but was called {n} times")
        }
        (false, false) => {
            format!("Expected {name} to be called at least {times} times, but was called {n} times")
        }
        (true, true) => format!("Expected {name} not to be called exactly {times} times"),
        (true, false) => format!(
            "Expected {name} to be called at most {} times, but was called {n} times",
            times - 1
        ),
    };
    Ok(if ok != not { None } else { Some(message) })
}

#[derive(Default)]
struct AssertMockCalled;

impl Processor for AssertMockCalled {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let name = args.string("CommandName").unwrap_or_default();
        let times = args
            .get("Times")
            .map(|t| t.to_string().parse().unwrap_or(1))
            .unwrap_or(1);
        let filter = match args.get("ParameterFilter") {
            Some(Value::ScriptBlock(f)) => Some(f.clone()),
            _ => None,
        };
        let scope = args.string("Scope");
        let verdict = check_called(
            cx,
            &name,
            times,
            args.switch("Exactly"),
            filter.as_ref(),
            scope.as_deref(),
            false,
        )?;
        match verdict {
            None => Ok(()),
            Some(m) => {
                Err(cx.fail_msg(m, "PesterAssertionFailed", ErrorCategory::InvalidOperation))
            }
        }
    }
}

/// The verifiable mocks still in force that no call has used; `None` when
/// there are none, else Pester's message naming each.
pub fn check_verifiable(cx: &mut Cx) -> Res<Option<String>> {
    let Some(run) = cx.it.pester.as_ref() else {
        return Ok(None);
    };
    let active: Vec<usize> = run.groups.iter().map(|g| g.id).collect();
    let mocks: Vec<(String, Option<Rc<ScriptBlockAst>>, Vec<Value>)> = run
        .verifiable
        .iter()
        .filter(|v| active.starts_with(&v.groups))
        .filter(|v| v.test.is_none() || v.test == run.current_test)
        .map(|v| {
            let calls = run.calls[v.first_call.min(run.calls.len())..]
                .iter()
                .filter(|c| c.command == v.command)
                .map(|c| c.bound.clone())
                .collect();
            (v.command.clone(), v.filter.clone(), calls)
        })
        .collect();
    let mut missing = Vec::new();
    for (command, filter, calls) in mocks {
        let mut called = false;
        for bound in &calls {
            called = match &filter {
                Some(f) => accepts(cx.it, f, bound)?,
                None => true,
            };
            if called {
                break;
            }
        }
        if !called {
            let shown = display_name(cx, &command);
            missing.push(match &filter {
                Some(f) => format!(" Command {shown} with {{ {} }}", f.body_text().trim()),
                None => format!(" Command {shown}"),
            });
        }
    }
    if missing.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "Expected all verifiable mocks to be called, but these were not:\n{}",
        missing.join("\n")
    )))
}

/// A command's name as it is spelled where it is defined.
fn display_name(cx: &Cx, key: &str) -> String {
    match cx.it.registry.get(key) {
        Some(info) => info.name.to_string(),
        None => cx
            .it
            .scopes
            .function(key)
            .map(|f| f.name.to_string())
            .unwrap_or_else(|| key.to_string()),
    }
}

#[derive(Default)]
struct AssertVerifiableMock;

impl Processor for AssertVerifiableMock {
    fn process(&mut self, cx: &mut Cx, _: &Args) -> Res<()> {
        match check_verifiable(cx)? {
            None => Ok(()),
            Some(m) => {
                Err(cx.fail_msg(m, "PesterAssertionFailed", ErrorCategory::InvalidOperation))
            }
        }
    }
}
