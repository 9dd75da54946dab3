//! The parser: a hand-written scanner and recursive descent over the
//! script text, with precedence climbing for binary operators.
//!
//! PowerShell's tokens depend on where they stand (in command mode `-eq`
//! is a parameter name and `a.txt` one word; in expression mode they are an
//! operator and a member access), so the parser asks for what it expects at
//! each point instead of reading a token stream made in advance — the way
//! PowerShell's own parser works. It reads bytes directly: no allocation per
//! token, no backtracking beyond a saved offset.

mod commands;
mod expressions;
mod params;
mod scan;
mod statements;
mod words;

pub(crate) use expressions::{is_operator_name, op_by_name};
pub(crate) use params::{AttrArg, apply_attribute};
pub(crate) use words::{finish_expandable, var_ref};

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

/// Reserved words (the parser acts on most; the highlighter colours all).
pub(crate) const KEYWORDS: &[&str] = &[
    "begin",
    "break",
    "catch",
    "class",
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
