//! The `lyncsh` subsystem: one JSON object per line (see DESIGN.md,
//! "Remote sessions").
//!
//! Client: `{"id":1,"op":"invoke","script":"…"}` (optionally with
//! `"args":["…"]`, bound as a script's command-line arguments, and
//! `"output":"text"` with a `"width"`: output formatted by the server as the
//! local shell shows it, sent as `host` text instead of objects),
//! `{"id":2,"op":"complete","line":"Get-CsA","cursor":7}`,
//! `{"op":"cancel","id":1}`.
//! Server: `{"op":"hello","version":1,"user":"…","roles":[…]}` first, then per
//! request `{"id":1,"stream":"output","object":{…},"text":"…"}`, errors
//! (below), other streams as `{"id":1,"stream":"warning","text":"…"}`,
//! and at the end `{"id":1,"state":"completed"|"failed"|"stopped"}`, with
//! `"exit":N` when the script's exit status is not 0 and `"exited":true`
//! when it ran `exit`.
//!
//! An error the script raised carries its record:
//!
//! ```text
//! {"id":1,"stream":"error","error":{"message":"boom","kind":"boom",
//!  "category":"OperationStopped","exception":"System.Management.Automation.RuntimeException",
//!  "target":"boom","position":{"line":1,"column":1},"text":"Exception: boom"}}
//! ```
//!
//! `kind` is the FullyQualifiedErrorId, `category` the ErrorCategory name,
//! `target` the target object as JSON (or null), `position` 1-based in
//! characters (or null), and `text` what the local shell prints for it.
//! An error of the protocol itself has only `message`, `kind`
//! (`BadRequest`, `Busy`, `OutputLimitExceeded`, `SessionRefused`) and
//! `text` (the message again), so a client can always print `error.text`.
//!
//! A `complete` request is answered with the word to replace and its
//! candidates, then the request's state:
//!
//! ```text
//! {"id":2,"op":"completion","start":0,"end":7,"matches":[
//!  {"text":"Get-CsAccessEdgeConfiguration","description":"Cmdlet","space":true},…]}
//! {"id":2,"state":"completed"}
//! ```
//!
//! `cursor`, `start` and `end` count characters of `line`; `description`
//! may be null; `space` says whether a space should follow the text.
//! Candidates are what the session may use: only the cmdlets its roles
//! allow, its own functions and variables, and no file names when it may
//! not use the file system.
//!
//! Also `lyncsh -sshs`: the same protocol over standard input and output,
//! for OpenSSH's sshd (`Subsystem lyncsh /usr/bin/lyncsh -sshs`), and
//! PowerShell remoting too (`Subsystem powershell /usr/bin/lyncsh -sshs`):
//! it says nothing until the client has, and the client's first byte
//! picks the protocol (`<` PSRP, else JSON).

use std::cell::RefCell;
use std::io::{BufRead, Write};
use std::rc::Rc;

use serde_json::{Map, Value as J, json};

use super::worker::{
    self, Ev, Input, Invocation, Mode, Out, Outlet, RemoteLimits, Render, SessionConfig, Worker,
};
use crate::complete::Snapshot;
use crate::host::Stream;
use crate::runtime::Interp;
use crate::runtime::error::{ErrorRecord, Res};
use crate::runtime::interp::Sink;
use crate::runtime::value::{PropKind, Value};

pub const VERSION: u64 = 1;

/// Longest request line accepted.
pub const MAX_LINE: usize = 4 << 20;

/// Deepest nesting of objects rendered as JSON.
const MAX_DEPTH: usize = 4;

/// A request from the client.
#[derive(Debug, PartialEq)]
pub enum Request {
    Invoke(Invocation),
    Complete {
        id: u64,
        line: String,
        cursor: usize,
    },
    Cancel {
        id: Option<u64>,
    },
}

