//! A remote session's interpreter and the connection's handle on it. The
//! session runs in a process of its own (`lyncsh __session`, see
//! `remote::process` and [`super::child`]) where its memory and CPU are
//! capped and a crash ends only it, or, without isolation, on a thread of
//! the caller's process (the interpreter is not `Send`). Either way input
//! arrives as [`Input`]s through a bounded queue, and output leaves as
//! [`Ev`]s through another ([`Outlet`]), which holds the session back while
//! the client is slow (backpressure); once it is closed the client is gone,
//! and the running command stops.

use std::collections::HashSet;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use std::cell::{Cell, RefCell};

use super::continuation::{self, Continuation, Verdict};
use serde::{Deserialize, Serialize};

use super::protocol;
use crate::complete::Snapshot;
use crate::host::{Choice, Host, Progress, Stream, Unread};
use crate::runtime::Interp;
use crate::runtime::budget::thread_cpu_time;
use crate::runtime::error::ErrorRecord;
use crate::runtime::interp::Limits;
use crate::runtime::session::{Outcome, cli_args};
use crate::syntax::Source;

/// Most inputs queued for a session. Small: the connection holds what
/// waits beyond it, bounded by bytes (`channel::MAX_PENDING`), and each
/// input here may be a request line of up to 4 MiB.
pub(super) const QUEUE: usize = 4;

/// Columns that remote output is formatted for, unless a request says.
const DEFAULT_WIDTH: usize = 120;
/// How much CPU a command uses before its session process gives other
/// sessions' commands the CPU first ([`crate::runtime::budget::yield_cpu`]).
const LONG_COMMAND: Duration = Duration::from_millis(50);

/// The interpreter recurses; each session gets a roomy stack.
pub(super) const STACK: usize = 64 << 20;

/// What a session sends towards the client.
#[derive(Debug)]
pub enum Ev {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    /// The session is over with this exit status.
    Exit(i32),
}

/// What the connection sends to the session.
#[derive(Debug, Serialize, Deserialize)]
pub enum Input {
    /// A shell line, without its line end.
    Line(String),
    /// Ctrl-C at an idle shell prompt: drop the pending continuation.
    Interrupt,
    /// A shell line longer than the session accepts.
    TooLong,
    Invoke(Invocation),
    Complete {
        id: u64,
        line: String,
        cursor: usize,
    },
    /// A protocol line that could not be understood.
    Bad {
        id: Option<u64>,
        message: String,
    },
    /// A protocol request that came while more than the session holds
    /// was waiting: it is answered as refused, under its id.
    Refused {
        id: u64,
    },
    /// The client sent EOF.
    Eof,
}

/// A protocol `invoke` request.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Invocation {
    pub id: u64,
    pub script: String,
    /// Bound like a script's command-line arguments (`param()`, `$args`).
    pub args: Vec<String>,
    pub render: Render,
}

/// How an invocation's output travels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Render {
    /// Each object as JSON with its text (programs).
    Objects,
    /// Formatted on the server at this width and sent as text: what a
    /// terminal client shows, tables grouped as the local shell groups them.
    Text { width: usize },
}

/// What kind of session the channel asked for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Mode {
    Exec(String),
    Shell {
        pty: bool,
    },
    Protocol,
    /// PowerShell remoting (the `powershell` subsystem): packet lines in
    /// as [`Input::Line`], packet lines out.
    Psrp,
}

/// Bounds of a remote session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoteLimits {
    /// Wall time of one command.
    pub command_time: Duration,
    /// Bytes of output one command may send.
    pub max_output: usize,
    /// Whether scripts may use this machine's files.
    pub file_system: bool,
    /// The one directory (canonical) this session's scripts may use, when
    /// the account is allowed one; it is also where the session starts.
    pub root: Option<PathBuf>,
    /// Operator limits: most items, most string bytes.
    pub max_items: usize,
    pub max_string: usize,
    pub max_collect: usize,
    /// Where the session runs; only a process of its own makes the two
    /// limits below real.
    pub isolation: Isolation,
    /// Most address space (bytes) the session's process may map; an
    /// allocation past it ends the session (RLIMIT_AS).
    pub memory: u64,
    /// CPU time one command may use; past it the session's process is
    /// ended (RLIMIT_CPU, renewed for each command). The wall-time limit
    /// stops commands that check it; this stops the ones that cannot.
    pub command_cpu: Duration,
}

