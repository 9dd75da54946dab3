//! A remote shell's unfinished input (the lines after a `>>` prompt):
//! capped, and judged without re-parsing all of it on every line. A quick
//! scan, carried from line to line, sees when the input is certainly still
//! open (inside a block, a string, a here-string); only when it may be finished does the parser decide.
//! The scan errs one way only: when unsure, it asks the parser. The
//! parser's work on one continuation is bounded too, so no input can make
//! the shell spend more than a fixed multiple of the cap.

use std::rc::Rc;

use crate::syntax::{Source, parse_script};

/// Longest unfinished input a shell keeps.
pub const MAX_CONTINUATION: usize = 4 << 20;

/// Bytes the parser may read, in all, to judge one continuation.
const PARSE_BUDGET: usize = 8 * MAX_CONTINUATION;

/// What the shell does with its input after a line.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Unfinished: prompt `>>` and read on.
    More,
    /// Finished: run this text.
    Run(String),
    /// Past the cap (or the parse budget): the input is dropped.
    TooLong,
}

/// Text of the error a shell prints for [`Verdict::TooLong`].
pub fn too_long_message() -> String {
    format!(
        "The unfinished input is longer than this session keeps ({} MiB); it was dropped.",
        MAX_CONTINUATION >> 20
    )
}

#[derive(Default)]
pub struct Continuation {
    buf: String,
    scan: Scan,
    parsed: usize,
}

impl Continuation {
    /// Adds one line (without its end) and says what to do.
    pub fn push(&mut self, line: &str) -> Verdict {
        if self.buf.len() + line.len() + 1 > MAX_CONTINUATION {
            self.clear();
            return Verdict::TooLong;
        }
        self.buf.push_str(line);
        self.buf.push('\n');
        self.scan.line(line);
        if self.scan.certainly_open() {
            return Verdict::More;
        }
        self.parsed += self.buf.len();
        if self.parsed > PARSE_BUDGET {
            self.clear();
            return Verdict::TooLong;
        }
        let src = Rc::new(Source::new(None, self.buf.clone()));
        if let Err(e) = parse_script(src)
            && e.incomplete
        {
            return Verdict::More;
        }
        Verdict::Run(self.take())
    }

    /// The input so far (for EOF), leaving it empty.
    pub fn take(&mut self) -> String {
        let text = std::mem::take(&mut self.buf);
        self.clear();
        text
    }

    pub fn clear(&mut self) {
        self.buf.clear();
        self.scan = Scan::default();
        self.parsed = 0;
    }

    pub fn is_blank(&self) -> bool {
        self.buf.trim().is_empty()
    }
}

#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    #[default]
    Code,
    /// `'…'`, which may span lines.
    Single,
    /// `"…"`.
    Double,
    /// `@'` … `'@`.
    HereSingle,
    /// `@"` … `"@`.
    HereDouble,
    /// `<#` … `#>`.
    Block,
}

/// What the quick scan knows about the input so far.
#[derive(Default)]
struct Scan {
    mode: Mode,
    /// `{` and `(` opened where they certainly open a block or group.
    depth: usize,
    /// Something the scan cannot judge: the parser decides from here on.
    unsure: bool,
}

impl Scan {
    fn certainly_open(&self) -> bool {
        if self.unsure {
            return false;
        }
        match self.mode {
            // An unclosed block comment ends the input as far as the
            // parser is concerned; only an enclosing block keeps it open.
            Mode::Block => self.depth > 0,
            Mode::Code => self.depth > 0,
            _ => true,
        }
    }

    fn line(&mut self, line: &str) {
        if self.unsure {
            return;
        }
        // Typographic quotes are quotes to PowerShell; leave them to the parser.
        if line.contains([
            '\u{2018}', '\u{2019}', '\u{201a}', '\u{201b}', '\u{201c}', '\u{201d}', '\u{201e}',
        ]) {
            self.unsure = true;
            return;
        }
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        // A here-string ends at a line that starts with its closing quote.
        match self.mode {
            Mode::HereSingle | Mode::HereDouble => {
                let close = if self.mode == Mode::HereSingle {
                    '\''
                } else {
                    '"'
                };
                if chars.first() == Some(&close) && chars.get(1) == Some(&'@') {
                    self.mode = Mode::Code;
                    i = 2;
                } else {
                    return;
                }
            }
            _ => {}
        }
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            match self.mode {
                Mode::Single => {
                    if c == '\'' {
                        if next == Some('\'') {
                            i += 1;
                        } else {
                            self.mode = Mode::Code;
                        }
                    }
                }
                Mode::Double => match c {
                    '`' => i += 1,
                    '"' if next == Some('"') => i += 1,
                    '"' => self.mode = Mode::Code,
                    // A subexpression holds code, strings and all.
                    '$' if next == Some('(') => {
                        self.unsure = true;
                        return;
                    }
                    _ => {}
                },
                Mode::Block => {
                    if c == '#' && next == Some('>') {
                        self.mode = Mode::Code;
                        i += 1;
                    }
                }
                Mode::HereSingle | Mode::HereDouble => return,
                Mode::Code => {
                    let starts_token = i == 0 || opens_after(chars[i - 1]);
                    match c {
                        '`' => i += 1,
                        '\'' => self.mode = Mode::Single,
                        '"' => self.mode = Mode::Double,
                        '@' if matches!(next, Some('\'' | '"')) => {
                            if i + 2 != chars.len() {
                                self.unsure = true;
                                return;
                            }
                            self.mode = if next == Some('\'') {
                                Mode::HereSingle
                            } else {
                                Mode::HereDouble
                            };
                            return;
                        }
                        '@' | '$' if matches!(next, Some('(' | '{')) => {
                            self.depth += 1;
                            i += 1;
                        }
                        '<' if next == Some('#') && starts_token => {
                            self.mode = Mode::Block;
                            i += 1;
                        }
                        '#' if starts_token => return,
                        '#' => {
                            self.unsure = true;
                            return;
                        }
                        '{' | '(' if starts_token => self.depth += 1,
                        '}' | ')' => {
                            if self.depth == 0 {
                                self.unsure = true;
                                return;
                            }
                            self.depth -= 1;
                        }
                        _ => {}
                    }
                }
            }
            i += 1;
        }
    }
}

