//! New-Object: creates an object of one of the types lyncsh knows, and
//! optionally sets its properties.

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Flow, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::Value;

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<NewObject>(
            "New-Object",
            "Creates an object of a given type.",
            Signature::new()
                .named(
                    "TypeName",
                    PsType::String,
                    "The type to create, such as PSObject, System.Collections.ArrayList or Hashtable.",
                )
                .positional(0)
                .mandatory()
                .named(
                    "ArgumentList",
                    PsType::Array(None),
                    "Arguments passed to the type's constructor.",
                )
                .positional(1)
                .alias("Args")
                .named(
                    "Property",
                    PsType::Object,
                    "A hashtable of property names and values to set on the new object.",
                ),
        )
        .examples(&[Example {
            code: "New-Object PSObject -Property @{ User = 'kenmyer'; Enabled = $true }",
            about: "Creates an object with two note properties.",
        }]),
    ]
}

#[derive(Default)]
struct NewObject;

impl Processor for NewObject {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let name = args.string("TypeName").unwrap_or_default();
        let Some(ty) = cx.it.find_type(&name) else {
            return Err(cx.fail(
                ErrorRecord::new(
                    format!(
                        "Cannot find type [{name}]: verify that the assembly containing this type is loaded."
                    ),
                    "TypeNotFound,Microsoft.PowerShell.Commands.NewObjectCommand",
                    ErrorCategory::InvalidType,
                )
                .with_target(Value::from(name.as_str())),
            ));
        };
        let ctor_args = args
            .get("ArgumentList")
            .map(Value::enumerate)
            .unwrap_or_default();
        let v = match cx.it.call_static(&ty, "new", ctor_args) {
            Ok(v) => v,
            Err(Flow::Error(e)) => {
                let mut e = (*e).clone();
                e.error_id = format!(
                    "{},Microsoft.PowerShell.Commands.NewObjectCommand",
                    e.error_id
                )
                .into();
                return Err(cx.fail(e));
            }
            Err(other) => return Err(other),
        };
        if let Some(Value::Hashtable(h)) = args.get("Property") {
            let pairs: Vec<(String, Value)> = h
                .borrow()
                .entries()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            for (k, val) in pairs {
                match &v {
                    Value::Object(o) if o.borrow().is_custom() => o.borrow_mut().set(&k, val),
                    _ => {
                        if let Err(e) = cx.it.set_member(&v, &k, val) {
                            cx.error(
                                ErrorRecord::new(
                                    format!(
                                        "The member \"{k}\" was not found for the specified object. {}",
                                        e.message
                                    ),
                                    "InvalidOperationException,Microsoft.PowerShell.Commands.NewObjectCommand",
                                    ErrorCategory::InvalidOperation,
                                ),
                            )?;
                        }
                    }
                }
            }
        }
        cx.emit(v)
    }
}
