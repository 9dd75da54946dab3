//! From the pairs of `grammar/powershell.pest` to the tree of `ast.rs`.
//!
//! The grammar decides what the text is; the builder reads each pair into
//! its node and checks what a grammar cannot say well (a number that does
//! not fit, a duplicate hash key, an unknown variable drive), with
//! PowerShell's messages. Split by concern: `statements`, `commands`,
//! `expressions`, `words` (strings, variables, numbers, type names),
//! `types` (`enum` and `class` statements).

mod attributes;
mod commands;
mod errors;
mod expressions;
mod statements;
mod types;
mod words;

use std::cell::RefCell;
use std::rc::Rc;

use pest::Parser as _;
use pest::iterators::Pair;

use super::ast::*;
use super::error::ParseError;
use super::grammar::{PsGrammar, Rule};
use super::source::Source;

use attributes::{AttrArg, apply_attribute};
use words::var_ref;

type R<T> = Result<T, ParseError>;

/// Deeper nesting than this is refused: the builder and the evaluator
/// recurse, and a script nested this deep is an attack or a mistake.
pub const MAX_NESTING: usize = 256;

/// Parses a whole script with the pest grammar.
pub fn parse_script(source: Rc<Source>) -> R<Rc<ScriptBlockAst>> {
    match nesting(&source.text) {
        Err(at) => Err(ParseError::too_deep(&source, at)),
        // pest descends once per bracket level: deep text gets a stack of
        // its own (on this thread) whatever stack the caller runs on.
        Ok(depth) if depth > SHALLOW => stacker::grow(DEEP_STACK, || parse(source)),
        Ok(_) => parse(source),
    }
}

/// Bracket depth that any thread's stack (2 MiB and up) parses.
const SHALLOW: usize = 48;
/// The stack for text nested up to [`MAX_NESTING`] levels.
const DEEP_STACK: usize = 32 << 20;

fn parse(source: Rc<Source>) -> R<Rc<ScriptBlockAst>> {
    let text = source.text.as_str();
    let mut pairs = match PsGrammar::parse(Rule::script, text) {
        Ok(p) => p,
        Err(e) => return Err(failure(&source, &e)),
    };
    super::requires::check(&source)?;
    let b = Builder {
        src: &source,
        using: RefCell::default(),
        in_method: Default::default(),
    };
    let Some(script) = pairs.next() else {
        return Err(ParseError::internal(&source, Span::new(0, 0)));
    };
    if let Some(e) = errors::first_error(&b, &script) {
        return Err(e);
    }
    let Some(body) = script
        .into_inner()
        .find(|p| p.as_rule() == Rule::script_body)
    else {
        return Err(ParseError::internal(&source, Span::new(0, 0)));
    };
    b.script_body(body, Span::new(0, text.len()))
}

/// How deep brackets nest, or where they pass [`MAX_NESTING`]: a cheap
/// scan that keeps hostile input from exhausting the stack. Brackets in
/// comments and single-quoted strings do not count.
fn nesting(text: &str) -> Result<usize, usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut max = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'(' | b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
                if depth > MAX_NESTING {
                    return Err(i);
                }
            }
            b')' | b'}' | b']' => depth = depth.saturating_sub(1),
            b'`' => i += 1,
            b'\'' => {
                i += 1;
                while i < b.len() && b[i] != b'\'' {
                    i += 1;
                }
            }
            b'#' => {
                while i < b.len() && !matches!(b[i], b'\n' | b'\r') {
                    i += 1;
                }
            }
            b'<' if b.get(i + 1) == Some(&b'#') => {
                i = text[i..].find("#>").map(|e| i + e + 1).unwrap_or(b.len());
            }
            _ => {}
        }
        i += 1;
    }
    Ok(max)
}

/// The length of the token an "Unexpected token" error names: up to a
/// blank or a bracket, separator or pipe after its first character.
pub(super) fn token_len(rest: &str) -> usize {
    let end = rest
        .char_indices()
        .find(|&(i, c)| {
            c.is_whitespace() || (i > 0 && matches!(c, '(' | ')' | '{' | '}' | ';' | '|' | ','))
        })
        .map(|(i, _)| i)
        .unwrap_or(rest.len());
    if end == 0 {
        rest.chars().next().map(char::len_utf8).unwrap_or(1)
    } else {
        end
    }
}

