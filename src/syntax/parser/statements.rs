//! Blocks and statements: script bodies, if/loops/switch/try/trap, flow
//! statements and functions.

use super::*;

impl Parser<'_> {
    /// The body of a script or script block: optional attributes and
    /// param(), then named blocks or statements, up to `close`.
    pub(super) fn script_body(&mut self, close: Option<u8>, start: usize) -> R<Rc<ScriptBlockAst>> {
        let mut ast = ScriptBlockAst {
            source: self.src.clone(),
            span: Span::new(start, start),
            cmdlet_binding: false,
            should_process: false,
            params: None,
            begin: None,
            process: None,
            end: None,
        };
        self.skip_seps();
        // [CmdletBinding()] and other attributes before param().
        loop {
            let save = self.pos;
            if self.peek() == b'[' {
                if let Some((name, args)) = self.try_attribute()? {
                    if name.eq_ignore_ascii_case("cmdletbinding") {
                        ast.cmdlet_binding = true;
                        ast.should_process = args.iter().any(|a| match a {
                            AttrArg::Named(k, v) => {
                                k.eq_ignore_ascii_case("SupportsShouldProcess")
                                    && v.as_ref().is_none_or(
                                        |e| !matches!(&e.kind, ExprKind::Const(c) if !c.is_true()),
                                    )
                            }
                            AttrArg::Positional(_) => false,
                        });
                    }
                    self.skip_seps();
                    continue;
                }
                self.pos = save;
            }
            break;
        }
        if self.keyword() == Some("param") {
            let save = self.pos;
            self.pos += 5;
            self.skip_nl();
            if self.peek() == b'(' {
                self.pos += 1;
                let (params, advanced) = self.param_list(b')')?;
                self.expect(
                    b')',
                    "Missing ')' in function parameter list.",
                    "MissingEndParenthesisInFunctionParameterList",
                )?;
                ast.cmdlet_binding |= advanced;
                ast.params = Some(params);
                self.skip_seps();
            } else {
                self.pos = save;
            }
        }
        if self.named_block_ahead() {
            while self.named_block_ahead() {
                let kw = self.keyword().unwrap_or("end");
                self.pos += kw.len();
                self.skip_nl();
                let block = self.block()?;
                match kw {
                    "begin" => ast.begin = Some(block),
                    "process" => ast.process = Some(block),
                    "end" => ast.end = Some(block),
                    _ => {}
                }
                self.skip_seps();
            }
        } else {
            ast.end = Some(self.statements(close)?);
        }
        ast.span.end = self.pos as u32;
        Ok(Rc::new(ast))
    }

    pub(super) fn named_block_ahead(&self) -> bool {
        matches!(
            self.keyword(),
            Some("begin" | "process" | "end" | "dynamicparam")
        ) && {
            let mut i = self.pos;
            while i < self.b.len() && self.b[i].is_ascii_alphabetic() {
                i += 1;
            }
            while i < self.b.len() && matches!(self.b[i], b' ' | b'\t' | b'\r' | b'\n') {
                i += 1;
            }
            self.b.get(i) == Some(&b'{')
        }
    }

    /// `{ statements }`
    pub(super) fn block(&mut self) -> R<Block> {
        self.skip_ws();
        let open = self.pos;
        self.require(
            b'{',
            "Missing opening '{' of a statement block.",
            "Missing statement block.",
            "MissingStatementBlock",
            self.b.len(),
        )?;
        self.enter()?;
        let stmts = self.statements(Some(b'}'))?;
        self.leave();
        self.close_brace(open)?;
        Ok(stmts)
    }

    /// Statements up to `close` (not consumed) or the end of input.
    pub(super) fn statements(&mut self, close: Option<u8>) -> R<Block> {
        let mut out = Vec::new();
        loop {
            self.skip_seps();
            if self.eof() {
                break;
            }
            if close == Some(self.peek()) {
                break;
            }
            if matches!(self.peek(), b'}' | b')') {
                return Err(self.unexpected());
            }
            out.push(self.statement()?);
            self.skip_ws();
            match self.peek() {
                0 | b'\n' | b'\r' | b';' => {}
                c if close == Some(c) => {}
                _ => {
                    // A statement that ends with a block may be followed by
                    // another on the same line only after a separator.
                    return Err(self.unexpected());
                }
            }
        }
        Ok(Rc::from(out))
    }

    pub(super) fn statement(&mut self) -> R<Stmt> {
        self.skip_ws();
        let start = self.pos;
        if self.peek() == b':' && is_ident_start(self.peek_at(1)) {
            // :label before a loop
            self.pos += 1;
            while is_ident(self.peek()) {
                self.pos += 1;
            }
            let label: Rc<str> = Rc::from(self.text[start + 1..self.pos].to_ascii_lowercase());
            self.skip_nl();
            return match self.keyword() {
                Some("foreach" | "for" | "while" | "do" | "switch") => {
                    self.loop_statement(Some(label), start)
                }
                _ => Err(self.err_at(
                    self.pos,
                    "A loop label must be followed by a loop or a switch statement.",
                )),
            };
        }
        match self.keyword() {
            Some("function" | "filter") => self.function_def(start),
            Some("if") => self.if_stmt(start),
            Some("foreach" | "for" | "while" | "do" | "switch") => self.loop_statement(None, start),
            Some("try") => self.try_stmt(start),
            Some("trap") => self.trap_stmt(start),
            Some("break" | "continue" | "return" | "exit" | "throw") => self.flow_stmt(start),
            _ => self.pipeline_or_assign(),
        }
    }

    pub(super) fn function_def(&mut self, start: usize) -> R<Stmt> {
        let is_filter = self.keyword() == Some("filter");
        self.pos += if is_filter { 6 } else { 8 };
        self.skip_ws();
        let name_start = self.pos;
        while !self.eof() && !ends_word(self.peek()) {
            self.pos += 1;
        }
        if self.pos == name_start {
            if self.eof() {
                return Err(self.incomplete(
                    "Missing function name.",
                    "MissingNameAfterKeyword",
                    self.b.len(),
                ));
            }
            return Err(self.err_at(self.pos, "Missing name after the function keyword."));
        }
        let raw = &self.text[name_start..self.pos];
        let name = raw
            .split_once(':')
            .filter(|(s, _)| {
                ["global", "script", "local", "private"]
                    .iter()
                    .any(|k| s.eq_ignore_ascii_case(k))
            })
            .map(|(_, n)| n)
            .unwrap_or(raw);
        let name: Rc<str> = Rc::from(name);
        self.skip_nl();
        let mut params = None;
        if self.peek() == b'(' {
            self.pos += 1;
            let list = self.param_list(b')')?;
            self.expect(
                b')',
                "Missing ')' in function parameter list.",
                "MissingEndParenthesisInFunctionParameterList",
            )?;
            params = Some(list);
            self.skip_nl();
        }
        let open = self.pos;
        let msg = "Missing function body in function declaration.";
        self.require(b'{', msg, msg, "MissingFunctionBody", self.b.len())?;
        self.enter()?;
        let mut body = self.script_body(Some(b'}'), open)?;
        self.leave();
        self.close_brace(open)?;
        if let Some(b) = Rc::get_mut(&mut body) {
            b.span.end = self.pos as u32;
            if let Some((list, advanced)) = params {
                if b.params.is_some() {
                    return Err(ParseError::at(
                        self.src,
                        self.span_from(start),
                        "A function cannot declare parameters both in its name line and in a param() block.".into(),
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
            span: self.span_from(start),
        })))
    }

    /// `( pipeline )` of if/while/switch.
    pub(super) fn condition(&mut self, what: &str) -> R<Stmt> {
        self.skip_nl();
        if self.peek() != b'(' {
            if self.eof() {
                return Err(self.incomplete(
                    &format!("Missing '(' after '{what}'."),
                    "MissingOpenParenthesisAfterKeyword",
                    self.b.len(),
                ));
            }
            return Err(self.err_at(self.pos, format!("Missing '(' after '{what}'.")));
        }
        let open = self.pos;
        self.pos += 1;
        self.enter()?;
        self.skip_nl();
        if self.peek() == b')' {
            return Err(self.err_at(
                self.pos,
                format!("Missing condition in the '{what}' statement after '('."),
            ));
        }
        let cond = self.pipeline_or_assign()?;
        self.skip_nl();
        self.leave();
        if self.peek() != b')' {
            if self.eof() {
                return Err(self.unclosed(
                    open,
                    1,
                    &format!("Missing closing ')' after expression in '{what}' statement."),
                    "MissingEndParenthesisAfterStatement",
                ));
            }
            return Err(self.err_at(
                self.pos,
                format!("Missing closing ')' after expression in '{what}' statement."),
            ));
        }
        self.pos += 1;
        Ok(cond)
    }

    pub(super) fn if_stmt(&mut self, start: usize) -> R<Stmt> {
        self.pos += 2;
        let mut clauses = Vec::new();
        let cond = self.condition("if")?;
        self.skip_nl();
        clauses.push((cond, self.block()?));
        let mut else_block = None;
        loop {
            let save = self.pos;
            self.skip_nl();
            if self.eat_keyword("elseif") {
                let c = self.condition("elseif")?;
                self.skip_nl();
                clauses.push((c, self.block()?));
            } else if self.eat_keyword("else") {
                self.skip_nl();
                else_block = Some(self.block()?);
                break;
            } else {
                self.pos = save;
                break;
            }
        }
        Ok(Stmt::If(Box::new(If {
            clauses,
            else_block,
            span: self.span_from(start),
        })))
    }

    pub(super) fn loop_statement(&mut self, label: Option<Rc<str>>, start: usize) -> R<Stmt> {
        match self.keyword() {
            Some("foreach") => {
                self.pos += 7;
                self.skip_nl();
                let open = self.pos;
                self.expect(
                    b'(',
                    "Missing opening '(' after keyword 'foreach'.",
                    "MissingOpenParenthesisAfterKeyword",
                )?;
                self.enter()?;
                self.skip_nl();
                if self.peek() != b'$' {
                    return Err(self.err_at(self.pos, "Missing variable name after foreach."));
                }
                let var = self.variable()?;
                self.skip_nl();
                if !self.eat_keyword("in") {
                    if self.eof() {
                        return Err(self.incomplete(
                            "Missing 'in' after variable in foreach loop.",
                            "MissingInInForeach",
                            self.b.len(),
                        ));
                    }
                    return Err(
                        self.err_at(self.pos, "Missing 'in' after variable in foreach loop.")
                    );
                }
                self.skip_nl();
                let source = self.pipeline_or_assign()?;
                self.skip_nl();
                self.leave();
                if self.peek() != b')' {
                    return Err(if self.eof() {
                        self.unclosed(
                            open,
                            1,
                            "Missing closing ')' after expression in 'foreach' statement.",
                            "MissingEndParenthesisAfterStatement",
                        )
                    } else {
                        self.err_at(
                            self.pos,
                            "Missing closing ')' after expression in 'foreach' statement.",
                        )
                    });
                }
                self.pos += 1;
                self.skip_nl();
                let body = self.block()?;
                Ok(Stmt::Foreach(Box::new(Foreach {
                    label,
                    var,
                    source,
                    body,
                    span: self.span_from(start),
                })))
            }
            Some("for") => {
                self.pos += 3;
                self.skip_nl();
                self.expect(
                    b'(',
                    "Missing opening '(' after keyword 'for'.",
                    "MissingOpenParenthesisAfterKeyword",
                )?;
                self.enter()?;
                let init = self.for_part(false)?;
                let cond = self.for_part(false)?;
                let iter = self.for_part(true)?;
                self.leave();
                self.expect(
                    b')',
                    "Missing closing ')' after expression in 'for' statement.",
                    "MissingEndParenthesisAfterStatement",
                )?;
                self.skip_nl();
                let body = self.block()?;
                Ok(Stmt::For(Box::new(For {
                    label,
                    init,
                    cond,
                    iter,
                    body,
                    span: self.span_from(start),
                })))
            }
            Some("while") => {
                self.pos += 5;
                let cond = self.condition("while")?;
                self.skip_nl();
                let body = self.block()?;
                Ok(Stmt::While(Box::new(While {
                    label,
                    cond,
                    body,
                    span: self.span_from(start),
                })))
            }
            Some("do") => {
                self.pos += 2;
                self.skip_nl();
                let body = self.block()?;
                self.skip_nl();
                let until = match self.keyword() {
                    Some("while") => false,
                    Some("until") => true,
                    _ => {
                        if self.eof() {
                            return Err(self.incomplete(
                                "Missing while or until keyword in do loop.",
                                "MissingWhileOrUntilInDoWhile",
                                self.b.len(),
                            ));
                        }
                        return Err(
                            self.err_at(self.pos, "Missing while or until keyword in do loop.")
                        );
                    }
                };
                self.pos += 5;
                let cond = self.condition(if until { "until" } else { "while" })?;
                Ok(Stmt::DoLoop(Box::new(DoLoop {
                    label,
                    body,
                    cond,
                    until,
                    span: self.span_from(start),
                })))
            }
            _ => self.switch_stmt(label, start),
        }
    }

    /// One of the three parts of `for (init; cond; iter)`.
    pub(super) fn for_part(&mut self, last: bool) -> R<Option<Stmt>> {
        self.skip_nl();
        let stmt = if matches!(self.peek(), b';' | b')') {
            None
        } else {
            Some(self.pipeline_or_assign()?)
        };
        self.skip_ws();
        if !last {
            match self.peek() {
                b';' | b'\n' | b'\r' => self.pos += 1,
                b')' => {}
                0 => {
                    return Err(self.incomplete(
                        "Missing closing ')' after expression in 'for' statement.",
                        "MissingEndParenthesisAfterStatement",
                        self.b.len(),
                    ));
                }
                _ => return Err(self.unexpected()),
            }
        } else {
            self.skip_nl();
        }
        Ok(stmt)
    }

    pub(super) fn switch_stmt(&mut self, label: Option<Rc<str>>, start: usize) -> R<Stmt> {
        self.pos += 6;
        let mut flags = SwitchFlags::default();
        loop {
            self.skip_ws();
            if self.peek() != b'-' {
                break;
            }
            let fstart = self.pos;
            self.pos += 1;
            while self.peek().is_ascii_alphabetic() {
                self.pos += 1;
            }
            let flag = self.text[fstart + 1..self.pos].to_ascii_lowercase();
            match flag.as_str() {
                "regex" => flags.regex = true,
                "wildcard" => flags.wildcard = true,
                "exact" => flags.exact = true,
                "casesensitive" => flags.case_sensitive = true,
                other => {
                    return Err(ParseError::at(
                        self.src,
                        self.span_from(fstart),
                        format!("The switch option -{other} is not supported."),
                    ));
                }
            }
        }
        let subject = self.condition("switch")?;
        self.skip_nl();
        let open = self.pos;
        let msg = "Missing '{' in switch statement.";
        self.require(
            b'{',
            msg,
            msg,
            "MissingCurlyBraceInSwitchStatement",
            self.b.len(),
        )?;
        self.enter()?;
        let mut clauses = Vec::new();
        let mut default = None;
        loop {
            self.skip_seps();
            if self.peek() == b'}' || self.eof() {
                break;
            }
            let pstart = self.pos;
            let pattern = if self.keyword_like("default") {
                self.pos += 7;
                None
            } else if self.peek() == b'{' {
                let sb = self.script_block_literal()?;
                Some(Expr {
                    kind: ExprKind::ScriptBlock(sb),
                    span: self.span_from(pstart),
                })
            } else if matches!(self.peek(), b'$' | b'(' | b'\'' | b'"' | b'@' | b'[')
                || self.peek().is_ascii_digit()
            {
                Some(self.postfix_expr()?)
            } else if self.peek() == b'-' && self.peek_at(1).is_ascii_digit() {
                Some(self.unary_expr()?)
            } else {
                let w = self.bare_word_text();
                if w.is_empty() {
                    return Err(self.unexpected());
                }
                Some(Expr {
                    kind: ExprKind::Const(Value::from(w)),
                    span: self.span_from(pstart),
                })
            };
            self.skip_nl();
            let body = self.block()?;
            match pattern {
                Some(p) => clauses.push(SwitchClause { pattern: p, body }),
                None => default = Some(body),
            }
        }
        self.leave();
        self.close_brace(open)?;
        Ok(Stmt::Switch(Box::new(Switch {
            label,
            flags,
            subject,
            clauses,
            default,
            span: self.span_from(start),
        })))
    }

    /// A word (case-insensitive) that is not followed by more name chars.
    pub(super) fn keyword_like(&self, w: &str) -> bool {
        self.starts_ci(w)
            && !self
                .b
                .get(self.pos + w.len())
                .is_some_and(|&c| continues_name(c))
    }

    pub(super) fn try_stmt(&mut self, start: usize) -> R<Stmt> {
        self.pos += 3;
        self.skip_nl();
        let body = self.block()?;
        let mut catches = Vec::new();
        let mut finally = None;
        loop {
            let save = self.pos;
            self.skip_nl();
            if self.eat_keyword("catch") {
                self.skip_ws();
                let mut types = Vec::new();
                while self.peek() == b'[' {
                    types.push(self.type_literal()?);
                    self.skip_ws();
                    if self.peek() == b',' {
                        self.pos += 1;
                        self.skip_nl();
                    } else {
                        break;
                    }
                }
                self.skip_nl();
                catches.push(Catch {
                    types,
                    body: self.block()?,
                });
            } else if self.eat_keyword("finally") {
                self.skip_nl();
                finally = Some(self.block()?);
                break;
            } else {
                self.pos = save;
                break;
            }
        }
        if catches.is_empty() && finally.is_none() {
            if self.eof() {
                return Err(self.incomplete(
                    "The Try statement is missing its Catch or Finally block.",
                    "MissingCatchOrFinally",
                    self.b.len(),
                ));
            }
            return Err(ParseError::at(
                self.src,
                self.span_from(start),
                "The Try statement is missing its Catch or Finally block.".into(),
            ));
        }
        Ok(Stmt::Try(Box::new(Try {
            body,
            catches,
            finally,
            span: self.span_from(start),
        })))
    }

    pub(super) fn trap_stmt(&mut self, start: usize) -> R<Stmt> {
        self.pos += 4;
        self.skip_ws();
        let type_name = if self.peek() == b'[' {
            Some(self.type_literal()?)
        } else {
            None
        };
        self.skip_nl();
        let body = self.block()?;
        Ok(Stmt::Trap(Box::new(Trap {
            type_name,
            body,
            span: self.span_from(start),
        })))
    }

    pub(super) fn flow_stmt(&mut self, start: usize) -> R<Stmt> {
        let kw = self.keyword().unwrap_or("return");
        self.pos += kw.len();
        let kind = match kw {
            "break" => FlowKind::Break,
            "continue" => FlowKind::Continue,
            "return" => FlowKind::Return,
            "exit" => FlowKind::Exit,
            _ => FlowKind::Throw,
        };
        self.skip_ws();
        let mut label = None;
        let mut value = None;
        if !matches!(self.peek(), 0 | b'\n' | b'\r' | b';' | b'}' | b')' | b'|') {
            if matches!(kind, FlowKind::Break | FlowKind::Continue) {
                let lstart = self.pos;
                while is_ident(self.peek()) {
                    self.pos += 1;
                }
                if self.pos == lstart {
                    return Err(
                        self.err_at(self.pos, "A break or continue label must be a plain word.")
                    );
                }
                label = Some(Rc::from(self.text[lstart..self.pos].to_ascii_lowercase()));
            } else {
                value = Some(self.pipeline()?);
            }
        }
        Ok(Stmt::Flow(Box::new(FlowStmt {
            kind,
            label,
            value,
            span: self.span_from(start),
        })))
    }
}
