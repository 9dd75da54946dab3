//! Expression mode: precedence climbing over binary operators, unary and
//! postfix operators, primaries, hash literals and script blocks.

use super::*;

impl Parser<'_> {
    /// `operand (binop operand)*` where operands are comma lists.
    pub fn expression(&mut self) -> R<Expr> {
        self.binary(true)
    }

    /// An expression without a top-level comma: method and attribute arguments.
    pub(super) fn arg_expr(&mut self) -> R<Expr> {
        self.binary(false)
    }

    pub(super) fn binary(&mut self, commas: bool) -> R<Expr> {
        self.enter()?;
        let first = if commas {
            self.array_expr()?
        } else {
            self.unary_expr()?
        };
        let mut operands = vec![first];
        let mut ops: Vec<BinOp> = Vec::new();
        loop {
            self.skip_ws();
            let Some((op, len)) = self.binop() else { break };
            let at = self.pos;
            self.pos += len;
            self.skip_nl();
            if matches!(self.peek(), 0 | b')' | b'}' | b';' | b'|') {
                self.leave();
                if self.eof() {
                    return Err(self.incomplete(
                        "You must provide a value expression following the operator.",
                        "ExpectedValueExpression",
                        at,
                    ));
                }
                return Err(self.err_at(
                    at,
                    format!(
                        "You must provide a value expression following the '{}' operator.",
                        &self.text[at..at + len]
                    ),
                ));
            }
            ops.push(op);
            operands.push(if commas {
                self.array_expr()?
            } else {
                self.unary_expr()?
            });
        }
        self.leave();
        let mut operands = operands.into_iter();
        let mut ops = ops.into_iter().peekable();
        let first = operands.next().ok_or_else(|| self.unexpected())?;
        Ok(climb(first, 0, &mut operands, &mut ops))
    }

    /// Recognises a binary operator at the current position.
    pub(super) fn binop(&self) -> Option<(BinOp, usize)> {
        let c = self.peek();
        let n = self.peek_at(1);
        Some(match c {
            b'-' if n.is_ascii_alphabetic() => {
                let start = self.pos + 1;
                let mut end = start;
                while end < self.b.len() && self.b[end].is_ascii_alphabetic() {
                    end += 1;
                }
                if self
                    .b
                    .get(end)
                    .is_some_and(|&x| x.is_ascii_digit() || x == b'_')
                {
                    return None;
                }
                let name = self.text[start..end].to_ascii_lowercase();
                (op_by_name(&name)?, end - self.pos)
            }
            b'-' if n != b'=' && n != b'-' => (BinOp::Sub, 1),
            b'+' if n != b'=' && n != b'+' => (BinOp::Add, 1),
            b'*' if n != b'=' && n != b'>' => (BinOp::Mul, 1),
            b'/' if n != b'=' => (BinOp::Div, 1),
            b'%' if n != b'=' => (BinOp::Rem, 1),
            b'.' if n == b'.' => (BinOp::Range, 2),
            b'?' if n == b'?' && self.peek_at(2) != b'=' => (BinOp::Coalesce, 2),
            _ => return None,
        })
    }

    pub(super) fn array_expr(&mut self) -> R<Expr> {
        let start = self.pos;
        let first = self.unary_expr()?;
        self.skip_ws();
        if self.peek() != b',' {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.peek() == b',' {
            self.pos += 1;
            self.skip_nl();
            if matches!(self.peek(), 0 | b')' | b'}' | b';' | b'|') {
                if self.eof() {
                    return Err(self.incomplete(
                        "Missing expression after ','.",
                        "MissingExpressionAfterToken",
                        self.pos,
                    ));
                }
                return Err(self.err_at(self.pos, "Missing expression after ','."));
            }
            items.push(self.unary_expr()?);
            self.skip_ws();
        }
        Ok(Expr {
            kind: ExprKind::Array(items),
            span: self.span_from(start),
        })
    }

    pub(super) fn unary_expr(&mut self) -> R<Expr> {
        self.skip_ws();
        let start = self.pos;
        self.enter()?;
        let c = self.peek();
        let n = self.peek_at(1);
        let r = match c {
            b'!' => {
                self.pos += 1;
                self.skip_ws();
                let e = self.unary_expr()?;
                Ok(self.mk_unary(UnaryOp::Not, e, start))
            }
            b',' => {
                self.pos += 1;
                self.skip_nl();
                let e = self.unary_expr()?;
                Ok(self.mk_unary(UnaryOp::Comma, e, start))
            }
            b'+' | b'-' if n == c => {
                // ++$x / --$x
                self.pos += 2;
                let e = self.unary_expr()?;
                Ok(Expr {
                    kind: ExprKind::Step {
                        target: Box::new(e),
                        delta: if c == b'+' { 1 } else { -1 },
                        post: false,
                    },
                    span: self.span_from(start),
                })
            }
            b'-' if n.is_ascii_alphabetic() => {
                let mut end = self.pos + 1;
                while end < self.b.len() && self.b[end].is_ascii_alphabetic() {
                    end += 1;
                }
                let op = match self.text[self.pos + 1..end].to_ascii_lowercase().as_str() {
                    "not" => Some(UnaryOp::Not),
                    "bnot" => Some(UnaryOp::BNot),
                    "split" => Some(UnaryOp::Split),
                    "join" => Some(UnaryOp::Join),
                    _ => None,
                };
                match op {
                    Some(op) => {
                        self.pos = end;
                        self.skip_ws();
                        let e = self.unary_expr()?;
                        Ok(self.mk_unary(op, e, start))
                    }
                    None => Err(self.unexpected()),
                }
            }
            b'-' | b'+' => {
                self.pos += 1;
                self.skip_ws();
                let e = self.unary_expr()?;
                if c == b'-'
                    && let ExprKind::Const(v) = &e.kind
                    && let Some(neg) = negate_literal(v)
                {
                    Ok(Expr {
                        kind: ExprKind::Const(neg),
                        span: self.span_from(start),
                    })
                } else {
                    Ok(self.mk_unary(
                        if c == b'-' {
                            UnaryOp::Neg
                        } else {
                            UnaryOp::Plus
                        },
                        e,
                        start,
                    ))
                }
            }
            b'[' => {
                // A cast when an operand follows; otherwise a type literal.
                let save = self.pos;
                let t = self.type_literal()?;
                let after = self.pos;
                self.skip_ws();
                if self.cast_operand_ahead() {
                    let e = self.unary_expr()?;
                    Ok(Expr {
                        kind: ExprKind::Cast(t, Box::new(e)),
                        span: self.span_from(start),
                    })
                } else {
                    self.pos = save;
                    let _ = after;
                    self.postfix_expr()
                }
            }
            _ => self.postfix_expr(),
        };
        self.leave();
        r
    }

    pub(super) fn mk_unary(&self, op: UnaryOp, e: Expr, start: usize) -> Expr {
        Expr {
            kind: ExprKind::Unary(op, Box::new(e)),
            span: self.span_from(start),
        }
    }

    pub(super) fn cast_operand_ahead(&self) -> bool {
        let c = self.peek();
        match c {
            b'$' | b'(' | b'@' | b'[' | b'\'' | b'"' | b'!' | b'+' | b'{' | b',' => true,
            b'.' => self.peek_at(1).is_ascii_digit(),
            b'-' => {
                let n = self.peek_at(1);
                n.is_ascii_digit()
                    || n == b'$'
                    || n == b'('
                    || ["-not", "-bnot", "-split", "-join"]
                        .iter()
                        .any(|k| self.starts_ci(k))
            }
            c if c.is_ascii_digit() => true,
            _ => self
                .peek_char()
                .is_some_and(|ch| is_single_quote(ch) || is_double_quote(ch)),
        }
    }

    /// A primary expression with `.member`, `::member`, `[index]`, calls and
    /// `++`/`--` directly after it (no blank between).
    pub(super) fn postfix_expr(&mut self) -> R<Expr> {
        let start = self.pos;
        let mut e = self.primary()?;
        loop {
            let c = self.peek();
            let n = self.peek_at(1);
            if c == b'.'
                && n != b'.'
                && (is_ident_start(n) || matches!(n, b'$' | b'\'' | b'"' | b'('))
                || c == b'?' && n == b'.'
            {
                self.pos += if c == b'?' { 2 } else { 1 };
                e = self.member_or_call(e, start, false)?;
            } else if c == b':' && n == b':' {
                self.pos += 2;
                e = self.member_or_call(e, start, true)?;
            } else if c == b'[' && !matches!(e.kind, ExprKind::Type(_)) {
                let open = self.pos;
                self.pos += 1;
                self.enter()?;
                self.skip_nl();
                if self.peek() == b']' {
                    return Err(
                        self.err_at(self.pos, "Array index expression is missing or not valid.")
                    );
                }
                let idx = self.pipeline_or_assign()?;
                self.skip_nl();
                self.leave();
                let msg = "Missing ']' after array index expression.";
                self.require(b']', msg, msg, "MissingEndSquareBracket", open)?;
                e = Expr {
                    kind: ExprKind::Index {
                        target: Box::new(e),
                        index: Box::new(idx),
                    },
                    span: self.span_from(start),
                };
            } else if (c == b'+' && n == b'+' || c == b'-' && n == b'-')
                && !matches!(self.peek_at(2), b'$' | b'(')
                && !self.peek_at(2).is_ascii_digit()
            {
                self.pos += 2;
                e = Expr {
                    kind: ExprKind::Step {
                        target: Box::new(e),
                        delta: if c == b'+' { 1 } else { -1 },
                        post: true,
                    },
                    span: self.span_from(start),
                };
            } else {
                break;
            }
        }
        Ok(e)
    }

    /// `.name`, `.name(args)`, `::name` or `::name(args)` after `target`.
    fn member_or_call(&mut self, target: Expr, start: usize, is_static: bool) -> R<Expr> {
        let name = Box::new(self.member_name()?);
        let target = Box::new(target);
        let kind = if self.peek() == b'(' {
            let args = self.call_args()?;
            ExprKind::Invoke {
                target,
                name,
                args,
                is_static,
            }
        } else {
            ExprKind::Member {
                target,
                name,
                is_static,
            }
        };
        Ok(Expr {
            kind,
            span: self.span_from(start),
        })
    }

    pub(super) fn member_name(&mut self) -> R<MemberName> {
        let c = self.peek();
        if is_ident_start(c) {
            let s = self.pos;
            while is_ident(self.peek()) {
                self.pos += 1;
            }
            return Ok(MemberName::Name(Rc::from(&self.text[s..self.pos])));
        }
        if self.peek_char().is_some_and(is_single_quote) {
            let e = self.primary()?;
            if let ExprKind::Const(v) = &e.kind {
                return Ok(MemberName::Name(Rc::from(v.to_string())));
            }
            return Ok(MemberName::Dynamic(e));
        }
        if matches!(c, b'$' | b'"' | b'(') || self.peek_char().is_some_and(is_double_quote) {
            return Ok(MemberName::Dynamic(self.primary()?));
        }
        Err(self.err_at(self.pos, "Missing property name after reference operator."))
    }

    pub(super) fn call_args(&mut self) -> R<Vec<Expr>> {
        let open = self.pos;
        self.pos += 1;
        self.enter()?;
        let mut args = Vec::new();
        self.skip_nl();
        if self.peek() != b')' {
            loop {
                args.push(self.arg_expr()?);
                self.skip_nl();
                if self.peek() == b',' {
                    self.pos += 1;
                    self.skip_nl();
                    continue;
                }
                break;
            }
        }
        self.leave();
        let msg = "Missing closing ')' in method call.";
        self.require(b')', msg, msg, "MissingEndParenthesisInMethodCall", open)?;
        Ok(args)
    }

    pub(super) fn primary(&mut self) -> R<Expr> {
        let start = self.pos;
        let c = self.peek();
        let kind = match c {
            b'$' if self.peek_at(1) == b'(' => ExprKind::SubExpr(self.sub_statements()?),
            b'$' => {
                let v = self.variable()?;
                match v.special {
                    Some(Special::True) => ExprKind::Const(Value::Bool(true)),
                    Some(Special::False) => ExprKind::Const(Value::Bool(false)),
                    _ => ExprKind::Var(v),
                }
            }
            b'@' if self.peek_at(1) == b'(' => {
                let open = self.pos;
                self.pos += 2;
                self.enter()?;
                let stmts = self.statements(Some(b')'))?;
                self.leave();
                self.close_paren(open, "Missing closing ')' in subexpression.")?;
                ExprKind::ArraySub(stmts)
            }
            b'@' if self.peek_at(1) == b'{' => self.hash_literal()?,
            b'@' if matches!(self.peek_at(1), b'"' | b'\'') => self.here_string()?,
            b'(' => {
                let open = self.pos;
                self.pos += 1;
                self.enter()?;
                self.skip_nl();
                let inner = if self.peek() == b')' {
                    None
                } else {
                    Some(self.paren_content()?)
                };
                self.skip_nl();
                self.leave();
                self.close_paren(open, "Missing closing ')' in expression.")?;
                match inner {
                    Some(s) => ExprKind::Paren(Box::new(s)),
                    None => ExprKind::Const(Value::Null),
                }
            }
            b'{' => ExprKind::ScriptBlock(self.script_block_literal()?),
            b'[' => ExprKind::Type(self.type_literal()?),
            b'0'..=b'9' => self.number()?,
            b'.' if self.peek_at(1).is_ascii_digit() => self.number()?,
            b'\'' => ExprKind::Const(Value::from(self.single_quoted()?)),
            b'"' => self.double_quoted()?,
            0 => {
                return Err(self.incomplete(
                    "An expression was expected.",
                    "ExpectedExpression",
                    self.b.len(),
                ));
            }
            _ => match self.peek_char() {
                Some(ch) if is_single_quote(ch) => {
                    ExprKind::Const(Value::from(self.single_quoted()?))
                }
                Some(ch) if is_double_quote(ch) => self.double_quoted()?,
                _ => return Err(self.unexpected()),
            },
        };
        Ok(Expr {
            kind,
            span: self.span_from(start),
        })
    }

    /// Inside `( )`: a pipeline, an assignment, or a keyword statement.
    pub(super) fn paren_content(&mut self) -> R<Stmt> {
        match self.keyword() {
            Some("if" | "switch" | "foreach" | "for" | "while" | "do" | "try") => {
                let s = self.pos;
                self.statement_at_keyword(s)
            }
            _ => self.pipeline_or_assign(),
        }
    }

    /// `$( statements )`
    pub(super) fn sub_statements(&mut self) -> R<Block> {
        let open = self.pos;
        self.pos += 2;
        self.enter()?;
        let stmts = self.statements(Some(b')'))?;
        self.leave();
        self.close_paren(open, "Missing closing ')' in subexpression.")?;
        Ok(stmts)
    }

    pub(super) fn script_block_literal(&mut self) -> R<Rc<ScriptBlockAst>> {
        let open = self.pos;
        self.pos += 1;
        self.enter()?;
        let mut sb = self.script_body(Some(b'}'), open)?;
        self.leave();
        self.close_brace(open)?;
        if let Some(b) = Rc::get_mut(&mut sb) {
            b.span = self.span_from(open);
        }
        Ok(sb)
    }

    pub(super) fn hash_literal(&mut self) -> R<ExprKind> {
        let open = self.pos;
        self.pos += 2;
        self.enter()?;
        let mut entries = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        loop {
            self.skip_seps();
            if self.peek() == b'}' || self.eof() {
                break;
            }
            let kstart = self.pos;
            let key = match self.peek() {
                b'$' | b'(' | b'\'' | b'"' => self.primary()?,
                c if c.is_ascii_digit() => self.primary()?,
                _ => {
                    while !self.eof()
                        && !matches!(
                            self.peek(),
                            b' ' | b'\t' | b'=' | b'\n' | b'\r' | b';' | b'}'
                        )
                    {
                        self.pos += 1;
                    }
                    if self.pos == kstart {
                        return Err(self.unexpected());
                    }
                    Expr {
                        kind: ExprKind::Const(Value::from(&self.text[kstart..self.pos])),
                        span: self.span_from(kstart),
                    }
                }
            };
            self.skip_ws();
            if self.peek() != b'=' {
                if self.eof() {
                    return Err(self.incomplete(
                        "Missing '=' operator after key in hash literal.",
                        "MissingEqualsInHashLiteral",
                        self.b.len(),
                    ));
                }
                return Err(
                    self.err_at(self.pos, "Missing '=' operator after key in hash literal.")
                );
            }
            self.pos += 1;
            self.skip_nl();
            if matches!(self.peek(), b'}' | b';') || self.eof() {
                if self.eof() {
                    return Err(self.incomplete(
                        "Missing statement after '=' in hash literal.",
                        "MissingStatementInHashLiteral",
                        self.b.len(),
                    ));
                }
                return Err(self.err_at(self.pos, "Missing statement after '=' in hash literal."));
            }
            // Constant keys are checked for duplicates here, as PowerShell does.
            if let ExprKind::Const(kv) = &key.kind {
                let text = kv.to_string();
                let lower = text.to_lowercase();
                if seen.contains(&lower) {
                    return Err(ParseError::at(
                        self.src,
                        key.span,
                        format!("Duplicate keys '{text}' are not allowed in hash literals."),
                    ));
                }
                seen.push(lower);
            }
            let value = self.paren_content()?;
            entries.push((key, value));
            self.skip_ws();
            match self.peek() {
                b';' | b'\n' | b'\r' | b'}' => {}
                0 => break,
                _ => return Err(self.unexpected()),
            }
        }
        self.leave();
        self.close_brace_hash(open)?;
        Ok(ExprKind::Hash {
            ordered: false,
            entries,
        })
    }
}

