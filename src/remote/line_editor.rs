//! The small line editor a `shell` channel gets: bytes from the client in,
//! echo and finished lines out. With a pty the server echoes, handles
//! backspace, Ctrl-C and Ctrl-D, and recalls earlier lines with the up and
//! down arrows; without one, lines end at `\n` and nothing is echoed.
//! Pure: the channel code decides what the events mean for the session.

/// Longest shell line accepted.
pub const MAX_LINE: usize = 1 << 20;

/// Lines the arrows can recall.
const HISTORY: usize = 500;

/// What a byte from the client amounts to.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// A finished line, without its end.
    Line(String),
    /// A line longer than [`MAX_LINE`]: dropped.
    TooLong,
    /// Ctrl-C: the line being typed is gone.
    Interrupt,
    /// Ctrl-D on an empty line.
    Eof,
}

#[derive(Default)]
pub struct LineEditor {
    pty: bool,
    line: Vec<u8>,
    too_long: bool,
    /// The last byte was `\r`: a `\n` right after it ends nothing.
    last_cr: bool,
    /// Inside an escape sequence: 1 after ESC, 2 after ESC [ or ESC O.
    escape: u8,
    history: Vec<Vec<u8>>,
    /// How far back the arrows are (0: the line being typed).
    back: usize,
    /// The line being typed, kept while the arrows show older ones.
    draft: Vec<u8>,
}

impl LineEditor {
    pub fn new(pty: bool) -> LineEditor {
        LineEditor {
            pty,
            ..LineEditor::default()
        }
    }

    /// Takes one byte; what to show goes to `echo`.
    pub fn feed(&mut self, b: u8, echo: &mut Vec<u8>) -> Option<Event> {
        let was_cr = std::mem::replace(&mut self.last_cr, false);
        if !self.pty {
            match b {
                b'\n' => return Some(self.finish()),
                _ => self.push(b),
            }
            return None;
        }
        if self.escape > 0 {
            self.escape_byte(b, echo);
            return None;
        }
        match b {
            b'\r' => {
                self.last_cr = true;
                echo.extend_from_slice(b"\r\n");
                Some(self.finish())
            }
            b'\n' if was_cr => None,
            b'\n' => {
                echo.extend_from_slice(b"\r\n");
                Some(self.finish())
            }
            0x03 => {
                self.line.clear();
                self.too_long = false;
                self.back = 0;
                echo.extend_from_slice(b"^C\r\n");
                Some(Event::Interrupt)
            }
            0x04 if self.line.is_empty() => Some(Event::Eof),
            0x7f | 0x08 => {
                if pop_char(&mut self.line) {
                    echo.extend_from_slice(b"\x08 \x08");
                }
                None
            }
            0x1b => {
                self.escape = 1;
                None
            }
            b'\t' | 0x20.. => {
                self.push(b);
                echo.push(b);
                None
            }
            _ => None,
        }
    }

