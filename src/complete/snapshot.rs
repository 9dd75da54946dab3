//! What completion knows of a session. It is copied out of the
//! interpreter because the interpreter is not `Send` and reedline's
//! helpers must be; the SSH session builds the same thing on its own
//! thread, so both front doors complete from one description.

use std::path::PathBuf;

use crate::commands::{COMMON_PARAMS, SHOULD_PROCESS_PARAMS};
use crate::runtime::Interp;
use crate::runtime::value::Value;

/// A parameter as completion shows it.
#[derive(Clone, Debug)]
pub struct ParamEntry {
    pub name: String,
    /// Shown beside the name, e.g. `[string]`.
    pub ty: String,
    /// The values the parameter accepts, when it names them (enums).
    pub values: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct CommandEntry {
    pub name: String,
    /// `Cmdlet` or `Function`.
    pub kind: &'static str,
    pub params: Vec<ParamEntry>,
}

/// The commands, variables and places a session offers to complete.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub commands: Vec<CommandEntry>,
    /// (alias, command), lower-case alias.
    pub aliases: Vec<(String, String)>,
    /// Variable names with the member names of their values.
    pub variables: Vec<(String, Vec<String>)>,
    /// The store identities are read from.
    pub store: PathBuf,
    pub cwd: PathBuf,
    /// Whether file names may be offered: a session that may not use the
    /// file system must not learn what is on the disk through completion.
    pub files: bool,
    /// The directory file access is confined to, when set.
    pub file_root: Option<PathBuf>,
}

impl Snapshot {
    /// Everything the session offers now.
    pub fn of(it: &Interp) -> Snapshot {
        let mut s = Snapshot::with_cmdlets(it);
        s.refresh(it);
        s
    }

    /// The cmdlets and aliases the session may run. They do not change
    /// during a session, so a caller builds this once and then only
    /// [`refresh`](Snapshot::refresh)es it.
    pub fn with_cmdlets(it: &Interp) -> Snapshot {
        let mut s = Snapshot::default();
        for c in it.registry.all() {
            if !it.may_run(c.name) {
                continue;
            }
            let sig = &c.signature;
            let mut params: Vec<ParamEntry> = sig
                .params
                .iter()
                .map(|p| ParamEntry {
                    name: p.name.to_string(),
                    ty: format!("[{}]", p.type_display()),
                    values: p.values.iter().map(|v| v.to_string()).collect(),
                })
                .collect();
            let mut extra: Vec<&(&str, &[&str])> = COMMON_PARAMS.iter().collect();
            if sig.supports_should_process {
                extra.extend(SHOULD_PROCESS_PARAMS.iter());
            }
            params.extend(extra.into_iter().map(|(n, _)| ParamEntry {
                name: n.to_string(),
                ty: "[common]".into(),
                values: Vec::new(),
            }));
            s.commands.push(CommandEntry {
                name: c.name.to_string(),
                kind: "Cmdlet",
                params,
            });
        }
        s.aliases = it
            .registry
            .aliases()
            .into_iter()
            .filter(|(_, c)| it.may_run(c))
            .map(|(a, c)| (a, c.to_string()))
            .collect();
        s
    }

    /// Takes in what changes between commands: functions, variables, the
    /// current directory, the store and the session's file rights.
    pub fn refresh(&mut self, it: &Interp) {
        self.commands.retain(|c| c.kind != "Function");
        for f in it.scopes.all_functions() {
            self.commands.push(CommandEntry {
                name: f.name.to_string(),
                kind: "Function",
                params: f
                    .body
                    .params
                    .iter()
                    .flatten()
                    .map(|p| ParamEntry {
                        name: p.name.name.to_string(),
                        ty: String::new(),
                        values: Vec::new(),
                    })
                    .collect(),
            });
        }
        self.variables = it
            .scopes
            .visible_vars()
            .into_iter()
            .map(|v| (v.name.to_string(), members(&v.value)))
            .collect();
        self.cwd = it.cwd.clone();
        self.store = it
            .store_path
            .clone()
            .unwrap_or_else(crate::config::store::default_path);
        self.files = it.limits.file_system;
        self.file_root = it.limits.root.clone();
    }

    /// The command an alias stands for, else the name itself.
    pub fn resolve(&self, name: &str) -> String {
        self.aliases
            .iter()
            .find(|(a, _)| a.eq_ignore_ascii_case(name))
            .map_or_else(|| name.to_string(), |(_, c)| c.clone())
    }

