//! The language case suite: every `tests/cases/*.toml` file holds cases —
//! a script in; stdout, stderr and exit status out — run in-process
//! against the real interpreter, one test per case.

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use libtest_mimic::{Arguments, Failed, Trial};
use lyncsh::host::CaptureHost;
use lyncsh::runtime::Interp;
use lyncsh::runtime::session::cli_args;
use lyncsh::syntax::Source;
use serde::Deserialize;

#[derive(Deserialize, Clone)]
struct File {
    /// Run before each case of the file, in the same session and store;
    /// its output is not part of the case's, and an error in it fails
    /// the case.
    #[serde(default)]
    prepare: String,
    case: Vec<Case>,
}

#[derive(Deserialize, Clone)]
struct Case {
    name: String,
    script: String,
    #[serde(default)]
    stdout: String,
    #[serde(default)]
    stderr: String,
    #[serde(default)]
    exit: i32,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    input: Vec<String>,
    /// "command" runs like `-Command` (global scope, `$?` decides the
    /// exit status); the default runs like `-File script.ps1`.
    #[serde(default)]
    mode: Option<String>,
    /// Output width for formatting.
    #[serde(default)]
    width: Option<usize>,
}

struct Run {
    stdout: String,
    stderr: String,
    exit: i32,
}

fn run(case: Case, prepare: String, dir: PathBuf) -> Result<Run, String> {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let host = CaptureHost {
                width: case.width,
                input: case.input.iter().cloned().collect(),
                ..Default::default()
            };
            let mut it = Interp::new(Box::new(host));
            it.cancel = flag;
            it.cwd = dir.clone();
            // Each case gets a fresh configuration store of its own.
            it.store_path = Some(dir.join("store.db"));
            it.account = "admin".into();
            if !prepare.is_empty() {
                let src = Rc::new(Source::new(None, prepare));
                it.run_text(src, cli_args(&[]));
                let host = std::mem::replace(&mut it.host, Box::new(CaptureHost::default()));
                let (_, stderr) = capture_text(host);
                if !stderr.is_empty() {
                    let _ = tx.send(Err(format!("the file's prepare script failed:\n{stderr}")));
                    return;
                }
                it.host = Box::new(CaptureHost {
                    width: case.width,
                    input: case.input.iter().cloned().collect(),
                    ..Default::default()
                });
            }
            let command = case.mode.as_deref() == Some("command");
            let path = if command {
                None
            } else {
                Some(PathBuf::from("script.ps1"))
            };
            let src = Rc::new(Source::new(path, case.script.clone()));
            let outcome = it.run_text(src, cli_args(&case.args));
            let exit = outcome.exit_code(command);
            // Recover the captured text from the host.
            let host = std::mem::replace(&mut it.host, Box::new(CaptureHost::default()));
            let text = capture_text(host);
            let _ = tx.send(Ok(Run {
                stdout: text.0,
                stderr: text.1,
                exit,
            }));
        })
        .map_err(|e| e.to_string())?;
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(r) => r,
        Err(_) => {
            cancel.store(true, Ordering::Relaxed);
            Err("timed out after 20 s".into())
        }
    }
}

fn capture_text(host: Box<dyn lyncsh::host::Host>) -> (String, String) {
    // CaptureHost is the only host used here; read it back through Any.
    let any: Box<dyn std::any::Any> = lyncsh::host::into_any(host);
    match any.downcast::<CaptureHost>() {
        Ok(h) => (h.stdout, h.stderr),
        Err(_) => (String::new(), String::new()),
    }
}

fn diff(what: &str, want: &str, got: &str) -> String {
    format!("{what} differs\n--- expected ---\n{want}--- actual ---\n{got}--- end ---\n{got:?}\n")
}

fn main() {
    let args = Arguments::from_args();
    // The build directory is shared between worktrees, so prefer the
    // directory cargo names at run time over the one baked in at build time.
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let dir = root.join("tests/cases");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    files.sort();
    let mut trials = Vec::new();
    for f in files {
        let stem = f
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let parsed: File = match toml::from_str(&text) {
            Ok(p) => p,
            Err(e) => {
                let msg = format!("{}: {e}", f.display());
                trials.push(Trial::test(format!("{stem}::<file>"), move || {
                    Err(Failed::from(msg))
                }));
                continue;
            }
        };
        for case in parsed.case {
            let prepare = parsed.prepare.clone();
            let name = format!("{stem}::{}", case.name);
            trials.push(Trial::test(name, move || {
                // Removed when the guard drops, also when the case fails.
                let work = tempfile::Builder::new()
                    .prefix("lyncsh-case-")
                    .tempdir()
                    .map_err(|e| Failed::from(format!("temp dir: {e}")))?;
                let want = case.clone();
                let got = run(case, prepare, work.path().to_path_buf()).map_err(Failed::from)?;
                let mut problems = String::new();
                if got.stdout != want.stdout {
                    problems.push_str(&diff("stdout", &want.stdout, &got.stdout));
                }
                if got.stderr != want.stderr {
                    problems.push_str(&diff("stderr", &want.stderr, &got.stderr));
                }
                if got.exit != want.exit {
                    problems.push_str(&format!(
                        "exit status: expected {}, got {}\n",
                        want.exit, got.exit
                    ));
                }
                if problems.is_empty() {
                    Ok(())
                } else {
                    Err(Failed::from(problems))
                }
            }));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