    /// ESC [ params final: the up and down arrows walk the history; other
    /// sequences (left, right, function keys) are dropped.
    fn escape_byte(&mut self, b: u8, echo: &mut Vec<u8>) {
        match self.escape {
            1 if b == b'[' || b == b'O' => self.escape = 2,
            1 => self.escape = 0,
            _ if (0x40..=0x7e).contains(&b) => {
                self.escape = 0;
                match b {
                    b'A' => self.recall(self.back + 1, echo),
                    b'B' if self.back > 0 => self.recall(self.back - 1, echo),
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// Shows the line `back` steps into the history (0: the draft).
    fn recall(&mut self, back: usize, echo: &mut Vec<u8>) {
        if back > self.history.len() {
            return;
        }
        if self.back == 0 {
            self.draft = self.line.clone();
        }
        // Rub out what is shown, then write the recalled line.
        let shown = String::from_utf8_lossy(&self.line).chars().count();
        for _ in 0..shown {
            echo.extend_from_slice(b"\x08 \x08");
        }
        self.back = back;
        self.line = match back {
            0 => std::mem::take(&mut self.draft),
            n => self.history[self.history.len() - n].clone(),
        };
        echo.extend_from_slice(&self.line);
    }

    fn push(&mut self, b: u8) {
        if self.line.len() >= MAX_LINE {
            self.too_long = true;
        } else {
            self.line.push(b);
        }
    }

    fn finish(&mut self) -> Event {
        let line = std::mem::take(&mut self.line);
        self.back = 0;
        self.draft.clear();
        if std::mem::replace(&mut self.too_long, false) {
            return Event::TooLong;
        }
        if self.pty
            && !line.iter().all(u8::is_ascii_whitespace)
            && self.history.last() != Some(&line)
        {
            if self.history.len() == HISTORY {
                self.history.remove(0);
            }
            self.history.push(line.clone());
        }
        Event::Line(String::from_utf8_lossy(&line).into_owned())
    }
}

/// Drops the last character (all its UTF-8 bytes); false when empty.
fn pop_char(line: &mut Vec<u8>) -> bool {
    let mut popped = false;
    while let Some(c) = line.pop() {
        popped = true;
        if c & 0xc0 != 0x80 {
            break;
        }
    }
    popped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typing(ed: &mut LineEditor, keys: &[u8]) -> (Vec<Event>, String) {
        let mut echo = Vec::new();
        let events = keys.iter().filter_map(|&b| ed.feed(b, &mut echo)).collect();
        (events, String::from_utf8_lossy(&echo).into_owned())
    }

    #[test]
    fn pty_lines_echo_and_backspace() {
        let mut ed = LineEditor::new(true);
        let (ev, echo) = typing(&mut ed, "ab\x7fé\x7fc\r\n".as_bytes());
        assert_eq!(ev, [Event::Line("ac".into())]);
        assert_eq!(echo, "ab\x08 \x08é\x08 \x08c\r\n");
        let (ev, _) = typing(&mut ed, b"x\x03\x04");
        assert_eq!(ev, [Event::Interrupt, Event::Eof]);
    }

    #[test]
    fn arrows_recall_earlier_lines_and_the_draft() {
        let mut ed = LineEditor::new(true);
        typing(&mut ed, b"one\rtwo\r");
        // Up, up, down: `two`, `one`, `two`; down again: the draft `dr`.
        let (ev, echo) = typing(&mut ed, b"dr\x1b[A\x1b[A\x1b[B\x1b[B\r");
        assert_eq!(ev, [Event::Line("dr".into())]);
        assert_eq!(
            echo,
            "dr\x08 \x08\x08 \x08two\x08 \x08\x08 \x08\x08 \x08one\
             \x08 \x08\x08 \x08\x08 \x08two\x08 \x08\x08 \x08\x08 \x08dr\r\n"
        );
        // Past the oldest line nothing changes; the recalled line runs.
        let (ev, _) = typing(&mut ed, b"\x1bOA\x1bOA\x1bOA\x1bOA\x1b[C\r");
        assert_eq!(ev, [Event::Line("one".into())]);
    }

    #[test]
    fn without_a_pty_lines_end_at_newline_and_nothing_echoes() {
        let mut ed = LineEditor::new(false);
        let (ev, echo) = typing(&mut ed, b"a\x1b[A\r\nb\n");
        assert_eq!(
            ev,
            [Event::Line("a\x1b[A\r".into()), Event::Line("b".into())]
        );
        assert_eq!(echo, "");
    }

    #[test]
    fn an_overlong_line_is_refused_whole() {
        let mut ed = LineEditor::new(false);
        let mut echo = Vec::new();
        for _ in 0..=MAX_LINE {
            assert_eq!(ed.feed(b'x', &mut echo), None);
        }
        assert_eq!(ed.feed(b'\n', &mut echo), Some(Event::TooLong));
        assert_eq!(ed.feed(b'\n', &mut echo), Some(Event::Line(String::new())));
    }
}
