//! `Should -HaveParameter`: a command's parameter, read from a cmdlet's
//! signature or a function's `param` block, checked for its type, default
//! value, mandatory flag and aliases, with Pester's message.

use super::nicely::nicely;
use super::should::{join_and, type_arg};
use crate::commands::{Args, Cx, ParamType};
use crate::runtime::error::{ErrorCategory, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::Value;

/// What `-HaveParameter` can check of one parameter.
struct ParamFacts {
    name: String,
    aliases: Vec<String>,
    mandatory: bool,
    type_name: String,
    /// The default as written (quotes taken off a plain string).
    default: String,
}

/// The name of a command given as Get-Command's output.
fn command_name(v: &Value) -> Option<String> {
    let Value::Object(o) = v else { return None };
    let o = o.borrow();
    if !o
        .type_names
        .iter()
        .any(|t| &**t == "System.Management.Automation.CommandInfo")
    {
        return None;
    }
    o.prop("Name").map(|p| p.value.to_string())
}

/// The parameters of a cmdlet or function, by name.
fn parameters(cx: &Cx, command: &str) -> Vec<ParamFacts> {
    if let Some(info) = cx.it.registry.get(command) {
        return info
            .signature
            .params
            .iter()
            .map(|p| ParamFacts {
                name: p.name.to_string(),
                aliases: p.aliases.iter().map(|a| a.to_string()).collect(),
                mandatory: p.mandatory,
                type_name: match &p.ty {
                    ParamType::Switch => PsType::Switch.full_name(),
                    ParamType::Typed(t) => t.full_name(),
                },
                default: String::new(),
            })
            .collect();
    }
    let Some(f) = cx.it.scopes.function(&command.to_ascii_lowercase()) else {
        return Vec::new();
    };
    let body = &f.body;
    body.params
        .iter()
        .flatten()
        .map(|p| ParamFacts {
            name: p.name.name.to_string(),
            aliases: p.aliases.clone(),
            mandatory: p.mandatory,
            type_name: p
                .type_name
                .as_ref()
                .map(|t| {
                    PsType::resolve(&t.name)
                        .map(|ty| ty.full_name())
                        .unwrap_or_else(|| t.name.to_string())
                })
                .unwrap_or_else(|| PsType::Object.full_name()),
            default: p
                .default
                .as_ref()
                .map(|d| unquote(body.source.slice(d.span)))
                .unwrap_or_default(),
        })
        .collect()
}

/// A default written as a plain quoted string reads without its quotes,
/// as Pester's tokens give it.
fn unquote(text: &str) -> String {
    let t = text.trim();
    for q in ['\'', '"'] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return t[1..t.len() - 1].to_string();
        }
    }
    t.to_string()
}

/// `None` when the expectation holds, else the failure message.
pub fn check(cx: &mut Cx, actual: &Value, args: &Args, not: bool, b: &str) -> Res<Option<String>> {
    let Some(command) = command_name(actual) else {
        return Err(cx.fail_msg(
            "Input value must be non-null CommandInfo object. You can get one by calling Get-Command.",
            "PesterHaveParameterInput",
            ErrorCategory::InvalidArgument,
        ));
    };
    let Some(name) = args
        .string("ParameterName")
        .or_else(|| args.string("ExpectedValue"))
        .filter(|n| !n.is_empty())
    else {
        return Err(cx.fail_msg(
            "The ParameterName can't be empty",
            "PesterHaveParameterName",
            ErrorCategory::InvalidArgument,
        ));
    };
    let found = parameters(cx, &command)
        .into_iter()
        .find(|p| p.name.eq_ignore_ascii_case(&name));
    let neg = if not { " not" } else { "" };
    let mut filters = vec![format!("to{neg} have a parameter {name}")];
    let mut buts: Vec<String> = Vec::new();
    let extras = ["Type", "DefaultValue", "Mandatory", "Alias"]
        .iter()
        .any(|n| args.has(n));
    match found {
        None if not => return Ok(None),
        None => buts.push("the parameter is missing".into()),
        Some(_) if not && !extras => buts.push("the parameter exists".into()),
        Some(p) => {
            if args.switch("Mandatory") {
                filters.push(format!("which is{neg} mandatory"));
                match (not, p.mandatory) {
                    (true, true) => buts.push("it was mandatory".into()),
                    (false, false) => buts.push("it wasn't mandatory".into()),
                    _ => {}
                }
            }
            if let Some(t) = args.get("Type").filter(|v| !v.is_null()) {
                let want = type_arg(cx, t)?.full_name();
                let same = want.eq_ignore_ascii_case(&p.type_name);
                filters.push(format!("{}of type [{want}]", if not { "not " } else { "" }));
                if !not && !same {
                    buts.push(format!("it was of type [{}]", p.type_name));
                } else if not && same {
                    buts.push(format!("it was of type [{want}]"));
                }
            }
            if let Some(d) = args.string("DefaultValue") {
                let same = d.eq_ignore_ascii_case(&p.default);
                filters.push(format!(
                    "the default value{neg} to be {}",
                    nicely(&Value::from(d.as_str()))
                ));
                if !not && !same {
                    buts.push(format!(
                        "the default value was {}",
                        nicely(&Value::from(p.default.as_str()))
                    ));
                } else if not && same {
                    buts.push(format!(
                        "the default value was {}",
                        nicely(&Value::from(d.as_str()))
                    ));
                }
            }
            if let Some(a) = args.string("Alias") {
                let has = p.aliases.iter().any(|x| x.eq_ignore_ascii_case(&a));
                filters.push(format!("to{neg} have an alias '{a}'"));
                if !not && !has {
                    buts.push(format!("it didn't have an alias '{a}'"));
                } else if not && has {
                    buts.push(format!("it had an alias '{a}'"));
                }
            }
        }
    }
    if buts.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "Expected command {command} {},{b} but {}.",
        join_and(&filters, 3),
        join_and(&buts, 2)
    )))
}
