//! Pipelines and command mode: command names, parameters, arguments
//! (bare words that may embed variables), redirections.

use super::*;
use crate::syntax::literals::{escape_char, parse_number};

impl Builder<'_> {
    /// A statement's pipeline, or the chain of them `&&` and `||` join.
    pub(super) fn pipeline_chain(&self, pair: Pair<Rule>) -> R<Stmt> {
        let span = span_of(&pair);
        let mut segments = Vec::new();
        let mut ops = Vec::new();
        let mut elements = Vec::new();
        let mut start = span.start as usize;
        let mut end = start;
        for p in pair.into_inner() {
            if p.as_rule() == Rule::chain_op {
                let at = p.as_span().start();
                segments.push(Pipeline {
                    elements: std::mem::take(&mut elements),
                    span: Span::new(start, end),
                });
                ops.push(if p.as_str() == "&&" {
                    ChainOp::And
                } else {
                    ChainOp::Or
                });
                start = at + 2;
                continue;
            }
            if start > end {
                start = p.as_span().start();
            }
            end = p.as_span().end();
            self.pipe_element(p, span, &mut elements)?;
        }
        let last = Pipeline {
            elements,
            span: Span::new(start, end),
        };
        if ops.is_empty() {
            return Ok(Stmt::Pipeline(Pipeline { span, ..last }));
        }
        segments.push(last);
        let mut segments = segments.into_iter();
        let Some(first) = segments.next() else {
            return Err(ParseError::internal(self.src, span));
        };
        Ok(Stmt::Chain(Box::new(Chain {
            first,
            rest: ops.into_iter().zip(segments).collect(),
            span,
        })))
    }

    /// One pipeline (`return`'s and `throw`'s value): no chain.
    pub(super) fn pipeline(&self, pair: Pair<Rule>) -> R<Pipeline> {
        let span = span_of(&pair);
        let mut elements = Vec::new();
        for p in pair.into_inner() {
            if p.as_rule() == Rule::chain_op {
                return Err(self.err(
                    span_of(&p),
                    "A pipeline chain ('&&', '||') cannot stand here: put it in parentheses.",
                ));
            }
            self.pipe_element(p, span, &mut elements)?;
        }
        Ok(Pipeline { elements, span })
    }

    fn pipe_element(&self, p: Pair<Rule>, span: Span, elements: &mut Vec<PipeElement>) -> R<()> {
        match p.as_rule() {
            Rule::pipe => {}
            Rule::command => elements.push(PipeElement::Command(Box::new(self.command(p)?))),
            _ => {
                let mut inner = p.into_inner();
                let Some(e) = inner.next() else {
                    return Err(ParseError::internal(self.src, span));
                };
                let expr = self.expression(e)?;
                let mut redirs = Vec::new();
                for r in inner {
                    redirs.push(self.redirection(r)?);
                }
                elements.push(PipeElement::Expr { expr, redirs });
            }
        }
        Ok(())
    }

    fn command(&self, pair: Pair<Rule>) -> R<CommandCall> {
        let span = span_of(&pair);
        let mut invoke = InvokeKind::Plain;
        let mut name = None;
        let mut name_span = span;
        let mut elements = Vec::new();
        let mut redirs = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::call_op => {
                    invoke = if p.as_str() == "&" {
                        InvokeKind::Call
                    } else {
                        InvokeKind::DotSource
                    }
                }
                Rule::postfix_expr if name.is_none() => {
                    name_span = span_of(&p);
                    name = Some(CommandName::Expr(self.postfix_expr(p)?));
                }
                Rule::bare_word if name.is_none() => {
                    name_span = span_of(&p);
                    name = Some(CommandName::Literal(Rc::from(self.bare_word_text(&p))));
                }
                Rule::redirection => redirs.push(self.redirection(p)?),
                Rule::stop_parsing => {
                    let rest = p.as_str()[3..].trim();
                    elements.push(CommandElement::Arg(const_str(rest, span_of(&p))));
                }
                Rule::parameter => {
                    let pspan = span_of(&p);
                    let mut inner = p.into_inner();
                    let pname: Rc<str> = Rc::from(inner.next().map(|n| n.as_str()).unwrap_or(""));
                    let value = inner.next().map(|a| self.argument(a)).transpose()?;
                    elements.push(CommandElement::Param {
                        name: pname,
                        value,
                        span: pspan,
                    });
                }
                Rule::splat => elements.push(CommandElement::Splat(var_ref(
                    &p.as_str()[1..],
                    VarScope::Any,
                    span_of(&p),
                ))),
                _ => elements.push(CommandElement::Arg(self.argument(p)?)),
            }
        }
        let Some(name) = name else {
            return Err(ParseError::internal(self.src, span));
        };
        Ok(CommandCall {
            invoke,
            name,
            elements,
            redirs,
            span,
            name_span,
        })
    }

    /// A command argument: one value, or several joined by commas.
    pub(super) fn argument(&self, pair: Pair<Rule>) -> R<Expr> {
        let span = span_of(&pair);
        let mut items = Vec::new();
        for p in pair.into_inner() {
            items.push(self.arg_primary(p)?);
        }
        if items.len() == 1
            && let Some(e) = items.pop()
        {
            return Ok(e);
        }
        Ok(Expr {
            kind: ExprKind::Array(items),
            span,
        })
    }

    fn arg_primary(&self, pair: Pair<Rule>) -> R<Expr> {
        match pair.as_rule() {
            Rule::bare_argument => self.bare_argument(pair),
            // A word that starts like a number but is none (`1abc.txt`,
            // `0x1g`) is a bare word in command mode, as pwsh reads it.
            Rule::postfix_expr if starts_with_bad_number(&pair) => {
                let mut text = String::new();
                unescape_into(pair.as_str(), &mut text);
                Ok(Expr {
                    kind: ExprKind::Bare(Rc::from(text)),
                    span: span_of(&pair),
                })
            }
            _ => self.postfix_expr(pair),
        }
    }

    /// A bare word, possibly with variables in it: c:\logs\$name.txt
    fn bare_argument(&self, pair: Pair<Rule>) -> R<Expr> {
        let span = span_of(&pair);
        let mut parts: Vec<StrPart> = Vec::new();
        let mut lit = String::new();
        let mut any_var = false;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::variable => {
                    if !lit.is_empty() {
                        parts.push(StrPart::Lit(Rc::from(std::mem::take(&mut lit))));
                    }
                    parts.push(StrPart::Var(self.variable(&p)?));
                    any_var = true;
                }
                Rule::sub_expression => {
                    if !lit.is_empty() {
                        parts.push(StrPart::Lit(Rc::from(std::mem::take(&mut lit))));
                    }
                    parts.push(StrPart::Sub(self.sub_statements(p)?));
                    any_var = true;
                }
                _ => unescape_into(p.as_str(), &mut lit),
            }
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

    /// The text of a command-mode word, backtick escapes applied.
    pub(super) fn bare_word_text(&self, pair: &Pair<Rule>) -> String {
        let mut out = String::new();
        unescape_into(pair.as_str(), &mut out);
        out
    }

    /// The error for a redirection that merges into a stream other than
    /// output (`2>&2`), found also before a later syntax error.
    pub(super) fn refused_redirection(&self, pair: &Pair<Rule>) -> Option<ParseError> {
        let start = pair.as_span().start();
        pair.clone()
            .into_inner()
            .find(|p| p.as_rule() == Rule::redir_merge)
            .and_then(|m| self.bad_merge(&start, &m))
    }

    fn bad_merge(&self, start: &usize, merge: &Pair<Rule>) -> Option<ParseError> {
        (merge.as_str() != "1").then(|| {
            self.err(
                Span::new(*start, merge.as_span().start()),
                "Only '>&1' can merge streams; redirecting into another stream is not supported.",
            )
        })
    }

    fn redirection(&self, pair: Pair<Rule>) -> R<Redirection> {
        let span = span_of(&pair);
        let pair_start = pair.as_span().start();
        let mut from = RedirStream::Output;
        let mut append = false;
        let mut to = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::redir_stream => {
                    from = match p.as_str() {
                        "*" => RedirStream::All,
                        "2" => RedirStream::Error,
                        "3" => RedirStream::Warning,
                        "4" => RedirStream::Verbose,
                        "5" => RedirStream::Debug,
                        "6" => RedirStream::Information,
                        _ => RedirStream::Output,
                    }
                }
                Rule::redir_merge => {
                    if let Some(e) = self.bad_merge(&pair_start, &p) {
                        return Err(e);
                    }
                    to = Some(RedirTarget::Merge);
                }
                Rule::redir_append => append = true,
                Rule::redir_word => {
                    to = Some(RedirTarget::File {
                        path: const_str(self.bare_word_text(&p), span_of(&p)),
                        append,
                    })
                }
                _ => {
                    to = Some(RedirTarget::File {
                        path: self.postfix_expr(p)?,
                        append,
                    })
                }
            }
        }
        match to {
            Some(to) => Ok(Redirection { from, to, span }),
            None => Err(ParseError::internal(self.src, span)),
        }
    }
}

/// Appends a command-mode word's text with its backtick escapes applied.
/// Whether a postfix expression begins with digits that are not a number.
fn starts_with_bad_number(pair: &Pair<Rule>) -> bool {
    pair.clone()
        .into_inner()
        .next()
        .is_some_and(|p| p.as_rule() == Rule::number && parse_number(p.as_str()).is_none())
}

fn unescape_into(text: &str, out: &mut String) {
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '`' {
            if let Some(n) = chars.next() {
                out.push(escape_char(n));
            }
        } else {
            out.push(c);
        }
    }
}