/// Where a session's interpreter runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Isolation {
    /// On a thread of the server: a crash or a runaway allocation takes
    /// the server down with it. Kept to measure what isolation costs.
    Thread,
    /// In `exe __session`, a process of its own. In-process servers (tests,
    /// benchmarks) name the `lyncsh` binary here, since their own
    /// executable is not it.
    Process { exe: PathBuf },
}

impl Isolation {
    /// A process of its own, started from this executable; a thread when
    /// the executable cannot be found.
    pub fn this_executable() -> Isolation {
        match std::env::current_exe() {
            Ok(exe) => Isolation::Process { exe },
            Err(_) => Isolation::Thread,
        }
    }
}

impl Default for RemoteLimits {
    fn default() -> RemoteLimits {
        RemoteLimits {
            command_time: Duration::from_secs(60),
            max_output: 64 << 20,
            file_system: false,
            root: None,
            max_items: 10_000_000,
            max_string: 64 << 20,
            max_collect: 10_000_000,
            isolation: Isolation::this_executable(),
            memory: 1 << 30,
            command_cpu: Duration::from_secs(120),
        }
    }
}

/// Who the session is and what it may do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionConfig {
    pub store: PathBuf,
    pub account: String,
    /// `true`: the account's roles (looked up at start) decide which
    /// cmdlets exist; an account without roles gets no session.
    pub enforce_roles: bool,
    /// `None`: local limits (no deadline, file system allowed).
    pub limits: Option<RemoteLimits>,
}

/// The connection's handle on a running session.
pub struct Worker {
    /// Bounded: a client that floods requests gets refusals, not memory.
    /// The only sender, shared with [`Stopper`]: dropping it is how an
    /// idle session, waiting for input, learns that none will come.
    input: InputSlot,
    reach: Reach,
    /// What runs until the session has ended; taken by [`Worker::wait`].
    runs: Option<Runs>,
}

/// The session's thread, or the task that relays its process's output.
enum Runs {
    Thread(std::thread::JoinHandle<()>),
    Task(tokio::runtime::Handle, tokio::task::JoinHandle<()>),
}

/// How the connection reaches a running session: its flags, when it runs
/// on a thread here; its pipe, when it runs in a process of its own.
#[derive(Clone)]
enum Reach {
    Thread(Arc<Shared>),
    Process(Arc<super::process::Link>),
}

pub(super) type InputSlot = Arc<Mutex<Option<InputSender>>>;

/// tokio's channel: the connection's task can wait for room without
/// blocking a thread, and the session's plain thread reads it blocking.
pub(super) type InputSender = tokio::sync::mpsc::Sender<Input>;

/// Drops the session's input sender: the session runs what is queued (or
/// skips it after a hang-up), then ends.
pub(super) fn close(input: &InputSlot) {
    input.lock().unwrap_or_else(PoisonError::into_inner).take();
}

/// Queues input without waiting; false when the queue is full or closed.
fn try_queue(input: &InputSlot, item: Input) -> bool {
    input
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        .is_some_and(|tx| tx.try_send(item).is_ok())
}

/// Ends a session from outside its connection (server shutdown): the
/// running command stops, nothing queued behind it runs, and an idle
/// session stops waiting for input.
#[derive(Clone)]
pub struct Stopper {
    input: InputSlot,
    reach: Reach,
}

impl Stopper {
    pub fn stop(&self) {
        match &self.reach {
            Reach::Thread(shared) => shared.stop(&self.input),
            Reach::Process(link) => {
                link.hang_up();
                close(&self.input);
            }
        }
    }
}

impl Worker {
    /// Stops what runs now, or the request `id` if it has not started.
    pub fn cancel_request(&self, id: Option<u64>) {
        match &self.reach {
            Reach::Thread(shared) => shared.cancel_request(id),
            Reach::Process(link) => link.cancel(id),
        }
    }

    /// Ctrl-C in a shell: stops the running command; at the prompt, drops
    /// a half-typed continuation.
    pub fn interrupt(&self) {
        match &self.reach {
            Reach::Thread(shared) => shared.interrupt(&self.input),
            Reach::Process(link) => link.interrupt(),
        }
    }

