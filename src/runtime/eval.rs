//! Statements and expressions. Statements write their output into a
//! [`Sink`]; expressions produce a [`Value`]. Control flow travels as
//! `Err(Flow)`.

use std::rc::Rc;

use super::budget::{self, TextBuf};
use super::convert::{self, convert_to};
use super::error::{ErrorCategory, ErrorRecord, Flow, Res};
use super::interp::{Collect, Interp, Sink};
use super::ops;
use super::types::{PsType, exception_is};
use super::value::{Hashtable, Inner, PsObject, Value};
use crate::syntax::Source;
use crate::syntax::ast::*;

/// What a loop body asked for.
enum LoopCtl {
    Next,
    Break,
}

/// A compound assignment's target, evaluated once.
enum Place {
    Index(Value, Value),
    Member(Value, Rc<str>),
}

impl Interp {
    /// Attaches the current script position to an error that has none.
    pub fn at(&self, e: ErrorRecord, span: Span) -> Flow {
        let e = e.at(&self.source(), span);
        if e.category == ErrorCategory::LimitsExceeded {
            return self.size_limit(e);
        }
        Flow::error(e)
    }

    pub fn locate(&self, f: Flow, span: Span) -> Flow {
        match f {
            Flow::Error(mut rec) if rec.position.is_none() => {
                Rc::make_mut(&mut rec).position = Some(super::error::Position {
                    source: self.source(),
                    span,
                });
                Flow::Error(rec)
            }
            other => other,
        }
    }

    pub fn source(&self) -> Rc<Source> {
        self.cur_source.clone()
    }

    // ------------------------------------------------------------ statements

    /// Runs statements; a statement-terminating error is reported and the
    /// next statement runs, unless a `try` or `trap` wants it.
    pub fn exec_block(&mut self, block: &[Stmt], out: &mut dyn Sink) -> Res<()> {
        self.block_depth += 1;
        let r = self.exec_statements(block, out);
        self.block_depth -= 1;
        r
    }

    fn exec_statements(&mut self, block: &[Stmt], out: &mut dyn Sink) -> Res<()> {
        let has_trap = block.iter().any(|s| matches!(s, Stmt::Trap(_)));
        if block.iter().any(|s| matches!(s, Stmt::TypeDef(_))) {
            self.define_types(block)?;
        }
        for stmt in block {
            if self.block_depth == 1 {
                self.check_roles();
            }
            let result = self.exec_stmt(stmt, out);
            // A top-level statement is the unit of durability: whatever it
            // changed in the configuration store is committed now, errors
            // or not; one stopped part-way (Ctrl-C, cancel, a limit) did
            // not finish, and keeps none of its changes.
            let result = if self.block_depth == 1 {
                let ended = if matches!(result, Err(Flow::Stopped | Flow::Halt(_))) {
                    self.abandon_statement()
                } else {
                    self.end_statement()
                };
                match ended {
                    Ok(()) => result,
                    Err(e) => result.and(Err(e)),
                }
            } else {
                result
            };
            match result {
                Ok(()) => {}
                Err(Flow::Error(rec)) => {
                    if has_trap {
                        self.run_trap(block, rec, out)?;
                        continue;
                    }
                    let stop = self.error_preference()
                        == super::super::commands::binder::ActionPreference::Stop;
                    if rec.script_terminating || self.try_depth > 0 || stop {
                        return Err(Flow::Error(rec));
                    }
                    self.last_ok = false;
                    self.record_error(&rec);
                    self.display_error(&rec);
                }
                Err(other) => return Err(other),
            }
        }
        Ok(())
    }

    /// `trap { }`: runs the handler; `break` in it rethrows, `continue`
    /// resumes silently, falling off the end reports and resumes.
    fn run_trap(&mut self, block: &[Stmt], rec: Rc<ErrorRecord>, out: &mut dyn Sink) -> Res<()> {
        let trap = block.iter().find_map(|s| match s {
            Stmt::Trap(t) => {
                let fits = match &t.type_name {
                    None => true,
                    Some(tn) => match PsType::resolve(&tn.name) {
                        Some(PsType::Exception(n)) => exception_is(&rec.exception_type, &n),
                        _ => false,
                    },
                };
                fits.then_some(t)
            }
            _ => None,
        });
        let Some(trap) = trap else {
            return Err(Flow::Error(rec));
        };
        let saved = self.get_var("_").cloned();
        self.set_local("_", Value::Error(rec.clone()));
        let r = self.exec_block(&trap.body, out);
        self.set_local("_", saved.unwrap_or_default());
        match r {
            Ok(()) => {
                self.record_error(&rec);
                self.display_error(&rec);
                Ok(())
            }
            Err(Flow::Continue(_)) => Ok(()),
            Err(Flow::Break(_)) => Err(Flow::Error(rec)),
            Err(other) => Err(other),
        }
    }

    /// A pipeline run as a statement, which sets `$?`.
    fn pipeline_stmt(&mut self, p: &Pipeline, out: &mut dyn Sink) -> Res<()> {
        let before = self.errors_reported;
        // `$x++` and `--$x` as whole statements output nothing.
        let r = match p.elements.as_slice() {
            [
                PipeElement::Expr {
                    expr:
                        e @ Expr {
                            kind: ExprKind::Step { .. },
                            ..
                        },
                    redirs,
                },
            ] if redirs.is_empty() => self.eval(e).map(|_| ()),
            _ => self.run_pipeline(p, out),
        };
        self.last_ok = r.is_ok() && self.errors_reported == before;
        r
    }

