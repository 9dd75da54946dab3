//! The parser: a hand-written scanner and recursive descent over the
//! script text, with precedence climbing for binary operators.
//!
//! PowerShell's tokens depend on where they stand (in command mode `-eq`
//! is a parameter name and `a.txt` one word; in expression mode they are an
//! operator and a member access), so the parser asks for what it expects at
//! each point instead of reading a token stream made in advance — the way
//! PowerShell's own parser works. It reads bytes directly: no allocation per
//! token, no backtracking beyond a saved offset.

use std::rc::Rc;

use super::ast::*;
use super::error::ParseError;
use super::literals::{
    escape_char, is_double_quote, is_single_quote, negate_literal, parse_number,
};
use super::source::Source;
use crate::runtime::value::Value;

/// Deeper nesting than this is refused: the parser and the evaluator
/// recurse, and a script nested this deep is an attack or a mistake.
pub const MAX_NESTING: usize = 256;

/// Stack the parser may use below its entry point. Nesting is also refused
/// past this, whatever the count, so parsing never overflows the stack of
/// the thread it runs on (a default 2 MiB thread included).
const STACK_BUDGET: usize = 768 << 10;

/// Address of a local: how deep the stack is here (it grows downwards).
#[inline(always)]
fn stack_probe() -> usize {
    let probe = 0u8;
    std::ptr::addr_of!(probe) as usize
}

/// Parses a whole script.
pub fn parse_script(source: Rc<Source>) -> Result<Rc<ScriptBlockAst>, ParseError> {
    let mut p = Parser::new(&source);
    let body = p.script_body(None, 0)?;
    p.skip_seps();
    if !p.eof() {
        return Err(p.unexpected());
    }
    Ok(body)
}

type R<T> = Result<T, ParseError>;

const KEYWORDS: &[&str] = &[
    "begin",
    "break",
    "catch",
    "continue",
    "data",
    "do",
    "dynamicparam",
    "else",
    "elseif",
    "end",
    "exit",
    "filter",
    "finally",
    "for",
    "foreach",
    "from",
    "function",
    "if",
    "in",
    "param",
    "process",
    "return",
    "switch",
    "throw",
    "trap",
    "try",
    "until",
    "while",
];

pub struct Parser<'s> {
    src: &'s Rc<Source>,
    text: &'s str,
    b: &'s [u8],
    pos: usize,
    depth: usize,
    stack_base: usize,
}

/// Characters that end a command-mode word.
fn ends_word(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t'
            | b'\r'
            | b'\n'
            | b';'
            | b'|'
            | b'('
            | b')'
            | b'{'
            | b'}'
            | b','
            | b'&'
            | b'\''
            | b'"'
            | b'>'
            | b'<'
    )
}

/// Characters after which a keyword is really part of a longer name
/// (`foreach-object`, `end.ps1`).
fn continues_keyword(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'?' | b'\\' | b'/' | b'*' | b'.')
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Characters that may continue a word such as `default` in a switch.
fn continues_name(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'?' | b'.' | b'\\' | b'/' | b':' | b'*')
}

