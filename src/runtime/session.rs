//! Running whole scripts: what every front door (script runner, REPL, SSH
//! session) calls. Parses, runs with output formatted to the host, reports
//! what escapes, and says how the run ended.

use std::rc::Rc;

use super::error::{ErrorRecord, Flow};
use super::interp::{Interp, Sink, ToHost};
use super::value::Value;
use crate::commands::binder::RawArg;
use crate::syntax::Source;
use crate::syntax::ast::Span;

/// How a top-level run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Ran to the end; `ok` is `$?` of the last statement.
    Completed { ok: bool },
    /// A terminating error escaped (already reported on the error stream).
    Failed,
    /// `exit N`.
    Exit(i32),
    /// Ctrl-C or a cancel request.
    Stopped,
}

impl Outcome {
    /// The process exit status for `-Command` (`$?` counts) or `-File`.
    pub fn exit_code(self, command_mode: bool) -> i32 {
        match self {
            Outcome::Completed { ok } => i32::from(command_mode && !ok),
            Outcome::Failed => 1,
            Outcome::Exit(n) => n,
            Outcome::Stopped => 130,
        }
    }
}

/// Script arguments as a shell passes them: `-Name value` binds by name.
pub fn cli_args(args: &[String]) -> Vec<RawArg> {
    args.iter()
        .map(|a| {
            let named = a.len() > 1
                && a.starts_with('-')
                && a[1..].starts_with(|c: char| c.is_ascii_alphabetic());
            if named {
                let (name, value) = match a[1..].split_once(':') {
                    Some((n, v)) => (n.to_string(), Some(super::eval::bare_value(v))),
                    None => (a[1..].to_string(), None),
                };
                RawArg {
                    name: Some(Rc::from(name)),
                    colon: value.is_some(),
                    value,
                    span: Span::default(),
                }
            } else {
                RawArg {
                    name: None,
                    value: Some(super::eval::bare_value(a)),
                    span: Span::default(),
                    colon: false,
                }
            }
        })
        .collect()
}

impl Interp {
    /// Runs script text. `file` scripts get their own script scope and
    /// `$PSScriptRoot`; commands run in the global scope, as pwsh does.
    pub fn run_text(&mut self, source: Rc<Source>, args: Vec<RawArg>) -> Outcome {
        self.run_text_to(source, args, &mut ToHost)
    }

    /// Runs script text with its output objects going to `out` instead of
    /// being formatted to the host (the `lyncsh` remote protocol).
    pub fn run_text_to(
        &mut self,
        source: Rc<Source>,
        args: Vec<RawArg>,
        out: &mut dyn Sink,
    ) -> Outcome {
        let (source, ast) = match self.parsed.parse(source) {
            Ok(parsed) => parsed,
            Err(e) => {
                let rec = Rc::new(ErrorRecord::from_parse(&e));
                self.record_error(&rec);
                self.display_error(&rec);
                return Outcome::Failed;
            }
        };
        let is_file = source.path.is_some();
        if let Some(p) = &source.path {
            let dir = p
                .parent()
                .map(|d| d.display().to_string())
                .unwrap_or_default();
            self.set_global("PSScriptRoot", Value::from(dir));
            self.set_global("PSCommandPath", Value::from(p.display().to_string()));
        }
        let prev = std::mem::replace(&mut self.cur_source, source);
        let result = if is_file || ast.params.is_some() || !args.is_empty() {
            self.run_script_block(&ast, args, is_file, out)
        } else {
            // A plain command runs in the global scope: its variables and
            // functions stay for the next command (REPL, SSH shell).
            let mut r = Ok(());
            for block in [&ast.begin, &ast.process, &ast.end].into_iter().flatten() {
                r = self.exec_block(block, out);
                if r.is_err() {
                    break;
                }
            }
            r
        };
        self.cur_source = prev;
        self.flush_output();
        self.finish(result)
    }

    fn run_script_block(
        &mut self,
        ast: &Rc<crate::syntax::ast::ScriptBlockAst>,
        args: Vec<RawArg>,
        is_file: bool,
        out: &mut dyn Sink,
    ) -> Result<(), Flow> {
        self.call_block_raw(ast, args, is_file, out)
    }

    /// Turns what escaped a top-level run into an outcome.
    pub fn finish(&mut self, result: Result<(), Flow>) -> Outcome {
        match result {
            Ok(()) => Outcome::Completed { ok: self.last_ok },
            Err(Flow::Error(rec)) => {
                self.record_error(&rec);
                self.display_error(&rec);
                self.last_ok = false;
                Outcome::Failed
            }
            Err(Flow::Exit(n)) => {
                self.last_exit_code = n;
                Outcome::Exit(n)
            }
            Err(Flow::Stopped) => Outcome::Stopped,
            Err(Flow::Halt(rec)) => {
                self.record_error(&rec);
                self.display_error(&rec);
                self.last_ok = false;
                Outcome::Failed
            }
            // `break`/`continue` outside a loop and `return` end the script.
            Err(_) => Outcome::Completed { ok: self.last_ok },
        }
    }
}