/// A pest failure in PowerShell's words: for now the position pest gave up
/// at, as an unexpected token there.
fn failure(source: &Rc<Source>, e: &pest::error::Error<Rule>) -> ParseError {
    let at = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let text = source.text.as_str();
    if at >= text.len() {
        return ParseError {
            incomplete: true,
            error_id: "IncompleteParseException",
            ..ParseError::at(
                source,
                Span::new(text.len(), text.len() + 1),
                "The statement is not complete: more input was expected.".into(),
            )
        };
    }
    let rest = &text[at..];
    let end = token_len(rest);
    ParseError {
        error_id: "UnexpectedToken",
        ..ParseError::at(
            source,
            Span::new(at, at + end),
            format!(
                "Unexpected token '{}' in expression or statement.",
                &rest[..end]
            ),
        )
    }
}

pub(super) struct Builder<'s> {
    src: &'s Rc<Source>,
    /// The `using namespace` names read so far, for the type names after.
    using: RefCell<Rc<[Rc<str>]>>,
    /// Inside a class method's body, outside any script block in it.
    in_method: types::InMethod,
}

fn span_of(p: &Pair<Rule>) -> Span {
    let s = p.as_span();
    Span::new(s.start(), s.end())
}

impl Builder<'_> {
    fn err(&self, span: Span, msg: impl Into<String>) -> ParseError {
        ParseError::at(self.src, span, msg.into())
    }

    /// Attributes, `param()`, then named blocks or statements.
    /// `using namespace X` takes effect for the type names after it;
    /// `using module` may name a built-in module only; `using assembly`
    /// loads nothing in lyncsh.
    fn using(&self, pair: Pair<Rule>) -> R<()> {
        let span = span_of(&pair);
        let mut inner = pair.into_inner().skip(1);
        let (Some(kind), Some(name)) = (inner.next(), inner.next()) else {
            return Err(ParseError::internal(self.src, span));
        };
        let text = name.as_str().trim_matches(['\'', '"']);
        match kind.as_str().to_ascii_lowercase().as_str() {
            "namespace" => {
                let mut using = self.using.borrow_mut();
                let mut names: Vec<Rc<str>> = using.iter().cloned().collect();
                names.push(Rc::from(text));
                *using = names.into();
                Ok(())
            }
            "module" if super::requires::is_built_in_module(text) => Ok(()),
            "module" => Err(self.err(
                span_of(&name),
                format!(
                    "The module '{text}' cannot be loaded: lyncsh has the Lync cmdlets and its other modules built in and loads no others."
                ),
            )),
            _ => Err(self.err(
                span,
                "'using assembly' is not supported: lyncsh loads no .NET assemblies.",
            )),
        }
    }

    fn script_body(&self, pair: Pair<Rule>, span: Span) -> R<Rc<ScriptBlockAst>> {
        let mut ast = ScriptBlockAst {
            source: self.src.clone(),
            span,
            cmdlet_binding: false,
            should_process: false,
            params: None,
            begin: None,
            process: None,
            end: None,
            clean: None,
        };
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::using_stmt => self.using(p)?,
                Rule::attribute => {
                    let (name, args) = self.attribute(p)?;
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
                }
                Rule::param_block => {
                    if let Some(list) = p.into_inner().find(|q| q.as_rule() == Rule::param_list) {
                        let (params, advanced) = self.param_list(list)?;
                        ast.cmdlet_binding |= advanced;
                        ast.params = Some(params);
                    }
                }
                Rule::named_blocks => {
                    for nb in p.into_inner() {
                        let mut inner = nb.into_inner();
                        let (Some(kind), Some(block)) = (inner.next(), inner.next()) else {
                            continue;
                        };
                        let block = self.block(block)?;
                        match kind.as_str().to_ascii_lowercase().as_str() {
                            "begin" => ast.begin = Some(block),
                            "process" => ast.process = Some(block),
                            "end" => ast.end = Some(block),
                            "clean" => ast.clean = Some(block),
                            _ => {}
                        }
                    }
                }
                Rule::statements => ast.end = Some(self.statements(p)?),
                _ => {}
            }
        }
        Ok(Rc::new(ast))
    }

    /// `{ script body }` as a script block literal or a function body.
    fn script_block(&self, pair: Pair<Rule>) -> R<Rc<ScriptBlockAst>> {
        let span = span_of(&pair);
        // A `return` in a script block returns from the block, even
        // within a class method.
        let was = self.in_method.replace(false);
        let r = match pair.into_inner().next() {
            Some(body) => self.script_body(body, span),
            None => Err(ParseError::internal(self.src, span)),
        };
        self.in_method.set(was);
        r
    }

    /// `[Name(args)]`
    fn attribute(&self, pair: Pair<Rule>) -> R<(String, Vec<AttrArg>)> {
        let mut name = String::new();
        let mut args = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::attr_name => name = p.as_str().to_string(),
                Rule::attr_named => {
                    let mut inner = p.into_inner();
                    let key = inner.next().map(|k| k.as_str().to_string());
                    let value = inner.next().map(|v| self.arg_expr(v)).transpose()?;
                    args.push(AttrArg::Named(key.unwrap_or_default(), value));
                }
                Rule::attr_flag => {
                    let key = p.into_inner().next().map(|k| k.as_str().to_string());
                    args.push(AttrArg::Named(key.unwrap_or_default(), None));
                }
                _ => args.push(AttrArg::Positional(self.arg_expr(p)?)),
            }
        }
        Ok((name, args))
    }

    /// Parameter declarations; also whether an attribute makes the
    /// function advanced.
    fn param_list(&self, pair: Pair<Rule>) -> R<(Vec<ParamDecl>, bool)> {
        let mut params = Vec::new();
        let mut advanced = false;
        for decl in pair.into_inner() {
            let span = span_of(&decl);
            let mut pd = ParamDecl {
                name: var_ref(
                    "",
                    VarScope::Any,
                    Span::new(span.start as usize, span.start as usize),
                ),
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
                span,
            };
            for p in decl.into_inner() {
                match p.as_rule() {
                    Rule::attribute => {
                        let (name, args) = self.attribute(p)?;
                        advanced |= apply_attribute(&name, args, &mut pd);
                    }
                    Rule::type_literal => pd.type_name = Some(self.type_name(&p)?),
                    Rule::variable => pd.name = self.variable(&p)?,
                    _ => pd.default = Some(self.arg_expr(p)?),
                }
            }
            params.push(pd);
        }
        Ok((params, advanced))
    }
}

