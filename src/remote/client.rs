//! `lyncsh -HostName`: the client side of the `lyncsh` subsystem.
//!
//! The caller is synchronous (the REPL, a `-Command` run), so a [`Remote`]
//! owns a small tokio runtime: one task reads the channel and turns its
//! bytes into JSON lines on a plain channel; requests are written with
//! `block_on`. Server host keys are checked against `~/.ssh/known_hosts`
//! as OpenSSH's `StrictHostKeyChecking=accept-new` does: a new host is
//! recorded, a changed key is refused.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use russh::client::{self, Handle, Msg};
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{ChannelMsg, ChannelWriteHalf, Disconnect};
use serde_json::{Value as J, json};

use crate::complete::{Completion, Item};
use crate::host::Stream;

/// Longest wait for the TCP connection and key exchange.
const CONNECT_TIME: Duration = Duration::from_secs(15);

/// Longest wait for a completion: the editor must not freeze on a slow server.
const COMPLETE_TIME: Duration = Duration::from_secs(3);

/// Longest reply line accepted from the server.
const MAX_REPLY: usize = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("'{0}' is not a remote host: use [user@]host[:port]")]
    BadTarget(String),
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error("no key to log in with: give -KeyFilePath, or create ~/.ssh/id_ed25519")]
    NoKey,
    #[error("cannot use the key {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error(
        "the host key of {host} does not match the one recorded in {file} (line {line}); \
         someone may be intercepting the connection, or the server's key was replaced. \
         Remove that line if the change is expected"
    )]
    HostKeyChanged {
        host: String,
        file: PathBuf,
        line: usize,
    },
    #[error("there is no home directory for ~/.ssh/known_hosts, where server keys are checked")]
    NoHome,
    #[error("the server {0} does not prove its identity with a plain public key")]
    HostKeyUnusable(String),
    #[error("{user}@{host} refused the key {key}")]
    Denied {
        user: String,
        host: String,
        key: PathBuf,
    },
    #[error("{0} does not offer the lyncsh subsystem (is it a lyncsh serve host?)")]
    NoSubsystem(String),
    #[error("the server refused the session: {0}")]
    Refused(String),
    #[error("the connection to {0} was lost")]
    Lost(String),
    #[error("the server sent a reply this client does not understand: {0}")]
    Protocol(String),
    #[error("SSH: {0}")]
    Ssh(#[from] russh::Error),
}

/// Where to log in: `[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub user: String,
    pub host: String,
    pub port: u16,
}

impl Target {
    /// Reads `[user@]host[:port]` (`[::1]:2222` for IPv6); `user` and
    /// `port` given apart win over the ones in `spec`.
    pub fn parse(spec: &str, user: Option<&str>, port: Option<u16>) -> Result<Target, ClientError> {
        let bad = || ClientError::BadTarget(spec.to_string());
        let (spec_user, rest) = match spec.rsplit_once('@') {
            Some((u, r)) => (Some(u), r),
            None => (None, spec),
        };
        let (host, spec_port) = if let Some(v6) = rest.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(bad)?;
            match after.strip_prefix(':') {
                Some(p) => (h, Some(p)),
                None if after.is_empty() => (h, None),
                None => return Err(bad()),
            }
        } else {
            match rest.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            }
        };
        let spec_port = match spec_port {
            Some(p) => Some(p.parse::<u16>().map_err(|_| bad())?),
            None => None,
        };
        let user = match user.or(spec_user) {
            Some(u) => u.to_string(),
            None => std::env::var("USER").map_err(|_| bad())?,
        };
        if host.is_empty() || user.is_empty() {
            return Err(bad());
        }
        Ok(Target {
            user,
            host: host.to_string(),
            port: port.or(spec_port).unwrap_or(22),
        })
    }

    /// The host as known_hosts names it.
    fn known_name(&self) -> String {
        if self.port == 22 {
            self.host.clone()
        } else {
            format!("[{}]:{}", self.host, self.port)
        }
    }
}

