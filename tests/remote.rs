//! The SSH server run in this process ([`lyncsh::remote::server::start`])
//! and driven by russh's client: hostile input on the `lyncsh` subsystem,
//! clients that vanish, many reconnects, and shutdown — each while another
//! session keeps getting correct answers. Every wait is bounded.
//!
//! The tests take turns (one lock): they count this process's session
//! processes and its memory, which a neighbour would disturb.

mod common;

use common::russh_client as client;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use client::{Conn, Lines};
use lyncsh::remote::server::{Running, start};
use lyncsh::remote::worker::RemoteLimits;
use russh::keys::PrivateKey;
use serde_json::json;

/// One answer, one connection, one session ending.
const LIMIT: Duration = Duration::from_secs(20);

static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// This test's turn, once the session processes of earlier ones are gone.
async fn turn() -> tokio::sync::MutexGuard<'static, ()> {
    let guard = TURN.lock().await;
    assert!(
        eventually(LIMIT, || session_processes() == 0).await,
        "session processes of an earlier test are still running"
    );
    guard
}

async fn within<T>(what: &str, limit: Duration, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(limit, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: nothing within {limit:?}"),
    }
}

/// Polls `cond` until it holds; false after `limit`.
async fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while !cond() {
        if t.elapsed() > limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

/// Session processes this process started that still run. A process
/// that has ended but is not reaped yet has an empty command line, so it
/// is not counted.
fn session_processes() -> usize {
    let me = std::process::id().to_string();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return 0;
    };
    procs
        .filter_map(Result::ok)
        .filter(|p| {
            let stat = std::fs::read_to_string(p.path().join("stat")).unwrap_or_default();
            // pid (comm) state ppid ...: comm may hold spaces, so after ')'.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1).map(str::to_string));
            ppid.as_deref() == Some(me.as_str())
                && std::fs::read(p.path().join("cmdline"))
                    .is_ok_and(|c| c.split(|&b| b == 0).any(|arg| arg == b"__session"))
        })
        .count()
}

/// A server on a free loopback port with a fresh store where `admin` is a
/// CsAdministrator, and a key that may log in.
struct Fixture {
    dir: common::TempDir,
    store: PathBuf,
    key: Arc<PrivateKey>,
    running: Option<Running>,
}

impl Fixture {
    async fn start() -> Fixture {
        Fixture::start_with(|_| {}).await
    }

    /// A fixture whose sessions get the limits `adjust` makes.
    async fn start_with(adjust: impl FnOnce(&mut RemoteLimits)) -> Fixture {
        let dir = common::TempDir::new("remote");
        let (mut opts, key) = client::admin_setup(dir.root(), 64);
        adjust(&mut opts.limits);
        let store = opts.store.clone();
        let running = within("start", LIMIT, start(opts))
            .await
            .expect("server starts");
        Fixture {
            dir,
            store,
            key,
            running: Some(running),
        }
    }

    fn running(&self) -> &Running {
        self.running.as_ref().expect("server running")
    }

    async fn connect(&self) -> Conn {
        let addr = self.running().local_addr();
        within("login", LIMIT, client::connect(addr, "admin", &self.key))
            .await
            .expect("login")
    }

    /// A logged-in `lyncsh` subsystem session.
    async fn session(&self) -> (Conn, Lines) {
        let conn = self.connect().await;
        let lines = within("subsystem", LIMIT, conn.lyncsh())
            .await
            .expect("subsystem");
        assert_eq!(lines.hello["op"], "hello");
        assert_eq!(lines.hello["user"], "admin");
        (conn, lines)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // Dropping `Running` closes the connections without waiting.
        self.running.take();
    }
}

/// A session still answers correctly: `$n * 7` is 7n.
async fn answers(s: &mut Lines, id: u64) {
    let script = format!("{id} * 7");
    let r = within("invoke", LIMIT, s.invoke(id, &script))
        .await
        .expect("invoke");
    assert_eq!(r.state, "completed", "{r:?}");
    assert_eq!(r.objects(), [&json!(id * 7)], "{r:?}");
}