    pub fn command(&self, name: &str) -> Option<&CommandEntry> {
        let name = self.resolve(name);
        self.commands
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(&name))
    }

    /// Whether a word in command position names something runnable: a
    /// known command, a path, or an expression rather than a name.
    pub fn is_command(&self, name: &str) -> bool {
        self.command(name).is_some()
            || name.contains(['/', '\\'])
            || crate::syntax::tokens::tokens(name).is_empty()
    }
}

/// Member names offered after `$x.`: properties, hashtable keys, and the
/// common ones of strings and arrays (of an array, its first element's too).
pub fn members(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    match v {
        Value::Object(o) => {
            if let Ok(o) = o.try_borrow() {
                out.extend(o.props().iter().map(|p| p.name.to_string()));
            }
        }
        Value::Hashtable(h) => {
            if let Ok(h) = h.try_borrow() {
                out.extend(h.map.values().take(200).map(|(k, _)| k.to_string()));
            }
            out.extend(["Count", "Keys", "Values"].map(String::from));
        }
        Value::String(_) => {
            out.extend(
                [
                    "Length",
                    "ToUpper(",
                    "ToLower(",
                    "Trim(",
                    "Split(",
                    "Replace(",
                    "Contains(",
                    "StartsWith(",
                    "Substring(",
                ]
                .map(String::from),
            );
        }
        Value::Array(a) => {
            out.extend(["Count", "Length"].map(String::from));
            // An array of arrays (or one holding itself) offers no more.
            if let Some(first) = a.items.borrow().first()
                && !matches!(first, Value::Array(_))
            {
                out.extend(members(first));
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::CaptureHost;

    fn names(s: &Snapshot, prefix: &str) -> Vec<String> {
        s.commands
            .iter()
            .filter(|c| c.name.starts_with(prefix))
            .map(|c| c.name.clone())
            .collect()
    }

    #[test]
    fn a_local_session_offers_every_cmdlet_and_its_files() {
        let it = Interp::new(Box::new(CaptureHost::default()));
        let s = Snapshot::of(&it);
        assert_eq!(
            names(&s, "Set-CsAccessEdge"),
            ["Set-CsAccessEdgeConfiguration"]
        );
        assert!(s.files);
        let gcm = s.command("gcm").map(|c| c.name.as_str());
        assert_eq!(gcm, Some("Get-Command"));
    }

    #[test]
    fn a_remote_session_offers_only_what_its_roles_allow() {
        let mut it = Interp::new(Box::new(CaptureHost::default()));
        it.roles = Some(std::rc::Rc::from(vec![
            "CsViewOnlyAdministrator".to_string(),
        ]));
        it.limits.file_system = false;
        let s = Snapshot::of(&it);
        assert_eq!(names(&s, "Set-CsAccessEdge"), Vec::<String>::new());
        assert_eq!(
            names(&s, "Get-CsAccessEdge"),
            ["Get-CsAccessEdgeConfiguration"]
        );
        // The same filter as command lookup: what is offered can run.
        assert!(s.commands.iter().all(|c| it.may_run(&c.name)));
        assert!(s.aliases.iter().all(|(_, c)| it.may_run(c)));
        assert!(!s.files);
    }

    #[test]
    fn refresh_takes_in_new_functions_and_variables() {
        let mut it = Interp::new(Box::new(CaptureHost::default()));
        let mut s = Snapshot::with_cmdlets(&it);
        let src = std::rc::Rc::new(crate::syntax::Source::new(
            None,
            "function Show-Site($Name) {}; $site = @{ City = 'Redmond' }".into(),
        ));
        let _ = it.run_text(src, Vec::new());
        s.refresh(&it);
        let f = s.command("show-site");
        assert_eq!(f.map(|c| c.kind), Some("Function"));
        assert_eq!(
            f.map(|c| c.params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>()),
            Some(vec!["Name"])
        );
        let site = s.variables.iter().find(|(n, _)| n == "site");
        assert_eq!(
            site.map(|(_, m)| m.clone()),
            Some(vec![
                "City".into(),
                "Count".into(),
                "Keys".into(),
                "Values".into()
            ])
        );
        // A second refresh does not list the function twice.
        s.refresh(&it);
        assert_eq!(names(&s, "Show-"), ["Show-Site"]);
    }
}
