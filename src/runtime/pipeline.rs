//! Pipelines that stream: every command is prepared (arguments evaluated
//! and bound), `begin` runs left to right, each object the first element
//! produces is pushed through the downstream commands' `process` at once,
//! then `end` runs left to right.

use std::path::PathBuf;
use std::rc::Rc;

use super::error::{ErrorCategory, ErrorRecord, Flow, Position, Res};
use super::interp::{Discard, ErrTarget, Interp, Sink};
use super::types::PsType;
use super::value::{Hashtable, Value};
use crate::commands::binder::{Args, Binder, RawArg, input_binding_error};
use crate::commands::context::Runtime;
use crate::commands::{CommandInfo, Cx, ParamSpec, ParamType, Processor, Signature};
use crate::syntax::ast::*;
use crate::syntax::{Source, parse_script};

/// What a command name resolved to.
enum Target {
    Cmdlet(Rc<CommandInfo>),
    Script {
        sb: Rc<ScriptBlockAst>,
        /// Dot-sourced: runs in the caller's scope.
        dot: bool,
        /// A `.ps1` file gets a script scope.
        file: bool,
    },
}

/// A script block or function running as a pipeline command.
struct ScriptRun {
    sb: Rc<ScriptBlockAst>,
    sig: Rc<Signature>,
    dot: bool,
    file: bool,
    parent: usize,
    scope: Option<usize>,
    input: Vec<Value>,
    entered: bool,
    /// Whether begin, process or end has run: only then does `clean` run.
    ran: bool,
    /// A named function (not a script block or a script file).
    func: bool,
    /// What `$MyInvocation.MyCommand` reports.
    name: Rc<str>,
}

enum Proc {
    Cmdlet(Box<dyn Processor>, Rc<CommandInfo>),
    Script(Box<ScriptRun>),
}

struct Stage {
    proc: Proc,
    args: Args,
    rt: Runtime,
    err: Option<ErrTarget>,
    out_file: Option<(PathBuf, bool)>,
    /// Formatted output for `> file`, written when the command ends.
    file_buf: Vec<Value>,
    discard_out: bool,
    warn_null: bool,
    takes_pipeline: bool,
}

/// The downstream part of a pipeline, seen as one sink.
struct Chain<'a> {
    stages: &'a mut [Stage],
    out: &'a mut dyn Sink,
}

impl Sink for Chain<'_> {
    fn emit(&mut self, it: &mut Interp, v: Value) -> Res<()> {
        it.check_stop()?;
        match self.stages.split_first_mut() {
            None => self.out.emit(it, v),
            Some((first, rest)) => {
                let mut next = Chain {
                    stages: rest,
                    out: &mut *self.out,
                };
                first.process_item(it, v, &mut next)
            }
        }
    }

    fn counts_only(&self) -> bool {
        self.stages.first().is_some_and(Stage::counts_only)
    }

    fn add_count(&mut self, it: &mut Interp, n: u64) -> Res<()> {
        it.check_stop()?;
        if let Some(Stage {
            proc: Proc::Cmdlet(p, _),
            ..
        }) = self.stages.first_mut()
        {
            p.add_count(n);
        }
        Ok(())
    }
}

/// Output of a stage with `> file`: kept until the stage ends.
struct FileSink<'a> {
    buf: &'a mut Vec<Value>,
}

impl Sink for FileSink<'_> {
    fn emit(&mut self, _: &mut Interp, v: Value) -> Res<()> {
        self.buf.push(v);
        Ok(())
    }
}

/// `2>&1`: errors queued by the stage are emitted before its next object.
struct MergeSink<'a> {
    inner: &'a mut dyn Sink,
}

impl Sink for MergeSink<'_> {
    fn emit(&mut self, it: &mut Interp, v: Value) -> Res<()> {
        for e in std::mem::take(&mut it.merged) {
            self.inner.emit(it, e)?;
        }
        self.inner.emit(it, v)
    }
}

#[derive(Clone, Copy)]
enum Phase {
    Begin,
    Process,
    End,
}

