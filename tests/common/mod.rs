//! What the integration tests share: child processes bounded by a
//! deadline, temporary directories, a `lyncsh serve` under test (as a
//! process, or in-process with russh's client), and a terminal emulator
//! driving the REPL in a pseudo-terminal.
#![allow(dead_code)] // each test crate uses its own part of this module

pub mod russh_client;
pub mod server;
pub mod term;
pub mod web_client;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Longest any child process of a test may run.
pub const LIMIT: Duration = Duration::from_secs(60);

/// A test that needs what this machine lacks says why and passes, so that
/// `cargo test` passes anywhere; but not under CI (`CI` set), where
/// .ci/run installs every tool the tests use and a missing one must fail
/// the run rather than pass tests that never ran.
pub fn skip(why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{why}; under CI no test is skipped"
    );
    eprintln!("{why}: test skipped");
}

/// Resident memory of process `pid` (`"self"` for this one), in KiB; 0
/// when it cannot be read.
pub fn vm_rss_kib(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_lyncsh")
}

/// A directory under the system's temp dir, removed when dropped.
pub struct TempDir(tempfile::TempDir);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("lyncsh-{tag}-"))
            .tempdir()
            .expect("temp dir");
        TempDir(dir)
    }

    pub fn root(&self) -> &Path {
        self.0.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs a command with input, killing it past `limit`.
pub fn run_bounded(mut cmd: Command, input: &[u8], limit: Duration) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let o = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let e = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let status = wait_bounded(&mut child, limit);
    let _ = writer.join();
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&o.join().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&e.join().unwrap_or_default()).into_owned(),
    }
}

/// Waits for a child, killing it (and failing the test) past `limit`.
pub fn wait_bounded(child: &mut Child, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().expect("wait") {
            return st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("command ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `lyncsh --store STORE -Command SCRIPT`, run locally.
pub fn local(store: &Path, script: &str) -> Run {
    let mut cmd = Command::new(bin());
    cmd.arg("--store").arg(store).arg("-Command").arg(script);
    run_bounded(cmd, b"", LIMIT)
}

/// Each line of a `lyncsh` protocol transcript, parsed.
pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}
