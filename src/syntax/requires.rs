//! What a script may ask of the shell before it runs: `#requires` lines
//! and `using module`. lyncsh is one PowerShell (7.4, Core edition) with
//! its modules built in, so a requirement is met or refused here, at parse
//! time, before any statement runs.

use std::rc::Rc;

use super::ast::Span;
use super::error::ParseError;
use super::source::Source;

/// The PowerShell version lyncsh behaves as (`$PSVersionTable.PSVersion`).
pub const PS_VERSION: (u32, u32, u32) = (7, 4, 0);

/// The modules lyncsh has built in; `#requires -Modules` and `using
/// module` may name these and nothing else.
const BUILT_IN_MODULES: &[&str] = &[
    "Lync",
    "SkypeForBusiness",
    "Pester",
    "Microsoft.PowerShell.Core",
    "Microsoft.PowerShell.Management",
    "Microsoft.PowerShell.Utility",
    "Microsoft.PowerShell.Security",
];

pub fn is_built_in_module(name: &str) -> bool {
    BUILT_IN_MODULES
        .iter()
        .any(|m| m.eq_ignore_ascii_case(name))
}

/// Every `#requires` line of the text (a line that starts with it),
/// checked; the first one lyncsh cannot meet is the error.
pub fn check(source: &Rc<Source>) -> Result<(), ParseError> {
    let text = source.text.as_str();
    for (at, _) in text.match_indices('#') {
        let line_start = text[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1);
        if !text[line_start..at].trim().is_empty() {
            continue;
        }
        let rest = &text[at + 1..];
        let Some(word) = rest.get(..8) else { continue };
        if !word.eq_ignore_ascii_case("requires")
            || rest[8..].starts_with(|c: char| !c.is_whitespace())
        {
            continue;
        }
        let end = rest.find(['\n', '\r']).map_or(text.len(), |i| at + 1 + i);
        let span = Span::new(at, end);
        requirement(&text[at + 9..end]).map_err(|msg| ParseError {
            error_id: "ScriptRequiresUnmatched",
            ..ParseError::at(source, span, msg)
        })?;
    }
    Ok(())
}

/// One line's parameters: `-Version 5.1`, `-Modules A, B`, `-PSEdition Core`.
fn requirement(args: &str) -> Result<(), String> {
    let malformed = || {
        "Cannot process the #requires statement: it is not in the correct format. \
         A #requires statement takes -Version, -Modules, -PSEdition, -ShellId or -RunAsAdministrator."
            .to_string()
    };
    let args = args.trim();
    if args.is_empty() {
        return Err(malformed());
    }
    let mut parts = args.split_whitespace();
    let Some(param) = parts.next().and_then(|p| p.strip_prefix('-')) else {
        return Err(malformed());
    };
    let value = parts.collect::<Vec<_>>().join(" ");
    match param.to_ascii_lowercase().as_str() {
        "version" => {
            let mut nums = value.split('.').map(|n| n.trim().parse::<u32>());
            let major = match nums.next() {
                Some(Ok(n)) => n,
                _ => return Err(malformed()),
            };
            let minor = match nums.next() {
                Some(Ok(n)) => n,
                None => 0,
                Some(Err(_)) => return Err(malformed()),
            };
            let (have_major, have_minor, _) = PS_VERSION;
            if (major, minor) > (have_major, have_minor) {
                return Err(format!(
                    "The script cannot be run: its \"#requires\" statement asks for PowerShell {value}, and lyncsh behaves as PowerShell {have_major}.{have_minor}."
                ));
            }
            Ok(())
        }
        "modules" | "module" => {
            let missing: Vec<String> = module_names(&value)
                .into_iter()
                .filter(|m| !is_built_in_module(m))
                .collect();
            if missing.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "The script cannot be run: its \"#requires\" statement asks for modules lyncsh does not have: {}. lyncsh has the Lync cmdlets and its other modules built in and loads no others.",
                    missing.join(", ")
                ))
            }
        }
        "psedition" => match value.trim().to_ascii_lowercase().as_str() {
            "core" => Ok(()),
            _ => Err(format!(
                "The script cannot be run: its \"#requires\" statement asks for the PowerShell edition '{}', and lyncsh is the Core edition.",
                value.trim()
            )),
        },
        "shellid" => match value.trim() {
            s if s.eq_ignore_ascii_case("Microsoft.PowerShell") => Ok(()),
            s => Err(format!(
                "The script cannot be run: its \"#requires\" statement asks for the shell '{s}', and lyncsh runs as Microsoft.PowerShell."
            )),
        },
        // Meaningful on Windows only, where pwsh checks elevation; the
        // roles of lyncsh's own accounts decide what a script may change.
        "runasadministrator" if value.is_empty() => Ok(()),
        _ => Err(malformed()),
    }
}

/// Module names from `A, 'B'` or `@{ ModuleName = 'C'; ModuleVersion = '1.0' }`.
fn module_names(value: &str) -> Vec<String> {
    let unquote = |s: &str| s.trim().trim_matches(['\'', '"']).trim().to_string();
    let mut names = Vec::new();
    let mut rest = value;
    while !rest.trim().is_empty() {
        let t = rest.trim_start();
        if let Some(table) = t.strip_prefix("@{") {
            let close = table.find('}').unwrap_or(table.len());
            for entry in table[..close].split(';') {
                if let Some((k, v)) = entry.split_once('=')
                    && k.trim().eq_ignore_ascii_case("ModuleName")
                {
                    names.push(unquote(v));
                }
            }
            rest = table.get(close + 1..).unwrap_or("");
            rest = rest.trim_start().strip_prefix(',').unwrap_or(rest);
        } else {
            let comma = t.find(',').unwrap_or(t.len());
            let name = unquote(&t[..comma]);
            if !name.is_empty() {
                names.push(name);
            }
            rest = t.get(comma + 1..).unwrap_or("");
        }
    }
    names
}
