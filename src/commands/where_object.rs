//! Where-Object: keeps the input objects a condition holds for, given as a
//! script block (`? { $_.Enabled }`) or as `Where-Object Prop -op value`.

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::runtime::error::{Flow, Res};
use crate::runtime::ops;
use crate::runtime::types::PsType;
use crate::runtime::value::Value;
use crate::syntax::ast::{Case, CmpOp};

/// The comparison switches, with the operator each stands for.
const OPERATORS: &[(&str, CmpOp, Case)] = &[
    ("EQ", CmpOp::Eq, Case::Default),
    ("NE", CmpOp::Ne, Case::Default),
    ("GT", CmpOp::Gt, Case::Default),
    ("GE", CmpOp::Ge, Case::Default),
    ("LT", CmpOp::Lt, Case::Default),
    ("LE", CmpOp::Le, Case::Default),
    ("Like", CmpOp::Like, Case::Default),
    ("NotLike", CmpOp::NotLike, Case::Default),
    ("Match", CmpOp::Match, Case::Default),
    ("NotMatch", CmpOp::NotMatch, Case::Default),
    ("Contains", CmpOp::Contains, Case::Default),
    ("NotContains", CmpOp::NotContains, Case::Default),
    ("In", CmpOp::In, Case::Default),
    ("NotIn", CmpOp::NotIn, Case::Default),
    ("CEQ", CmpOp::Eq, Case::Sensitive),
    ("CNE", CmpOp::Ne, Case::Sensitive),
    ("CLike", CmpOp::Like, Case::Sensitive),
    ("CMatch", CmpOp::Match, Case::Sensitive),
];

pub fn infos() -> Vec<CommandInfo> {
    let mut sig = Signature::new()
        .named(
            "FilterScript",
            PsType::Object,
            "A script block that returns true for the objects to keep.",
        )
        .positional(0)
        .named("Property", PsType::String, "The property to compare.")
        .named(
            "Value",
            PsType::Object,
            "The value to compare the property with.",
        )
        .positional(1)
        .named("InputObject", PsType::Object, "The objects to filter.")
        .from_pipeline()
        .switch("Not", "Keeps objects whose property is false or missing.")
        .switch("Is", "Keeps objects whose property is of the given type.")
        .switch(
            "IsNot",
            "Keeps objects whose property is not of the given type.",
        );
    for (name, _, _) in OPERATORS {
        sig = sig.switch(name, "A comparison operator.");
    }
    vec![
        CommandInfo::new::<WhereObject>("Where-Object", "Keeps the input objects that match a condition.", sig)
            .module("Microsoft.PowerShell.Core")
            .aliases(&["?", "where"])
            .examples(&[
                Example {
                    code: "Get-CsUser | Where-Object { $_.Department -eq 'Sales' }",
                    about: "Users of the Sales department.",
                },
                Example {
                    code: "Get-CsConferencingPolicy | Where-Object AllowAnonymousParticipantsInMeetings -EQ $true",
                    about: "The same kind of filter without a script block.",
                },
            ]),
    ]
}

#[derive(Default)]
struct WhereObject;

impl Processor for WhereObject {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let Some(item) = args.get("InputObject").cloned() else {
            return Ok(());
        };
        let keep = match args.get("FilterScript") {
            Some(Value::ScriptBlock(sb)) => {
                let sb = sb.clone();
                cx.it.invoke_predicate(&sb, item.clone())?
            }
            other => {
                let prop = match (args.string("Property"), other) {
                    (Some(p), _) => p,
                    (None, Some(v)) => v.to_string(),
                    (None, None) => return cx.emit(item),
                };
                let actual = cx.it.get_member(&item, &prop).map_err(Flow::error)?;
                let value = args.get("Value").cloned();
                if args.switch("Not") {
                    !actual.is_true()
                } else if args.switch("Is") || args.switch("IsNot") {
                    let t =
                        ops::type_operand(&value.unwrap_or_default()).map_err(|e| cx.fail(e))?;
                    t.is_instance(&actual) == args.switch("Is")
                } else {
                    match OPERATORS.iter().find(|(n, _, _)| args.switch(n)) {
                        Some((_, op, case)) => {
                            let out =
                                ops::comparison(*op, *case, &actual, &value.unwrap_or_default())
                                    .map_err(|e| cx.fail(e))?;
                            out.value.is_true()
                        }
                        None if value.is_some() => {
                            ops::equals(&actual, &value.unwrap_or_default(), false)
                        }
                        None => actual.is_true(),
                    }
                }
            }
        };
        if keep { cx.emit(item) } else { Ok(()) }
    }
}