impl Stage {
    /// Runs one phase with the stage's stream redirections in force.
    fn run(
        &mut self,
        it: &mut Interp,
        phase: Phase,
        input: Option<Value>,
        out: &mut dyn Sink,
    ) -> Res<()> {
        let saved_err = self
            .err
            .clone()
            .map(|t| std::mem::replace(&mut it.err_target, t));
        let saved_warn = it.warn_to_null;
        it.warn_to_null |= self.warn_null;
        let mut discard = Discard;
        let mut file = FileSink {
            buf: &mut self.file_buf,
        };
        let target: &mut dyn Sink = if self.discard_out {
            &mut discard
        } else if self.out_file.is_some() {
            &mut file
        } else {
            out
        };
        let merge = self.err == Some(ErrTarget::Merge);
        let mut merged = MergeSink { inner: target };
        let target: &mut dyn Sink = if merge { &mut merged } else { merged.inner };
        let saved_inv = match &self.proc {
            Proc::Script(s) if s.func => Some(
                it.invocation
                    .replace((self.rt.name.clone(), self.rt.position.clone())),
            ),
            _ => None,
        };
        let r = run_phase(
            &mut self.proc,
            &self.args,
            &self.rt,
            it,
            phase,
            input,
            target,
        );
        let r = if merge {
            let mut r = r;
            for e in std::mem::take(&mut it.merged) {
                if r.is_ok() {
                    r = target.emit(it, e);
                }
            }
            r
        } else {
            r
        };
        if let Some(prev) = saved_inv {
            it.invocation = prev;
        }
        if let Some(prev) = saved_err {
            it.err_target = prev;
        }
        it.warn_to_null = saved_warn;
        r
    }

    /// A cmdlet that only counts its input, with nothing redirected.
    fn counts_only(&self) -> bool {
        matches!(&self.proc, Proc::Cmdlet(p, _) if p.counts_only(&self.args))
            && self.err.is_none()
            && self.out_file.is_none()
            && !self.discard_out
            && !self.warn_null
    }

    fn process_item(&mut self, it: &mut Interp, v: Value, out: &mut dyn Sink) -> Res<()> {
        self.run(it, Phase::Process, Some(v), out)
    }

    /// Frees what the stage holds even when the pipeline failed.
    fn cleanup(&mut self, it: &mut Interp) {
        if let Proc::Script(s) = &mut self.proc {
            s.leave_for_good(it);
        }
    }

    fn finish_outputs(&mut self, it: &mut Interp) -> Res<()> {
        if let Some((path, append)) = &self.out_file {
            let text =
                crate::format::render_all(&std::mem::take(&mut self.file_buf), it.host.width());
            crate::commands::write_text_file(it, path, &text, *append)
                .map_err(|e| Flow::error(e.at_position(self.rt.position.clone())))?;
        }
        if let Some((name, append)) = &self.rt.common.out_variable {
            let items = self.rt.out_var.borrow().clone();
            let value = if *append {
                let mut prev = it
                    .get_var(&name.to_ascii_lowercase())
                    .map(|v| v.enumerate())
                    .unwrap_or_default();
                prev.extend(items);
                Value::list(prev)
            } else {
                Value::list(items)
            };
            it.set_named(name, value);
        }
        Ok(())
    }
}

fn run_phase(
    proc: &mut Proc,
    args: &Args,
    rt: &Runtime,
    it: &mut Interp,
    phase: Phase,
    input: Option<Value>,
    out: &mut dyn Sink,
) -> Res<()> {
    match proc {
        Proc::Cmdlet(p, info) => {
            let per_item;
            let args = match (&phase, &input) {
                (Phase::Process, Some(v)) => {
                    let binder = Binder {
                        sig: &info.signature,
                        command: info.name,
                        is_script: false,
                        takes_common: true,
                        source: None,
                    };
                    match binder.bind_pipeline(args, v) {
                        Ok(Some(a)) => {
                            per_item = a;
                            &per_item
                        }
                        Ok(None) => {
                            let mut cx = Cx { it, out, rt };
                            return cx.error(input_binding_error(info.name, v));
                        }
                        Err(e) => {
                            let mut cx = Cx { it, out, rt };
                            return cx.error(e);
                        }
                    }
                }
                _ => args,
            };
            let mut cx = Cx { it, out, rt };
            match phase {
                Phase::Begin => p.begin(&mut cx, args),
                Phase::Process => p.process(&mut cx, args),
                Phase::End => p.end(&mut cx, args),
            }
        }
        Proc::Script(s) => match phase {
            Phase::Begin => s.begin(it, args, rt, out),
            Phase::Process => s.process(it, args, rt, input, out),
            Phase::End => s.end(it, out),
        },
    }
}

