//! Get-Variable, Set-Variable, New-Variable, Remove-Variable, Clear-Variable.

use std::rc::Rc;

use crate::commands::{Args, CommandInfo, Cx, Processor, Signature};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Res};
use crate::runtime::scope::GLOBAL;
use crate::runtime::types::PsType;
use crate::runtime::value::{EnumValue, Prop, PropKind, PsObject, Value};
use crate::runtime::wildcard::Wildcard;

fn names(required: bool) -> Signature {
    Signature::new()
        .named(
            "Name",
            PsType::Array(Some(Box::new(PsType::String))),
            "Variable names, without the $.",
        )
        .positional(0)
        .with(|p| p.mandatory = required)
        .named(
            "Scope",
            PsType::String,
            "Global, Script, Local, or a number of scopes up.",
        )
}

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<GetVariable>(
            "Get-Variable",
            "Lists variables and their values.",
            names(false).switch("ValueOnly", "Outputs only the values."),
        )
        .aliases(&["gv"]),
        CommandInfo::new::<SetVariable>(
            "Set-Variable",
            "Sets the value of a variable, creating it if needed.",
            names(true)
                .named("Value", PsType::Object, "The value.")
                .positional(1)
                .from_pipeline()
                .switch("PassThru", "Outputs the variable.")
                .named("Option", PsType::String, "ReadOnly or Constant."),
        )
        .aliases(&["set", "sv"]),
        CommandInfo::new::<SetVariable>(
            "New-Variable",
            "Creates a variable.",
            names(true)
                .named("Value", PsType::Object, "The value.")
                .positional(1)
                .from_pipeline()
                .switch("PassThru", "Outputs the variable.")
                .switch("Force", "Overwrites an existing variable.")
                .named("Option", PsType::String, "ReadOnly or Constant."),
        )
        .aliases(&["nv"]),
        CommandInfo::new::<RemoveVariable>("Remove-Variable", "Deletes variables.", names(true))
            .aliases(&["rv"]),
        CommandInfo::new::<ClearVariable>(
            "Clear-Variable",
            "Sets variables to $null.",
            names(true),
        )
        .aliases(&["clv"]),
    ]
}

/// The language's constants, which the parser reads without a lookup but
/// Get-Variable still lists: name, value, ScopedItemOptions.
const CONSTANTS: [(&str, Option<bool>, Options); 3] = [
    ("false", Some(false), Options::CONSTANT_ALLSCOPE),
    ("null", None, Options::NONE),
    ("true", Some(true), Options::CONSTANT_ALLSCOPE),
];

/// How pwsh marks its automatic variables (ScopedItemOptions flags).
#[derive(Clone, Copy)]
struct Options(i64, &'static str);

impl Options {
    const NONE: Options = Options(0, "None");
    const READ_ONLY: Options = Options(1, "ReadOnly");
    const CONSTANT_ALLSCOPE: Options = Options(2 | 8, "Constant, AllScope");
    const READONLY_ALLSCOPE: Options = Options(1 | 8, "ReadOnly, AllScope");

    fn of(name: &str, read_only: bool) -> Options {
        match name.to_ascii_lowercase().as_str() {
            "pid" | "host" | "shellid" => Options::CONSTANT_ALLSCOPE,
            "home" | "psversiontable" | "pshome" => Options::READONLY_ALLSCOPE,
            _ if read_only => Options::READ_ONLY,
            _ => Options::NONE,
        }
    }
}

/// A PSVariable. Its `Value` stays live (reads and assignments go to the
/// variable), except for the language's constants, which have no variable
/// behind them (`live` is `None`).
fn var_object(name: &str, value: Value, options: Options, live: Option<Rc<str>>) -> Value {
    let mut o = PsObject::with_type(Rc::from(vec![
        Rc::from("System.Management.Automation.PSVariable"),
        Rc::from("System.Object"),
    ]));
    let property = |name: &str, value: Value| Prop {
        kind: PropKind::Property,
        ..Prop::note(name, value)
    };
    o.props_mut().push(property("Name", Value::from(name)));
    o.props_mut().push(match live {
        Some(key) => Prop {
            kind: PropKind::Variable,
            ..Prop::note("Value", Value::String(key))
        },
        None => property("Value", value),
    });
    o.props_mut().push(property(
        "Options",
        Value::Enum(Rc::new(EnumValue {
            type_name: Rc::from("System.Management.Automation.ScopedItemOptions"),
            name: Rc::from(options.1),
            value: options.0,
        })),
    ));
    Value::object(o)
}

fn scope_id(cx: &Cx, args: &Args) -> usize {
    match args
        .string("Scope")
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        Some("global") => GLOBAL,
        Some("script") => cx.it.scopes.script_scope(),
        _ => cx.it.scopes.cur,
    }
}

#[derive(Default)]
struct GetVariable;

