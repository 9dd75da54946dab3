//! Enter runs the input only when the parser says it is complete: an
//! unclosed block, string, here-string, trailing `|` or backtick keeps the
//! editor open with the `>> ` prompt.

use std::rc::Rc;

use lyncsh::syntax::{Source, parse_script};
use reedline::{ValidationResult, Validator};

pub struct ScriptValidator;

/// Whether `text` is a finished command: the parser's verdict, not a count
/// of brackets. Syntax errors count as finished (running shows them).
pub fn is_complete(text: &str) -> bool {
    if line_continues(text) {
        return false;
    }
    match parse_script(Rc::new(Source::new(None, text.to_string()))) {
        Ok(_) => true,
        Err(e) => !e.incomplete,
    }
}

/// A backtick at the very end, outside strings and comments, continues
/// the line: the editor hands over the text without the newline that the
/// parser would read as the continuation.
fn line_continues(text: &str) -> bool {
    text.ends_with('`')
        && !lyncsh::syntax::tokens::tokens(text)
            .iter()
            .any(|(s, _)| s.end as usize == text.len())
}

impl Validator for ScriptValidator {
    fn validate(&self, line: &str) -> ValidationResult {
        if is_complete(line) {
            ValidationResult::Complete
        } else {
            ValidationResult::Incomplete
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_complete;

    #[test]
    fn open_constructs_are_incomplete() {
        for t in [
            "foreach ($i in 1..3) {",
            "(1 +",
            "\"abc",
            "@'\nx",
            "Get-Date |",
            "Get-Date `",
            "$a = @(",
        ] {
            assert!(!is_complete(t), "{t:?} should be incomplete");
        }
        for t in [
            "Get-Date",
            "'a`'",
            "# x`",
            "foreach ($i in 1..3) { $i }",
            "1 +* 2",
            "",
        ] {
            assert!(is_complete(t), "{t:?} should be complete");
        }
    }
}