/// Whether a `{`, `(`, `#` or `<#` after `prev` certainly starts
/// something (inside a bare word it may be part of the word).
fn opens_after(prev: char) -> bool {
    prev.is_whitespace() || matches!(prev, '(' | '{' | ')' | '}' | ';' | '|' | '=' | ',')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(lines: &[&str]) -> Vec<Verdict> {
        let mut c = Continuation::default();
        lines.iter().map(|l| c.push(l)).collect()
    }

    #[test]
    fn verdicts_follow_the_parser() {
        assert_eq!(feed(&["1 + 1"]), [Verdict::Run("1 + 1\n".into())]);
        assert_eq!(
            feed(&["function f {", "  'a{'", "  \"}\"", "}"]),
            [
                Verdict::More,
                Verdict::More,
                Verdict::More,
                Verdict::Run("function f {\n  'a{'\n  \"}\"\n}\n".into())
            ]
        );
        assert_eq!(
            feed(&["$s = @'", "}", "'@"]),
            [
                Verdict::More,
                Verdict::More,
                Verdict::Run("$s = @'\n}\n'@\n".into())
            ]
        );
        assert_eq!(
            feed(&["{ <# a", "} #> 1 }"]),
            [Verdict::More, Verdict::Run("{ <# a\n} #> 1 }\n".into())]
        );

        // Unsure (a subexpression in a string): the parser judges each line.
        assert_eq!(
            feed(&["\"$(\")\")\" + (", "1)"]),
            [Verdict::More, Verdict::Run("\"$(\")\")\" + (\n1)\n".into())]
        );
    }

    /// What the scan calls certainly open, the parser calls incomplete:
    /// skipping the parse never changes the verdict.
    #[test]
    fn the_scan_agrees_with_the_parser() {
        for text in [
            "{",
            "if ($x) {",
            "(1 +",
            "'a",
            "\"a",
            "$s = @'",
            "$s = @\"",
            "{ <# a",
            "$(1",
            "@{a=1",
            "@(1",
            "\"a`\"",
            "'it''s",
        ] {
            let mut scan = Scan::default();
            scan.line(text);
            assert!(scan.certainly_open(), "{text:?}");
            let src = Rc::new(Source::new(None, format!("{text}\n")));
            assert!(
                parse_script(src).is_err_and(|e| e.incomplete),
                "the parser calls {text:?} finished"
            );
        }
        for text in ["echo a{b", "'a' # {", "\"$(\")\")\"", "x)", "‘a", "<# a"] {
            let mut scan = Scan::default();
            scan.line(text);
            assert!(!scan.certainly_open(), "{text:?}");
        }
    }

    #[test]
    fn the_cap_drops_the_input() {
        let mut c = Continuation::default();
        assert_eq!(c.push("{"), Verdict::More);
        let line = "#".repeat(1 << 16);
        let mut more = 0;
        let last = loop {
            match c.push(&line) {
                Verdict::More => more += 1,
                other => break other,
            }
        };
        assert_eq!(last, Verdict::TooLong);
        assert_eq!(more, (MAX_CONTINUATION >> 16) - 1);
        assert!(c.is_blank());
        assert_eq!(c.push("'next'"), Verdict::Run("'next'\n".into()));
    }

    #[test]
    fn balanced_but_unfinished_lines_have_a_parse_budget() {
        let mut c = Continuation::default();
        let line = format!("1 + {} +", "2".repeat(1 << 12));
        let mut n = 0;
        while c.push(&line) == Verdict::More {
            n += 1;
            assert!(n < 10_000, "never dropped");
        }
        assert!(c.is_blank());
    }
}