    /// Queues input without waiting; false when the queue is full or the
    /// session has ended.
    pub fn send(&self, input: Input) -> bool {
        try_queue(&self.input, input)
    }

    /// Queues input, waiting for room (plain threads only, never async).
    pub fn send_blocking(&self, input: Input) -> bool {
        self.sender()
            .is_some_and(|tx| tx.blocking_send(input).is_ok())
    }

    /// Queues input, waiting (asynchronously) for room: a piped script
    /// is held back while the session is busy, never cut short.
    pub async fn send_waiting(&self, input: Input) -> bool {
        match self.sender() {
            Some(tx) => tx.send(input).await.is_ok(),
            None => false,
        }
    }

    /// Waits for room in the queue; cancel-safe, so the connection can
    /// go on reading its client meanwhile. `None` once the session ended.
    pub async fn reserve(&self) -> Option<tokio::sync::mpsc::OwnedPermit<Input>> {
        self.sender()?.reserve_owned().await.ok()
    }

    /// The sender, out of the lock: a stop must not wait for the queue
    /// to drain.
    fn sender(&self) -> Option<InputSender> {
        self.input
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The client sent EOF: the session reads what is queued, then ends.
    pub fn close_input(&mut self) {
        close(&self.input);
    }

    /// No more input: waits until the session has finished what is queued
    /// (plain threads only, never async).
    pub fn wait(mut self) {
        close(&self.input);
        match self.runs.take() {
            Some(Runs::Thread(t)) => {
                let _ = t.join();
            }
            Some(Runs::Task(runtime, task)) => {
                let _ = runtime.block_on(task);
            }
            None => {}
        }
    }

    /// A handle that can end this session from another task.
    pub fn stopper(&self) -> Stopper {
        Stopper {
            input: self.input.clone(),
            reach: self.reach.clone(),
        }
    }
}

/// Whoever drops the handle has let the session go (the channel closed,
/// its task was dropped with the runtime): the session stops, skips what
/// is queued and ends, rather than run on for a client that is not there.
impl Drop for Worker {
    fn drop(&mut self) {
        self.stopper().stop();
    }
}

pub type Emit = Box<dyn FnMut(Ev) -> bool + Send>;

/// Where a session's output goes: a bounded queue, so that a slow client
/// holds its session back, and whatever has to live exactly as long as the
/// session does (its thread, or the task that relays its process).
pub struct Outlet {
    pub tx: tokio::sync::mpsc::Sender<Ev>,
    pub keep: Option<Arc<dyn Send + Sync>>,
}

/// Starts a session: in a process of its own when its limits say so,
/// else on a thread of this process. A process is relayed by a task on
/// the runtime this is called on (or entered).
pub fn spawn(cfg: SessionConfig, mode: Mode, out: Outlet) -> std::io::Result<Worker> {
    let (tx, rx) = tokio::sync::mpsc::channel(QUEUE);
    let input: InputSlot = Arc::new(Mutex::new(Some(tx)));
    if let Some(RemoteLimits {
        isolation: Isolation::Process { exe },
        ..
    }) = &cfg.limits
    {
        let exe = exe.clone();
        let runtime = tokio::runtime::Handle::try_current().map_err(std::io::Error::other)?;
        let (link, relay) = super::process::spawn(&exe, cfg, mode, out, rx, &runtime)?;
        return Ok(Worker {
            input,
            reach: Reach::Process(link),
            runs: Some(Runs::Task(runtime, relay)),
        });
    }
    let shared = Arc::new(Shared::default());
    let inbox = Inbox { rx, pull: None };
    let session = shared.clone();
    let emit: Emit = Box::new(move |ev| {
        // The thread owns this callback until it ends, and `keep` with it.
        let _alive = &out.keep;
        out.tx.blocking_send(ev).is_ok()
    });
    let thread = std::thread::Builder::new()
        .name("lyncsh-session".into())
        .stack_size(STACK)
        .spawn(move || session_main(cfg, mode, emit, inbox, session, None))?;
    Ok(Worker {
        input,
        reach: Reach::Thread(shared),
        runs: Some(Runs::Thread(thread)),
    })
}

/// A session's flags, shared by its interpreter and whoever controls it
/// (the connection, or the reader of a session process's pipe).
#[derive(Default)]
pub(super) struct Shared {
    /// Stops the running command (Ctrl-C, `cancel`, channel close).
    pub(super) cancel: Arc<AtomicBool>,
    /// Id of the protocol request now running (0: none).
    pub(super) running: AtomicU64,
    /// Protocol requests cancelled before they started.
    cancelled: Mutex<HashSet<u64>>,
    /// Whether a command is running (a shell's Ctrl-C then cancels it).
    busy: AtomicBool,
    /// Set once the client is gone or the server shuts down.
    hung_up: AtomicBool,
}

impl Shared {
    pub(super) fn cancel_request(&self, id: Option<u64>) {
        match id {
            None => self.cancel.store(true, Ordering::SeqCst),
            Some(id) if self.running.load(Ordering::SeqCst) == id => {
                self.cancel.store(true, Ordering::SeqCst)
            }
            Some(id) => {
                self.cancelled
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(id);
            }
        }
    }

