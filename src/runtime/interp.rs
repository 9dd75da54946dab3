//! The interpreter's state: scopes, the host, the command registry, the
//! error list, limits. Evaluation lives in `eval.rs` and `pipeline.rs`.

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::error::{ErrorCategory, ErrorRecord, Flow, Res};
use super::scope::{GLOBAL, Scopes, Variable};
use super::types::PsType;
use super::value::{Hashtable, PsArray, Value};
use crate::commands::Registry;
use crate::commands::binder::ActionPreference;
use crate::format::OutDefault;
use crate::host::{Host, Stream};
use crate::syntax::ast::{VarRef, VarScope};

/// Receives a pipeline's output objects.
pub trait Sink {
    fn emit(&mut self, it: &mut Interp, v: Value) -> Res<()>;
    /// Whether this sink only counts what it is given, so that a command
    /// may tell it how many objects it has instead of making them.
    fn counts_only(&self) -> bool {
        false
    }
    /// `n` objects, counted and not made (only when [`Sink::counts_only`]).
    fn add_count(&mut self, it: &mut Interp, n: u64) -> Res<()> {
        let _ = (it, n);
        Ok(())
    }
}

/// Collects output: assignments, `$( )`, `@( )`.
#[derive(Default)]
pub struct Collect(pub Vec<Value>);

impl Sink for Collect {
    fn emit(&mut self, it: &mut Interp, v: Value) -> Res<()> {
        if self.0.len() >= it.limits.max_collect {
            return Err(it.size_limit(limit_error(
                "The output of this command is larger than this session allows.",
            )));
        }
        self.0.push(v);
        Ok(())
    }
}

impl Collect {
    /// 0 items is `$null`, 1 is the item, more is an array.
    pub fn into_value(mut self) -> Value {
        match self.0.len() {
            0 => Value::Null,
            1 => self.0.pop().unwrap_or_default(),
            _ => Value::array(self.0),
        }
    }
}

/// Drops output: `$null = ...`, `| Out-Null`.
pub struct Discard;

impl Sink for Discard {
    fn emit(&mut self, _: &mut Interp, _: Value) -> Res<()> {
        Ok(())
    }
}

/// The end of a top-level pipeline: objects are formatted to the host.
pub struct ToHost;

impl Sink for ToHost {
    fn emit(&mut self, it: &mut Interp, v: Value) -> Res<()> {
        it.check_stop()?;
        let v = it.display_snapshot(v);
        it.out_default.push(v, &mut *it.host);
        Ok(())
    }
}

pub fn limit_error(msg: &str) -> ErrorRecord {
    ErrorRecord::new(msg, "LimitsExceeded", ErrorCategory::LimitsExceeded)
}

/// Per-session bounds: remote sessions tighten them.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_call_depth: usize,
    /// Most objects one collection may gather.
    pub max_collect: usize,
    /// Wall-clock deadline of the current top-level command.
    pub deadline: Option<Instant>,
    /// The thread CPU time ([`super::budget::thread_cpu_time`]) past which
    /// the current command counts as long-running and gives up its claim to
    /// the CPU ([`super::budget::yield_cpu`]). CPU time, not wall time: a
    /// short command slowed by a crowd must not be demoted into the crowd.
    pub yield_cpu_after: Option<Duration>,
    /// Whether scripts may read and write files on this machine.
    pub file_system: bool,
    /// The directory file access is confined to, when set.
    pub root: Option<PathBuf>,
    /// Whether a size limit ends the whole command, like the time limit,
    /// instead of one statement: in a remote session a loop that keeps
    /// growing an array must end with one error, not fail on every turn.
    pub halt_on_size: bool,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_call_depth: 1000,
            max_collect: 50_000_000,
            deadline: None,
            yield_cpu_after: None,
            file_system: true,
            root: None,
            halt_on_size: false,
        }
    }
}

