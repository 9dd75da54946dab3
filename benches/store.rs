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
//!   floor: `SELECT COUNT(*)` on the indexed column;
//! * `@(Get-CsUser -Filter {ConferencingPolicy -eq 'X'}).Count` — against
//!   the same COUNT, and against reading every matching row's columns;
//! * `Get-CsUser | Select-Object -First 10` — floor: the first ten rows;
//! * `1` — a process's start-up on the same store, for scale.
//!
//! Each figure is the median of five runs (single runs move by half when
//! anything else runs on the machine),
//! and says how it grew from 10,000 to 100,000 users.
//! lyncsh runs as a separate process (start-up included), timed with its
//! peak memory by /usr/bin/time.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::{insert_users, run_lyncsh};

fn populate(store: &Path, n: usize) {
    insert_users(store, n);
    let out = run_lyncsh(
        store,
        "New-CsConferencingPolicy -Identity X -AllowAnonymousParticipantsInMeetings $True | Out-Null; New-CsConferencingPolicy -Identity Y | Out-Null",
    );
    assert!(out.0 > Duration::ZERO);
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

fn floor_rows(store: &Path, policy: &str, limit: Option<i64>) -> (Duration, usize) {
    let t = Instant::now();
    let conn = rusqlite::Connection::open(store).expect("open");
    let mut st = conn
        .prepare(
            "SELECT id, sam, upn, display_name, sip, lync_enabled, conferencing_policy, \
             external_access_policy, client_policy, data FROM users \
             WHERE lync_enabled = 1 AND (?1 IS NULL OR conferencing_policy = ?1) \
             ORDER BY id LIMIT ?2",
        )
        .expect("select");
    let mut n = 0;
    let mut rows = st
        .query(rusqlite::params![policy, limit.unwrap_or(-1)])
        .expect("query");
    while let Some(r) = rows.next().expect("row") {
        let row: (i64, String, Option<String>, String, Option<String>, i64) = (
            r.get(0).expect("id"),
            r.get(1).expect("sam"),
            r.get(2).expect("upn"),
            r.get(3).expect("name"),
            r.get(4).expect("sip"),
            r.get(5).expect("enabled"),
        );
        let policies: [Option<String>; 3] = [
            r.get(6).expect("policy"),
            r.get(7).expect("policy"),
            r.get(8).expect("policy"),
        ];
        let data: String = r.get(9).expect("data");
        std::hint::black_box((row, policies, data));
        n += 1;
    }
    (t.elapsed(), n)
}

/// Runs of each measurement; the median is reported.
const ROUNDS: usize = 5;

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs.get(runs.len() / 2).copied().unwrap_or_default()
}