    pub(super) fn interrupt(&self, input: &InputSlot) {
        if self.busy.load(Ordering::SeqCst) {
            self.cancel.store(true, Ordering::SeqCst);
        } else {
            // Best effort, like a key press on a full buffer.
            try_queue(input, Input::Interrupt);
        }
    }

    pub(super) fn stop(&self, input: &InputSlot) {
        // Hung-up first: the session must not clear the cancel flag for a
        // queued command between the two stores.
        self.hung_up.store(true, Ordering::SeqCst);
        self.cancel.store(true, Ordering::SeqCst);
        close(input);
    }
}

/// Where a session's input comes from: the connection's queue, filled by
/// the connection itself when the session runs on a thread here. In a
/// process of its own the session pulls each input (`pull`): it asks the
/// server for one and reads it off its pipe itself, so that its pipe never
/// fills with input and a cancel behind it always gets through, and so
/// that no other thread has to wake to hand the input over.
pub(super) struct Inbox {
    pub(super) rx: tokio::sync::mpsc::Receiver<Input>,
    pub(super) pull: Option<Pull>,
}

/// Asks for the next input and waits for it; it may also come through the
/// queue, which is why the queue is lent.
pub(super) type Pull = Box<dyn FnMut(&mut tokio::sync::mpsc::Receiver<Input>) -> Input + Send>;

impl Inbox {
    pub(super) fn next(&mut self) -> Input {
        if let Some(input) = queued(&mut self.rx) {
            return input;
        }
        match &mut self.pull {
            Some(pull) => pull(&mut self.rx),
            None => self.rx.blocking_recv().unwrap_or(Input::Eof),
        }
    }
}

/// What the queue already holds, without waiting: the next input, or the
/// end of input once the queue is closed and empty.
pub(super) fn queued(rx: &mut tokio::sync::mpsc::Receiver<Input>) -> Option<Input> {
    match rx.try_recv() {
        Ok(input) => Some(input),
        Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => Some(Input::Eof),
        Err(tokio::sync::mpsc::error::TryRecvError::Empty) => None,
    }
}

/// The session's way out: text for a shell, JSON lines for the protocol.
pub struct Out {
    emit: Emit,
    gone: bool,
    pty: bool,
    json: bool,
    /// Protocol request whose output is being written.
    pub id: u64,
    bytes: usize,
    cap: usize,
    over: bool,
    cancel: Arc<AtomicBool>,
    /// A PSRP session's output: streams become messages.
    pub(super) psrp: Option<super::psrp::out::Target>,
}

impl Out {
    fn send(&mut self, ev: Ev) {
        if self.gone {
            return;
        }
        if !(self.emit)(ev) {
            self.gone = true;
            self.cancel.store(true, Ordering::SeqCst);
        }
    }

    /// Counts output against the command's cap; false once it is spent.
    fn budget(&mut self, n: usize) -> bool {
        if self.over {
            return false;
        }
        self.bytes = self.bytes.saturating_add(n);
        if self.bytes > self.cap {
            self.over = true;
            self.cancel.store(true, Ordering::SeqCst);
            let msg = format!(
                "The output of this command is larger than this session allows ({} bytes); the command was stopped.",
                self.cap
            );
            if self.psrp.is_some() {
                // The pipeline's failed state says so.
            } else if self.json {
                let line = protocol::error_line(self.id, &msg, "OutputLimitExceeded");
                self.send(Ev::Stdout(line));
            } else {
                let text = self.newlines(&format!("{msg}\n"));
                self.send(Ev::Stderr(text));
            }
            return false;
        }
        true
    }

