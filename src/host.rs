//! The Host: where a session's streams go and where it asks questions.
//! A terminal, a test's capture buffer and an SSH channel are all hosts;
//! the engine never knows which one it talks to.

use std::io::Write;

use crate::runtime::error::ErrorRecord;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Output,
    Error,
    Warning,
    Verbose,
    Debug,
    /// Write-Host and Write-Information.
    Information,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    Black,
    DarkBlue,
    DarkGreen,
    DarkCyan,
    DarkRed,
    DarkMagenta,
    DarkYellow,
    Gray,
    DarkGray,
    Blue,
    Green,
    Cyan,
    Red,
    Magenta,
    Yellow,
    White,
}

impl Color {
    pub const ALL: [Color; 16] = [
        Color::Black,
        Color::DarkBlue,
        Color::DarkGreen,
        Color::DarkCyan,
        Color::DarkRed,
        Color::DarkMagenta,
        Color::DarkYellow,
        Color::Gray,
        Color::DarkGray,
        Color::Blue,
        Color::Green,
        Color::Cyan,
        Color::Red,
        Color::Magenta,
        Color::Yellow,
        Color::White,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Color::Black => "Black",
            Color::DarkBlue => "DarkBlue",
            Color::DarkGreen => "DarkGreen",
            Color::DarkCyan => "DarkCyan",
            Color::DarkRed => "DarkRed",
            Color::DarkMagenta => "DarkMagenta",
            Color::DarkYellow => "DarkYellow",
            Color::Gray => "Gray",
            Color::DarkGray => "DarkGray",
            Color::Blue => "Blue",
            Color::Green => "Green",
            Color::Cyan => "Cyan",
            Color::Red => "Red",
            Color::Magenta => "Magenta",
            Color::Yellow => "Yellow",
            Color::White => "White",
        }
    }

    pub fn parse(s: &str) -> Option<Color> {
        Color::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s))
    }

    /// ANSI SGR foreground code.
    pub fn ansi_fg(self) -> u8 {
        match self {
            Color::Black => 30,
            Color::DarkRed => 31,
            Color::DarkGreen => 32,
            Color::DarkYellow => 33,
            Color::DarkBlue => 34,
            Color::DarkMagenta => 35,
            Color::DarkCyan => 36,
            Color::Gray => 37,
            Color::DarkGray => 90,
            Color::Red => 91,
            Color::Green => 92,
            Color::Yellow => 93,
            Color::Blue => 94,
            Color::Magenta => 95,
            Color::Cyan => 96,
            Color::White => 97,
        }
    }
}

/// One Write-Progress update.
#[derive(Clone, Debug)]
pub struct Progress {
    pub id: i32,
    pub activity: String,
    pub status: String,
    pub percent: Option<i32>,
    pub completed: bool,
}

/// Lets a boxed host be turned back into its concrete type.
pub trait AsAny {
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any>;
}

impl<T: 'static> AsAny for T {
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }
}

/// Why Read-Host got no line from its host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unread {
    /// Nobody can answer: no terminal, no input left, the client went.
    NoInput,
    /// The host could ask, but not this way; the text says why.
    Refused(String),
}

/// The answer to a ShouldProcess confirmation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    Yes,
    YesToAll,
    No,
    NoToAll,
}

pub trait Host: AsAny {
    /// Writes text to a stream; `text` carries its own line breaks.
    fn write(&mut self, stream: Stream, text: &str);

    /// Shows an error record on the error stream. Hosts that can carry
    /// its fields to a program (the `lyncsh` protocol) override this; a
    /// person reading a terminal gets pwsh's concise view.
    fn write_error(&mut self, rec: &ErrorRecord) {
        self.write(Stream::Error, &format!("{}\n", rec.render_concise()));
    }

    /// Write-Host with colours.
    fn write_host(&mut self, text: &str, fg: Option<Color>, bg: Option<Color>, newline: bool) {
        let _ = (fg, bg);
        self.write(Stream::Information, text);
        if newline {
            self.write(Stream::Information, "\n");
        }
    }

    /// Output width for formatting.
    fn width(&self) -> usize {
        120
    }

    /// Reads a line for Read-Host. `prompt` is the text to show before
    /// the input (empty, or ending in `": "`).
    fn read_line(&mut self, prompt: &str, secret: bool) -> Result<String, Unread> {
        let _ = (prompt, secret);
        Err(Unread::NoInput)
    }

