//! `lyncsh serve`: an SSH server (russh) whose sessions are lyncsh
//! sessions. Public-key authentication against the account's own OpenSSH
//! `authorized_keys` file ([`super::authorized_keys`]; passwords only when a
//! hash file is configured, [`super::passwords`]); the SSH user name is the
//! account, and an account with no administrator role in the store is
//! refused at login. Sessions are capped in all and per account, with a
//! reserve that only CsAdministrator accounts may use, and a connection
//! ends when its lifetime is over, however busy it keeps. Each
//! session channel (`remote::channel`) runs an interpreter on a thread of
//! its own ([`super::worker`]); all of them open the same store file.
//!
//! [`start`] runs the server inside the caller's tokio runtime and returns
//! a [`Running`] handle (tests and benchmarks use it); [`serve`] is
//! `lyncsh serve`, which runs it until SIGINT or SIGTERM. Both stop the
//! same way ([`Running::shutdown`]): no new connections, every running
//! command cancelled, session threads awaited for a bounded time, then the
//! connections closed. Each statement commits on its own, so a command
//! stopped half-way leaves the store as its last finished statement left it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use russh::keys::ssh_key::{self, LineEnding};
use russh::keys::{Algorithm, PrivateKey};
use russh::server::{Auth, ChannelOpenHandle, Msg, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, Disconnect, MethodKind, MethodSet};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use super::authorized_keys::{Grant, KeysPath, KeysPathError};
use super::channel::run_channel;
use super::worker::{RemoteLimits, Stopper};

/// How long shutdown waits for session threads to end after cancelling
/// their commands; the interpreter checks the cancel flag often, so only a
/// command stuck outside it (a slow store write) takes longer.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How long shutdown waits for connections (and the session threads they
/// unblock) to end after saying goodbye.
const DISCONNECT_GRACE: Duration = Duration::from_secs(3);

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: String,
    pub store: PathBuf,
    pub host_key: PathBuf,
    /// The authorized_keys file of each account: a path with sshd's `%u`
    /// token for the account name.
    pub authorized_keys: PathBuf,
    pub limits: RemoteLimits,
    /// Directories that accounts may use (`*`: every account), when the
    /// file system as a whole is closed.
    pub directories: Vec<(String, PathBuf)>,
    /// Password logins against this file's salted hashes; `None`: off.
    pub passwords: Option<PathBuf>,
    /// Most session channels open at once.
    pub max_sessions: usize,
    /// Most session channels one account may have open at once.
    pub max_sessions_per_account: usize,
    /// Of `max_sessions`, how many only CsAdministrator accounts may take,
    /// so that an administrator can always get in.
    pub admin_reserve: usize,
    /// A connection with no traffic for this long is closed.
    pub idle_timeout: Duration,
    /// A connection is closed this long after it was accepted, whatever it
    /// does (keep-alives reset the idle timeout, not this).
    pub session_lifetime: Duration,
}