    fn newlines(&self, text: &str) -> Vec<u8> {
        if self.pty {
            let mut out = Vec::with_capacity(text.len() + 8);
            let mut prev = 0u8;
            for &b in text.as_bytes() {
                if b == b'\n' && prev != b'\r' {
                    out.push(b'\r');
                }
                out.push(b);
                prev = b;
            }
            out
        } else {
            text.as_bytes().to_vec()
        }
    }

    /// Text that is not command output (prompts, echo): not counted.
    pub fn plain(&mut self, text: &str) {
        let bytes = self.newlines(text);
        self.send(Ev::Stdout(bytes));
    }

    /// A protocol line (JSON, newline-terminated), counted against the cap.
    pub fn line(&mut self, line: Vec<u8>) {
        if self.budget(line.len()) {
            self.send(Ev::Stdout(line));
        }
    }

    /// A protocol line that must get through (hello, final state).
    pub fn control(&mut self, line: Vec<u8>) {
        self.send(Ev::Stdout(line));
    }

    fn write(&mut self, stream: Stream, text: &str) {
        if text.is_empty() {
            return;
        }
        if let Some(t) = &mut self.psrp {
            let bytes = t.stream_text(stream, text);
            if !bytes.is_empty() {
                self.line(bytes);
            }
            return;
        }
        if self.json {
            let line = match stream {
                Stream::Error => {
                    protocol::error_line(self.id, text.trim_end_matches('\n'), "Error")
                }
                other => protocol::text_line(self.id, protocol::stream_name(other), text),
            };
            self.line(line);
            return;
        }
        if !self.budget(text.len()) {
            return;
        }
        let bytes = self.newlines(text);
        match stream {
            Stream::Error => self.send(Ev::Stderr(bytes)),
            _ => self.send(Ev::Stdout(bytes)),
        }
    }

    /// A new command starts: its output budget is fresh.
    fn reset(&mut self) {
        self.bytes = 0;
        self.over = false;
    }

    pub fn gone(&self) -> bool {
        self.gone
    }

    /// The running command was told to stop (Ctrl-C, a Signal, a hang-up).
    pub fn stopping(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    pub fn cap_hit(&self) -> bool {
        self.over
    }
}

/// Questions for the session's user that the client answers: a
/// PowerShell client's host does (Read-Host, confirmations); the other
/// kinds of session have no one to ask.
pub(super) trait Asker {
    fn read_line(&mut self, prompt: &str, secret: bool) -> Result<String, Unread>;
    fn confirm(&mut self, caption: &str, message: &str) -> Option<Choice>;
}

/// Where the session's [`Asker`] is put once the protocol is known.
pub(super) type AskerSlot = Rc<RefCell<Option<Box<dyn Asker>>>>;

/// The interpreter's host inside a remote session.
pub struct ChannelHost {
    out: Rc<RefCell<Out>>,
    /// Set per request: a text client formats at its terminal's width.
    width: Rc<Cell<usize>>,
    ask: AskerSlot,
}

impl Host for ChannelHost {
    fn write(&mut self, stream: Stream, text: &str) {
        self.out.borrow_mut().write(stream, text);
    }

    /// A protocol client gets the record's fields; a shell gets the text.
    fn write_error(&mut self, rec: &ErrorRecord) {
        let mut out = self.out.borrow_mut();
        if let Some(t) = &mut out.psrp {
            let bytes = t.error(rec);
            if !bytes.is_empty() {
                out.line(bytes);
            }
        } else if out.json {
            let line = protocol::error_record_line(out.id, rec);
            out.line(line);
        } else {
            out.write(Stream::Error, &format!("{}\n", rec.render_concise()));
        }
    }

    fn width(&self) -> usize {
        self.width.get()
    }

    fn read_line(&mut self, prompt: &str, secret: bool) -> Result<String, Unread> {
        match self.ask.borrow_mut().as_mut() {
            Some(a) => a.read_line(prompt, secret),
            None => Err(Unread::NoInput),
        }
    }

