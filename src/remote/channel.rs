//! One session channel of `lyncsh serve`: the request that starts it
//! (exec, shell with or without a pty, the `lyncsh` subsystem), the
//! client's bytes turned into session input (a shell's line editor, the
//! protocol's request lines), and the session's output written back with
//! its exit status.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use russh::server::Msg;
use russh::{Channel, ChannelMsg, ChannelWriteHalf};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::frames;
use super::line_editor::{Event, LineEditor};
use super::protocol;
use super::psrp;
use super::server::{Login, ServeOptions, SessionGuard, SessionSlot, Shared};
use super::worker::{self, Ev, Input, Mode, Outlet, RemoteLimits, SessionConfig, Worker};

/// How long a closed channel's writer may take to pass on what is queued.
const WRITER_GRACE: Duration = Duration::from_secs(2);

/// Most bytes of input the connection holds for a session that has not
/// taken them yet (a piped script ahead of the session, queued protocol
/// requests). The connection must keep reading the client whatever the
/// session does: the client's window adjustments travel on the same
/// connection, and a session waiting for window space cannot take input.
/// So input is held here, up to this bound, instead of left unread.
pub const MAX_PENDING: usize = 16 << 20;
/// Refused requests whose answers may wait at once.
const MAX_REFUSED: usize = 1 << 16;

/// How bytes from the client become session input.
enum Feed {
    /// Before a request, or exec: input is ignored.
    None,
    Lines(LineEditor),
    Protocol {
        buf: Vec<u8>,
        skipping: bool,
    },
    /// PSRP packet lines (the `powershell` subsystem).
    Psrp {
        buf: Vec<u8>,
        skipping: bool,
    },
}

/// A started session: its thread, and the task that passes its output on.
struct Live {
    worker: Worker,
    tx: mpsc::Sender<Ev>,
    writer: JoinHandle<()>,
}

/// Input read from the client that the session has not taken yet, in
/// order, with its size.
#[derive(Default)]
struct Pending {
    inputs: VecDeque<(Input, usize)>,
    bytes: usize,
    /// Ids of requests refused because the queue was full. Their answers
    /// go through the session like any other, so none is lost to a full
    /// output queue; they are handed over before what is still waiting.
    refused: VecDeque<u64>,
    /// The client sent EOF: the session's input closes once this is empty.
    eof: bool,
    /// The shell's input overflowed: what follows is dropped.
    dropped: bool,
}

impl Pending {
    /// Holds `input`; false when that would pass [`MAX_PENDING`].
    fn push(&mut self, input: Input) -> bool {
        let size = input_size(&input);
        if self.bytes + size > MAX_PENDING {
            return false;
        }
        self.bytes += size;
        self.inputs.push_back((input, size));
        true
    }

    /// Remembers that request `id` was refused; false when the client
    /// already has more refusals unanswered than [`MAX_REFUSED`].
    fn refuse(&mut self, id: u64) -> bool {
        if self.refused.len() >= MAX_REFUSED {
            return false;
        }
        self.refused.push_back(id);
        true
    }

    fn pop(&mut self) -> Option<Input> {
        if let Some(id) = self.refused.pop_front() {
            return Some(Input::Refused { id });
        }
        let (input, size) = self.inputs.pop_front()?;
        self.bytes -= size;
        Some(input)
    }

    fn is_empty(&self) -> bool {
        self.inputs.is_empty() && self.refused.is_empty()
    }

    fn clear(&mut self) {
        self.inputs.clear();
        self.refused.clear();
        self.bytes = 0;
    }
}

/// What an input costs to hold: its text and its place in the queue (so
/// that a flood of empty lines is bounded too).
fn input_size(input: &Input) -> usize {
    let text = match input {
        Input::Line(l) => l.len(),
        Input::Invoke(inv) => {
            inv.script.len()
                + inv
                    .args
                    .iter()
                    .map(|a| a.len() + std::mem::size_of::<String>())
                    .sum::<usize>()
        }
        Input::Complete { line, .. } => line.len(),
        Input::Bad { message, .. } => message.len(),
        Input::Interrupt | Input::TooLong | Input::Eof | Input::Refused { .. } => 0,
    };
    text + std::mem::size_of::<(Input, usize)>()
}

