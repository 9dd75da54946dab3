//! Store benchmarks with many directory users, each reported against the
//! same work done with plain rusqlite statements in the same run (the
//! floor), at 10,000 and 100,000 users:
//!
//!   cargo bench --bench store
//!
//! * `Get-CsUser | Grant-CsConferencingPolicy -PolicyName X` (durable when
//!   it returns) — floor: one transaction updating each user by id and
//!   logging the change;
//! * `Get-CsUser -Filter {ConferencingPolicy -eq 'X'} | Measure-Object` —
//!   floor: `SELECT COUNT(*)` on the indexed column.
//!
//! lyncsh runs as a separate process (start-up included), timed with its
//! peak memory by /usr/bin/time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use lyncsh::config::Engine;
use lyncsh::config::users::{User, insert};

fn populate(store: &Path, n: usize) {
    let engine = Engine::open(store, "bench").expect("store opens");
    for i in 0..n {
        let mut u = User {
            sam: format!("user{i:06}"),
            upn: Some(format!("user{i:06}@contoso.com")),
            display_name: format!("User {i:06}"),
            sip: Some(format!("sip:user{i:06}@contoso.com")),
            lync_enabled: true,
            ..User::default()
        };
        u.data
            .insert("RegistrarPool".into(), "pool01.contoso.com".into());
        u.data.insert(
            "Department".into(),
            if i % 3 == 0 { "Sales" } else { "Engineering" }.into(),
        );
        insert(&engine, &u, "bench setup").expect("insert user");
    }
    engine.end_statement().expect("commit");
    let out = run_lyncsh(
        store,
        "New-CsConferencingPolicy -Identity X -AllowAnonymousParticipantsInMeetings $True | Out-Null; New-CsConferencingPolicy -Identity Y | Out-Null",
    );
    assert!(out.0 > Duration::ZERO);
}

/// Runs one command; returns its wall time, peak RSS in KB, and stdout.
fn run_lyncsh(store: &Path, command: &str) -> (Duration, u64, String) {
    let t = Instant::now();
    let o = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(env!("CARGO_BIN_EXE_lyncsh"))
        .args(["-NoProfile", "-NonInteractive", "--store"])
        .arg(store)
        .args(["-Command", command])
        .output()
        .expect("lyncsh runs under /usr/bin/time");
    let elapsed = t.elapsed();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{command}: {stderr}");
    let rss = stderr
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    (
        elapsed,
        rss,
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

fn floor_grant(store: &Path, policy: &str) -> Duration {
    let t = Instant::now();
    let mut conn = rusqlite::Connection::open(store).expect("open");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("pragma");
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .expect("begin");
    {
        let ids: Vec<i64> = {
            let mut st = tx
                .prepare("SELECT id FROM users WHERE lync_enabled = 1 ORDER BY id")
                .expect("select");
            st.query_map([], |r| r.get(0))
                .expect("query")
                .filter_map(Result::ok)
                .collect()
        };
        let mut upd = tx
            .prepare("UPDATE users SET conferencing_policy = ?1 WHERE id = ?2")
            .expect("update");
        let mut log = tx
            .prepare("INSERT INTO changes (time, account, command, target, detail) VALUES ('t', 'bench', 'floor', ?1, ?2)")
            .expect("log");
        for id in ids {
            upd.execute(rusqlite::params![policy, id])
                .expect("update row");
            log.execute(rusqlite::params![format!("user {id}"), policy])
                .expect("log row");
        }
    }
    tx.commit().expect("commit");
    t.elapsed()
}

fn floor_count(store: &Path, policy: &str) -> (Duration, i64) {
    let t = Instant::now();
    let conn = rusqlite::Connection::open(store).expect("open");
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM users WHERE lync_enabled = 1 AND conferencing_policy = ?1",
            [policy],
            |r| r.get(0),
        )
        .expect("count");
    (t.elapsed(), n)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn size(n: usize) {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("lyncsh-bench-store-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let store = dir.join("store.db");
    populate(&store, n);

    let floor = floor_grant(&store, "Y");
    let (grant, grant_rss, _) = run_lyncsh(
        &store,
        "Get-CsUser | Grant-CsConferencingPolicy -PolicyName X",
    );
    let (cfloor, counted) = floor_count(&store, "X");
    assert_eq!(counted as usize, n, "every user holds X after the grant");
    let (count, count_rss, out) = run_lyncsh(
        &store,
        "(Get-CsUser -Filter {ConferencingPolicy -eq 'X'} | Measure-Object).Count",
    );
    assert_eq!(out.trim(), n.to_string());
    println!(
        "{n:>7} users  grant: lyncsh {:8.1} ms ({} MB peak) | floor {:7.1} ms | ratio {:5.2}x",
        ms(grant),
        grant_rss / 1024,
        ms(floor),
        ms(grant) / ms(floor)
    );
    println!(
        "{n:>7} users  filter+count: lyncsh {:8.1} ms ({} MB peak) | floor {:7.2} ms | ratio {:5.1}x",
        ms(count),
        count_rss / 1024,
        ms(cfloor),
        ms(count) / ms(cfloor)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("targets at 100,000 users: grant < 2000 ms, filter+count < 500 ms, memory < 200 MB");
    size(10_000);
    size(100_000);
}