impl ScriptRun {
    fn enter(&mut self, it: &mut Interp) -> (usize, Rc<Source>) {
        let prev = it.scopes.cur;
        if let Some(s) = self.scope {
            it.scopes.cur = s;
        }
        let src = std::mem::replace(&mut it.cur_source, self.sb.source.clone());
        (prev, src)
    }

    fn leave(it: &mut Interp, saved: (usize, Rc<Source>)) {
        it.scopes.cur = saved.0;
        it.cur_source = saved.1;
    }

    fn leave_for_good(&mut self, it: &mut Interp) {
        if self.entered {
            self.entered = false;
            it.leave_call();
            if let Some(s) = self.scope.take() {
                it.scopes.release(s);
            }
        }
    }

    fn begin(&mut self, it: &mut Interp, args: &Args, rt: &Runtime, out: &mut dyn Sink) -> Res<()> {
        it.enter_call()
            .map_err(|e| Flow::error(e.at_position(rt.position.clone())))?;
        self.entered = true;
        self.scope = if self.dot {
            None
        } else {
            Some(it.scopes.alloc(self.parent, self.file))
        };
        let saved = self.enter(it);
        let r = self
            .bind_params(it, args)
            .and_then(|_| match &self.sb.begin {
                Some(b) => {
                    self.ran = true;
                    run_body(it, b, out)
                }
                None => Ok(()),
            });
        ScriptRun::leave(it, saved);
        r
    }

    fn bind_params(&mut self, it: &mut Interp, args: &Args) -> Res<()> {
        // Common parameters of an advanced function become preference
        // variables of its scope, so the commands inside follow them.
        if !self.dot {
            let c = &args.common;
            let name = |p: crate::commands::binder::ActionPreference| {
                Value::from(format!("{p:?}").as_str())
            };
            if let Some(v) = c.verbose {
                it.set_local(
                    "VerbosePreference",
                    Value::from(if v { "Continue" } else { "SilentlyContinue" }),
                );
            }
            if let Some(v) = c.debug {
                it.set_local(
                    "DebugPreference",
                    Value::from(if v { "Continue" } else { "SilentlyContinue" }),
                );
            }
            if let Some(a) = c.error_action {
                it.set_local("ErrorActionPreference", name(a));
            }
            if let Some(a) = c.warning_action {
                it.set_local("WarningPreference", name(a));
            }
            if let Some(v) = c.what_if {
                it.set_local("WhatIfPreference", Value::Bool(v));
            }
            if let Some(v) = c.confirm {
                it.set_local(
                    "ConfirmPreference",
                    Value::from(if v { "Low" } else { "None" }),
                );
            }
            if self.sb.cmdlet_binding {
                it.set_local("PSCmdlet", super::members::script_cmdlet());
            }
        }
        let mut bound = Hashtable::new(false);
        if let Some(params) = &self.sb.params {
            for p in params {
                let given = args.get(&p.name.name).cloned();
                let value = match given {
                    Some(v) => {
                        bound.insert(Value::from(&*p.name.name), v.clone());
                        v
                    }
                    None => match &p.default {
                        Some(d) => it.eval(d)?,
                        None => match p.type_name.as_ref().and_then(|t| it.find_type(&t.name)) {
                            Some(PsType::Switch | PsType::Bool) => Value::Bool(false),
                            _ => Value::Null,
                        },
                    },
                };
                match p.type_name.as_ref().and_then(|t| it.find_type(&t.name)) {
                    Some(PsType::Switch) => it.write_var(&p.name, Value::Bool(value.is_true()))?,
                    Some(t)
                        if !value.is_null()
                            || !matches!(
                                t,
                                PsType::String | PsType::Int | PsType::Long | PsType::Double
                            ) =>
                    {
                        if value.is_null() {
                            it.write_var(&p.name, value)?
                        } else {
                            it.write_typed_var(&p.name, t, value)
                                .map_err(|f| it.locate(f, p.span))?
                        }
                    }
                    Some(t) => {
                        // An unset typed parameter holds its type's empty value.
                        let empty =
                            super::convert::convert_to(&Value::Null, &t).unwrap_or_default();
                        it.write_typed_var(&p.name, t, empty)?
                    }
                    None => it.write_var(&p.name, value)?,
                }
            }
        }
        let a = Value::array(args.unbound.clone());
        it.set_local("args", a.clone());
        let bound = Value::hashtable(bound);
        it.set_local("PSBoundParameters", bound.clone());
        if !self.dot {
            let invocation = super::members::invocation_info(&self.name, &self.sb, bound, a);
            it.set_local("MyInvocation", invocation);
        }
        Ok(())
    }

