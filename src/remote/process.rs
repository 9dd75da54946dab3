//! A session in a process of its own, seen from the server: it starts
//! `lyncsh __session` ([`super::child`]) and hands it the session's
//! configuration; then two tasks on the server's runtime keep it company.
//! The relay, alive exactly as long as the session, passes the process's
//! output on, answers each of its requests for input from the
//! connection's queue, and, when the process dies without an exit status,
//! tells the client why; the other keeps the tail of the process's stderr,
//! where a crash says what happened. Tasks, not threads: the connection
//! queues input and takes output on that runtime, and a task woken there
//! costs no switch between threads on the way to or from the session.

use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak, mpsc};
use std::time::{Duration, Instant};

use rustix::process::{Pid, PidfdFlags, Signal, kill_process, pidfd_open};
use tokio::io::AsyncReadExt;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::net::unix::pipe;
use tokio::sync::mpsc::Receiver;
use tokio::task::JoinHandle;

use super::frames::{self, Down, Up, UpReader};
use super::protocol;
use super::worker::{Ev, Input, Mode, Outlet, SessionConfig};

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
    /// Sends a frame; false once the process is gone.
    fn send(&self, d: &Down) -> bool {
        frames::write_down(&mut *lock(&self.stdin), d).is_ok()
    }

    /// Sends a control frame and SIGURG after it: a session waiting for
    /// input reads the frame with its input, and a running one reads it
    /// at once on its control thread, woken by the signal.
    fn control(&self, d: &Down) {
        if !self.send(d) {
            return;
        }
        // Under the lock that reaping takes: until the process is reaped
        // its pid cannot be another process's.
        if let Some(child) = lock(&self.child).as_ref() {
            let _ = kill_process(Pid::from_child(child), Signal::URG);
        }
    }

    pub(super) fn cancel(&self, id: Option<u64>) {
        self.control(&Down::Cancel(id));
    }

    pub(super) fn interrupt(&self) {
        self.control(&Down::Interrupt);
    }

    /// Tells the session to stop and end; kills it if it has not after
    /// [`KILL_GRACE`].
    pub(super) fn hang_up(self: &Arc<Self>) {
        if self.hung_up.swap(true, Ordering::SeqCst) || lock(&self.child).is_none() {
            return;
        }
        self.control(&Down::HangUp);
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
/// task on `runtime`, which ends once the process has and `out` has had
/// the exit status.
pub(super) fn spawn(
    exe: &Path,
    cfg: SessionConfig,
    mode: Mode,
    out: Outlet,
    inputs: Receiver<Input>,
    runtime: &tokio::runtime::Handle,
) -> std::io::Result<(Arc<Link>, JoinHandle<()>)> {
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
    // The pipes are read on the runtime, which registers them there.
    let pipes = {
        let _on = runtime.enter();
        let out = pipe::Receiver::from_owned_fd(OwnedFd::from(stdout));
        let err = pipe::Receiver::from_owned_fd(OwnedFd::from(stderr));
        out.and_then(|o| err.map(|e| (o, e)))
    };
    let (stdout, stderr) = match pipes {
        Ok(p) => p,
        Err(e) => {
            link.kill();
            link.reap();
            return Err(e);
        }
    };
    // The server opened the store at start and checked it then. A failed
    // write means the process already died; the relay will say why.
    link.send(&Down::Start {
        cfg,
        mode,
        store_checked: true,
    });
    let tail = runtime.spawn(keep_tail(stderr));
    let relay = Relay {
        link: link.clone(),
        out,
        current: 0,
        style,
    };
    let relay = runtime.spawn(relay.run(UpReader::new(stdout), inputs, tail));
    Ok((link, relay))
}

/// The last [`STDERR_TAIL`] bytes a process wrote to stderr.
async fn keep_tail(mut stderr: pipe::Receiver) -> Vec<u8> {
    let mut tail = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stderr.read(&mut buf).await {
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
    out: Outlet,
    /// The protocol request being run, for the message if the process dies.
    current: u64,
    style: Style,
}

impl Relay {
    async fn run(
        mut self,
        mut from: UpReader<pipe::Receiver>,
        mut inputs: Receiver<Input>,
        tail: JoinHandle<Vec<u8>>,
    ) {
        // The session asked for input and has not had it yet.
        let mut wanted = false;
        // Its end of input was sent (or could not be): it asks no more.
        let mut fed = false;
        let mut gone = false;
        let mut exited = false;
        let mut broken = None;
        loop {
            let up = tokio::select! {
                up = from.next() => up,
                // The queue's end is the session's end of input. The frame
                // is written as a cancel is, straight to the pipe: the
                // session asked for it and is reading.
                input = inputs.recv(), if wanted && !fed => {
                    wanted = false;
                    let input = input.unwrap_or(Input::Eof);
                    if let Input::Invoke(inv) = &input {
                        self.current = inv.id;
                    }
                    let eof = matches!(input, Input::Eof);
                    fed = !self.link.send(&Down::Input(input)) || eof;
                    continue;
                }
            };
            let ev = match up {
                Ok(Some(Up::Want)) => {
                    self.current = 0;
                    wanted = true;
                    continue;
                }
                // What the session wrote in one go goes on in one piece:
                // one message to the connection, one packet to the client.
                Ok(Some(Up::Stdout(mut b))) => {
                    while from.take_buffered(true, &mut b) {}
                    Ev::Stdout(b)
                }
                Ok(Some(Up::Stderr(mut b))) => {
                    while from.take_buffered(false, &mut b) {}
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
            if !gone && self.out.tx.send(ev).await.is_err() {
                gone = true;
                self.link.hang_up();
            }
        }
        drop(from);
        let tail = tail.await.unwrap_or_default();
        let status = reaped(self.link.clone()).await;
        if exited || gone {
            return;
        }
        let (why, code) = failure(status, &tail, broken);
        let id = self.current;
        let msg = format!("The session ended because its process failed: {why}.");
        let said = match self.style {
            Style::Json => {
                let mut said = vec![Ev::Stdout(protocol::error_line(id, &msg, "SessionFailed"))];
                if id != 0 {
                    said.push(Ev::Stdout(protocol::state_line(id, "failed", Some(code))));
                }
                said
            }
            Style::Psrp => vec![Ev::Stdout(super::psrp::packets::fatal(&msg))],
            Style::Text { pty } => {
                let eol = if pty { "\r\n" } else { "\n" };
                vec![Ev::Stderr(format!("{eol}{msg}{eol}").into_bytes())]
            }
        };
        for ev in said.into_iter().chain([Ev::Exit(code)]) {
            if self.out.tx.send(ev).await.is_err() {
                return;
            }
        }
    }
}

/// Waits for the process to end and reaps it, without holding up the
/// runtime: its pidfd turns readable when it has ended. Without one (a
/// kernel older than 5.3) a blocking thread waits; the wait is short
/// either way, as the process has closed its output.
async fn reaped(link: Arc<Link>) -> Option<ExitStatus> {
    let pid = lock(&link.child).as_ref().map(Pid::from_child);
    let pidfd = pid.map(|pid| {
        let fd = pidfd_open(pid, PidfdFlags::NONBLOCK).map_err(std::io::Error::from)?;
        // SAFETY: the AsyncFd owns the descriptor, which stays open and
        // the same until it is dropped.
        unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
            .map_err(std::io::Error::from)
    });
    match pidfd {
        Some(Ok(ended)) => {
            let _ = ended.readable().await;
            link.reap()
        }
        Some(Err(_)) => tokio::task::spawn_blocking(move || link.reap())
            .await
            .ok()
            .flatten(),
        None => None,
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