    fn confirm(&mut self, caption: &str, message: &str) -> Option<Choice> {
        self.ask.borrow_mut().as_mut()?.confirm(caption, message)
    }

    /// Only a PowerShell client has a progress bar to draw; a JSON client
    /// or a terminal session gets no progress, as from a non-interactive
    /// pwsh.
    fn progress(&mut self, p: &Progress) {
        let mut out = self.out.borrow_mut();
        if let Some(t) = &mut out.psrp {
            let bytes = t.progress(p);
            out.line(bytes);
        }
    }
}

/// A session from start to exit status. `command_cpu` is set in a session
/// process of its own: each command may use that much CPU time.
pub(super) fn session_main(
    cfg: SessionConfig,
    mode: Mode,
    emit: Emit,
    mut inbox: Inbox,
    shared: Arc<Shared>,
    command_cpu: Option<Duration>,
) {
    let (pty, json) = match &mode {
        Mode::Shell { pty } => (*pty, false),
        Mode::Protocol => (false, true),
        Mode::Exec(_) | Mode::Psrp => (false, false),
    };
    let out = Rc::new(RefCell::new(Out {
        emit,
        gone: false,
        pty,
        json,
        id: 0,
        bytes: 0,
        cap: cfg.limits.as_ref().map_or(usize::MAX, |l| l.max_output),
        over: false,
        cancel: shared.cancel.clone(),
        psrp: None,
    }));
    let width = Rc::new(Cell::new(DEFAULT_WIDTH));
    let ask = AskerSlot::default();
    let host = ChannelHost {
        out: out.clone(),
        width: width.clone(),
        ask: ask.clone(),
    };
    let mut it = Interp::new(Box::new(host));
    it.cancel = shared.cancel.clone();
    it.account = cfg.account.clone();
    it.store_path = Some(cfg.store.clone());
    it.set_global(
        "PSSenderInfo",
        crate::runtime::value::Value::from(cfg.account.as_str()),
    );
    if let Some(l) = &cfg.limits {
        it.limits = Limits {
            max_call_depth: 200,
            max_collect: l.max_collect,
            file_system: l.file_system || l.root.is_some(),
            root: l.root.clone(),
            halt_on_size: true,
            ..Limits::default()
        };
        super::confine::confine(&mut it, &cfg.account, l);
        crate::runtime::ops::set_limits(l.max_items, l.max_string);
    }
    let roles = match it.engine() {
        Ok(engine) => {
            // The counter first: a change after it is seen next time.
            let held = engine
                .roles_changed()
                .and_then(|_| crate::config::roles::roles_of(&engine, &cfg.account));
            // A read takes the store's write lock until its statement ends.
            // This read belongs to no statement: without ending it here the
            // idle session would hold the lock, and every other session and
            // login would wait on it.
            engine.rollback();
            match held {
                Ok(r) => r,
                Err(e) => {
                    fail(&out, &mode, &format!("The role store cannot be read: {e}"));
                    return;
                }
            }
        }
        Err(e) => {
            fail(&out, &mode, &e.message);
            return;
        }
    };
    if cfg.enforce_roles {
        if roles.is_empty() {
            fail(
                &out,
                &mode,
                &format!("The account '{}' holds no administrator role.", cfg.account),
            );
            return;
        }
        it.roles = Some(Rc::from(roles.clone()));
    }
    let mut run = Runner {
        it,
        out,
        width,
        ask,
        limits: cfg.limits.clone(),
        shared,
        snapshot: None,
        command_cpu,
    };
    let code = match mode {
        Mode::Exec(script) => run.exec(script),
        Mode::Shell { .. } => run.shell(&mut inbox),
        Mode::Protocol => run.protocol(&mut inbox, &cfg.account, &roles),
        Mode::Psrp => super::psrp::pool::serve(&mut run, inbox, &cfg.account),
    };
    run.out.borrow_mut().send(Ev::Exit(code));
}

fn fail(out: &Rc<RefCell<Out>>, mode: &Mode, msg: &str) {
    let mut o = out.borrow_mut();
    if matches!(mode, Mode::Psrp) {
        o.control(super::psrp::packets::fatal(msg));
    } else if matches!(mode, Mode::Protocol) {
        let line = protocol::error_line(0, msg, "SessionRefused");
        o.control(line);
    } else {
        let text = format!("{msg}\n");
        let bytes = o.newlines(&text);
        o.send(Ev::Stderr(bytes));
    }
    o.send(Ev::Exit(1));
}

pub(super) struct Runner {
    pub(super) it: Interp,
    pub(super) out: Rc<RefCell<Out>>,
    width: Rc<Cell<usize>>,
    pub(super) ask: AskerSlot,
    pub(super) limits: Option<RemoteLimits>,
    pub(super) shared: Arc<Shared>,
    /// What completion offers, built at the first `complete` request,
    /// with the roles its cmdlet list was built for.
    snapshot: Option<(Option<Rc<[String]>>, Snapshot)>,
    /// CPU time each command may use (a session process only).
    command_cpu: Option<Duration>,
}

impl Runner {
    /// Prepares a command: fresh cancel flag, deadline and output budget.
    /// After a hang-up the flag stays set, so a command that was queued
    /// before it stops at its first check.
    pub(super) fn start(&mut self) {
        let stop = self.shared.hung_up.load(Ordering::SeqCst);
        self.shared.cancel.store(stop, Ordering::SeqCst);
        self.shared.busy.store(true, Ordering::SeqCst);
        self.it.limits.deadline = self
            .limits
            .as_ref()
            .map(|l| Instant::now() + l.command_time);
        if let Some(cpu) = self.command_cpu {
            super::child::allow_cpu(cpu);
            // Only in a session's own process: there the interpreter's
            // thread is the session's alone, and lowering it slows no one else.
            self.it.limits.yield_cpu_after = Some(thread_cpu_time() + LONG_COMMAND);
        }
        self.out.borrow_mut().reset();
    }

