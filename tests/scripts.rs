//! The admin scripts in `scripts/`, run as an admin would run them, against
//! a fresh store; the store is then checked in a new process.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn lyncsh(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lyncsh"))
        .args(["-NoProfile", "-NonInteractive", "--store"])
        .arg(store)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("lyncsh runs")
}

fn fresh_store(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lyncsh-scripts-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    dir.join("store.db")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn enable_anonymous_access_then_check_in_a_new_process() {
    let store = fresh_store("anon");
    let o = lyncsh(
        &store,
        &[
            "-File",
            "scripts/enable-anonymous-access.ps1",
            "-PolicyName",
            "Guests",
            "-MaxMeetingSize",
            "80",
        ],
    );
    assert_eq!(text(&o.stderr), "");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        text(&o.stdout),
        "Anonymous access enabled on the Edge.\nCreated conferencing policy Tag:Guests.\n\n\
         Identity AllowAnonymousUsers AllowOutsideUsers\n\
         -------- ------------------- -----------------\n\
         Global   True                True\n\n\
         Identity   AllowAnonymousParticipantsInMeetings MaxMeetingSize\n\
         --------   ------------------------------------ --------------\n\
         Tag:Guests True                                             80\n\n"
    );
    // The change survived the process: a new one sees it.
    let o = lyncsh(
        &store,
        &[
            "-Command",
            "(Get-CsAccessEdgeConfiguration).AllowAnonymousUsers; (Get-CsConferencingPolicy Guests).MaxMeetingSize",
        ],
    );
    assert_eq!(text(&o.stdout), "True\n80\n");
    // Running it again changes nothing and says so by saying nothing.
    let o = lyncsh(
        &store,
        &[
            "-File",
            "scripts/enable-anonymous-access.ps1",
            "-PolicyName",
            "Guests",
        ],
    );
    assert!(!text(&o.stdout).contains("enabled"), "{}", text(&o.stdout));
}

#[test]
fn hello_script_runs() {
    let store = fresh_store("hello");
    let o = lyncsh(&store, &["-File", "scripts/hello.ps1", "-Name", "Ken"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        text(&o.stdout).starts_with("Hello, Ken! Today is "),
        "{}",
        text(&o.stdout)
    );
    assert!(text(&o.stdout).ends_with("odd: 1\nodd: 3\nodd: 5\n"));
}

#[test]
fn a_foreign_store_file_is_refused_and_kept() {
    let store = fresh_store("foreign");
    std::fs::write(&store, "this is somebody's notes file, not a store\n").expect("write");
    let o = lyncsh(&store, &["-Command", "Get-CsConferencingPolicy"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("is not a lyncsh configuration store; it was left untouched"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&store).unwrap_or_default(),
        "this is somebody's notes file, not a store\n"
    );
}
