//! The binary as a user runs it: options, exit status, where errors point.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn lyncsh() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lyncsh"))
}

fn run(args: &[&str]) -> Output {
    lyncsh().args(args).output().expect("lyncsh runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A script file in a fresh temporary directory, removed with the guard.
fn temp_script(name: &str, body: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("lyncsh-cli-")
        .tempdir()
        .expect("temp dir");
    let p = dir.path().join(name);
    std::fs::write(&p, body).expect("write script");
    (dir, p)
}

#[test]
fn command_prints_and_exits_zero() {
    let o = run(&["-NoProfile", "-Command", "1 + 1"]);
    assert_eq!(text(&o.stdout), "2\n");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn command_words_are_joined() {
    let o = run(&["-c", "'a'", "+", "'b'"]);
    assert_eq!(text(&o.stdout), "ab\n");
}

#[test]
fn exit_n_sets_the_status() {
    assert_eq!(run(&["-Command", "exit 7"]).status.code(), Some(7));
}

#[test]
fn uncaught_throw_exits_one_with_message_on_stderr() {
    let o = run(&["-Command", "throw 'boom'"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(text(&o.stderr), "Exception: boom\n");
    assert_eq!(text(&o.stdout), "");
}

#[test]
fn failed_last_command_fails_a_command_run() {
    let o = run(&["-Command", "Get-NoSuchThing"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr)
            .starts_with("Get-NoSuchThing: The term 'Get-NoSuchThing' is not recognized")
    );
}

#[test]
fn file_arguments_bind_to_param() {
    let (_dir, p) = temp_script(
        "greet.ps1",
        "param([string]$Name = 'x', [int]$Times = 1)\n1..$Times | % { \"hi $Name\" }\n",
    );
    let o = run(&[
        "-File",
        p.to_str().unwrap_or_default(),
        "-Name",
        "Ken",
        "-Times",
        "2",
    ]);
    assert_eq!(text(&o.stdout), "hi Ken\nhi Ken\n");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn file_runtime_error_points_at_line_and_column() {
    let (_dir, p) = temp_script("bad.ps1", "$x = 1\n$y = 2\n  $z = $x / 0\n'after'\n");
    let o = run(&["-File", p.to_str().unwrap_or_default()]);
    let path = std::fs::canonicalize(&p).unwrap_or(p);
    let want = format!(
        "RuntimeException: {}:3:8\nLine |\n   3 |    $z = $x / 0\n     |         ~~~~~~\n     | Attempted to divide by zero.\n",
        path.display()
    );
    assert_eq!(text(&o.stderr), want);
    // A runtime error ends the statement, not the script.
    assert_eq!(text(&o.stdout), "after\n");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn script_on_standard_input() {
    let mut child = lyncsh()
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"$a = 2\n$a * 21\n")
        .expect("write");
    let o = child.wait_with_output().expect("wait");
    assert_eq!(text(&o.stdout), "42\n");
}

#[test]
fn version_flag() {
    let o = run(&["-Version"]);
    assert_eq!(
        text(&o.stdout),
        format!("lyncsh {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn check_reports_every_syntax_error_with_position() {
    let (_dir, p) = temp_script(
        "lint.ps1",
        "$ok = 1\nif ($x -eq 1 { 'a' }\n$fine = 2\n$h = @{ a = 1; = 2 }\n",
    );
    let o = run(&["check", p.to_str().unwrap_or_default()]);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].contains("lint.ps1:2:"), "{out}");
    assert!(lines[1].contains("lint.ps1:4:"), "{out}");
}

#[test]
fn check_passes_clean_scripts() {
    let (_dir, p) = temp_script("clean.ps1", "function f { param($a) $a }\nf 1 | % { $_ }\n");
    let o = run(&["check", p.to_str().unwrap_or_default()]);
    assert_eq!(text(&o.stdout), "");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn check_unclosed_brace_points_at_the_opening() {
    let (_dir, p) = temp_script("open.ps1", "$a = 1\nforeach ($i in 1..3) {\n  $i\n");
    let o = run(&["check", p.to_str().unwrap_or_default()]);
    let out = text(&o.stdout);
    assert!(
        out.trim_end()
            .ends_with("open.ps1:2:22: Missing closing '}' in statement block or type definition."),
        "{out}"
    );
}