impl Processor for GetVariable {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let patterns: Vec<String> = args
            .get("Name")
            .map(|n| n.enumerate().iter().map(|v| v.to_string()).collect())
            .unwrap_or_else(|| vec!["*".into()]);
        // Name, value, options, and the key of the variable behind it.
        type Listed = (Rc<str>, Value, Options, Option<Rc<str>>);
        let mut vars: Vec<Listed> = cx
            .it
            .scopes
            .visible_vars()
            .into_iter()
            .map(|v| {
                let options = Options::of(&v.name, v.read_only);
                let key = Rc::from(v.name.to_ascii_lowercase());
                (v.name, v.value, options, Some(key))
            })
            .collect();
        for (name, value, options) in CONSTANTS {
            vars.push((
                Rc::from(name),
                value.map(Value::Bool).unwrap_or_default(),
                options,
                None,
            ));
        }
        vars.sort_by_key(|v| v.0.to_lowercase());
        for p in patterns {
            let w = Wildcard::new(&p, false);
            let hits: Vec<_> = vars.iter().filter(|v| w.is_match(&v.0)).cloned().collect();
            if hits.is_empty() && !Wildcard::has_wildcards(&p) {
                cx.error(
                    ErrorRecord::new(
                        format!("Cannot find a variable with the name '{p}'."),
                        "VariableNotFound,Microsoft.PowerShell.Commands.GetVariableCommand",
                        ErrorCategory::ObjectNotFound,
                    )
                    .with_exception("System.Management.Automation.ItemNotFoundException")
                    .with_target(Value::from(p.as_str())),
                )?;
            }
            for (name, value, options, live) in hits {
                if args.switch("ValueOnly") {
                    cx.emit(value)?;
                } else {
                    cx.emit(var_object(&name, value, options, live))?;
                }
            }
        }
        Ok(())
    }
}

#[derive(Default)]
struct SetVariable;

impl Processor for SetVariable {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let value = args.get("Value").cloned().unwrap_or_default();
        let scope = scope_id(cx, args);
        let read_only = args.string("Option").is_some_and(|o| {
            let o = o.to_ascii_lowercase();
            o.contains("readonly") || o.contains("constant")
        });
        for name in args.get("Name").map(|n| n.enumerate()).unwrap_or_default() {
            let name = name.to_string();
            let key: Rc<str> = Rc::from(name.to_ascii_lowercase());
            let shown: Rc<str> = Rc::from(name.as_str());
            let existing_ro = cx
                .it
                .scopes
                .get(scope)
                .and_then(|s| s.vars.get(&*key))
                .is_some_and(|v| v.read_only);
            if existing_ro && !args.switch("Force") {
                return Err(cx.fail(ErrorRecord::new(
                    format!(
                        "Cannot overwrite variable {name} because it is read-only or constant."
                    ),
                    "VariableNotWritable",
                    ErrorCategory::WriteError,
                )));
            }
            if let Some(v) = cx
                .it
                .scopes
                .get_mut(scope)
                .and_then(|s| s.vars.get_mut(&*key))
            {
                v.read_only = false;
            }
            cx.it.set_in(scope, &key, &shown, value.clone())?;
            if read_only
                && let Some(v) = cx
                    .it
                    .scopes
                    .get_mut(scope)
                    .and_then(|s| s.vars.get_mut(&*key))
            {
                v.read_only = true;
            }
            if args.switch("PassThru") {
                let options = Options::of(&name, read_only);
                cx.emit(var_object(&name, value.clone(), options, Some(key.clone())))?;
            }
        }
        Ok(())
    }
}

#[derive(Default)]
struct RemoveVariable;

impl Processor for RemoveVariable {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        for name in args.get("Name").map(|n| n.enumerate()).unwrap_or_default() {
            let key = name.to_string().to_ascii_lowercase();
            let scope = match args.string("Scope") {
                Some(_) => Some(scope_id(cx, args)),
                None => cx.it.scopes.lookup_scope(&key),
            };
            let removed = scope
                .and_then(|s| cx.it.scopes.get_mut(s))
                .and_then(|s| s.vars.remove(key.as_str()))
                .is_some();
            if !removed {
                cx.error(
                    ErrorRecord::new(
                        format!("Cannot find a variable with the name '{name}'."),
                        "VariableNotFound,Microsoft.PowerShell.Commands.RemoveVariableCommand",
                        ErrorCategory::ObjectNotFound,
                    )
                    .with_target(name.clone()),
                )?;
            }
        }
        Ok(())
    }
}

#[derive(Default)]
struct ClearVariable;

impl Processor for ClearVariable {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        for name in args.get("Name").map(|n| n.enumerate()).unwrap_or_default() {
            cx.it.set_named(&name.to_string(), Value::Null);
        }
        Ok(())
    }
}
