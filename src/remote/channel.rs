//! One session channel of `lyncsh serve`: the request that starts it
//! (exec, shell with or without a pty, the `lyncsh` subsystem), the
//! client's bytes turned into session input (a shell's line editor, the
//! protocol's request lines), and the session's output written back with
//! its exit status.

use std::sync::Arc;
use std::time::Duration;

use russh::server::Msg;
use russh::{Channel, ChannelMsg, ChannelWriteHalf};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::line_editor::{Event, LineEditor};
use super::protocol;
use super::server::{ServeOptions, SessionGuard, SessionSlot, Shared};
use super::worker::{self, Ev, Input, Mode, RemoteLimits, SessionConfig, Worker};

/// How long a closed channel's writer may take to pass on what is queued.
const WRITER_GRACE: Duration = Duration::from_secs(2);

/// How bytes from the client become session input.
enum Feed {
    /// Before a request, or exec: input is ignored.
    None,
    Lines(LineEditor),
    Protocol {
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

pub(super) async fn run_channel(
    channel: Channel<Msg>,
    shared: Arc<Shared>,
    user: String,
    _slot: SessionSlot,
) {
    let (mut rd, wr) = channel.split();
    // Until a session starts, the channel is written here; then by its writer.
    let mut wr = Some(wr);
    let mut pty = false;
    let mut live: Option<Live> = None;
    let mut feed = Feed::None;
    while let Some(msg) = rd.wait().await {
        let mode = match msg {
            ChannelMsg::RequestPty { .. } => {
                pty = true;
                continue;
            }
            ChannelMsg::Exec { command, .. } if wr.is_some() => {
                Mode::Exec(String::from_utf8_lossy(&command).into_owned())
            }
            ChannelMsg::RequestShell { .. } if wr.is_some() => {
                feed = Feed::Lines(LineEditor::new(pty));
                Mode::Shell { pty }
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
                    on_data(&mut feed, &data, &mut l.worker, &l.tx).await;
                }
                continue;
            }
            ChannelMsg::Eof => {
                if let Some(l) = &mut live {
                    l.worker.close_input();
                }
                continue;
            }
            ChannelMsg::Close => break,
            _ => continue,
        };
        // One session per channel: later requests fell to `continue`.
        let Some(w) = wr.take() else { continue };
        match start_session(&shared, &user, mode, w) {
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
    _guard: Arc<SessionGuard>,
) {
    while let Some(ev) = rx.recv().await {
        let r = match ev {
            Ev::Stdout(b) => wr.data_bytes(b).await,
            Ev::Stderr(b) => wr.extended_data_bytes(1, b).await,
            Ev::Exit(n) => {
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
    // Shared by the thread and the writer: the session is over for
    // shutdown once both are, so its last words reach the client before
    // the connection is closed.
    let guard = Arc::new(SessionGuard {
        shared: shared.clone(),
        serial,
    });
    let cfg = SessionConfig {
        store: shared.opts.store.clone(),
        account: user.to_string(),
        enforce_roles: true,
        limits: Some(limits_for(&shared.opts, user)),
    };
    let (tx, rx) = mpsc::channel::<Ev>(64);
    let sender = tx.clone();
    let thread_guard = guard.clone();
    let emit: worker::Emit = Box::new(move |ev| {
        // The thread owns this callback until it ends, and the guard with it.
        let _alive = &thread_guard;
        sender.blocking_send(ev).is_ok()
    });
    let worker = match worker::spawn(cfg, mode, emit) {
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
        let dir = |who: &str| {
            opts.directories
                .iter()
                .find(|(a, _)| a.eq_ignore_ascii_case(who))
                .map(|(_, d)| d.clone())
        };
        limits.root = dir(account).or_else(|| dir("*"));
    }
    limits
}

async fn on_data(feed: &mut Feed, data: &[u8], worker: &mut Worker, tx: &mpsc::Sender<Ev>) {
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
                    if *skipping {
                        let bad = Input::Bad {
                            id: None,
                            message: "The request line is longer than this session accepts.".into(),
                        };
                        if !worker.send(bad) {
                            busy(tx);
                        }
                    } else {
                        let line = protocol::trim_eol(buf);
                        if !line.iter().all(u8::is_ascii_whitespace)
                            && !protocol::dispatch(worker, line, false)
                        {
                            busy(tx);
                        }
                    }
                    buf.clear();
                    *skipping = false;
                }
            }
        }
        Feed::Lines(edit) => {
            let mut echo = Vec::new();
            for &b in data {
                if let Some(ev) = edit.feed(b, &mut echo) {
                    to_shell(ev, worker).await;
                }
            }
            if !echo.is_empty() {
                // Echo is best effort: never block the connection on it.
                let _ = tx.try_send(Ev::Stdout(echo));
            }
        }
    }
}

/// The session's queue is full: the request is refused.
fn busy(tx: &mpsc::Sender<Ev>) {
    let line = protocol::error_line(
        0,
        "Too many requests are queued; this one was dropped.",
        "Busy",
    );
    let _ = tx.try_send(Ev::Stdout(line));
}

/// What a shell's line editor produced, handed to its session.
async fn to_shell(ev: Event, worker: &mut Worker) {
    let input = match ev {
        Event::Line(line) => Input::Line(line),
        Event::TooLong => Input::TooLong,
        // Ctrl-C stops a running command; at the prompt it drops a
        // half-typed continuation.
        Event::Interrupt => {
            worker.interrupt();
            return;
        }
        Event::Eof => {
            worker.close_input();
            return;
        }
    };
    // Waits while the session is busy: lines of a piped script are held
    // back (and the client with them, through the channel's window), not
    // dropped.
    worker.send_waiting(input).await;
}