    pub fn exec_stmt(&mut self, stmt: &Stmt, out: &mut dyn Sink) -> Res<()> {
        self.check_stop()?;
        budget::enter().map_err(Flow::error)?;
        match stmt {
            // `$?` tells whether the previous statement reported an error;
            // it is decided when the statement ends, not when it starts.
            Stmt::Pipeline(p) => self.pipeline_stmt(p, out),
            Stmt::Chain(c) => {
                self.pipeline_stmt(&c.first, out)?;
                for (op, p) in &c.rest {
                    let run = match op {
                        ChainOp::And => self.last_ok,
                        ChainOp::Or => !self.last_ok,
                    };
                    if run {
                        self.pipeline_stmt(p, out)?;
                    }
                }
                Ok(())
            }
            Stmt::Assign(a) => {
                let before = self.errors_reported;
                let r = self.assign(a).map(|_| ());
                self.last_ok = r.is_ok() && self.errors_reported == before;
                r
            }
            Stmt::If(s) => {
                for (cond, block) in &s.clauses {
                    if self.eval_stmt_value(cond)?.is_true() {
                        return self.exec_block(block, out);
                    }
                }
                match &s.else_block {
                    Some(b) => self.exec_block(b, out),
                    None => Ok(()),
                }
            }
            Stmt::Foreach(f) => self.foreach(f, out),
            Stmt::For(f) => {
                if let Some(init) = &f.init {
                    self.exec_discard(init)?;
                }
                loop {
                    self.check_stop()?;
                    if let Some(c) = &f.cond
                        && !self.eval_stmt_value(c)?.is_true()
                    {
                        break;
                    }
                    if let LoopCtl::Break = self.loop_body(&f.label, &f.body, out)? {
                        break;
                    }
                    if let Some(it) = &f.iter {
                        self.exec_discard(it)?;
                    }
                }
                Ok(())
            }
            Stmt::While(w) => {
                loop {
                    self.check_stop()?;
                    if !self.eval_stmt_value(&w.cond)?.is_true() {
                        break;
                    }
                    if let LoopCtl::Break = self.loop_body(&w.label, &w.body, out)? {
                        break;
                    }
                }
                Ok(())
            }
            Stmt::DoLoop(d) => {
                loop {
                    self.check_stop()?;
                    if let LoopCtl::Break = self.loop_body(&d.label, &d.body, out)? {
                        break;
                    }
                    let c = self.eval_stmt_value(&d.cond)?.is_true();
                    if c == d.until {
                        break;
                    }
                }
                Ok(())
            }
            Stmt::Switch(s) => self.switch(s, out),
            Stmt::Try(t) => self.try_stmt(t, out),
            Stmt::Trap(_) => Ok(()),
            Stmt::Function(f) => {
                let cur = self.scopes.cur;
                if let Some(s) = self.scopes.get_mut(cur) {
                    s.functions
                        .insert(Rc::from(f.name.to_ascii_lowercase()), f.clone());
                }
                Ok(())
            }
            Stmt::Flow(f) => self.flow(f, out),
            // Defined when the block started (see `define_types`).
            Stmt::TypeDef(_) => Ok(()),
        }
    }

    /// Runs a statement for its effect only (`for` initialisers).
    fn exec_discard(&mut self, stmt: &Stmt) -> Res<()> {
        match stmt {
            Stmt::Assign(a) => self.assign(a).map(|_| ()),
            other => {
                let mut sink = super::interp::Discard;
                self.exec_stmt(other, &mut sink)
            }
        }
    }

    fn loop_body(
        &mut self,
        label: &Option<Rc<str>>,
        body: &[Stmt],
        out: &mut dyn Sink,
    ) -> Res<LoopCtl> {
        match self.exec_block(body, out) {
            Ok(()) => Ok(LoopCtl::Next),
            Err(Flow::Break(None)) => Ok(LoopCtl::Break),
            Err(Flow::Continue(None)) => Ok(LoopCtl::Next),
            Err(Flow::Break(Some(l))) if label.as_ref() == Some(&l) => Ok(LoopCtl::Break),
            Err(Flow::Continue(Some(l))) if label.as_ref() == Some(&l) => Ok(LoopCtl::Next),
            Err(e) => Err(e),
        }
    }

    fn foreach(&mut self, f: &Foreach, out: &mut dyn Sink) -> Res<()> {
        // `foreach ($i in 1..1000000)` walks the range without building it.
        if let Some(Expr {
            kind: ExprKind::Binary(BinOp::Range, l, r),
            span,
        }) = single_expr(&f.source)
        {
            let lv = self.eval(l)?;
            let rv = self.eval(r)?;
            let spec = ops::range_spec(&lv, &rv).map_err(|e| self.at(e, *span))?;
            for i in 0..spec.len() {
                self.check_stop()?;
                self.write_var(&f.var, spec.get(i))?;
                if let LoopCtl::Break = self.loop_body(&f.label, &f.body, out)? {
                    break;
                }
            }
            return Ok(());
        }
        let source = self.eval_stmt_value(&f.source)?;
        let items = match &source {
            Value::Null => return Ok(()),
            Value::Array(a) => a.to_vec(),
            other => vec![other.clone()],
        };
        for item in items {
            self.check_stop()?;
            self.write_var(&f.var, item)?;
            if let LoopCtl::Break = self.loop_body(&f.label, &f.body, out)? {
                break;
            }
        }
        Ok(())
    }