    fn process(
        &mut self,
        it: &mut Interp,
        args: &Args,
        rt: &Runtime,
        input: Option<Value>,
        out: &mut dyn Sink,
    ) -> Res<()> {
        let saved = self.enter(it);
        let r = (|| {
            if let Some(v) = &input {
                it.set_local("_", v.clone());
                if !args.from_pipeline.is_empty()
                    || self.sig.params.iter().any(|p| p.pipeline || p.by_name)
                {
                    let binder = Binder {
                        sig: &self.sig,
                        command: &rt.name,
                        is_script: true,
                        takes_common: !self.sig.loose,
                        source: None,
                    };
                    if let Some(bound) = binder.bind_pipeline(args, v).map_err(Flow::error)? {
                        for name in &bound.from_pipeline {
                            if let Some(p) = self
                                .sb
                                .params
                                .iter()
                                .flatten()
                                .find(|p| p.name.name.eq_ignore_ascii_case(name))
                            {
                                let val = bound.get(name).cloned().unwrap_or_default();
                                match p.type_name.as_ref().and_then(|t| it.find_type(&t.name)) {
                                    Some(t) => it.write_typed_var(&p.name, t, val)?,
                                    None => it.write_var(&p.name, val)?,
                                }
                            }
                        }
                    }
                }
                if self.sb.process.is_none() {
                    self.input.push(v.clone());
                }
            }
            match &self.sb.process {
                Some(b) => {
                    self.ran = true;
                    run_body(it, b, out)
                }
                None => Ok(()),
            }
        })();
        ScriptRun::leave(it, saved);
        r
    }

    fn end(&mut self, it: &mut Interp, out: &mut dyn Sink) -> Res<()> {
        let saved = self.enter(it);
        it.set_local("input", Value::array(std::mem::take(&mut self.input)));
        let r = match &self.sb.end {
            Some(b) => {
                self.ran = true;
                run_body(it, b, out)
            }
            None => Ok(()),
        };
        // What `clean` writes to the pipeline is dropped; its other streams
        // still reach the host. An `exit` inside it ends only the block.
        let r = match (&self.sb.clean, self.ran) {
            (Some(b), true) => match run_body(it, b, &mut super::interp::Discard) {
                Ok(()) | Err(Flow::Exit(_)) => r,
                Err(f) => r.and(Err(f)),
            },
            _ => r,
        };
        ScriptRun::leave(it, saved);
        self.leave_for_good(it);
        r
    }
}

/// `return` ends a block normally.
fn run_body(it: &mut Interp, b: &Block, out: &mut dyn Sink) -> Res<()> {
    match it.exec_block(b, out) {
        Err(Flow::Return) => Ok(()),
        other => other,
    }
}

/// A script block's parameters as a signature the binder understands.
pub fn script_signature(sb: &ScriptBlockAst) -> Signature {
    let mut sig = Signature::new();
    sig.loose = !sb.cmdlet_binding;
    sig.supports_should_process = sb.should_process;
    let Some(params) = &sb.params else {
        return sig;
    };
    let explicit = params.iter().any(|p| p.position.is_some());
    for (i, p) in params.iter().enumerate() {
        let ty = match p.type_name.as_ref().and_then(|t| PsType::resolve(&t.name)) {
            Some(PsType::Switch) => ParamType::Switch,
            Some(t) => ParamType::Typed(t),
            None => ParamType::Typed(PsType::Object),
        };
        let mut spec = ParamSpec::new(&p.name.name, ty);
        spec.mandatory = p.mandatory;
        spec.pipeline = p.from_pipeline;
        spec.by_name = p.from_pipeline_by_name;
        spec.aliases = p.aliases.iter().map(|a| Rc::from(a.as_str())).collect();
        spec.values = p
            .validate_set
            .iter()
            .flatten()
            .map(|v| Rc::from(v.as_str()))
            .collect();
        spec.not_empty = p.validate_not_null_or_empty;
        if let Some((lo, hi)) = &p.validate_range
            && let (ExprKind::Const(l), ExprKind::Const(h)) = (&lo.kind, &hi.kind)
            && let (Some(l), Some(h)) = (l.as_i64(), h.as_i64())
        {
            spec.range = Some((l, h));
        }
        spec.position = if explicit {
            p.position
        } else if spec.is_switch() {
            None
        } else {
            Some(i)
        };
        sig.params.push(spec);
    }
    sig
}

