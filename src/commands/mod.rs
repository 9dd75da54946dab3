//! Commands: each cmdlet is one file with a declarative [`Signature`] and a
//! [`Processor`] that PowerShell's pipeline drives through `begin`,
//! `process` (once per input object) and `end`. The binder, completion and
//! Get-Help all read the same signature.

use std::collections::HashMap;
use std::rc::Rc;

use std::path::Path;

use crate::runtime::Interp;
use crate::runtime::error::{ErrorCategory, ErrorRecord, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::Value;

pub mod binder;
pub mod context;

mod add_member;
mod clixml;
mod compare_object;
mod convert_csv;
mod convert_json;
mod files;
mod foreach_object;
mod format_cmds;
mod gathered;
mod get_command;
mod get_date;
mod get_help;
mod get_member;
mod group_object;
mod history;
mod invoke_expression;
pub mod location;
mod measure_object;
mod misc;
mod new_object;
mod out_cmds;
mod read_host;
mod select_object;
mod sort_object;
mod tab_expansion;
mod tee_object;
mod variables;
mod where_object;
mod write;

pub use binder::Args;
pub use context::Cx;

/// The type a parameter takes; `Switch` parameters take no argument.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamType {
    Switch,
    Typed(PsType),
}

#[derive(Clone, Debug)]
pub struct ParamSpec {
    pub name: Rc<str>,
    pub aliases: Vec<Rc<str>>,
    pub ty: ParamType,
    pub mandatory: bool,
    pub position: Option<usize>,
    pub pipeline: bool,
    pub by_name: bool,
    /// Parameter sets this parameter belongs to; empty means all of them.
    pub sets: Vec<&'static str>,
    pub help: Rc<str>,
    /// Allowed values (enum names, ValidateSet), offered by completion.
    pub values: Vec<Rc<str>>,
    pub range: Option<(i64, i64)>,
    /// Values must not be empty (ValidateNotNullOrEmpty).
    pub not_empty: bool,
    /// Filled from the engine: a completion hint such as "policy:Conferencing".
    pub completer: Option<&'static str>,
    /// Takes every positional argument left over (`Write-Output 1 2 3`).
    pub remaining: bool,
    /// For enum parameters: the enum's name, so a wrong value gets .NET's
    /// enum message (the allowed names are in `values`).
    pub enum_type: Option<Rc<str>>,
}

impl ParamSpec {
    pub fn new(name: &str, ty: ParamType) -> ParamSpec {
        ParamSpec {
            name: Rc::from(name),
            aliases: Vec::new(),
            ty,
            mandatory: false,
            position: None,
            pipeline: false,
            by_name: false,
            sets: Vec::new(),
            help: Rc::from(""),
            values: Vec::new(),
            range: None,
            not_empty: false,
            completer: None,
            remaining: false,
            enum_type: None,
        }
    }

    pub fn is_switch(&self) -> bool {
        self.ty == ParamType::Switch
    }

    pub fn in_set(&self, set: &str) -> bool {
        self.sets.is_empty() || self.sets.contains(&set)
    }

    pub fn matches_name(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }

    pub fn type_display(&self) -> String {
        match &self.ty {
            ParamType::Switch => "SwitchParameter".into(),
            ParamType::Typed(t) => t.short_name(),
        }
    }
}

/// A command's parameters, declared once.
#[derive(Clone, Debug, Default)]
pub struct Signature {
    pub params: Vec<ParamSpec>,
    pub default_set: Option<&'static str>,
    /// Cmdlets that change state take -WhatIf and -Confirm.
    pub supports_should_process: bool,
    /// Script functions without `[CmdletBinding()]` keep unbound arguments
    /// in `$args` instead of failing.
    pub loose: bool,
}

/// Builder used by cmdlet files: `Signature::new().param(...)`.
impl Signature {
    pub fn new() -> Signature {
        Signature::default()
    }

    pub fn param(mut self, p: ParamSpec) -> Signature {
        self.params.push(p);
        self
    }

    /// A named parameter of a type.
    pub fn named(self, name: &str, ty: PsType, help: &str) -> Signature {
        let mut p = ParamSpec::new(name, ParamType::Typed(ty));
        p.help = Rc::from(help);
        self.param(p)
    }

