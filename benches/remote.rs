//! Load on the SSH server, run in this process on loopback:
//!
//!   cargo bench --bench remote
//!
//! * 100 concurrent `lyncsh` subsystem sessions (one SSH connection each)
//!   make 100 round trips each. A round trip is one `invoke` of three
//!   statements: set the session's own conferencing policy, read it back
//!   (the reply must be the value just set), and increment a shared counter
//!   policy by reading and writing it in one statement. A statement that
//!   names a writing cmdlet takes the store's write lock before it reads,
//!   so the counter must end exactly
//!   10,000 higher, and the change log must hold every one of the 10,000
//!   own writes. Reported: p50/p99 latency per round trip and throughput.
//! * The same sessions then make 100 read-only round trips each (read the
//!   own policy), twice in the same run: in statements that also name a
//!   writing cmdlet, so each takes the write lock before it reads (what
//!   every statement did before snapshot reads), and as plain reads from
//!   the statement's snapshot. p50/p90/p99 and throughput of both, and
//!   apart: each session's first round trip (its new process runs its
//!   first command cold, all at once) and the p99 of the other rounds.
//!   Their throughput ratio grows with the cores the run may use: compare
//!   `taskset -c 0 cargo bench --bench remote`.
//! * One exec round trip (connect, authenticate, exec `1`, exit status,
//!   disconnect) against OpenSSH's sshd doing the same with `/bin/true`,
//!   both driven by the same russh client, when /usr/sbin/sshd exists;
//!   and the same round trip with sessions on a thread of the server
//!   instead of a process of their own: what isolation costs per login.
//!
//! Everything is bounded by timeouts; nothing leaves 127.0.0.1.

#[allow(dead_code)]
#[path = "../tests/common/russh_client.rs"]
mod client;

use std::future::Future;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lyncsh::remote::server::{host_key, start};
use lyncsh::remote::worker::Isolation;
use russh::keys::PrivateKey;
use serde_json::json;

const SESSIONS: u64 = 100;
const ROUNDS: u64 = 100;
const EXEC_SAMPLES: usize = 200;
/// The whole load phase.
const LOAD_LIMIT: Duration = Duration::from_secs(600);
/// One connection, one request.
const STEP_LIMIT: Duration = Duration::from_secs(60);

async fn bounded<T>(what: &str, limit: Duration, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: nothing within {limit:?}"),
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(run());
}

