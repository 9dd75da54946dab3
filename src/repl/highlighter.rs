//! Colours from the token scan (`syntax::tokens`): known commands, unknown
//! ones, parameters, strings, numbers, variables, operators, comments; a
//! syntax error is marked where the parser found it, before Enter.

use std::rc::Rc;

use lyncsh::syntax::tokens::{TokenKind, tokens};
use lyncsh::syntax::{Source, parse_script};
use nu_ansi_term::{Color, Style};
use reedline::{Highlighter, StyledText};

use super::Shared;

pub struct ScriptHighlighter {
    pub shared: Shared,
}

fn style(kind: TokenKind, known: bool) -> Style {
    match kind {
        TokenKind::Command if known => Style::new().fg(Color::Yellow),
        TokenKind::Command => Style::new().fg(Color::Red),
        TokenKind::Keyword => Style::new().fg(Color::LightGreen),
        TokenKind::Parameter => Style::new().fg(Color::DarkGray),
        TokenKind::String => Style::new().fg(Color::Cyan),
        TokenKind::Number => Style::new().fg(Color::White).bold(),
        TokenKind::Variable => Style::new().fg(Color::LightGreen),
        TokenKind::Operator => Style::new().fg(Color::DarkGray),
        TokenKind::Comment => Style::new().fg(Color::Green),
        TokenKind::Type => Style::new().fg(Color::DarkGray),
        TokenKind::Other => Style::new(),
    }
}

/// The style of the text marked as a syntax error.
pub fn error_style() -> Style {
    Style::new().fg(Color::White).on(Color::Red)
}

impl Highlighter for ScriptHighlighter {
    fn highlight(&self, line: &str, _cursor: usize) -> StyledText {
        let mut styles = vec![Style::new(); line.len()];
        let snapshot = self.shared.lock().ok();
        for (span, kind) in tokens(line) {
            let (s, e) = (span.start as usize, (span.end as usize).min(line.len()));
            let known = kind == TokenKind::Command
                && snapshot
                    .as_ref()
                    .is_some_and(|sn| sn.is_command(&line[s..e]));
            if let Some(slot) = styles.get_mut(s..e) {
                slot.fill(style(kind, known));
            }
        }
        drop(snapshot);
        if let Err(err) = parse_script(Rc::new(Source::new(None, line.to_string())))
            && !err.incomplete
        {
            let s = (err.span.start as usize).min(line.len());
            let mut e = (err.span.end as usize).clamp(s, line.len());
            if e == s {
                e = line[s..].chars().next().map_or(s, |c| s + c.len_utf8());
            }
            if let Some(slot) = styles.get_mut(s..e) {
                slot.fill(error_style());
            }
            if e == s {
                // The error is at the very end: show a marker there.
                let mut out = group(line, &styles);
                out.buffer.push((error_style(), " ".into()));
                return out;
            }
        }
        group(line, &styles)
    }
}

/// Runs of equal style become segments, cut only at character boundaries.
fn group(line: &str, styles: &[Style]) -> StyledText {
    let mut out = StyledText::new();
    let mut start = 0;
    for (i, _) in line.char_indices().skip(1) {
        if styles.get(i) != styles.get(start) {
            out.buffer.push((
                styles.get(start).copied().unwrap_or_default(),
                line[start..i].to_string(),
            ));
            start = i;
        }
    }
    if start < line.len() {
        out.buffer.push((
            styles.get(start).copied().unwrap_or_default(),
            line[start..].to_string(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hl(line: &str) -> StyledText {
        ScriptHighlighter {
            shared: super::super::shared_for_tests(),
        }
        .highlight(line, line.len())
    }

    #[test]
    fn known_and_unknown_commands_differ() {
        let a = hl("Get-CsUser -Identity x");
        let b = hl("Get-Nothing -Identity x");
        assert_eq!(a.buffer[0].0, Style::new().fg(Color::Yellow));
        assert_eq!(b.buffer[0].0, Style::new().fg(Color::Red));
        let text: String = a.buffer.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(text, "Get-CsUser -Identity x");
    }

    #[test]
    fn syntax_error_is_marked() {
        let t = hl("$x = 1 +* 2");
        assert!(t.buffer.iter().any(|(s, _)| *s == error_style()));
        let ok = hl("$x = 1 + 2");
        assert!(!ok.buffer.iter().any(|(s, _)| *s == error_style()));
    }
}