    /// Asks a yes/no question for `-Confirm`; `None` when nobody can answer.
    fn confirm(&mut self, caption: &str, message: &str) -> Option<Choice> {
        let _ = (caption, message);
        None
    }

    fn progress(&mut self, p: &Progress) {
        let _ = p;
    }

    fn interactive(&self) -> bool {
        false
    }

    /// Clear-Host: clears a terminal; other hosts have no screen to clear.
    fn clear(&mut self) {}
}

/// Standard output and error of this process.
pub struct ConsoleHost {
    pub interactive: bool,
    pub color: bool,
    pub width: usize,
}

impl ConsoleHost {
    pub fn new(interactive: bool) -> ConsoleHost {
        use std::io::IsTerminal;
        let tty = std::io::stdout().is_terminal();
        ConsoleHost {
            interactive,
            color: tty && std::env::var_os("NO_COLOR").is_none(),
            width: if tty {
                terminal_width().unwrap_or(120)
            } else {
                120
            },
        }
    }
}

/// Reads a line from the terminal without echoing it: a `*` stands for
/// each character, as pwsh shows `Read-Host -AsSecureString`. `None` on
/// Ctrl-C, Ctrl-D or a terminal that cannot go raw.
pub fn read_secret() -> Option<String> {
    use crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers, read};
    use crossterm::terminal::{disable_raw_mode, enable_raw_mode};
    enable_raw_mode().ok()?;
    let mut text = String::new();
    let mut err = std::io::stderr();
    let done = loop {
        let Ok(Event::Key(k)) = read() else {
            continue;
        };
        if k.kind == KeyEventKind::Release {
            continue;
        }
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        match k.code {
            KeyCode::Enter => break Some(()),
            KeyCode::Char('c' | 'd') if ctrl => break None,
            KeyCode::Backspace if text.pop().is_some() => {
                let _ = err.write_all(b"\x08 \x08");
            }
            KeyCode::Char(c) => {
                text.push(c);
                let _ = err.write_all(b"*");
            }
            _ => {}
        }
        let _ = err.flush();
    };
    let _ = disable_raw_mode();
    let _ = err.write_all(b"\r\n");
    done.map(|()| text)
}

/// Columns of the terminal on stdout, from `COLUMNS` or the tty.
pub fn terminal_width() -> Option<usize> {
    if let Some(c) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(c);
    }
    crossterm::terminal::size()
        .ok()
        .map(|(cols, _)| cols as usize)
        .filter(|&c| c > 0)
}

impl Host for ConsoleHost {
    fn write(&mut self, stream: Stream, text: &str) {
        match stream {
            Stream::Output | Stream::Information => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
            Stream::Error => {
                let mut err = std::io::stderr().lock();
                if self.color {
                    let _ = write!(err, "\x1b[91m{}\x1b[0m", text.trim_end_matches('\n'));
                    if text.ends_with('\n') {
                        let _ = err.write_all(b"\n");
                    }
                } else {
                    let _ = err.write_all(text.as_bytes());
                }
            }
            Stream::Warning | Stream::Verbose | Stream::Debug => {
                // pwsh writes these to the console's output, coloured; when
                // redirected they go to stdout as well.
                let mut out = std::io::stdout().lock();
                if self.color {
                    let _ = write!(out, "\x1b[93m{}\x1b[0m", text.trim_end_matches('\n'));
                    if text.ends_with('\n') {
                        let _ = out.write_all(b"\n");
                    }
                } else {
                    let _ = out.write_all(text.as_bytes());
                }
                let _ = out.flush();
            }
        }
    }

    fn write_host(&mut self, text: &str, fg: Option<Color>, bg: Option<Color>, newline: bool) {
        let mut out = std::io::stdout().lock();
        if self.color && (fg.is_some() || bg.is_some()) {
            let mut codes = Vec::new();
            if let Some(f) = fg {
                codes.push(f.ansi_fg().to_string());
            }
            if let Some(b) = bg {
                codes.push((b.ansi_fg() + 10).to_string());
            }
            let _ = write!(out, "\x1b[{}m{}\x1b[0m", codes.join(";"), text);
        } else {
            let _ = out.write_all(text.as_bytes());
        }
        if newline {
            let _ = out.write_all(b"\n");
        }
        let _ = out.flush();
    }