impl Interp {
    pub fn run_pipeline(&mut self, p: &Pipeline, out: &mut dyn Sink) -> Res<()> {
        if let [PipeElement::Expr { expr, redirs }] = p.elements.as_slice()
            && redirs.is_empty()
        {
            let v = self.eval(expr)?;
            // `$i++` as a statement writes nothing; `($i++)` does.
            // `[void]...` writes nothing either.
            match &expr.kind {
                ExprKind::Step { .. } => return Ok(()),
                ExprKind::Cast(t, _)
                    if t.name.eq_ignore_ascii_case("void")
                        || t.name.eq_ignore_ascii_case("System.Void") =>
                {
                    return Ok(());
                }
                _ => {}
            }
            return self.emit_unrolled(out, v);
        }
        // Every command reads the clock: the sampled check in loops may not
        // come round for a script of a few slow commands (store writes that
        // wait for the disk), which then ran whole past the time limit.
        self.check_clock()?;
        let id = self.next_pipeline_id();
        let mut stages = Vec::with_capacity(p.elements.len());
        let mut head: Option<(&Expr, &[Redirection])> = None;
        for (i, el) in p.elements.iter().enumerate() {
            match el {
                PipeElement::Expr { expr, redirs } => {
                    if i == 0 {
                        head = Some((expr, redirs));
                    } else {
                        return Err(self.at(
                            ErrorRecord::new(
                                "Expressions are only allowed as the first element of a pipeline.",
                                "ExpressionsMustBeFirstInPipeline",
                                ErrorCategory::ParserError,
                            ),
                            expr.span,
                        ));
                    }
                }
                PipeElement::Command(c) => {
                    let upstream = i > 0;
                    match self.prepare(c, id, stages.len(), upstream) {
                        Ok(s) => stages.push(s),
                        Err(e) => {
                            for s in &mut stages {
                                s.cleanup(self);
                            }
                            return Err(e);
                        }
                    }
                }
            }
        }
        let r = self.drive(&mut stages, head, out, id);
        for s in &mut stages {
            s.cleanup(self);
        }
        match r {
            Err(Flow::StopUpstream(pid, _)) if pid == id => Ok(()),
            other => other,
        }
    }

    fn drive(
        &mut self,
        stages: &mut [Stage],
        head: Option<(&Expr, &[Redirection])>,
        out: &mut dyn Sink,
        id: u64,
    ) -> Res<()> {
        for k in 0..stages.len() {
            let (cur, rest) = stages[k..].split_at_mut(1);
            let mut chain = Chain {
                stages: rest,
                out: &mut *out,
            };
            cur[0].run(self, Phase::Begin, None, &mut chain)?;
        }
        let mut ended_from = 0;
        let run = match head {
            Some((expr, redirs)) => self.run_head_expr(expr, redirs, stages, out),
            None => {
                let (first, rest) = stages.split_at_mut(1);
                let mut chain = Chain {
                    stages: rest,
                    out: &mut *out,
                };
                first[0].run(self, Phase::Process, None, &mut chain)
            }
        };
        match run {
            Ok(()) => {}
            Err(Flow::StopUpstream(pid, stage)) if pid == id => ended_from = stage,
            Err(e) => return Err(e),
        }
        for k in ended_from..stages.len() {
            let (cur, rest) = stages[k..].split_at_mut(1);
            let mut chain = Chain {
                stages: rest,
                out: &mut *out,
            };
            match cur[0].run(self, Phase::End, None, &mut chain) {
                Ok(()) => {}
                Err(Flow::StopUpstream(pid, _)) if pid == id => {}
                Err(e) => return Err(e),
            }
            cur[0].finish_outputs(self)?;
        }
        Ok(())
    }

