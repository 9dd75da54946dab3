//! Built-in Pester: `Invoke-Pester` runs `*.Tests.ps1` files the way
//! Pester 4 does — code in a `Describe` runs where it stands, `It` blocks
//! run at once — and `Should` checks values with Pester's own messages.
//! `blocks` holds the test-structure commands, `should` the assertions,
//! `nicely` how values read in messages, `results` the console report and
//! the `-PassThru` object, `invoke` the run itself.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::commands::{CommandInfo, Cx};
use crate::runtime::Interp;
use crate::runtime::error::{ErrorCategory, Res};
use crate::runtime::value::Value;
use crate::syntax::ast::ScriptBlockAst;

mod blocks;
mod invoke;
pub(crate) mod mock;
mod module_scope;
mod nicely;
mod nunit;
mod parameter;
mod results;
mod scratch;
mod should;
mod show;

pub use show::Show;

pub fn infos() -> Vec<CommandInfo> {
    [
        blocks::infos(),
        should::infos(),
        invoke::infos(),
        mock::infos(),
        module_scope::infos(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// How one test ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    Skipped,
    Pending,
    Inconclusive,
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Outcome::Passed => "Passed",
            Outcome::Failed => "Failed",
            Outcome::Skipped => "Skipped",
            Outcome::Pending => "Pending",
            Outcome::Inconclusive => "Inconclusive",
        }
    }
}

pub struct TestResult {
    /// The test file, as shown in the report.
    pub file: String,
    pub name: String,
    pub describe: String,
    pub context: String,
    pub outcome: Outcome,
    pub message: String,
    pub stack: String,
    pub time: Duration,
}

/// A `Describe` or `Context` being run, with the setup it declared.
pub struct Group {
    /// Unique within the run: mock calls remember the groups they were in.
    pub id: usize,
    pub name: String,
    pub context: bool,
    /// Its own `-Tag`s; a test inherits those of its groups.
    pub tags: Vec<String>,
    pub before_each: Vec<Rc<ScriptBlockAst>>,
    pub after_each: Vec<Rc<ScriptBlockAst>>,
    /// Where the hoisted setup commands stand, so that running them in
    /// place does nothing a second time.
    pub hoisted: Vec<u32>,
}

/// The state of one `Invoke-Pester` (or of a lone `Describe`).
pub struct Run {
    pub groups: Vec<Group>,
    pub results: Vec<TestResult>,
    /// `$env:LYNCSH_PESTER_TIME_MS` makes every duration read as this many
    /// milliseconds, so that tests of the report do not depend on timing.
    pub fixed_ms: Option<u64>,
    /// File paths under this folder are shown relative to it.
    pub base: PathBuf,
    pub tags: Vec<String>,
    pub exclude_tags: Vec<String>,
    pub started: Instant,
    /// Calls of mocked commands, for `Should -Invoke`.
    pub calls: Vec<Call>,
    /// The number of the test running, if one is.
    pub current_test: Option<usize>,
    /// Numbers handed out to groups and tests.
    pub serial: usize,
    /// What the report prints (`-Show`, `-Output`).
    pub show: Show,
    /// The test file running, as shown in the report.
    pub file: String,
    /// Mocks made with `-Verifiable`, for `Assert-VerifiableMock`.
    pub verifiable: Vec<Verifiable>,
}

/// A `Mock -Verifiable`: it must be called (through its filter, if it has
/// one) while it is in force.
pub struct Verifiable {
    pub command: String,
    pub filter: Option<Rc<ScriptBlockAst>>,
    /// The groups and test it was made in: it lasts as long as they do.
    pub groups: Vec<usize>,
    pub test: Option<usize>,
    /// Calls before this one were made before the mock existed.
    pub first_call: usize,
}

/// One call of a mocked command.
pub struct Call {
    pub command: String,
    pub bound: Value,
    pub test: Option<usize>,
    pub groups: Vec<usize>,
}

impl Run {
    pub fn new(it: &Interp) -> Run {
        let fixed_ms = it
            .env
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("LYNCSH_PESTER_TIME_MS"))
            .and_then(|(_, v)| v.trim().parse().ok());
        Run {
            groups: Vec::new(),
            results: Vec::new(),
            fixed_ms,
            base: it.cwd.clone(),
            tags: Vec::new(),
            exclude_tags: Vec::new(),
            started: Instant::now(),
            calls: Vec::new(),
            current_test: None,
            serial: 0,
            show: Show::ALL,
            file: String::new(),
            verifiable: Vec::new(),
        }
    }

    /// A measured duration, or the fixed one.
    pub fn duration(&self, measured: Duration) -> Duration {
        match self.fixed_ms {
            Some(ms) => Duration::from_millis(ms),
            None => measured,
        }
    }

    pub fn show_path(&self, p: &Path) -> String {
        p.strip_prefix(&self.base)
            .unwrap_or(p)
            .display()
            .to_string()
    }

    fn names(&self) -> (String, String) {
        let describe = self
            .groups
            .iter()
            .find(|g| !g.context)
            .map(|g| g.name.clone())
            .unwrap_or_default();
        let context = self
            .groups
            .iter()
            .rev()
            .find(|g| g.context)
            .map(|g| g.name.clone())
            .unwrap_or_default();
        (describe, context)
    }
}

/// `$TestRegistry` is refused: lyncsh has no Windows registry to test on.
pub fn no_test_registry() -> crate::runtime::error::ErrorRecord {
    crate::runtime::error::ErrorRecord::new(
        "$TestRegistry is not supported by lyncsh: it has no Windows registry to test against. Use $TestDrive for temporary files.",
        "PesterTestRegistryNotSupported",
        ErrorCategory::InvalidOperation,
    )
}

/// Runs `f` in a new scope under the current one, as `& { }` would.
pub(crate) fn in_child_scope<T>(it: &mut Interp, f: impl FnOnce(&mut Interp) -> T) -> T {
    let parent = it.scopes.cur;
    let id = it.scopes.alloc(parent, false);
    it.scopes.cur = id;
    let r = f(it);
    it.scopes.cur = parent;
    it.scopes.release(id);
    r
}

/// Refuses a command met outside any `Describe` with `message`.
pub(crate) fn need_group(cx: &Cx, message: &str, error_id: &str) -> Res<()> {
    if cx.it.pester.as_ref().is_none_or(|r| r.groups.is_empty()) {
        return Err(cx.fail_msg(message, error_id, ErrorCategory::InvalidOperation));
    }
    Ok(())
}

/// The keys of a hashtable (a test case, a mocked call's parameters)
/// become variables of the current scope.
pub(crate) fn set_vars(it: &mut Interp, table: Option<&Value>) {
    if let Some(Value::Hashtable(h)) = table {
        let pairs: Vec<(String, Value)> = h
            .borrow()
            .entries()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        for (k, v) in pairs {
            it.set_local(&k, v);
        }
    }
}

/// Runs `f` as if inside a `try`, the way Pester wraps every test: an
/// error that would end only its statement ends the test instead.
pub(crate) fn guarded<T>(it: &mut Interp, f: impl FnOnce(&mut Interp) -> T) -> T {
    it.try_depth += 1;
    let r = f(it);
    it.try_depth -= 1;
    r
}
