//! Pipelines, assignments and command mode: command names, parameters,
//! arguments (bare words that may embed variables), redirections.

use super::*;

impl Parser<'_> {
    /// An assignment (`$x = ...`, `$a, $b = ...`, `[int]$x = ...`) or a pipeline.
    pub(super) fn pipeline_or_assign(&mut self) -> R<Stmt> {
        self.skip_ws();
        let start = self.pos;
        if matches!(self.peek(), b'$' | b'[') {
            if let Some(a) = self.try_assignment(start)? {
                return Ok(a);
            }
            self.pos = start;
        }
        Ok(Stmt::Pipeline(self.pipeline()?))
    }

    pub(super) fn try_assignment(&mut self, start: usize) -> R<Option<Stmt>> {
        let mut targets = Vec::new();
        loop {
            let tstart = self.pos;
            let mut casts = Vec::new();
            while self.peek() == b'[' {
                let save = self.pos;
                match self.type_literal() {
                    Ok(t) => casts.push(t),
                    Err(_) => {
                        self.pos = save;
                        return Ok(None);
                    }
                }
                self.skip_ws();
            }
            if self.peek() != b'$' {
                return Ok(None);
            }
            let mut e = match self.postfix_expr() {
                Ok(e) => e,
                Err(_) => return Ok(None),
            };
            if !matches!(
                e.kind,
                ExprKind::Var(_) | ExprKind::Member { .. } | ExprKind::Index { .. }
            ) {
                return Ok(None);
            }
            for t in casts.into_iter().rev() {
                e = Expr {
                    kind: ExprKind::Cast(t, Box::new(e)),
                    span: self.span_from(tstart),
                };
            }
            targets.push(e);
            self.skip_ws();
            if self.peek() == b',' {
                self.pos += 1;
                self.skip_nl();
                continue;
            }
            break;
        }
        let op = match (self.peek(), self.peek_at(1), self.peek_at(2)) {
            (b'=', c, _) if c != b'=' => (AssignOp::Set, 1),
            (b'+', b'=', _) => (AssignOp::Add, 2),
            (b'-', b'=', _) => (AssignOp::Sub, 2),
            (b'*', b'=', _) => (AssignOp::Mul, 2),
            (b'/', b'=', _) => (AssignOp::Div, 2),
            (b'%', b'=', _) => (AssignOp::Rem, 2),
            (b'?', b'?', b'=') => (AssignOp::Coalesce, 3),
            _ => return Ok(None),
        };
        let op_at = self.pos;
        self.pos += op.1;
        if targets.len() > 1 && op.0 != AssignOp::Set {
            return Err(self.err_at(op_at, "Only '=' can assign to several variables at once."));
        }
        self.skip_nl();
        if matches!(self.peek(), 0 | b')' | b'}' | b';') {
            if self.eof() {
                return Err(self.incomplete(
                    "You must provide a value expression following the '=' operator.",
                    "ExpectedValueExpression",
                    op_at,
                ));
            }
            return Err(self.err_at(
                op_at,
                "You must provide a value expression following the '=' operator.",
            ));
        }
        let value = match self.keyword() {
            Some("if" | "switch" | "foreach" | "for" | "while" | "do" | "try") => {
                let s = self.pos;
                self.statement_at_keyword(s)?
            }
            _ => self.pipeline_or_assign()?,
        };
        Ok(Some(Stmt::Assign(Box::new(Assign {
            targets,
            op: op.0,
            value,
            span: self.span_from(start),
        }))))
    }

    pub(super) fn statement_at_keyword(&mut self, start: usize) -> R<Stmt> {
        match self.keyword() {
            Some("if") => self.if_stmt(start),
            Some("try") => self.try_stmt(start),
            _ => self.loop_statement(None, start),
        }
    }

    pub(super) fn pipeline(&mut self) -> R<Pipeline> {
        self.skip_ws();
        let start = self.pos;
        let mut elements = Vec::new();
        elements.push(self.pipeline_head()?);
        loop {
            self.skip_ws();
            if self.peek() == b'|' && self.peek_at(1) != b'|' {
                let bar = self.pos;
                self.pos += 1;
                self.skip_nl();
                if matches!(self.peek(), 0 | b'|' | b')' | b'}' | b';') {
                    if self.eof() {
                        return Err(self.incomplete(
                            "An empty pipe element is not allowed.",
                            "EmptyPipeElement",
                            bar,
                        ));
                    }
                    return Err(self.err_at(bar, "An empty pipe element is not allowed."));
                }
                if !self.command_ahead() {
                    let e = self.pos;
                    let expr = self.expression()?;
                    return Err(ParseError::at(
                        self.src,
                        Span::new(e, expr.span.end as usize),
                        "Expressions are only allowed as the first element of a pipeline.".into(),
                    ));
                }
                elements.push(PipeElement::Command(Box::new(self.command()?)));
            } else {
                break;
            }
        }
        Ok(Pipeline {
            elements,
            span: self.span_from(start),
        })
    }

    /// Whether a command (rather than an expression) starts here.
    pub(super) fn command_ahead(&self) -> bool {
        let c = self.peek();
        match c {
            b'&' => self.peek_at(1) != b'&',
            b'.' => {
                matches!(
                    self.peek_at(1),
                    b' ' | b'\t' | b'$' | b'(' | b'{' | b'\'' | b'"' | b'@'
                ) || (!self.peek_at(1).is_ascii_digit())
            }
            b'$' | b'(' | b'@' | b'\'' | b'"' | b'[' | b'{' | b',' | b'!' | b'+' | b'-' => false,
            0 => false,
            c if c.is_ascii_digit() => false,
            c if ends_word(c) => false,
            _ => !self
                .peek_char()
                .is_some_and(|ch| is_single_quote(ch) || is_double_quote(ch)),
        }
    }

    pub(super) fn pipeline_head(&mut self) -> R<PipeElement> {
        if self.command_ahead() {
            return Ok(PipeElement::Command(Box::new(self.command()?)));
        }
        let expr = self.expression()?;
        let mut redirs = Vec::new();
        loop {
            self.skip_ws();
            match self.try_redirection()? {
                Some(r) => redirs.push(r),
                None => break,
            }
        }
        Ok(PipeElement::Expr { expr, redirs })
    }

    pub(super) fn command(&mut self) -> R<CommandCall> {
        self.skip_ws();
        let start = self.pos;
        let mut invoke = InvokeKind::Plain;
        let name;
        let name_start;
        if (self.peek() == b'&' || self.peek() == b'.')
            && !self.peek_at(1).is_ascii_alphanumeric()
            && self.peek_at(1) != b'/'
            && self.peek_at(1) != b'\\'
            && self.peek_at(1) != b'.'
        {
            invoke = if self.peek() == b'&' {
                InvokeKind::Call
            } else {
                InvokeKind::DotSource
            };
            self.pos += 1;
            self.skip_ws();
            name_start = self.pos;
            if matches!(self.peek(), b'$' | b'(' | b'{' | b'\'' | b'"' | b'@') {
                name = CommandName::Expr(self.postfix_expr()?);
            } else {
                let w = self.bare_word_text();
                if w.is_empty() {
                    return Err(self.unexpected());
                }
                name = CommandName::Literal(Rc::from(w));
            }
        } else {
            name_start = self.pos;
            let w = self.bare_word_text();
            if w.is_empty() {
                return Err(self.unexpected());
            }
            name = CommandName::Literal(Rc::from(w));
        }
        let name_span = self.span_from(name_start);
        let mut elements = Vec::new();
        let mut redirs = Vec::new();
        loop {
            self.skip_ws();
            let c = self.peek();
            if matches!(c, 0 | b'\n' | b'\r' | b';' | b'|' | b')' | b'}')
                || (c == b'&' && self.peek_at(1) == b'&')
            {
                break;
            }
            if let Some(r) = self.try_redirection()? {
                redirs.push(r);
                continue;
            }
            if c == b'-' && self.starts("--%") {
                let s = self.pos;
                self.pos += 3;
                let rest_start = self.pos;
                while !self.eof() && !self.at_newline() {
                    self.pos += 1;
                }
                let rest = self.text[rest_start..self.pos].trim();
                elements.push(CommandElement::Arg(Expr {
                    kind: ExprKind::Const(Value::from(rest)),
                    span: self.span_from(s),
                }));
                continue;
            }
            if c == b'-' && (is_ident_start(self.peek_at(1)) || self.peek_at(1) == b'?') {
                elements.push(self.parameter()?);
                continue;
            }
            if c == b'@' && is_ident(self.peek_at(1)) {
                let s = self.pos;
                let mut end = self.pos + 1;
                while end < self.b.len() && is_ident(self.b[end]) {
                    end += 1;
                }
                if end >= self.b.len() || ends_word(self.b[end]) {
                    self.pos = end;
                    let name = &self.text[s + 1..end];
                    elements.push(CommandElement::Splat(var_ref(
                        name,
                        VarScope::Any,
                        self.span_from(s),
                    )));
                    continue;
                }
            }
            elements.push(CommandElement::Arg(self.argument()?));
        }
        Ok(CommandCall {
            invoke,
            name,
            elements,
            redirs,
            span: self.span_from(start),
            name_span,
        })
    }

    pub(super) fn parameter(&mut self) -> R<CommandElement> {
        let start = self.pos;
        self.pos += 1;
        let nstart = self.pos;
        while !self.eof() && !ends_word(self.peek()) && self.peek() != b':' {
            self.pos += 1;
        }
        let name: Rc<str> = Rc::from(&self.text[nstart..self.pos]);
        let mut value = None;
        if self.peek() == b':' {
            self.pos += 1;
            self.skip_ws();
            if matches!(self.peek(), 0 | b'\n' | b'\r' | b';' | b'|' | b')' | b'}') {
                return Err(self.err_at(
                    self.pos,
                    format!("Missing an argument for parameter '{name}' after ':'."),
                ));
            }
            value = Some(self.argument()?);
        }
        Ok(CommandElement::Param {
            name,
            value,
            span: self.span_from(start),
        })
    }

    /// A command argument: one value, or several joined by commas.
    pub(super) fn argument(&mut self) -> R<Expr> {
        let start = self.pos;
        let mut items = vec![self.arg_primary()?];
        loop {
            self.skip_ws();
            if self.peek() == b',' {
                self.pos += 1;
                self.skip_nl();
                if matches!(self.peek(), 0 | b';' | b'|' | b')' | b'}') {
                    if self.eof() {
                        return Err(self.incomplete(
                            "Missing argument in parameter list.",
                            "MissingArgument",
                            self.pos,
                        ));
                    }
                    return Err(self.err_at(self.pos, "Missing argument in parameter list."));
                }
                items.push(self.arg_primary()?);
            } else {
                break;
            }
        }
        if items.len() == 1 {
            return Ok(items.pop().unwrap_or(Expr {
                kind: ExprKind::Const(Value::Null),
                span: self.span_from(start),
            }));
        }
        Ok(Expr {
            kind: ExprKind::Array(items),
            span: self.span_from(start),
        })
    }

    pub(super) fn at_arg_end(&self) -> bool {
        let c = self.peek();
        c == 0
            || matches!(
                c,
                b' ' | b'\t' | b'\n' | b'\r' | b';' | b'|' | b')' | b'}' | b',' | b'>' | b'#'
            )
            || (c == b'`' && matches!(self.peek_at(1), b'\n' | b'\r'))
    }

    pub(super) fn arg_primary(&mut self) -> R<Expr> {
        let start = self.pos;
        let c = self.peek();
        // Grouping constructs are expressions whatever follows them.
        if matches!(c, b'(' | b'{')
            || c == b'@' && matches!(self.peek_at(1), b'(' | b'{' | b'"' | b'\'')
            || c == b'$' && self.peek_at(1) == b'('
        {
            return self.postfix_expr();
        }
        let quoted = self
            .peek_char()
            .is_some_and(|ch| is_single_quote(ch) || is_double_quote(ch));
        let exprish = quoted
            || c == b'$'
            || c.is_ascii_digit()
            || (c == b'.' && self.peek_at(1).is_ascii_digit());
        if exprish {
            match self.postfix_expr() {
                Ok(e) if quoted || self.at_arg_end() => return Ok(e),
                Err(e) if quoted => return Err(e),
                _ => self.pos = start,
            }
        }
        // A bare word, possibly with variables in it: c:\logs\$name.txt
        self.bare_argument(start)
    }

    pub(super) fn bare_argument(&mut self, start: usize) -> R<Expr> {
        let mut parts: Vec<StrPart> = Vec::new();
        let mut lit = String::new();
        let mut any_var = false;
        while !self.eof() {
            let c = self.peek();
            if ends_word(c) {
                break;
            }
            if c == b'`' {
                self.pos += 1;
                if let Some(ch) = self.peek_char() {
                    if ch == '\n' || ch == '\r' {
                        self.pos -= 1;
                        break;
                    }
                    lit.push(escape_char(ch));
                    self.pos += ch.len_utf8();
                }
                continue;
            }
            if c == b'$'
                && (is_ident(self.peek_at(1))
                    || matches!(self.peek_at(1), b'{' | b'?' | b'^' | b'$'))
            {
                if !lit.is_empty() {
                    parts.push(StrPart::Lit(Rc::from(std::mem::take(&mut lit))));
                }
                let v = self.variable()?;
                parts.push(StrPart::Var(v));
                any_var = true;
                continue;
            }
            if c == b'$' && self.peek_at(1) == b'(' {
                if !lit.is_empty() {
                    parts.push(StrPart::Lit(Rc::from(std::mem::take(&mut lit))));
                }
                parts.push(StrPart::Sub(self.sub_statements()?));
                any_var = true;
                continue;
            }
            match self.peek_char() {
                Some(ch) => {
                    lit.push(ch);
                    self.pos += ch.len_utf8();
                }
                None => break,
            }
        }
        let span = self.span_from(start);
        if self.pos == start {
            return Err(self.unexpected());
        }
        if !any_var {
            return Ok(Expr {
                kind: ExprKind::Bare(Rc::from(lit)),
                span,
            });
        }
        if !lit.is_empty() {
            parts.push(StrPart::Lit(Rc::from(lit)));
        }
        Ok(Expr {
            kind: ExprKind::Expandable(parts),
            span,
        })
    }

    /// A command name or bare word: characters up to a word end, with
    /// backtick escapes.
    pub(super) fn bare_word_text(&mut self) -> String {
        let mut out = String::new();
        while !self.eof() {
            let c = self.peek();
            if ends_word(c) {
                break;
            }
            if c == b'`' {
                if matches!(self.peek_at(1), b'\n' | b'\r' | 0) {
                    break;
                }
                self.pos += 1;
                if let Some(ch) = self.peek_char() {
                    out.push(escape_char(ch));
                    self.pos += ch.len_utf8();
                }
                continue;
            }
            match self.peek_char() {
                Some(ch) => {
                    out.push(ch);
                    self.pos += ch.len_utf8();
                }
                None => break,
            }
        }
        out
    }

    pub(super) fn try_redirection(&mut self) -> R<Option<Redirection>> {
        let start = self.pos;
        let c = self.peek();
        let (stream, op_len) = match (c, self.peek_at(1)) {
            (b'>', _) => (RedirStream::Output, 0),
            (b'*', b'>') => (RedirStream::All, 1),
            (d @ b'1'..=b'6', b'>') => (
                match d {
                    b'1' => RedirStream::Output,
                    b'2' => RedirStream::Error,
                    b'3' => RedirStream::Warning,
                    b'4' => RedirStream::Verbose,
                    b'5' => RedirStream::Debug,
                    _ => RedirStream::Information,
                },
                1,
            ),
            _ => return Ok(None),
        };
        self.pos += op_len + 1;
        let to = if self.peek() == b'&' {
            self.pos += 1;
            match self.peek() {
                b'1' => {
                    self.pos += 1;
                    RedirTarget::Merge
                }
                _ => {
                    return Err(ParseError::at(
                        self.src,
                        self.span_from(start),
                        "Only '>&1' can merge streams; redirecting into another stream is not supported.".into(),
                    ));
                }
            }
        } else {
            let append = self.peek() == b'>';
            if append {
                self.pos += 1;
            }
            self.skip_ws();
            if matches!(self.peek(), 0 | b'\n' | b'\r' | b';' | b'|' | b')' | b'}') {
                if self.eof() {
                    return Err(self.incomplete(
                        "Missing file specification after redirection operator.",
                        "MissingFileSpecification",
                        start,
                    ));
                }
                return Err(self.err_at(
                    start,
                    "Missing file specification after redirection operator.",
                ));
            }
            let path = if matches!(self.peek(), b'$' | b'(' | b'\'' | b'"') {
                self.postfix_expr()?
            } else {
                let s = self.pos;
                let w = self.bare_word_text();
                Expr {
                    kind: ExprKind::Const(Value::from(w)),
                    span: self.span_from(s),
                }
            };
            RedirTarget::File { path, append }
        };
        Ok(Some(Redirection {
            from: stream,
            to,
            span: self.span_from(start),
        }))
    }
}