async fn run() {
    let dir = std::env::temp_dir().join(format!("lyncsh-bench-remote-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (opts, key) = client::admin_setup(&dir, SESSIONS as usize + 8);
    let authorized = opts.authorized_keys.clone();
    let mut thread_opts = opts.clone();
    thread_opts.limits.isolation = Isolation::Thread;
    let running = bounded("start", STEP_LIMIT, start(opts))
        .await
        .expect("server starts");
    let addr = running.local_addr();

    let admin = bounded("login", STEP_LIMIT, client::connect(addr, "admin", &key))
        .await
        .expect("login");
    let mut control = bounded("subsystem", STEP_LIMIT, admin.lyncsh())
        .await
        .expect("subsystem");
    let setup = format!(
        "1..{SESSIONS} | ForEach-Object {{ New-CsConferencingPolicy -Identity \"load$_\" | Out-Null }}; \
         New-CsConferencingPolicy -Identity counter -MaxMeetingSize 1 | Out-Null"
    );
    let r = bounded("setup", STEP_LIMIT, control.invoke(1, &setup))
        .await
        .expect("setup");
    assert_eq!(r.state, "completed", "{r:?}");

    // Exec on the fresh store, and again once the load has filled its
    // change log: opening a store checks it, so logins grow with it.
    let exec_fresh = exec_samples(addr, "admin", &key, "1", b"1\n").await;
    // The same on a server whose sessions run on its own threads: what a
    // process of its own costs each login.
    let threads = bounded("start", STEP_LIMIT, start(thread_opts.clone()))
        .await
        .expect("thread server starts");
    let exec_thread = exec_samples(threads.local_addr(), "admin", &key, "1", b"1\n").await;
    let exec_process = exec_samples(addr, "admin", &key, "1", b"1\n").await;
    bounded("shutdown", STEP_LIMIT, threads.shutdown())
        .await
        .expect("shutdown");
    let load = bounded("load", LOAD_LIMIT, run_load(addr, key.clone(), mixed)).await;

    let check = "(Get-CsConferencingPolicy -Identity counter).MaxMeetingSize; \
         (Get-CsConferencingPolicy | Where-Object { $_.Identity -like 'Tag:load*' -and $_.MaxMeetingSize -eq ROUNDS } | Measure-Object).Count; \
         (Get-CsAdminChangeLog -Target 'CsConferencingPolicy:Tag:load*' -Account admin | Measure-Object).Count"
        .replace("ROUNDS", &ROUNDS.to_string());
    let r = bounded("check", STEP_LIMIT, control.invoke(2, &check))
        .await
        .expect("check");
    let got: Vec<u64> = r.objects().iter().filter_map(|v| v.as_u64()).collect();
    let want = [
        1 + SESSIONS * ROUNDS,
        SESSIONS,
        // Each policy's creation, then one logged change per round trip.
        SESSIONS + SESSIONS * ROUNDS,
    ];
    drop(control);
    let _ = admin.close().await;

    // Read-only load, every policy now at ROUNDS: statements that take the
    // write lock first (as all did before snapshot reads), then snapshots.
    let locked = bounded(
        "locked reads",
        LOAD_LIMIT,
        run_load(addr, key.clone(), read_locked),
    )
    .await;
    let snapshot = bounded("reads", LOAD_LIMIT, run_load(addr, key.clone(), read_only)).await;

    let exec_loaded = exec_samples(addr, "admin", &key, "1", b"1\n").await;
    let user = current_user();
    // sshd reads the same %u path: the key is this user's there.
    let _ = std::fs::copy(
        dir.join("authorized_keys/admin"),
        dir.join("authorized_keys").join(&user),
    );
    let sshd = match start_sshd(&dir, &authorized) {
        Ok(sshd) => {
            let addr = ([127, 0, 0, 1], sshd.port).into();
            Ok(exec_samples(addr, &user, &key, "/bin/true", b"").await)
        }
        Err(why) => Err(why),
    };

    bounded("shutdown", STEP_LIMIT, running.shutdown())
        .await
        .expect("shutdown");
    let _ = std::fs::remove_dir_all(&dir);

    let mut lat = load.latencies.clone();
    lat.sort();
    let n = lat.len();
    let pct = |p: usize| lat.get((n * p / 100).min(n.saturating_sub(1))).copied();
    let ms = |d: Option<Duration>| {
        d.map_or("-".to_string(), |d| {
            format!("{:.2} ms", d.as_secs_f64() * 1e3)
        })
    };
    println!();
    println!(
        "remote load: {SESSIONS} sessions x {ROUNDS} round trips (set own policy, read it back, increment a shared counter)"
    );
    println!("  {:<28} {}", "round trips", n);
    println!("  {:<28} {}", "failed round trips", load.errors.len());
    println!("  {:<28} {}", "read-back mismatches", load.mismatches);
    println!("  {:<28} {}", "p50 latency", ms(pct(50)));
    println!("  {:<28} {}", "p90 latency", ms(pct(90)));
    println!("  {:<28} {}", "p99 latency", ms(pct(99)));
    println!("  {:<28} {}", "max latency", ms(lat.last().copied()));
    println!(
        "  {:<28} {:.0} round trips/s ({:.2} s wall)",
        "throughput",
        n as f64 / load.wall.as_secs_f64(),
        load.wall.as_secs_f64()
    );
    println!(
        "  {:<28} {} (want {})",
        "shared counter",
        got.first().map_or("-".into(), u64::to_string),
        want[0]
    );
    println!(
        "  {:<28} {} (want {})",
        "own policies at last value",
        got.get(1).map_or("-".into(), u64::to_string),
        want[1]
    );
    println!(
        "  {:<28} {} (want {})",
        "own writes in change log",
        got.get(2).map_or("-".into(), u64::to_string),
        want[2]
    );
    println!();
    println!("read-only load: {SESSIONS} sessions x {ROUNDS} reads of their own policy, same run");
    println!(
        "  {:<28} {:>12} {:>12} {:>12} {:>14} {:>7}",
        "", "p50", "p90", "p99", "throughput", "errors"
    );
    for (what, l) in [
        ("write lock first (before)", &locked),
        ("snapshot reads (after)", &snapshot),
    ] {
        let mut lat = l.latencies.clone();
        lat.sort();
        let at = |p: usize| {
            lat.get((lat.len() * p / 100).min(lat.len().saturating_sub(1)))
                .copied()
        };
        println!(
            "  {:<28} {:>12} {:>12} {:>12} {:>10.0} rt/s {:>7}",
            what,
            ms(at(50)),
            ms(at(90)),
            ms(at(99)),
            lat.len() as f64 / l.wall.as_secs_f64(),
            l.errors.len() as u64 + l.mismatches
        );
    }
    for (what, l) in [
        ("write lock first (before)", &locked),
        ("snapshot reads (after)", &snapshot),
    ] {
        // The first round trips all start together on fresh sessions; the
        // tail of the rest is the steady state.
        let first = median(&l.first);
        let mut later = l.later.clone();
        later.sort();
        let p99 = later.get(later.len() * 99 / 100).copied();
        println!(
            "  {:<28} first round trip p50 {}, the other rounds' p99 {}",
            what,
            ms(first),
            ms(p99)
        );
    }
    // Both loads keep every core busy, so how far snapshot reads pull
    // ahead depends on how many reads can run at once.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "  {:<28} {:.2}x on {cores} core{}",
        "throughput after / before",
        (snapshot.latencies.len() as f64 / snapshot.wall.as_secs_f64())
            / (locked.latencies.len() as f64 / locked.wall.as_secs_f64()),
        if cores == 1 { "" } else { "s" }
    );
    println!();
    println!(
        "exec round trip: connect + authenticate + exec + exit status, {EXEC_SAMPLES} in a row, p50"
    );
    let lyncsh_p50 = median(&exec_fresh);
    println!("  {:<28} {}", "lyncsh serve, exec `1`", ms(lyncsh_p50));
    println!(
        "  {:<28} {}",
        "  same, after the load",
        ms(median(&exec_loaded))
    );
    let (process_p50, thread_p50) = (median(&exec_process), median(&exec_thread));
    println!("  {:<28} {}", "  session process (again)", ms(process_p50));
    println!("  {:<28} {}", "  session thread instead", ms(thread_p50));
    if let (Some(p), Some(t)) = (process_p50, thread_p50) {
        println!(
            "  {:<28} {:+.2} ms (target < 5 ms)",
            "  added by the process",
            (p.as_secs_f64() - t.as_secs_f64()) * 1e3
        );
    }
    match &sshd {
        Ok(s) => {
            let sshd_p50 = median(s);
            println!("  {:<28} {}", "OpenSSH sshd, /bin/true", ms(sshd_p50));
            if let (Some(a), Some(b)) = (lyncsh_p50, sshd_p50) {
                println!(
                    "  {:<28} {:.2}x",
                    "ratio lyncsh / sshd",
                    a.as_secs_f64() / b.as_secs_f64()
                );
            }
        }
        Err(why) => println!("  sshd not available ({why}): no ratio"),
    }
    if let Some(e) = load.errors.first() {
        println!("first error: {e}");
    }
    assert!(
        load.errors.is_empty(),
        "{} round trips failed",
        load.errors.len()
    );
    assert_eq!(load.mismatches, 0, "a read did not see its own write");
    for (what, l) in [("locked reads", &locked), ("snapshot reads", &snapshot)] {
        if let Some(e) = l.errors.first() {
            println!("first error ({what}): {e}");
        }
        assert!(l.errors.is_empty(), "{what}: {} failed", l.errors.len());
        assert_eq!(l.mismatches, 0, "{what}: a read saw another value");
    }
    assert_eq!(got, want, "lost or missing writes");
}

struct Load {
    latencies: Vec<Duration>,
    /// `latencies` split: each session's first round trip (a fresh session
    /// process runs its first command cold), and all the others.
    first: Vec<Duration>,
    later: Vec<Duration>,
    errors: Vec<String>,
    mismatches: u64,
    wall: Duration,
}

/// Every session logs in first; the round trips start together.
/// What one round trip of session `i` sends in round `j`, and the one
/// object its reply must hold.
type Round = fn(u64, u64) -> (String, serde_json::Value);

/// The mixed load: write, read back, increment the shared counter.
fn mixed(i: u64, j: u64) -> (String, serde_json::Value) {
    (
        format!(
            "Set-CsConferencingPolicy -Identity load{i} -MaxMeetingSize {j}; \
             (Get-CsConferencingPolicy -Identity load{i}).MaxMeetingSize; \
             Set-CsConferencingPolicy -Identity counter -MaxMeetingSize ((Get-CsConferencingPolicy -Identity counter).MaxMeetingSize + 1)"
        ),
        json!(j),
    )
}

/// Read-only: the session's own policy, from the statement's snapshot.
fn read_only(i: u64, _: u64) -> (String, serde_json::Value) {
    (
        format!("(Get-CsConferencingPolicy -Identity load{i}).MaxMeetingSize"),
        json!(ROUNDS),
    )
}

/// The same one read in a statement that also names a writing cmdlet,
/// which never runs (nothing reaches it): the statement takes the write
/// lock before it reads, as every statement did before snapshot reads.
/// The value goes on through a variable, so that this statement reads the
/// store no more often than `read_only` does.
fn read_locked(i: u64, _: u64) -> (String, serde_json::Value) {
    (
        format!(
            "Get-CsConferencingPolicy -Identity load{i} | Tee-Object -Variable p | \
             Where-Object {{ $false }} | Set-CsConferencingPolicy; $p.MaxMeetingSize"
        ),
        json!(ROUNDS),
    )
}

async fn run_load(addr: std::net::SocketAddr, key: Arc<PrivateKey>, round: Round) -> Load {
    let barrier = Arc::new(tokio::sync::Barrier::new(SESSIONS as usize + 1));
    let mut set = tokio::task::JoinSet::new();
    for i in 1..=SESSIONS {
        let key = key.clone();
        let barrier = barrier.clone();
        set.spawn(async move {
            let opened = async {
                let conn = client::connect(addr, "admin", &key).await?;
                let lines = conn.lyncsh().await?;
                Ok::<_, client::ClientError>((conn, lines))
            };
            let opened = tokio::time::timeout(STEP_LIMIT, opened).await;
            barrier.wait().await;
            let (conn, mut s) = match opened {
                Ok(Ok(c)) => c,
                Ok(Err(e)) => return (Vec::new(), vec![format!("session {i}: {e}")], 0),
                Err(_) => return (Vec::new(), vec![format!("session {i}: login hung")], 0),
            };
            let mut lat = Vec::with_capacity(ROUNDS as usize);
            let mut errors = Vec::new();
            let mut mismatches = 0;
            for j in 1..=ROUNDS {
                let (script, want) = round(i, j);
                let t = Instant::now();
                match tokio::time::timeout(STEP_LIMIT, s.invoke(j, &script)).await {
                    Ok(Ok(r)) if r.state == "completed" && r.errors().is_empty() => {
                        lat.push(t.elapsed());
                        if r.objects() != [&want] {
                            mismatches += 1;
                        }
                    }
                    Ok(Ok(r)) => errors.push(format!("session {i} round {j}: {r:?}")),
                    Ok(Err(e)) => {
                        errors.push(format!("session {i} round {j}: {e}"));
                        break;
                    }
                    Err(_) => {
                        errors.push(format!("session {i} round {j}: no answer"));
                        break;
                    }
                }
            }
            drop(s);
            let _ = conn.close().await;
            (lat, errors, mismatches)
        });
    }
    barrier.wait().await;
    let t = Instant::now();
    let mut out = Load {
        latencies: Vec::new(),
        first: Vec::new(),
        later: Vec::new(),
        errors: Vec::new(),
        mismatches: 0,
        wall: Duration::ZERO,
    };
    while let Some(r) = set.join_next().await {
        let (lat, errors, mismatches) = r.expect("session task");
        out.first.extend(lat.first().copied());
        out.later.extend(lat.iter().skip(1).copied());
        out.latencies.extend(lat);
        out.errors.extend(errors);
        out.mismatches += mismatches;
    }
    out.wall = t.elapsed();
    out
}

/// Times whole exec round trips, one after another, after a few unmeasured.
async fn exec_samples(
    addr: std::net::SocketAddr,
    user: &str,
    key: &Arc<PrivateKey>,
    command: &str,
    want: &[u8],
) -> Vec<Duration> {
    let mut out = Vec::with_capacity(EXEC_SAMPLES);
    for i in 0..EXEC_SAMPLES + 5 {
        let t = Instant::now();
        let (stdout, status) = bounded("exec", STEP_LIMIT, async {
            let conn = client::connect(addr, user, key).await?;
            let r = conn.exec(command).await?;
            let _ = conn.close().await;
            Ok::<_, client::ClientError>(r)
        })
        .await
        .unwrap_or_else(|e| panic!("exec {command} on {addr}: {e}"));
        let took = t.elapsed();
        assert_eq!(status, Some(0), "exec {command}");
        assert_eq!(stdout, want, "exec {command}");
        if i >= 5 {
            out.push(took);
        }
    }
    out
}

fn median(v: &[Duration]) -> Option<Duration> {
    let mut v = v.to_vec();
    v.sort();
    v.get(v.len() / 2).copied()
}

fn current_user() -> String {
    Command::new("id")
        .arg("-un")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|u| !u.is_empty())
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "root".into())
}