    pub fn switch(self, name: &str, help: &str) -> Signature {
        let mut p = ParamSpec::new(name, ParamType::Switch);
        p.help = Rc::from(help);
        self.param(p)
    }

    /// Adjusts the last declared parameter.
    pub fn with(mut self, f: impl FnOnce(&mut ParamSpec)) -> Signature {
        if let Some(p) = self.params.last_mut() {
            f(p);
        }
        self
    }

    pub fn positional(self, pos: usize) -> Signature {
        self.with(|p| p.position = Some(pos))
    }

    pub fn mandatory(self) -> Signature {
        self.with(|p| p.mandatory = true)
    }

    pub fn from_pipeline(self) -> Signature {
        self.with(|p| p.pipeline = true)
    }

    pub fn by_property_name(self) -> Signature {
        self.with(|p| p.by_name = true)
    }

    /// -LiteralPath, the path taken as written, with PowerShell's aliases
    /// and bound by property name, so that piped items (which carry a
    /// PSPath) land on it.
    pub fn literal_path(self, ty: PsType, help: &str) -> Signature {
        self.named("LiteralPath", ty, help)
            .alias("PSPath")
            .alias("LP")
            .by_property_name()
    }

    pub fn alias(self, a: &str) -> Signature {
        self.with(|p| p.aliases.push(Rc::from(a)))
    }

    pub fn sets(self, sets: &[&'static str]) -> Signature {
        self.with(|p| p.sets = sets.to_vec())
    }

    pub fn values(self, vals: &[&str]) -> Signature {
        self.with(|p| p.values = vals.iter().map(|v| Rc::from(*v)).collect())
    }

    pub fn default_set(mut self, set: &'static str) -> Signature {
        self.default_set = Some(set);
        self
    }

    pub fn should_process(mut self) -> Signature {
        self.supports_should_process = true;
        self
    }

    pub fn find(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.matches_name(name))
    }

    /// Every parameter set named by some parameter.
    pub fn set_names(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for p in &self.params {
            for s in &p.sets {
                if !out.contains(s) {
                    out.push(s);
                }
            }
        }
        out
    }
}

/// What a cmdlet does for one invocation. State lives in the struct.
pub trait Processor {
    fn begin(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let _ = (cx, args);
        Ok(())
    }
    /// Once per pipeline input object (with it bound into `args`), or once
    /// with no input when the command starts the pipeline.
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()>;
    fn end(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let _ = (cx, args);
        Ok(())
    }
    /// Whether, with these arguments, the command only counts its input
    /// (then upstream may hand it a number through [`Processor::add_count`]).
    fn counts_only(&self, args: &Args) -> bool {
        let _ = args;
        false
    }
    fn add_count(&mut self, n: u64) {
        let _ = n;
    }
}

pub struct Example {
    pub code: &'static str,
    pub about: &'static str,
}

/// A registered cmdlet.
pub struct CommandInfo {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub synopsis: &'static str,
    pub signature: Signature,
    pub examples: &'static [Example],
    pub factory: Box<dyn Fn() -> Box<dyn Processor>>,
    /// The module Get-Command reports.
    pub module: &'static str,
}

impl CommandInfo {
    pub fn new<P: Processor + Default + 'static>(
        name: &'static str,
        synopsis: &'static str,
        signature: Signature,
    ) -> CommandInfo {
        CommandInfo {
            name,
            aliases: &[],
            synopsis,
            signature,
            examples: &[],
            factory: Box::new(|| Box::new(P::default())),
            module: "Microsoft.PowerShell.Utility",
        }
    }

    pub fn aliases(mut self, a: &'static [&'static str]) -> CommandInfo {
        self.aliases = a;
        self
    }

    pub fn examples(mut self, e: &'static [Example]) -> CommandInfo {
        self.examples = e;
        self
    }

    pub fn module(mut self, m: &'static str) -> CommandInfo {
        self.module = m;
        self
    }
}

