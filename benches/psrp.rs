//! PowerShell remoting against the JSON subsystem, in one run, on the
//! in-process server over loopback:
//!
//!   cargo bench --bench psrp
//!
//! 100 SSH connections (four at a time) make 20 Invoke-Command-style round
//! trips each, in both protocols. A PSRP round trip opens a `powershell`
//! subsystem channel, opens the runspace pool (SESSION_CAPABILITY and
//! INIT_RUNSPACEPOOL, until the pool is Opened), runs
//! `Get-CsAccessEdgeConfiguration` as one pipeline (Command, CREATE_PIPELINE,
//! its output and Completed state, Close), and closes the pool. A JSON
//! round trip opens a `lyncsh` subsystem channel, reads its hello, runs the
//! same command with one `invoke` and ends the channel. Each channel is a
//! session process of its own, as in production. Reported: p50/p99 per
//! round trip and throughput of each, and PSRP as a multiple of JSON.
//!
//! On 2 shared cores (2026-12-05): JSON p50 9.14 ms, p99 15.68 ms, 423
//! round trips/s; PSRP p50 10.23 ms, p99 17.14 ms, 376 round trips/s
//! (1.12x and 1.09x). Most of either is the session process each channel
//! starts.

#[allow(dead_code)]
#[path = "../tests/common/russh_client.rs"]
mod client;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use lyncsh::remote::psrp::fragments::{Reassembler, fragment};
use lyncsh::remote::psrp::message::{
    CREATE_PIPELINE, INIT_RUNSPACEPOOL, Message, PIPELINE_OUTPUT, PIPELINE_STATE,
    RUNSPACEPOOL_STATE, SESSION_CAPABILITY,
};
use lyncsh::remote::server::start;
use russh::ChannelMsg;
use russh::client::Msg;
use russh::keys::PrivateKey;
use uuid::Uuid;

const CONNECTIONS: usize = 100;
const ROUND_TRIPS: usize = 20;
const AT_ONCE: usize = 4;
const COMMAND: &str = "Get-CsAccessEdgeConfiguration";
const STEP_LIMIT: Duration = Duration::from_secs(60);

/// A client-to-server PSRP message (destination 2: the server).
fn to_server(kind: u32, rpid: Uuid, pid: Uuid, xml: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(40 + xml.len());
    m.extend_from_slice(&2u32.to_le_bytes());
    m.extend_from_slice(&kind.to_le_bytes());
    m.extend_from_slice(&rpid.to_bytes_le());
    m.extend_from_slice(&pid.to_bytes_le());
    m.extend_from_slice(xml.as_bytes());
    m
}

const CAPABILITY: &str = "<Obj RefId=\"0\"><MS><Version N=\"protocolversion\">2.3</Version>\
    <Version N=\"PSVersion\">2.0</Version><Version N=\"SerializationVersion\">1.1.0.1</Version>\
    </MS></Obj>";
const INIT: &str = "<Obj RefId=\"0\"><MS><I32 N=\"MinRunspaces\">1</I32>\
    <I32 N=\"MaxRunspaces\">1</I32></MS></Obj>";

fn create_pipeline(command: &str) -> String {
    format!(
        "<Obj RefId=\"0\"><MS><B N=\"NoInput\">true</B><Obj N=\"PowerShell\" RefId=\"1\"><MS>\
         <Obj N=\"Cmds\" RefId=\"2\"><LST><Obj RefId=\"3\"><MS><S N=\"Cmd\">{command}</S>\
         <B N=\"IsScript\">false</B><Obj N=\"Args\" RefId=\"4\"><LST /></Obj></MS></Obj></LST>\
         </Obj></MS></Obj></MS></Obj>"
    )
}

/// One `powershell` subsystem channel, read line by line.
struct Psrp {
    ch: russh::Channel<Msg>,
    buf: Vec<u8>,
    messages: Reassembler,
    next_object: u64,
}