/// Reads one request line. The error carries the request's id when it
/// could be read, so the client can match the failure.
pub fn parse_request(line: &[u8]) -> Result<Request, (Option<u64>, String)> {
    let text = std::str::from_utf8(line).map_err(|_| (None, "The request is not UTF-8.".into()))?;
    let v: J = serde_json::from_str(text)
        .map_err(|e| (None, format!("The request is not valid JSON: {e}.")))?;
    let Some(obj) = v.as_object() else {
        return Err((None, "A request must be a JSON object.".into()));
    };
    let id = obj.get("id").and_then(J::as_u64);
    let op = obj.get("op").and_then(J::as_str).unwrap_or("");
    let need_id = || id.ok_or((None, format!("The '{op}' request needs a numeric \"id\".")));
    match op {
        "invoke" => {
            let id = need_id()?;
            let bad = |what: &str| (Some(id), format!("The 'invoke' request needs {what}."));
            let script = obj
                .get("script")
                .and_then(J::as_str)
                .ok_or_else(|| bad("a \"script\" string"))?;
            let args = match obj.get("args") {
                None | Some(J::Null) => Vec::new(),
                Some(J::Array(items)) => items
                    .iter()
                    .map(|a| a.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| bad("\"args\" as an array of strings"))?,
                Some(_) => return Err(bad("\"args\" as an array of strings")),
            };
            let render = match obj.get("output").and_then(J::as_str) {
                None | Some("objects") => Render::Objects,
                Some("text") => Render::Text {
                    width: obj
                        .get("width")
                        .and_then(J::as_u64)
                        .map_or(120, |w| w.clamp(20, 1000) as usize),
                },
                Some(_) => return Err(bad("\"output\" to be \"objects\" or \"text\"")),
            };
            Ok(Request::Invoke(Invocation {
                id,
                script: script.to_string(),
                args,
                render,
            }))
        }
        "complete" => {
            let id = need_id()?;
            let line = obj.get("line").and_then(J::as_str).ok_or((
                Some(id),
                "The 'complete' request needs a \"line\" string.".into(),
            ))?;
            let cursor = obj
                .get("cursor")
                .and_then(J::as_u64)
                .map_or(line.chars().count(), |c| c as usize);
            Ok(Request::Complete {
                id,
                line: line.to_string(),
                cursor,
            })
        }
        "cancel" => Ok(Request::Cancel { id }),
        "" => Err((id, "The request has no \"op\".".into())),
        other => Err((id, format!("Unknown op '{other}'."))),
    }
}

/// The session input a request line amounts to; `None` for a `cancel`,
/// which acts at once.
pub fn to_input(worker: &Worker, line: &[u8]) -> Option<Input> {
    match parse_request(line) {
        Ok(Request::Invoke(inv)) => Some(Input::Invoke(inv)),
        Ok(Request::Complete { id, line, cursor }) => Some(Input::Complete { id, line, cursor }),
        Ok(Request::Cancel { id }) => {
            worker.cancel_request(id);
            None
        }
        Err((id, message)) => Some(Input::Bad { id, message }),
    }
}

fn to_line(v: J) -> Vec<u8> {
    let mut s = v.to_string().into_bytes();
    s.push(b'\n');
    s
}

pub fn hello_line(user: &str, roles: &[String]) -> Vec<u8> {
    to_line(json!({"op": "hello", "version": VERSION, "user": user, "roles": roles}))
}

/// An error of the protocol itself (a bad request, a refused session, a
/// spent output budget): no record behind it, so its text is its message.
pub fn error_line(id: u64, message: &str, kind: &str) -> Vec<u8> {
    to_line(json!({
        "id": id,
        "stream": "error",
        "error": {"message": message, "kind": kind, "text": message},
    }))
}

/// An error record raised by the script, with the fields a program needs
/// to act on it and the text the local shell would print.
pub fn error_record_line(id: u64, rec: &ErrorRecord) -> Vec<u8> {
    let position = rec.position.as_ref().map_or(J::Null, |p| {
        let (line, column) = p.line_col();
        json!({"line": line, "column": column})
    });
    to_line(json!({
        "id": id,
        "stream": "error",
        "error": {
            "message": rec.message,
            "kind": &*rec.error_id,
            "category": rec.category.name(),
            "exception": &*rec.exception_type,
            "target": to_json(&rec.target, 0),
            "position": position,
            "text": rec.render_concise().trim_end_matches('\n'),
        },
    }))
}