/// Why the server could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot read the host key {}: {source}", path.display())]
    ReadHostKey {
        path: PathBuf,
        source: russh::keys::Error,
    },
    #[error("cannot make a host key: {0}")]
    MakeHostKey(ssh_key::Error),
    #[error("cannot write {}: {source}", path.display())]
    WriteHostKey {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the store {}: {source}", path.display())]
    Store {
        path: PathBuf,
        source: crate::config::engine::EngineError,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot start: {0}")]
    Runtime(std::io::Error),
    #[error(transparent)]
    Passwords(#[from] super::passwords::PasswordError),
    #[error(transparent)]
    KeysPath(#[from] KeysPathError),
    #[error("{count} session(s) still running {grace:?} after their commands were cancelled")]
    Lingering { count: usize, grace: Duration },
}

/// Loads the host key, or makes one (ed25519, mode 0600) on first start.
pub fn host_key(path: &Path) -> Result<PrivateKey, ServeError> {
    if path.exists() {
        return russh::keys::load_secret_key(path, None).map_err(|source| {
            ServeError::ReadHostKey {
                path: path.to_path_buf(),
                source,
            }
        });
    }
    let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
        .map_err(ServeError::MakeHostKey)?;
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(ServeError::MakeHostKey)?;
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ServeError::WriteHostKey { path, source }
    };
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(write_err(dir))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    use std::io::Write;
    let mut f = opts.open(path).map_err(write_err(path))?;
    f.write_all(text.as_bytes()).map_err(write_err(path))?;
    Ok(key)
}

/// The roles the account holds in the store (none for a name that cannot
/// be a member).
fn roles_of(store: &Path, account: &str) -> Vec<String> {
    if crate::config::roles::check_member(account).is_err() {
        return Vec::new();
    }
    match crate::config::Engine::open(store, account) {
        Ok(engine) => crate::config::roles::roles_of(&engine, account).unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

pub(super) struct Shared {
    pub(super) opts: ServeOptions,
    keys: KeysPath,
    /// Session channels open, in all and per account.
    slots: Mutex<Slots>,
    pub(super) sessions: watch::Sender<Sessions>,
}

#[derive(Default)]
struct Slots {
    total: usize,
    /// By account name in lower case (account names ignore case).
    per_account: HashMap<String, usize>,
}

impl Shared {
    pub(super) fn closing(&self) -> bool {
        self.sessions.borrow().closing
    }

    /// A session slot for `login`, or why there is none.
    fn take_slot(self: &Arc<Shared>, login: &Login) -> Result<SessionSlot, String> {
        let opts = &self.opts;
        let key = login.account.to_lowercase();
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if slots.total >= opts.max_sessions {
            return Err(format!(
                "The server already has {} sessions open, the most it allows; try again later.",
                opts.max_sessions
            ));
        }
        let mine = slots.per_account.get(&key).copied().unwrap_or(0);
        if mine >= opts.max_sessions_per_account {
            return Err(format!(
                "The account '{}' already has {mine} session(s) open, the most one account may have.",
                login.account
            ));
        }
        let open_to_all = opts.max_sessions.saturating_sub(opts.admin_reserve);
        if slots.total >= open_to_all && !login.admin {
            return Err(format!(
                "The server's last {} session(s) are kept for CsAdministrator accounts; try again later.",
                opts.admin_reserve
            ));
        }
        slots.total += 1;
        *slots.per_account.entry(key.clone()).or_default() += 1;
        Ok(SessionSlot {
            shared: self.clone(),
            account: key,
        })
    }
}

/// The sessions still running (a thread, or its output still on the way
/// to the client), so that shutdown can stop them all and wait until none
/// is left.
#[derive(Default)]
pub(super) struct Sessions {
    pub(super) next: u64,
    /// How to stop each one; `None` while its thread is being started.
    pub(super) live: HashMap<u64, Option<Stopper>>,
    /// Shutdown has begun: no new session starts.
    pub(super) closing: bool,
}

/// Takes a session off the list, and gives back its slot, once the thread
/// and the writer that share it have both let go: a session that has ended
/// counts no more, even while its client keeps the channel open (a client
/// that runs one channel after another on a connection would otherwise use
/// up its account's slots).
pub(super) struct SessionGuard {
    pub(super) shared: Arc<Shared>,
    pub(super) serial: u64,
    pub(super) slot: Mutex<Option<SessionSlot>>,
}

impl SessionGuard {
    /// Gives the slot back early: the session has said its last word, and
    /// its client may open the next one as soon as it sees this one close,
    /// before the session's thread (or process) has finished going away.
    pub(super) fn release_slot(&self) {
        self.slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.shared.sessions.send_modify(|t| {
            t.live.remove(&self.serial);
        });
    }
}

/// Returns the allocator's free pages to the system; called when the last
/// connection has ended. glibc keeps what a burst of connections freed in
/// its per-thread arenas, so without this the server's resident size stays
/// at its peak after the load has gone.
fn give_back_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

struct Conn {
    shared: Arc<Shared>,
    /// The client's address, for `from=` key options.
    peer: Option<SocketAddr>,
    login: Option<Login>,
}

/// Who logged in on a connection, and what the key allows.
#[derive(Clone)]
pub(super) struct Login {
    pub(super) account: String,
    pub(super) grant: Grant,
    /// Holds CsAdministrator: may use the reserved session slots.
    admin: bool,
}

/// Counts a session channel from its opening until its session ends.
pub(super) struct SessionSlot {
    shared: Arc<Shared>,
    account: String,
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        let mut slots = self
            .shared
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        slots.total = slots.total.saturating_sub(1);
        if let Some(n) = slots.per_account.get_mut(&self.account) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                slots.per_account.remove(&self.account);
            }
        }
    }
}

impl Conn {
    /// Lets `user` in when `proof` (the key or the password) holds and the
    /// account has a role. Both read files or hash, so they run off the
    /// async threads.
    async fn admit(
        &mut self,
        user: &str,
        proof: impl FnOnce() -> Option<Grant> + Send + 'static,
    ) -> Auth {
        let store = self.shared.opts.store.clone();
        let account = user.to_string();
        let admitted = tokio::task::spawn_blocking(move || {
            let grant = proof()?;
            let roles = roles_of(&store, &account);
            (!roles.is_empty()).then(|| (grant, roles.iter().any(|r| r == "CsAdministrator")))
        })
        .await
        .ok()
        .flatten();
        match admitted {
            Some((grant, admin)) => {
                self.login = Some(Login {
                    account: user.to_string(),
                    grant,
                    admin,
                });
                Auth::Accept
            }
            None => Auth::reject(),
        }
    }

    /// Checks `key` against `user`'s authorized_keys, off the async threads.
    fn key_check(
        &self,
        user: &str,
        key: &ssh_key::PublicKey,
    ) -> impl FnOnce() -> Option<Grant> + Send + 'static {
        let keys = self.shared.keys.clone();
        let (account, key) = (user.to_string(), key.clone());
        let peer = self.peer.map(|p| p.ip());
        move || super::authorized_keys::grant(&keys, &account, &key, peer)
    }
}