/// A read-only command run [`ROUNDS`] times: the median time, the largest
/// peak memory, the last output.
fn lyncsh_median(store: &Path, command: &str) -> (Duration, u64, String) {
    let mut times = Vec::new();
    let mut rss = 0;
    let mut text = String::new();
    for _ in 0..ROUNDS {
        let (t, r, out) = run_lyncsh(store, command);
        times.push(t);
        rss = rss.max(r);
        text = out;
    }
    (median(times), rss, text)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One measured command: lyncsh's time and memory against its floor.
struct Figure {
    what: &'static str,
    lyncsh: Duration,
    rss_kb: u64,
    floor: Duration,
}

fn size(n: usize) -> Vec<Figure> {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("lyncsh-bench-store-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let store = dir.join("store.db");
    populate(&store, n);
    let mut out = Vec::new();

    let (start, start_rss, _) = lyncsh_median(&store, "1");
    out.push(Figure {
        what: "start-up (`1`)",
        lyncsh: start,
        rss_kb: start_rss,
        floor: Duration::ZERO,
    });

    // Each run changes every user: Y and X in turn, ending on X. The
    // floor's runs first, then lyncsh's: a run of lyncsh straight after
    // the floor's would time the whole-file damage check that any outside
    // writer's change calls for (see config/check_note.rs), once per run.
    let floors: Vec<Duration> = (0..ROUNDS)
        .map(|i| floor_grant(&store, if i % 2 == 0 { "Y" } else { "X" }))
        .collect();
    let mut grants = Vec::new();
    let mut grant_rss = 0;
    for i in 0..ROUNDS {
        let policy = if i % 2 == 0 { "X" } else { "Y" };
        let (t, rss, _) = run_lyncsh(
            &store,
            &format!("Get-CsUser | Grant-CsConferencingPolicy -PolicyName {policy}"),
        );
        grants.push(t);
        grant_rss = grant_rss.max(rss);
    }
    out.push(Figure {
        what: "pipeline grant",
        lyncsh: median(grants),
        rss_kb: grant_rss,
        floor: median(floors),
    });

    let mut counted = 0;
    let cfloor = median(
        (0..ROUNDS)
            .map(|_| {
                let (t, n) = floor_count(&store, "X");
                counted = n;
                t
            })
            .collect(),
    );
    assert_eq!(counted as usize, n, "every user holds X after the grant");
    let (count, count_rss, text) = lyncsh_median(
        &store,
        "(Get-CsUser -Filter {ConferencingPolicy -eq 'X'} | Measure-Object).Count",
    );
    assert_eq!(text.trim(), n.to_string());
    out.push(Figure {
        what: "-Filter | Measure-Object",
        lyncsh: count,
        rss_kb: count_rss,
        floor: cfloor,
    });

    let (array, array_rss, text) = lyncsh_median(
        &store,
        "@(Get-CsUser -Filter {ConferencingPolicy -eq 'X'}).Count",
    );
    assert_eq!(text.trim(), n.to_string());
    out.push(Figure {
        what: "@(-Filter).Count vs COUNT",
        lyncsh: array,
        rss_kb: array_rss,
        floor: cfloor,
    });
    let mut read = 0;
    let rfloor = median(
        (0..ROUNDS)
            .map(|_| {
                let (t, r) = floor_rows(&store, "X", None);
                read = r;
                t
            })
            .collect(),
    );
    assert_eq!(read, n);
    out.push(Figure {
        what: "@(-Filter).Count vs rows",
        lyncsh: array,
        rss_kb: array_rss,
        floor: rfloor,
    });

    let (first, first_rss, text) = lyncsh_median(
        &store,
        "(Get-CsUser | Select-Object -First 10).SamAccountName -join ','",
    );
    assert_eq!(
        text.trim(),
        (0..10)
            .map(|i| format!("user{i:06}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let ffloor = median(
        (0..ROUNDS)
            .map(|_| floor_rows(&store, "X", Some(10)).0)
            .collect(),
    );
    out.push(Figure {
        what: "Select-Object -First 10",
        lyncsh: first,
        rss_kb: first_rss,
        floor: ffloor,
    });
    let _ = std::fs::remove_dir_all(&dir);
    out
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!(
        "targets: grant <= 2.5x, -Filter | Measure-Object <= 10x, @(-Filter).Count <= 20x, \
         -First 10 < 50 ms at 100k, peak RSS < 100 MB, 10k -> 100k growth <= 11x"
    );
    let small = size(10_000);
    let large = size(100_000);
    for (n, figures) in [(10_000, &small), (100_000, &large)] {
        for f in figures {
            let ratio = if f.floor > Duration::ZERO {
                format!("{:6.2}x", ms(f.lyncsh) / ms(f.floor))
            } else {
                "      -".into()
            };
            println!(
                "{n:>7} users  {:<28} lyncsh {:8.1} ms ({:>3} MB peak) | floor {:7.2} ms | ratio {ratio}",
                f.what,
                ms(f.lyncsh),
                f.rss_kb / 1024,
                ms(f.floor),
            );
        }
    }
    for (s, l) in small.iter().zip(&large) {
        println!(
            "growth 10k -> 100k  {:<28} {:5.2}x",
            s.what,
            ms(l.lyncsh) / ms(s.lyncsh)
        );
    }
}
