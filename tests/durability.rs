//! The store under stress, as separate processes: concurrent writers lose
//! no update, and a process killed mid-statement leaves the store as it was
//! before or after a whole statement, never corrupt.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn lyncsh(store: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lyncsh"));
    c.args(["-NoProfile", "-NonInteractive", "--store"])
        .arg(store);
    c
}

/// A store path in a fresh temporary directory, and the guard that removes it.
fn fresh(name: &str) -> (PathBuf, Scratch) {
    let dir = tempfile::Builder::new()
        .prefix(&format!("lyncsh-durability-{name}-"))
        .tempdir()
        .expect("temp dir");
    (dir.path().join("store.db"), Scratch(dir))
}

fn run(store: &Path, command: &str) -> String {
    let o = lyncsh(store)
        .args(["-Command", command])
        .output()
        .expect("lyncsh runs");
    assert!(
        o.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn write_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    let mut f = std::fs::File::create(&p).expect("script");
    f.write_all(body.as_bytes()).expect("write script");
    p
}

/// xorshift64: a different moment each round.
fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// Runs `script` and kills it (SIGKILL: no chance to clean up) after
/// `delay_ms`.
fn kill_during(store: &Path, script: &Path, delay_ms: u64) {
    let mut child = lyncsh(store)
        .arg("-File")
        .arg(script)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(delay_ms));
    let _ = child.kill();
    let _ = child.wait();
}

/// Opens the store behind lyncsh's back and checks SQLite finds it intact.
fn open_intact(store: &Path, round: usize) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(store).expect("store opens after kill");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity check");
    assert_eq!(check, "ok", "round {round}");
    conn
}