    /// An expression at the head of a pipeline, with its redirections.
    fn run_head_expr(
        &mut self,
        expr: &Expr,
        redirs: &[Redirection],
        stages: &mut [Stage],
        out: &mut dyn Sink,
    ) -> Res<()> {
        let mut file: Option<(PathBuf, bool)> = None;
        let mut discard = false;
        for r in redirs {
            if let (RedirStream::Output | RedirStream::All, RedirTarget::File { path, append }) =
                (r.from, &r.to)
            {
                match self.redirect_path(path)? {
                    Some(p) => file = Some((p, *append)),
                    None => discard = true,
                }
            }
        }
        let v = self.eval(expr)?;
        if discard {
            return Ok(());
        }
        if let Some((path, append)) = file {
            let text = crate::format::render_all(&v.enumerate(), self.host.width());
            return crate::commands::write_text_file(self, &path, &text, append)
                .map_err(|e| self.at(e, expr.span));
        }
        let mut chain = Chain { stages, out };
        self.emit_unrolled(&mut chain, v)
    }

    /// Evaluates a redirection target; `None` means `$null`.
    /// Where a redirection writes (`None`: to `$null`); checked against
    /// what the session may write, like every file cmdlet.
    fn redirect_path(&mut self, e: &Expr) -> Res<Option<PathBuf>> {
        let v = self.eval(e)?;
        if v.is_null() {
            return Ok(None);
        }
        let path = self.resolve_path(&v.to_string());
        crate::commands::check_path(self, &path).map_err(|rec| self.at(rec, e.span))?;
        Ok(Some(path))
    }

    /// The session's home directory (`$env:HOME`), where `~` leads.
    pub fn home(&self) -> PathBuf {
        PathBuf::from(self.env.get("HOME").cloned().unwrap_or_default())
    }

    /// A path as the file system provider reads it: relative to the current
    /// location, `~` for home, and `\` as a separator too (pwsh on Unix
    /// accepts `.\users.csv`, as scripts written on Windows spell it).
    pub fn resolve_path(&self, s: &str) -> PathBuf {
        let s = s.replace('\\', "/");
        let p = if let Some(rest) = s.strip_prefix("~/") {
            self.home().join(rest)
        } else {
            PathBuf::from(&s)
        };
        if p.is_absolute() { p } else { self.cwd.join(p) }
    }

    fn resolve_command(&mut self, c: &CommandCall) -> Res<(Target, Rc<str>)> {
        let dot = c.invoke == InvokeKind::DotSource;
        let name: Rc<str> = match &c.name {
            CommandName::Literal(n) => n.clone(),
            CommandName::Expr(e) => match self.eval(e)? {
                Value::ScriptBlock(sb) => {
                    return Ok((
                        Target::Script {
                            sb,
                            dot,
                            file: false,
                        },
                        Rc::from("<ScriptBlock>"),
                    ));
                }
                Value::String(s) => s,
                other => {
                    return Err(self.at(
                        ErrorRecord::new(
                            format!(
                                "The expression after '{}' in a pipeline element produced an object that was not valid. It must result in a command name, a script block, or a CommandInfo object.",
                                if dot { "." } else { "&" }
                            ),
                            "BadExpression",
                            ErrorCategory::InvalidOperation,
                        )
                        .with_target(other),
                        c.name_span,
                    ));
                }
            },
        };
        let lower = name.to_ascii_lowercase();
        if let Some(f) = self.scopes.function(&lower) {
            return Ok((
                Target::Script {
                    sb: f.body.clone(),
                    dot,
                    file: false,
                },
                f.name.clone(),
            ));
        }
        if let Some(info) = self.registry.get(&name)
            && self.may_run(info.name)
        {
            if crate::config::roles::writes_store(info.name) {
                self.expect_store_write();
            }
            let n = Rc::from(info.name);
            return Ok((Target::Cmdlet(info), n));
        }
        if lower.ends_with(".ps1") || name.contains('/') || name.contains('\\') {
            let path = self.resolve_path(&name);
            // A session without file rights, or a path outside its
            // directory, is refused before the file is looked for: the
            // answer must not tell whether it exists.
            let refused = !self.limits.file_system
                || self.limits.root.is_some() && crate::commands::check_path(self, &path).is_err();
            if refused || path.is_file() {
                let sb = self
                    .load_script(&path)
                    .map_err(|f| self.locate(f, c.name_span))?;
                return Ok((
                    Target::Script {
                        sb,
                        dot,
                        file: true,
                    },
                    name,
                ));
            }
        }
        Err(self.at(
            ErrorRecord {
                command: Some(name.clone()),
                ..ErrorRecord::new(
                    format!(
                        "The term '{name}' is not recognized as a name of a cmdlet, function, script file, or executable program.\nCheck the spelling of the name, or if a path was included, verify that the path is correct and try again."
                    ),
                    "CommandNotFoundException",
                    ErrorCategory::ObjectNotFound,
                )
                .with_exception("System.Management.Automation.CommandNotFoundException")
                .with_target(Value::String(name.clone()))
            },
            c.name_span,
        ))
    }

