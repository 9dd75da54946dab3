//! Get-CsAdminChangeLog (ours): who changed the configuration, when, with
//! which command, and what changed, read from the store's change log.

use std::rc::Rc;

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::config::store::Change;
use crate::runtime::error::{ErrorCategory, ErrorRecord, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::{Prop, PropKind, PsObject, Value};
use crate::runtime::wildcard::Wildcard;

use super::family::engine_error;

const ENTRY_TYPE: &str = "Lyncsh.Management.AdminChange";

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<GetChangeLog>(
            "Get-CsAdminChangeLog",
            "Shows who changed the configuration, when, with which command and what changed.",
            Signature::new()
                .named(
                    "Last",
                    PsType::Long,
                    "Shows only the most recent N matching changes.",
                )
                .with(|p| p.range = Some((0, i64::MAX)))
                .named(
                    "Account",
                    PsType::String,
                    "Shows only changes made by accounts matching this name (wildcards allowed).",
                )
                .named(
                    "Target",
                    PsType::String,
                    "Shows only changes to targets matching this wildcard pattern, such as *AccessEdge* or CsConferencingPolicy:Tag:*.",
                )
                .positional(0),
        )
        .examples(&[
            Example {
                code: "Get-CsAdminChangeLog -Target *AccessEdge*",
                about: "Shows who changed the Access Edge settings (for example, who enabled anonymous access) and when.",
            },
            Example {
                code: "Get-CsAdminChangeLog -Last 10 -Account alice",
                about: "Shows alice's ten most recent changes.",
            },
        ])
        .module("Lync"),
    ]
}

fn prop(name: &str, value: Value) -> Prop {
    Prop {
        name: Rc::from(name),
        value,
        kind: PropKind::Property,
        ty: None,
        read_only: true,
    }
}

fn time_value(text: &str) -> Value {
    match chrono::DateTime::parse_from_rfc3339(text) {
        Ok(t) => Value::DateTime(t.naive_local()),
        Err(_) => Value::from(text),
    }
}

fn entry(c: &Change) -> Value {
    let mut o = PsObject::with_type(Rc::from(vec![
        Rc::from(ENTRY_TYPE),
        Rc::from("System.Object"),
    ]));
    o.props_mut().push(prop("Time", time_value(&c.time)));
    o.props_mut()
        .push(prop("Account", Value::from(c.account.as_str())));
    o.props_mut()
        .push(prop("Command", Value::from(c.command.as_str())));
    o.props_mut()
        .push(prop("Target", Value::from(c.target.as_str())));
    o.props_mut()
        .push(prop("Detail", Value::from(c.detail.as_str())));
    Value::object(o)
}

#[derive(Default)]
struct GetChangeLog;

impl Processor for GetChangeLog {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let last = match args.get("Last") {
            None => None,
            Some(v) => match crate::runtime::convert::to_i64(v, "System.Int64") {
                Ok(n) if n >= 0 => Some(n),
                _ => {
                    return Err(cx.fail(ErrorRecord::new(
                        format!("Cannot validate argument on parameter 'Last': \"{v}\" is not a number of changes (0 or more)."),
                        "InvalidArgument",
                        ErrorCategory::InvalidArgument,
                    )));
                }
            },
        };
        let account = args.string("Account").map(|a| Wildcard::new(&a, false));
        let target = args.string("Target").map(|t| Wildcard::new(&t, false));
        let engine = cx.it.engine().map_err(|e| cx.fail(e))?;
        let all = engine.changes(None).map_err(|e| cx.fail(engine_error(e)))?;
        let matching: Vec<&Change> = all
            .iter()
            .filter(|c| account.as_ref().is_none_or(|w| w.is_match(&c.account)))
            .filter(|c| target.as_ref().is_none_or(|w| w.is_match(&c.target)))
            .collect();
        let skip = match last {
            Some(n) => matching
                .len()
                .saturating_sub(usize::try_from(n).unwrap_or(usize::MAX)),
            None => 0,
        };
        for c in matching.into_iter().skip(skip) {
            cx.emit(entry(c))?;
        }
        Ok(())
    }
}