/// The next line, which must be an error about an unreadable request.
async fn bad_request(s: &mut Lines) -> String {
    let line = within("error line", LIMIT, s.next())
        .await
        .expect("read")
        .expect("a line");
    assert_eq!(line["id"], 0, "{line}");
    assert_eq!(line["stream"], "error", "{line}");
    assert_eq!(line["error"]["kind"], "BadRequest", "{line}");
    line["error"]["message"]
        .as_str()
        .expect("message")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_errors_and_the_session_goes_on() {
    let _turn = turn().await;
    let f = Fixture::start().await;
    let (_c2, mut other) = f.session().await;
    let (_c, mut s) = f.session().await;
    answers(&mut other, 1).await;

    s.send(b"{not json\n").await.expect("send");
    let msg = bad_request(&mut s).await;
    assert!(msg.starts_with("The request is not valid JSON"), "{msg}");

    s.send(b"[1,2]\n").await.expect("send");
    assert_eq!(
        bad_request(&mut s).await,
        "A request must be a JSON object."
    );

    // An unreadable request whose id could be read is answered under it.
    s.send(br#"{"id":5,"op":"frobnicate"}"#)
        .await
        .expect("send");
    s.send(b"\n").await.expect("send");
    let r = within("reply", LIMIT, s.until_state(5))
        .await
        .expect("read");
    assert_eq!(r.state, "failed");
    assert_eq!(r.errors()[0]["message"], "Unknown op 'frobnicate'.");
    assert_eq!(r.errors()[0]["kind"], "BadRequest");

    answers(&mut s, 6).await;
    answers(&mut other, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_gets_an_error() {
    let _turn = turn().await;
    let f = Fixture::start().await;
    let (_c2, mut other) = f.session().await;
    let (_c, mut s) = f.session().await;
    s.send(b"{\"id\":1,\"op\":\"invoke\",\"script\":\"'\xff\xfe'\"}\n")
        .await
        .expect("send");
    assert_eq!(bad_request(&mut s).await, "The request is not UTF-8.");
    answers(&mut s, 2).await;
    answers(&mut other, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_megabyte_line_is_refused_and_the_next_request_works() {
    let _turn = turn().await;
    let f = Fixture::start().await;
    let (_c2, mut other) = f.session().await;
    let (_c, mut s) = f.session().await;
    let chunk = vec![b'a'; 64 << 10];
    for i in 0..160 {
        within("send", LIMIT, s.send(&chunk)).await.expect("send");
        if i == 80 {
            // Half-way, with no newline for a while: others are served.
            tokio::time::sleep(Duration::from_millis(500)).await;
            answers(&mut other, 1).await;
        }
    }
    s.send(b"\n").await.expect("send");
    assert_eq!(
        bad_request(&mut s).await,
        "The request line is longer than this session accepts."
    );
    answers(&mut s, 2).await;
    answers(&mut other, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_vanishes_mid_command_leaves_no_session_process() {
    let _turn = turn().await;
    let f = Fixture::start().await;
    let base = session_processes();
    let (_c2, mut other) = f.session().await;

    // Idle output: the loop only notices through its cancel flag.
    let (c, s) = f.session().await;
    s.send_invoke(1, "while ($true) { Start-Sleep -Milliseconds 10 }")
        .await
        .expect("send");
    assert!(
        eventually(LIMIT, || session_processes() == base + 2).await,
        "two session processes"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.cut();
    assert!(
        eventually(LIMIT, || session_processes() == base + 1).await,
        "the vanished client's session process ended: {} left",
        session_processes() - base
    );
    drop(s);
    answers(&mut other, 1).await;

    // A client that stopped reading while the command floods it, then
    // vanishes: the session is blocked on output, not on its cancel flag.
    let (c, s) = f.session().await;
    s.send_invoke(2, "while ($true) { 'x' * 4096 }")
        .await
        .expect("send");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    c.cut();
    assert!(
        eventually(LIMIT, || session_processes() == base + 1).await,
        "the flooded client's session process ended: {} left",
        session_processes() - base
    );
    assert_eq!(f.running().live_sessions(), 1);
    drop(s);
    answers(&mut other, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_stops_the_running_request_and_skips_a_waiting_one() {
    let _turn = turn().await;
    let f = Fixture::start().await;
    let (_c, mut s) = f.session().await;
    // The first request sleeps and writes nothing, so only the cancel
    // itself can reach it; the second waits behind it with a write.
    s.send_invoke(1, "Start-Sleep -Seconds 30; 'one'")
        .await
        .expect("send");
    s.send_invoke(
        2,
        "Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $true; 'two'",
    )
    .await
    .expect("send");
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.send(b"{\"op\":\"cancel\",\"id\":2}\n{\"op\":\"cancel\",\"id\":1}\n")
        .await
        .expect("send");
    let t = Instant::now();
    let one = within("first", LIMIT, s.until_state(1))
        .await
        .expect("state");
    assert_eq!(one.state, "stopped", "{one:?}");
    assert!(one.objects().is_empty(), "{one:?}");
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    let two = within("second", LIMIT, s.until_state(2))
        .await
        .expect("state");
    assert_eq!(two.state, "stopped", "{two:?}");
    assert!(two.objects().is_empty(), "{two:?}");
    let r = within(
        "check",
        LIMIT,
        s.invoke(3, "(Get-CsAccessEdgeConfiguration).AllowAnonymousUsers"),
    )
    .await
    .expect("invoke");
    assert_eq!(r.objects(), [&json!(false)], "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_reconnects_leak_neither_processes_nor_memory() {
    let _turn = turn().await;
    let f = Fixture::start().await;
    let (_c2, mut other) = f.session().await;
    let addr = f.running().local_addr();

    async fn round(
        addr: std::net::SocketAddr,
        key: &Arc<PrivateKey>,
        i: u64,
    ) -> Result<(), String> {
        let conn = client::connect(addr, "admin", key)
            .await
            .map_err(|e| e.to_string())?;
        let mut s = conn.lyncsh().await.map_err(|e| e.to_string())?;
        let r = s
            .invoke(1, &format!("{i} + 1"))
            .await
            .map_err(|e| e.to_string())?;
        if r.objects() != [&json!(i + 1)] {
            return Err(format!("wrong answer: {r:?}"));
        }
        drop(s);
        conn.close().await.map_err(|e| e.to_string())
    }

    async fn rounds(
        addr: std::net::SocketAddr,
        key: Arc<PrivateKey>,
        n: u64,
        workers: u64,
    ) -> Vec<String> {
        let mut set = tokio::task::JoinSet::new();
        for w in 0..workers {
            let key = key.clone();
            set.spawn(async move {
                let mut errors = Vec::new();
                for i in (w..n).step_by(workers as usize) {
                    match tokio::time::timeout(LIMIT, round(addr, &key, i)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => errors.push(e),
                        Err(_) => errors.push(format!("round {i} hung")),
                    }
                }
                errors
            });
        }
        let mut errors = Vec::new();
        while let Some(r) = set.join_next().await {
            errors.extend(r.expect("worker"));
        }
        errors
    }

    // Warm up: one-time allocations are not a leak.
    let errors = rounds(addr, f.key.clone(), 20, 4).await;
    assert!(errors.is_empty(), "{errors:?}");
    let settled = |f: &Fixture| f.running().live_sessions() == 1;
    assert!(eventually(LIMIT, || settled(&f)).await);
    let processes_before = session_processes();
    let rss_before = common::vm_rss_kib("self");

    let t = Instant::now();
    let errors = within(
        "1,000 reconnects",
        Duration::from_secs(120),
        rounds(addr, f.key.clone(), 1000, 4),
    )
    .await;
    let took = t.elapsed();
    assert!(
        eventually(LIMIT, || settled(&f)
            && session_processes() == processes_before)
        .await,
        "session processes left: {} (before {processes_before})",
        session_processes()
    );
    let processes_after = session_processes();
    let rss_after = common::vm_rss_kib("self");
    eprintln!(
        "1,000 reconnects (4 at a time) in {:.1} s: {} failed; session processes {} -> {}; \
         VmRSS {} KiB -> {} KiB ({:+} KiB)",
        took.as_secs_f64(),
        errors.len(),
        processes_before,
        processes_after,
        rss_before,
        rss_after,
        rss_after as i64 - rss_before as i64
    );
    assert!(
        errors.is_empty(),
        "{} failed, first: {:?}",
        errors.len(),
        errors.first()
    );
    assert!(
        rss_after < rss_before + (64 << 10),
        "VmRSS grew from {rss_before} KiB to {rss_after} KiB"
    );
    answers(&mut other, 1).await;
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_lyncsh")
}

/// `lyncsh --store STORE -Command SCRIPT`: its output lines.
fn local(store: &Path, script: &str) -> Vec<String> {
    let out = std::process::Command::new(bin())
        .arg("--store")
        .arg(store)
        .args(["-NoProfile", "-Command", script])
        .output()
        .expect("lyncsh runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_during_a_long_command_keeps_the_store_whole() {
    let _turn = turn().await;
    let mut f = Fixture::start().await;
    let (_c, mut s) = f.session().await;
    // An idle session must not hold shutdown up either.
    let (_c2, mut idle) = f.session().await;
    let r = within(
        "set",
        LIMIT,
        s.invoke(
            1,
            "Set-CsAccessEdgeConfiguration -AllowAnonymousUsers $True",
        ),
    )
    .await
    .expect("set");
    assert_eq!(r.state, "completed", "{r:?}");
    let r = within(
        "get",
        LIMIT,
        s.invoke(
            3,
            "(Get-CsConferencingPolicy -Identity Global).MaxMeetingSize",
        ),
    )
    .await
    .expect("get");
    let size_before = r.objects()[0].as_u64().expect("a size");
    // One statement that keeps writing (each Set with its change-log row)
    // and says how far it got, until it is stopped.
    s.send_invoke(
        2,
        "$i = 0; while ($true) { $i++; Set-CsConferencingPolicy -Identity Global -MaxMeetingSize (1000 + $i); $i }",
    )
    .await
    .expect("send");
    let mut seen = 0;
    while seen < 3 {
        let line = within("progress", LIMIT, s.next())
            .await
            .expect("read")
            .expect("a line");
        assert_eq!(line["stream"], "output", "{line}");
        seen = line["object"].as_u64().expect("a count");
    }

    let running = f.running.take().expect("running");
    let addr = running.local_addr();
    let t = Instant::now();
    // The client keeps reading while the server stops, as a real one does.
    let (stopped, reply) = tokio::join!(
        within("shutdown", Duration::from_secs(15), running.shutdown()),
        within("state", LIMIT, s.until_state(2)),
    );
    let took = t.elapsed();
    stopped.expect("every session ended");
    eprintln!("shutdown with a running and an idle session took {took:?}");
    // Well inside the grace period: nothing waited for it to run out.
    assert!(took < Duration::from_secs(3), "shutdown took {took:?}");
    assert!(
        within("idle end", LIMIT, idle.next())
            .await
            .expect("read")
            .is_none()
    );
    assert_eq!(idle.exit, Some(0));
    // The client was told the command stopped, then the channel ended.
    let reply = reply.expect("state line");
    assert_eq!(reply.state, "stopped");
    assert!(
        within("end", LIMIT, s.next())
            .await
            .expect("read")
            .is_none()
    );
    assert_eq!(s.exit, Some(0));
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still listening"
    );

    // The store opens; the earlier statement's value is intact; the loop
    // statement, stopped part-way, left none of its writes.
    let out = local(
        &f.store,
        "(Get-CsAccessEdgeConfiguration).AllowAnonymousUsers; \
         (Get-CsConferencingPolicy -Identity Global).MaxMeetingSize; \
         (Get-CsAdminChangeLog -Target *ConferencingPolicy* | Measure-Object).Count",
    );
    assert_eq!(out.len(), 3, "{out:?}");
    assert_eq!(out[0], "True");
    let size: u64 = out[1].parse().expect("a size");
    let writes: u64 = out[2].parse().expect("a count");
    assert!(seen >= 3, "{seen} writes reported");
    assert_eq!(writes, 0, "{writes} writes of a stopped statement logged");
    assert_eq!(size, size_before, "a stopped statement's write was kept");
    let conn = rusqlite::Connection::open(&f.store).expect("open");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity check");
    assert_eq!(check, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stops_cleanly_on_sigterm() {
    let _turn = turn().await;
    // Only the files of a fixture: the server is the `lyncsh serve` process.
    let mut f = Fixture::start().await;
    f.running.take();
    let mut child = tokio::process::Command::new(bin())
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--store"])
        .arg(&f.store)
        .arg("--host-key")
        .arg(f.dir.path("host_key"))
        .arg("--authorized-keys")
        .arg(f.dir.path("authorized_keys/%u"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("lyncsh serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut stdout = tokio::io::BufReader::new(stdout);
    let mut line = String::new();
    use tokio::io::AsyncBufReadExt;
    within("listening line", LIMIT, stdout.read_line(&mut line))
        .await
        .expect("read");
    let addr: std::net::SocketAddr = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{line:?}"));
    let conn = within("login", LIMIT, client::connect(addr, "admin", &f.key))
        .await
        .expect("login");
    let mut s = within("subsystem", LIMIT, conn.lyncsh())
        .await
        .expect("subsystem");
    s.send_invoke(1, "while ($true) { }").await.expect("send");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let pid = child.id().expect("pid").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let r = within("state", LIMIT, s.until_state(1)).await;
    let status = within("exit", LIMIT, child.wait()).await.expect("wait");
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        use tokio::io::AsyncReadExt;
        let _ = within("stderr", LIMIT, e.read_to_string(&mut err)).await;
    }
    let r = r.unwrap_or_else(|e| panic!("{e}; server: {err}"));
    assert_eq!(r.state, "stopped");
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.contains("terminated, shutting down"), "{err}");
    assert!(err.contains("stopped"), "{err}");
}

/// Reads a session's lines until its channel ends.
async fn rest(s: &mut Lines) -> Vec<serde_json::Value> {
    let mut lines = Vec::new();
    while let Some(line) = within("session end", LIMIT, s.next()).await.expect("read") {
        lines.push(line);
    }
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_crashes_ends_alone_and_says_why() {
    let _turn = turn().await;
    // Small enough that ten 60 MB strings cannot fit; each alone is within
    // the language's own caps.
    let f = Fixture::start_with(|l| l.memory = 256 << 20).await;
    let (_c2, mut other) = f.session().await;
    answers(&mut other, 1).await;

    // Runaway allocation: the session's process hits its address-space cap.
    let (_c, mut s) = f.session().await;
    s.send_invoke(
        1,
        "$keep = @(); foreach ($i in 1..10) { $keep += ,(('a' * 60000000) + $i) }; 'survived'",
    )
    .await
    .expect("send");
    let lines = rest(&mut s).await;
    let error = lines
        .iter()
        .find(|l| l["stream"] == "error")
        .unwrap_or_else(|| panic!("no error line: {lines:?}"));
    assert_eq!(error["id"], 1, "{error}");
    assert_eq!(error["error"]["kind"], "SessionFailed", "{error}");
    let msg = error["error"]["message"].as_str().expect("message");
    assert!(
        msg.starts_with("The session ended because its process failed: ")
            && msg.contains("memory allocation of ")
            && msg.ends_with("(killed by signal 6, SIGABRT)."),
        "{msg}"
    );
    let state = lines.last().expect("a state line");
    assert_eq!(state["id"], 1, "{state}");
    assert_eq!(state["state"], "failed", "{state}");
    assert_eq!(state["exit"], 134, "{state}");
    assert_eq!(s.exit, Some(134));
    answers(&mut other, 2).await;

    // Lines that once overflowed the stack: a self-holding array now
    // converts one level deep, as pwsh's does, and unbounded `iex` ends in
    // the runtime's depth error; either way this session alone is affected.
    for (i, line) in ["$a = @(1); $a[0] = $a; \"$a\"", "$c = 'iex $c'; iex $c"]
        .into_iter()
        .enumerate()
    {
        let (_c, mut s) = f.session().await;
        let r = within("crash line", LIMIT, s.invoke(2, line))
            .await
            .unwrap_or_else(|e| panic!("{line}: {e}"));
        if i == 0 {
            assert_eq!(r.state, "completed", "{line}: {r:?}");
            assert_eq!(r.lines[0]["text"], "System.Object[]", "{line}: {r:?}");
        } else {
            assert!(
                r.errors()
                    .iter()
                    .any(|e| e.to_string().contains("call depth overflow")),
                "{line}: {r:?}"
            );
        }
        answers(&mut other, 3 + i as u64).await;
    }
    assert!(eventually(LIMIT, || f.running().live_sessions() == 1).await);
    answers(&mut other, 9).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_that_hold_themselves_are_freed_with_their_session() {
    let _turn = turn().await;
    let f = Fixture::start().await;
    let (_c2, mut other) = f.session().await;
    let settled = |f: &Fixture| f.running().live_sessions() == 1 && session_processes() == 1;
    // Warm up: one-time allocations are not a leak.
    for i in 0..2 {
        let (c, mut s) = f.session().await;
        answers(&mut s, i + 1).await;
        drop(s);
        let _ = c.close().await;
    }
    assert!(eventually(LIMIT, || settled(&f)).await);
    let before = common::vm_rss_kib("self");
    for i in 0..10 {
        let (c, mut s) = f.session().await;
        let r = within(
            "cycle",
            LIMIT,
            s.invoke(
                1,
                "$h = @{}; $h.self = $h; $h.big = 'a' * 60000000; $h.big.Length",
            ),
        )
        .await
        .expect("invoke");
        assert_eq!(r.objects(), [&json!(60_000_000)], "session {i}: {r:?}");
        drop(s);
        let _ = c.close().await;
    }
    assert!(
        eventually(LIMIT, || settled(&f)).await,
        "sessions left: {}",
        f.running().live_sessions()
    );
    let after = common::vm_rss_kib("self");
    eprintln!("ten sessions holding a 60 MB cycle each: VmRSS {before} KiB -> {after} KiB");
    assert!(
        after * 5 <= before * 6,
        "VmRSS grew from {before} KiB to {after} KiB"
    );
    answers(&mut other, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_stalled_mid_statement_holds_up_no_login_and_no_write() {
    let _turn = turn().await;
    let f = Fixture::start().await;
    // A statement that reads the store, then floods output the client
    // never reads: it stalls half-way with its snapshot open.
    let (stalled_conn, stalled) = f.session().await;
    stalled
        .send_invoke(
            1,
            "Get-CsConferencingPolicy | ForEach-Object { foreach ($i in 1..500) { 'x' * 65536 } }",
        )
        .await
        .expect("send");
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let t = Instant::now();
    let (c, mut s) = f.session().await;
    let logged_in = t.elapsed();
    let r = within(
        "write beside a stalled reader",
        LIMIT,
        s.invoke(
            1,
            "Set-CsConferencingPolicy -Identity Global -MaxMeetingSize 77; (Get-CsConferencingPolicy -Identity Global).MaxMeetingSize",
        ),
    )
    .await
    .expect("invoke");
    let took = t.elapsed();
    eprintln!("beside a stalled reader: login {logged_in:?}, login + write + read back {took:?}");
    assert_eq!(r.state, "completed", "{r:?}");
    assert_eq!(r.objects(), [&json!(77)], "{r:?}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    drop(s);
    let _ = c.close().await;
    stalled_conn.cut();
    drop(stalled);
    assert_eq!(
        local(
            &f.store,
            "(Get-CsConferencingPolicy -Identity Global).MaxMeetingSize"
        ),
        ["77"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demoted_account_loses_its_cmdlets_at_its_next_statement_and_in_completion() {
    let _turn = turn().await;
    let f = Fixture::start().await;
    let (_c, mut s) = f.session().await;
    let r = within(
        "set",
        LIMIT,
        s.invoke(
            1,
            "Set-CsConferencingPolicy -Identity Global -MaxMeetingSize 11",
        ),
    )
    .await
    .expect("set");
    assert_eq!(r.state, "completed", "{r:?}");
    let r = within("complete", LIMIT, s.complete(10, "Set-CsConferencingPol"))
        .await
        .expect("complete");
    assert_eq!(Lines::offered(&r), ["Set-CsConferencingPolicy"]);

    // Demoted while the first statement of a request sleeps.
    s.send_invoke(
        2,
        "Start-Sleep -Milliseconds 1500; Set-CsConferencingPolicy -Identity Global -MaxMeetingSize 22; (Get-CsConferencingPolicy -Identity Global).MaxMeetingSize",
    )
    .await
    .expect("send");
    tokio::time::sleep(Duration::from_millis(200)).await;
    local(
        &f.store,
        "Add-CsAdminRoleMember -Role CsViewOnlyAdministrator -Member admin; \
         Remove-CsAdminRoleMember -Role CsAdministrator -Member admin",
    );
    let r = within("demoted", LIMIT, s.until_state(2))
        .await
        .expect("reply");
    let errors: Vec<&str> = r
        .errors()
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert_eq!(errors.len(), 1, "{r:?}");
    assert!(
        errors[0].starts_with(
            "The term 'Set-CsConferencingPolicy' is not recognized as a name of a cmdlet"
        ),
        "{r:?}"
    );
    // What a view-only administrator may still do, it does.
    assert_eq!(r.objects(), [&json!(11)], "{r:?}");
    // Completion no longer offers what the account lost.
    let r = within("complete", LIMIT, s.complete(11, "Set-CsConferencingPol"))
        .await
        .expect("complete");
    assert_eq!(Lines::offered(&r), Vec::<String>::new());
    let r = within("complete", LIMIT, s.complete(12, "Get-CsConferencingPol"))
        .await
        .expect("complete");
    assert_eq!(Lines::offered(&r), ["Get-CsConferencingPolicy"]);
    assert_eq!(
        local(
            &f.store,
            "(Get-CsConferencingPolicy -Identity Global).MaxMeetingSize"
        ),
        ["11"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_stopped_by_the_time_limit_keeps_none_of_its_changes() {
    let _turn = turn().await;
    let f = Fixture::start_with(|l| l.command_time = Duration::from_millis(1500)).await;
    let (_c, mut s) = f.session().await;
    let r = within(
        "limited",
        LIMIT,
        s.invoke(
            1,
            "Set-CsConferencingPolicy -Identity Global -MaxMeetingSize 5; \
             $i = 0; while ($true) { $i++; Set-CsConferencingPolicy -Identity Global -MaxMeetingSize (1000 + $i) }",
        ),
    )
    .await
    .expect("invoke");
    assert_eq!(r.state, "failed", "{r:?}");
    assert_eq!(
        r.errors()[0]["message"],
        "The command ran longer than this session allows and was stopped.",
        "{r:?}"
    );
    // The first statement ended and was kept; the loop, many calls in,
    // was stopped and left nothing, not even a change-log row.
    let out = local(
        &f.store,
        "(Get-CsConferencingPolicy -Identity Global).MaxMeetingSize; \
         (Get-CsAdminChangeLog -Target *ConferencingPolicy* | Measure-Object).Count",
    );
    assert_eq!(out, ["5", "1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_pty_key_gets_a_shell_without_a_pty() {
    let _turn = turn().await;
    let f = Fixture::start().await;
    let keys = f.dir.path("authorized_keys/admin");
    let line = std::fs::read_to_string(&keys).expect("keys");
    // With a pty the shell echoes and ends lines with \r\n; `no-pty` on
    // the key refuses the pty and the shell runs without one.
    for (options, pty_ok) in [("", true), ("no-pty ", false)] {
        std::fs::write(&keys, format!("{options}{line}")).expect("keys");
        let conn = f.connect().await;
        let mut ch = within("open", LIMIT, conn.handle.channel_open_session())
            .await
            .expect("channel");
        ch.request_pty(true, "xterm", 80, 24, 0, 0, &[])
            .await
            .expect("pty request");
        let granted = loop {
            match within("pty reply", LIMIT, ch.wait()).await {
                Some(russh::ChannelMsg::Success) => break true,
                Some(russh::ChannelMsg::Failure) => break false,
                Some(_) => {}
                None => panic!("channel ended"),
            }
        };
        assert_eq!(granted, pty_ok, "{options:?}");
        ch.request_shell(true).await.expect("shell");
        let input: &[u8] = if pty_ok {
            b"'x' + 1\rexit 4\r"
        } else {
            b"'x' + 1\nexit 4\n"
        };
        ch.data(input).await.expect("send");
        let mut out = Vec::new();
        let mut exit = None;
        while let Some(msg) = within("output", LIMIT, ch.wait()).await {
            match msg {
                russh::ChannelMsg::Data { data } => out.extend_from_slice(&data),
                russh::ChannelMsg::ExitStatus { exit_status } => exit = Some(exit_status),
                russh::ChannelMsg::Close => break,
                _ => {}
            }
        }
        assert_eq!(exit, Some(4), "{options:?}");
        let out = String::from_utf8_lossy(&out);
        if pty_ok {
            // The echo comes as the keys arrive, so its place may vary.
            assert!(out.contains("'x' + 1\r\n"), "{out:?}");
            assert!(out.contains("x1\r\nPS lyncsh> "), "{out:?}");
        } else {
            assert_eq!(out, "PS lyncsh> x1\nPS lyncsh> ");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_requests_are_bounded_by_bytes() {
    let _turn = turn().await;
    let f = Fixture::start().await;
    let (_c, mut s) = f.session().await;
    // While the first request runs, 3 MiB requests pile up: past 16 MiB
    // waiting they are refused under their id, and the session goes on.
    s.send_invoke(1, "Start-Sleep -Seconds 2; 'slept'")
        .await
        .expect("send");
    let big = format!("#{}\n1", "x".repeat(3 << 20));
    let ids: Vec<u64> = (2..=14).collect();
    for &id in &ids {
        within("send", LIMIT, s.send_invoke(id, &big))
            .await
            .expect("send");
    }
    let mut states = std::collections::BTreeMap::new();
    let mut busy = Vec::new();
    while states.len() < ids.len() + 1 {
        let line = within("reply", LIMIT, s.next())
            .await
            .expect("read")
            .expect("a line");
        if line["error"]["kind"] == "Busy" {
            assert_eq!(
                line["error"]["message"],
                "Too many requests are waiting (more than 16 MiB); this one was dropped."
            );
            busy.push(line["id"].as_u64().expect("id"));
        }
        if let Some(state) = line["state"].as_str() {
            states.insert(line["id"].as_u64().expect("id"), state.to_string());
        }
    }
    assert!(!busy.is_empty(), "nothing was refused: {states:?}");
    for id in 1..=14 {
        let want = if busy.contains(&id) {
            "failed"
        } else {
            "completed"
        };
        assert_eq!(states[&id], want, "{id}: {states:?}");
    }
    // The last ones are refused, never the first.
    assert!(busy.iter().all(|&id| id > 6), "{busy:?}");
    answers(&mut s, 20).await;
}

/// A session's slot is given back when the session ends, not when its
/// client gets round to closing the channel: one connection running one
/// channel after another never runs out of its account's slots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_run_one_after_another_on_a_connection_are_never_refused() {
    let _turn = turn().await;
    let dir = common::TempDir::new("remote-slots");
    let (opts, key) = client::admin_setup(dir.root(), 2);
    let running = within("start", LIMIT, start(opts))
        .await
        .expect("server starts");
    let conn = within(
        "login",
        LIMIT,
        client::connect(running.local_addr(), "admin", &key),
    )
    .await
    .expect("login");
    for n in 1..=6 {
        let (out, code) = within("exec", LIMIT, conn.exec(&format!("{n} * 7")))
            .await
            .expect("exec");
        assert_eq!(
            (String::from_utf8_lossy(&out).trim(), code),
            ((n * 7).to_string().as_str(), Some(0)),
            "channel {n}"
        );
    }
}