/// Two processes each run 1,000 statements that read a shared counter and
/// write it back plus one. Each statement is one transaction; had any two
/// interleaved between read and write, the final count would fall short.
#[test]
fn two_processes_lose_no_update() {
    let (store, dir) = fresh("concurrent");
    run(
        &store,
        "New-CsConferencingPolicy -Identity Counter -MaxMeetingSize 1 | Out-Null",
    );
    let per_process = 1000;
    let mut body = String::new();
    for _ in 0..per_process {
        body.push_str("Set-CsConferencingPolicy Counter -MaxMeetingSize ((Get-CsConferencingPolicy Counter).MaxMeetingSize + 1)\n");
    }
    let script = write_script(&dir, "bump.ps1", &body);
    let children: Vec<_> = (0..2)
        .map(|_| {
            lyncsh(&store)
                .arg("-File")
                .arg(&script)
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().expect("wait");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let count = run(&store, "(Get-CsConferencingPolicy Counter).MaxMeetingSize");
    assert_eq!(count.trim(), (1 + 2 * per_process).to_string());
    let log = run(&store, "(Get-CsAdminChangeLog -Target '*Counter*').Count");
    assert_eq!(log.trim(), (1 + 2 * per_process).to_string());
}

/// A process creating many policies per statement is killed at random
/// moments; every time, the store opens, passes SQLite's integrity check,
/// and holds whole statements only.
#[test]
fn killed_mid_statement_leaves_whole_statements() {
    let (store, dir) = fresh("crash");
    run(&store, "Get-CsConferencingPolicy | Out-Null");
    // Each statement creates 50 policies named after the statement number.
    let mut body = String::new();
    for s in 0..400 {
        body.push_str(&format!("foreach ($i in 1..50) {{ New-CsConferencingPolicy -Identity \"S{s}P$i\" | Out-Null }}\n"));
    }
    let script = write_script(&dir, "bulk.ps1", &body);
    let mut seed = std::process::id() as u64 ^ 0x9E37_79B9_7F4A_7C15;
    let mut kills = 0;
    for round in 0..20 {
        let delay = 20 + xorshift(&mut seed) % 300;
        kill_during(&store, &script, delay);
        kills += 1;
        let conn = open_intact(&store, round);
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM objects WHERE family = 'CsConferencingPolicy' AND key != 'global'", [], |r| r.get(0))
            .expect("count");
        assert_eq!(
            n % 50,
            0,
            "round {round} (killed after {delay} ms): {n} policies is not a whole number of statements"
        );
        eprintln!(
            "round {round}: killed after {delay} ms with {} whole statements stored",
            n / 50
        );
        drop(conn);
        // Start the next round from an empty list again.
        run(
            &store,
            "Get-CsConferencingPolicy -Filter 'tag:*' | Remove-CsConferencingPolicy -Force",
        );
        // And the shell itself still opens the store.
        assert_eq!(run(&store, "(Get-CsConferencingPolicy).Count").trim(), "1");
    }
    assert!(kills >= 20);
}

/// Creates `n` enabled users and the per-user policies `P0..P{policies}`.
fn users_and_policies(store: &Path, n: usize, prefix: &str, policies: usize) {
    run(
        store,
        &format!(
            "foreach ($i in 1..{n}) {{ New-CsAdUser -DisplayName \"{prefix} $i\" -SamAccountName \"{prefix}$i\" -UserPrincipalName \"{prefix}$i@contoso.com\" | Out-Null; \
             Enable-CsUser -Identity \"{prefix}$i@contoso.com\" -RegistrarPool pool01.contoso.com -SipAddressType UserPrincipalName }}"
        ),
    );
    for p in 0..policies {
        let _ = lyncsh(store)
            .args([
                "-Command",
                &format!("New-CsConferencingPolicy -Identity P{p} | Out-Null"),
            ])
            .output();
    }
}

/// The acceptance test's own words: a process doing bulk grants, killed at
/// random moments. Statement k grants P(k mod 5) to every user, so a store
/// holding a partial statement would show users with different policies.
#[test]
fn killed_during_bulk_grants_leaves_whole_statements() {
    let (store, dir) = fresh("crash-grants");
    let users = 300;
    users_and_policies(&store, users, "u", 5);
    let mut body = String::new();
    for k in 0..200 {
        body.push_str(&format!(
            "Get-CsUser | Grant-CsConferencingPolicy -PolicyName P{}\n",
            k % 5
        ));
    }
    let script = write_script(&dir, "grants.ps1", &body);
    let mut seed = (std::process::id() as u64).wrapping_mul(0x2545_F491_4F6C_DD1D) | 1;
    for round in 0..20 {
        let delay = 30 + xorshift(&mut seed) % 400;
        kill_during(&store, &script, delay);
        let conn = open_intact(&store, round);
        let distinct: i64 = conn
            .query_row(
                "SELECT COUNT(DISTINCT IFNULL(conferencing_policy, '')) FROM users",
                [],
                |r| r.get(0),
            )
            .expect("distinct policies");
        assert_eq!(
            distinct, 1,
            "round {round} (killed after {delay} ms): users hold different policies"
        );
        let grants: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM changes WHERE command LIKE 'Grant-CsConferencingPolicy%'",
                [],
                |r| r.get(0),
            )
            .expect("grant log");
        assert_eq!(
            grants % users as i64,
            0,
            "round {round}: the change log holds a partial statement"
        );
        eprintln!(
            "round {round}: killed after {delay} ms; {} whole grant statements so far",
            grants / users as i64
        );
    }
}

/// Two processes each grant their own users 1,000 times; every grant is in
/// the log and every user ends with the last policy granted to them.
#[test]
fn two_processes_granting_lose_no_update() {
    let (store, dir) = fresh("concurrent-grants");
    users_and_policies(&store, 10, "a", 2);
    users_and_policies(&store, 10, "b", 0);
    let script = |prefix: &str| {
        let mut body = String::new();
        for k in 0..1000 {
            body.push_str(&format!(
                "Grant-CsConferencingPolicy -Identity {prefix}{}@contoso.com -PolicyName P{}\n",
                k % 10 + 1,
                (k / 10) % 2
            ));
        }
        write_script(&dir, &format!("{prefix}.ps1"), &body)
    };
    let (sa, sb) = (script("a"), script("b"));
    let children: Vec<_> = [sa, sb]
        .iter()
        .map(|s| {
            lyncsh(&store)
                .arg("-File")
                .arg(s)
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().expect("wait");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(String::from_utf8_lossy(&o.stderr), "");
    }
    let logged = run(
        &store,
        "(Get-CsAdminChangeLog | Where-Object Command -like 'Grant-*').Count",
    );
    assert_eq!(logged.trim(), "2000");
    // k = 990..999 were the last grants: (99 % 2) = 1 → P1 for everyone.
    let held = run(
        &store,
        "Get-CsUser | Group-Object ConferencingPolicy -NoElement | ForEach-Object { \"$($_.Name)=$($_.Count)\" }",
    );
    assert_eq!(held.trim(), "P1=20");
}

/// A test's directory, removed when the test ends, failed or not, with
/// the write permission it may have taken away given back first.
/// A test's temporary directory, made writable again before it is removed
/// (a test may have taken the write bit away).
struct Scratch(tempfile::TempDir);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(self.0.path(), std::fs::Permissions::from_mode(0o755));
    }
}