/// Whether `-name` (given without the dash, lower-case) is an operator;
/// the highlighter (`tokens.rs`) asks, so both agree on the set.
pub(crate) fn is_operator_name(name: &str) -> bool {
    op_by_name(name).is_some() || matches!(name, "not" | "bnot" | "join" | "split")
}

pub(crate) fn op_by_name(name: &str) -> Option<BinOp> {
    let cmp = |s: &str| -> Option<CmpOp> {
        Some(match s {
            "eq" => CmpOp::Eq,
            "ne" => CmpOp::Ne,
            "gt" => CmpOp::Gt,
            "ge" => CmpOp::Ge,
            "lt" => CmpOp::Lt,
            "le" => CmpOp::Le,
            "like" => CmpOp::Like,
            "notlike" => CmpOp::NotLike,
            "match" => CmpOp::Match,
            "notmatch" => CmpOp::NotMatch,
            "contains" => CmpOp::Contains,
            "notcontains" => CmpOp::NotContains,
            "in" => CmpOp::In,
            "notin" => CmpOp::NotIn,
            _ => return None,
        })
    };
    if let Some(op) = cmp(name) {
        return Some(BinOp::Cmp(op, Case::Default));
    }
    let (case, rest) = match name.as_bytes().first() {
        Some(b'c') => (Case::Sensitive, &name[1..]),
        Some(b'i') => (Case::Insensitive, &name[1..]),
        _ => (Case::Default, name),
    };
    if case != Case::Default {
        if let Some(op) = cmp(rest) {
            return Some(BinOp::Cmp(op, case));
        }
        match rest {
            "replace" => return Some(BinOp::Replace(case)),
            "split" => return Some(BinOp::Split(case)),
            _ => {}
        }
    }
    Some(match name {
        "replace" => BinOp::Replace(Case::Default),
        "split" => BinOp::Split(Case::Default),
        "and" => BinOp::And,
        "or" => BinOp::Or,
        "xor" => BinOp::Xor,
        "band" => BinOp::BAnd,
        "bor" => BinOp::BOr,
        "bxor" => BinOp::BXor,
        "shl" => BinOp::Shl,
        "shr" => BinOp::Shr,
        "is" => BinOp::Is,
        "isnot" => BinOp::IsNot,
        "as" => BinOp::As,
        "join" => BinOp::Join,
        "f" => BinOp::Format,
        _ => return None,
    })
}

/// Precedence climbing over operands and operators; all binary operators
/// are left-associative.
pub(super) fn climb(
    mut lhs: Expr,
    min_prec: u8,
    operands: &mut impl Iterator<Item = Expr>,
    ops: &mut std::iter::Peekable<impl Iterator<Item = BinOp>>,
) -> Expr {
    while let Some(&op) = ops.peek() {
        let prec = op.precedence();
        if prec < min_prec {
            break;
        }
        ops.next();
        let Some(mut rhs) = operands.next() else {
            break;
        };
        while let Some(&next) = ops.peek() {
            if next.precedence() > prec {
                rhs = climb(rhs, prec + 1, operands, ops);
            } else {
                break;
            }
        }
        let span = lhs.span.to(rhs.span);
        lhs = Expr {
            kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
            span,
        };
    }
    lhs
}
