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
                    super::build::MAX_NESTING
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
}