/// Commands by lower-cased name and alias.
#[derive(Default)]
struct Table {
    commands: Vec<Rc<CommandInfo>>,
    by_name: HashMap<String, usize>,
    aliases: HashMap<String, usize>,
}

impl Table {
    fn add(&mut self, info: CommandInfo) {
        let idx = self.commands.len();
        self.by_name.insert(info.name.to_ascii_lowercase(), idx);
        for a in info.aliases {
            self.aliases.insert(a.to_ascii_lowercase(), idx);
        }
        self.commands.push(Rc::new(info));
    }

    fn get(&self, key: &str) -> Option<Rc<CommandInfo>> {
        self.by_name
            .get(key)
            .or_else(|| self.aliases.get(key))
            .and_then(|&i| self.commands.get(i).cloned())
    }
}

/// All cmdlets of a session. The `*-Cs*` cmdlets are built from the
/// configuration schema the first time one is asked for, so a run that
/// never touches the configuration does not pay for them at start-up.
#[derive(Default)]
pub struct Registry {
    base: Table,
    cs: std::cell::OnceCell<Table>,
}

impl Registry {
    pub fn builtin() -> Registry {
        let mut r = Registry::default();
        for list in [
            where_object::infos(),
            foreach_object::infos(),
            select_object::infos(),
            sort_object::infos(),
            group_object::infos(),
            measure_object::infos(),
            compare_object::infos(),
            tee_object::infos(),
            get_member::infos(),
            get_command::infos(),
            tab_expansion::infos(),
            get_help::infos(),
            new_object::infos(),
            add_member::infos(),
            invoke_expression::infos(),
            get_date::infos(),
            read_host::infos(),
            write::infos(),
            out_cmds::infos(),
            format_cmds::infos(),
            variables::infos(),
            clixml::infos(),
            convert_csv::infos(),
            convert_json::infos(),
            files::infos(),
            location::infos(),
            misc::infos(),
            history::infos(),
            crate::pester::infos(),
        ] {
            for info in list {
                r.base.add(info);
            }
        }
        r
    }

    fn cs(&self) -> &Table {
        self.cs.get_or_init(|| {
            let mut t = Table::default();
            for info in crate::cs::infos() {
                t.add(info);
            }
            t
        })
    }

    /// Builds the Lync cmdlet table now rather than at the first Lync
    /// command: a remote session does it while its client reads the
    /// greeting, so the first command answers as fast as the next ones.
    pub fn load_lync(&self) {
        self.cs();
    }

    /// Looks up a cmdlet by name or alias, case-insensitively.
    pub fn get(&self, name: &str) -> Option<Rc<CommandInfo>> {
        let key = name.to_ascii_lowercase();
        self.base
            .get(&key)
            .or_else(|| key.contains("-cs").then(|| self.cs().get(&key)).flatten())
    }

    pub fn all(&self) -> Vec<Rc<CommandInfo>> {
        self.base
            .commands
            .iter()
            .chain(&self.cs().commands)
            .cloned()
            .collect()
    }

    pub fn aliases(&self) -> Vec<(String, &'static str)> {
        let mut out = Vec::new();
        for t in [&self.base, self.cs()] {
            for (a, &i) in &t.aliases {
                if let Some(c) = t.commands.get(i) {
                    out.push((a.clone(), c.name));
                }
            }
        }
        out
    }
}

/// Common parameters every cmdlet and advanced function accepts.
pub const COMMON_PARAMS: &[(&str, &[&str])] = &[
    ("Verbose", &["vb"]),
    ("Debug", &["db"]),
    ("ErrorAction", &["ea"]),
    ("WarningAction", &["wa"]),
    ("InformationAction", &["infa"]),
    ("ErrorVariable", &["ev"]),
    ("WarningVariable", &["wv"]),
    ("InformationVariable", &["iv"]),
    ("OutVariable", &["ov"]),
    ("OutBuffer", &["ob"]),
    ("PipelineVariable", &["pv"]),
];

pub const SHOULD_PROCESS_PARAMS: &[(&str, &[&str])] = &[("WhatIf", &["wi"]), ("Confirm", &["cf"])];

