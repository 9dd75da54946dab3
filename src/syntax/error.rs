//! Parse errors that say where, what, and whether the input merely stops
//! early (the REPL keeps reading then, instead of reporting).

use std::rc::Rc;

use super::ast::Span;
use super::source::Source;

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    pub src: Rc<Source>,
    pub span: Span,
    /// The text ended inside an unfinished construct (an open brace, string,
    /// here-string, a trailing `|` or operator): more input could fix it.
    pub incomplete: bool,
    /// PowerShell's error id, e.g. `MissingEndCurlyBrace`.
    pub error_id: &'static str,
}

impl ParseError {
    pub fn at(source: &Rc<Source>, span: Span, message: String) -> ParseError {
        ParseError {
            message,
            src: source.clone(),
            span,
            incomplete: false,
            error_id: "ParserError",
        }
    }

    pub fn internal(source: &Rc<Source>, span: Span) -> ParseError {
        ParseError::at(
            source,
            span,
            "The parser could not understand this construct.".to_string(),
        )
    }

    pub fn too_deep(source: &Rc<Source>, offset: usize) -> ParseError {
        ParseError {
            error_id: "ScriptTooDeeplyNested",
            ..ParseError::at(
                source,
                Span::new(offset, offset + 1),
                format!(
                    "The script is nested more than {} levels deep.",
                    super::parse::MAX_NESTING
                ),
            )
        }
    }

    pub fn line_col(&self) -> (usize, usize) {
        self.src.line_col(self.span.start)
    }

    /// `file:line:col: message`, the form `lyncsh check` prints.
    pub fn short(&self) -> String {
        let (line, col) = self.line_col();
        let name = self.src.name().unwrap_or_else(|| "<command>".into());
        format!("{name}:{line}:{col}: {}", self.message)
    }

    pub fn from_pest<R: pest::RuleType>(
        source: &Rc<Source>,
        e: pest::error::Error<R>,
    ) -> ParseError {
        let offset = match e.location {
            pest::error::InputLocation::Pos(p) => p,
            pest::error::InputLocation::Span((s, _)) => s,
        };
        if let Some(open) = scan_unclosed(&source.text) {
            return open.into_error(source);
        }
        let text = &source.text;
        let rest = text.get(offset..).unwrap_or("");
        let trimmed = rest.trim_start_matches([' ', '\t', '\r', '\n']);
        let before = text
            .get(..offset)
            .unwrap_or("")
            .trim_end_matches([' ', '\t']);
        // Input that ends right after a pipe, comma or operator is unfinished.
        if trimmed.is_empty() {
            let (message, id) = if before.ends_with('|') {
                ("An empty pipe element is not allowed.", "EmptyPipeElement")
            } else if before.ends_with(',') {
                (
                    "Missing expression after ','.",
                    "MissingExpressionAfterToken",
                )
            } else if before.ends_with('=') {
                (
                    "You must provide a value expression following the '=' operator.",
                    "ExpectedValueExpression",
                )
            } else {
                (
                    "The statement is not complete: more input was expected.",
                    "IncompleteParseException",
                )
            };
            let at = before.len();
            return ParseError {
                message: message.to_string(),
                src: source.clone(),
                span: Span::new(at, at),
                incomplete: true,
                error_id: id,
            };
        }
        let token = bad_token(trimmed);
        let at = offset + (rest.len() - trimmed.len());
        let message = if token == "}" {
            "Unexpected token '}' in expression or statement.".to_string()
        } else if token == ")" {
            "Unexpected token ')' in expression or statement.".to_string()
        } else if before.ends_with('|') || trimmed.starts_with('|') {
            "An empty pipe element is not allowed.".to_string()
        } else {
            format!("Unexpected token '{token}' in expression or statement.")
        };
        ParseError {
            message,
            src: source.clone(),
            span: Span::new(at, at + token.len()),
            incomplete: false,
            error_id: "UnexpectedToken",
        }
    }
}