/// The private key to log in with: the one given, else the first of
/// OpenSSH's usual files.
pub fn find_key(given: Option<&Path>) -> Result<(PathBuf, PrivateKey), ClientError> {
    let path = match given {
        Some(p) => p.to_path_buf(),
        None => {
            let dir = std::env::home_dir().ok_or(ClientError::NoKey)?.join(".ssh");
            ["id_ed25519", "id_ecdsa", "id_rsa"]
                .iter()
                .map(|n| dir.join(n))
                .find(|p| p.is_file())
                .ok_or(ClientError::NoKey)?
        }
    };
    match russh::keys::load_secret_key(&path, None) {
        Ok(key) => Ok((path, key)),
        Err(russh::keys::Error::KeyIsEncrypted) => Err(ClientError::Key {
            path,
            reason: "it is protected by a passphrase, which this client cannot ask for".into(),
        }),
        Err(e) => Err(ClientError::Key {
            path,
            reason: e.to_string(),
        }),
    }
}

/// The known_hosts file this client reads and records new hosts in.
pub fn known_hosts_path() -> Result<PathBuf, ClientError> {
    std::env::home_dir()
        .map(|h| h.join(".ssh").join("known_hosts"))
        .ok_or(ClientError::NoHome)
}

/// Checks the server's key; what it learnt is left in `note`.
struct Verifier {
    target: Target,
    known_hosts: PathBuf,
    note: Arc<Mutex<Option<String>>>,
}

impl client::Handler for Verifier {
    type Error = ClientError;

    async fn check_server_key(
        &mut self,
        offered: &PublicKeyOrCertificate,
    ) -> Result<bool, ClientError> {
        let name = self.target.known_name();
        // known_hosts records plain keys; a certificate would need a CA line.
        let PublicKeyOrCertificate::PublicKey { key, .. } = offered else {
            return Err(ClientError::HostKeyUnusable(name));
        };
        let file = self.known_hosts.clone();
        let (host, port) = (self.target.host.as_str(), self.target.port);
        match russh::keys::check_known_hosts_path(host, port, key, &file) {
            Ok(true) => Ok(true),
            Ok(false) => {
                // First contact: remember the key, as accept-new does.
                let algorithm = key.algorithm().to_string();
                let note = match russh::keys::known_hosts::learn_known_hosts_path(
                    host, port, key, &file,
                ) {
                    Ok(()) => format!(
                        "lyncsh: {name} was not known; its {algorithm} key is now recorded in {}",
                        file.display()
                    ),
                    Err(e) => format!(
                        "lyncsh: {name} was not known and its key cannot be recorded in {}: {e}",
                        file.display()
                    ),
                };
                if let Ok(mut n) = self.note.lock() {
                    *n = Some(note);
                }
                Ok(true)
            }
            Err(russh::keys::Error::KeyChanged { line }) => Err(ClientError::HostKeyChanged {
                host: name,
                file,
                line,
            }),
            Err(e) => Err(ClientError::Connect {
                addr: name,
                reason: format!("cannot read {}: {e}", file.display()),
            }),
        }
    }
}

/// What the reading task hands over.
enum Incoming {
    Line(J),
    /// The server sent something that is not a JSON line.
    Garbage(String),
    Closed,
}

/// How a remote invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// `completed`, `failed` or `stopped`.
    pub state: String,
    pub exit: Option<i32>,
    /// The script ran `exit`: an interactive session ends.
    pub exited: bool,
}

impl Finished {
    /// The exit status the local shell would give: `-Command` reports a
    /// failed last command, `-File` only `exit` and uncaught errors.
    pub fn exit_code(&self, command_mode: bool) -> i32 {
        match (self.state.as_str(), self.exit) {
            ("completed", Some(n)) if command_mode => n,
            ("completed", _) => 0,
            ("stopped", n) => n.unwrap_or(130),
            (_, n) => n.unwrap_or(1),
        }
    }
}