/// Writes text to a file for Out-File, Set-Content and `>`, refusing when
/// the session may not touch the file system.
pub fn write_text_file(
    it: &Interp,
    path: &Path,
    text: &str,
    append: bool,
) -> Result<(), ErrorRecord> {
    check_path(it, path)?;
    use std::io::Write;
    let result = if append {
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
    } else {
        std::fs::write(path, text)
    };
    result.map_err(|e| io_error(path, &e))
}

/// Refuses file access outside what the session allows.
pub fn check_path(it: &Interp, path: &Path) -> Result<(), ErrorRecord> {
    if !it.limits.file_system {
        return Err(ErrorRecord::new(
            format!(
                "Access to '{}' is denied: this session may not use the file system.",
                path.display()
            ),
            "FileSystemNotAllowed",
            ErrorCategory::PermissionDenied,
        )
        .with_exception("System.UnauthorizedAccessException"));
    }
    // `C:\x` read relative to the current directory would name a folder
    // called `C:`; pwsh on Unix has no such drive and says so.
    if let Some(drive) = path.components().find_map(|c| {
        let s = c.as_os_str().to_str()?;
        let letter = s.strip_suffix(':')?;
        (letter.len() == 1 && letter.chars().all(|c| c.is_ascii_alphabetic())).then_some(letter)
    }) {
        return Err(ErrorRecord::new(
            format!("Cannot find drive. A drive with the name '{drive}' does not exist."),
            "DriveNotFound",
            ErrorCategory::ObjectNotFound,
        )
        .with_exception("System.Management.Automation.DriveNotFoundException")
        .with_target(Value::from(drive)));
    }
    if let Some(root) = &it.limits.root {
        let resolved = real_path(path);
        if !resolved.starts_with(root) {
            return Err(ErrorRecord::new(
                format!(
                    "Access to '{}' is denied: this session may only use files under '{}'.",
                    path.display(),
                    root.display()
                ),
                "PathOutsideRoot",
                ErrorCategory::PermissionDenied,
            )
            .with_exception("System.UnauthorizedAccessException"));
        }
    }
    Ok(())
}

/// Where `path` really leads: its longest existing ancestor with symbolic
/// links resolved, then the rest without `.` and `..`. A link inside an
/// allowed directory must not lead a session out of it.
pub(crate) fn real_path(path: &Path) -> std::path::PathBuf {
    let path = files::clean(path);
    let mut existing = path.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            return rest.iter().rev().fold(real, |p, c| p.join(c));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return path,
        }
    }
}

/// An object of a .NET type the shell mimics (Measure-Object's
/// GenericMeasureInfo, TabExpansion2's CommandCompletion): `pairs` are its
/// properties, in order.
pub(crate) fn typed_object(type_name: &str, pairs: Vec<(&str, Value)>) -> Value {
    use crate::runtime::value::{Prop, PropKind, PsObject};
    let mut o = PsObject::with_type(Rc::from(vec![
        Rc::from(type_name),
        Rc::from("System.Object"),
    ]));
    for (k, v) in pairs {
        o.props_mut().push(Prop {
            kind: PropKind::Property,
            ..Prop::note(k, v)
        });
    }
    Value::object(o)
}

pub fn io_error(path: &Path, e: &std::io::Error) -> ErrorRecord {
    let (msg, id, cat, ty) = match e.kind() {
        std::io::ErrorKind::NotFound => (
            format!(
                "Cannot find path '{}' because it does not exist.",
                path.display()
            ),
            "PathNotFound",
            ErrorCategory::ObjectNotFound,
            "System.Management.Automation.ItemNotFoundException",
        ),
        std::io::ErrorKind::PermissionDenied => (
            format!("Access to the path '{}' is denied.", path.display()),
            "UnauthorizedAccess",
            ErrorCategory::PermissionDenied,
            "System.UnauthorizedAccessException",
        ),
        _ => (
            format!("Could not access '{}': {e}", path.display()),
            "IOError",
            ErrorCategory::WriteError,
            "System.IO.IOException",
        ),
    };
    ErrorRecord::new(msg, id, cat)
        .with_exception(ty)
        .with_target(Value::from(path.display().to_string()))
}