    /// Reads and parses a `.ps1` file.
    pub fn load_script(&mut self, path: &std::path::Path) -> Res<Rc<ScriptBlockAst>> {
        if !self.limits.file_system {
            return Err(Flow::error(ErrorRecord::new(
                "Running script files or programs is not allowed in this session.",
                "ScriptFilesNotAllowed",
                ErrorCategory::PermissionDenied,
            )));
        }
        crate::commands::check_path(self, path).map_err(Flow::error)?;
        let is_script = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("ps1"));
        if !is_script && path.is_file() {
            // Only scripts: starting other programs is outside this shell.
            return Err(Flow::error(
                ErrorRecord::new(
                    format!(
                        "Cannot run '{}': lyncsh runs PowerShell scripts (.ps1) and cmdlets, not other programs.",
                        path.display()
                    ),
                    "NativeCommandNotSupported",
                    ErrorCategory::ResourceUnavailable,
                )
                .with_target(Value::from(path.display().to_string())),
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            Flow::error(ErrorRecord::new(
                format!("Cannot read script file '{}': {e}", path.display()),
                "ScriptReadError",
                ErrorCategory::ReadError,
            ))
        })?;
        let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let src = Rc::new(Source::new(Some(abs), text));
        parse_script(src).map_err(|e| Flow::error(ErrorRecord::from_parse(&e)))
    }

    fn prepare(&mut self, c: &CommandCall, id: u64, index: usize, upstream: bool) -> Res<Stage> {
        let (target, name) = self.resolve_command(c)?;
        let mut raw = Vec::with_capacity(c.elements.len());
        for el in &c.elements {
            match el {
                CommandElement::Param { name, value, span } => {
                    let v = match value {
                        Some(e) => Some(self.eval(e)?),
                        None => None,
                    };
                    raw.push(RawArg {
                        name: Some(name.clone()),
                        colon: v.is_some(),
                        value: v,
                        span: *span,
                    });
                }
                CommandElement::Arg(e) => {
                    let v = self.eval(e)?;
                    raw.push(RawArg {
                        name: None,
                        value: Some(v),
                        span: e.span,
                        colon: false,
                    });
                }
                CommandElement::Splat(v) => match self.read_var(v) {
                    Value::Hashtable(h) => {
                        for (k, val) in h.borrow().entries() {
                            raw.push(RawArg {
                                name: Some(Rc::from(k.to_string())),
                                value: Some(val.clone()),
                                span: v.span,
                                colon: true,
                            });
                        }
                    }
                    Value::Null => {}
                    other => {
                        for item in other.enumerate() {
                            raw.push(RawArg {
                                name: None,
                                value: Some(item),
                                span: v.span,
                                colon: false,
                            });
                        }
                    }
                },
            }
        }
        let position = Some(Position {
            source: self.source(),
            span: c.span,
        });
        let mut rt = Runtime::new(&name);
        rt.position = position.clone();
        rt.pipeline = id;
        rt.stage = index;
        let stamp = |mut e: ErrorRecord| {
            if e.position.is_none() {
                e.position = position.clone();
            }
            Flow::error(e)
        };
        let (proc, args, takes_pipeline) = match target {
            Target::Cmdlet(info) => {
                let binder = Binder {
                    sig: &info.signature,
                    command: info.name,
                    is_script: false,
                    takes_common: true,
                    source: Some(self.source()),
                };
                let args = binder.bind(raw).map_err(stamp)?;
                binder.check_mandatory(&args, upstream).map_err(stamp)?;
                let takes = binder.takes_pipeline();
                (Proc::Cmdlet((info.factory)(), info.clone()), args, takes)
            }
            Target::Script { sb, dot, file } => {
                let sig = Rc::new(script_signature(&sb));
                let binder = Binder {
                    sig: &sig,
                    command: &name,
                    is_script: true,
                    takes_common: !sig.loose,
                    source: Some(self.source()),
                };
                let args = binder.bind(raw).map_err(stamp)?;
                binder.check_mandatory(&args, upstream).map_err(stamp)?;
                let run = ScriptRun {
                    sb,
                    sig,
                    dot,
                    file,
                    parent: self.scopes.cur,
                    scope: None,
                    input: Vec::new(),
                    entered: false,
                    ran: false,
                    func: !file && &*name != "<ScriptBlock>",
                    name: name.clone(),
                };
                (Proc::Script(Box::new(run)), args, true)
            }
        };
        rt.common = args.common.clone();
        let mut stage = Stage {
            proc,
            args,
            rt,
            err: None,
            out_file: None,
            file_buf: Vec::new(),
            discard_out: false,
            warn_null: false,
            takes_pipeline,
        };
        for r in &c.redirs {
            match (&r.from, &r.to) {
                (RedirStream::Error, RedirTarget::Merge)
                | (RedirStream::All, RedirTarget::Merge) => stage.err = Some(ErrTarget::Merge),
                (RedirStream::Output, RedirTarget::Merge) => {}
                (RedirStream::Error, RedirTarget::File { path, append }) => {
                    stage.err = Some(match self.redirect_path(path)? {
                        Some(p) => ErrTarget::File(p, *append),
                        None => ErrTarget::Null,
                    })
                }
                (RedirStream::Output, RedirTarget::File { path, append }) => {
                    match self.redirect_path(path)? {
                        Some(p) => stage.out_file = Some((p, *append)),
                        None => stage.discard_out = true,
                    }
                }
                (RedirStream::All, RedirTarget::File { path, .. })
                    if self.redirect_path(path)?.is_none() =>
                {
                    stage.discard_out = true;
                    stage.err = Some(ErrTarget::Null);
                    stage.warn_null = true;
                }
                (RedirStream::Warning, RedirTarget::File { .. }) => stage.warn_null = true,
                _ => {}
            }
        }
        let _ = stage.takes_pipeline;
        Ok(stage)
    }