/// The text after a leading dash, which may be an en dash, em dash or
/// horizontal bar as well as `-` (the grammar's `dash`).
fn after_dash(text: &str) -> &str {
    text.strip_prefix(['-', '\u{2013}', '\u{2014}', '\u{2015}'])
        .unwrap_or(text)
}

/// A string constant.
fn const_str(s: impl Into<String>, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Const(Literal::str(s.into())),
        span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> R<Rc<ScriptBlockAst>> {
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
    fn nesting_up_to_the_limit_parses_on_a_default_thread() {
        for (open, close) in [
            ("(", ")"),
            ("{", "}"),
            ("@(", ")"),
            ("$(", ")"),
            ("@{a=", "}"),
        ] {
            let n = MAX_NESTING;
            let text = format!("{}1{}", open.repeat(n), close.repeat(n));
            // The default 2 MiB stack of a spawned thread, as the REPL's
            // and remote sessions' threads may have.
            let ok = std::thread::Builder::new()
                .stack_size(2 << 20)
                .spawn(move || parse(&text).is_ok())
                .map(|h| h.join().unwrap_or(false))
                .unwrap_or(false);
            assert!(ok, "{open} x {MAX_NESTING}");
        }
    }

    #[test]
    fn unclosed_nesting_is_parsed_once_per_level() {
        // Each of these once took 2^n steps (the fuzzer stopped on 24
        // levels): the parse tried a level as an assignment target, then
        // again as a pipeline. At 200 levels that would never end.
        for open in [
            "(",
            "$a[",
            "$a.(",
            "[int](",
            "[string[]](",
            "a -Id(",
            "$x = (",
        ] {
            let text = format!("{}x \"y", open.repeat(200));
            assert!(parse(&text).is_err(), "{open} x 200");
        }
    }
}
