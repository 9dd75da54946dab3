//! What a running command sees: the interpreter, its output sink, and its
//! own runtime settings (name, position, common parameters).

use std::cell::RefCell;
use std::rc::Rc;

use super::binder::Common;
use crate::host::{Choice, Stream};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Flow, Position, Res};
use crate::runtime::interp::{Interp, Sink};
use crate::runtime::value::Value;

/// Per-invocation settings of one command in a pipeline.
pub struct Runtime {
    pub name: Rc<str>,
    pub position: Option<Position>,
    pub common: Common,
    pub pipeline: u64,
    pub stage: usize,
    /// Objects written, kept for `-OutVariable`.
    pub out_var: RefCell<Vec<Value>>,
    /// "Yes to all"/"No to all" answered during this invocation.
    pub confirm_all: RefCell<Option<bool>>,
}

impl Runtime {
    pub fn new(name: &str) -> Runtime {
        Runtime {
            name: Rc::from(name),
            position: None,
            common: Common::default(),
            pipeline: 0,
            stage: 0,
            out_var: RefCell::new(Vec::new()),
            confirm_all: RefCell::new(None),
        }
    }
}

pub struct Cx<'a> {
    pub it: &'a mut Interp,
    pub out: &'a mut dyn Sink,
    pub rt: &'a Runtime,
}

impl Cx<'_> {
    pub fn emit(&mut self, v: Value) -> Res<()> {
        if self.rt.common.out_variable.is_some() {
            self.rt.out_var.borrow_mut().push(v.clone());
        }
        self.out.emit(self.it, v)
    }

    /// Writes each element of a collection (`Write-Output`'s enumeration).
    pub fn emit_enumerated(&mut self, v: Value) -> Res<()> {
        match v {
            Value::Array(a) => {
                for item in a.to_vec() {
                    self.emit(item)?;
                }
                Ok(())
            }
            other => self.emit(other),
        }
    }

    fn stamp(&self, mut rec: ErrorRecord) -> ErrorRecord {
        if rec.command.is_none() {
            rec.command = Some(self.rt.name.clone());
        }
        if rec.position.is_none() {
            rec.position = self.rt.position.clone();
        }
        rec
    }

    /// A non-terminating error: reported, and the command goes on (unless
    /// `-ErrorAction Stop` makes it terminating).
    pub fn error(&mut self, rec: ErrorRecord) -> Res<()> {
        let rec = self.stamp(rec);
        self.it.report_error(
            rec,
            self.rt.common.error_action,
            self.rt.common.error_variable.as_ref(),
        )
    }

    /// A terminating error of this command.
    pub fn fail(&self, rec: ErrorRecord) -> Flow {
        Flow::error(self.stamp(rec))
    }

    /// The result of a cmdlet's body: an error raised with `?` by a helper
    /// that had no `Cx` to name it gets this command's name and position.
    pub fn stamped(&self, r: Res<()>) -> Res<()> {
        match r {
            Err(Flow::Error(e)) if e.command.is_none() => Err(self.fail((*e).clone())),
            other => other,
        }
    }

    /// The command as typed, for the change log; the bare name when there
    /// is no source text.
    pub fn command_text(&self) -> String {
        match &self.rt.position {
            Some(p) => p.source.slice(p.span).to_string(),
            None => self.rt.name.to_string(),
        }
    }

    pub fn fail_msg(&self, msg: impl Into<String>, id: &str, cat: ErrorCategory) -> Flow {
        self.fail(ErrorRecord::new(msg, id, cat))
    }

    pub fn warn(&mut self, msg: &str) -> Res<()> {
        self.it.warn(msg, self.rt.common.warning_action)
    }

    pub fn verbose(&mut self, msg: &str) {
        self.it.verbose(msg, self.rt.common.verbose);
    }

    pub fn host_write(&mut self, stream: Stream, text: &str) {
        self.it.write_stream(stream, text);
    }

    /// ShouldProcess: `-WhatIf` describes and skips; `-Confirm` asks.
    /// Whether [`Cx::should_process`] would do more than say yes: report
    /// (-WhatIf) or ask (-Confirm).
    pub fn may_decline(&self) -> bool {
        self.what_if() || self.rt.common.confirm == Some(true)
    }

    fn what_if(&self) -> bool {
        self.rt.common.what_if.unwrap_or_else(|| {
            self.it
                .get_var("whatifpreference")
                .is_some_and(Value::is_true)
        })
    }

    pub fn should_process(&mut self, target: &str, action: &str) -> Res<bool> {
        if self.what_if() {
            self.it.write_stream(
                Stream::Information,
                &format!(
                    "What if: Performing the operation \"{action}\" on target \"{target}\".\n"
                ),
            );
            return Ok(false);
        }
        if self.rt.common.confirm == Some(true) {
            return self.confirm(target, action);
        }
        Ok(true)
    }

    /// Asks for confirmation regardless of `-Confirm` (used where the
    /// operation itself calls for it, like removing a policy still in use).
    pub fn confirm(&mut self, target: &str, action: &str) -> Res<bool> {
        if let Some(all) = *self.rt.confirm_all.borrow() {
            return Ok(all);
        }
        let message = format!(
            "Are you sure you want to perform this action?\nPerforming the operation \"{action}\" on target \"{target}\"."
        );
        match self.it.ask(|h| h.confirm("Confirm", &message)) {
            Some(Choice::Yes) => Ok(true),
            Some(Choice::No) => Ok(false),
            Some(Choice::YesToAll) => {
                *self.rt.confirm_all.borrow_mut() = Some(true);
                Ok(true)
            }
            Some(Choice::NoToAll) => {
                *self.rt.confirm_all.borrow_mut() = Some(false);
                Ok(false)
            }
            None => Err(self.fail(ErrorRecord::new(
                format!(
                    "{message}\nConfirmation is needed, but this session cannot ask for it. Run the command again with -Confirm:$false or -Force."
                ),
                "HostPromptNotAvailable",
                ErrorCategory::InvalidOperation,
            ))),
        }
    }
}
