//! Add-Member: gives an object new note, script or alias properties, or
//! script methods.

use std::rc::Rc;

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::{Prop, PropKind, Value};

const KINDS: &[&str] = &[
    "NoteProperty",
    "ScriptProperty",
    "ScriptMethod",
    "AliasProperty",
];

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<AddMember>(
            "Add-Member",
            "Adds properties or methods to an object.",
            Signature::new()
                .named(
                    "InputObject",
                    PsType::Object,
                    "The object that receives the member.",
                )
                .mandatory()
                .from_pipeline()
                .named(
                    "MemberType",
                    PsType::Object,
                    "The kind of member: NoteProperty, ScriptProperty, ScriptMethod or AliasProperty.",
                )
                .positional(0)
                .alias("Type")
                .named("Name", PsType::String, "The name of the new member.")
                .positional(1)
                .named(
                    "Value",
                    PsType::Object,
                    "A note's value, a script property's getter, a method's body, or the property an alias stands for.",
                )
                .positional(2)
                .named(
                    "SecondValue",
                    PsType::Object,
                    "A script property's setter (accepted; setting is not supported).",
                )
                .positional(3)
                .named(
                    "NotePropertyName",
                    PsType::String,
                    "The name of a note property to add.",
                )
                .named(
                    "NotePropertyValue",
                    PsType::Object,
                    "The value of the note property.",
                )
                .named(
                    "NotePropertyMembers",
                    PsType::Object,
                    "A hashtable of note property names and values to add.",
                )
                .named(
                    "TypeName",
                    PsType::String,
                    "A type name to put first in the object's type names.",
                )
                .switch("Force", "Replaces a member that already has the name.")
                .switch("PassThru", "Outputs the changed object."),
        )
        .module("Microsoft.PowerShell.Utility")
        .examples(&[Example {
            code: "$u = Get-CsUser kenmyer; $u | Add-Member -NotePropertyName Checked -NotePropertyValue $true -PassThru",
            about: "Marks a user object as checked and shows it.",
        }]),
    ]
}

#[derive(Default)]
struct AddMember;

fn exists_error(name: &str, target: &Value) -> ErrorRecord {
    ErrorRecord::new(
        format!(
            "Cannot add a member with the name \"{name}\" because a member with that name already exists. To overwrite the member anyway, add the Force parameter to your command."
        ),
        "MemberAlreadyExists,Microsoft.PowerShell.Commands.AddMemberCommand",
        ErrorCategory::InvalidOperation,
    )
    .with_target(target.clone())
}

impl Processor for AddMember {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let Some(target) = args.get("InputObject").cloned() else {
            return Ok(());
        };
        // The members to add: (name, kind, value).
        let mut members: Vec<(String, PropKind, Value)> = Vec::new();
        let note_members = args.get("NotePropertyMembers").cloned().or_else(|| {
            args.get("MemberType")
                .filter(|v| matches!(v, Value::Hashtable(_)))
                .cloned()
        });
        if let Some(Value::Hashtable(h)) = note_members {
            for (k, v) in h.borrow().entries() {
                members.push((k.to_string(), PropKind::Note, v.clone()));
            }
        } else if let Some(v) = args.get("NotePropertyMembers") {
            return Err(cx.fail_msg(
                format!("Cannot use \"{v}\" as note property members; give a hashtable of names and values."),
                "InvalidNotePropertyMembers,Microsoft.PowerShell.Commands.AddMemberCommand",
                ErrorCategory::InvalidArgument,
            ));
        } else if let Some(name) = args.string("NotePropertyName") {
            members.push((
                name,
                PropKind::Note,
                args.get("NotePropertyValue").cloned().unwrap_or_default(),
            ));
        } else if let Some(kind) = args.string("MemberType") {
            let kind_name = KINDS
                .iter()
                .find(|k| k.eq_ignore_ascii_case(kind.trim()))
                .copied();
            let Some(kind_name) = kind_name else {
                return Err(cx.fail_msg(
                    format!(
                        "Cannot add a member of type \"{kind}\"; lyncsh supports {}.",
                        KINDS.join(", ")
                    ),
                    "CannotAddMemberType,Microsoft.PowerShell.Commands.AddMemberCommand",
                    ErrorCategory::InvalidOperation,
                ));
            };
            let Some(name) = args.string("Name") else {
                return Err(cx.fail_msg(
                    "The Name parameter is needed to add a member.",
                    "NameMissing,Microsoft.PowerShell.Commands.AddMemberCommand",
                    ErrorCategory::InvalidArgument,
                ));
            };
            let value = args.get("Value").cloned().unwrap_or_default();
            let kind = match kind_name {
                "ScriptProperty" => PropKind::Script,
                "ScriptMethod" => PropKind::Method,
                "AliasProperty" => PropKind::Alias,
                _ => PropKind::Note,
            };
            if matches!(kind, PropKind::Script | PropKind::Method)
                && !matches!(value, Value::ScriptBlock(_))
            {
                return Err(cx.fail_msg(
                    format!("The value of a {kind_name} must be a script block."),
                    "ValueShouldBeAScriptBlock,Microsoft.PowerShell.Commands.AddMemberCommand",
                    ErrorCategory::InvalidArgument,
                ));
            }
            if kind == PropKind::Alias && value.is_null() {
                return Err(cx.fail_msg(
                    "An alias property needs the name of the property it stands for (-Value).",
                    "AliasTargetMissing,Microsoft.PowerShell.Commands.AddMemberCommand",
                    ErrorCategory::InvalidArgument,
                ));
            }
            let value = if kind == PropKind::Alias {
                Value::from(value.to_string())
            } else {
                value
            };
            members.push((name, kind, value));
        } else if args.has("TypeName") {
            // Only a type name to add.
        } else {
            return Err(cx.fail_msg(
                "Add-Member needs a member to add: use -NotePropertyName, -NotePropertyMembers, or -MemberType with -Name.",
                "MemberMissing,Microsoft.PowerShell.Commands.AddMemberCommand",
                ErrorCategory::InvalidArgument,
            ));
        }

        let Value::Object(o) = &target else {
            return Err(cx.fail(
                ErrorRecord::new(
                    format!(
                        "lyncsh can add members only to objects such as [pscustomobject], not to a value of type [{}].",
                        target.type_name()
                    ),
                    "CannotAddMember,Microsoft.PowerShell.Commands.AddMemberCommand",
                    ErrorCategory::InvalidOperation,
                )
                .with_target(target.clone()),
            ));
        };
        let force = args.switch("Force");
        for (name, kind, value) in members {
            let exists = o.borrow().prop(&name).is_some();
            if exists && !force {
                cx.error(exists_error(&name, &target))?;
                continue;
            }
            let mut obj = o.borrow_mut();
            obj.props_mut()
                .retain(|p| !p.name.eq_ignore_ascii_case(&name));
            obj.props_mut().push(Prop {
                kind,
                ..Prop::note(name.as_str(), value)
            });
        }
        if let Some(t) = args.string("TypeName") {
            let mut obj = o.borrow_mut();
            let mut names: Vec<Rc<str>> = vec![Rc::from(t.as_str())];
            names.extend(
                obj.type_names
                    .iter()
                    .filter(|n| &***n != t.as_str())
                    .cloned(),
            );
            obj.type_names = Rc::from(names);
        }
        if args.switch("PassThru") {
            cx.emit(target)?;
        }
        Ok(())
    }
}
