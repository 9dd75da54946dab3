//! Get-Command: lists the cmdlets, functions and aliases of the session.

use std::rc::Rc;

use crate::commands::get_help::syntax_lines;
use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Res};
use crate::runtime::pipeline::script_signature;
use crate::runtime::types::PsType;
use crate::runtime::value::{Prop, PropKind, PsObject, Value};
use crate::runtime::wildcard::Wildcard;

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<GetCommand>(
            "Get-Command",
            "Lists the commands available in the session.",
            Signature::new()
                .named(
                    "Name",
                    PsType::Array(Some(Box::new(PsType::String))),
                    "Command names to find; wildcards allowed.",
                )
                .positional(0)
                .named(
                    "Verb",
                    PsType::Array(Some(Box::new(PsType::String))),
                    "Only commands with these verbs (the part before the dash).",
                )
                .named(
                    "Noun",
                    PsType::Array(Some(Box::new(PsType::String))),
                    "Only commands with these nouns (the part after the dash).",
                )
                .named(
                    "CommandType",
                    PsType::Array(Some(Box::new(PsType::String))),
                    "Only commands of these kinds: Alias, Function, Filter, Cmdlet, All.",
                )
                .alias("Type")
                .values(&["Alias", "Function", "Filter", "Cmdlet", "All"])
                .named(
                    "Module",
                    PsType::Array(Some(Box::new(PsType::String))),
                    "Only commands from these modules.",
                )
                .switch("Syntax", "Shows the syntax of the commands instead."),
        )
        .module("Microsoft.PowerShell.Core")
        .aliases(&["gcm"])
        .examples(&[Example {
            code: "Get-Command -Noun CsUser",
            about: "Lists the commands that work on users.",
        }]),
    ]
}

#[derive(Default)]
struct GetCommand;

/// The version Get-Command shows for a module's commands.
fn module_version(module: &str) -> &'static str {
    match module {
        "Microsoft.PowerShell.Core" => "7.4.6",
        m if m.starts_with("Microsoft.PowerShell.") => "7.0.0.0",
        _ => "5.0.0.0",
    }
}

/// A command description as Get-Command and Get-Alias output it.
pub fn command_object(
    kind: &str,
    name: &str,
    display: &str,
    module: &str,
    definition: &str,
) -> Value {
    let version = if module.is_empty() {
        ""
    } else {
        module_version(module)
    };
    let mut types: Vec<Rc<str>> = Vec::new();
    match kind {
        "Alias" => types.push(Rc::from("System.Management.Automation.AliasInfo")),
        "Function" | "Filter" => types.push(Rc::from("System.Management.Automation.FunctionInfo")),
        _ => types.push(Rc::from("System.Management.Automation.CmdletInfo")),
    }
    types.push(Rc::from("System.Management.Automation.CommandInfo"));
    types.push(Rc::from("System.Object"));
    let mut o = PsObject::with_type(Rc::from(types));
    o.display = Some(Rc::from(name));
    for (k, v) in [
        ("CommandType", kind),
        ("Name", name),
        ("Version", version),
        ("Source", module),
        ("ModuleName", module),
        ("Definition", definition),
        ("DisplayName", display),
    ] {
        o.props_mut().push(Prop {
            kind: PropKind::Property,
            read_only: true,
            ..Prop::note(k, Value::from(v))
        });
    }
    Value::object(o)
}

fn kind_rank(kind: &str) -> u8 {
    match kind {
        "Alias" => 0,
        "Function" => 1,
        "Filter" => 2,
        _ => 3,
    }
}

fn patterns(args: &Args, name: &str) -> Vec<Wildcard> {
    args.get(name)
        .map(|v| {
            v.enumerate()
                .iter()
                .map(|x| Wildcard::new(&x.to_string(), false))
                .collect()
        })
        .unwrap_or_default()
}