impl Psrp {
    async fn open(conn: &client::Conn) -> Psrp {
        let ch = conn.handle.channel_open_session().await.expect("channel");
        ch.request_subsystem(true, "powershell")
            .await
            .expect("subsystem");
        Psrp {
            ch,
            buf: Vec::new(),
            messages: Reassembler::default(),
            next_object: 1,
        }
    }

    async fn line(&mut self, text: &str) {
        self.ch
            .data(format!("{text}\n").as_bytes())
            .await
            .expect("send");
    }

    /// Sends `messages` in one Data packet to `target` and waits for its ack.
    async fn data(&mut self, target: Uuid, messages: &[Vec<u8>]) {
        let mut payload = Vec::new();
        for m in messages {
            for f in fragment(self.next_object, m) {
                payload.extend_from_slice(&f);
            }
            self.next_object += 1;
        }
        let b64 = base64::engine::general_purpose::STANDARD.encode(payload);
        self.line(&format!(
            "<Data Stream='Default' PSGuid='{target}'>{b64}</Data>"
        ))
        .await;
        self.until_packet(&format!("<DataAck PSGuid='{target}' />"), &mut Vec::new())
            .await;
    }

    async fn next_line(&mut self) -> String {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return String::from_utf8_lossy(&line).trim_end().to_string();
            }
            match self.ch.wait().await {
                Some(ChannelMsg::Data { data }) => self.buf.extend_from_slice(&data),
                Some(ChannelMsg::Close) | None => panic!("the PSRP channel ended"),
                Some(_) => {}
            }
        }
    }

    /// Reads packets until `packet`; the messages of the Data packets on
    /// the way go to `seen`.
    async fn until_packet(&mut self, packet: &str, seen: &mut Vec<Message>) {
        loop {
            let line = self.next_line().await;
            if line == packet {
                return;
            }
            self.take_data(&line, seen);
        }
    }

    /// Reads packets until a message of `kind` has come.
    async fn until_message(&mut self, kind: u32, seen: &mut Vec<Message>) {
        while !seen.iter().any(|m| m.kind == kind) {
            let line = self.next_line().await;
            assert!(!line.starts_with("__NamedPipeError__"), "{line}");
            self.take_data(&line, seen);
        }
    }

    fn take_data(&mut self, line: &str, seen: &mut Vec<Message>) {
        let Some(body) = line
            .strip_prefix("<Data ")
            .and_then(|r| r.split_once('>'))
            .and_then(|(_, r)| r.strip_suffix("</Data>"))
        else {
            return;
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body)
            .expect("base64 from the server");
        for m in self.messages.push(&bytes).expect("fragments") {
            seen.push(Message::decode(&m).expect("message"));
        }
    }
}

/// A fresh id for a pool or pipeline (the server only needs them distinct).
fn fresh_id() -> Uuid {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Uuid::from_u128((0x5eed_u128 << 96) | u128::from(n))
}

/// Open the pool, run one command, close: the objects it returned.
async fn psrp_round_trip(conn: &client::Conn) -> usize {
    let mut p = Psrp::open(conn).await;
    let rpid = fresh_id();
    let nil = Uuid::nil();
    let mut seen = Vec::new();
    p.data(
        nil,
        &[
            to_server(SESSION_CAPABILITY, rpid, nil, CAPABILITY),
            to_server(INIT_RUNSPACEPOOL, rpid, nil, INIT),
        ],
    )
    .await;
    p.until_message(RUNSPACEPOOL_STATE, &mut seen).await;
    let pid = fresh_id();
    p.line(&format!("<Command PSGuid='{pid}' />")).await;
    p.until_packet(&format!("<CommandAck PSGuid='{pid}' />"), &mut seen)
        .await;
    seen.clear();
    let create = to_server(CREATE_PIPELINE, rpid, pid, &create_pipeline(COMMAND));
    p.data(pid, &[create]).await;
    p.until_message(PIPELINE_STATE, &mut seen).await;
    let objects = seen.iter().filter(|m| m.kind == PIPELINE_OUTPUT).count();
    p.line(&format!("<Close PSGuid='{pid}' />")).await;
    p.until_packet(&format!("<CloseAck PSGuid='{pid}' />"), &mut Vec::new())
        .await;
    p.line(&format!("<Close PSGuid='{nil}' />")).await;
    p.until_packet(&format!("<CloseAck PSGuid='{nil}' />"), &mut Vec::new())
        .await;
    let _ = p.ch.eof().await;
    objects
}

