//! Literal tokens: numbers, strings (single, double, here-strings),
//! variables and type names.

use super::*;

impl Parser<'_> {
    pub(super) fn number(&mut self) -> R<ExprKind> {
        let start = self.pos;
        if self.peek() == b'0' && matches!(self.peek_at(1), b'x' | b'X') {
            self.pos += 2;
            while self.peek().is_ascii_hexdigit() {
                self.pos += 1;
            }
        } else if self.peek() == b'0'
            && matches!(self.peek_at(1), b'b' | b'B')
            && matches!(self.peek_at(2), b'0' | b'1')
        {
            self.pos += 2;
            while matches!(self.peek(), b'0' | b'1') {
                self.pos += 1;
            }
        } else {
            while self.peek().is_ascii_digit() {
                self.pos += 1;
            }
            if self.peek() == b'.' && self.peek_at(1) != b'.' {
                self.pos += 1;
                while self.peek().is_ascii_digit() {
                    self.pos += 1;
                }
            }
            if matches!(self.peek(), b'e' | b'E')
                && (self.peek_at(1).is_ascii_digit()
                    || matches!(self.peek_at(1), b'+' | b'-') && self.peek_at(2).is_ascii_digit())
            {
                self.pos += 2;
                while self.peek().is_ascii_digit() {
                    self.pos += 1;
                }
            }
        }
        // Type suffix and multiplier.
        while self.peek().is_ascii_alphabetic() {
            self.pos += 1;
        }
        let text = &self.text[start..self.pos];
        match parse_number(text) {
            Some(v) => Ok(ExprKind::Const(v)),
            None => Err(ParseError::at(
                self.src,
                self.span_from(start),
                format!("The numeric constant {text} is not valid."),
            )),
        }
    }

    pub(super) fn single_quoted(&mut self) -> R<String> {
        let open = self.pos;
        self.pos += self.peek_char().map(char::len_utf8).unwrap_or(1);
        let mut out = String::new();
        loop {
            let Some(ch) = self.peek_char() else {
                return Err(self.unclosed(
                    open,
                    1,
                    "The string is missing the terminator: '.",
                    "TerminatorExpectedAtEndOfString",
                ));
            };
            self.pos += ch.len_utf8();
            if is_single_quote(ch) {
                match self.peek_char() {
                    Some(n) if is_single_quote(n) => {
                        self.pos += n.len_utf8();
                        out.push(ch);
                    }
                    _ => return Ok(out),
                }
            } else {
                out.push(ch);
            }
        }
    }

    pub(super) fn double_quoted(&mut self) -> R<ExprKind> {
        let open = self.pos;
        self.pos += self.peek_char().map(char::len_utf8).unwrap_or(1);
        let mut parts = Vec::new();
        let mut lit = String::new();
        loop {
            let Some(ch) = self.peek_char() else {
                return Err(self.unclosed(
                    open,
                    1,
                    "The string is missing the terminator: \".",
                    "TerminatorExpectedAtEndOfString",
                ));
            };
            if is_double_quote(ch) {
                self.pos += ch.len_utf8();
                match self.peek_char() {
                    Some(n) if is_double_quote(n) => {
                        self.pos += n.len_utf8();
                        lit.push('"');
                        continue;
                    }
                    _ => break,
                }
            }
            if !self.string_part(&mut parts, &mut lit)? {
                lit.push(ch);
                self.pos += ch.len_utf8();
            }
        }
        Ok(finish_expandable(parts, lit))
    }

    /// Handles a backtick escape, `$var` or `$(...)` inside an expandable
    /// string; returns false for a plain character.
    pub(super) fn string_part(&mut self, parts: &mut Vec<StrPart>, lit: &mut String) -> R<bool> {
        match self.peek() {
            b'`' => {
                self.pos += 1;
                match self.peek_char() {
                    Some('u') if self.peek_at(1) == b'{' => {
                        let s = self.pos + 2;
                        let end = self.text[s..].find('}').map(|e| s + e);
                        match end.and_then(|e| {
                            u32::from_str_radix(&self.text[s..e], 16)
                                .ok()
                                .and_then(char::from_u32)
                                .map(|c| (c, e))
                        }) {
                            Some((c, e)) => {
                                lit.push(c);
                                self.pos = e + 1;
                            }
                            None => {
                                return Err(self.err_at(
                                    self.pos,
                                    "The Unicode escape sequence is not valid.",
                                ));
                            }
                        }
                    }
                    Some(c) => {
                        lit.push(escape_char(c));
                        self.pos += c.len_utf8();
                    }
                    None => {}
                }
                Ok(true)
            }
            b'$' if self.peek_at(1) == b'(' => {
                if !lit.is_empty() {
                    parts.push(StrPart::Lit(Rc::from(std::mem::take(lit))));
                }
                parts.push(StrPart::Sub(self.sub_statements()?));
                Ok(true)
            }
            b'$' if is_ident(self.peek_at(1))
                || matches!(self.peek_at(1), b'{' | b'?' | b'^' | b'$') =>
            {
                if !lit.is_empty() {
                    parts.push(StrPart::Lit(Rc::from(std::mem::take(lit))));
                }
                let v = self.variable()?;
                parts.push(StrPart::Var(v));
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    pub(super) fn here_string(&mut self) -> R<ExprKind> {
        let open = self.pos;
        let quote = self.peek_at(1);
        self.pos += 2;
        while matches!(self.peek(), b' ' | b'\t') {
            self.pos += 1;
        }
        if !self.at_newline() {
            if self.eof() {
                return Err(self.incomplete(
                    "The here-string is missing its terminator.",
                    "TerminatorExpectedAtEndOfString",
                    open,
                ));
            }
            return Err(self.err_at(self.pos, "No characters are allowed after a here-string header but before the end of the line."));
        }
        self.skip_one_newline();
        let body_start = self.pos;
        // The terminator: a line break, then the closing quote and @.
        let term = [quote, b'@'];
        let mut end = None;
        let mut i = body_start;
        // An empty here-string closes on the very next line.
        if self.b.get(i..i + 2) == Some(&term[..]) {
            end = Some((i, i));
        }
        while end.is_none() && i < self.b.len() {
            if matches!(self.b[i], b'\n' | b'\r') {
                let nl_start = i;
                if self.b[i] == b'\r' && self.b.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                i += 1;
                if self.b.get(i..i + 2) == Some(&term[..]) {
                    end = Some((nl_start, i));
                }
            } else {
                i += 1;
            }
        }
        let Some((content_end, term_at)) = end else {
            return Err(self.unclosed(open, 2, "The here-string is missing its terminator: a line that starts with the closing quote and @.", "TerminatorExpectedAtEndOfString"));
        };
        if quote == b'\'' {
            let text = self.text[body_start..content_end].to_string();
            self.pos = term_at + 2;
            return Ok(ExprKind::Const(Value::from(text)));
        }
        let mut parts = Vec::new();
        let mut lit = String::new();
        self.pos = body_start;
        while self.pos < content_end {
            if !self.string_part(&mut parts, &mut lit)? {
                match self.peek_char() {
                    Some(ch) => {
                        lit.push(ch);
                        self.pos += ch.len_utf8();
                    }
                    None => break,
                }
            }
        }
        self.pos = term_at + 2;
        Ok(finish_expandable(parts, lit))
    }

    pub(super) fn variable(&mut self) -> R<VarRef> {
        let start = self.pos;
        self.pos += 1;
        let raw: String = if self.peek() == b'{' {
            self.pos += 1;
            let mut s = String::new();
            loop {
                match self.peek_char() {
                    None => {
                        return Err(self.unclosed(
                            start,
                            2,
                            "Missing closing '}' in variable name.",
                            "MissingEndCurlyBrace",
                        ));
                    }
                    Some('}') => {
                        self.pos += 1;
                        break;
                    }
                    Some('`') => {
                        self.pos += 1;
                        if let Some(c) = self.peek_char() {
                            s.push(c);
                            self.pos += c.len_utf8();
                        }
                    }
                    Some(c) => {
                        s.push(c);
                        self.pos += c.len_utf8();
                    }
                }
            }
            s
        } else if matches!(self.peek(), b'$' | b'^') {
            self.pos += 1;
            self.text[self.pos - 1..self.pos].to_string()
        } else {
            let nstart = self.pos;
            while is_ident(self.peek()) || self.peek() == b'?' {
                self.pos += 1;
            }
            // scope:name
            if self.peek() == b':'
                && self.pos > nstart
                && (is_ident(self.peek_at(1)) || self.peek_at(1) == b'?')
            {
                self.pos += 1;
                while is_ident(self.peek()) || self.peek() == b'?' {
                    self.pos += 1;
                }
            }
            self.text[nstart..self.pos].to_string()
        };
        let span = self.span_from(start);
        if raw.is_empty() {
            return Err(ParseError::at(self.src, span, "Variable reference is not valid. '$' was not followed by a valid variable name character. Consider using ${} to delimit the name.".into()));
        }
        let (scope, name) = match raw.split_once(':') {
            Some((s, n)) if !s.is_empty() => {
                let scope = match s.to_ascii_lowercase().as_str() {
                    "global" => VarScope::Global,
                    "script" => VarScope::Script,
                    "local" => VarScope::Local,
                    "private" => VarScope::Private,
                    "env" => VarScope::Env,
                    "variable" => VarScope::Variable,
                    "function" => VarScope::Function,
                    _ => {
                        return Err(ParseError::at(
                            self.src,
                            span,
                            format!(
                                "The variable drive '{s}:' is not supported; use global:, script:, local:, private:, env:, variable: or function:."
                            ),
                        ));
                    }
                };
                (scope, n.to_string())
            }
            _ => (VarScope::Any, raw),
        };
        if name.is_empty() {
            return Err(ParseError::at(self.src, span, "Variable reference is not valid. ':' was not followed by a valid variable name character. Consider using ${} to delimit the name.".into()));
        }
        Ok(var_ref(&name, scope, span))
    }

    pub(super) fn type_literal(&mut self) -> R<TypeName> {
        let start = self.pos;
        self.pos += 1;
        let nstart = self.pos;
        let mut depth = 0usize;
        loop {
            match self.peek() {
                b'[' => depth += 1,
                b']' if depth == 0 => break,
                b']' => depth -= 1,
                0 => {
                    return Err(self.unclosed(
                        start,
                        1,
                        "Missing ']' at end of type name.",
                        "MissingEndSquareBracket",
                    ));
                }
                c if is_ident(c) || matches!(c, b'.' | b',' | b' ' | b'`' | b'+') => {}
                _ => return Err(self.err_at(self.pos, "Unexpected character in a type name.")),
            }
            self.pos += 1;
        }
        let name = self.text[nstart..self.pos].trim().to_string();
        self.pos += 1;
        if name.is_empty()
            || !name.as_bytes()[0].is_ascii_alphabetic() && name.as_bytes()[0] != b'_'
        {
            return Err(ParseError::at(
                self.src,
                self.span_from(start),
                "Missing type name after '['.".into(),
            ));
        }
        Ok(TypeName {
            name: Rc::from(name),
            span: self.span_from(start),
        })
    }
}

pub(crate) fn finish_expandable(mut parts: Vec<StrPart>, lit: String) -> ExprKind {
    if parts.is_empty() {
        return ExprKind::Const(Value::from(lit));
    }
    if !lit.is_empty() {
        parts.push(StrPart::Lit(Rc::from(lit)));
    }
    ExprKind::Expandable(parts)
}

pub(crate) fn var_ref(name: &str, scope: VarScope, span: Span) -> VarRef {
    let key = name.to_ascii_lowercase();
    let special = if matches!(scope, VarScope::Any | VarScope::Global) {
        match key.as_str() {
            "true" => Some(Special::True),
            "false" => Some(Special::False),
            "null" => Some(Special::Null),
            _ => None,
        }
    } else {
        None
    };
    let key = if key == "psitem" {
        "_".to_string()
    } else {
        key
    };
    VarRef {
        key: Rc::from(key),
        name: Rc::from(name),
        scope,
        special,
        span,
    }
}
