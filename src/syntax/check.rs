//! `lyncsh check`: every syntax error of a script, not just the first.

use std::rc::Rc;

use super::ast::Span;
use super::error::ParseError;
use super::parse_script;
use super::source::Source;

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