    fn clear(&mut self) {
        use std::io::IsTerminal;
        let mut out = std::io::stdout().lock();
        if out.is_terminal() {
            // Home, clear the screen, then the scroll-back (as pwsh does).
            let _ = out.write_all(b"\x1b[H\x1b[2J\x1b[3J");
            let _ = out.flush();
        }
    }

    fn width(&self) -> usize {
        // The terminal may have been resized since start-up.
        use std::io::IsTerminal;
        if std::io::stdout().is_terminal() {
            terminal_width().unwrap_or(self.width)
        } else {
            self.width
        }
    }

    fn read_line(&mut self, prompt: &str, secret: bool) -> Result<String, Unread> {
        if !self.interactive {
            return Err(Unread::NoInput);
        }
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "{prompt}");
        let _ = out.flush();
        drop(out);
        if secret && std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            return read_secret().ok_or(Unread::NoInput);
        }
        let mut line = String::new();
        match std::io::stdin().read_line(&mut line) {
            Ok(0) | Err(_) => Err(Unread::NoInput),
            Ok(_) => Ok(line.trim_end_matches(['\r', '\n']).to_string()),
        }
    }

    fn confirm(&mut self, caption: &str, message: &str) -> Option<Choice> {
        if !self.interactive {
            return None;
        }
        let prompt = format!(
            "\n{caption}\n{message}\n[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [?] Help (default is \"Y\"): "
        );
        loop {
            let answer = self.read_line(&prompt, false).ok()?;
            match answer.trim().to_ascii_lowercase().as_str() {
                "" | "y" => return Some(Choice::Yes),
                "a" => return Some(Choice::YesToAll),
                "n" => return Some(Choice::No),
                "l" => return Some(Choice::NoToAll),
                _ => {}
            }
        }
    }

    fn progress(&mut self, p: &Progress) {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return;
        }
        let mut err = std::io::stderr().lock();
        if p.completed {
            let _ = write!(err, "\r\x1b[2K");
        } else {
            let width = 30usize;
            let pct = p.percent.unwrap_or(0).clamp(0, 100) as usize;
            let filled = width * pct / 100;
            let _ = write!(
                err,
                "\r\x1b[2K{} [{}{}] {}% {}",
                p.activity,
                "#".repeat(filled),
                " ".repeat(width - filled),
                pct,
                p.status
            );
        }
        let _ = err.flush();
    }

    fn interactive(&self) -> bool {
        self.interactive
    }
}

/// Collects every stream into strings: tests, `-Command` capture, and
/// remote `exec` use it.
#[derive(Default, Debug)]
pub struct CaptureHost {
    pub stdout: String,
    pub stderr: String,
    pub width: Option<usize>,
    /// Answers for Read-Host and confirmations, consumed in order.
    pub input: std::collections::VecDeque<String>,
}

impl Host for CaptureHost {
    fn write(&mut self, stream: Stream, text: &str) {
        match stream {
            Stream::Error => self.stderr.push_str(text),
            _ => self.stdout.push_str(text),
        }
    }

    fn width(&self) -> usize {
        self.width.unwrap_or(120)
    }

    fn read_line(&mut self, prompt: &str, _secret: bool) -> Result<String, Unread> {
        let line = self.input.pop_front().ok_or(Unread::NoInput)?;
        self.stdout.push_str(prompt);
        self.stdout.push_str(&line);
        self.stdout.push('\n');
        Ok(line)
    }

    fn confirm(&mut self, caption: &str, message: &str) -> Option<Choice> {
        let answer = self.input.pop_front()?;
        self.stdout.push_str(&format!("{caption}\n{message}\n"));
        Some(match answer.trim().to_ascii_lowercase().as_str() {
            "a" => Choice::YesToAll,
            "n" => Choice::No,
            "l" => Choice::NoToAll,
            _ => Choice::Yes,
        })
    }

    fn interactive(&self) -> bool {
        !self.input.is_empty()
    }
}

/// Turns a boxed host back into `Any`, so a caller that installed a
/// [`CaptureHost`] can read what it captured.
pub fn into_any(host: Box<dyn Host>) -> Box<dyn std::any::Any> {
    host.into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::error::ErrorCategory;

    #[test]
    fn an_error_record_is_written_as_its_concise_view() {
        let mut h = CaptureHost::default();
        let rec = ErrorRecord {
            thrown: true,
            ..ErrorRecord::new("boom", "boom", ErrorCategory::OperationStopped)
        };
        h.write_error(&rec);
        assert_eq!(h.stderr, "Exception: boom\n");
        assert_eq!(h.stdout, "");
    }
}
