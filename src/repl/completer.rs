//! Tab completion for reedline: the library's completion engine
//! (`lyncsh::complete`) over the shared snapshot, its items turned into
//! suggestions.

use lyncsh::complete::Completion;
use reedline::{Completer, Span, Suggestion};

use super::Shared;

pub struct ScriptCompleter {
    pub shared: Shared,
}

impl Completer for ScriptCompleter {
    fn complete(&mut self, line: &str, pos: usize) -> Vec<Suggestion> {
        let Ok(snap) = self.shared.lock() else {
            return Vec::new();
        };
        suggestions(lyncsh::complete::complete(&snap, line, pos))
    }
}

/// A completion, local or from a server, as reedline's suggestions.
pub fn suggestions(c: Completion) -> Vec<Suggestion> {
    let span = Span::new(c.start, c.end);
    c.items
        .into_iter()
        .map(|i| Suggestion {
            value: i.value,
            description: i.description,
            span,
            append_whitespace: i.space,
            ..Default::default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_carry_the_span_and_the_space() {
        let shared = super::super::shared_for_tests();
        let mut c = ScriptCompleter { shared };
        let s = c.complete("Get-CsUser -Iden", 16);
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0].value, "-Identity");
        assert_eq!(s[0].description.as_deref(), Some("[Object]"));
        assert_eq!(s[0].span, Span::new(11, 16));
        assert!(s[0].append_whitespace);
    }
}