pub fn text_line(id: u64, stream: &str, text: &str) -> Vec<u8> {
    to_line(json!({"id": id, "stream": stream, "text": text}))
}

pub fn state_line(id: u64, state: &str, exit: Option<i32>) -> Vec<u8> {
    to_line(state_json(id, state, exit))
}

/// The state after the script ran `exit N`: marked, so an interactive
/// client can end its session, which it must not do on a mere failure.
pub fn exited_line(id: u64, state: &str, code: i32) -> Vec<u8> {
    let mut v = state_json(id, state, Some(code));
    v["exited"] = J::Bool(true);
    to_line(v)
}

fn state_json(id: u64, state: &str, exit: Option<i32>) -> J {
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("state".into(), json!(state));
    if let Some(n) = exit {
        m.insert("exit".into(), json!(n));
    }
    J::Object(m)
}

pub fn stream_name(s: Stream) -> &'static str {
    match s {
        Stream::Output => "host",
        Stream::Error => "error",
        Stream::Warning => "warning",
        Stream::Verbose => "verbose",
        Stream::Debug => "debug",
        Stream::Information => "information",
    }
}

/// A value as JSON: numbers and booleans as themselves, objects by their
/// properties, everything else by its text.
pub fn to_json(v: &Value, depth: usize) -> J {
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(n) => json!(n),
        Value::Long(n) => json!(n),
        Value::Double(d) => {
            serde_json::Number::from_f64(*d).map_or(J::String(v.to_string()), J::Number)
        }
        Value::Single(f) => {
            serde_json::Number::from_f64(f64::from(*f)).map_or(J::String(v.to_string()), J::Number)
        }
        Value::Decimal(d) => d
            .to_string()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(J::String(d.to_string()), J::Number),
        Value::DateTime(d) => J::String(d.format("%Y-%m-%dT%H:%M:%S%.f").to_string()),
        Value::Array(a) => {
            if depth >= MAX_DEPTH {
                return J::String(v.to_string());
            }
            J::Array(
                a.items
                    .borrow()
                    .iter()
                    .map(|x| to_json(x, depth + 1))
                    .collect(),
            )
        }
        Value::Hashtable(h) => {
            if depth >= MAX_DEPTH {
                return J::String(v.to_string());
            }
            let mut m = Map::new();
            for (k, val) in h.borrow().entries() {
                m.insert(k.to_string(), to_json(val, depth + 1));
            }
            J::Object(m)
        }
        Value::Object(o) => {
            let o = o.borrow();
            if depth >= MAX_DEPTH {
                return J::String(
                    o.display
                        .as_deref()
                        .map_or_else(|| v.to_string(), str::to_string),
                );
            }
            let mut m = Map::new();
            for p in o.props() {
                if matches!(p.kind, PropKind::Method | PropKind::Alias) {
                    continue;
                }
                m.insert(p.name.to_string(), to_json(&p.value, depth + 1));
            }
            J::Object(m)
        }
        _ => J::String(v.to_string()),
    }
}

/// Output objects of an `invoke`: JSON with a text rendering.
pub struct ObjectSink {
    pub out: Rc<RefCell<Out>>,
}

impl Sink for ObjectSink {
    fn emit(&mut self, it: &mut Interp, v: Value) -> Res<()> {
        it.check_stop()?;
        let v = it.display_snapshot(v);
        let text = crate::format::render_all(std::slice::from_ref(&v), it.host.width());
        let text = text.trim_matches('\n');
        let mut out = self.out.borrow_mut();
        let line = to_line(json!({
            "id": out.id,
            "stream": "output",
            "object": to_json(&v, 0),
            "text": text,
        }));
        out.line(line);
        Ok(())
    }
}