    /// No more input will be run: the client is gone or hung up.
    pub(super) fn ended(&self) -> bool {
        self.out.borrow().gone() || self.shared.hung_up.load(Ordering::SeqCst)
    }

    pub(super) fn stop(&mut self) {
        self.shared.busy.store(false, Ordering::SeqCst);
        self.it.limits.deadline = None;
        self.it.limits.yield_cpu_after = None;
    }

    fn run(&mut self, text: String) -> Outcome {
        self.start();
        let src = Rc::new(Source::new(None, text));
        let outcome = self.it.run_text(src, Vec::new());
        self.stop();
        outcome
    }

    /// Whether request `id` was cancelled before it started (and forgets it).
    pub(super) fn take_cancelled(&self, id: u64) -> bool {
        self.shared
            .cancelled
            .lock()
            .map(|mut s| s.remove(&id))
            .unwrap_or(false)
    }

    /// Forgets a cancel for a request that will not run.
    pub(super) fn forget_cancel(&self, id: u64) {
        self.take_cancelled(id);
    }

    fn exec(&mut self, script: String) -> i32 {
        let outcome = self.run(script);
        outcome.exit_code(true)
    }

    fn prompt(&mut self, continuation: bool) {
        let p = if continuation { ">> " } else { "PS lyncsh> " };
        self.out.borrow_mut().plain(p);
    }

    fn shell(&mut self, inbox: &mut Inbox) -> i32 {
        let mut unfinished = Continuation::default();
        let mut last = 0;
        self.prompt(false);
        loop {
            if self.ended() {
                return last;
            }
            let input = inbox.next();
            match input {
                Input::Line(line) => {
                    let text = match unfinished.push(&line) {
                        Verdict::More => {
                            self.prompt(true);
                            continue;
                        }
                        Verdict::TooLong => {
                            let msg = format!("{}\n", continuation::too_long_message());
                            self.out.borrow_mut().write(Stream::Error, &msg);
                            self.prompt(false);
                            continue;
                        }
                        Verdict::Run(text) => text,
                    };
                    match self.run(text) {
                        Outcome::Exit(n) => return n,
                        o => last = o.exit_code(true),
                    }
                    self.prompt(false);
                }
                Input::Interrupt => {
                    unfinished.clear();
                    self.prompt(false);
                }
                Input::TooLong => {
                    unfinished.clear();
                    self.out.borrow_mut().write(
                        Stream::Error,
                        "The line is longer than this session accepts.\n",
                    );
                    self.prompt(false);
                }
                Input::Eof => {
                    if !unfinished.is_blank() {
                        let text = unfinished.take();
                        last = self.run(text).exit_code(true);
                    }
                    return last;
                }
                Input::Invoke(_)
                | Input::Complete { .. }
                | Input::Bad { .. }
                | Input::Refused { .. } => {}
            }
        }
    }

