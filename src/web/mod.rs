//! The Control Panel: `lyncsh serve --http ADDR` serves Lync's Control
//! Panel pages over HTTPS from the same engine, accounts, roles and change
//! log as the shell. `auth` signs accounts in from the `--passwords` file,
//! `desk` does the store work on threads of its own, `shell` builds the
//! equivalent shell command of each commit, `families` says which
//! configuration pages exist and how Lync labels their settings, `pages`
//! and `routes` are the HTML and the handlers, `tls` the certificate.

mod auth;
mod desk;
mod families;
mod pages;
mod routes;
pub mod shell;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use tls::Tls;

/// How the Control Panel runs.
#[derive(Debug, Clone)]
pub struct WebOptions {
    /// IP:port; port 0 picks a free one.
    pub listen: String,
    pub store: PathBuf,
    /// The accounts and their argon2 hashes (`lyncsh hash-password`).
    pub passwords: PathBuf,
    pub tls: Tls,
    /// A session unused for this long signs out.
    pub session_idle: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("--http {0}: expected an IP address and port, such as 127.0.0.1:8443")]
    Address(String),
    #[error(
        "--http {0}: plain HTTP is served only on a loopback address (127.0.0.1, ::1); use TLS for any other"
    )]
    PlainNotLoopback(String),
    #[error(
        "the Control Panel needs accounts: give --passwords FILE (lines ACCOUNT:HASH from `lyncsh hash-password`)"
    )]
    NoPasswords,
    #[error(transparent)]
    Passwords(#[from] crate::remote::passwords::PasswordError),
    #[error("cannot make the Control Panel's certificate: {0}")]
    Certificate(String),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot load the certificate {}: {source}", path.display())]
    LoadCertificate {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the store {}: {reason}", path.display())]
    Store { path: PathBuf, reason: String },
    #[error("cannot listen on {0}: {1}")]
    Listen(String, std::io::Error),
}

/// A running Control Panel.
pub struct Running {
    addr: SocketAddr,
    tls: bool,
    handle: axum_server::Handle<SocketAddr>,
    task: tokio::task::JoinHandle<()>,
    desk: desk::Closed,
}

impl Running {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://ADDR` (or `http://` when TLS is off).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Stops accepting and lets requests in flight finish (up to 5 s),
    /// then waits for the desk threads to close the store: nothing touches
    /// the store's folder after this returns.
    pub async fn shutdown(self) {
        self.handle.graceful_shutdown(Some(Duration::from_secs(5)));
        let _ = self.task.await;
        let desk = self.desk;
        let _ = tokio::task::spawn_blocking(move || desk.wait(Duration::from_secs(5))).await;
    }
}

/// Starts the Control Panel on the current tokio runtime.
pub async fn start(opts: WebOptions) -> Result<Running, WebError> {
    let addr: SocketAddr = opts
        .listen
        .parse()
        .map_err(|_| WebError::Address(opts.listen.clone()))?;
    if matches!(opts.tls, Tls::Off) && !addr.ip().is_loopback() {
        return Err(WebError::PlainNotLoopback(opts.listen.clone()));
    }
    // A file that cannot be read or holds plain text stops the start.
    crate::remote::passwords::load(&opts.passwords)?;
    // Opening the store once here reports a bad path now, not per page.
    crate::config::Engine::open(&opts.store, "web").map_err(|e| WebError::Store {
        path: opts.store.clone(),
        reason: e.to_string(),
    })?;
    let (desk, desk_closed) =
        desk::Desk::new(opts.store.clone(), 4).map_err(|e| WebError::Store {
            path: opts.store.clone(),
            reason: e.to_string(),
        })?;
    let app = routes::App {
        desk,
        auth: Arc::new(auth::Auth::new(&opts.passwords, opts.session_idle)),
    };
    let router = routes::router(app);
    let handle = axum_server::Handle::new();
    let listener =
        std::net::TcpListener::bind(addr).map_err(|e| WebError::Listen(opts.listen.clone(), e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| WebError::Listen(opts.listen.clone(), e))?;
    let bound = listener
        .local_addr()
        .map_err(|e| WebError::Listen(opts.listen.clone(), e))?;
    let files = tls::files(&opts.tls)?;
    let task = match files {
        None => {
            let server = axum_server::from_tcp(listener)
                .map_err(|e| WebError::Listen(opts.listen.clone(), e))?
                .handle(handle.clone());
            tokio::spawn(async move {
                if let Err(e) = server.serve(router.into_make_service()).await {
                    eprintln!("lyncsh serve: the Control Panel stopped: {e}");
                }
            })
        }
        Some((cert, key)) => {
            // One crypto provider for the process (ring, as russh uses);
            // a second install is refused harmlessly.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .map_err(|e| WebError::LoadCertificate {
                    path: cert.clone(),
                    source: e,
                })?;
            let server = axum_server::from_tcp_rustls(listener, config)
                .map_err(|e| WebError::Listen(opts.listen.clone(), e))?
                .handle(handle.clone());
            tokio::spawn(async move {
                if let Err(e) = server.serve(router.into_make_service()).await {
                    eprintln!("lyncsh serve: the Control Panel stopped: {e}");
                }
            })
        }
    };
    Ok(Running {
        addr: bound,
        tls: files_tls(&opts.tls),
        handle,
        task,
        desk: desk_closed,
    })
}

fn files_tls(t: &Tls) -> bool {
    !matches!(t, Tls::Off)
}