/// An open `lyncsh` subsystem session.
pub struct Remote {
    rt: tokio::runtime::Runtime,
    handle: Handle<Verifier>,
    writer: ChannelWriteHalf<Msg>,
    incoming: mpsc::Receiver<Incoming>,
    next_id: u64,
    closed: bool,
    pub target: Target,
    pub roles: Vec<String>,
    /// Said once about the host key (a new host was recorded).
    pub notice: Option<String>,
}

impl Remote {
    /// Logs in with `key` and opens the subsystem; waits for its hello.
    pub fn connect(
        target: Target,
        key_path: &Path,
        key: PrivateKey,
        known_hosts: PathBuf,
    ) -> Result<Remote, ClientError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| ClientError::Connect {
                addr: target.known_name(),
                reason: e.to_string(),
            })?;
        let note = Arc::new(Mutex::new(None));
        let verifier = Verifier {
            target: target.clone(),
            known_hosts,
            note: note.clone(),
        };
        let (handle, writer, incoming) = rt.block_on(open(&target, key_path, key, verifier))?;
        let notice = note.lock().ok().and_then(|mut n| n.take());
        let mut remote = Remote {
            rt,
            handle,
            writer,
            incoming,
            next_id: 1,
            closed: false,
            target,
            roles: Vec::new(),
            notice,
        };
        remote.hello()?;
        Ok(remote)
    }

    fn hello(&mut self) -> Result<(), ClientError> {
        match self.next_line(CONNECT_TIME)? {
            Some(v) if v["op"] == "hello" => {
                self.roles = v["roles"]
                    .as_array()
                    .map(|r| {
                        r.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(())
            }
            Some(v) if v["stream"] == "error" => Err(ClientError::Refused(error_text(&v["error"]))),
            Some(v) => Err(ClientError::Protocol(v.to_string())),
            None => Err(ClientError::Lost(self.target.known_name())),
        }
    }

    /// The next line from the server; `None` when `wait` passes first.
    fn next_line(&mut self, wait: Duration) -> Result<Option<J>, ClientError> {
        let got = match self.incoming.recv_timeout(wait) {
            Ok(x) => x,
            Err(mpsc::RecvTimeoutError::Timeout) => return Ok(None),
            Err(mpsc::RecvTimeoutError::Disconnected) => Incoming::Closed,
        };
        match got {
            Incoming::Line(v) => Ok(Some(v)),
            Incoming::Garbage(text) => Err(ClientError::Protocol(text)),
            Incoming::Closed => {
                self.closed = true;
                Err(ClientError::Lost(self.target.known_name()))
            }
        }
    }

    fn send(&mut self, request: &J) -> Result<(), ClientError> {
        let mut line = request.to_string().into_bytes();
        line.push(b'\n');
        self.rt
            .block_on(self.writer.data_bytes(line))
            .map_err(|_| ClientError::Lost(self.target.known_name()))
    }

    fn take_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Runs a script formatted as text at `width` columns; each piece of
    /// output goes to `show` with its stream (errors as their text).
    /// Setting `cancel` asks the server to stop the command.
    pub fn invoke(
        &mut self,
        script: &str,
        args: &[String],
        width: usize,
        cancel: &AtomicBool,
        mut show: impl FnMut(Stream, &str),
    ) -> Result<Finished, ClientError> {
        let id = self.take_id();
        self.send(&json!({
            "id": id, "op": "invoke", "script": script, "args": args,
            "output": "text", "width": width,
        }))?;
        let mut cancelled = false;
        loop {
            if !cancelled && cancel.load(Ordering::SeqCst) {
                cancelled = true;
                self.send(&json!({"op": "cancel", "id": id}))?;
            }
            let Some(v) = self.next_line(Duration::from_millis(50))? else {
                continue;
            };
            if v["id"].as_u64() != Some(id) && v["id"].as_u64() != Some(0) {
                continue; // a reply to an abandoned request
            }
            if let Some(state) = v["state"].as_str() {
                return Ok(Finished {
                    state: state.to_string(),
                    exit: v["exit"].as_i64().map(|n| n as i32),
                    exited: v["exited"] == true,
                });
            }
            match v["stream"].as_str() {
                Some("error") => show(Stream::Error, &format!("{}\n", error_text(&v["error"]))),
                Some(name) => {
                    if let Some(text) = v["text"].as_str() {
                        show(stream_of(name), text);
                    }
                }
                None => {}
            }
        }
    }

    /// Asks the server to complete `line` at byte offset `pos`; the answer
    /// is the local engine's shape, in byte offsets. An empty
    /// answer when the server is slow: the editor must stay responsive.
    pub fn complete(&mut self, line: &str, pos: usize) -> Result<Completion, ClientError> {
        let pos = floor_boundary(line, pos);
        let id = self.take_id();
        let cursor = line[..pos].chars().count();
        self.send(&json!({"id": id, "op": "complete", "line": line, "cursor": cursor}))?;
        let deadline = Instant::now() + COMPLETE_TIME;
        let mut found = Completion::default();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Completion::default());
            }
            let Some(v) = self.next_line(left)? else {
                return Ok(Completion::default());
            };
            if v["id"].as_u64() != Some(id) {
                continue;
            }
            if v["state"].is_string() {
                return Ok(found);
            }
            if v["op"] == "completion" {
                found = completion_of(line, &v);
            }
        }
    }

    /// The names of the commands and aliases this session may run.
    pub fn command_names(&mut self) -> Result<Vec<String>, ClientError> {
        let id = self.take_id();
        self.send(&json!({"id": id, "op": "invoke", "script": "(Get-Command).Name"}))?;
        let mut names = Vec::new();
        loop {
            let Some(v) = self.next_line(CONNECT_TIME)? else {
                return Ok(names);
            };
            if v["id"].as_u64() != Some(id) {
                continue;
            }
            if v["state"].is_string() {
                return Ok(names);
            }
            if let Some(n) = v["object"].as_str() {
                names.push(n.to_string());
            }
        }
    }

    /// Ends the session politely.
    pub fn close(mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        let _ = self.rt.block_on(async {
            let _ = self.writer.eof().await;
            self.handle
                .disconnect(Disconnect::ByApplication, "", "en")
                .await
        });
    }
}