/// Open the JSON subsystem, one invoke, end: the objects it returned.
async fn json_round_trip(conn: &client::Conn) -> usize {
    let mut s = conn.lyncsh().await.expect("lyncsh subsystem");
    let r = s.invoke(1, COMMAND).await.expect("invoke");
    assert_eq!(r.state, "completed", "{r:?}");
    s.eof().await.expect("eof");
    while s.next().await.expect("line").is_some() {}
    r.objects().len()
}

#[derive(Clone, Copy)]
enum Protocol {
    Psrp,
    Json,
}

/// Every round trip's time, and the whole run's.
async fn load(
    addr: SocketAddr,
    key: Arc<PrivateKey>,
    protocol: Protocol,
) -> (Vec<Duration>, Duration) {
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    let mut all = Vec::new();
    for _ in 0..CONNECTIONS {
        if set.len() == AT_ONCE
            && let Some(r) = set.join_next().await
        {
            all.extend(r.expect("connection task"));
        }
        let key = key.clone();
        set.spawn(async move {
            let conn = client::connect(addr, "admin", &key).await.expect("login");
            let mut times = Vec::with_capacity(ROUND_TRIPS);
            for _ in 0..ROUND_TRIPS {
                let t = Instant::now();
                let trip = async {
                    match protocol {
                        Protocol::Psrp => psrp_round_trip(&conn).await,
                        Protocol::Json => json_round_trip(&conn).await,
                    }
                };
                let objects = tokio::time::timeout(STEP_LIMIT, trip)
                    .await
                    .expect("a round trip within the limit");
                assert_eq!(objects, 1, "one configuration object");
                times.push(t.elapsed());
            }
            let _ = conn.close().await;
            times
        });
    }
    while let Some(r) = set.join_next().await {
        all.extend(r.expect("connection task"));
    }
    all.sort();
    (all, started.elapsed())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn pct(v: &[Duration], p: usize) -> Duration {
    v[(v.len() * p / 100).min(v.len() - 1)]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("lyncsh-bench-psrp-")
        .tempdir()
        .expect("temp dir");
    let (opts, key) = client::admin_setup(dir.path(), AT_ONCE * 2);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let running = start(opts).await.expect("server starts");
        let addr = running.local_addr();
        // Warm up both paths once.
        load(addr, key.clone(), Protocol::Json).await;
        let (json, json_total) = load(addr, key.clone(), Protocol::Json).await;
        let (psrp, psrp_total) = load(addr, key.clone(), Protocol::Psrp).await;
        let trips = (CONNECTIONS * ROUND_TRIPS) as f64;
        println!(
            "{CONNECTIONS} connections x {ROUND_TRIPS} round trips ({AT_ONCE} connections at a time), \
             one `{COMMAND}` each"
        );
        for (name, v, total) in [("JSON subsystem", &json, json_total), ("PSRP", &psrp, psrp_total)] {
            println!(
                "  {name:<15} p50 {:6.2} ms  p99 {:6.2} ms  {:6.1} round trips/s",
                ms(pct(v, 50)),
                ms(pct(v, 99)),
                trips / total.as_secs_f64()
            );
        }
        println!(
            "  PSRP / JSON     p50 {:.2}x  p99 {:.2}x",
            ms(pct(&psrp, 50)) / ms(pct(&json, 50)),
            ms(pct(&psrp, 99)) / ms(pct(&json, 99))
        );
        let _ = running.shutdown().await;
    });
}