/// Answers a `complete` request from the session's snapshot. The
/// request's cursor and the reply's `start`/`end` count characters, as a
/// client's line editor does; the engine works in bytes.
pub fn complete(snap: &Snapshot, id: u64, line: &str, cursor: usize) -> Vec<u8> {
    let pos = line
        .char_indices()
        .nth(cursor)
        .map_or(line.len(), |(i, _)| i);
    let c = crate::complete::complete(snap, line, pos);
    let chars = |byte: usize| line.get(..byte).map_or(0, |s| s.chars().count());
    let matches: Vec<J> = c
        .items
        .iter()
        .map(|i| json!({"text": i.value, "description": i.description, "space": i.space}))
        .collect();
    to_line(json!({
        "id": id,
        "op": "completion",
        "start": chars(c.start),
        "end": chars(c.end),
        "matches": matches,
    }))
}

/// `lyncsh -sshs`: the protocol over standard input and output, for
/// OpenSSH's sshd (`Subsystem lyncsh /usr/bin/lyncsh -sshs`). The account
/// is the SSH user: `$USER` as sshd sets it, else the name of the real
/// user. Its roles, the remote session's language (no file system unless
/// `--allow-file-system` or the account's `--allow-directory`) and limits
/// hold exactly as in `lyncsh serve`; an account without a role is refused
/// (exit status 1).
pub fn serve_stdio(
    store: std::path::PathBuf,
    file_system: bool,
    directories: &[(String, std::path::PathBuf)],
) -> i32 {
    let Some(account) = stdio_account() else {
        eprintln!(
            "lyncsh -sshs: cannot tell which account this session is for: $USER is not set and the user id has no name"
        );
        return 1;
    };
    let root = if file_system {
        None
    } else {
        super::directories::for_account(directories, &account)
    };
    // Silent until the client speaks: a PSRP client must not see a hello.
    let psrp = match first_byte() {
        Some(b) => b == b'<',
        None => return 0,
    };
    let cfg = SessionConfig {
        store,
        account,
        enforce_roles: true,
        limits: Some(RemoteLimits {
            file_system,
            root,
            ..RemoteLimits::default()
        }),
    };
    let mode = if psrp { Mode::Psrp } else { Mode::Protocol };
    // A session process is relayed by a task, and its output written by
    // another: one worker thread runs both here, as the server's runtime
    // does there.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("lyncsh-relay")
        .enable_io()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lyncsh: cannot start the session: {e}");
            return 70;
        }
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Ev>(64);
    let (exit_tx, exit_rx) = std::sync::mpsc::channel();
    runtime.spawn(async move {
        while let Some(ev) = rx.recv().await {
            match ev {
                Ev::Stdout(b) => {
                    let mut o = std::io::stdout().lock();
                    if o.write_all(&b).is_err() || o.flush().is_err() {
                        break;
                    }
                }
                Ev::Stderr(b) => {
                    let _ = std::io::stderr().lock().write_all(&b);
                }
                Ev::Exit(n) => {
                    let _ = exit_tx.send(n);
                    return;
                }
            }
        }
        // The client is gone: nobody is left to read the session.
        let _ = exit_tx.send(1);
    });
    let spawned = {
        let _on = runtime.enter();
        worker::spawn(cfg, mode, Outlet { tx, keep: None })
    };
    let worker = match spawned {
        Ok(w) => w,
        Err(e) => {
            eprintln!("lyncsh: cannot start the session: {e}");
            return 70;
        }
    };
    // Requests are read on a thread of their own, so that a session that
    // ends (refused, or gone) ends the process without waiting for input.
    let reader = std::thread::Builder::new()
        .name("lyncsh-sshs-input".into())
        .spawn(move || read_requests(worker, psrp));
    if let Err(e) = reader {
        eprintln!("lyncsh: cannot start the session: {e}");
        return 70;
    }
    exit_rx.recv().unwrap_or(70)
}