async fn open(
    target: &Target,
    key_path: &Path,
    key: PrivateKey,
    verifier: Verifier,
) -> Result<
    (
        Handle<Verifier>,
        ChannelWriteHalf<Msg>,
        mpsc::Receiver<Incoming>,
    ),
    ClientError,
> {
    let addr = target.known_name();
    let config = Arc::new(client::Config {
        nodelay: true,
        ..Default::default()
    });
    let connecting = client::connect(config, (target.host.as_str(), target.port), verifier);
    let mut handle = match tokio::time::timeout(CONNECT_TIME, connecting).await {
        Ok(Ok(h)) => h,
        Ok(Err(ClientError::Ssh(russh::Error::IO(e)))) => {
            return Err(ClientError::Connect {
                addr,
                reason: e.to_string(),
            });
        }
        Ok(Err(e)) => return Err(e),
        Err(_) => {
            return Err(ClientError::Connect {
                addr,
                reason: "no answer in time".into(),
            });
        }
    };
    let hash = if key.algorithm().is_rsa() {
        handle.best_supported_rsa_hash().await?.flatten()
    } else {
        None
    };
    let auth = handle
        .authenticate_publickey(
            target.user.clone(),
            PrivateKeyWithHashAlg::new(Arc::new(key), hash),
        )
        .await?;
    if !auth.success() {
        return Err(ClientError::Denied {
            user: target.user.clone(),
            host: addr,
            key: key_path.to_path_buf(),
        });
    }
    let channel = handle.channel_open_session().await?;
    channel.request_subsystem(true, "lyncsh").await?;
    let (mut reader, writer) = channel.split();
    // The subsystem's answer comes before any data.
    loop {
        match reader.wait().await {
            Some(ChannelMsg::Success) => break,
            Some(ChannelMsg::Failure) | None => return Err(ClientError::NoSubsystem(addr)),
            Some(_) => {}
        }
    }
    let (tx, rx) = mpsc::channel();
    tokio::spawn(async move {
        let mut buf: Vec<u8> = Vec::new();
        while let Some(msg) = reader.wait().await {
            let ChannelMsg::Data { data } = msg else {
                if matches!(msg, ChannelMsg::Eof | ChannelMsg::Close) {
                    break;
                }
                continue;
            };
            buf.extend_from_slice(&data);
            while let Some(i) = buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = buf.drain(..=i).collect();
                let text = String::from_utf8_lossy(&line);
                let text = text.trim();
                if text.is_empty() {
                    continue;
                }
                let item = serde_json::from_str(text)
                    .map_or_else(|_| Incoming::Garbage(text.to_string()), Incoming::Line);
                if tx.send(item).is_err() {
                    return;
                }
            }
            if buf.len() > MAX_REPLY {
                let _ = tx.send(Incoming::Garbage("a reply line without end".into()));
                return;
            }
        }
        let _ = tx.send(Incoming::Closed);
    });
    Ok((handle, writer, rx))
}

