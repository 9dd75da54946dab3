//! A session in a process of its own, seen from the server: it starts
//! `lyncsh __session` ([`super::child`]), hands it the session's
//! configuration, and then two small threads and a task keep it company.
//! The relay (named like a session thread, and alive exactly as long as
//! the session) passes the process's output to `emit` and, when the
//! process dies without an exit status, tells the client why; a thread
//! keeps the tail of the process's stderr, where a crash says what
//! happened; the pump, a task on the server's runtime, answers each
//! request for input from the connection's queue. A task, not a thread:
//! the connection queues input on that runtime, and waking a task there
//! costs no switch between threads on the way to the session.

use std::io::{BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{Receiver, UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::frames::{self, Down, Up};
use super::protocol;
use super::worker::{Emit, Ev, Input, Mode, SessionConfig};

/// How long a hung-up session may take to stop before its process is
/// killed: commands check their cancel flag often, so only one stuck in a
/// single long operation (a huge allocation, a deep free) takes longer.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// How much of a failed process's stderr is kept for its message.
const STDERR_TAIL: usize = 4 << 10;

/// The server's end of a session process's pipe.
pub(crate) struct Link {
    stdin: Mutex<ChildStdin>,
    /// Until the relay reaps it; a kill in the meantime cannot hit
    /// another process, since the pid is not free before the reaping.
    child: Mutex<Option<Child>>,
    hung_up: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Link {
    /// Sends a frame; false once the process is gone. Control frames get
    /// through at once: the session's reader takes them as they come.
    fn send(&self, d: &Down) -> bool {
        frames::write_down(&mut *lock(&self.stdin), d).is_ok()
    }

    pub(super) fn cancel(&self, id: Option<u64>) {
        self.send(&Down::Cancel(id));
    }

    pub(super) fn interrupt(&self) {
        self.send(&Down::Interrupt);
    }

    /// Tells the session to stop and end; kills it if it has not after
    /// [`KILL_GRACE`].
    pub(super) fn hang_up(self: &Arc<Self>) {
        if self.hung_up.swap(true, Ordering::SeqCst) || lock(&self.child).is_none() {
            return;
        }
        self.send(&Down::HangUp);
        REAPER.kill_later(self);
    }

    fn kill(&self) {
        if let Some(c) = lock(&self.child).as_mut() {
            let _ = c.kill();
        }
    }

    /// Waits for the process to end, once its output has.
    fn reap(&self) -> Option<ExitStatus> {
        let child = lock(&self.child).take();
        child.and_then(|mut c| c.wait().ok())
    }
}

/// One thread for every hung-up session that has yet to end: deadlines
/// come in the order they are set, so it sleeps until the oldest.
struct Reaper(Mutex<Option<mpsc::Sender<Doomed>>>);

/// When to kill a session process that has not ended by then.
type Doomed = (Instant, Weak<Link>);

static REAPER: LazyLock<Reaper> = LazyLock::new(|| Reaper(Mutex::new(None)));

impl Reaper {
    fn kill_later(&self, link: &Arc<Link>) {
        let mut tx = lock(&self.0);
        if tx.is_none() {
            let (t, rx) = mpsc::channel::<Doomed>();
            let started = std::thread::Builder::new()
                .name("lyncsh-reaper".into())
                .stack_size(64 << 10)
                .spawn(move || {
                    for (when, link) in rx {
                        std::thread::sleep(when.saturating_duration_since(Instant::now()));
                        if let Some(link) = link.upgrade() {
                            link.kill();
                        }
                    }
                });
            if started.is_ok() {
                *tx = Some(t);
            }
        }
        if let Some(tx) = tx.as_ref() {
            let _ = tx.send((Instant::now() + KILL_GRACE, Arc::downgrade(link)));
        }
    }
}

/// Starts `exe __session` for the session; returns its link and the relay
/// thread, which ends once the process has and `emit` has had the exit
/// status. Called on the runtime the connection runs on (or entered), where
/// the pump goes.
pub(super) fn spawn(
    exe: &Path,
    cfg: SessionConfig,
    mode: Mode,
    emit: Emit,
    inputs: Receiver<Input>,
) -> std::io::Result<(Arc<Link>, JoinHandle<()>)> {
    let runtime = tokio::runtime::Handle::try_current().map_err(std::io::Error::other)?;
    let style = Style::of(&mode);
    let mut child = Command::new(exe)
        .arg("__session")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let (Some(stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(std::io::Error::other("the session process has no pipes"));
    };
    let link = Arc::new(Link {
        stdin: Mutex::new(stdin),
        child: Mutex::new(Some(child)),
        hung_up: AtomicBool::new(false),
    });
    // The server opened the store at start and checked it then. A failed
    // write means the process already died; the relay will say why.
    link.send(&Down::Start {
        cfg,
        mode,
        store_checked: true,
    });
    let started = start_threads(&link, stdout, stderr, emit, inputs, style, &runtime);
    match started {
        Ok(relay) => Ok((link, relay)),
        Err(e) => {
            link.kill();
            link.reap();
            Err(e)
        }
    }
}

fn start_threads(
    link: &Arc<Link>,
    stdout: ChildStdout,
    stderr: std::process::ChildStderr,
    emit: Emit,
    inputs: Receiver<Input>,
    style: Style,
    runtime: &tokio::runtime::Handle,
) -> std::io::Result<JoinHandle<()>> {
    // The protocol request being run, for the message if the process dies.
    let current = Arc::new(AtomicU64::new(0));
    let (want_tx, want_rx) = unbounded_channel::<()>();
    let tail = std::thread::Builder::new()
        .name("lyncsh-stderr".into())
        .stack_size(64 << 10)
        .spawn(move || keep_tail(stderr))?;
    let l = link.clone();
    let relay = std::thread::Builder::new()
        .name("lyncsh-session".into())
        .stack_size(256 << 10)
        .spawn({
            let current = current.clone();
            move || {
                let relay = Relay {
                    link: l,
                    emit,
                    want: want_tx,
                    current,
                    style,
                };
                relay.run(stdout, tail)
            }
        })?;
    runtime.spawn(pump(link.clone(), inputs, want_rx, current));
    Ok(relay)
}

/// Answers each request for input with the next input the connection
/// queued; the queue's end is the session's end of input. The frame is
/// written as a cancel is, straight to the pipe: the session asked for it
/// and is reading.
async fn pump(
    link: Arc<Link>,
    mut inputs: Receiver<Input>,
    mut wants: UnboundedReceiver<()>,
    current: Arc<AtomicU64>,
) {
    while wants.recv().await.is_some() {
        let input = inputs.recv().await.unwrap_or(Input::Eof);
        let eof = matches!(input, Input::Eof);
        if let Input::Invoke(inv) = &input {
            current.store(inv.id, Ordering::SeqCst);
        }
        if !link.send(&Down::Input(input)) || eof {
            break;
        }
    }
}

/// The last [`STDERR_TAIL`] bytes a process wrote to stderr.
fn keep_tail(mut stderr: std::process::ChildStderr) -> Vec<u8> {
    let mut tail = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stderr.read(&mut buf) {
            Ok(0) | Err(_) => return tail,
            Ok(n) => {
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > STDERR_TAIL {
                    tail.drain(..tail.len() - STDERR_TAIL);
                }
            }
        }
    }
}

/// How the client is told that the session died.
#[derive(Clone, Copy)]
enum Style {
    Text { pty: bool },
    Json,
    Psrp,
}

impl Style {
    fn of(mode: &Mode) -> Style {
        match mode {
            Mode::Protocol => Style::Json,
            Mode::Psrp => Style::Psrp,
            Mode::Shell { pty } => Style::Text { pty: *pty },
            Mode::Exec(_) => Style::Text { pty: false },
        }
    }
}

struct Relay {
    link: Arc<Link>,
    emit: Emit,
    want: UnboundedSender<()>,
    current: Arc<AtomicU64>,
    style: Style,
}

impl Relay {
    fn run(mut self, stdout: ChildStdout, tail: JoinHandle<Vec<u8>>) {
        let mut out = BufReader::with_capacity(frames::CHUNK + 64, stdout);
        let mut gone = false;
        let mut exited = false;
        let mut broken = None;
        loop {
            let ev = match frames::read_up(&mut out) {
                Ok(Some(Up::Want)) => {
                    self.current.store(0, Ordering::SeqCst);
                    let _ = self.want.send(());
                    continue;
                }
                // What the session wrote in one go goes on in one piece:
                // one message to the connection, one packet to the client.
                Ok(Some(Up::Stdout(mut b))) => {
                    while frames::take_buffered(&mut out, true, &mut b) {}
                    Ev::Stdout(b)
                }
                Ok(Some(Up::Stderr(mut b))) => {
                    while frames::take_buffered(&mut out, false, &mut b) {}
                    Ev::Stderr(b)
                }
                Ok(Some(Up::Exit(n))) => {
                    exited = true;
                    Ev::Exit(n)
                }
                Ok(None) => break,
                Err(e) => {
                    broken = Some(e.to_string());
                    self.link.kill();
                    break;
                }
            };
            // After the client is gone, output is read and dropped, so
            // the session never blocks on a pipe nobody empties.
            if !gone && !(self.emit)(ev) {
                gone = true;
                self.link.hang_up();
            }
        }
        let status = self.link.reap();
        let tail = tail.join().unwrap_or_default();
        if exited || gone {
            return;
        }
        let (why, code) = failure(status, &tail, broken);
        let id = self.current.load(Ordering::SeqCst);
        let msg = format!("The session ended because its process failed: {why}.");
        match self.style {
            Style::Json => {
                (self.emit)(Ev::Stdout(protocol::error_line(id, &msg, "SessionFailed")));
                if id != 0 {
                    (self.emit)(Ev::Stdout(protocol::state_line(id, "failed", Some(code))));
                }
            }
            Style::Psrp => {
                (self.emit)(Ev::Stdout(super::psrp::packets::fatal(&msg)));
            }
            Style::Text { pty } => {
                let eol = if pty { "\r\n" } else { "\n" };
                (self.emit)(Ev::Stderr(format!("{eol}{msg}{eol}").into_bytes()));
            }
        }
        (self.emit)(Ev::Exit(code));
    }
}

/// What a process that ended without an exit status died of, and the exit
/// status its session gets (128 + the signal, as a shell reports it).
fn failure(status: Option<ExitStatus>, stderr: &[u8], broken: Option<String>) -> (String, i32) {
    use std::os::unix::process::ExitStatusExt;
    let text = String::from_utf8_lossy(stderr);
    let said: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE"))
        .collect();
    let said = said[said.len().saturating_sub(3)..].join("; ");
    let (how, code) = match status {
        Some(s) => match (s.signal(), s.code()) {
            (Some(sig), _) => (format!("killed by {}", signal_name(sig)), 128 + sig),
            (None, Some(c)) => (format!("exit status {c}"), if c == 0 { 1 } else { c }),
            (None, None) => ("ended".to_string(), 1),
        },
        None => ("ended".to_string(), 1),
    };
    let why = match (broken, said.is_empty()) {
        (Some(b), true) => format!("it broke the session protocol ({b}); {how}"),
        (_, false) => format!("{said} ({how})"),
        (None, true) if how.contains("SIGXCPU") => {
            format!("a command used more CPU time than this server allows ({how})")
        }
        (None, true) => how,
    };
    (why, code)
}

fn signal_name(sig: i32) -> String {
    let name = match sig {
        6 => "SIGABRT",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        _ => return format!("signal {sig}"),
    };
    format!("signal {sig}, {name}")
}
