//! Where-Object: keeps the input objects a condition holds for, given as a
//! script block (`? { $_.Enabled }`) or as `Where-Object Prop -op value`.
//!
//! As in PowerShell, each operator switch has a parameter set of its own, so
//! two operators cannot be combined. A switch given as `-GT:$false` names no
//! operator: the property is then tested for truth, and a `-Value` with no
//! operator in effect is an error.

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Flow, Res};
use crate::runtime::ops;
use crate::runtime::types::PsType;
use crate::runtime::value::Value;
use crate::syntax::ast::{Case, CmpOp};

const WHERE_ID: &str = "Microsoft.PowerShell.Commands.WhereObjectCommand";

/// What an operator switch asks for.
#[derive(Clone, Copy)]
enum Test {
    Cmp(CmpOp, Case),
    Is,
    IsNot,
    Not,
}

/// An operator switch: its name, its `I`-prefixed alias (if any) and its
/// parameter set.
struct Operator {
    name: &'static str,
    alias: Option<&'static str>,
    set: &'static str,
    test: Test,
}

const fn op(
    name: &'static str,
    alias: Option<&'static str>,
    set: &'static str,
    test: Test,
) -> Operator {
    Operator {
        name,
        alias,
        set,
        test,
    }
}

/// The operator table: each comparison comes twice, in parameter sets of
/// its own, ignoring case (also spelled with an `I` prefix) and,
/// `C`-prefixed, minding it; then the other operators as they are.
macro_rules! operators {
    ($(($name:literal, $set:literal, $cmp:ident)),* ; $($other:expr),* $(,)?) => {
        &[$(
            op($name, Some(concat!("I", $name)), $set, Test::Cmp(CmpOp::$cmp, Case::Default)),
            op(
                concat!("C", $name),
                None,
                concat!("CaseSensitive", $set),
                Test::Cmp(CmpOp::$cmp, Case::Sensitive),
            ),
        )* $($other),*]
    };
}

const OPERATORS: &[Operator] = operators![
    ("EQ", "EqualSet", Eq),
    ("NE", "NotEqualSet", Ne),
    ("GT", "GreaterThanSet", Gt),
    ("LT", "LessThanSet", Lt),
    ("GE", "GreaterOrEqualSet", Ge),
    ("LE", "LessOrEqualSet", Le),
    ("Like", "LikeSet", Like),
    ("NotLike", "NotLikeSet", NotLike),
    ("Match", "MatchSet", Match),
    ("NotMatch", "NotMatchSet", NotMatch),
    ("Contains", "ContainsSet", Contains),
    ("NotContains", "NotContainsSet", NotContains),
    ("In", "InSet", In),
    ("NotIn", "NotInSet", NotIn);
    op("Is", None, "IsSet", Test::Is),
    op("IsNot", None, "IsNotSet", Test::IsNot),
    op("Not", None, "Not", Test::Not),
];

