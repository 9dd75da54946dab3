//! `lyncsh serve`: an SSH server (russh) whose sessions are lyncsh
//! sessions. Public-key authentication against an OpenSSH
//! `authorized_keys` file; the SSH user name is the account, and an account
//! with no administrator role in the store is refused at login. Each
//! session channel runs an interpreter on a thread of its own
//! ([`super::worker`]); all of them open the same store file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use russh::keys::ssh_key::{self, AuthorizedKeys, LineEnding};
use russh::keys::{Algorithm, PrivateKey};
use russh::server::{Auth, ChannelOpenHandle, Msg, Server as _, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, ChannelMsg, MethodKind, MethodSet};
use tokio::sync::mpsc;

use super::protocol;
use super::worker::{self, Ev, Input, Mode, RemoteLimits, SessionConfig, Worker};

/// Longest shell line accepted.
const MAX_SHELL_LINE: usize = 1 << 20;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: String,
    pub store: PathBuf,
    pub host_key: PathBuf,
    pub authorized_keys: PathBuf,
    pub limits: RemoteLimits,
    /// Directories that accounts may use (`*`: every account), when the
    /// file system as a whole is closed.
    pub directories: Vec<(String, PathBuf)>,
    /// Password logins against this file's salted hashes; `None`: off.
    pub passwords: Option<PathBuf>,
    /// Most session channels open at once.
    pub max_sessions: usize,
    /// A connection with no traffic for this long is closed.
    pub idle_timeout: Duration,
}

/// Loads the host key, or makes one (ed25519, mode 0600) on first start.
pub fn host_key(path: &Path) -> Result<PrivateKey, String> {
    if path.exists() {
        return russh::keys::load_secret_key(path, None)
            .map_err(|e| format!("cannot read the host key {}: {e}", path.display()));
    }
    let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
        .map_err(|e| format!("cannot make a host key: {e}"))?;
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| format!("cannot encode the host key: {e}"))?;
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    use std::io::Write;
    let mut f = opts
        .open(path)
        .map_err(|e| format!("cannot write the host key {}: {e}", path.display()))?;
    f.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write the host key {}: {e}", path.display()))?;
    Ok(key)
}

/// Is `key` listed in the authorized-keys file? Read on every attempt, so
/// edits apply without a restart.
fn authorized(path: &Path, key: &ssh_key::PublicKey) -> bool {
    match AuthorizedKeys::read_file(path) {
        Ok(entries) => entries
            .iter()
            .any(|e| e.public_key().key_data() == key.key_data()),
        Err(_) => false,
    }
}

/// Does the account hold any role in the store?
fn has_role(store: &Path, account: &str) -> bool {
    if crate::config::roles::check_member(account).is_err() {
        return false;
    }
    match crate::config::Engine::open(store, account) {
        Ok(engine) => crate::config::roles::roles_of(&engine, account).is_ok_and(|r| !r.is_empty()),
        Err(_) => false,
    }
}

struct Shared {
    opts: ServeOptions,
    sessions: AtomicUsize,
}

#[derive(Clone)]
struct Server {
    shared: Arc<Shared>,
}

impl russh::server::Server for Server {
    type Handler = Conn;

    fn new_client(&mut self, _peer: Option<SocketAddr>) -> Conn {
        Conn {
            shared: self.shared.clone(),
            user: None,
        }
    }
}

struct Conn {
    shared: Arc<Shared>,
    user: Option<String>,
}

/// Counts a session channel while it lives.
struct SessionSlot(Arc<Shared>);

impl Drop for SessionSlot {
    fn drop(&mut self) {
        self.0.sessions.fetch_sub(1, Ordering::SeqCst);
    }
}

impl russh::server::Handler for Conn {
    type Error = russh::Error;

    async fn auth_publickey_offered(
        &mut self,
        _user: &str,
        key: russh::server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        let path = self.shared.opts.authorized_keys.clone();
        let key = key.public_key.clone();
        let ok = tokio::task::spawn_blocking(move || authorized(&path, &key))
            .await
            .unwrap_or(false);
        Ok(if ok { Auth::Accept } else { Auth::reject() })
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let path = self.shared.opts.authorized_keys.clone();
        let store = self.shared.opts.store.clone();
        let key = key.public_key.clone();
        let account = user.to_string();
        let ok = tokio::task::spawn_blocking(move || {
            authorized(&path, &key) && has_role(&store, &account)
        })
        .await
        .unwrap_or(false);
        if ok {
            self.user = Some(user.to_string());
            Ok(Auth::Accept)
        } else {
            Ok(Auth::reject())
        }
    }

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        let Some(path) = self.shared.opts.passwords.clone() else {
            return Ok(Auth::reject());
        };
        let store = self.shared.opts.store.clone();
        let (account, password) = (user.to_string(), password.to_string());
        // Hashing is slow on purpose: off the async threads.
        let ok = tokio::task::spawn_blocking(move || {
            super::passwords::check(&path, &account, &password) && has_role(&store, &account)
        })
        .await
        .unwrap_or(false);
        if ok {
            self.user = Some(user.to_string());
            Ok(Auth::Accept)
        } else {
            Ok(Auth::reject())
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(user) = self.user.clone() else {
            return Ok(());
        };
        let n = self.shared.sessions.fetch_add(1, Ordering::SeqCst);
        let slot = SessionSlot(self.shared.clone());
        if n >= self.shared.opts.max_sessions {
            // Dropping `reply` refuses the channel.
            drop(slot);
            return Ok(());
        }
        reply.accept().await;
        tokio::spawn(run_channel(channel, self.shared.clone(), user, slot));
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _cols: u32,
        _rows: u32,
        _pw: u32,
        _ph: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if name == "lyncsh" {
            session.channel_success(channel)
        } else {
            session.channel_failure(channel)
        }
    }
}