/// Feeds standard input's request lines to the session until EOF, then
/// lets it finish what is queued.
fn read_requests(worker: Worker, psrp: bool) {
    let mut stdin = std::io::stdin().lock();
    let mut line = Vec::new();
    let max = if psrp {
        super::psrp::packets::MAX_LINE
    } else {
        MAX_LINE
    };
    loop {
        line.clear();
        let input = match read_bounded_line(&mut stdin, &mut line, max) {
            Ok(LineRead::Eof) | Err(_) => break,
            Ok(LineRead::TooLong) if psrp => Some(Input::TooLong),
            Ok(LineRead::TooLong) => Some(Input::Bad {
                id: None,
                message: "The request line is longer than this session accepts.".into(),
            }),
            Ok(LineRead::Line) if psrp => super::channel::psrp_line(&worker, trim_eol(&line)),
            Ok(LineRead::Line) => {
                let l = trim_eol(&line);
                if l.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                to_input(&worker, l)
            }
        };
        // The session's queue is small and bounded: a client that sends
        // faster than the session runs waits here, through the pipe.
        if let Some(input) = input
            && !worker.send_blocking(input)
        {
            break;
        }
    }
    worker.wait();
}

/// The first byte the client sends that is not white space, left unread;
/// `None` at the end of input.
fn first_byte() -> Option<u8> {
    let mut stdin = std::io::stdin().lock();
    loop {
        let buf = stdin.fill_buf().ok()?;
        if buf.is_empty() {
            return None;
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let b = buf[i];
                stdin.consume(i);
                return Some(b);
            }
            None => {
                let n = buf.len();
                stdin.consume(n);
            }
        }
    }
}

/// The SSH user of a `-sshs` session.
fn stdio_account() -> Option<String> {
    if let Some(user) = std::env::var("USER").ok().filter(|u| !u.is_empty()) {
        return Some(user);
    }
    uzers::get_current_username().map(|n| n.to_string_lossy().into_owned())
}

pub enum LineRead {
    Line,
    TooLong,
    Eof,
}

/// Reads a line of at most `max` bytes; a longer one is skipped to its end.
pub fn read_bounded_line(
    r: &mut impl BufRead,
    out: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<LineRead> {
    let mut too_long = false;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(if too_long {
                LineRead::TooLong
            } else if out.is_empty() {
                LineRead::Eof
            } else {
                LineRead::Line
            });
        }
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..=i], true),
            None => (buf, false),
        };
        let n = chunk.len();
        if !too_long {
            if out.len() + n > max {
                too_long = true;
                out.clear();
            } else {
                out.extend_from_slice(chunk);
            }
        }
        r.consume(n);
        if done {
            return Ok(if too_long {
                LineRead::TooLong
            } else {
                LineRead::Line
            });
        }
    }
}