    fn protocol(&mut self, inbox: &mut Inbox, user: &str, roles: &[String]) -> i32 {
        let hello = protocol::hello_line(user, roles);
        self.out.borrow_mut().control(hello);
        self.it.registry.load_lync();
        loop {
            if self.ended() {
                return 0;
            }
            let input = inbox.next();
            match input {
                Input::Invoke(inv) => self.invoke(inv),
                Input::Complete { id, line, cursor } => {
                    // Roles are looked up again, as before a command: an
                    // account demoted meanwhile is offered only what it
                    // may still run. The cmdlet list is rebuilt whenever
                    // the roles differ from those it was built for;
                    // functions and variables are always taken in afresh.
                    self.it.refresh_roles();
                    if self
                        .snapshot
                        .as_ref()
                        .is_some_and(|(roles, _)| *roles != self.it.roles)
                    {
                        self.snapshot = None;
                    }
                    let (_, snap) = self.snapshot.get_or_insert_with(|| {
                        (self.it.roles.clone(), Snapshot::with_cmdlets(&self.it))
                    });
                    snap.refresh(&self.it);
                    let reply = protocol::complete(snap, id, &line, cursor);
                    let mut o = self.out.borrow_mut();
                    o.control(reply);
                    o.control(protocol::state_line(id, "completed", None));
                }
                Input::Refused { id } => {
                    let message = format!(
                        "Too many requests are waiting (more than {} MiB); this one was dropped.",
                        super::channel::MAX_PENDING >> 20
                    );
                    let mut o = self.out.borrow_mut();
                    o.control(protocol::error_line(id, &message, "Busy"));
                    if id != 0 {
                        o.control(protocol::state_line(id, "failed", None));
                    }
                }
                Input::Bad { id, message } => {
                    let mut o = self.out.borrow_mut();
                    o.control(protocol::error_line(
                        id.unwrap_or(0),
                        &message,
                        "BadRequest",
                    ));
                    if let Some(id) = id {
                        o.control(protocol::state_line(id, "failed", None));
                    }
                }
                Input::Eof => return 0,
                Input::Line(_) | Input::Interrupt | Input::TooLong => {}
            }
        }
    }

    fn invoke(&mut self, inv: Invocation) {
        let id = inv.id;
        let skipped = self
            .shared
            .cancelled
            .lock()
            .map(|mut s| s.remove(&id))
            .unwrap_or(false);
        if skipped {
            let line = protocol::state_line(id, "stopped", None);
            self.out.borrow_mut().control(line);
            return;
        }
        self.shared.running.store(id, Ordering::SeqCst);
        self.out.borrow_mut().id = id;
        self.start();
        let src = Rc::new(Source::new(None, inv.script));
        let args = cli_args(&inv.args);
        let outcome = match inv.render {
            Render::Objects => {
                let mut sink = protocol::ObjectSink {
                    out: self.out.clone(),
                };
                self.it.run_text_to(src, args, &mut sink)
            }
            Render::Text { width } => {
                self.width.set(width);
                let outcome = self.it.run_text(src, args);
                self.width.set(DEFAULT_WIDTH);
                outcome
            }
        };
        self.stop();
        self.shared.running.store(0, Ordering::SeqCst);
        let line = match outcome {
            Outcome::Completed { ok: true } => protocol::state_line(id, "completed", None),
            Outcome::Completed { ok: false } => protocol::state_line(id, "completed", Some(1)),
            Outcome::Exit(0) => protocol::exited_line(id, "completed", 0),
            Outcome::Exit(n) => protocol::exited_line(id, "failed", n),
            Outcome::Failed => protocol::state_line(id, "failed", Some(1)),
            Outcome::Stopped if self.out.borrow().cap_hit() => {
                protocol::state_line(id, "failed", Some(1))
            }
            Outcome::Stopped => protocol::state_line(id, "stopped", Some(130)),
        };
        let mut o = self.out.borrow_mut();
        o.control(line);
        o.id = 0;
    }
}
