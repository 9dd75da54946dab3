//! Get-Help: help text built from what a command declares — its synopsis,
//! a syntax line per parameter set, parameter notes and examples. Script
//! functions get their syntax from their param block.

use std::rc::Rc;

use crate::commands::{Args, CommandInfo, Cx, Example, ParamSpec, Processor, Signature};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Res};
use crate::runtime::pipeline::script_signature;
use crate::runtime::types::PsType;
use crate::runtime::value::Value;
use crate::runtime::wildcard::Wildcard;

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<GetHelp>(
            "Get-Help",
            "Shows help for a command: what it does, its syntax, parameters and examples.",
            Signature::new()
                .named(
                    "Name",
                    PsType::String,
                    "The command to describe; wildcards list matching commands.",
                )
                .positional(0)
                .switch("Examples", "Shows only the examples.")
                .switch("Detailed", "Adds parameter descriptions and examples.")
                .switch("Full", "Shows everything known about the command.")
                .named(
                    "Parameter",
                    PsType::String,
                    "Shows only the description of this parameter.",
                )
                .switch(
                    "Online",
                    "Accepted for compatibility; lyncsh has no online help.",
                ),
        )
        .module("Microsoft.PowerShell.Core")
        .aliases(&["help", "man"])
        .examples(&[Example {
            code: "Get-Help Get-CsUser -Examples",
            about: "Shows the examples for Get-CsUser.",
        }]),
    ]
}

#[derive(Default)]
struct GetHelp;

/// How a parameter reads in a syntax line.
fn param_syntax(p: &ParamSpec) -> String {
    let name = format!("-{}", p.name);
    if p.is_switch() {
        return if p.mandatory {
            name
        } else {
            format!("[{name}]")
        };
    }
    let ty = format!("<{}>", p.type_display());
    let shown_name = if p.position.is_some() {
        format!("[{name}]")
    } else {
        name
    };
    let core = format!("{shown_name} {ty}");
    if p.mandatory {
        core
    } else {
        format!("[{core}]")
    }
}

/// One syntax line per parameter set, pwsh style:
/// `Get-Thing [-Name] <String> [-Force] [<CommonParameters>]`.
pub fn syntax_lines(name: &str, sig: &Signature) -> Vec<String> {
    let mut sets: Vec<Option<&'static str>> = sig.set_names().into_iter().map(Some).collect();
    if let Some(d) = sig.default_set
        && let Some(i) = sets.iter().position(|s| *s == Some(d))
    {
        let d = sets.remove(i);
        sets.insert(0, d);
    }
    if sets.is_empty() {
        sets.push(None);
    }
    let mut lines = Vec::new();
    for set in sets {
        let mut params: Vec<&ParamSpec> = sig
            .params
            .iter()
            .filter(|p| set.is_none_or(|s| p.in_set(s)))
            .collect();
        // Positional parameters first, by position; the rest as declared.
        params.sort_by_key(|p| p.position.unwrap_or(usize::MAX));
        let mut parts: Vec<String> = vec![name.to_string()];
        parts.extend(params.iter().map(|p| param_syntax(p)));
        if sig.supports_should_process {
            parts.push("[-WhatIf]".into());
            parts.push("[-Confirm]".into());
        }
        if !sig.loose {
            parts.push("[<CommonParameters>]".into());
        }
        lines.push(parts.join(" "));
    }
    lines
}

