//! The REPL as a person uses it: the real binary in a pseudo-terminal,
//! keys typed, the screen read back through a terminal emulator (vt100).
//! Every wait is for text on the screen, bounded by a deadline, so a hang
//! fails the test instead of stalling the suite.

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use expectrl::Session;

pub const ROWS: u16 = 40;
pub const COLS: u16 = 120;
pub const DEADLINE: Duration = Duration::from_secs(30);

pub struct Term {
    s: expectrl::session::OsSession,
    vt: vt100::Parser,
    /// The idle prompt, without its trailing space.
    prompt: String,
}

impl Term {
    /// Starts `cmd` in a terminal and waits for `prompt` on an empty line.
    pub fn spawn(mut cmd: Command, prompt: &str) -> Term {
        cmd.env("TERM", "xterm-256color")
            .env_remove("COLUMNS")
            .env_remove("NO_COLOR");
        let mut s = Session::spawn(cmd).expect("spawn lyncsh in a pty");
        s.get_process_mut()
            .set_window_size(COLS, ROWS)
            .expect("window size");
        let mut t = Term {
            s,
            vt: vt100::Parser::new(
                std::num::NonZeroU16::new(ROWS).expect("rows"),
                std::num::NonZeroU16::new(COLS).expect("cols"),
                0,
            ),
            prompt: prompt.trim_end().to_string(),
        };
        t.wait_ready();
        t
    }

    /// Reads what the shell wrote, answering cursor-position queries as a
    /// terminal would.
    pub fn pump(&mut self) -> bool {
        let mut buf = [0u8; 8192];
        let mut got = false;
        loop {
            match self.s.try_read(&mut buf) {
                Ok(0) => return got,
                Ok(n) => {
                    got = true;
                    let chunk = &buf[..n];
                    self.vt.process(chunk);
                    if chunk.windows(4).any(|w| w == b"\x1b[6n") {
                        let (r, c) = self.vt.screen().cursor_position();
                        let answer = format!("\x1b[{};{}R", r + 1, c + 1);
                        self.s.write_all(answer.as_bytes()).expect("answer");
                        self.s.flush().expect("flush");
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return got,
                Err(_) => return got,
            }
        }
    }

    pub fn screen(&self) -> String {
        self.vt.screen().contents()
    }

    pub fn cursor_line(&self) -> String {
        let (row, _) = self.vt.screen().cursor_position();
        self.vt
            .screen()
            .rows(0, COLS)
            .nth(row as usize)
            .unwrap_or_default()
    }

    pub fn wait_until(&mut self, what: &str, ok: impl Fn(&Term) -> bool) {
        let end = Instant::now() + DEADLINE;
        loop {
            self.pump();
            if ok(self) {
                return;
            }
            if Instant::now() > end {
                panic!("timed out waiting for {what}; screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(15));
        }
    }

    /// Waits for `text` anywhere on the screen.
    pub fn wait(&mut self, text: &str) {
        let t = text.to_string();
        self.wait_until(text, move |s| s.screen().contains(&t));
    }

    /// Waits for `text` in the line being edited.
    pub fn wait_line(&mut self, text: &str) {
        let t = text.to_string();
        self.wait_until(text, move |s| s.cursor_line().contains(&t));
    }

    /// Is the cursor on an empty prompt?
    pub fn at_prompt(&self) -> bool {
        self.cursor_line().trim_end() == self.prompt
    }

    /// Waits for an empty prompt on the cursor's line.
    pub fn wait_ready(&mut self) {
        self.wait_until("an empty prompt", |s| s.at_prompt());
    }

    pub fn send(&mut self, keys: &str) {
        self.s.write_all(keys.as_bytes()).expect("send");
        self.s.flush().expect("flush");
    }

    /// Types a line, presses Enter and waits for the next prompt. The
    /// prompt before the line was empty too, so the line's echo comes
    /// first (counted, in case the same line is on the screen already):
    /// an empty prompt after it is the next one.
    pub fn run(&mut self, line: &str) {
        self.pump();
        let before = self.screen().matches(line).count();
        self.send(line);
        self.wait_until(line, |s| s.screen().matches(line).count() > before);
        self.send("\r");
        self.wait_ready();
    }

    /// Waits until the shell has ended.
    pub fn wait_exit(&mut self) {
        let end = Instant::now() + DEADLINE;
        while self.s.get_process().is_alive().unwrap_or(false) {
            self.pump();
            assert!(Instant::now() < end, "lyncsh did not exit");
            std::thread::sleep(Duration::from_millis(15));
        }
    }

    pub fn exit(mut self) {
        self.send("exit\r");
        self.wait_exit();
    }
}