impl russh::server::Handler for Conn {
    type Error = russh::Error;

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        key: russh::server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        let check = self.key_check(user, key.public_key);
        let ok = tokio::task::spawn_blocking(move || check().is_some())
            .await
            .unwrap_or(false);
        Ok(if ok { Auth::Accept } else { Auth::reject() })
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let check = self.key_check(user, key.public_key);
        Ok(self.admit(user, check).await)
    }

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        let Some(path) = self.shared.opts.passwords.clone() else {
            return Ok(Auth::reject());
        };
        let (account, password) = (user.to_string(), password.to_string());
        Ok(self
            .admit(user, move || {
                super::passwords::check(&path, &account, &password).then(Grant::default)
            })
            .await)
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(login) = self.login.clone() else {
            return Ok(());
        };
        if self.shared.closing() {
            return Ok(());
        }
        // A channel past a cap is still opened, so that its request is
        // answered with the reason (an open failure carries no text).
        let slot = self.shared.take_slot(&login);
        reply.accept().await;
        tokio::spawn(run_channel(channel, self.shared.clone(), login, slot));
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
        // `no-pty` or `restrict` on the key: the shell runs without one.
        if self.login.as_ref().is_some_and(|l| l.grant.no_pty) {
            session.channel_failure(channel)
        } else {
            session.channel_success(channel)
        }
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
        if name == "lyncsh" || name == "powershell" {
            session.channel_success(channel)
        } else {
            session.channel_failure(channel)
        }
    }
}

/// A server started by [`start`]. Dropping it stops accepting and closes
/// the connections without waiting for their sessions;
/// [`Running::shutdown`] stops it in order.
pub struct Running {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stage: watch::Sender<Stage>,
    accept: JoinHandle<JoinSet<()>>,
}

/// Where shutdown is; connections and the accept loop watch it. Stages
/// only move forward.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Stage {
    Serving,
    /// No new connections; live ones keep going.
    NoAccept,
    /// Live connections are told goodbye and closed.
    Disconnect,
}

impl Running {
    /// Where the server listens (the real port when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sessions now running (their thread, or their last output).
    pub fn live_sessions(&self) -> usize {
        self.shared.sessions.borrow().live.len()
    }

