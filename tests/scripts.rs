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

/// A store path in a fresh temporary directory, removed with the guard.
fn fresh_store(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix(&format!("lyncsh-scripts-{name}-"))
        .tempdir()
        .expect("temp dir");
    let store = dir.path().join("store.db");
    (dir, store)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn assert_has(out: &str, needle: &str) {
    assert!(out.contains(needle), "{out}");
}

/// Opens `store` and checks that lyncsh refuses it, saying each of `says`,
/// and leaves the file byte for byte as it was.
fn assert_refused_and_kept(store: &Path, says: &[&str]) {
    let before = std::fs::read(store).expect("read store");
    let o = lyncsh(store, &["-Command", "Get-CsConferencingPolicy"]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    for s in says {
        assert_has(&err, s);
    }
    assert_eq!(
        std::fs::read(store).expect("read again"),
        before,
        "the refused store was modified"
    );
}

#[test]
fn enable_anonymous_access_then_check_in_a_new_process() {
    let (_dir, store) = fresh_store("anon");
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
         Global                  True              True\n\n\
         Identity   AllowAnonymousParticipantsInMeetings MaxMeetingSize\n\
         --------   ------------------------------------ --------------\n\
         Tag:Guests                                 True             80\n\n"
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
    let (_dir, store) = fresh_store("hello");
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
    let (_dir, store) = fresh_store("foreign");
    std::fs::write(&store, "this is somebody's notes file, not a store\n").expect("write");
    assert_refused_and_kept(
        &store,
        &["is not a lyncsh configuration store; it was left untouched"],
    );
}

#[test]
fn grant_anonymous_policy_from_csv_then_audit() {
    let (_dir, store) = fresh_store("grant-anon");
    let o = lyncsh(
        &store,
        &[
            "-File",
            "scripts/grant-anonymous-policy.ps1",
            "-CreateMissingUsers",
        ],
    );
    assert_eq!(text(&o.stderr), "");
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o.stdout);
    assert!(
        out.starts_with("Created conferencing policy Tag:AnonymousMeetings.\n"),
        "{out}"
    );
    assert_has(&out, "Granted AnonymousMeetings to 10 user(s); 0 skipped.");
    assert_has(
        &out,
        "Ken Myer         sip:kenmyer@contoso.com    AnonymousMeetings",
    );
    // A second run finds everything in place.
    let o = lyncsh(&store, &["-File", "scripts/grant-anonymous-policy.ps1"]);
    let out = text(&o.stdout);
    assert_has(&out, "Granted AnonymousMeetings to 0 user(s); 0 skipped.");
    assert!(!out.contains("Created"), "{out}");

    // The Edge refuses anonymous users until told otherwise.
    let o = lyncsh(&store, &["-File", "scripts/anonymous-audit.ps1"]);
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o.stdout);
    assert_has(&out, "does NOT admit anonymous users");
    assert_has(&out, "0 of 10 user(s) can invite anonymous participants.");

    // Open the Edge; take the right away from one user with a stricter policy.
    let o = lyncsh(
        &store,
        &[
            "-Command",
            "Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $true; \
             $null = New-CsConferencingPolicy -Identity NoAnon -AllowAnonymousParticipantsInMeetings $false; \
             Grant-CsConferencingPolicy -Identity 'Ken Myer' -PolicyName NoAnon",
        ],
    );
    assert_eq!(text(&o.stderr), "");
    let o = lyncsh(&store, &["-File", "scripts/anonymous-audit.ps1"]);
    let out = text(&o.stdout);
    assert_has(&out, "The Edge admits anonymous users.");
    assert_has(&out, "9 of 10 user(s) can invite anonymous participants.");
    assert_has(
        &out,
        "Ken Myer         sip:kenmyer@contoso.com    Tag:NoAnon            User         False              False",
    );
}