/// Where the error stream of the running command goes.
#[derive(Clone, Debug, PartialEq)]
pub enum ErrTarget {
    Host,
    Null,
    /// `2>&1`: queued, then emitted into the command's output.
    Merge,
    File(PathBuf, bool),
}

pub struct Interp {
    pub scopes: Scopes,
    pub host: Box<dyn Host>,
    pub registry: Rc<Registry>,
    pub out_default: OutDefault,
    pub errors: Rc<PsArray>,
    pub limits: Limits,
    pub cancel: Arc<AtomicBool>,
    pub call_depth: usize,
    /// Inside a `try` body (at any depth): statement-terminating errors
    /// travel to the `catch` instead of being reported in place.
    pub try_depth: usize,
    /// Errors being handled by `catch` blocks, innermost last: a bare
    /// `throw` inside a catch rethrows the last one.
    pub caught: Vec<Rc<ErrorRecord>>,
    /// The function now running: its name and where it was called.
    /// `Write-Error` reports its errors there, as pwsh does.
    pub invocation: Option<(Rc<str>, Option<super::error::Position>)>,
    pub last_ok: bool,
    /// Counts non-terminating errors reported, so a statement can tell
    /// whether it raised any (`$?`).
    pub errors_reported: u64,
    pub last_exit_code: i32,
    pub err_target: ErrTarget,
    pub merged: Vec<Value>,
    pub warn_to_null: bool,
    next_pipeline: u64,
    ticks: u32,
    /// Environment variables of this session (`$env:`), so sessions that
    /// share a process do not share an environment.
    pub env: indexmap::IndexMap<String, String>,
    pub cwd: PathBuf,
    /// Text of commands run in this session, for Get-History.
    pub history: Vec<String>,
    /// Directories remembered by Push-Location.
    pub location_stack: Vec<PathBuf>,
    /// The configuration engine, opened on first use.
    engine: Option<Rc<crate::config::Engine>>,
    /// Where the store is: `--store`, `$env:LYNCSH_STORE`, or the default.
    pub store_path: Option<PathBuf>,
    /// The account changes are logged as.
    pub account: String,
    /// The RBAC roles of a remote session: a Lync cmdlet they do not allow
    /// is not recognized. `None` (local use) allows every command.
    pub roles: Option<Rc<[String]>>,
    /// Nesting of statement blocks: statements at depth 1 are top-level,
    /// and the store commits when each of them ends.
    pub block_depth: usize,
    /// The script whose code is running: error positions refer to it.
    pub cur_source: Rc<crate::syntax::Source>,
    /// The Pester run in progress (`Invoke-Pester`, or a lone `Describe`).
    pub pester: Option<Box<crate::pester::Run>>,
    /// Enums and classes the session's scripts defined.
    pub types: super::classes::TypeTable,
    /// What the running class method's `return` gave.
    pub method_return: Option<Value>,
    /// Top-level command texts already parsed.
    pub parsed: crate::syntax::cache::ParseCache,
}

