//! A token-level scan of script text for highlighting. It follows the
//! parser's scanning rules (what ends a word, how strings, here-strings,
//! variables and comments are delimited) but builds no tree and never
//! fails: unfinished input simply runs to the end.

use super::ast::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// The first word of a command (`Get-CsUser`, `foreach`-less words).
    Command,
    Keyword,
    /// `-Name` in command mode.
    Parameter,
    String,
    Number,
    Variable,
    /// `|`, `=`, `-eq`, `+`, `;` …
    Operator,
    Comment,
    /// `[int]`
    Type,
    /// Bare words that are arguments, member names, punctuation.
    Other,
}

/// Reserved words (the grammar acts on most; the highlighter colours all).
pub(crate) const KEYWORDS: &[&str] = &[
    "begin",
    "break",
    "catch",
    "class",
    "clean",
    "continue",
    "data",
    "do",
    "dynamicparam",
    "else",
    "elseif",
    "end",
    "enum",
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
    "using",
    "while",
];

fn ends_word(c: u8) -> bool {
    c.is_ascii_whitespace() || matches!(c, b'|' | b';' | b'(' | b')' | b'{' | b'}' | b',' | b'&')
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'?' || c >= 0x80
}

/// Splits `text` into highlighted tokens; whitespace is left out.
pub fn tokens(text: &str) -> Vec<(Span, TokenKind)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    // At the start of a statement the next word is a command name.
    let mut command_next = true;
    let push = |out: &mut Vec<(Span, TokenKind)>, s: usize, e: usize, k: TokenKind| {
        out.push((
            Span {
                start: s as u32,
                end: e as u32,
            },
            k,
        ))
    };
    while i < b.len() {
        let c = b[i];
        let start = i;
        // `-`, or the en dash, em dash or horizontal bar pasted in its place.
        let dash = match &b[i..] {
            [b'-', ..] => 1,
            [0xE2, 0x80, 0x93..=0x95, ..] => 3,
            _ => 0,
        };
        match c {
            b'\n' | b';' | b'{' | b'(' | b'|' | b'}' => {
                i += 1;
                if c != b'\n' {
                    push(&mut out, start, i, TokenKind::Operator);
                }
                command_next = c != b'}';
            }
            c if c.is_ascii_whitespace() => i += 1,
            b'`' => i = (i + 2).min(b.len()),
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                push(&mut out, start, i, TokenKind::Comment);
            }
            b'<' if b.get(i + 1) == Some(&b'#') => {
                i = text[i + 2..].find("#>").map_or(b.len(), |p| i + 2 + p + 2);
                push(&mut out, start, i, TokenKind::Comment);
            }
            b'@' if matches!(b.get(i + 1), Some(b'\'' | b'"'))
                && matches!(b.get(i + 2), Some(b'\n' | b'\r') | None) =>
            {
                let close = if b[i + 1] == b'\'' { "\n'@" } else { "\n\"@" };
                i = text[i + 2..]
                    .find(close)
                    .map_or(b.len(), |p| i + 2 + p + close.len());
                push(&mut out, start, i, TokenKind::String);
                command_next = false;
            }
            b'\'' => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                push(&mut out, start, i.min(b.len()), TokenKind::String);
                command_next = false;
            }
            b'"' => {
                i += 1;
                while i < b.len() {
                    match b[i] {
                        b'`' => i += 2,
                        b'"' if b.get(i + 1) == Some(&b'"') => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
                i = i.min(b.len());
                push(&mut out, start, i, TokenKind::String);
                command_next = false;
            }
            b'$' => {
                i += 1;
                if b.get(i) == Some(&b'{') {
                    i = text[i..].find('}').map_or(b.len(), |p| i + p + 1);
                } else if matches!(b.get(i), Some(b'$' | b'^' | b'_'))
                    && !b.get(i + 1).is_some_and(|&c| is_ident(c))
                {
                    i += 1;
                } else {
                    while i < b.len() && (is_ident(b[i]) || b[i] == b':') {
                        i += 1;
                    }
                }
                if i == start + 1 && b.get(i) == Some(&b'(') {
                    push(&mut out, start, i, TokenKind::Operator);
                } else {
                    push(&mut out, start, i, TokenKind::Variable);
                }
                command_next = false;
            }
            b'[' => {
                // A type literal `[name]` when a name follows at once.
                let close = text[i..].find(']').map(|p| i + p);
                match close {
                    Some(e)
                        if text[i + 1..e]
                            .bytes()
                            .all(|c| is_ident(c) || b".,[ ".contains(&c))
                            && e > i + 1 =>
                    {
                        i = e + 1;
                        push(&mut out, start, i, TokenKind::Type);
                    }
                    _ => {
                        i += 1;
                        push(&mut out, start, i, TokenKind::Operator);
                    }
                }
            }
            _ if dash > 0 && b.get(i + dash).is_some_and(|c| c.is_ascii_alphabetic()) => {
                i += dash;
                while i < b.len() && !ends_word(b[i]) && b[i] != b':' && b[i] != b'=' {
                    i += 1;
                }
                let word = text[start + dash..i].to_ascii_lowercase();
                let op = super::operators::is_operator_name(&word);
                if b.get(i) == Some(&b':') {
                    i += 1;
                }
                let kind = if command_next || (!op && !in_expression(&out)) {
                    TokenKind::Parameter
                } else if op {
                    TokenKind::Operator
                } else {
                    TokenKind::Parameter
                };
                push(&mut out, start, i, kind);
                command_next = false;
            }
            c if c.is_ascii_digit()
                || (c == b'.' && b.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                while i < b.len() && !ends_word(b[i]) && !matches!(b[i], b']' | b'[' | b'=') {
                    i += 1;
                }
                let word = &text[start..i];
                let numeric = word.bytes().all(|c| {
                    c.is_ascii_hexdigit()
                        || matches!(
                            c,
                            b'.' | b'x'
                                | b'X'
                                | b'l'
                                | b'L'
                                | b'k'
                                | b'K'
                                | b'm'
                                | b'M'
                                | b'g'
                                | b'G'
                                | b't'
                                | b'T'
                                | b'p'
                                | b'P'
                                | b'b'
                                | b'B'
                        )
                });
                let kind = if command_next && !numeric {
                    TokenKind::Command
                } else if numeric {
                    TokenKind::Number
                } else {
                    TokenKind::Other
                };
                push(&mut out, start, i, kind);
                command_next = false;
            }
            b'=' | b'+' | b'*' | b'/' | b'%' | b'!' | b',' | b'>' | b'<' | b'&' | b'.' | b'-'
            | b']' | b')' => {
                i += 1;
                while i < b.len() && matches!(b[i], b'=' | b'+' | b'>' | b'.') {
                    i += 1;
                }
                push(&mut out, start, i, TokenKind::Operator);
                // `& name`, `. name` and `x = cmd` start a command.
                command_next = matches!(&text[start..i], "&" | "." | "=" | "+=" | "-=");
                if c == b'.' && i - start == 1 && start > 0 && !b[start - 1].is_ascii_whitespace() {
                    command_next = false;
                }
            }
            _ => {
                while i < b.len()
                    && !ends_word(b[i])
                    && (b[i] != b'.' || command_next)
                    && !matches!(b[i], b'=' | b'[' | b']' | b'"' | b'\'' | b'$')
                {
                    i += 1;
                }
                if i == start {
                    // A character no rule takes (a stray quote, say): skip it
                    // along with any UTF-8 continuation bytes.
                    i += 1;
                    while i < b.len() && !text.is_char_boundary(i) {
                        i += 1;
                    }
                    push(&mut out, start, i, TokenKind::Other);
                    continue;
                }
                let word = &text[start..i];
                let kind = if KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word)) {
                    TokenKind::Keyword
                } else if command_next {
                    TokenKind::Command
                } else {
                    TokenKind::Other
                };
                push(&mut out, start, i, kind);
                // After a keyword such as `foreach` comes `(`; after `else` a block.
                command_next = kind == TokenKind::Keyword
                    && matches!(
                        word.to_ascii_lowercase().as_str(),
                        "else"
                            | "try"
                            | "finally"
                            | "do"
                            | "begin"
                            | "process"
                            | "end"
                            | "return"
                            | "throw"
                            | "exit"
                    );
            }
        }
    }
    out
}