/// How bytes from the client become session input.
enum Feed {
    /// Before a request, or exec: input is ignored.
    None,
    Lines {
        pty: bool,
        edit: LineEditor,
    },
    Protocol {
        buf: Vec<u8>,
        skipping: bool,
    },
}

/// The server side of a pty: echo, backspace, `\r`, Ctrl-C.
#[derive(Default)]
struct LineEditor {
    line: Vec<u8>,
    last_cr: bool,
    /// Inside an escape sequence (arrow keys): dropped.
    escape: u8,
    too_long: bool,
}

struct Live {
    worker: Worker,
}

async fn run_channel(channel: Channel<Msg>, shared: Arc<Shared>, user: String, _slot: SessionSlot) {
    let (mut rd, wr) = channel.split();
    let (tx, mut rx) = mpsc::channel::<Ev>(64);
    let writer = tokio::spawn(async move {
        let mut ended = false;
        while let Some(ev) = rx.recv().await {
            let r = match ev {
                Ev::Stdout(b) => wr.data_bytes(b).await,
                Ev::Stderr(b) => wr.extended_data_bytes(1, b).await,
                Ev::Exit(n) => {
                    // Exit status before close, or ssh loses it.
                    let _ = wr.exit_status(n.clamp(0, 255) as u32).await;
                    let _ = wr.eof().await;
                    let _ = wr.close().await;
                    ended = true;
                    break;
                }
            };
            if r.is_err() {
                break;
            }
        }
        if !ended {
            let _ = wr.close().await;
        }
    });
    let mut pty = false;
    let mut live: Option<Live> = None;
    let mut feed = Feed::None;
    while let Some(msg) = rd.wait().await {
        match msg {
            ChannelMsg::RequestPty { .. } => pty = true,
            ChannelMsg::Exec { command, .. } if live.is_none() => {
                let script = String::from_utf8_lossy(&command).into_owned();
                live = start(&shared, &user, Mode::Exec(script), &tx);
                if live.is_none() {
                    break;
                }
            }
            ChannelMsg::RequestShell { .. } if live.is_none() => {
                live = start(&shared, &user, Mode::Shell { pty }, &tx);
                feed = Feed::Lines {
                    pty,
                    edit: LineEditor::default(),
                };
                if live.is_none() {
                    break;
                }
            }
            ChannelMsg::RequestSubsystem { name, .. } if live.is_none() => {
                if name != "lyncsh" {
                    let _ = tx.send(Ev::Exit(127)).await;
                    break;
                }
                live = start(&shared, &user, Mode::Protocol, &tx);
                feed = Feed::Protocol {
                    buf: Vec::new(),
                    skipping: false,
                };
                if live.is_none() {
                    break;
                }
            }
            ChannelMsg::Data { data } => {
                if let Some(l) = &mut live {
                    on_data(&mut feed, &data, &mut l.worker, &tx);
                }
            }
            ChannelMsg::Eof => {
                if let Some(l) = &mut live {
                    l.worker.close_input();
                }
            }
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    // The channel is gone: stop what runs and let the thread end.
    if let Some(l) = live {
        l.worker.hang_up();
    }
    drop(tx);
    let _ = writer.await;
}

fn start(shared: &Arc<Shared>, user: &str, mode: Mode, tx: &mpsc::Sender<Ev>) -> Option<Live> {
    let cfg = SessionConfig {
        store: shared.opts.store.clone(),
        account: user.to_string(),
        enforce_roles: true,
        limits: Some(limits_for(&shared.opts, user)),
    };
    let sender = tx.clone();
    let emit: worker::Emit = Box::new(move |ev| sender.blocking_send(ev).is_ok());
    match worker::spawn(cfg, mode, emit) {
        Ok(worker) => Some(Live { worker }),
        Err(e) => {
            let _ = tx.try_send(Ev::Stderr(
                format!("lyncsh: cannot start a session: {e}\n").into_bytes(),
            ));
            let _ = tx.try_send(Ev::Exit(1));
            None
        }
    }
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

fn on_data(feed: &mut Feed, data: &[u8], worker: &mut Worker, tx: &mpsc::Sender<Ev>) {
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
        Feed::Lines { pty, edit } => {
            let mut echo = Vec::new();
            for &b in data {
                edit_byte(edit, *pty, b, worker, &mut echo);
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

fn send_line(edit: &mut LineEditor, worker: &Worker) {
    let input = if edit.too_long {
        Input::TooLong
    } else {
        Input::Line(String::from_utf8_lossy(&edit.line).into_owned())
    };
    edit.line.clear();
    edit.too_long = false;
    // A full queue drops the line, like typing ahead into a busy terminal.
    let _ = worker.send(input);
}

fn edit_byte(edit: &mut LineEditor, pty: bool, b: u8, worker: &mut Worker, echo: &mut Vec<u8>) {
    let was_cr = std::mem::replace(&mut edit.last_cr, false);
    if !pty {
        match b {
            b'\n' => send_line(edit, worker),
            _ => push(edit, b),
        }
        return;
    }
    if edit.escape > 0 {
        // ESC [ params final: drop until the final byte.
        if edit.escape == 1 && b != b'[' && b != b'O' {
            edit.escape = 0;
        } else if edit.escape == 1 {
            edit.escape = 2;
        } else if (0x40..=0x7e).contains(&b) {
            edit.escape = 0;
        }
        return;
    }
    match b {
        b'\r' => {
            edit.last_cr = true;
            echo.extend_from_slice(b"\r\n");
            send_line(edit, worker);
        }
        b'\n' if was_cr => {}
        b'\n' => {
            echo.extend_from_slice(b"\r\n");
            send_line(edit, worker);
        }
        0x03 => {
            if worker.busy.load(Ordering::SeqCst) {
                worker.cancel.store(true, Ordering::SeqCst);
                echo.extend_from_slice(b"^C\r\n");
            } else {
                edit.line.clear();
                edit.too_long = false;
                echo.extend_from_slice(b"^C\r\n");
                let _ = worker.send(Input::Interrupt);
            }
        }
        0x04 if edit.line.is_empty() => worker.close_input(),
        0x7f | 0x08 => {
            // Drop one character (all its UTF-8 bytes).
            let mut popped = false;
            while let Some(c) = edit.line.pop() {
                popped = true;
                if c & 0xc0 != 0x80 {
                    break;
                }
            }
            if popped {
                echo.extend_from_slice(b"\x08 \x08");
            }
        }
        0x1b => edit.escape = 1,
        b'\t' | 0x20.. => {
            push(edit, b);
            echo.push(b);
        }
        _ => {}
    }
}

fn push(edit: &mut LineEditor, b: u8) {
    if edit.line.len() >= MAX_SHELL_LINE {
        edit.too_long = true;
        return;
    }
    edit.line.push(b);
}

/// Runs the server until it fails; prints `listening on ADDR` first.
pub fn serve(opts: ServeOptions) -> i32 {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lyncsh serve: cannot start: {e}");
            return 70;
        }
    };
    match rt.block_on(run(opts)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("lyncsh serve: {e}");
            1
        }
    }
}

async fn run(opts: ServeOptions) -> Result<(), String> {
    let key = host_key(&opts.host_key)?;
    if !opts.authorized_keys.exists() {
        eprintln!(
            "lyncsh serve: warning: {} does not exist; no key can log in",
            opts.authorized_keys.display()
        );
    }
    // Open (and create) the store once, so a bad path fails now.
    crate::config::Engine::open(&opts.store, "lyncsh-serve")
        .map_err(|e| format!("cannot open the store {}: {e}", opts.store.display()))?;
    let methods: &[MethodKind] = match &opts.passwords {
        Some(path) => {
            // Checked now, so a plain-text or broken file stops the start.
            let n = super::passwords::load(path).map_err(|e| e.to_string())?;
            eprintln!(
                "lyncsh serve: password logins on for {} account(s) in {}",
                n.len(),
                path.display()
            );
            &[MethodKind::PublicKey, MethodKind::Password]
        }
        None => &[MethodKind::PublicKey],
    };
    let config = russh::server::Config {
        methods: MethodSet::from(methods),
        auth_rejection_time: Duration::from_millis(300),
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![key],
        inactivity_timeout: Some(opts.idle_timeout),
        nodelay: true,
        ..Default::default()
    };
    let listener = tokio::net::TcpListener::bind(&opts.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
    println!("listening on {addr}");
    {
        use std::io::Write;
        let _ = std::io::stdout().flush();
    }
    let mut server = Server {
        shared: Arc::new(Shared {
            opts,
            sessions: AtomicUsize::new(0),
        }),
    };
    server
        .run_on_socket(Arc::new(config), &listener)
        .await
        .map_err(|e| e.to_string())
}