/// OpenSSH's sshd as this user on a free loopback port, with its own
/// config, host key and our authorized_keys; killed when dropped.
struct Sshd {
    child: Child,
    port: u16,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sshd(dir: &Path, authorized: &Path) -> Result<Sshd, String> {
    let bin = Path::new("/usr/sbin/sshd");
    if !bin.exists() {
        return Err(format!("{} is missing", bin.display()));
    }
    // Made the way lyncsh serve makes its own: ed25519, mode 0600.
    let key_file = dir.join("sshd_host_key");
    host_key(&key_file).map_err(|e| e.to_string())?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\n\
             PidFile none\nUsePAM no\nStrictModes no\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
             PermitRootLogin prohibit-password\nLogLevel ERROR\n",
            key_file.display(),
            authorized.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    // Run as root, sshd wants its privilege-separation directory.
    if current_user() == "root" {
        let _ = std::fs::create_dir_all("/run/sshd");
    }
    let log = dir.join("sshd.log");
    let child = Command::new(bin)
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut sshd = Sshd { child, port };
    let t = Instant::now();
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(sshd);
        }
        if let Ok(Some(st)) = sshd.child.try_wait() {
            let why = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(format!("sshd exited ({st}): {}", why.trim()));
        }
        if t.elapsed() > Duration::from_secs(10) {
            return Err("sshd did not start listening".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