impl Interp {
    pub fn new(host: Box<dyn Host>) -> Interp {
        let errors = Rc::new(PsArray {
            items: Default::default(),
            growable: true,
            elem: None,
        });
        let mut it = Interp {
            scopes: Scopes::new(),
            host,
            registry: Rc::new(Registry::builtin()),
            out_default: OutDefault::default(),
            errors,
            limits: Limits::default(),
            cancel: Arc::new(AtomicBool::new(false)),
            call_depth: 0,
            try_depth: 0,
            caught: Vec::new(),
            invocation: None,
            last_ok: true,
            errors_reported: 0,
            last_exit_code: 0,
            err_target: ErrTarget::Host,
            merged: Vec::new(),
            warn_to_null: false,
            next_pipeline: 1,
            ticks: 0,
            env: std::env::vars().collect(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
            history: Vec::new(),
            location_stack: Vec::new(),
            engine: None,
            store_path: None,
            account: std::env::var("USER").unwrap_or_else(|_| "local".into()),
            roles: None,
            block_depth: 0,
            cur_source: Rc::new(crate::syntax::Source::new(None, String::new())),
            pester: None,
            types: Default::default(),
            method_return: None,
            parsed: Default::default(),
        };
        it.install_globals();
        it
    }

    /// The variables a new session starts with; `$Error` is [`Interp::errors`].
    pub fn install_globals(&mut self) {
        let globals: [(&str, Value); 14] = [
            ("Error", Value::Array(self.errors.clone())),
            ("ErrorActionPreference", Value::from("Continue")),
            ("WarningPreference", Value::from("Continue")),
            ("VerbosePreference", Value::from("SilentlyContinue")),
            ("DebugPreference", Value::from("SilentlyContinue")),
            ("InformationPreference", Value::from("SilentlyContinue")),
            ("ProgressPreference", Value::from("Continue")),
            ("ConfirmPreference", Value::from("High")),
            ("WhatIfPreference", Value::Bool(false)),
            ("PID", Value::Int(std::process::id() as i32)),
            (
                "HOME",
                Value::from(std::env::var("HOME").unwrap_or_default()),
            ),
            ("PSEdition", Value::from("Core")),
            ("ShellId", Value::from("lyncsh")),
            ("MaximumHistoryCount", Value::Int(4096)),
        ];
        for (k, v) in globals {
            self.set_global(k, v);
        }
        let mut ver = Hashtable::new(false);
        let (major, minor, patch) = crate::syntax::requires::PS_VERSION;
        ver.insert(
            Value::from("PSVersion"),
            Value::from(format!("{major}.{minor}.{patch}")),
        );
        ver.insert(Value::from("PSEdition"), Value::from("Core"));
        ver.insert(
            Value::from("LyncshVersion"),
            Value::from(env!("CARGO_PKG_VERSION")),
        );
        self.set_global("PSVersionTable", Value::hashtable(ver));
    }

    pub fn set_global(&mut self, name: &str, v: Value) {
        let key: Rc<str> = Rc::from(name.to_ascii_lowercase());
        if let Some(g) = self.scopes.get_mut(GLOBAL) {
            g.vars.insert(
                key,
                Variable {
                    name: Rc::from(name),
                    value: v,
                    ty: None,
                    read_only: false,
                },
            );
        }
    }

    pub fn next_pipeline_id(&mut self) -> u64 {
        self.next_pipeline += 1;
        self.next_pipeline
    }

    /// A size limit's error: it ends the statement, or the whole command
    /// where the session says so ([`Limits::halt_on_size`]).
    pub fn size_limit(&self, rec: ErrorRecord) -> Flow {
        if self.limits.halt_on_size {
            Flow::Halt(Rc::new(rec))
        } else {
            Flow::error(rec)
        }
    }

    /// One level deeper into script code (a script block, `iex` text, a
    /// script property): fails past the session's call depth, with pwsh's
    /// error. Each successful call is paired with [`Interp::leave_call`].
    pub fn enter_call(&mut self) -> Result<(), ErrorRecord> {
        if self.call_depth >= self.limits.max_call_depth {
            return Err(super::budget::call_depth_error());
        }
        self.call_depth += 1;
        Ok(())
    }

    pub fn leave_call(&mut self) {
        self.call_depth = self.call_depth.saturating_sub(1);
    }

    /// Called in loops and between pipeline objects: honours Ctrl-C and the
    /// per-command time limit.
    #[inline]
    pub fn check_stop(&mut self) -> Res<()> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(Flow::Stopped);
        }
        self.ticks = self.ticks.wrapping_add(1);
        if self.ticks & 0x3ff != 0 {
            return Ok(());
        }
        self.check_clock()
    }

    /// The time half of `check_stop`, unsampled: for waits (Start-Sleep)
    /// whose rounds are too slow for one clock read per 1,024.
    pub fn check_clock(&mut self) -> Res<()> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(Flow::Stopped);
        }
        if self.limits.deadline.is_none() && self.limits.yield_cpu_after.is_none() {
            return Ok(());
        }
        if let Some(after) = self.limits.yield_cpu_after
            && super::budget::thread_cpu_time() > after
        {
            self.limits.yield_cpu_after = None;
            super::budget::yield_cpu();
        }
        if let Some(d) = self.limits.deadline
            && Instant::now() > d
        {
            return Err(Flow::Halt(Rc::new(
                ErrorRecord::new(
                    "The command ran longer than this session allows and was stopped.",
                    "CommandTimedOut",
                    ErrorCategory::OperationTimeout,
                )
                .with_exception("System.TimeoutException"),
            )));
        }
        Ok(())
    }

    // ------------------------------------------------------------ variables

    pub fn get_var(&self, key: &str) -> Option<&Value> {
        self.scopes.lookup(key).map(|v| &v.value)
    }

    pub fn var_str(&self, key: &str) -> Option<String> {
        self.get_var(key).map(|v| v.to_string())
    }

    /// Reads `$x`, `$env:X`, `$global:x`, automatic variables.
    pub fn read_var(&self, v: &VarRef) -> Value {
        match v.scope {
            VarScope::Env => self
                .env
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&v.name))
                .map(|(_, val)| Value::from(val.as_str()))
                .unwrap_or_default(),
            VarScope::Global => self
                .scopes
                .get(GLOBAL)
                .and_then(|s| s.vars.get(&*v.key))
                .map(|x| x.value.clone())
                .unwrap_or_default(),
            VarScope::Script => {
                let id = self.scopes.script_scope();
                self.scopes
                    .get(id)
                    .and_then(|s| s.vars.get(&*v.key))
                    .map(|x| x.value.clone())
                    .or_else(|| self.get_var(&v.key).cloned())
                    .unwrap_or_default()
            }
            VarScope::Local | VarScope::Private => self
                .scopes
                .get(self.scopes.cur)
                .and_then(|s| s.vars.get(&*v.key))
                .map(|x| x.value.clone())
                .unwrap_or_default(),
            VarScope::Function => self
                .scopes
                .function(&v.key)
                .map(|f| Value::ScriptBlock(f.body.clone()))
                .unwrap_or_default(),
            VarScope::Any | VarScope::Variable => match self.get_var(&v.key) {
                Some(x) => x.clone(),
                None => self.automatic(&v.key),
            },
        }
    }

    fn automatic(&self, key: &str) -> Value {
        match key {
            "?" => Value::Bool(self.last_ok),
            "lastexitcode" => Value::Int(self.last_exit_code),
            "pwd" => crate::commands::location::path_info(&self.cwd),
            _ => Value::Null,
        }
    }

    /// Assigns in the scope the reference names (current by default).
    pub fn write_var(&mut self, v: &VarRef, value: Value) -> Res<()> {
        let scope = match v.scope {
            VarScope::Env => {
                let name = v.name.to_string();
                let existing = self
                    .env
                    .keys()
                    .find(|k| k.eq_ignore_ascii_case(&name))
                    .cloned();
                let key = existing.unwrap_or(name);
                if value.is_null() || value.to_string().is_empty() {
                    self.env.shift_remove(&key);
                } else {
                    self.env.insert(key, value.to_string());
                }
                return Ok(());
            }
            VarScope::Function => {
                return Err(Flow::error(ErrorRecord::new(
                    "Assigning to $function: is not supported; define the function with the function keyword.",
                    "FunctionAssignment",
                    ErrorCategory::InvalidOperation,
                )));
            }
            VarScope::Global => GLOBAL,
            VarScope::Script => self.scopes.script_scope(),
            _ => self.scopes.cur,
        };
        self.set_in(scope, &v.key, &v.name, value)
    }

    pub fn set_in(&mut self, scope: usize, key: &Rc<str>, name: &Rc<str>, value: Value) -> Res<()> {
        if matches!(&**key, "true" | "false" | "null") {
            // `$null = expr` discards; `$true`/`$false` are constants.
            if &**key == "null" {
                return Ok(());
            }
            return Err(Flow::error(ErrorRecord::new(
                format!("Cannot overwrite variable {name} because it is read-only or constant."),
                "VariableNotWritable",
                ErrorCategory::WriteError,
            )));
        }
        let Some(s) = self.scopes.get_mut(scope) else {
            return Ok(());
        };
        match s.vars.get_mut(&**key) {
            Some(var) => {
                if var.read_only {
                    return Err(Flow::error(ErrorRecord::new(
                        format!(
                            "Cannot overwrite variable {name} because it is read-only or constant."
                        ),
                        "VariableNotWritable",
                        ErrorCategory::WriteError,
                    )));
                }
                var.value = match &var.ty {
                    Some(t) => super::convert::convert_to(&value, t).map_err(Flow::error)?,
                    None => value,
                };
            }
            None => {
                s.vars.insert(
                    key.clone(),
                    Variable {
                        name: name.clone(),
                        value,
                        ty: None,
                        read_only: false,
                    },
                );
            }
        }
        Ok(())
    }

    /// `[int]$x = 5`: sets the value and the variable's type constraint.
    pub fn write_typed_var(&mut self, v: &VarRef, ty: PsType, value: Value) -> Res<()> {
        let value = super::convert::convert_to(&value, &ty).map_err(Flow::error)?;
        let scope = match v.scope {
            VarScope::Global => GLOBAL,
            VarScope::Script => self.scopes.script_scope(),
            _ => self.scopes.cur,
        };
        if let Some(s) = self.scopes.get_mut(scope) {
            s.vars.insert(
                v.key.clone(),
                Variable {
                    name: v.name.clone(),
                    value,
                    ty: Some(ty),
                    read_only: false,
                },
            );
        }
        Ok(())
    }

    /// Sets a plain variable in the current scope by name.
    pub fn set_local(&mut self, name: &str, value: Value) {
        let key: Rc<str> = Rc::from(name.to_ascii_lowercase());
        let name: Rc<str> = Rc::from(name);
        let cur = self.scopes.cur;
        let _ = self.set_in(cur, &key, &name, value);
    }

    /// Sets a variable found by name in the scope that already holds it,
    /// or in the current scope: used by -ErrorVariable and Set-Variable.
    pub fn set_named(&mut self, name: &str, value: Value) {
        let key = name.to_ascii_lowercase();
        let scope = self.scopes.lookup_scope(&key).unwrap_or(self.scopes.cur);
        let key: Rc<str> = Rc::from(key);
        let name: Rc<str> = Rc::from(name);
        let _ = self.set_in(scope, &key, &name, value);
    }

    fn preference(&self, key: &str, default: ActionPreference) -> ActionPreference {
        self.get_var(key)
            .and_then(ActionPreference::parse)
            .unwrap_or(default)
    }

    pub fn error_preference(&self) -> ActionPreference {
        self.preference("erroractionpreference", ActionPreference::Continue)
    }

    // ------------------------------------------------------------ streams

    /// Writes text of a non-output stream, after any table still waiting
    /// for more rows, so the screen shows things in the order they happened.
    pub fn write_stream(&mut self, stream: Stream, text: &str) {
        self.out_default.flush(&mut *self.host);
        self.host.write(stream, text);
    }

    /// Adds an error to `$Error` (newest first), capped like
    /// `$MaximumErrorCount`.
    pub fn record_error(&mut self, rec: &Rc<super::error::ErrorRecord>) {
        let mut items = self.errors.items.borrow_mut();
        items.insert(0, Value::Error(rec.clone()));
        items.truncate(256);
    }

    /// Reports a non-terminating error according to the action in force.
    pub fn report_error(
        &mut self,
        rec: ErrorRecord,
        action: Option<ActionPreference>,
        error_var: Option<&(String, bool)>,
    ) -> Res<()> {
        let rec = Rc::new(rec);
        self.last_ok = false;
        self.errors_reported += 1;
        let action = action.unwrap_or_else(|| self.error_preference());
        if action == ActionPreference::Ignore {
            return Ok(());
        }
        if let Some((name, _)) = error_var {
            let mut list = match self.get_var(&name.to_ascii_lowercase()) {
                Some(Value::Array(a)) if a.growable => a.to_vec(),
                _ => Vec::new(),
            };
            list.push(Value::Error(rec.clone()));
            self.set_named(name, Value::list(list));
        }
        match action {
            ActionPreference::Stop => {
                let mut r = (*rec).clone();
                r.script_terminating = true;
                Err(Flow::error(r))
            }
            ActionPreference::SilentlyContinue => {
                self.record_error(&rec);
                Ok(())
            }
            _ => {
                self.record_error(&rec);
                self.display_error(&rec);
                Ok(())
            }
        }
    }

    /// Whether the session's roles let it run the cmdlet `name`. Command
    /// lookup, Get-Command and completion all ask here, so a remote
    /// session never sees a cmdlet it could not run.
    pub fn may_run(&self, name: &str) -> bool {
        let Some(roles) = self.roles.as_deref() else {
            return true;
        };
        // The rules read the name as the registry spells it.
        let info = self.registry.get(name);
        let name = info.as_ref().map_or(name, |i| i.name);
        crate::config::roles::allowed(roles, name)
    }

    /// Shows an error where the error stream currently goes.
    pub fn display_error(&mut self, rec: &Rc<ErrorRecord>) {
        match self.err_target.clone() {
            ErrTarget::Host => {
                self.out_default.flush(&mut *self.host);
                self.host.write_error(rec);
            }
            ErrTarget::Null => {}
            ErrTarget::Merge => self.merged.push(Value::Error(rec.clone())),
            ErrTarget::File(path, _) => {
                use std::io::Write;
                if let Ok(mut f) = std::fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(path)
                {
                    let _ = writeln!(f, "{}", rec.render_concise());
                }
            }
        }
    }

    pub fn warn(&mut self, msg: &str, action: Option<ActionPreference>) -> Res<()> {
        let action = action
            .unwrap_or_else(|| self.preference("warningpreference", ActionPreference::Continue));
        match action {
            ActionPreference::SilentlyContinue | ActionPreference::Ignore => Ok(()),
            ActionPreference::Stop => Err(Flow::error(ErrorRecord::new(
                format!(
                    "The running command stopped because the preference variable \"WarningPreference\" or common parameter is set to Stop: {msg}"
                ),
                "ActionPreferenceStop",
                ErrorCategory::OperationStopped,
            ))),
            _ => {
                if !self.warn_to_null {
                    self.write_stream(Stream::Warning, &format!("WARNING: {msg}\n"));
                }
                Ok(())
            }
        }
    }

    pub fn verbose(&mut self, msg: &str, forced: Option<bool>) {
        let on = forced.unwrap_or_else(|| {
            self.preference("verbosepreference", ActionPreference::SilentlyContinue)
                == ActionPreference::Continue
        });
        if on {
            self.write_stream(Stream::Verbose, &format!("VERBOSE: {msg}\n"));
        }
    }

    pub fn debug(&mut self, msg: &str, forced: Option<bool>) {
        let on = forced.unwrap_or_else(|| {
            self.preference("debugpreference", ActionPreference::SilentlyContinue)
                == ActionPreference::Continue
        });
        if on {
            self.write_stream(Stream::Debug, &format!("DEBUG: {msg}\n"));
        }
    }

    /// The configuration engine, opening the store on first use.
    pub fn engine(&mut self) -> Result<Rc<crate::config::Engine>, ErrorRecord> {
        if let Some(e) = &self.engine {
            return Ok(e.clone());
        }
        let path = self
            .store_path
            .clone()
            .unwrap_or_else(crate::config::store::default_path);
        let engine = crate::config::Engine::open(&path, &self.account).map_err(|e| {
            ErrorRecord::new(
                e.to_string(),
                "StoreUnavailable",
                ErrorCategory::ResourceUnavailable,
            )
            .with_exception("System.IO.IOException")
        })?;
        let engine = Rc::new(engine);
        self.engine = Some(engine.clone());
        Ok(engine)
    }

    /// A cmdlet that writes the store is about to run: the statement takes
    /// the store's write lock now (see `config::store`). A failure is the
    /// cmdlet's to report when it touches the store.
    pub fn expect_store_write(&mut self) {
        if let Ok(e) = self.engine() {
            let _ = e.expect_write();
        }
    }

    /// A remote session takes in role changes before each top-level
    /// statement: a demoted account's next statement no longer finds what
    /// it lost. Cheap: one indexed read in the snapshot the statement goes
    /// on to read from, and the roles themselves only when membership has
    /// changed.
    pub fn check_roles(&mut self) {
        let (Some(_), Some(e)) = (&self.roles, self.engine.clone()) else {
            return;
        };
        let held = match e.roles_changed() {
            Ok(false) => return,
            Ok(true) => crate::config::roles::roles_for_statement(&e, &self.account),
            Err(err) => Err(err),
        };
        // A store that cannot be read grants nothing; the statement
        // starts on a snapshot of its own.
        if held.is_err() {
            e.rollback();
        }
        self.roles = Some(Rc::from(held.unwrap_or_default()));
    }

    /// The same between statements (completion, command metadata): that
    /// read is no statement's, so its snapshot goes at once.
    pub fn refresh_roles(&mut self) {
        self.check_roles();
        if let (Some(_), Some(e)) = (&self.roles, &self.engine) {
            e.rollback();
        }
    }

    /// Points the session at another store and engine (none: opened on
    /// first use), returning the ones it had. Invoke-Pester runs its tests
    /// on a scratch copy this way and puts the real store back after.
    pub fn swap_store(
        &mut self,
        path: Option<PathBuf>,
        engine: Option<Rc<crate::config::Engine>>,
    ) -> (Option<PathBuf>, Option<Rc<crate::config::Engine>>) {
        let old_path = std::mem::replace(&mut self.store_path, path);
        let old_engine = std::mem::replace(&mut self.engine, engine);
        (old_path, old_engine)
    }

    /// A top-level statement ended: its configuration changes are committed.
    pub fn end_statement(&mut self) -> Res<()> {
        if let Some(e) = &self.engine
            && let Err(err) = e.end_statement()
        {
            return Err(Flow::error(
                ErrorRecord::new(
                    err.to_string(),
                    "StoreCommitFailed",
                    ErrorCategory::WriteError,
                )
                .with_exception("System.IO.IOException"),
            ));
        }
        Ok(())
    }

    /// A top-level statement was stopped part-way: its configuration
    /// changes are undone.
    pub fn abandon_statement(&mut self) -> Res<()> {
        if let Some(e) = &self.engine {
            e.rollback();
        }
        Ok(())
    }

    /// Flushes formatted output still held for column sizing.
    pub fn flush_output(&mut self) {
        self.out_default.flush(&mut *self.host);
    }

    /// Puts a question to the host's user (Read-Host, a confirmation),
    /// after the output so far. The time a person takes to answer is not
    /// the command's: the deadline moves by the wait.
    pub fn ask<T>(&mut self, question: impl FnOnce(&mut dyn Host) -> T) -> T {
        self.flush_output();
        let asked = Instant::now();
        let answer = question(&mut *self.host);
        if let Some(deadline) = self.limits.deadline.as_mut() {
            *deadline += asked.elapsed();
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::CaptureHost;

    #[test]
    fn roles_read_command_names_as_registered() {
        let mut it = Interp::new(Box::new(CaptureHost::default()));
        it.roles = Some(Rc::from(vec!["CsViewOnlyAdministrator".to_string()]));
        assert!(it.may_run("convertfrom-csv"));
        assert!(it.may_run("Import-Csv"));
        assert!(it.may_run("get-csuser"));
        assert!(!it.may_run("set-csuser"));
        assert!(!it.may_run("Set-CsUser"));
    }
}