#[test]
fn a_read_only_store_is_read_and_its_changes_refused() {
    use std::os::unix::fs::PermissionsExt;
    let (store, dir) = fresh("readonly");
    run(
        &store,
        "Set-CsConferencingPolicy -Identity Global -MaxMeetingSize 9",
    );
    let mode = |p: &Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod")
    };
    mode(&store, 0o444);
    // Root may write any file: it reads the store as `nobody` instead.
    let mut reader = if rustix::process::geteuid().is_root() {
        let Ok(setpriv) = which("setpriv") else {
            common::skip(
                "running as root without setpriv: no user for whom the store is read-only",
            );
            return;
        };
        let mut c = Command::new(setpriv);
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_lyncsh"))
            .args(["-NoProfile", "-NonInteractive", "--store"])
            .arg(&store);
        c
    } else {
        mode(&dir, 0o555);
        lyncsh(&store)
    };
    let before = std::fs::read(&store).expect("store bytes");
    let o = reader
        .args([
            "-Command",
            "(Get-CsConferencingPolicy -Identity Global).MaxMeetingSize; Set-CsConferencingPolicy -Identity Global -MaxMeetingSize 3",
        ])
        .output()
        .expect("lyncsh runs");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "9\n");
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "Set-CsConferencingPolicy: The configuration store '{}' is read-only here (the file is not writable): it can be read, but changes are refused.\n",
            store.display()
        )
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::read(&store).expect("store bytes"), before);
    mode(&dir, 0o755);
    mode(&store, 0o644);
    assert_eq!(
        run(
            &store,
            "(Get-CsConferencingPolicy -Identity Global).MaxMeetingSize"
        )
        .trim(),
        "9"
    );
}

fn which(name: &str) -> Result<PathBuf, ()> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or(())
}

#[test]
fn an_empty_file_is_refused_and_left_empty() {
    let (store, _dir) = fresh("empty");
    std::fs::write(&store, b"").expect("empty file");
    let o = lyncsh(&store)
        .args(["-Command", "Get-CsConferencingPolicy"])
        .output()
        .expect("lyncsh runs");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "");
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "Get-CsConferencingPolicy: The file '{}' is empty, so it is not a lyncsh configuration store; it was left untouched. Remove it, or name another file, to start a new store.\n",
            store.display()
        )
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::metadata(&store).expect("still there").len(), 0);
}

/// The note that spares an opener the whole-file damage check follows
/// lyncsh's own writes, and stops vouching for a file something else wrote.
#[test]
fn the_check_note_follows_lyncsh_and_not_other_writers() {
    use lyncsh::config::check_note::current;
    let (store, _scratch) = fresh("note");
    run(
        &store,
        "New-CsConferencingPolicy -Identity Sales -MaxMeetingSize 50 | Out-Null",
    );
    assert!(current(&store), "lyncsh's own write is noted");
    run(&store, "Get-CsConferencingPolicy | Out-Null");
    assert!(current(&store), "a read keeps the note");
    {
        let c = rusqlite::Connection::open(&store).expect("open");
        c.execute("INSERT INTO meta (key, value) VALUES ('outside', 'x')", [])
            .expect("insert");
    }
    assert!(
        !current(&store),
        "another writer's change is not vouched for"
    );
    // The next opener checks the whole file, finds it sound, notes it.
    assert_eq!(
        run(
            &store,
            "(Get-CsConferencingPolicy -Identity Sales).MaxMeetingSize"
        ),
        "50\n"
    );
    assert!(current(&store));
}