pub fn trim_eol(line: &[u8]) -> &[u8] {
    let mut l = line;
    while let [rest @ .., b'\n' | b'\r'] = l {
        l = rest;
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        assert_eq!(
            parse_request(br#"{"id":1,"op":"invoke","script":"1+1"}"#),
            Ok(Request::Invoke(Invocation {
                id: 1,
                script: "1+1".into(),
                args: Vec::new(),
                render: Render::Objects,
            }))
        );
        assert_eq!(
            parse_request(
                br#"{"id":2,"op":"invoke","script":"$args","args":["a","-B"],"output":"text","width":5}"#
            ),
            Ok(Request::Invoke(Invocation {
                id: 2,
                script: "$args".into(),
                args: vec!["a".into(), "-B".into()],
                render: Render::Text { width: 20 },
            }))
        );
        assert_eq!(
            parse_request(br#"{"id":5,"op":"invoke","script":"1","args":[1]}"#),
            Err((
                Some(5),
                "The 'invoke' request needs \"args\" as an array of strings.".into()
            ))
        );
        assert_eq!(
            parse_request(br#"{"op":"cancel","id":3}"#),
            Ok(Request::Cancel { id: Some(3) })
        );
        assert!(parse_request(b"{nope").is_err());
        assert!(parse_request(b"\xff\xfe").is_err());
        assert!(parse_request(br#"[1,2]"#).is_err());
        assert_eq!(
            parse_request(br#"{"id":4,"op":"invoke"}"#)
                .err()
                .map(|e| e.0),
            Some(Some(4))
        );
        assert!(parse_request(br#"{"id":"x","op":"invoke","script":""}"#).is_err());
    }

    fn parsed(line: Vec<u8>) -> J {
        assert_eq!(line.last(), Some(&b'\n'));
        serde_json::from_slice(&line).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn an_error_record_travels_with_its_fields() {
        use crate::runtime::error::ErrorCategory;
        use crate::syntax::Source;
        use crate::syntax::ast::Span;
        let src = Rc::new(Source::new(None, "$n = 1\n$n.Foo()".into()));
        let rec = ErrorRecord::new(
            "Method invocation failed because [System.Int32] does not contain a method named 'Foo'.",
            "MethodNotFound",
            ErrorCategory::InvalidOperation,
        )
        .with_target(Value::Int(1))
        .at(&src, Span::new(7, 15));
        assert_eq!(
            parsed(error_record_line(4, &rec)),
            json!({
                "id": 4,
                "stream": "error",
                "error": {
                    "message": "Method invocation failed because [System.Int32] does not contain a method named 'Foo'.",
                    "kind": "MethodNotFound",
                    "category": "InvalidOperation",
                    "exception": "System.Management.Automation.RuntimeException",
                    "target": 1,
                    "position": {"line": 2, "column": 1},
                    "text": "InvalidOperation: \nLine |\n   2 |  $n.Foo()\n     |  ~~~~~~~~\n     | Method invocation failed because [System.Int32] does not contain a method named 'Foo'.",
                },
            })
        );
        // Without a position or a target, both are null.
        let rec = ErrorRecord::new("nope", "Custom", ErrorCategory::NotSpecified)
            .with_exception("System.Exception");
        let line = parsed(error_record_line(5, &rec));
        assert_eq!(line["error"]["position"], J::Null);
        assert_eq!(line["error"]["target"], J::Null);
        assert_eq!(line["error"]["text"], "RuntimeException: nope");
    }

    #[test]
    fn a_protocol_error_has_its_message_as_text() {
        assert_eq!(
            parsed(error_line(0, "Too many requests.", "Busy")),
            json!({
                "id": 0,
                "stream": "error",
                "error": {"message": "Too many requests.", "kind": "Busy", "text": "Too many requests."},
            })
        );
    }

    #[test]
    fn completion_positions_count_characters() {
        use crate::complete::{CommandEntry, ParamEntry};
        let mut snap = Snapshot::default();
        snap.commands.push(CommandEntry {
            name: "Get-CsUser".into(),
            kind: "Cmdlet",
            params: vec![ParamEntry {
                name: "Identity".into(),
                ty: "[UserIdParameter]".into(),
                values: Vec::new(),
            }],
        });
        snap.variables = vec![("größe".into(), Vec::new())];
        // `ö` and `ü` take two bytes each; the client counts characters.
        let line = "'über'; Get-CsUser -Id";
        assert_eq!(
            parsed(complete(&snap, 7, line, 22)),
            json!({
                "id": 7,
                "op": "completion",
                "start": 19,
                "end": 22,
                "matches": [{"text": "-Identity", "description": "[UserIdParameter]", "space": true}],
            })
        );
        let line = "$grö + 1";
        assert_eq!(
            parsed(complete(&snap, 8, line, 4)),
            json!({
                "id": 8,
                "op": "completion",
                "start": 0,
                "end": 4,
                "matches": [{"text": "$größe", "description": null, "space": false}],
            })
        );
        // A cursor past the end completes at the end.
        let reply = parsed(complete(&snap, 9, "Get-Cs", 99));
        assert_eq!(reply["end"], 6);
        assert_eq!(reply["matches"][0]["text"], "Get-CsUser");
    }

    #[test]
    fn bounded_lines() {
        let data = b"short\nthis one is far too long\nok\nlast";
        let mut r = std::io::BufReader::with_capacity(4, &data[..]);
        let mut got = Vec::new();
        loop {
            let mut line = Vec::new();
            match read_bounded_line(&mut r, &mut line, 10) {
                Ok(LineRead::Eof) => break,
                Ok(LineRead::TooLong) => got.push("<long>".to_string()),
                Ok(LineRead::Line) => got.push(String::from_utf8_lossy(trim_eol(&line)).into()),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(got, ["short", "<long>", "ok", "last"]);
    }
}