/// The token at a failing position: a word, or one character.
fn bad_token(s: &str) -> &str {
    let end = s
        .char_indices()
        .find(|&(i, c)| {
            c.is_whitespace() || (i > 0 && matches!(c, '(' | ')' | '{' | '}' | ';' | '|' | ','))
        })
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    let end = if end == 0 {
        s.chars().next().map(char::len_utf8).unwrap_or(0)
    } else {
        end
    };
    &s[..end]
}

struct Unclosed {
    what: char,
    at: usize,
}

impl Unclosed {
    fn into_error(self, source: &Rc<Source>) -> ParseError {
        let (message, id) = match self.what {
            '{' => (
                "Missing closing '}' in statement block or type definition.".to_string(),
                "MissingEndCurlyBrace",
            ),
            '(' => (
                "Missing closing ')' in expression.".to_string(),
                "MissingEndParenthesisInExpression",
            ),
            '[' => (
                "Missing ']' at end of array index or type name.".to_string(),
                "MissingEndSquareBracket",
            ),
            '#' => (
                "Missing the end of the block comment: '#>'.".to_string(),
                "MissingEndOfComment",
            ),
            '@' => (
                "The here-string is missing its terminator: a line that starts with \"@ or '@."
                    .to_string(),
                "TerminatorExpectedAtEndOfString",
            ),
            q => (
                format!("The string is missing the terminator: {q}."),
                "TerminatorExpectedAtEndOfString",
            ),
        };
        ParseError {
            message,
            src: source.clone(),
            span: Span::new(self.at, self.at + 1),
            incomplete: true,
            error_id: id,
        }
    }
}

/// Finds the innermost construct still open at the end of the text: an
/// unterminated string or here-string, or an unmatched bracket. Only the
/// end state matters, so a rough lexer is enough.
fn scan_unclosed(text: &str) -> Option<Unclosed> {
    let b = text.as_bytes();
    let mut stack: Vec<(u8, usize)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'`' => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'<' if b.get(i + 1) == Some(&b'#') => match text[i + 2..].find("#>") {
                Some(e) => i += e + 3,
                None => return Some(Unclosed { what: '#', at: i }),
            },
            b'@' if matches!(b.get(i + 1), Some(b'"') | Some(b'\'')) && here_start(b, i + 2) => {
                let q = b[i + 1] as char;
                let term = format!("\n{q}@");
                match text[i..].find(&term) {
                    Some(e) => i += e + term.len() - 1,
                    None => return Some(Unclosed { what: '@', at: i }),
                }
            }
            b'\'' => {
                let start = i;
                i += 1;
                loop {
                    if i >= b.len() {
                        return Some(Unclosed {
                            what: '\'',
                            at: start,
                        });
                    }
                    if b[i] == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    i += 1;
                }
            }
            b'"' => {
                let start = i;
                i += 1;
                let mut depth = 0usize;
                loop {
                    if i >= b.len() {
                        return Some(Unclosed {
                            what: '"',
                            at: start,
                        });
                    }
                    match b[i] {
                        b'`' => i += 1,
                        b'$' if b.get(i + 1) == Some(&b'(') => {
                            depth += 1;
                            i += 1;
                        }
                        b')' if depth > 0 => depth -= 1,
                        b'"' if depth == 0 => {
                            if b.get(i + 1) == Some(&b'"') {
                                i += 1;
                            } else {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            b'(' | b'{' | b'[' => stack.push((c, i)),
            b')' | b'}' | b']' => {
                let want = match c {
                    b')' => b'(',
                    b'}' => b'{',
                    _ => b'[',
                };
                if stack.last().map(|s| s.0) == Some(want) {
                    stack.pop();
                }
            }
            _ => {}
        }
        i += 1;
    }
    stack.pop().map(|(c, at)| Unclosed {
        what: c as char,
        at,
    })
}

fn here_start(b: &[u8], mut i: usize) -> bool {
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    i >= b.len() || b[i] == b'\n' || b[i] == b'\r'
}
