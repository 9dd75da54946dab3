//! A small SSH client (russh) for the `lyncsh` subsystem and `exec`,
//! shared by `tests/remote.rs` and `benches/remote.rs`, which run the
//! server in their own process, and the files such a server needs. It
//! trusts any host key: each test makes a fresh one.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use lyncsh::config::{Engine, roles};
use lyncsh::remote::server::ServeOptions;
use lyncsh::remote::worker::{Isolation, RemoteLimits};

use russh::client::{self, Handle, Msg};
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{Channel, ChannelMsg, Disconnect};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("ssh: {0}")]
    Ssh(#[from] russh::Error),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("the server refused the key")]
    Refused,
    #[error("the server refused the request")]
    Failure,
    #[error("the channel ended")]
    Closed,
    #[error("not a JSON line: {0:?}")]
    NotJson(String),
}

type R<T> = Result<T, ClientError>;

pub struct Trusting;

impl client::Handler for Trusting {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

/// A fresh ed25519 key and its `authorized_keys` line.
pub fn new_key() -> (Arc<PrivateKey>, String) {
    let key =
        PrivateKey::random(&mut rand::rng(), russh::keys::Algorithm::Ed25519).expect("ed25519 key");
    let line = key.public_key().to_openssh().expect("OpenSSH public key");
    (Arc::new(key), line)
}

/// A server's files in `dir`: a store where `admin` is a CsAdministrator,
/// and admin's authorized_keys file (`authorized_keys/%u`) with a fresh
/// key, which is returned. The
/// server listens on a free loopback port.
pub fn admin_setup(dir: &Path, max_sessions: usize) -> (ServeOptions, Arc<PrivateKey>) {
    let store = dir.join("store.db");
    let engine = Engine::open(&store, "setup").expect("store");
    let role = roles::builtin("CsAdministrator").expect("role");
    roles::add_member(&engine, role, "admin", "setup").expect("role member");
    engine.end_statement().expect("commit");
    let (key, line) = new_key();
    std::fs::create_dir_all(dir.join("authorized_keys")).expect("authorized_keys dir");
    std::fs::write(dir.join("authorized_keys/admin"), format!("{line}\n"))
        .expect("authorized_keys");
    let authorized_keys = dir.join("authorized_keys/%u");
    let opts = ServeOptions {
        listen: "127.0.0.1:0".into(),
        store,
        host_key: dir.join("host_key"),
        authorized_keys,
        limits: RemoteLimits {
            // This process is a test binary: sessions run in the real one.
            isolation: Isolation::Process {
                exe: env!("CARGO_BIN_EXE_lyncsh").into(),
            },
            ..RemoteLimits::default()
        },
        directories: Vec::new(),
        passwords: None,
        max_sessions,
        max_sessions_per_account: max_sessions,
        admin_reserve: 0,
        idle_timeout: Duration::from_secs(600),
        session_lifetime: Duration::from_secs(3600),
    };
    (opts, key)
}

/// An authenticated connection.
pub struct Conn {
    pub handle: Handle<Trusting>,
    /// The same socket, to cut it without an SSH goodbye.
    raw: std::net::TcpStream,
}

pub async fn connect(addr: SocketAddr, user: &str, key: &Arc<PrivateKey>) -> R<Conn> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let std = tcp.into_std()?;
    let raw = std.try_clone()?;
    let tcp = tokio::net::TcpStream::from_std(std)?;
    let config = Arc::new(client::Config::default());
    let mut handle = client::connect_stream(config, tcp, Trusting).await?;
    let auth = handle
        .authenticate_publickey(user, PrivateKeyWithHashAlg::new(key.clone(), None))
        .await?;
    if !auth.success() {
        return Err(ClientError::Refused);
    }
    Ok(Conn { handle, raw })
}

impl Conn {
    /// Opens a channel and starts the `lyncsh` subsystem; reads the hello.
    pub async fn lyncsh(&self) -> R<Lines> {
        let ch = self.handle.channel_open_session().await?;
        ch.request_subsystem(true, "lyncsh").await?;
        let mut lines = Lines {
            ch,
            buf: Vec::new(),
            pos: 0,
            hello: Value::Null,
            exit: None,
        };
        loop {
            match lines.ch.wait().await {
                Some(ChannelMsg::Success) => break,
                Some(ChannelMsg::Failure) => return Err(ClientError::Failure),
                Some(ChannelMsg::Data { data }) => lines.buf.extend_from_slice(&data),
                Some(_) => {}
                None => return Err(ClientError::Closed),
            }
        }
        lines.hello = lines.next().await?.ok_or(ClientError::Closed)?;
        Ok(lines)
    }

    /// `exec`: runs one script; its standard output and exit status.
    pub async fn exec(&self, command: &str) -> R<(Vec<u8>, Option<u32>)> {
        let mut ch = self.handle.channel_open_session().await?;
        ch.exec(true, command).await?;
        let mut out = Vec::new();
        let mut exit = None;
        while let Some(msg) = ch.wait().await {
            match msg {
                ChannelMsg::Data { data } => out.extend_from_slice(&data),
                ChannelMsg::ExitStatus { exit_status } => exit = Some(exit_status),
                ChannelMsg::Failure => return Err(ClientError::Failure),
                ChannelMsg::Close => break,
                _ => {}
            }
        }
        Ok((out, exit))
    }