    /// Stops the server: closes the listener, cancels the command of every
    /// session and refuses new ones, waits up to [`SHUTDOWN_GRACE`] for the
    /// session threads to end (their clients get the final state and exit
    /// status), then disconnects what is left. An error says how many
    /// threads outlived the grace period; the server is stopped either way.
    pub async fn shutdown(self) -> Result<(), ServeError> {
        let Running {
            shared,
            stage,
            accept,
            ..
        } = self;
        stage.send_replace(Stage::NoAccept);
        let mut conns = accept.await.unwrap_or_default();
        shared.sessions.send_modify(|t| {
            t.closing = true;
            for stop in t.live.values().flatten() {
                stop.stop();
            }
        });
        let mut sessions = shared.sessions.subscribe();
        let _ =
            tokio::time::timeout(SHUTDOWN_GRACE, sessions.wait_for(|t| t.live.is_empty())).await;
        // A thread blocked on a client that stopped reading ends only
        // when its connection goes, so the goodbye comes before the last
        // look at the list.
        stage.send_replace(Stage::Disconnect);
        let _ = tokio::time::timeout(DISCONNECT_GRACE, async {
            while conns.join_next().await.is_some() {}
            let _ = sessions.wait_for(|t| t.live.is_empty()).await;
        })
        .await;
        // Whatever connection is still there is dropped with the set.
        drop(conns);
        let count = shared.sessions.borrow().live.len();
        if count == 0 {
            Ok(())
        } else {
            Err(ServeError::Lingering {
                count,
                grace: SHUTDOWN_GRACE + DISCONNECT_GRACE,
            })
        }
    }
}

/// Starts the server in the current tokio runtime: loads (or makes) the
/// host key, opens the store, binds `opts.listen` and accepts connections
/// in a task of its own.
pub async fn start(opts: ServeOptions) -> Result<Running, ServeError> {
    let keys = KeysPath::new(&opts.authorized_keys)?;
    let key = host_key(&opts.host_key)?;
    // Open (and create) the store once, so a bad path fails now.
    crate::config::Engine::open(&opts.store, "lyncsh-serve").map_err(|source| {
        ServeError::Store {
            path: opts.store.clone(),
            source,
        }
    })?;
    let methods: &[MethodKind] = match &opts.passwords {
        Some(path) => {
            // Checked now, so a plain-text or broken file stops the start.
            let n = super::passwords::load(path)?;
            eprintln!(
                "lyncsh serve: password logins on for {} account(s) in {}",
                n.len(),
                path.display()
            );
            &[MethodKind::PublicKey, MethodKind::Password]
        }
        None => &[MethodKind::PublicKey],
    };
    let config = Arc::new(russh::server::Config {
        methods: MethodSet::from(methods),
        auth_rejection_time: Duration::from_millis(300),
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![key],
        inactivity_timeout: Some(opts.idle_timeout),
        nodelay: true,
        ..Default::default()
    });
    let listen_err = |addr: &str| {
        let addr = addr.to_string();
        move |source| ServeError::Listen { addr, source }
    };
    let listener = tokio::net::TcpListener::bind(&opts.listen)
        .await
        .map_err(listen_err(&opts.listen))?;
    let addr = listener.local_addr().map_err(listen_err(&opts.listen))?;
    let shared = Arc::new(Shared {
        opts,
        keys,
        slots: Mutex::new(Slots::default()),
        sessions: watch::Sender::new(Sessions::default()),
    });
    let (stage, watcher) = watch::channel(Stage::Serving);
    let accept = tokio::spawn(accept_loop(listener, config, shared.clone(), watcher));
    Ok(Running {
        addr,
        shared,
        stage,
        accept,
    })
}

/// Waits until shutdown reaches `stage`. A dropped [`Running`] has
/// reached every stage.
async fn reached(watcher: &mut watch::Receiver<Stage>, stage: Stage) {
    let _ = watcher.wait_for(|s| *s >= stage).await;
}