impl<'s> Parser<'s> {
    pub fn new(src: &'s Rc<Source>) -> Parser<'s> {
        Parser {
            src,
            text: &src.text,
            b: src.text.as_bytes(),
            pos: 0,
            depth: 0,
            stack_base: stack_probe(),
        }
    }

    // ------------------------------------------------------------ scanning

    fn eof(&self) -> bool {
        self.pos >= self.b.len()
    }

    fn peek(&self) -> u8 {
        self.b.get(self.pos).copied().unwrap_or(0)
    }

    fn peek_at(&self, n: usize) -> u8 {
        self.b.get(self.pos + n).copied().unwrap_or(0)
    }

    fn peek_char(&self) -> Option<char> {
        self.text.get(self.pos..).and_then(|s| s.chars().next())
    }

    fn starts(&self, s: &str) -> bool {
        self.b
            .get(self.pos..)
            .is_some_and(|r| r.starts_with(s.as_bytes()))
    }

    fn starts_ci(&self, s: &str) -> bool {
        self.b
            .get(self.pos..self.pos + s.len())
            .is_some_and(|r| r.eq_ignore_ascii_case(s.as_bytes()))
    }

    fn span_from(&self, start: usize) -> Span {
        Span::new(start, self.pos)
    }

    fn err_at(&self, at: usize, msg: impl Into<String>) -> ParseError {
        ParseError::at(
            self.src,
            Span::new(at, (at + 1).min(self.b.len().max(at))),
            msg.into(),
        )
    }

    /// An error for input that ends where more was needed: the REPL keeps
    /// reading instead of reporting it.
    fn incomplete(&self, msg: &str, id: &'static str, at: usize) -> ParseError {
        ParseError {
            incomplete: true,
            error_id: id,
            ..ParseError::at(self.src, Span::new(at, at + 1), msg.to_string())
        }
    }

    fn unexpected(&self) -> ParseError {
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

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING || self.stack_base.saturating_sub(stack_probe()) > STACK_BUDGET
        {
            return Err(ParseError::too_deep(self.src, self.pos));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Skips blanks, line continuations and comments — not line breaks.
    fn skip_ws(&mut self) {
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

    fn skip_one_newline(&mut self) {
        if self.peek() == b'\r' {
            self.pos += 1;
        }
        if self.peek() == b'\n' {
            self.pos += 1;
        }
    }

    /// Skips blanks, comments and line breaks.
    fn skip_nl(&mut self) {
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
    fn skip_seps(&mut self) {
        loop {
            self.skip_nl();
            if self.peek() == b';' {
                self.pos += 1;
            } else {
                return;
            }
        }
    }

    fn at_newline(&self) -> bool {
        matches!(self.peek(), b'\n' | b'\r')
    }

    fn expect(&mut self, c: u8, what: &str, id: &'static str) -> R<()> {
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

    /// A keyword at the current position: letters followed by something
    /// that cannot continue a name.
    fn keyword(&self) -> Option<&'static str> {
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

    fn eat_keyword(&mut self, kw: &str) -> bool {
        if self.keyword().is_some_and(|k| k == kw) {
            self.pos += kw.len();
            true
        } else {
            false
        }
    }

    // ------------------------------------------------------------ blocks

    /// The body of a script or script block: optional attributes and
    /// param(), then named blocks or statements, up to `close`.
    fn script_body(&mut self, close: Option<u8>, start: usize) -> R<Rc<ScriptBlockAst>> {
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

    fn named_block_ahead(&self) -> bool {
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
    fn block(&mut self) -> R<Block> {
        self.skip_ws();
        if self.peek() != b'{' {
            if self.eof() {
                return Err(self.incomplete(
                    "Missing statement block.",
                    "MissingStatementBlock",
                    self.b.len(),
                ));
            }
            return Err(self.err_at(self.pos, "Missing opening '{' of a statement block."));
        }
        let open = self.pos;
        self.pos += 1;
        self.enter()?;
        let stmts = self.statements(Some(b'}'))?;
        self.leave();
        self.close_brace(open)?;
        Ok(stmts)
    }

    fn close_brace(&mut self, open: usize) -> R<()> {
        self.skip_seps();
        if self.peek() == b'}' {
            self.pos += 1;
            return Ok(());
        }
        if self.eof() {
            return Err(ParseError {
                incomplete: true,
                error_id: "MissingEndCurlyBrace",
                ..ParseError::at(
                    self.src,
                    Span::new(open, open + 1),
                    "Missing closing '}' in statement block or type definition.".into(),
                )
            });
        }
        Err(self.unexpected())
    }

    /// Statements up to `close` (not consumed) or the end of input.
    fn statements(&mut self, close: Option<u8>) -> R<Block> {
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

    // ------------------------------------------------------------ statements

    fn statement(&mut self) -> R<Stmt> {
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

    fn function_def(&mut self, start: usize) -> R<Stmt> {
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
        if self.peek() != b'{' {
            if self.eof() {
                return Err(self.incomplete(
                    "Missing function body in function declaration.",
                    "MissingFunctionBody",
                    self.b.len(),
                ));
            }
            return Err(self.err_at(self.pos, "Missing function body in function declaration."));
        }
        let open = self.pos;
        self.pos += 1;
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
    fn condition(&mut self, what: &str) -> R<Stmt> {
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
                return Err(ParseError {
                    incomplete: true,
                    error_id: "MissingEndParenthesisAfterStatement",
                    ..ParseError::at(
                        self.src,
                        Span::new(open, open + 1),
                        format!("Missing closing ')' after expression in '{what}' statement."),
                    )
                });
            }
            return Err(self.err_at(
                self.pos,
                format!("Missing closing ')' after expression in '{what}' statement."),
            ));
        }
        self.pos += 1;
        Ok(cond)
    }

    fn if_stmt(&mut self, start: usize) -> R<Stmt> {
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

    fn loop_statement(&mut self, label: Option<Rc<str>>, start: usize) -> R<Stmt> {
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
                        ParseError {
                            incomplete: true,
                            ..self.err_at(
                                open,
                                "Missing closing ')' after expression in 'foreach' statement.",
                            )
                        }
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
    fn for_part(&mut self, last: bool) -> R<Option<Stmt>> {
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

    fn switch_stmt(&mut self, label: Option<Rc<str>>, start: usize) -> R<Stmt> {
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
        if self.peek() != b'{' {
            if self.eof() {
                return Err(self.incomplete(
                    "Missing '{' in switch statement.",
                    "MissingCurlyBraceInSwitchStatement",
                    self.b.len(),
                ));
            }
            return Err(self.err_at(self.pos, "Missing '{' in switch statement."));
        }
        let open = self.pos;
        self.pos += 1;
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
    fn keyword_like(&self, w: &str) -> bool {
        self.starts_ci(w)
            && !self
                .b
                .get(self.pos + w.len())
                .is_some_and(|&c| continues_name(c))
    }

    fn try_stmt(&mut self, start: usize) -> R<Stmt> {
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

    fn trap_stmt(&mut self, start: usize) -> R<Stmt> {
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

    fn flow_stmt(&mut self, start: usize) -> R<Stmt> {
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

    // ------------------------------------------------------------ pipelines

    /// An assignment (`$x = ...`, `$a, $b = ...`, `[int]$x = ...`) or a pipeline.
    fn pipeline_or_assign(&mut self) -> R<Stmt> {
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

    fn try_assignment(&mut self, start: usize) -> R<Option<Stmt>> {
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

    fn statement_at_keyword(&mut self, start: usize) -> R<Stmt> {
        match self.keyword() {
            Some("if") => self.if_stmt(start),
            Some("try") => self.try_stmt(start),
            _ => self.loop_statement(None, start),
        }
    }

    fn pipeline(&mut self) -> R<Pipeline> {
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
    fn command_ahead(&self) -> bool {
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

    fn pipeline_head(&mut self) -> R<PipeElement> {
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

    fn command(&mut self) -> R<CommandCall> {
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

    fn parameter(&mut self) -> R<CommandElement> {
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
    fn argument(&mut self) -> R<Expr> {
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

    fn at_arg_end(&self) -> bool {
        let c = self.peek();
        c == 0
            || matches!(
                c,
                b' ' | b'\t' | b'\n' | b'\r' | b';' | b'|' | b')' | b'}' | b',' | b'>' | b'#'
            )
            || (c == b'`' && matches!(self.peek_at(1), b'\n' | b'\r'))
    }

    fn arg_primary(&mut self) -> R<Expr> {
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

    fn bare_argument(&mut self, start: usize) -> R<Expr> {
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
    fn bare_word_text(&mut self) -> String {
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

    fn try_redirection(&mut self) -> R<Option<Redirection>> {
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

    // ------------------------------------------------------------ expressions

    /// `operand (binop operand)*` where operands are comma lists.
    pub fn expression(&mut self) -> R<Expr> {
        self.binary(true)
    }

    /// An expression without a top-level comma: method and attribute arguments.
    fn arg_expr(&mut self) -> R<Expr> {
        self.binary(false)
    }

    fn binary(&mut self, commas: bool) -> R<Expr> {
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
    fn binop(&self) -> Option<(BinOp, usize)> {
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

    fn array_expr(&mut self) -> R<Expr> {
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

    fn unary_expr(&mut self) -> R<Expr> {
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

    fn mk_unary(&self, op: UnaryOp, e: Expr, start: usize) -> Expr {
        Expr {
            kind: ExprKind::Unary(op, Box::new(e)),
            span: self.span_from(start),
        }
    }

    fn cast_operand_ahead(&self) -> bool {
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
    fn postfix_expr(&mut self) -> R<Expr> {
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
                let name = self.member_name()?;
                if self.peek() == b'(' {
                    let args = self.call_args()?;
                    e = Expr {
                        kind: ExprKind::Invoke {
                            target: Box::new(e),
                            name: Box::new(name),
                            args,
                            is_static: false,
                        },
                        span: self.span_from(start),
                    };
                } else {
                    e = Expr {
                        kind: ExprKind::Member {
                            target: Box::new(e),
                            name: Box::new(name),
                            is_static: false,
                        },
                        span: self.span_from(start),
                    };
                }
            } else if c == b':' && n == b':' {
                self.pos += 2;
                let name = self.member_name()?;
                if self.peek() == b'(' {
                    let args = self.call_args()?;
                    e = Expr {
                        kind: ExprKind::Invoke {
                            target: Box::new(e),
                            name: Box::new(name),
                            args,
                            is_static: true,
                        },
                        span: self.span_from(start),
                    };
                } else {
                    e = Expr {
                        kind: ExprKind::Member {
                            target: Box::new(e),
                            name: Box::new(name),
                            is_static: true,
                        },
                        span: self.span_from(start),
                    };
                }
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
                if self.peek() != b']' {
                    if self.eof() {
                        return Err(ParseError {
                            incomplete: true,
                            error_id: "MissingEndSquareBracket",
                            ..ParseError::at(
                                self.src,
                                Span::new(open, open + 1),
                                "Missing ']' after array index expression.".into(),
                            )
                        });
                    }
                    return Err(self.err_at(self.pos, "Missing ']' after array index expression."));
                }
                self.pos += 1;
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

    fn member_name(&mut self) -> R<MemberName> {
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

    fn call_args(&mut self) -> R<Vec<Expr>> {
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
        if self.peek() != b')' {
            if self.eof() {
                return Err(ParseError {
                    incomplete: true,
                    error_id: "MissingEndParenthesisInMethodCall",
                    ..ParseError::at(
                        self.src,
                        Span::new(open, open + 1),
                        "Missing closing ')' in method call.".into(),
                    )
                });
            }
            return Err(self.err_at(self.pos, "Missing closing ')' in method call."));
        }
        self.pos += 1;
        Ok(args)
    }

    fn primary(&mut self) -> R<Expr> {
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
    fn paren_content(&mut self) -> R<Stmt> {
        match self.keyword() {
            Some("if" | "switch" | "foreach" | "for" | "while" | "do" | "try") => {
                let s = self.pos;
                self.statement_at_keyword(s)
            }
            _ => self.pipeline_or_assign(),
        }
    }

    fn close_paren(&mut self, open: usize, msg: &str) -> R<()> {
        self.skip_seps();
        if self.peek() == b')' {
            self.pos += 1;
            return Ok(());
        }
        if self.eof() {
            return Err(ParseError {
                incomplete: true,
                error_id: "MissingEndParenthesisInExpression",
                ..ParseError::at(self.src, Span::new(open, open + 1), msg.to_string())
            });
        }
        Err(self.unexpected())
    }

    /// `$( statements )`
    fn sub_statements(&mut self) -> R<Block> {
        let open = self.pos;
        self.pos += 2;
        self.enter()?;
        let stmts = self.statements(Some(b')'))?;
        self.leave();
        self.close_paren(open, "Missing closing ')' in subexpression.")?;
        Ok(stmts)
    }

    fn script_block_literal(&mut self) -> R<Rc<ScriptBlockAst>> {
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

    fn hash_literal(&mut self) -> R<ExprKind> {
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

    fn close_brace_hash(&mut self, open: usize) -> R<()> {
        self.skip_seps();
        if self.peek() == b'}' {
            self.pos += 1;
            return Ok(());
        }
        if self.eof() {
            return Err(ParseError {
                incomplete: true,
                error_id: "MissingEndCurlyBrace",
                ..ParseError::at(
                    self.src,
                    Span::new(open, open + 2),
                    "Missing closing '}' in hash literal.".into(),
                )
            });
        }
        Err(self.unexpected())
    }

    fn number(&mut self) -> R<ExprKind> {
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

    fn single_quoted(&mut self) -> R<String> {
        let open = self.pos;
        self.pos += self.peek_char().map(char::len_utf8).unwrap_or(1);
        let mut out = String::new();
        loop {
            let Some(ch) = self.peek_char() else {
                return Err(ParseError {
                    incomplete: true,
                    error_id: "TerminatorExpectedAtEndOfString",
                    ..ParseError::at(
                        self.src,
                        Span::new(open, open + 1),
                        "The string is missing the terminator: '.".into(),
                    )
                });
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

    fn double_quoted(&mut self) -> R<ExprKind> {
        let open = self.pos;
        self.pos += self.peek_char().map(char::len_utf8).unwrap_or(1);
        let mut parts = Vec::new();
        let mut lit = String::new();
        loop {
            let Some(ch) = self.peek_char() else {
                return Err(ParseError {
                    incomplete: true,
                    error_id: "TerminatorExpectedAtEndOfString",
                    ..ParseError::at(
                        self.src,
                        Span::new(open, open + 1),
                        "The string is missing the terminator: \".".into(),
                    )
                });
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
    fn string_part(&mut self, parts: &mut Vec<StrPart>, lit: &mut String) -> R<bool> {
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

    fn here_string(&mut self) -> R<ExprKind> {
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
            return Err(ParseError {
                incomplete: true,
                error_id: "TerminatorExpectedAtEndOfString",
                ..ParseError::at(self.src, Span::new(open, open + 2), "The here-string is missing its terminator: a line that starts with the closing quote and @.".into())
            });
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

    fn variable(&mut self) -> R<VarRef> {
        let start = self.pos;
        self.pos += 1;
        let raw: String = if self.peek() == b'{' {
            self.pos += 1;
            let mut s = String::new();
            loop {
                match self.peek_char() {
                    None => {
                        return Err(ParseError {
                            incomplete: true,
                            ..ParseError::at(
                                self.src,
                                Span::new(start, start + 2),
                                "Missing closing '}' in variable name.".into(),
                            )
                        });
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

    fn type_literal(&mut self) -> R<TypeName> {
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
                    return Err(ParseError {
                        incomplete: true,
                        error_id: "MissingEndSquareBracket",
                        ..ParseError::at(
                            self.src,
                            Span::new(start, start + 1),
                            "Missing ']' at end of type name.".into(),
                        )
                    });
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

    // ------------------------------------------------------------ parameters

    /// `[Name(args)]` attribute; `None` when this is a plain type literal.
    fn try_attribute(&mut self) -> R<Option<(String, Vec<AttrArg>)>> {
        let start = self.pos;
        self.pos += 1;
        let nstart = self.pos;
        while is_ident(self.peek()) || self.peek() == b'.' {
            self.pos += 1;
        }
        let name = self.text[nstart..self.pos].to_string();
        if self.peek() != b'(' || name.is_empty() {
            self.pos = start;
            return Ok(None);
        }
        self.pos += 1;
        let mut args = Vec::new();
        self.skip_nl();
        while self.peek() != b')' {
            if self.eof() {
                return Err(self.incomplete(
                    "Missing ')' in attribute.",
                    "MissingEndParenthesisInAttribute",
                    start,
                ));
            }
            let astart = self.pos;
            if is_ident_start(self.peek()) {
                let mut end = self.pos;
                while end < self.b.len() && is_ident(self.b[end]) {
                    end += 1;
                }
                let key = self.text[astart..end].to_string();
                let save = self.pos;
                self.pos = end;
                self.skip_nl();
                if self.peek() == b'=' {
                    self.pos += 1;
                    self.skip_nl();
                    let v = self.arg_expr()?;
                    args.push(AttrArg::Named(key, Some(v)));
                } else if matches!(self.peek(), b',' | b')') {
                    args.push(AttrArg::Named(key, None));
                } else {
                    self.pos = save;
                    args.push(AttrArg::Positional(self.arg_expr()?));
                }
            } else {
                args.push(AttrArg::Positional(self.arg_expr()?));
            }
            self.skip_nl();
            if self.peek() == b',' {
                self.pos += 1;
                self.skip_nl();
            } else if self.peek() != b')' {
                if self.eof() {
                    return Err(self.incomplete(
                        "Missing ')' in attribute.",
                        "MissingEndParenthesisInAttribute",
                        start,
                    ));
                }
                return Err(self.unexpected());
            }
        }
        self.pos += 1;
        self.skip_ws();
        if self.peek() != b']' {
            if self.eof() {
                return Err(self.incomplete(
                    "Missing ']' after attribute.",
                    "MissingEndSquareBracket",
                    start,
                ));
            }
            return Err(self.err_at(self.pos, "Missing ']' after attribute."));
        }
        self.pos += 1;
        Ok(Some((name, args)))
    }

    /// Parameter declarations up to `close` (not consumed).
    fn param_list(&mut self, close: u8) -> R<(Vec<ParamDecl>, bool)> {
        let mut params = Vec::new();
        let mut advanced = false;
        loop {
            self.skip_nl();
            if self.peek() == close || self.eof() {
                break;
            }
            let start = self.pos;
            let mut pd = ParamDecl {
                name: var_ref("", VarScope::Any, Span::new(start, start)),
                type_name: None,
                default: None,
                mandatory: false,
                position: None,
                from_pipeline: false,
                from_pipeline_by_name: false,
                aliases: Vec::new(),
                validate_set: None,
                validate_range: None,
                validate_not_null_or_empty: false,
                validate_pattern: None,
                validate_script: None,
                span: Span::new(start, start),
            };
            while self.peek() == b'[' {
                match self.try_attribute()? {
                    Some((name, args)) => advanced |= apply_attribute(&name, args, &mut pd),
                    None => pd.type_name = Some(self.type_literal()?),
                }
                self.skip_nl();
            }
            if self.peek() != b'$' {
                if self.eof() {
                    return Err(self.incomplete(
                        "Missing ')' in function parameter list.",
                        "MissingEndParenthesisInFunctionParameterList",
                        self.b.len(),
                    ));
                }
                return Err(self.err_at(self.pos, "Missing variable name in the parameter list."));
            }
            pd.name = self.variable()?;
            self.skip_nl();
            if self.peek() == b'=' {
                self.pos += 1;
                self.skip_nl();
                pd.default = Some(self.arg_expr()?);
                self.skip_nl();
            }
            pd.span = self.span_from(start);
            params.push(pd);
            if self.peek() == b',' {
                self.pos += 1;
                continue;
            }
            break;
        }
        Ok((params, advanced))
    }
}

enum AttrArg {
    Named(String, Option<Expr>),
    Positional(Expr),
}

/// Reads `[Parameter(...)]`, `[Validate*(...)]`, `[Alias(...)]`. Returns
/// whether the attribute makes the function advanced.
fn apply_attribute(name: &str, args: Vec<AttrArg>, pd: &mut ParamDecl) -> bool {
    let lower = name.to_ascii_lowercase();
    let lower = lower
        .strip_prefix("system.management.automation.")
        .unwrap_or(&lower);
    let lower = lower.strip_suffix("attribute").unwrap_or(lower);
    let truthy = |e: &Option<Expr>| match e {
        None => true,
        Some(Expr {
            kind: ExprKind::Const(v),
            ..
        }) => v.is_true(),
        Some(_) => true,
    };
    let mut positional = Vec::new();
    let mut named = Vec::new();
    for a in args {
        match a {
            AttrArg::Named(k, v) => named.push((k.to_ascii_lowercase(), v)),
            AttrArg::Positional(e) => positional.push(e),
        }
    }
    match lower {
        "parameter" => {
            for (key, value) in &named {
                match key.as_str() {
                    "mandatory" => pd.mandatory = truthy(value),
                    "valuefrompipeline" => pd.from_pipeline = truthy(value),
                    "valuefrompipelinebypropertyname" => pd.from_pipeline_by_name = truthy(value),
                    "position" => {
                        if let Some(Expr {
                            kind: ExprKind::Const(v),
                            ..
                        }) = value
                        {
                            pd.position = v.as_i64().and_then(|n| usize::try_from(n).ok());
                        }
                    }
                    _ => {}
                }
            }
            true
        }
        "alias" => {
            for e in positional {
                pd.aliases.extend(const_strings(&e));
            }
            false
        }
        "validateset" => {
            let mut set = Vec::new();
            for e in positional {
                set.extend(const_strings(&e));
            }
            pd.validate_set = Some(set);
            false
        }
        "validaterange" => {
            let mut it = positional.into_iter();
            if let (Some(lo), Some(hi)) = (it.next(), it.next()) {
                pd.validate_range = Some((lo, hi));
            }
            false
        }
        "validatenotnullorempty" | "validatenotnull" => {
            pd.validate_not_null_or_empty = true;
            false
        }
        "validatepattern" => {
            pd.validate_pattern = positional.first().and_then(|e| const_strings(e).pop());
            false
        }
        "validatescript" => {
            if let Some(Expr {
                kind: ExprKind::ScriptBlock(sb),
                ..
            }) = positional.into_iter().next()
            {
                pd.validate_script = Some(sb);
            }
            false
        }
        _ => false,
    }
}

fn const_strings(e: &Expr) -> Vec<String> {
    match &e.kind {
        ExprKind::Const(v) => vec![v.to_string()],
        ExprKind::Array(items) => items.iter().flat_map(const_strings).collect(),
        _ => Vec::new(),
    }
}

fn finish_expandable(mut parts: Vec<StrPart>, lit: String) -> ExprKind {
    if parts.is_empty() {
        return ExprKind::Const(Value::from(lit));
    }
    if !lit.is_empty() {
        parts.push(StrPart::Lit(Rc::from(lit)));
    }
    ExprKind::Expandable(parts)
}

fn var_ref(name: &str, scope: VarScope, span: Span) -> VarRef {
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

/// Whether `-name` (given without the dash, lower-case) is an operator;
/// the highlighter (`tokens.rs`) asks, so both agree on the set.
pub(crate) fn is_operator_name(name: &str) -> bool {
    op_by_name(name).is_some() || matches!(name, "not" | "bnot" | "join" | "split")
}

fn op_by_name(name: &str) -> Option<BinOp> {
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
fn climb(
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

/// Every syntax error of a script, for `lyncsh check`: after the first
/// error, each top-level statement is parsed on its own so one mistake does
/// not hide the next.
pub fn check_all(source: Rc<Source>) -> Vec<ParseError> {
    let first = match parse_script(source.clone()) {
        Ok(_) => return Vec::new(),
        Err(e) => e,
    };
    let text = &source.text;
    let mut errors: Vec<ParseError> = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let Some((start, end)) = next_chunk(text, pos) else {
            break;
        };
        let Some(chunk_text) = text.get(start..end) else {
            break;
        };
        let chunk = Rc::new(Source::new(None, chunk_text.to_string()));
        match parse_script(chunk) {
            Ok(_) => pos = end,
            Err(mut e) => {
                let at = e.span.start as usize + start;
                e.span = Span::new(at, e.span.end as usize + start);
                e.src = source.clone();
                errors.push(e);
                // Resume on the line after the error.
                pos = text[at..]
                    .find('\n')
                    .map(|n| at + n + 1)
                    .unwrap_or(text.len())
                    .max(start + 1);
            }
        }
    }
    if errors.is_empty() {
        errors.push(first);
    }
    errors
}

/// The next top-level statement from `from`: it ends at a line break
/// outside brackets and strings, unless the statement obviously continues.
fn next_chunk(text: &str, from: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let mut depth = 0i64;
    let start = from;
    let mut i = from;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        if let Some(q) = quote {
            if c == b'`' && q == b'"' {
                i += 1;
            } else if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            b'\'' | b'"' => quote = Some(c),
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'`' => i += 1,
            b'(' | b'{' | b'[' => depth += 1,
            b')' | b'}' | b']' => depth -= 1,
            b'\n' if depth <= 0 => {
                let line = text[start..i].trim_end();
                let continues = line.ends_with('|') || line.ends_with(',') || line.ends_with('`');
                let next = text[i + 1..].trim_start().to_ascii_lowercase();
                let joins_next = ["else", "elseif", "catch", "finally", "while", "until", "}"]
                    .iter()
                    .any(|k| next.starts_with(k));
                if !continues && !joins_next && !line.is_empty() {
                    return Some((start, i));
                }
            }
            _ => {}
        }
        i += 1;
    }
    (start < b.len()).then_some((start, b.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Rc<ScriptBlockAst>, ParseError> {
        parse_script(Rc::new(Source::new(None, text.to_string())))
    }

    #[test]
    fn deep_nesting_is_a_clear_error_not_a_crash() {
        for (open, close) in [
            ("(", ")"),
            ("{", "}"),
            ("@(", ")"),
            ("$(", ")"),
            ("!", ""),
            ("-not ", ""),
            ("[int]", ""),
        ] {
            let text = format!("{}1{}", open.repeat(20_000), close.repeat(20_000));
            match parse(&text) {
                Err(e) => assert_eq!(e.error_id, "ScriptTooDeeplyNested", "{open}: {}", e.message),
                Ok(_) => panic!("{open}: nesting of 20000 accepted"),
            }
        }
    }

    #[test]
    fn ordinary_nesting_parses() {
        let text = format!("{}1{}", "(".repeat(40), ")".repeat(40));
        assert!(parse(&text).is_ok());
    }

    #[test]
    fn unfinished_input_is_incomplete() {
        for text in [
            "if ($a) {",
            "foreach ($i in 1..3) { $i",
            "'abc",
            "\"abc",
            "@'\nx",
            "Get-X |",
            "$a = ",
            "@{ a = 1",
            "function f {",
            "$x.Foo(1,",
        ] {
            match parse(text) {
                Err(e) => assert!(e.incomplete, "{text:?}: {}", e.message),
                Ok(_) => panic!("{text:?} accepted"),
            }
        }
    }

    #[test]
    fn real_errors_are_not_incomplete() {
        for text in ["if ($a) } ", "$a = )", "1 +* 2", "foreach $i in 1 {}"] {
            match parse(text) {
                Err(e) => assert!(!e.incomplete, "{text:?}: {}", e.message),
                Ok(_) => panic!("{text:?} accepted"),
            }
        }
    }

    #[test]
    fn multibyte_text_never_splits_a_character() {
        for text in [
            "é",
            "$é",
            "-é",
            "[é]",
            "@{é=1}",
            "'é",
            "Get-é -é é",
            "function é {}",
            "switch (1) { é {} }",
        ] {
            let _ = parse(text);
        }
    }
}