/// The printable text of a protocol error object: every error, the
/// script's or the protocol's, carries the text to show.
fn error_text(e: &J) -> String {
    e["text"]
        .as_str()
        .unwrap_or("The remote command failed.")
        .to_string()
}

fn stream_of(name: &str) -> Stream {
    match name {
        "warning" => Stream::Warning,
        "verbose" => Stream::Verbose,
        "debug" => Stream::Debug,
        "information" => Stream::Information,
        _ => Stream::Output,
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A `completion` reply, its character positions turned into byte offsets.
fn completion_of(line: &str, v: &J) -> Completion {
    let byte_at = |chars: Option<u64>| {
        let n = chars.unwrap_or(0) as usize;
        line.char_indices().nth(n).map_or(line.len(), |(b, _)| b)
    };
    let items = v["matches"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|x| {
                    Some(Item {
                        value: x["text"].as_str()?.to_string(),
                        description: x["description"].as_str().map(str::to_string),
                        space: x["space"].as_bool().unwrap_or(true),
                        kind: Default::default(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Completion {
        start: byte_at(v["start"].as_u64()),
        end: byte_at(v["end"].as_u64()),
        items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = Target::parse("admin@srv.contoso.com:2222", None, None);
        assert_eq!(
            t.ok(),
            Some(Target {
                user: "admin".into(),
                host: "srv.contoso.com".into(),
                port: 2222
            })
        );
        let t = Target::parse("admin@[::1]:2200", Some("bob"), None);
        assert_eq!(
            t.ok(),
            Some(Target {
                user: "bob".into(),
                host: "::1".into(),
                port: 2200
            })
        );
        let t = Target::parse("a@h", None, Some(7)).map(|t| t.port);
        assert_eq!(t.ok(), Some(7));
        assert!(Target::parse("a@h:port", None, None).is_err());
        assert!(Target::parse("a@", None, None).is_err());
        assert!(Target::parse("a@[::1", None, None).is_err());
    }

    #[test]
    fn exit_codes_follow_the_local_shell() {
        let f = |state: &str, exit| Finished {
            state: state.into(),
            exit,
            exited: false,
        };
        assert_eq!(f("completed", None).exit_code(true), 0);
        assert_eq!(f("completed", Some(1)).exit_code(true), 1);
        assert_eq!(f("completed", Some(1)).exit_code(false), 0);
        assert_eq!(f("failed", Some(3)).exit_code(false), 3);
        assert_eq!(f("failed", None).exit_code(true), 1);
        assert_eq!(f("stopped", Some(130)).exit_code(true), 130);
    }

    #[test]
    fn completion_positions_are_characters() {
        let v = json!({"id":1,"op":"completion","start":3,"end":5,
            "matches":[{"text":"$été","description":null,"space":false}]});
        let c = completion_of("é; $é", &v);
        assert_eq!(c.start, "é; ".len());
        assert_eq!(c.end, "é; $é".len());
        assert_eq!(c.items[0].value, "$été");
        assert!(!c.items[0].space);
    }
}