#[test]
fn grant_anonymous_policy_without_directory_users_skips_them() {
    let (_dir, store) = fresh_store("grant-anon-missing");
    let o = lyncsh(&store, &["-File", "scripts/grant-anonymous-policy.ps1"]);
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o.stdout);
    assert_has(&out, "Granted AnonymousMeetings to 0 user(s); 10 skipped.");
    assert_has(
        &out,
        "WARNING: Skipped Ken Myer: Ken Myer is not in the directory.",
    );
}

#[test]
fn disable_anonymous_access_undoes_enable() {
    let (_dir, store) = fresh_store("disable");
    let o = lyncsh(
        &store,
        &[
            "-File",
            "scripts/enable-anonymous-access.ps1",
            "-PolicyName",
            "Guests",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    let o = lyncsh(
        &store,
        &[
            "-Command",
            "./scripts/disable-anonymous-access.ps1 -RemovePolicy Guests, Nope",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        text(&o.stdout),
        "Anonymous participants no longer allowed by Global.\n\
         Anonymous participants no longer allowed by Tag:Guests.\n\
         Removed Guests.\n\
         WARNING: Could not remove Nope: Cannot get a CsConferencingPolicy with the identity \"Tag:Nope\": no such instance exists.\n\n\
         Identity AllowAnonymousUsers\n\
         -------- -------------------\n\
         Global                 False\n\n"
    );
    let o = lyncsh(
        &store,
        &[
            "-Command",
            "(Get-CsConferencingPolicy).Count; Get-CsAdminChangeLog -Target '*AccessEdge*' | ForEach-Object Detail",
        ],
    );
    assert_eq!(
        text(&o.stdout),
        "1\nAllowAnonymousUsers: False -> True\nAllowAnonymousUsers: True -> False\n"
    );
}

#[test]
fn a_damaged_store_is_refused_and_kept() {
    let (_dir, store) = fresh_store("damaged");
    let o = lyncsh(
        &store,
        &[
            "-Command",
            "1..50 | ForEach-Object { New-CsConferencingPolicy -Identity \"P$_\" -Description ('x' * 500) } | Out-Null",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    // Scribble over the middle of the file, past the header.
    let mut bytes = std::fs::read(&store).expect("read store");
    assert!(
        bytes.len() > 16_384,
        "store too small to damage: {}",
        bytes.len()
    );
    for b in &mut bytes[8192..12288] {
        *b = 0xA5;
    }
    std::fs::write(&store, &bytes).expect("write");
    assert_refused_and_kept(&store, &["is damaged", "left untouched"]);
}

/// The Pester tests of the sample scripts pass, and the changes they make
/// stay in Invoke-Pester's scratch store: the real one, read back in a new
/// process, is as it was.
#[test]
fn pester_tests_of_the_scripts_pass_and_leave_the_store_alone() {
    let (_dir, store) = fresh_store("pester");
    let o = lyncsh(
        &store,
        &[
            "-Command",
            "Set-CsConferencingPolicy -Identity Global -MaxMeetingSize 77",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = lyncsh(&store, &["-Command", "Invoke-Pester scripts -EnableExit"]);
    let out = text(&o.stdout);
    assert_eq!(text(&o.stderr), "");
    assert_has(
        &out,
        "Tests run on a scratch copy of the configuration store; their changes are discarded.",
    );
    assert_has(
        &out,
        "\nTests Passed: 16, Failed: 0, Skipped: 0, Pending: 0, Inconclusive: 0\n",
    );
    assert_eq!(o.status.code(), Some(0), "{out}");
    let o = lyncsh(
        &store,
        &[
            "-Command",
            "(Get-CsConferencingPolicy -Identity Global).MaxMeetingSize; \
             (Get-CsAccessEdgeConfiguration).AllowAnonymousUsers; \
             @(Get-CsConferencingPolicy).Count; @(Get-CsUser).Count",
        ],
    );
    assert_eq!(text(&o.stdout), "77\nFalse\n1\n0\n");
    let _ = std::fs::remove_dir_all(store.parent().expect("store folder"));
}