/// Accepts until shutdown begins; hands back the live connections.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    config: Arc<russh::server::Config>,
    shared: Arc<Shared>,
    mut watcher: watch::Receiver<Stage>,
) -> JoinSet<()> {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = reached(&mut watcher, Stage::NoAccept) => break,
            // Reap finished connections so the set does not grow.
            Some(_) = conns.join_next(), if !conns.is_empty() => {
                if conns.is_empty() {
                    give_back_memory();
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let _ = socket.set_nodelay(true);
                    let conn = Conn { shared: shared.clone(), peer: Some(peer), login: None };
                    conns.spawn(connection(socket, config.clone(), conn, watcher.clone()));
                }
                Err(e) => {
                    // Out of descriptors or a reset before accept: the
                    // listener itself is fine, so keep serving after a pause.
                    eprintln!("lyncsh serve: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    if watcher.has_changed().is_err() {
        // `Running` was dropped, so nobody will wait for the connections:
        // they say goodbye on their own (they see every stage reached).
        conns.detach_all();
    }
    conns
}

/// What one receive call may take from a client's socket.
const RECEIVE_BUFFER: usize = 16 << 10;

/// One client connection, from the handshake until it ends or shutdown
/// says goodbye.
async fn connection(
    socket: tokio::net::TcpStream,
    config: Arc<russh::server::Config>,
    conn: Conn,
    mut watcher: watch::Receiver<Stage>,
) {
    let lifetime = conn.shared.opts.session_lifetime;
    let over = tokio::time::sleep(lifetime);
    tokio::pin!(over);
    // russh reads each packet with two exact reads (its first block, then
    // the rest): through a buffer, a burst of packets costs one receive
    // call instead of two or three each.
    let socket = tokio::io::BufReader::with_capacity(RECEIVE_BUFFER, socket);
    let mut session = tokio::select! {
        r = russh::server::run_stream(config, socket, conn) => match r {
            Ok(session) => session,
            Err(_) => return,
        },
        _ = reached(&mut watcher, Stage::Disconnect) => return,
    };
    let handle = session.handle();
    let why = tokio::select! {
        _ = &mut session => return,
        _ = reached(&mut watcher, Stage::Disconnect) => "The server is shutting down.".to_string(),
        _ = &mut over => format!(
            "The session has reached its lifetime of {} s; log in again.",
            lifetime.as_secs()
        ),
    };
    let _ = handle
        .disconnect(Disconnect::ByApplication, why, String::new())
        .await;
    let _ = session.await;
}

/// `lyncsh serve`: prints `listening on ADDR`, then serves until SIGINT or
/// SIGTERM and shuts down as [`Running::shutdown`] does.
pub fn serve(opts: ServeOptions) -> i32 {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lyncsh serve: {}", ServeError::Runtime(e));
            return 70;
        }
    };
    let code = rt.block_on(async {
        // Before the address is printed: whoever reads it may signal at once.
        let signalled = match stop_signals() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("lyncsh serve: cannot listen for signals: {e}");
                return 1;
            }
        };
        let running = match start(opts).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("lyncsh serve: {e}");
                return 1;
            }
        };
        println!("listening on {}", running.local_addr());
        {
            use std::io::Write;
            let _ = std::io::stdout().flush();
        }
        let why = signalled.await;
        eprintln!("lyncsh serve: {why}, shutting down");
        match running.shutdown().await {
            Ok(()) => eprintln!("lyncsh serve: stopped"),
            // The process ends now anyway; each statement has committed
            // or not, so a thread cut short loses no half-made change.
            Err(e) => eprintln!("lyncsh serve: stopped; {e}"),
        }
        0
    });
    // Do not wait for blocking tasks (an authorized-keys read) at exit.
    rt.shutdown_timeout(Duration::from_millis(500));
    code
}

/// Takes over SIGINT (Ctrl-C) and SIGTERM now, so that from here on they
/// shut the server down instead of killing it; the future says which came.
fn stop_signals() -> std::io::Result<impl std::future::Future<Output = &'static str>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => "terminated",
                _ = int.recv() => "interrupted",
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            "interrupted"
        })
    }
}
