//! Blocks and statements: if/loops/switch/try/trap, flow statements,
//! functions and assignments.

use super::*;

impl Builder<'_> {
    pub(super) fn statements(&self, pair: Pair<Rule>) -> R<Block> {
        let mut out = Vec::new();
        for p in pair.into_inner() {
            out.push(self.statement(p)?);
        }
        Ok(Rc::from(out))
    }

    /// `{ statements }`
    pub(super) fn block(&self, pair: Pair<Rule>) -> R<Block> {
        match pair.into_inner().next() {
            Some(stmts) => self.statements(stmts),
            None => Ok(Rc::from(Vec::new())),
        }
    }

    pub(super) fn statement(&self, pair: Pair<Rule>) -> R<Stmt> {
        match pair.as_rule() {
            Rule::labeled_loop => {
                let start = pair.as_span().start();
                let mut inner = pair.into_inner();
                let label = inner
                    .next()
                    .map(|l| Rc::from(l.as_str()[1..].to_ascii_lowercase()));
                match inner.next() {
                    Some(l) => self.loop_stmt(l, label, start),
                    None => Err(ParseError::internal(self.src, Span::new(start, start))),
                }
            }
            Rule::function_def => self.function_def(pair),
            Rule::if_stmt => self.if_stmt(pair),
            Rule::try_stmt => self.try_stmt(pair),
            Rule::trap_stmt => self.trap_stmt(pair),
            Rule::flow_stmt => self.flow_stmt(pair),
            Rule::type_def => self.type_def(pair),
            Rule::assignment => self.assignment(pair),
            Rule::pipeline => self.pipeline_chain(pair),
            _ => {
                let start = pair.as_span().start();
                self.loop_stmt(pair, None, start)
            }
        }
    }

    fn function_def(&self, pair: Pair<Rule>) -> R<Stmt> {
        let span = span_of(&pair);
        let mut is_filter = false;
        let mut name: Rc<str> = Rc::from("");
        let mut params = None;
        let mut body = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::kw_function => is_filter = p.as_str().eq_ignore_ascii_case("filter"),
                Rule::function_name => {
                    let raw = p.as_str();
                    let n = raw
                        .split_once(':')
                        .filter(|(s, _)| {
                            ["global", "script", "local", "private"]
                                .iter()
                                .any(|k| s.eq_ignore_ascii_case(k))
                        })
                        .map(|(_, n)| n)
                        .unwrap_or(raw);
                    name = Rc::from(n);
                }
                Rule::param_list => params = Some(self.param_list(p)?),
                Rule::script_block => body = Some(self.script_block(p)?),
                _ => {}
            }
        }
        let Some(mut body) = body else {
            return Err(ParseError::internal(self.src, span));
        };
        if let Some(b) = Rc::get_mut(&mut body) {
            if let Some((list, advanced)) = params {
                if b.params.is_some() {
                    return Err(self.err(
                        span,
                        "A function cannot declare parameters both in its name line and in a param() block.",
                    ));
                }
                b.params = Some(list);
                b.cmdlet_binding |= advanced;
            }
            if is_filter && b.process.is_none() && b.begin.is_none() {
                b.process = b.end.take();
            }
        }
        Ok(Stmt::Function(Rc::new(FunctionDef {
            name,
            is_filter,
            body,
            span,
        })))
    }

    /// `( pipeline )` of if/while/switch and do loops.
    fn condition(&self, pair: Pair<Rule>) -> R<Stmt> {
        let span = span_of(&pair);
        match pair.into_inner().next() {
            Some(p) => self.statement(p),
            None => Err(ParseError::internal(self.src, span)),
        }
    }

    fn if_stmt(&self, pair: Pair<Rule>) -> R<Stmt> {
        let span = span_of(&pair);
        let mut clauses = Vec::new();
        let mut else_block = None;
        let mut cond = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::condition => cond = Some(self.condition(p)?),
                Rule::block => {
                    if let Some(c) = cond.take() {
                        clauses.push((c, self.block(p)?));
                    }
                }
                Rule::elseif_clause => {
                    let mut c = None;
                    for q in p.into_inner() {
                        match q.as_rule() {
                            Rule::condition => c = Some(self.condition(q)?),
                            Rule::block => {
                                if let Some(c) = c.take() {
                                    clauses.push((c, self.block(q)?));
                                }
                            }
                            _ => {}
                        }
                    }
                }
                Rule::else_clause => {
                    if let Some(b) = p.into_inner().find(|q| q.as_rule() == Rule::block) {
                        else_block = Some(self.block(b)?);
                    }
                }
                _ => {}
            }
        }
        Ok(Stmt::If(Box::new(If {
            clauses,
            else_block,
            span,
        })))
    }

    /// foreach, for, while, do and switch, with the label written before them.
    fn loop_stmt(&self, pair: Pair<Rule>, label: Option<Rc<str>>, start: usize) -> R<Stmt> {
        let span = Span::new(start, pair.as_span().end());
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        match rule {
            Rule::foreach_stmt => {
                let mut var = None;
                let mut source = None;
                let mut body = None;
                for p in inner {
                    match p.as_rule() {
                        Rule::variable => var = Some(self.variable(&p)?),
                        Rule::block => body = Some(self.block(p)?),
                        Rule::kw_foreach | Rule::kw_in => {}
                        _ => source = Some(self.statement(p)?),
                    }
                }
                match (var, source, body) {
                    (Some(var), Some(source), Some(body)) => Ok(Stmt::Foreach(Box::new(Foreach {
                        label,
                        var,
                        source,
                        body,
                        span,
                    }))),
                    _ => Err(ParseError::internal(self.src, span)),
                }
            }
            Rule::for_stmt => {
                let mut parts = [None, None, None];
                let mut body = None;
                for p in inner {
                    let slot = match p.as_rule() {
                        Rule::for_init => 0,
                        Rule::for_cond => 1,
                        Rule::for_iter => 2,
                        Rule::block => {
                            body = Some(self.block(p)?);
                            continue;
                        }
                        _ => continue,
                    };
                    if let Some(s) = p.into_inner().next() {
                        parts[slot] = Some(self.statement(s)?);
                    }
                }
                let [init, cond, iter] = parts;
                match body {
                    Some(body) => Ok(Stmt::For(Box::new(For {
                        label,
                        init,
                        cond,
                        iter,
                        body,
                        span,
                    }))),
                    None => Err(ParseError::internal(self.src, span)),
                }
            }
            Rule::while_stmt => {
                inner.next();
                match (inner.next(), inner.next()) {
                    (Some(c), Some(b)) => Ok(Stmt::While(Box::new(While {
                        label,
                        cond: self.condition(c)?,
                        body: self.block(b)?,
                        span,
                    }))),
                    _ => Err(ParseError::internal(self.src, span)),
                }
            }
            Rule::do_stmt => {
                inner.next();
                match (inner.next(), inner.next(), inner.next()) {
                    (Some(b), Some(kw), Some(c)) => Ok(Stmt::DoLoop(Box::new(DoLoop {
                        label,
                        body: self.block(b)?,
                        until: kw.as_rule() == Rule::kw_until,
                        cond: self.condition(c)?,
                        span,
                    }))),
                    _ => Err(ParseError::internal(self.src, span)),
                }
            }
            _ => self.switch_stmt(inner, label, span),
        }
    }

    fn switch_stmt(
        &self,
        inner: pest::iterators::Pairs<Rule>,
        label: Option<Rc<str>>,
        span: Span,
    ) -> R<Stmt> {
        let mut flags = SwitchFlags::default();
        let mut subject = None;
        let mut clauses = Vec::new();
        let mut default = None;
        for p in inner {
            match p.as_rule() {
                Rule::switch_flag => self.switch_flag(&p, &mut flags)?,
                Rule::condition => subject = Some(self.condition(p)?),
                Rule::switch_body => {
                    for c in p.into_inner() {
                        self.switch_clause(c, &mut clauses, &mut default)?;
                    }
                }
                _ => {}
            }
        }
        match subject {
            Some(subject) => Ok(Stmt::Switch(Box::new(Switch {
                label,
                flags,
                subject,
                clauses,
                default,
                span,
            }))),
            None => Err(ParseError::internal(self.src, span)),
        }
    }

    /// `-regex`, `-wildcard`, `-exact`, `-casesensitive`.
    pub(super) fn switch_flag(&self, p: &Pair<Rule>, flags: &mut SwitchFlags) -> R<()> {
        match after_dash(p.as_str()).to_ascii_lowercase().as_str() {
            "regex" => flags.regex = true,
            "wildcard" => flags.wildcard = true,
            "exact" => flags.exact = true,
            "casesensitive" => flags.case_sensitive = true,
            other => {
                return Err(self.err(
                    span_of(p),
                    format!("The switch option -{other} is not supported."),
                ));
            }
        }
        Ok(())
    }

    fn switch_clause(
        &self,
        p: Pair<Rule>,
        clauses: &mut Vec<SwitchClause>,
        default: &mut Option<Block>,
    ) -> R<()> {
        {
            {
                {
                    let mut ci = p.into_inner();
                    let (Some(pat), Some(body)) = (ci.next(), ci.next()) else {
                        return Ok(());
                    };
                    let pattern = match pat.as_rule() {
                        Rule::switch_default => None,
                        Rule::script_block => {
                            let span = span_of(&pat);
                            Some(Expr {
                                kind: ExprKind::ScriptBlock(self.script_block(pat)?),
                                span,
                            })
                        }
                        Rule::postfix_expr => Some(self.postfix_expr(pat)?),
                        Rule::unary_expr => Some(self.unary_expr(pat)?),
                        _ => Some(const_str(self.bare_word_text(&pat), span_of(&pat))),
                    };
                    let body = self.block(body)?;
                    match pattern {
                        Some(pattern) => clauses.push(SwitchClause { pattern, body }),
                        None => *default = Some(body),
                    }
                }
            }
        }
        Ok(())
    }

    fn try_stmt(&self, pair: Pair<Rule>) -> R<Stmt> {
        let span = span_of(&pair);
        let mut body = None;
        let mut catches = Vec::new();
        let mut finally = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::block => body = Some(self.block(p)?),
                Rule::catch_clause => {
                    let mut types = Vec::new();
                    let mut block = None;
                    for q in p.into_inner() {
                        match q.as_rule() {
                            Rule::type_literal => types.push(self.type_name(&q)?),
                            Rule::block => block = Some(self.block(q)?),
                            _ => {}
                        }
                    }
                    if let Some(body) = block {
                        catches.push(Catch { types, body });
                    }
                }
                Rule::finally_clause => {
                    if let Some(b) = p.into_inner().find(|q| q.as_rule() == Rule::block) {
                        finally = Some(self.block(b)?);
                    }
                }
                _ => {}
            }
        }
        match body {
            Some(body) => Ok(Stmt::Try(Box::new(Try {
                body,
                catches,
                finally,
                span,
            }))),
            None => Err(ParseError::internal(self.src, span)),
        }
    }

    fn trap_stmt(&self, pair: Pair<Rule>) -> R<Stmt> {
        let span = span_of(&pair);
        let mut type_name = None;
        let mut body = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::type_literal => type_name = Some(self.type_name(&p)?),
                Rule::block => body = Some(self.block(p)?),
                _ => {}
            }
        }
        match body {
            Some(body) => Ok(Stmt::Trap(Box::new(Trap {
                type_name,
                body,
                span,
            }))),
            None => Err(ParseError::internal(self.src, span)),
        }
    }

    fn flow_stmt(&self, pair: Pair<Rule>) -> R<Stmt> {
        let span = span_of(&pair);
        let mut kind = FlowKind::Return;
        let mut label = None;
        let mut value = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::kw_break | Rule::kw_return => {
                    kind = match p.as_str().to_ascii_lowercase().as_str() {
                        "break" => FlowKind::Break,
                        "continue" => FlowKind::Continue,
                        "return" => FlowKind::Return,
                        "exit" => FlowKind::Exit,
                        _ => FlowKind::Throw,
                    }
                }
                Rule::flow_label => label = Some(Rc::from(p.as_str().to_ascii_lowercase())),
                _ => value = Some(self.pipeline(p)?),
            }
        }
        Ok(Stmt::Flow(Box::new(FlowStmt {
            kind,
            label,
            value,
            in_method: kind == FlowKind::Return && self.in_method.get(),
            span,
        })))
    }

    fn assignment(&self, pair: Pair<Rule>) -> R<Stmt> {
        let span = span_of(&pair);
        let mut targets = Vec::new();
        // The first target no value can be stored in: `(1)`, `$a.M()`.
        let mut unassignable = None;
        let mut op = None;
        let mut value = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::assign_target => {
                    let mut casts = Vec::new();
                    let tspan = span_of(&p);
                    let mut e = None;
                    for q in p.into_inner() {
                        match q.as_rule() {
                            Rule::type_literal => casts.push(self.type_name(&q)?),
                            _ => e = Some(self.postfix_expr(q)?),
                        }
                    }
                    let Some(mut e) = e else {
                        return Err(ParseError::internal(self.src, tspan));
                    };
                    if unassignable.is_none()
                        && !matches!(
                            e.kind,
                            ExprKind::Var(_) | ExprKind::Member { .. } | ExprKind::Index { .. }
                        )
                    {
                        unassignable = Some(tspan);
                    }
                    for t in casts.into_iter().rev() {
                        e = Expr {
                            kind: ExprKind::Cast(t, Box::new(e)),
                            span: tspan,
                        };
                    }
                    targets.push(e);
                }
                Rule::assign_op => {
                    if let Some(at) = unassignable {
                        return Err(self.err(
                            at,
                            "The assignment expression is not valid. The input to an assignment operator must be an object that is able to accept assignments, such as a variable or a property.",
                        ));
                    }
                    let o = match p.as_str() {
                        "=" => AssignOp::Set,
                        "+=" => AssignOp::Add,
                        "-=" => AssignOp::Sub,
                        "*=" => AssignOp::Mul,
                        "/=" => AssignOp::Div,
                        "%=" => AssignOp::Rem,
                        _ => AssignOp::Coalesce,
                    };
                    if targets.len() > 1 && o != AssignOp::Set {
                        let at = p.as_span().start();
                        return Err(self.err(
                            Span::new(at, at + 1),
                            "Only '=' can assign to several variables at once.",
                        ));
                    }
                    op = Some(o);
                }
                _ => value = Some(self.statement(p)?),
            }
        }
        match (op, value) {
            (Some(op), Some(value)) => Ok(Stmt::Assign(Box::new(Assign {
                targets,
                op,
                value,
                span,
            }))),
            _ => Err(ParseError::internal(self.src, span)),
        }
    }
}
