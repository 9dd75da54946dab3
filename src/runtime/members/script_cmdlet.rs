//! `$PSCmdlet` and `$MyInvocation` of advanced functions.

use super::*;

pub(super) const SCRIPT_CMDLET: &str = "System.Management.Automation.PSScriptCmdlet";

/// `$PSCmdlet` of an advanced function: answers ShouldProcess and friends.
pub fn script_cmdlet() -> Value {
    let o = PsObject::with_type(Rc::from(vec![
        Rc::from(SCRIPT_CMDLET),
        Rc::from("System.Object"),
    ]));
    Value::object(o)
}

/// `$MyInvocation` of a function or script.
pub fn invocation_info(
    name: &str,
    sb: &crate::syntax::ast::ScriptBlockAst,
    bound: Value,
    unbound: Value,
) -> Value {
    let script = sb.source.name().unwrap_or_default();
    let command = obj(
        vec![
            ("Name", Value::from(name)),
            (
                "CommandType",
                Value::from(if sb.source.path.is_some() && name.ends_with(".ps1") {
                    "ExternalScript"
                } else {
                    "Function"
                }),
            ),
        ],
        "System.Management.Automation.FunctionInfo",
    )
    .tap_display(name);
    obj(
        vec![
            ("MyCommand", command),
            ("InvocationName", Value::from(name)),
            ("ScriptName", Value::from(script.as_str())),
            ("PSCommandPath", Value::from(script.as_str())),
            ("BoundParameters", bound),
            ("UnboundArguments", unbound),
        ],
        "System.Management.Automation.InvocationInfo",
    )
}

impl Interp {
    /// Methods of `$PSCmdlet`.
    pub(super) fn script_cmdlet_method(
        &mut self,
        name: &str,
        args: &[Value],
    ) -> Option<Res<Value>> {
        let lower = name.to_ascii_lowercase();
        Some(match lower.as_str() {
            "shouldprocess" => {
                let target = arg_str(args, 0);
                let action = if args.len() > 1 {
                    arg_str(args, 1)
                } else {
                    "Process".to_string()
                };
                let what_if = self.get_var("whatifpreference").is_some_and(Value::is_true);
                if what_if {
                    self.write_stream(
                        crate::host::Stream::Information,
                        &format!("What if: Performing the operation \"{action}\" on target \"{target}\".\n"),
                    );
                    Ok(Value::Bool(false))
                } else if self
                    .get_var("confirmpreference")
                    .is_some_and(|v| v.to_string().eq_ignore_ascii_case("low"))
                {
                    let message = format!(
                        "Are you sure you want to perform this action?\nPerforming the operation \"{action}\" on target \"{target}\"."
                    );
                    match self.ask(|h| h.confirm("Confirm", &message)) {
                        Some(crate::host::Choice::Yes | crate::host::Choice::YesToAll) => {
                            Ok(Value::Bool(true))
                        }
                        Some(_) => Ok(Value::Bool(false)),
                        None => Err(Flow::error(ErrorRecord::new(
                            format!(
                                "{message}\nConfirmation is needed, but this session cannot ask for it."
                            ),
                            "HostPromptNotAvailable",
                            ErrorCategory::InvalidOperation,
                        ))),
                    }
                } else {
                    Ok(Value::Bool(true))
                }
            }
            "shouldcontinue" => Ok(Value::Bool(true)),
            "writeverbose" => {
                self.verbose(&arg_str(args, 0), None);
                Ok(Value::Null)
            }
            "writewarning" => self.warn(&arg_str(args, 0), None).map(|_| Value::Null),
            "writeerror" | "throwterminatingerror" => {
                let rec = match args.first() {
                    Some(Value::Error(e)) => (**e).clone(),
                    other => ErrorRecord::new(
                        other.map(|v| v.to_string()).unwrap_or_default(),
                        "ScriptCmdletError",
                        ErrorCategory::NotSpecified,
                    ),
                };
                if lower == "writeerror" {
                    self.report_error(rec, None, None).map(|_| Value::Null)
                } else {
                    Err(Flow::error(rec))
                }
            }
            "writeobject" => Ok(arg(args, 0)),
            _ => return None,
        })
    }
}