    fn switch(&mut self, s: &Switch, out: &mut dyn Sink) -> Res<()> {
        let subject = self.eval_stmt_value(&s.subject)?;
        let items = match &subject {
            Value::Array(a) => a.to_vec(),
            other => vec![other.clone()],
        };
        let saved = self.get_var("_").cloned();
        let result = self.switch_items(s, items, out);
        self.set_local("_", saved.unwrap_or_default());
        match result {
            Err(Flow::Break(None)) => Ok(()),
            Err(Flow::Break(Some(l))) if s.label.as_ref() == Some(&l) => Ok(()),
            other => other,
        }
    }

    fn switch_items(&mut self, s: &Switch, items: Vec<Value>, out: &mut dyn Sink) -> Res<()> {
        let cs = s.flags.case_sensitive;
        'items: for item in items {
            self.check_stop()?;
            self.set_local("_", item.clone());
            let mut matched = false;
            for clause in &s.clauses {
                let hit = match &clause.pattern.kind {
                    ExprKind::ScriptBlock(sb) => {
                        let sb = sb.clone();
                        self.invoke_predicate(&sb, item.clone())?
                    }
                    _ => {
                        let pat = self.eval(&clause.pattern)?;
                        if s.flags.regex {
                            let o = ops::comparison(CmpOp::Match, case_of(cs), &item, &pat)
                                .map_err(|e| self.at(e, clause.pattern.span))?;
                            if let Some(m) = o.matches {
                                self.set_local("Matches", m);
                            }
                            o.value.is_true()
                        } else if s.flags.wildcard {
                            super::wildcard::like(&item.to_string(), &pat.to_string(), cs)
                        } else {
                            ops::equals(&item, &pat, cs) || ops::equals(&pat, &item, cs)
                        }
                    }
                };
                if hit {
                    matched = true;
                    match self.exec_block(&clause.body, out) {
                        Ok(()) => {}
                        Err(Flow::Continue(None)) => continue 'items,
                        Err(Flow::Continue(Some(l))) if s.label.as_ref() == Some(&l) => {
                            continue 'items;
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            if !matched && let Some(d) = &s.default {
                match self.exec_block(d, out) {
                    Ok(()) | Err(Flow::Continue(None)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    fn try_stmt(&mut self, t: &Try, out: &mut dyn Sink) -> Res<()> {
        self.try_depth += 1;
        let r = self.exec_block(&t.body, out);
        self.try_depth -= 1;
        let r = match r {
            Err(Flow::Error(rec)) => match self.find_catch(t, &rec)? {
                Some(body) => {
                    self.record_error(&rec);
                    let saved = self.get_var("_").cloned();
                    self.set_local("_", Value::Error(rec.clone()));
                    self.set_local("PSItem", Value::Error(rec.clone()));
                    self.caught.push(rec.clone());
                    let r = self.exec_block(body, out);
                    self.caught.pop();
                    self.set_local("_", saved.unwrap_or_default());
                    r
                }
                None => Err(Flow::Error(rec)),
            },
            other => other,
        };
        if let Some(f) = &t.finally {
            self.exec_block(f, out)?;
        }
        r
    }

    fn find_catch<'a>(&self, t: &'a Try, rec: &ErrorRecord) -> Res<Option<&'a Block>> {
        for c in &t.catches {
            if c.types.is_empty() {
                return Ok(Some(&c.body));
            }
            for tn in &c.types {
                match resolve_using(tn) {
                    Some(PsType::Exception(n)) => {
                        if exception_is(&rec.exception_type, &n) {
                            return Ok(Some(&c.body));
                        }
                    }
                    Some(_) => {}
                    None => {
                        return Err(self.at(
                            ErrorRecord::new(
                                format!("Unable to find type [{}].", tn.name),
                                "TypeNotFound",
                                ErrorCategory::InvalidOperation,
                            ),
                            tn.span,
                        ));
                    }
                }
            }
        }
        Ok(None)
    }

    fn flow(&mut self, f: &FlowStmt, out: &mut dyn Sink) -> Res<()> {
        match f.kind {
            FlowKind::Break => Err(Flow::Break(f.label.clone())),
            FlowKind::Continue => Err(Flow::Continue(f.label.clone())),
            FlowKind::Return if f.in_method => {
                self.method_return = match &f.value {
                    Some(p) => Some(self.pipeline_value(p)?),
                    None => None,
                };
                Err(Flow::Return)
            }
            FlowKind::Return => {
                if let Some(p) = &f.value {
                    self.run_pipeline(p, out)?;
                }
                Err(Flow::Return)
            }
            FlowKind::Exit => {
                let code = match &f.value {
                    Some(p) => {
                        let v = self.pipeline_value(p)?;
                        convert::to_i32(&v).unwrap_or(0)
                    }
                    None => 0,
                };
                Err(Flow::Exit(code))
            }
            FlowKind::Throw => {
                let v = match &f.value {
                    Some(p) => self.pipeline_value(p)?,
                    // A bare `throw` in a catch block rethrows what it caught.
                    None => match self.caught.last() {
                        Some(rec) => return Err(Flow::Error(rec.clone())),
                        None => Value::Null,
                    },
                };
                let mut rec = match v {
                    Value::Error(rec) => (*rec).clone(),
                    Value::Null => ErrorRecord::new(
                        "ScriptHalted",
                        "ScriptHalted",
                        ErrorCategory::OperationStopped,
                    ),
                    other => {
                        let msg = other.to_string();
                        ErrorRecord::new(msg.clone(), &msg, ErrorCategory::OperationStopped)
                            .with_target(other)
                    }
                };
                rec.thrown = true;
                rec.script_terminating = true;
                rec.command = None;
                if rec.position.is_none() {
                    rec = rec.at(&self.source(), f.span);
                }
                Err(Flow::error(rec))
            }
        }
    }

    // ------------------------------------------------------------ values of statements

    /// A statement's output as one value: `$x = <stmt>`, `if (<stmt>)`.
    pub fn eval_stmt_value(&mut self, stmt: &Stmt) -> Res<Value> {
        if let Some(e) = single_expr(stmt) {
            return self.eval(e);
        }
        match stmt {
            Stmt::Assign(a) => self.assign(a),
            Stmt::Pipeline(p) => self.pipeline_value(p),
            other => {
                let mut c = Collect::default();
                self.exec_stmt(other, &mut c)?;
                Ok(c.into_value())
            }
        }
    }

    pub fn pipeline_value(&mut self, p: &Pipeline) -> Res<Value> {
        if let [PipeElement::Expr { expr, redirs }] = p.elements.as_slice()
            && redirs.is_empty()
        {
            return self.eval(expr);
        }
        let mut c = Collect::default();
        self.run_pipeline(p, &mut c)?;
        Ok(c.into_value())
    }

    pub fn collect_block(&mut self, block: &[Stmt]) -> Res<Vec<Value>> {
        let mut c = Collect::default();
        self.exec_block(block, &mut c)?;
        Ok(c.0)
    }

    /// Writes a value into a pipeline, enumerating collections one level.
    pub fn emit_unrolled(&mut self, out: &mut dyn Sink, v: Value) -> Res<()> {
        match v {
            Value::Array(a) => {
                let items = a.to_vec();
                for item in items {
                    out.emit(self, item)?;
                }
                Ok(())
            }
            Value::Null => out.emit(self, Value::Null),
            other => out.emit(self, other),
        }
    }

    // ------------------------------------------------------------ assignment

    pub fn assign(&mut self, a: &Assign) -> Res<Value> {
        if a.targets.len() > 1 {
            let value = self.eval_stmt_value(&a.value)?;
            let mut items = value.enumerate();
            let n = a.targets.len();
            for (i, t) in a.targets.iter().enumerate() {
                let v = if i + 1 < n {
                    if items.is_empty() {
                        Value::Null
                    } else {
                        items.remove(0)
                    }
                } else {
                    match items.len() {
                        0 => Value::Null,
                        1 => items.remove(0),
                        _ => Value::array(std::mem::take(&mut items)),
                    }
                };
                self.assign_to(t, v)?;
            }
            return Ok(value);
        }
        let Some(target) = a.targets.first() else {
            return Ok(Value::Null);
        };
        let rhs = self.eval_stmt_value(&a.value)?;
        if a.op == AssignOp::Set {
            self.assign_to(target, rhs.clone())?;
            return Ok(rhs);
        }
        // A compound assignment reads and writes one place: its object and
        // index are evaluated once (`$a[$i++] += 1` moves $i once).
        let place = self.place(target)?;
        let cur = match &place {
            Some(Place::Index(o, i)) => self.index(o, i).map_err(|e| self.at(e, target.span))?,
            Some(Place::Member(o, n)) => {
                self.get_member(o, n).map_err(|e| self.at(e, target.span))?
            }
            None => self.eval(target)?,
        };
        let value = match a.op {
            AssignOp::Coalesce if !cur.is_null() => return Ok(cur),
            AssignOp::Coalesce => rhs,
            op => {
                let bin = match op {
                    AssignOp::Add => BinOp::Add,
                    AssignOp::Sub => BinOp::Sub,
                    AssignOp::Mul => BinOp::Mul,
                    AssignOp::Div => BinOp::Div,
                    _ => BinOp::Rem,
                };
                ops::arithmetic(bin, &cur, &rhs).map_err(|e| self.at(e, a.span))?
            }
        };
        match place {
            Some(Place::Index(o, i)) => self
                .set_index(&o, &i, value.clone())
                .map_err(|e| self.at(e, target.span))?,
            Some(Place::Member(o, n)) => self
                .set_member(&o, &n, value.clone())
                .map_err(|e| self.at(e, target.span))?,
            None => self.assign_to(target, value.clone())?,
        }
        Ok(value)
    }

    /// The element or property an assignment target names, with its object
    /// (and index) evaluated; `None` for variables and casts.
    fn place(&mut self, target: &Expr) -> Res<Option<Place>> {
        Ok(match &target.kind {
            ExprKind::Member {
                target: obj,
                name,
                is_static: false,
            } => {
                let o = self.eval(obj)?;
                Some(Place::Member(o, self.member_name(name)?))
            }
            ExprKind::Index { target: obj, index } => {
                let o = self.eval(obj)?;
                Some(Place::Index(o, self.eval_stmt_value(index)?))
            }
            _ => None,
        })
    }

    pub fn assign_to(&mut self, target: &Expr, value: Value) -> Res<()> {
        match &target.kind {
            ExprKind::Var(v) => self.write_var(v, value),
            ExprKind::Cast(t, inner) => match &inner.kind {
                ExprKind::Var(v) => {
                    let ty = self.resolve_type(t)?;
                    self.write_typed_var(v, ty, value).map_err(|f| self.locate(f, target.span))
                }
                _ => {
                    let ty = self.resolve_type(t)?;
                    let v = convert_to(&value, &ty).map_err(|e| self.at(e, target.span))?;
                    self.assign_to(inner, v)
                }
            },
            ExprKind::Member { target: obj, name, .. } => {
                let o = self.eval(obj)?;
                let name = self.member_name(name)?;
                self.set_member(&o, &name, value).map_err(|e| self.at(e, target.span))
            }
            ExprKind::Index { target: obj, index } => {
                let o = self.eval(obj)?;
                let idx = self.eval_stmt_value(index)?;
                self.set_index(&o, &idx, value).map_err(|e| self.at(e, target.span))
            }
            _ => Err(self.at(
                ErrorRecord::new(
                    "The assignment expression is not valid. The input to an assignment operator must be an object that is able to accept assignments, such as a variable or a property.",
                    "InvalidLeftHandSide",
                    ErrorCategory::ParserError,
                ),
                target.span,
            )),
        }
    }

    fn set_index(&mut self, o: &Value, idx: &Value, value: Value) -> Result<(), ErrorRecord> {
        match o {
            Value::Array(a) => {
                let len = a.len() as i64;
                let i = convert::to_i64(idx, "System.Int32")?;
                let i = if i < 0 { i + len } else { i };
                if i < 0 || i >= len {
                    return Err(ErrorRecord::new(
                        "Index was outside the bounds of the array.",
                        "System.IndexOutOfRangeException",
                        ErrorCategory::InvalidOperation,
                    )
                    .with_exception("System.IndexOutOfRangeException"));
                }
                let value = match &a.elem {
                    Some(t) => convert_to(&value, t)?,
                    None => value,
                };
                a.items.borrow_mut()[i as usize] = value;
                Ok(())
            }
            Value::Hashtable(h) => {
                let mut h = h.borrow_mut();
                budget::check_items(h.len().saturating_add(1))?;
                h.insert(idx.clone(), value);
                Ok(())
            }
            Value::Null => Err(ErrorRecord::new(
                "Cannot index into a null array.",
                "NullArray",
                ErrorCategory::InvalidOperation,
            )),
            other => Err(ErrorRecord::new(
                format!(
                    "Unable to index into an object of type {}.",
                    other.type_name()
                ),
                "CannotIndex",
                ErrorCategory::InvalidOperation,
            )),
        }
    }

    // ------------------------------------------------------------ expressions

    pub fn eval(&mut self, e: &Expr) -> Res<Value> {
        budget::enter().map_err(|err| self.at(err, e.span))?;
        match &e.kind {
            ExprKind::Const(v) => Ok(Value::from(v)),
            ExprKind::Var(v) => Ok(match v.special {
                Some(Special::Null) => Value::Null,
                // Pester's $TestRegistry: refused inside a test run.
                _ if self.pester.is_some() && &*v.key == "testregistry" => {
                    return Err(self.at(crate::pester::no_test_registry(), e.span));
                }
                _ => self.read_var(v),
            }),
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r, e.span),
            ExprKind::Ternary(cond, then, otherwise) => {
                if self.eval(cond)?.is_true() {
                    self.eval(then)
                } else {
                    self.eval(otherwise)
                }
            }
            ExprKind::Bare(s) => Ok(bare_value(s)),
            ExprKind::Expandable(parts) => self.expand(parts).map(Value::from),
            ExprKind::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(self.eval(i)?);
                }
                Ok(Value::array(out))
            }
            ExprKind::ArraySub(block) => Ok(Value::array(self.collect_block(block)?)),
            ExprKind::SubExpr(block) => {
                let mut c = Collect::default();
                self.exec_block(block, &mut c)?;
                Ok(c.into_value())
            }
            ExprKind::Paren(stmt) => self.eval_stmt_value(stmt),
            ExprKind::Hash { ordered, entries } => self.hash_literal(*ordered, entries),
            ExprKind::ScriptBlock(sb) => Ok(Value::ScriptBlock(sb.clone())),
            ExprKind::Type(t) => Ok(Value::Type(Rc::new(self.resolve_type(t)?))),
            ExprKind::Cast(t, inner) => self.cast(t, inner, e.span),
            ExprKind::Unary(op, inner) => {
                let v = self.eval(inner)?;
                self.unary(*op, v).map_err(|err| self.at(err, e.span))
            }
            ExprKind::Member {
                target,
                name,
                is_static,
            } => {
                let name = self.member_name(name)?;
                if *is_static {
                    let t = self.static_target(target)?;
                    return self
                        .static_member(&t, &name)
                        .map_err(|err| self.at(err, e.span));
                }
                let o = self.eval(target)?;
                self.get_member(&o, &name)
                    .map_err(|err| self.at(err, e.span))
            }
            ExprKind::Invoke {
                target,
                name,
                args,
                is_static,
            } => {
                let name = self.member_name(name)?;
                let mut argv = Vec::with_capacity(args.len());
                for a in args {
                    argv.push(self.eval(a)?);
                }
                if *is_static {
                    let t = self.static_target(target)?;
                    return self
                        .call_static(&t, &name, argv)
                        .map_err(|f| self.locate(f, e.span));
                }
                let o = self.eval(target)?;
                self.call_method(&o, &name, argv)
                    .map_err(|f| self.locate(f, e.span))
            }
            ExprKind::Index { target, index } => {
                let o = self.eval(target)?;
                let idx = self.eval_stmt_value(index)?;
                self.index(&o, &idx).map_err(|err| self.at(err, e.span))
            }
            ExprKind::Step {
                target,
                delta,
                post,
            } => {
                let cur = self.eval(target)?;
                let new =
                    ops::add(&cur, &Value::Int(*delta)).map_err(|err| self.at(err, e.span))?;
                self.assign_to(target, new.clone())?;
                Ok(if *post { cur } else { new })
            }
        }
    }

    fn static_target(&mut self, target: &Expr) -> Res<PsType> {
        match self.eval(target)? {
            Value::Type(t) => Ok((*t).clone()),
            other => Err(self.at(
                ErrorRecord::new(
                    format!(
                        "Static members can only be used on a type; '{other}' is a {}.",
                        other.type_name()
                    ),
                    "StaticMemberOnNonType",
                    ErrorCategory::InvalidOperation,
                ),
                target.span,
            )),
        }
    }

    pub fn member_name(&mut self, n: &MemberName) -> Res<Rc<str>> {
        match n {
            MemberName::Name(s) => Ok(s.clone()),
            MemberName::Dynamic(e) => Ok(Rc::from(self.eval(e)?.to_string())),
        }
    }

    pub fn resolve_type(&self, t: &TypeName) -> Res<PsType> {
        if let Some(ty) = self.lookup_type(&t.name) {
            return Ok(ty);
        }
        resolve_using(t).ok_or_else(|| {
            self.at(
                ErrorRecord::new(
                    format!("Unable to find type [{}].", t.name),
                    "TypeNotFound",
                    ErrorCategory::InvalidOperation,
                ),
                t.span,
            )
        })
    }

    fn binary(&mut self, op: BinOp, l: &Expr, r: &Expr, span: Span) -> Res<Value> {
        match op {
            BinOp::And => {
                let lv = self.eval(l)?.is_true();
                return Ok(Value::Bool(lv && self.eval(r)?.is_true()));
            }
            BinOp::Or => {
                let lv = self.eval(l)?.is_true();
                return Ok(Value::Bool(lv || self.eval(r)?.is_true()));
            }
            BinOp::Coalesce => {
                let lv = self.eval(l)?;
                return if lv.is_null() { self.eval(r) } else { Ok(lv) };
            }
            _ => {}
        }
        let lv = self.eval(l)?;
        let rv = self.eval(r)?;
        let res = match op {
            BinOp::Add => ops::add(&lv, &rv),
            BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => ops::arithmetic(op, &lv, &rv),
            BinOp::Cmp(c, case) => match ops::comparison(c, case, &lv, &rv) {
                Ok(o) => {
                    if let Some(m) = o.matches {
                        self.set_local("Matches", m);
                    }
                    Ok(o.value)
                }
                Err(e) => Err(e),
            },
            BinOp::Xor => Ok(Value::Bool(lv.is_true() ^ rv.is_true())),
            BinOp::Range => ops::range(&lv, &rv),
            BinOp::Format => ops::format(&lv, &rv),
            BinOp::Replace(case) => ops::replace(&lv, &rv, case),
            BinOp::Split(case) => ops::split(&lv, &rv, case),
            BinOp::Join => ops::join(&lv, &rv.to_string()),
            BinOp::Is | BinOp::IsNot => {
                ops::type_operand(&rv).map(|t| Value::Bool(t.is_instance(&lv) == (op == BinOp::Is)))
            }
            BinOp::As => ops::type_operand(&rv).map(|t| convert_to(&lv, &t).unwrap_or(Value::Null)),
            BinOp::BAnd | BinOp::BOr | BinOp::BXor | BinOp::Shl | BinOp::Shr => {
                // On a script enum's value the result is of that enum.
                match (&lv, ops::bitwise(op, &lv, &rv)) {
                    (Value::Enum(e), Ok(n)) => match self.lookup_type(&e.type_name) {
                        Some(PsType::Script(t)) if t.as_enum().is_some() => {
                            super::classes::to_enum(&n, &t)
                        }
                        _ => Ok(n),
                    },
                    (_, r) => r,
                }
            }
            BinOp::And | BinOp::Or | BinOp::Coalesce => Ok(Value::Null),
        };
        res.map_err(|e| self.at(e, span))
    }

    fn unary(&mut self, op: UnaryOp, v: Value) -> Result<Value, ErrorRecord> {
        Ok(match op {
            UnaryOp::Not => Value::Bool(!v.is_true()),
            UnaryOp::Neg => ops::arithmetic(BinOp::Sub, &Value::Int(0), &convert::to_number(&v)?)?,
            UnaryOp::Plus => convert::to_number(&v)?,
            UnaryOp::BNot => {
                let n = convert::to_i64(&v, "System.Int32")?;
                match v {
                    Value::Int(_) => Value::Int(!(n as i32)),
                    _ => Value::from(!n),
                }
            }
            UnaryOp::Split => ops::unary_split(&v)?,
            UnaryOp::Join => ops::join(&v, "")?,
            UnaryOp::Comma => Value::array(vec![v]),
        })
    }

    fn cast(&mut self, t: &TypeName, inner: &Expr, span: Span) -> Res<Value> {
        let ty = self.resolve_type(t)?;
        // [ordered]@{} and [pscustomobject]@{} keep the literal's key order.
        if let ExprKind::Hash { entries, .. } = &inner.kind {
            match ty {
                PsType::Ordered => return self.hash_literal(true, entries),
                PsType::PsCustomObject => {
                    let h = self.hash_literal(true, entries)?;
                    return convert_to(&h, &ty).map_err(|e| self.at(e, span));
                }
                _ => {}
            }
        }
        if ty == PsType::Ordered {
            return Err(self.at(
                ErrorRecord::new(
                    "The ordered attribute can be specified only on a hash literal node.",
                    "OrderedAttributeOnlyOnHashLiteralNode",
                    ErrorCategory::ParserError,
                ),
                span,
            ));
        }
        let v = self.eval(inner)?;
        if let PsType::Script(t) = &ty
            && matches!(v, Value::Hashtable(_))
            && !t.is_instance(&v)
            && t.as_enum().is_none()
        {
            return self
                .class_from_hashtable(t, &v)
                .map_err(|f| self.locate(f, span));
        }
        convert_to(&v, &ty).map_err(|e| self.at(e, span))
    }

    fn hash_literal(&mut self, ordered: bool, entries: &[(Expr, Stmt)]) -> Res<Value> {
        let mut h = Hashtable::new(ordered);
        for (k, v) in entries {
            let key = self.eval(k)?;
            let val = self.eval_stmt_value(v)?;
            if h.add(key.clone(), val).is_err() {
                return Err(self.at(
                    ErrorRecord::new(
                        format!("Duplicate keys '{key}' are not allowed in hash literals."),
                        "DuplicateKeyInHashLiteral",
                        ErrorCategory::ParserError,
                    ),
                    k.span,
                ));
            }
        }
        Ok(Value::hashtable(h))
    }

    /// `"$x and $($y.Name)"`; arrays join with `$OFS` (a space by default).
    pub fn expand(&mut self, parts: &[StrPart]) -> Res<String> {
        let mut out = TextBuf::new();
        for p in parts {
            match p {
                StrPart::Lit(s) => out.push_str(s)?,
                StrPart::Var(v) => {
                    let val = match v.special {
                        Some(Special::True) => Value::Bool(true),
                        Some(Special::False) => Value::Bool(false),
                        Some(Special::Null) => Value::Null,
                        None => self.read_var(v),
                    };
                    out.push_str(&self.to_str(&val)?)?;
                }
                StrPart::Sub(block) => {
                    let mut c = Collect::default();
                    self.exec_block(block, &mut c)?;
                    let v = c.into_value();
                    out.push_str(&self.to_str(&v)?)?;
                }
            }
        }
        Ok(out.into_string())
    }

    /// String conversion honouring `$OFS` for arrays; nested values read
    /// as pwsh reads them (one level deep), within the string limit.
    pub fn to_str(&self, v: &Value) -> Result<String, ErrorRecord> {
        match v {
            Value::Array(a) => {
                let sep = self.var_str("ofs").unwrap_or_else(|| " ".into());
                let items = a.items.borrow();
                let mut out = TextBuf::new();
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(&sep)?;
                    }
                    out.fits(x.inner_len())?;
                    out.push_str(&Inner(x).to_string())?;
                }
                Ok(out.into_string())
            }
            other => budget::text_of(other),
        }
    }

    fn index(&mut self, o: &Value, idx: &Value) -> Result<Value, ErrorRecord> {
        match o {
            Value::Array(a) => {
                if let Value::Array(keys) = idx {
                    let items = a.items.borrow();
                    let mut out = Vec::new();
                    for k in keys.items.borrow().iter() {
                        if let Some(v) = index_list(&items, k)? {
                            out.push(v);
                        }
                    }
                    return Ok(Value::array(out));
                }
                Ok(index_list(&a.items.borrow(), idx)?.unwrap_or_default())
            }
            Value::String(s) => {
                let chars: Vec<char> = s.chars().collect();
                let pick = |k: &Value| -> Result<Option<Value>, ErrorRecord> {
                    let i = convert::to_i64(k, "System.Int32")?;
                    let i = if i < 0 { i + chars.len() as i64 } else { i };
                    Ok(usize::try_from(i)
                        .ok()
                        .and_then(|i| chars.get(i))
                        .map(|c| Value::Char(*c)))
                };
                if let Value::Array(keys) = idx {
                    let mut out = Vec::new();
                    for k in keys.items.borrow().iter() {
                        if let Some(v) = pick(k)? {
                            out.push(v);
                        }
                    }
                    return Ok(Value::array(out));
                }
                Ok(pick(idx)?.unwrap_or_default())
            }
            Value::Hashtable(h) => {
                let h = h.borrow();
                if let Value::Array(keys) = idx {
                    let out = keys
                        .items
                        .borrow()
                        .iter()
                        .filter_map(|k| h.get(k).cloned())
                        .collect();
                    return Ok(Value::array(out));
                }
                // `[ordered]` dictionaries also index by position.
                if h.ordered
                    && let Value::Int(i) = idx
                    && h.get(idx).is_none()
                {
                    return Ok(usize::try_from(*i)
                        .ok()
                        .and_then(|i| h.map.get_index(i))
                        .map(|(_, (_, v))| v.clone())
                        .unwrap_or_default());
                }
                Ok(h.get(idx).cloned().unwrap_or_default())
            }
            Value::Null => Err(ErrorRecord::new(
                "Cannot index into a null array.",
                "NullArray",
                ErrorCategory::InvalidOperation,
            )),
            Value::Object(obj) => {
                // Config objects allow $o["Prop"], like PSObject's indexer.
                let name = idx.to_string();
                match obj.borrow().get(&name) {
                    Some(v) => Ok(v),
                    None => Err(ErrorRecord::new(
                        format!("Unable to index into an object of type {}.", o.type_name()),
                        "CannotIndex",
                        ErrorCategory::InvalidOperation,
                    )),
                }
            }
            scalar => {
                // A scalar behaves as a one-element collection.
                let i = convert::to_i64(idx, "System.Int32")?;
                Ok(if i == 0 || i == -1 {
                    scalar.clone()
                } else {
                    Value::Null
                })
            }
        }
    }
}

fn index_list(items: &[Value], k: &Value) -> Result<Option<Value>, ErrorRecord> {
    let i = convert::to_i64(k, "System.Int32")?;
    let i = if i < 0 { i + items.len() as i64 } else { i };
    Ok(usize::try_from(i).ok().and_then(|i| items.get(i)).cloned())
}

fn case_of(cs: bool) -> Case {
    if cs { Case::Sensitive } else { Case::Default }
}

/// A type literal's type: its name as written, or else behind one of the
/// script's `using namespace` names.
fn resolve_using(t: &TypeName) -> Option<PsType> {
    PsType::resolve(&t.name).or_else(|| {
        t.using
            .iter()
            .find_map(|ns| PsType::resolve(&format!("{ns}.{}", t.name)))
    })
}

/// The expression of a statement that is a lone expression.
pub fn single_expr(stmt: &Stmt) -> Option<&Expr> {
    match stmt {
        Stmt::Pipeline(p) => match p.elements.as_slice() {
            [PipeElement::Expr { expr, redirs }] if redirs.is_empty() => Some(expr),
            _ => None,
        },
        _ => None,
    }
}

/// A bare command-mode word: a number if it reads as one, else a string.
pub fn bare_value(s: &str) -> Value {
    let first = s.as_bytes().first().copied().unwrap_or(b'x');
    if first.is_ascii_digit() || ((first == b'-' || first == b'.') && s.len() > 1) {
        let (neg, body) = match s.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, s),
        };
        if let Some(v) = crate::syntax::literals::parse_number(body) {
            let v = Value::from(&v);
            if !neg {
                return v;
            }
            if let Ok(n) = ops::arithmetic(BinOp::Sub, &Value::Int(0), &v) {
                return n;
            }
        }
    }
    Value::from(s)
}