    /// Starts subsystem `name`, sends `input` and end-of-file, and returns
    /// everything the server wrote until it closed the channel.
    pub async fn subsystem(&self, name: &str, input: &[u8]) -> R<Vec<u8>> {
        let mut ch = self.handle.channel_open_session().await?;
        ch.request_subsystem(true, name).await?;
        ch.data(input).await?;
        ch.eof().await?;
        let mut out = Vec::new();
        while let Some(msg) = ch.wait().await {
            match msg {
                ChannelMsg::Data { data } => out.extend_from_slice(&data),
                ChannelMsg::Failure => return Err(ClientError::Failure),
                ChannelMsg::Close => break,
                _ => {}
            }
        }
        Ok(out)
    }

    /// Says goodbye the SSH way.
    pub async fn close(self) -> R<()> {
        self.handle
            .disconnect(Disconnect::ByApplication, "", "en")
            .await?;
        Ok(())
    }

    /// The client vanishes: the socket is shut down under the SSH session.
    pub fn cut(&self) {
        let _ = self.raw.shutdown(std::net::Shutdown::Both);
    }
}

/// One `lyncsh` subsystem channel: JSON lines in and out.
pub struct Lines {
    ch: Channel<Msg>,
    buf: Vec<u8>,
    pos: usize,
    pub hello: Value,
    pub exit: Option<u32>,
}

/// What one request got back: its lines, ending with its state.
#[derive(Debug)]
pub struct Reply {
    pub lines: Vec<Value>,
    pub state: String,
}

impl Reply {
    pub fn objects(&self) -> Vec<&Value> {
        self.lines
            .iter()
            .filter(|l| l["stream"] == "output")
            .map(|l| &l["object"])
            .collect()
    }

    pub fn errors(&self) -> Vec<&Value> {
        self.lines
            .iter()
            .filter(|l| l["stream"] == "error")
            .map(|l| &l["error"])
            .collect()
    }
}

impl Lines {
    pub async fn send(&self, bytes: &[u8]) -> R<()> {
        self.ch.data(bytes).await?;
        Ok(())
    }

    pub async fn eof(&self) -> R<()> {
        self.ch.eof().await?;
        Ok(())
    }

    /// The next JSON line; `None` once the channel has ended.
    pub async fn next(&mut self) -> R<Option<Value>> {
        loop {
            if let Some(i) = self.buf[self.pos..].iter().position(|&b| b == b'\n') {
                let (start, end) = (self.pos, self.pos + i);
                self.pos = end + 1;
                let line = &self.buf[start..end];
                let v = serde_json::from_slice(line).map_err(|_| {
                    ClientError::NotJson(String::from_utf8_lossy(line).into_owned())
                })?;
                return Ok(Some(v));
            }
            self.buf.drain(..self.pos);
            self.pos = 0;
            match self.ch.wait().await {
                Some(ChannelMsg::Data { data }) => self.buf.extend_from_slice(&data),
                Some(ChannelMsg::ExitStatus { exit_status }) => self.exit = Some(exit_status),
                Some(ChannelMsg::Close) | None => return Ok(None),
                Some(_) => {}
            }
        }
    }

    /// Reads lines until the state line of `id`; lines of other requests
    /// (id 0: errors about unreadable requests) are kept too.
    pub async fn until_state(&mut self, id: u64) -> R<Reply> {
        let mut lines = Vec::new();
        loop {
            let line = self.next().await?.ok_or(ClientError::Closed)?;
            if line["id"] == id
                && let Some(state) = line["state"].as_str()
            {
                return Ok(Reply {
                    lines,
                    state: state.to_string(),
                });
            }
            lines.push(line);
        }
    }

    /// Sends an `invoke` and waits for its end.
    pub async fn invoke(&mut self, id: u64, script: &str) -> R<Reply> {
        self.send_invoke(id, script).await?;
        self.until_state(id).await
    }

    /// Asks for completions at the end of `line`; the reply's lines are
    /// the `completion` line and the state.
    pub async fn complete(&mut self, id: u64, line: &str) -> R<Reply> {
        let cursor = line.chars().count();
        let mut req =
            serde_json::json!({"id": id, "op": "complete", "line": line, "cursor": cursor})
                .to_string();
        req.push('\n');
        self.send(req.as_bytes()).await?;
        self.until_state(id).await
    }

    /// The texts a `complete` request was offered.
    pub fn offered(reply: &Reply) -> Vec<String> {
        reply
            .lines
            .iter()
            .filter(|l| l["op"] == "completion")
            .flat_map(|l| l["matches"].as_array().cloned().unwrap_or_default())
            .filter_map(|m| m["text"].as_str().map(str::to_string))
            .collect()
    }

    pub async fn send_invoke(&self, id: u64, script: &str) -> R<()> {
        let mut line = serde_json::json!({"id": id, "op": "invoke", "script": script}).to_string();
        line.push('\n');
        self.send(line.as_bytes()).await
    }
}
