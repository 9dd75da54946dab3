//! Scanning: looking at bytes, skipping blanks and comments, keywords,
//! and the errors that say where and whether more input would help.

use super::*;

impl Parser<'_> {
    pub(super) fn eof(&self) -> bool {
        self.pos >= self.b.len()
    }

    pub(super) fn peek(&self) -> u8 {
        self.b.get(self.pos).copied().unwrap_or(0)
    }

    pub(super) fn peek_at(&self, n: usize) -> u8 {
        self.b.get(self.pos + n).copied().unwrap_or(0)
    }

    pub(super) fn peek_char(&self) -> Option<char> {
        self.text.get(self.pos..).and_then(|s| s.chars().next())
    }

    pub(super) fn starts(&self, s: &str) -> bool {
        self.b
            .get(self.pos..)
            .is_some_and(|r| r.starts_with(s.as_bytes()))
    }

    pub(super) fn starts_ci(&self, s: &str) -> bool {
        self.b
            .get(self.pos..self.pos + s.len())
            .is_some_and(|r| r.eq_ignore_ascii_case(s.as_bytes()))
    }

    pub(super) fn span_from(&self, start: usize) -> Span {
        Span::new(start, self.pos)
    }

    pub(super) fn err_at(&self, at: usize, msg: impl Into<String>) -> ParseError {
        ParseError::at(
            self.src,
            Span::new(at, (at + 1).min(self.b.len().max(at))),
            msg.into(),
        )
    }

    /// An error for input that ends where more was needed: the REPL keeps
    /// reading instead of reporting it.
    pub(super) fn incomplete(&self, msg: &str, id: &'static str, at: usize) -> ParseError {
        self.unclosed(at, 1, msg, id)
    }

    pub(super) fn unexpected(&self) -> ParseError {
        if self.eof() {
            return self.incomplete(
                "The statement is not complete: more input was expected.",
                "IncompleteParseException",
                self.b.len(),
            );
        }
        let rest = self.text.get(self.pos..).unwrap_or("");
        let end = rest
            .char_indices()
            .find(|&(i, c)| {
                c.is_whitespace() || (i > 0 && matches!(c, '(' | ')' | '{' | '}' | ';' | '|' | ','))
            })
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        let end = if end == 0 {
            rest.chars().next().map(char::len_utf8).unwrap_or(1)
        } else {
            end
        };
        let token = &rest[..end];
        ParseError {
            error_id: "UnexpectedToken",
            ..ParseError::at(
                self.src,
                Span::new(self.pos, self.pos + end),
                format!("Unexpected token '{token}' in expression or statement."),
            )
        }
    }

    pub(super) fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING || self.stack_base.saturating_sub(stack_probe()) > STACK_BUDGET
        {
            return Err(ParseError::too_deep(self.src, self.pos));
        }
        Ok(())
    }

    pub(super) fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Skips blanks, line continuations and comments — not line breaks.
    pub(super) fn skip_ws(&mut self) {
        loop {
            match self.peek() {
                b' ' | b'\t' | 0x0c => self.pos += 1,
                b'`' if matches!(self.peek_at(1), b'\n' | b'\r') => {
                    self.pos += 1;
                    self.skip_one_newline();
                }
                b'#' => {
                    while !self.eof() && !matches!(self.peek(), b'\n' | b'\r') {
                        self.pos += 1;
                    }
                }
                b'<' if self.peek_at(1) == b'#' => match self.text[self.pos + 2..].find("#>") {
                    Some(e) => self.pos += e + 4,
                    None => self.pos = self.b.len(),
                },
                0xc2 if self.peek_at(1) == 0xa0 => self.pos += 2,
                _ => return,
            }
        }
    }

    pub(super) fn skip_one_newline(&mut self) {
        if self.peek() == b'\r' {
            self.pos += 1;
        }
        if self.peek() == b'\n' {
            self.pos += 1;
        }
    }

    /// Skips blanks, comments and line breaks.
    pub(super) fn skip_nl(&mut self) {
        loop {
            self.skip_ws();
            if matches!(self.peek(), b'\n' | b'\r') {
                self.pos += 1;
            } else {
                return;
            }
        }
    }

    /// Skips statement separators: blanks, line breaks and `;`.
    pub(super) fn skip_seps(&mut self) {
        loop {
            self.skip_nl();
            if self.peek() == b';' {
                self.pos += 1;
            } else {
                return;
            }
        }
    }

    pub(super) fn at_newline(&self) -> bool {
        matches!(self.peek(), b'\n' | b'\r')
    }

    pub(super) fn expect(&mut self, c: u8, what: &str, id: &'static str) -> R<()> {
        self.skip_ws();
        if self.peek() == c {
            self.pos += 1;
            Ok(())
        } else if self.eof() {
            Err(self.incomplete(what, id, self.b.len()))
        } else {
            Err(self.err_at(self.pos, what))
        }
    }

    /// An error for something opened at `open` and never closed: the
    /// input is incomplete, and the error points at the opening.
    pub(super) fn unclosed(
        &self,
        open: usize,
        len: usize,
        msg: &str,
        id: &'static str,
    ) -> ParseError {
        ParseError {
            incomplete: true,
            error_id: id,
            ..ParseError::at(self.src, Span::new(open, open + len), msg.to_string())
        }
    }

    /// Consumes `want` where the parser stands, or fails: at the end of
    /// the input with an incomplete error at `at` (`eof_msg`), so that the
    /// REPL reads on; elsewhere with `msg` where the parser stands.
    pub(super) fn require(
        &mut self,
        want: u8,
        msg: &str,
        eof_msg: &str,
        id: &'static str,
        at: usize,
    ) -> R<()> {
        if self.peek() == want {
            self.pos += 1;
            return Ok(());
        }
        if self.eof() {
            return Err(self.unclosed(at, 1, eof_msg, id));
        }
        Err(self.err_at(self.pos, msg))
    }

    /// Consumes the closing `close` of something opened at `open`.
    fn close_delim(
        &mut self,
        close: u8,
        open: usize,
        len: usize,
        msg: &str,
        id: &'static str,
    ) -> R<()> {
        self.skip_seps();
        if self.peek() == close {
            self.pos += 1;
            return Ok(());
        }
        if self.eof() {
            return Err(self.unclosed(open, len, msg, id));
        }
        Err(self.unexpected())
    }

    pub(super) fn close_brace(&mut self, open: usize) -> R<()> {
        self.close_delim(
            b'}',
            open,
            1,
            "Missing closing '}' in statement block or type definition.",
            "MissingEndCurlyBrace",
        )
    }

    pub(super) fn close_brace_hash(&mut self, open: usize) -> R<()> {
        self.close_delim(
            b'}',
            open,
            2,
            "Missing closing '}' in hash literal.",
            "MissingEndCurlyBrace",
        )
    }

    pub(super) fn close_paren(&mut self, open: usize, msg: &str) -> R<()> {
        self.close_delim(b')', open, 1, msg, "MissingEndParenthesisInExpression")
    }

    /// A keyword at the current position: letters followed by something
    /// that cannot continue a name.
    pub(super) fn keyword(&self) -> Option<&'static str> {
        let start = self.pos;
        let mut end = start;
        while end < self.b.len() && self.b[end].is_ascii_alphabetic() {
            end += 1;
        }
        if end == start || end - start > 12 {
            return None;
        }
        if self.b.get(end).is_some_and(|&c| continues_keyword(c)) {
            return None;
        }
        let word = &self.text[start..end];
        KEYWORDS
            .iter()
            .copied()
            .find(|k| k.eq_ignore_ascii_case(word))
    }

    pub(super) fn eat_keyword(&mut self, kw: &str) -> bool {
        if self.keyword().is_some_and(|k| k == kw) {
            self.pos += kw.len();
            true
        } else {
            false
        }
    }
}