impl Interp {
    /// Runs a parsed script in the current scope, as if its text stood
    /// here: Invoke-Expression and Invoke-History share this.
    pub fn exec_here(&mut self, sb: &ScriptBlockAst, out: &mut dyn Sink) -> Res<()> {
        let prev = std::mem::replace(&mut self.cur_source, sb.source.clone());
        let mut r = Ok(());
        for block in [&sb.begin, &sb.process, &sb.end].into_iter().flatten() {
            r = self.exec_block(block, out);
            if r.is_err() {
                break;
            }
        }
        self.cur_source = prev;
        match r {
            Err(Flow::Return) => Ok(()),
            other => other,
        }
    }

    /// Runs a script block as a condition: Where-Object, switch clauses.
    pub fn invoke_predicate(&mut self, sb: &Rc<ScriptBlockAst>, item: Value) -> Res<bool> {
        let v = self.invoke_with_item(sb, item)?;
        Ok(v.is_true())
    }

    /// Runs a block in the current scope with `$_` set, collecting output.
    pub fn invoke_with_item(&mut self, sb: &Rc<ScriptBlockAst>, item: Value) -> Res<Value> {
        let mut c = Collect::default();
        self.dot_invoke(sb, item, &mut c)?;
        Ok(c.into_value())
    }

    /// Dot-sourced invocation with `$_` set (what Where-Object and
    /// ForEach-Object do): variables assigned inside stay visible.
    pub fn dot_invoke(
        &mut self,
        sb: &Rc<ScriptBlockAst>,
        item: Value,
        out: &mut dyn Sink,
    ) -> Res<()> {
        let saved = self.get_var("_").cloned();
        self.set_local("_", item);
        let prev = std::mem::replace(&mut self.cur_source, sb.source.clone());
        let r = match &sb.end {
            Some(b) => self.exec_block(b, out),
            None => match &sb.process {
                Some(b) => self.exec_block(b, out),
                None => Ok(()),
            },
        };
        self.cur_source = prev;
        self.set_local("_", saved.unwrap_or_default());
        match r {
            Err(Flow::Return) => Ok(()),
            other => other,
        }
    }

    /// `[pscustomobject]` from ordered pairs (used by cmdlets).
    pub fn custom_object(pairs: Vec<(&str, Value)>) -> Value {
        let mut o = PsObject::custom();
        for (k, v) in pairs {
            o.set(k, v);
        }
        Value::object(o)
    }
}
