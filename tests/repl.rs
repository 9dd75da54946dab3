//! The REPL as a person uses it, through `common::term`: the real binary
//! in a pseudo-terminal, the screen read back through vt100.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::TempDir;
use common::term::{DEADLINE, Term};

struct Env {
    dir: TempDir,
}

impl Env {
    fn new(tag: &str) -> Env {
        Env {
            dir: TempDir::new(&format!("repl-{tag}")),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path(name)
    }

    fn command(&self) -> Command {
        let mut c = Command::new(common::bin());
        c.arg("--store").arg(self.path("store.db"));
        c.env("LYNCSH_HISTORY", self.path("history.txt"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("data"))
            .current_dir(self.dir.root());
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
        Term::spawn(self.command(), "PS lyncsh> ")
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
        while Instant::now() < wait && !t.at_prompt() {
            t.pump();
            std::thread::sleep(Duration::from_millis(15));
        }
        if t.at_prompt() {
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