    /// Runs a script block with arguments in a new scope: `& $sb 1 2` from
    /// cmdlets, script methods, and whole scripts.
    pub fn call_block(
        &mut self,
        sb: &Rc<ScriptBlockAst>,
        args: Vec<Value>,
        out: &mut dyn Sink,
    ) -> Res<()> {
        let raw = args
            .into_iter()
            .map(|v| RawArg {
                name: None,
                value: Some(v),
                span: Span::default(),
                colon: false,
            })
            .collect();
        self.call_block_raw(sb, raw, false, out)
    }

    /// Like [`Interp::call_block`] with arguments as written (`-Name value`);
    /// `file` gives the block a script scope.
    pub fn call_block_raw(
        &mut self,
        sb: &Rc<ScriptBlockAst>,
        raw: Vec<RawArg>,
        file: bool,
        out: &mut dyn Sink,
    ) -> Res<()> {
        let name = match &sb.source.path {
            Some(p) if file => p.display().to_string(),
            _ => "<ScriptBlock>".to_string(),
        };
        let sig = Rc::new(script_signature(sb));
        let binder = Binder {
            sig: &sig,
            command: &name,
            is_script: true,
            takes_common: !sig.loose,
            source: None,
        };
        let args = binder.bind(raw).map_err(Flow::error)?;
        binder.check_mandatory(&args, false).map_err(Flow::error)?;
        let mut run = ScriptRun {
            sb: sb.clone(),
            sig,
            dot: false,
            file,
            parent: self.scopes.cur,
            scope: None,
            input: Vec::new(),
            entered: false,
            ran: false,
            func: false,
            name: Rc::from(name.as_str()),
        };
        let rt = Runtime::new(&name);
        let r = run
            .begin(self, &args, &rt, out)
            .and_then(|_| run.process(self, &args, &rt, None, out))
            .and_then(|_| run.end(self, out));
        run.leave_for_good(self);
        r
    }
}

impl ErrorRecord {
    pub fn at_position(mut self, p: Option<Position>) -> ErrorRecord {
        if self.position.is_none() {
            self.position = p;
        }
        self
    }
}