/// The details block of one parameter.
fn param_block(p: &ParamSpec) -> String {
    let mut s = format!("    -{} <{}>\n", p.name, p.type_display());
    if !p.help.is_empty() {
        s.push_str(&format!("        {}\n", p.help));
    }
    s.push('\n');
    let pipeline = match (p.pipeline, p.by_name) {
        (true, true) => "true (ByValue, ByPropertyName)",
        (true, false) => "true (ByValue)",
        (false, true) => "true (ByPropertyName)",
        (false, false) => "false",
    };
    let rows = [
        ("Required?", p.mandatory.to_string()),
        (
            "Position?",
            p.position
                .map(|n| n.to_string())
                .unwrap_or_else(|| "named".into()),
        ),
        ("Accept pipeline input?", pipeline.to_string()),
        (
            "Aliases",
            if p.aliases.is_empty() {
                "none".to_string()
            } else {
                p.aliases
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ),
        ("Accept wildcard characters?", "false".to_string()),
    ];
    for (k, v) in rows {
        s.push_str(&format!("        {k:<28} {v}\n"));
    }
    if !p.values.is_empty() {
        s.push_str(&format!(
            "        {:<28} {}\n",
            "Allowed values",
            p.values
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    s.push('\n');
    s
}

fn examples_block(name: &str, examples: &[Example]) -> String {
    if examples.is_empty() {
        return format!("    There are no examples for {name}.\n\n");
    }
    let mut s = String::new();
    for (i, e) in examples.iter().enumerate() {
        s.push_str(&format!(
            "    --------------- Example {} ---------------\n\n    PS > {}\n\n    {}\n\n",
            i + 1,
            e.code,
            e.about
        ));
    }
    s
}

/// What a help page is about: a cmdlet or a script function.
struct Topic {
    name: String,
    synopsis: String,
    sig: Signature,
    examples: &'static [Example],
    aliases: Vec<String>,
}

impl Topic {
    fn page(&self, args: &Args) -> Result<String, ErrorRecord> {
        if let Some(pname) = args.string("Parameter") {
            let w = Wildcard::new(&pname, false);
            let found: Vec<&ParamSpec> = self
                .sig
                .params
                .iter()
                .filter(|p| w.is_match(&p.name))
                .collect();
            if found.is_empty() {
                return Err(ErrorRecord::new(
                    format!("No parameter matches criteria {pname}."),
                    "NoParmsFound,Microsoft.PowerShell.Commands.GetHelpCommand",
                    ErrorCategory::InvalidArgument,
                ));
            }
            let mut s = String::new();
            for p in found {
                s.push_str(&param_block(p));
            }
            return Ok(s.trim_end().to_string() + "\n");
        }
        if args.switch("Examples") {
            let mut s = format!(
                "\nNAME\n    {}\n\nSYNOPSIS\n    {}\n\n",
                self.name, self.synopsis
            );
            s.push_str("EXAMPLES\n");
            s.push_str(&examples_block(&self.name, self.examples));
            return Ok(s.trim_end().to_string() + "\n");
        }
        let detailed = args.switch("Detailed") || args.switch("Full");
        let mut s = format!(
            "\nNAME\n    {}\n\nSYNOPSIS\n    {}\n\n",
            self.name, self.synopsis
        );
        s.push_str("SYNTAX\n");
        for line in syntax_lines(&self.name, &self.sig) {
            s.push_str(&format!("    {line}\n\n"));
        }
        if detailed {
            s.push_str("PARAMETERS\n");
            for p in &self.sig.params {
                s.push_str(&param_block(p));
            }
            if !self.sig.loose {
                s.push_str("    <CommonParameters>\n        This command also takes the common parameters: Verbose, Debug,\n        ErrorAction, ErrorVariable, WarningAction, WarningVariable,\n        OutVariable and OutBuffer.\n\n");
            }
            s.push_str("EXAMPLES\n");
            s.push_str(&examples_block(&self.name, self.examples));
        }
        s.push_str("ALIASES\n");
        if self.aliases.is_empty() {
            s.push_str("    None\n\n");
        } else {
            for a in &self.aliases {
                s.push_str(&format!("    {a}\n"));
            }
            s.push('\n');
        }
        if !detailed {
            s.push_str(&format!(
                "REMARKS\n    For the examples, type: \"Get-Help {0} -Examples\".\n    For parameter details, type: \"Get-Help {0} -Detailed\".\n",
                self.name
            ));
        }
        Ok(s.trim_end().to_string() + "\n")
    }
}

fn cmdlet_topic(info: &CommandInfo) -> Topic {
    Topic {
        name: info.name.to_string(),
        synopsis: info.synopsis.to_string(),
        sig: info.signature.clone(),
        examples: info.examples,
        aliases: info.aliases.iter().map(|a| a.to_string()).collect(),
    }
}

impl Processor for GetHelp {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let Some(name) = args.string("Name").filter(|n| !n.is_empty()) else {
            return cx.emit(Value::from(
                "\nlyncsh help\n\n    Get-Help <command> shows what a command does and how to call it.\n    Get-Help <command> -Examples shows examples; -Detailed adds parameter\n    descriptions; -Parameter <name> describes one parameter.\n    Get-Command lists the commands this session knows.\n",
            ));
        };
        let registry = cx.it.registry.clone();
        if Wildcard::has_wildcards(&name) {
            // A list of matching commands with their synopses.
            let w = Wildcard::new(&name, false);
            let mut rows: Vec<(String, String)> = registry
                .all()
                .iter()
                .filter(|c| w.is_match(c.name))
                .map(|c| (c.name.to_string(), c.synopsis.to_string()))
                .collect();
            for f in cx.it.scopes.all_functions() {
                if w.is_match(&f.name) {
                    rows.push((f.name.to_string(), String::new()));
                }
            }
            rows.sort_by_key(|r| r.0.to_ascii_lowercase());
            let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(4).max(4);
            let mut s = format!(
                "\n{:<width$} Synopsis\n{:<width$} --------\n",
                "Name", "----"
            );
            for (n, syn) in rows {
                s.push_str(format!("{n:<width$} {syn}").trim_end());
                s.push('\n');
            }
            return cx.emit(Value::from(s));
        }
        let topic = if let Some(info) = registry.get(&name) {
            Some(cmdlet_topic(&info))
        } else {
            cx.it
                .scopes
                .function(&name.to_ascii_lowercase())
                .map(|f| Topic {
                    name: f.name.to_string(),
                    synopsis: String::new(),
                    sig: script_signature(&f.body),
                    examples: &[],
                    aliases: Vec::new(),
                })
        };
        let Some(topic) = topic else {
            return Err(cx.fail(
                ErrorRecord::new(
                    format!(
                        "Get-Help cannot find help for '{name}': no command of that name is known in this session."
                    ),
                    "HelpNotFound,Microsoft.PowerShell.Commands.GetHelpCommand",
                    ErrorCategory::ObjectNotFound,
                )
                .with_target(Value::from(name.as_str()))
                .with_exception("System.Management.Automation.HelpNotFoundException"),
            ));
        };
        let page = topic.page(args).map_err(|e| cx.fail(e))?;
        cx.emit(Value::String(Rc::from(page)))
    }
}
