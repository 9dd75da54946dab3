//! What the store-backed benchmarks share: a store filled with directory
//! users, and a timed `lyncsh` process on it.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use lyncsh::config::Engine;
use lyncsh::config::users::{User, insert};

/// Adds `n` Lync-enabled users (`user000000`…) straight through the engine:
/// going through cmdlets would time the set-up, not the benchmark.
pub fn insert_users(store: &Path, n: usize) {
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
}

/// Runs one command; returns its wall time, peak RSS in KB, and stdout.
pub fn run_lyncsh(store: &Path, command: &str) -> (Duration, u64, String) {
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