/// Whether the tokens so far place us in expression mode: the statement
/// began with a value rather than a command name.
fn in_expression(out: &[(Span, TokenKind)]) -> bool {
    for (_, k) in out.iter().rev() {
        match k {
            TokenKind::Command => return false,
            TokenKind::Variable | TokenKind::Number | TokenKind::String => {}
            TokenKind::Operator | TokenKind::Keyword => return true,
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(t: &str) -> Vec<(String, TokenKind)> {
        tokens(t)
            .into_iter()
            .map(|(s, k)| (t[s.start as usize..s.end as usize].to_string(), k))
            .collect()
    }

    #[test]
    fn command_parameters_strings_and_numbers() {
        let k = kinds("Get-CsUser -Identity 'ken' | Select-Object -First 3 # done");
        assert_eq!(k[0], ("Get-CsUser".into(), TokenKind::Command));
        assert_eq!(k[1], ("-Identity".into(), TokenKind::Parameter));
        assert_eq!(k[2], ("'ken'".into(), TokenKind::String));
        assert_eq!(k[4], ("Select-Object".into(), TokenKind::Command));
        assert_eq!(k[6], ("3".into(), TokenKind::Number));
        assert_eq!(k[7].1, TokenKind::Comment);
    }

    #[test]
    fn expressions_variables_and_operators() {
        let k = kinds("$x = 1 -eq 2; foreach ($u in $list) { \"a $u\" }");
        assert_eq!(k[0], ("$x".into(), TokenKind::Variable));
        assert!(k.contains(&("-eq".into(), TokenKind::Operator)));
        assert!(k.contains(&("foreach".into(), TokenKind::Keyword)));
        assert!(k.contains(&("\"a $u\"".into(), TokenKind::String)));
    }

    #[test]
    fn pasted_dashes_and_chains() {
        let k = kinds("Get-CsUser –Identity ken && $a —eq 1 || Get-Date");
        assert_eq!(k[1], ("–Identity".into(), TokenKind::Parameter));
        assert!(k.contains(&("—eq".into(), TokenKind::Operator)));
        assert_eq!(k.last(), Some(&("Get-Date".into(), TokenKind::Command)));
    }

    #[test]
    fn unfinished_input_never_panics() {
        for t in [
            "\"abc",
            "@'\nx",
            "${a",
            "<# x",
            "[int",
            "-",
            "$",
            "é'x",
            "Get-X -",
            "–",
            "x \u{2014}",
        ] {
            let _ = tokens(t);
        }
    }
}