pub(super) async fn run_channel(
    channel: Channel<Msg>,
    shared: Arc<Shared>,
    login: Login,
    slot: Result<SessionSlot, String>,
) {
    let (mut rd, wr) = channel.split();
    // Until a session starts, the channel is written here; then by its writer.
    let mut wr = Some(wr);
    // Until a session starts, the channel holds the slot; then the session.
    let mut slot = Some(slot);
    let mut pty = false;
    let mut live: Option<Live> = None;
    let mut feed = Feed::None;
    let mut pending = Pending::default();
    loop {
        let msg = tokio::select! {
            msg = rd.wait() => match msg {
                Some(msg) => msg,
                None => break,
            },
            permit = room(&live), if !pending.is_empty() => {
                match (permit, pending.pop()) {
                    (Some(permit), Some(input)) => {
                        permit.send(input);
                    }
                    // The session has ended: nobody takes the rest.
                    _ => pending.clear(),
                }
                close_if_done(&mut pending, &mut live);
                continue;
            }
        };
        let mode = match msg {
            ChannelMsg::RequestPty { .. } => {
                // `no-pty` on the key: the request was refused.
                pty = !login.grant.no_pty;
                continue;
            }
            ChannelMsg::Exec { command, .. } if wr.is_some() => {
                Mode::Exec(String::from_utf8_lossy(&command).into_owned())
            }
            ChannelMsg::RequestShell { .. } if wr.is_some() => {
                feed = Feed::Lines(LineEditor::new(pty));
                Mode::Shell { pty }
            }
            ChannelMsg::RequestSubsystem { name, .. } if wr.is_some() && name == "powershell" => {
                feed = Feed::Psrp {
                    buf: Vec::new(),
                    skipping: false,
                };
                Mode::Psrp
            }
            ChannelMsg::RequestSubsystem { name, .. } if wr.is_some() => {
                if name != "lyncsh" {
                    if let Some(w) = wr.take() {
                        refuse(w, None, 127).await;
                    }
                    break;
                }
                feed = Feed::Protocol {
                    buf: Vec::new(),
                    skipping: false,
                };
                Mode::Protocol
            }
            ChannelMsg::Data { data } => {
                if let Some(l) = &mut live {
                    on_data(&mut feed, &data, l, &mut pending);
                }
                close_if_done(&mut pending, &mut live);
                continue;
            }
            ChannelMsg::Eof => {
                pending.eof = true;
                close_if_done(&mut pending, &mut live);
                continue;
            }
            ChannelMsg::Close => break,
            _ => continue,
        };
        // One session per channel: later requests fell to `continue`.
        let (Some(w), Some(slot)) = (wr.take(), slot.take()) else {
            continue;
        };
        let started = match slot {
            Ok(slot) => start_session(&shared, &login.account, mode, w, slot),
            Err(why) => Err((w, why)),
        };
        match started {
            Ok(l) => live = Some(l),
            Err((w, why)) => {
                refuse(w, Some(&why), 1).await;
                break;
            }
        }
    }
    let Some(Live {
        worker,
        tx,
        mut writer,
    }) = live
    else {
        return;
    };
    // The channel is gone: dropping the handle stops what runs and lets
    // the thread end.
    drop(worker);
    drop(tx);
    // If the client stopped reading before it vanished, the writer waits
    // for window space that never comes (russh does not wake it when the
    // connection dies) and the session thread blocks behind it. So the
    // wait is bounded, and aborting the writer makes the thread's next
    // output fail, which ends it.
    if tokio::time::timeout(WRITER_GRACE, &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
}

/// Room for one input in the session's queue; `None` when there is no
/// session or it has ended. Cancel-safe, so the connection can read the
/// client while it waits.
async fn room(live: &Option<Live>) -> Option<tokio::sync::mpsc::OwnedPermit<Input>> {
    match live {
        Some(l) => l.worker.reserve().await,
        None => None,
    }
}

/// After the client's EOF, the session's input closes once everything
/// held for it has been handed over.
fn close_if_done(pending: &mut Pending, live: &mut Option<Live>) {
    if pending.eof
        && pending.is_empty()
        && let Some(l) = live
    {
        l.worker.close_input();
    }
}

/// Answers a channel that gets no session: why on stderr, then the exit
/// status and close.
async fn refuse(wr: ChannelWriteHalf<Msg>, why: Option<&str>, code: u32) {
    if let Some(why) = why {
        let _ = wr
            .extended_data_bytes(1, format!("lyncsh: {why}\n").into_bytes())
            .await;
    }
    finish(&wr, code).await;
}

/// Ends a channel with an exit status.
async fn finish(wr: &ChannelWriteHalf<Msg>, code: u32) {
    // Exit status before close, or ssh loses it.
    let _ = wr.exit_status(code).await;
    let _ = wr.eof().await;
    let _ = wr.close().await;
}

/// Passes a session's output to its channel until the session ends.
async fn write_out(
    wr: ChannelWriteHalf<Msg>,
    mut rx: mpsc::Receiver<Ev>,
    guard: Arc<SessionGuard>,
) {
    let mut next = None;
    loop {
        let ev = match next.take() {
            Some(ev) => ev,
            None => match rx.recv().await {
                Some(ev) => ev,
                None => break,
            },
        };
        let r = match ev {
            Ev::Stdout(mut b) => {
                // Output already queued behind this goes in the same
                // message: fewer packets for the client to wake up to.
                while b.len() < frames::CHUNK {
                    match rx.try_recv() {
                        Ok(Ev::Stdout(more)) => b.extend_from_slice(&more),
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                wr.data_bytes(b).await
            }
            Ev::Stderr(b) => wr.extended_data_bytes(1, b).await,
            Ev::Exit(n) => {
                guard.release_slot();
                finish(&wr, n.clamp(0, 255) as u32).await;
                return;
            }
        };
        if r.is_err() {
            break;
        }
    }
    let _ = wr.close().await;
}

/// Starts the session thread and its writer; on refusal, hands the
/// channel back with the reason.
fn start_session(
    shared: &Arc<Shared>,
    user: &str,
    mode: Mode,
    wr: ChannelWriteHalf<Msg>,
    slot: SessionSlot,
) -> Result<Live, (ChannelWriteHalf<Msg>, String)> {
    // Listed before it exists, so a shutdown that begins now still waits
    // for it; refused once shutdown has begun.
    let mut serial = None;
    shared.sessions.send_if_modified(|t| {
        if t.closing {
            return false;
        }
        serial = Some(t.next);
        t.live.insert(t.next, None);
        t.next += 1;
        true
    });
    let Some(serial) = serial else {
        return Err((wr, "the server is shutting down".into()));
    };
    // Shared by the session and the writer: the session is over for
    // shutdown once both are, so its last words reach the client before
    // the connection is closed.
    let guard = Arc::new(SessionGuard {
        shared: shared.clone(),
        serial,
        slot: std::sync::Mutex::new(Some(slot)),
    });
    let cfg = SessionConfig {
        store: shared.opts.store.clone(),
        account: user.to_string(),
        enforce_roles: true,
        limits: Some(limits_for(&shared.opts, user)),
    };
    let (tx, rx) = mpsc::channel::<Ev>(64);
    let out = Outlet {
        tx: tx.clone(),
        keep: Some(guard.clone()),
    };
    let worker = match worker::spawn(cfg, mode, out) {
        Ok(w) => w,
        Err(e) => return Err((wr, format!("cannot start a session: {e}"))),
    };
    let stop = worker.stopper();
    shared.sessions.send_modify(|t| {
        // Shutdown may have swept the list while the thread started.
        if t.closing {
            stop.stop();
        }
        if let Some(slot) = t.live.get_mut(&serial) {
            *slot = Some(stop);
        }
    });
    let writer = tokio::spawn(write_out(wr, rx, guard));
    Ok(Live { worker, tx, writer })
}

/// The account's limits: the server's, with the directory the account may
/// use (its own entry first, else `*`'s).
fn limits_for(opts: &ServeOptions, account: &str) -> RemoteLimits {
    let mut limits = opts.limits.clone();
    if !limits.file_system {
        limits.root = super::directories::for_account(&opts.directories, account);
    }
    limits
}

/// Turns the client's bytes into session input, held in `pending`.
fn on_data(feed: &mut Feed, data: &[u8], live: &mut Live, pending: &mut Pending) {
    match feed {
        Feed::None => {}
        Feed::Protocol { buf, skipping } => {
            for chunk in data.split_inclusive(|&b| b == b'\n') {
                let ends = chunk.last() == Some(&b'\n');
                if !*skipping {
                    if buf.len() + chunk.len() > protocol::MAX_LINE {
                        *skipping = true;
                        buf.clear();
                    } else {
                        buf.extend_from_slice(chunk);
                    }
                }
                if ends {
                    let input = if *skipping {
                        Some(Input::Bad {
                            id: None,
                            message: "The request line is longer than this session accepts.".into(),
                        })
                    } else {
                        let line = protocol::trim_eol(buf);
                        if line.iter().all(u8::is_ascii_whitespace) {
                            None
                        } else {
                            protocol::to_input(&live.worker, line)
                        }
                    };
                    if let Some(input) = input {
                        let id = request_id(&input);
                        if !pending.push(input) && !pending.refuse(id) {
                            // Tens of thousands of refusals nobody reads:
                            // the client is not using the protocol.
                            flooded(live, pending);
                            return;
                        }
                    }
                    buf.clear();
                    *skipping = false;
                }
            }
        }
        Feed::Psrp { buf, skipping } => {
            if pending.dropped {
                return;
            }
            for chunk in data.split_inclusive(|&b| b == b'\n') {
                let ends = chunk.last() == Some(&b'\n');
                if !*skipping {
                    if buf.len() + chunk.len() > psrp::packets::MAX_LINE {
                        *skipping = true;
                        buf.clear();
                    } else {
                        buf.extend_from_slice(chunk);
                    }
                }
                if ends {
                    let input = if *skipping {
                        Some(Input::TooLong)
                    } else {
                        psrp_line(&live.worker, protocol::trim_eol(buf))
                    };
                    buf.clear();
                    *skipping = false;
                    if let Some(input) = input
                        && !pending.push(input)
                    {
                        overflow(live, pending, psrp::packets::fatal(&too_much()));
                        return;
                    }
                }
            }
        }
        Feed::Lines(edit) => {
            let mut echo = Vec::new();
            for &b in data {
                if let Some(ev) = edit.feed(b, &mut echo) {
                    to_shell(ev, live, pending);
                }
            }
            if !echo.is_empty() {
                // Echo is best effort: never block the connection on it.
                let _ = live.tx.try_send(Ev::Stdout(echo));
            }
        }
    }
}

/// A PSRP packet line as session input; a `Signal` also stops its
/// pipeline at once, as the session cannot read it while it runs.
pub(super) fn psrp_line(worker: &Worker, line: &[u8]) -> Option<Input> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let text = String::from_utf8_lossy(line).into_owned();
    if text.trim_start().starts_with("<Signal")
        && let Ok(psrp::packets::Packet::Signal(g)) = psrp::packets::parse(&text)
    {
        worker.cancel_request(Some(psrp::pool::signal_id(g)));
    }
    Some(Input::Line(text))
}

fn too_much() -> String {
    format!(
        "The input arrived faster than the session ran it and more than {} MiB of it is waiting; the rest of the input is dropped and the session ends.",
        MAX_PENDING >> 20
    )
}

/// The client sent more than the session may hold: it is told why and the
/// session ends.
fn overflow(live: &mut Live, pending: &mut Pending, said: Vec<u8>) {
    pending.dropped = true;
    pending.clear();
    let _ = live.tx.try_send(Ev::Stdout(said));
    let _ = live.tx.try_send(Ev::Exit(1));
    live.worker.stopper().stop();
}

fn request_id(input: &Input) -> u64 {
    match input {
        Input::Invoke(inv) => inv.id,
        Input::Complete { id, .. } => *id,
        Input::Bad { id, .. } => id.unwrap_or(0),
        _ => 0,
    }
}

/// A client that keeps sending while ignoring refusals: what waits is
/// dropped and the session is ended, saying why.
fn flooded(live: &mut Live, pending: &mut Pending) {
    pending.clear();
    let msg = format!(
        "More than {MAX_REFUSED} requests were refused and still unanswered; the session ends.\n"
    );
    let _ = live.tx.try_send(Ev::Stderr(msg.into_bytes()));
    live.worker.stopper().stop();
}

/// What a shell's line editor produced, held for its session.
fn to_shell(ev: Event, live: &mut Live, pending: &mut Pending) {
    if pending.dropped {
        return;
    }
    let input = match ev {
        Event::Line(line) => Input::Line(line),
        Event::TooLong => Input::TooLong,
        // Ctrl-C stops a running command; at the prompt it drops a
        // half-typed continuation.
        Event::Interrupt => {
            live.worker.interrupt();
            return;
        }
        Event::Eof => {
            pending.eof = true;
            return;
        }
    };
    // Lines of a piped script wait here while the session is busy; past
    // the bound the script cannot be run whole, so none of the rest is.
    if !pending.push(input) {
        pending.dropped = true;
        pending.clear();
        let msg = format!(
            "The input arrived faster than the session ran it and more than {} MiB of it is waiting; the rest of the input is dropped and the session ends.\n",
            MAX_PENDING >> 20
        );
        let _ = live.tx.try_send(Ev::Stderr(msg.into_bytes()));
        let _ = live.tx.try_send(Ev::Exit(1));
        live.worker.stopper().stop();
    }
}