pub fn infos() -> Vec<CommandInfo> {
    // -Property takes part in every operator's set, -Value in all but -Not's.
    let property_sets: Vec<&'static str> = OPERATORS.iter().map(|o| o.set).collect();
    let value_sets: Vec<&'static str> = OPERATORS
        .iter()
        .filter(|o| !matches!(o.test, Test::Not))
        .map(|o| o.set)
        .collect();
    let mut sig = Signature::new()
        .named(
            "FilterScript",
            PsType::Object,
            "A script block that returns true for the objects to keep.",
        )
        .positional(0)
        .named("Property", PsType::String, "The property to compare.")
        .sets(&property_sets)
        .named(
            "Value",
            PsType::Object,
            "The value to compare the property with.",
        )
        .positional(1)
        .sets(&value_sets)
        .named("InputObject", PsType::Object, "The objects to filter.")
        .from_pipeline()
        .default_set("EqualSet");
    for o in OPERATORS {
        let help = match o.test {
            Test::Not => "Keeps objects whose property is false or missing.",
            Test::Is => "Keeps objects whose property is of the given type.",
            Test::IsNot => "Keeps objects whose property is not of the given type.",
            Test::Cmp(_, Case::Sensitive) => "A case-sensitive comparison operator.",
            Test::Cmp(..) => "A comparison operator.",
        };
        sig = sig.switch(o.name, help).sets(std::slice::from_ref(&o.set));
        if let Some(a) = o.alias {
            sig = sig.alias(a);
        }
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

/// A terminating error about how the command was called.
fn usage_error(id: &str, msg: String) -> ErrorRecord {
    ErrorRecord::new(
        msg,
        &format!("{id},{WHERE_ID}"),
        ErrorCategory::InvalidArgument,
    )
    .with_exception("System.Management.Automation.PSArgumentException")
}

/// The type named by -Value for -Is/-IsNot; `"[int]"` is taken as `int`.
fn type_value(v: &Value) -> Result<PsType, ErrorRecord> {
    if let Value::String(s) = v {
        let inner = s
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .filter(|t| !t.is_empty());
        if let Some(t) = inner {
            return ops::type_operand(&Value::from(t));
        }
    }
    ops::type_operand(v)
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
                // The first positional argument is the property, unless
                // -Property is named: then it is the value
                // (`Where-Object -Property N -EQ 2`).
                let mut value = args.get("Value").cloned();
                let prop = match (args.string("Property"), other) {
                    (Some(p), Some(v)) if value.is_none() => {
                        value = Some(v.clone());
                        p
                    }
                    (Some(p), _) => p,
                    (None, Some(v)) => v.to_string(),
                    (None, None) => return cx.emit(item),
                };
                // A switch given as `-Op:$false` names no operator.
                let chosen = OPERATORS.iter().find(|o| args.switch(o.name));
                let (operator, value) = match (chosen, value) {
                    (None, Some(_)) => {
                        return Err(cx.fail(usage_error(
                            "OperatorNotSpecified",
                            "-Value was given without a comparison operator. Add one, such as -EQ or -Like, and run the command again.".into(),
                        )));
                    }
                    (None, None) => {
                        let actual = cx.it.get_member(&item, &prop).map_err(Flow::error)?;
                        return if actual.is_true() {
                            cx.emit(item)
                        } else {
                            Ok(())
                        };
                    }
                    (Some(o), None) if !matches!(o.test, Test::Not) => {
                        return Err(cx.fail(usage_error(
                            "ValueNotSpecifiedForWhereObject",
                            format!(
                                "The -{} operator compares the property with -Value, which is missing. Give both -Property and -Value, and run the command again.",
                                o.name
                            ),
                        )));
                    }
                    (Some(o), v) => (o, v.unwrap_or_default()),
                };
                let actual = cx.it.get_member(&item, &prop).map_err(Flow::error)?;
                match operator.test {
                    Test::Not => !actual.is_true(),
                    Test::Is | Test::IsNot => {
                        let t = type_value(&value).map_err(|e| cx.fail(e))?;
                        t.is_instance(&actual) == matches!(operator.test, Test::Is)
                    }
                    Test::Cmp(op, case) => match ops::comparison(op, case, &actual, &value) {
                        Ok(out) => out.value.is_true(),
                        Err(e) => {
                            // A bad argument (such as an invalid pattern) or a
                            // failed comparison is reported for this object
                            // only; the next one is still tested.
                            let (id, msg) = if e.exception_type.ends_with("ArgumentException") {
                                (
                                    "BadOperatorArgument",
                                    format!(
                                        "The -{} operator cannot use its argument: {}",
                                        operator.name, e.message
                                    ),
                                )
                            } else {
                                (
                                    "OperatorFailed",
                                    format!(
                                        "The -{} comparison failed: {}",
                                        operator.name, e.message
                                    ),
                                )
                            };
                            let category = if id == "BadOperatorArgument" {
                                ErrorCategory::InvalidArgument
                            } else {
                                ErrorCategory::InvalidOperation
                            };
                            cx.error(
                                ErrorRecord::new(msg, &format!("{id},{WHERE_ID}"), category)
                                    .with_target(item),
                            )?;
                            return Ok(());
                        }
                    },
                }
            }
        };
        if keep { cx.emit(item) } else { Ok(()) }
    }
}
