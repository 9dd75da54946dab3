//! The REPL as a person uses it: the real binary in a pseudo-terminal,
//! keys typed, the screen read back through a terminal emulator (vt100).
//! Every wait is for text on the screen, bounded by a deadline, so a hang
//! fails the test instead of stalling the suite.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use expectrl::Session;

const ROWS: u16 = 40;
const COLS: u16 = 120;
const DEADLINE: Duration = Duration::from_secs(30);

struct Term {
    s: expectrl::session::OsSession,
    vt: vt100::Parser,
}

struct Env {
    dir: tempdir::Dir,
}

mod tempdir {
    use std::path::PathBuf;

    /// A directory under the target dir, removed when dropped.
    pub struct Dir(pub PathBuf);

    impl Dir {
        pub fn new(tag: &str) -> Dir {
            let base = std::env::temp_dir().join(format!(
                "lyncsh-repl-{tag}-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0)
            ));
            std::fs::create_dir_all(&base).expect("temp dir");
            Dir(base)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Env {
    fn new(tag: &str) -> Env {
        Env {
            dir: tempdir::Dir::new(tag),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.0.join(name)
    }

    fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_lyncsh"));
        c.arg("--store").arg(self.path("store.db"));
        c.env("LYNCSH_HISTORY", self.path("history.txt"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("data"))
            .env("TERM", "xterm-256color")
            .env_remove("COLUMNS")
            .env_remove("NO_COLOR")
            .current_dir(&self.dir.0);
        c
    }

    /// Prepares the store without the REPL: a user and a per-user policy.
    fn seed(&self) {
        let out = self
            .command()
            .arg("-Command")
            .arg(
                "New-CsAdUser -DisplayName 'Ken Myer' -SamAccountName kenmyer | Out-Null; \
                 Enable-CsUser -Identity 'Ken Myer' -SipAddress sip:kenmyer@contoso.com -RegistrarPool pool.contoso.com; \
                 New-CsConferencingPolicy -Identity Tag:RedmondConferencing | Out-Null",
            )
            .output()
            .expect("seed run");
        assert!(out.status.success(), "{out:?}");
    }

    fn spawn(&self) -> Term {
        let mut s = Session::spawn(self.command()).expect("spawn lyncsh in a pty");
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
        };
        t.wait_ready();
        t
    }
}

impl Term {
    /// Reads what the shell wrote, answering cursor-position queries as a
    /// terminal would.
    fn pump(&mut self) -> bool {
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

    fn screen(&self) -> String {
        self.vt.screen().contents()
    }

    fn cursor_line(&self) -> String {
        let (row, _) = self.vt.screen().cursor_position();
        self.vt
            .screen()
            .rows(0, COLS)
            .nth(row as usize)
            .unwrap_or_default()
    }

    fn wait_until(&mut self, what: &str, ok: impl Fn(&Term) -> bool) {
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
    fn wait(&mut self, text: &str) {
        let t = text.to_string();
        self.wait_until(text, move |s| s.screen().contains(&t));
    }

    /// Waits for `text` in the line being edited.
    fn wait_line(&mut self, text: &str) {
        let t = text.to_string();
        self.wait_until(text, move |s| s.cursor_line().contains(&t));
    }

    /// Waits for an empty prompt on the cursor's line.
    fn wait_ready(&mut self) {
        self.wait_until("an empty prompt", |s| {
            s.cursor_line().trim_end() == "PS lyncsh>"
        });
    }

    fn send(&mut self, keys: &str) {
        self.s.write_all(keys.as_bytes()).expect("send");
        self.s.flush().expect("flush");
    }

    /// Types a line, presses Enter and waits for the next prompt.
    fn run(&mut self, line: &str) {
        self.send(line);
        self.send("\r");
        self.wait_ready();
    }

    fn exit(mut self) {
        self.send("exit\r");
        let end = Instant::now() + DEADLINE;
        while self.s.get_process().is_alive().unwrap_or(false) {
            self.pump();
            assert!(Instant::now() < end, "lyncsh did not exit");
            std::thread::sleep(Duration::from_millis(15));
        }
    }
}

#[test]
fn tab_completes_a_cmdlet_name() {
    let env = Env::new("cmdlet");
    let mut t = env.spawn();
    t.send("Get-CsConferencingPol\t");
    t.wait_line("Get-CsConferencingPolicy ");
    t.send("\r");
    t.wait("MaxVideoConferenceResolution");
    t.wait_ready();
    t.exit();
}

#[test]
fn tab_completes_a_parameter_and_an_enum_value() {
    let env = Env::new("param");
    let mut t = env.spawn();
    t.send("Set-CsConferencingPolicy -MaxVideoConf\t");
    t.wait_line("-MaxVideoConferenceResolution ");
    t.send("\t");
    // The menu lists the enum's values.
    t.wait("CIF");
    t.wait("VGA");
    t.send("\x03");
    t.wait_ready();
    t.exit();
}

#[test]
fn tab_completes_a_policy_name_and_a_user() {
    let env = Env::new("policy");
    env.seed();
    let mut t = env.spawn();
    t.send("Grant-CsConferencingPolicy -PolicyName Red\t");
    t.wait_line("-PolicyName RedmondConferencing");
    t.send("\x03");
    t.wait_ready();
    t.send("Get-CsUser -Identity sip:k\t");
    t.wait_line("sip:kenmyer@contoso.com");
    t.send("\r");
    t.wait("Ken Myer");
    t.wait_ready();
    t.exit();
}

#[test]
fn a_foreach_over_three_lines_runs_once_closed() {
    let env = Env::new("multiline");
    let mut t = env.spawn();
    t.send("foreach ($i in 1..3) {\r");
    t.wait(">> ");
    t.send("  \"item$($i * 11)\"\r");
    t.send("}\r");
    t.wait("item33");
    t.wait_ready();
    let screen = t.screen();
    assert!(
        screen.contains("item11") && screen.contains("item22"),
        "{screen}"
    );
    t.exit();
}

#[test]
fn ctrl_c_stops_an_endless_loop_and_keeps_the_session() {
    let env = Env::new("ctrlc");
    let mut t = env.spawn();
    t.run("$kept = 'still' + 'here'");
    t.send("while ($true) {}\r");
    // Let the loop start: the prompt is gone from the cursor's line.
    t.wait_until("the loop to run", |s| {
        !s.cursor_line().contains("PS lyncsh>")
    });
    // A Ctrl-C pressed in the instant between Enter and the loop's start
    // reaches the editor, not the loop; a person presses it again.
    let end = Instant::now() + DEADLINE;
    loop {
        t.send("\x03");
        let wait = Instant::now() + Duration::from_millis(500);
        while Instant::now() < wait && t.cursor_line().trim_end() != "PS lyncsh>" {
            t.pump();
            std::thread::sleep(Duration::from_millis(15));
        }
        if t.cursor_line().trim_end() == "PS lyncsh>" {
            break;
        }
        assert!(
            Instant::now() < end,
            "Ctrl-C did not stop the loop:\n{}",
            t.screen()
        );
    }
    t.run("$kept.ToUpper()");
    t.wait("STILLHERE");
    t.exit();
}

#[test]
fn history_is_recalled_in_a_new_session() {
    let env = Env::new("history");
    let mut t = env.spawn();
    t.run("'remembered' + '42'");
    t.wait("remembered42");
    t.exit();
    let mut t = env.spawn();
    // Up arrow brings back the earlier session's lines: `exit`, then the
    // command before it.
    t.send("\x1b[A");
    t.wait_line("exit");
    t.send("\x1b[A");
    t.wait("'remembered' + '42'");
    t.send("\r");
    t.wait_ready();
    t.run("Get-History | ForEach-Object { 'hist:' + $_.CommandLine.Length }");
    t.wait("hist:19");
    t.exit();
}

#[test]
fn errors_do_not_end_the_session_and_the_profile_runs() {
    let env = Env::new("errors");
    let profile: &Path = &env.path("config/lyncsh/profile.ps1");
    std::fs::create_dir_all(profile.parent().expect("dir")).expect("mkdir");
    std::fs::write(
        profile,
        "function prompt { 'PS lyncsh> ' }\n$fromProfile = 'pro' + 'file'\n",
    )
    .expect("profile");
    let mut t = env.spawn();
    t.run("Get-Nothing");
    t.wait("not recognized");
    t.run("$fromProfile.ToUpper()");
    t.wait("PROFILE");
    t.exit();
}