impl Processor for GetCommand {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let names: Vec<String> = args
            .get("Name")
            .map(|v| v.enumerate().iter().map(|x| x.to_string()).collect())
            .unwrap_or_default();
        let verbs = patterns(args, "Verb");
        let nouns = patterns(args, "Noun");
        let modules = patterns(args, "Module");
        let kinds: Vec<String> = args
            .get("CommandType")
            .map(|v| {
                v.enumerate()
                    .iter()
                    .map(|x| x.to_string().to_ascii_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        let kind_ok = |k: &str| {
            kinds.is_empty()
                || kinds
                    .iter()
                    .any(|x| x == "all" || x.eq_ignore_ascii_case(k))
        };
        let verb_noun_ok = |name: &str| {
            let (verb, noun) = name.split_once('-').unwrap_or((name, ""));
            (verbs.is_empty() || verbs.iter().any(|w| w.is_match(verb)))
                && (nouns.is_empty() || nouns.iter().any(|w| w.is_match(noun)))
        };
        // Aliases and functions have no verb/noun filter semantics beyond
        // their name; -Verb/-Noun list only cmdlets and functions.
        let filtering_parts = !verbs.is_empty() || !nouns.is_empty() || !modules.is_empty();

        // (kind, name, display, module, definition)
        let mut all: Vec<(String, String, String, String, String)> = Vec::new();
        let registry = cx.it.registry.clone();
        // A remote session sees only the cmdlets its roles may run, as
        // Lync's RBAC shell does; listing the others would invite errors.
        let it = &*cx.it;
        let permitted = |name: &str| it.may_run(name);
        for c in registry.all() {
            if !kind_ok("Cmdlet") || !verb_noun_ok(c.name) || !permitted(c.name) {
                continue;
            }
            if !modules.is_empty() && !modules.iter().any(|w| w.is_match(c.module)) {
                continue;
            }
            let definition = syntax_lines(c.name, &c.signature).join("\n\n");
            all.push((
                "Cmdlet".into(),
                c.name.into(),
                c.name.into(),
                c.module.into(),
                definition,
            ));
        }
        for f in cx.it.scopes.all_functions() {
            let kind = if f.is_filter { "Filter" } else { "Function" };
            if !kind_ok(kind) || !verb_noun_ok(&f.name) || !modules.is_empty() {
                continue;
            }
            let _ = script_signature;
            all.push((
                kind.into(),
                f.name.to_string(),
                f.name.to_string(),
                String::new(),
                f.body.body_text().to_string(),
            ));
        }
        if !filtering_parts {
            for (alias, target) in registry.aliases() {
                if !kind_ok("Alias") || !permitted(target) {
                    continue;
                }
                // The alias as pwsh spells it: lower case, as registered.
                all.push((
                    "Alias".into(),
                    alias.to_string(),
                    format!("{alias} -> {target}"),
                    String::new(),
                    target.to_string(),
                ));
            }
        }
        all.sort_by(|a, b| {
            kind_rank(&a.0)
                .cmp(&kind_rank(&b.0))
                .then_with(|| a.1.to_ascii_lowercase().cmp(&b.1.to_ascii_lowercase()))
        });
        let emit_row = |cx: &mut Cx, r: &(String, String, String, String, String)| -> Res<()> {
            if args.switch("Syntax") {
                let text = if r.0 == "Alias" {
                    r.2.clone()
                } else {
                    r.4.clone()
                };
                return cx.emit(Value::from(text));
            }
            cx.emit(command_object(&r.0, &r.1, &r.2, &r.3, &r.4))
        };
        if names.is_empty() {
            for r in &all {
                emit_row(cx, r)?;
            }
            return Ok(());
        }
        let mut done: Vec<usize> = Vec::new();
        for n in &names {
            let w = Wildcard::new(n, false);
            let hits: Vec<usize> = all
                .iter()
                .enumerate()
                .filter(|(_, r)| w.is_match(&r.1))
                .map(|(i, _)| i)
                .collect();
            if hits.is_empty() && !Wildcard::has_wildcards(n) {
                cx.error(
                    ErrorRecord::new(
                        format!(
                            "The term '{n}' is not recognized as a name of a cmdlet, function, script file, or executable program.\nCheck the spelling of the name, or if a path was included, verify that the path is correct and try again."
                        ),
                        "CommandNotFoundException,Microsoft.PowerShell.Commands.GetCommandCommand",
                        ErrorCategory::ObjectNotFound,
                    )
                    .with_exception("System.Management.Automation.CommandNotFoundException")
                    .with_target(Value::from(n.as_str())),
                )?;
                continue;
            }
            for i in hits {
                if done.contains(&i) {
                    continue;
                }
                done.push(i);
                if let Some(r) = all.get(i) {
                    emit_row(cx, r)?;
                }
            }
        }
        Ok(())
    }
}
