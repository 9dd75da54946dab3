//! `lyncsh -HostName user@host`: the local shell's editor (highlighting,
//! history, multi-line input) in front of a remote session. Commands run
//! on the server and come back formatted for this terminal; Tab asks the
//! server, which knows the session's variables and what its roles allow.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use lyncsh::host::{ConsoleHost, Host};
use lyncsh::remote::client::Remote;
use reedline::{Completer, Signal, Suggestion};

use lyncsh::complete::{CommandEntry, Snapshot};

use super::{Shared, prompt};

/// Exit status when the connection is lost, as OpenSSH's client gives.
pub const LOST: i32 = 255;

struct RemoteCompleter {
    remote: Arc<Mutex<Remote>>,
}

impl Completer for RemoteCompleter {
    fn complete(&mut self, line: &str, pos: usize) -> Vec<Suggestion> {
        let Ok(mut remote) = self.remote.lock() else {
            return Vec::new();
        };
        remote
            .complete(line, pos)
            .map(super::completer::suggestions)
            .unwrap_or_default()
    }
}

/// The read-run loop against the server. Returns the exit status.
pub fn run(mut remote: Remote, cancel: Arc<AtomicBool>) -> i32 {
    // The highlighter marks unknown commands: it needs the names the
    // session may run, fetched once.
    let names = remote.command_names().unwrap_or_default();
    let shared: Shared = Arc::new(Mutex::new(Snapshot {
        commands: names
            .into_iter()
            .map(|name| CommandEntry {
                name,
                kind: "Cmdlet",
                params: Vec::new(),
            })
            .collect(),
        ..Snapshot::default()
    }));
    let prompt = prompt::ReplPrompt {
        text: format!("[{}]: {}", remote.target.host, prompt::DEFAULT),
    };
    let remote = Arc::new(Mutex::new(remote));
    let mut ed = super::editor(
        &shared,
        Box::new(RemoteCompleter {
            remote: remote.clone(),
        }),
    );
    let mut host = ConsoleHost::new(true);
    loop {
        match ed.read_line(&prompt) {
            Ok(Signal::Success(line)) => {
                if line.trim().is_empty() {
                    continue;
                }
                cancel.store(false, Ordering::SeqCst);
                let Ok(mut r) = remote.lock() else {
                    return LOST;
                };
                // The terminal may have been resized since the last line.
                let width = lyncsh::host::terminal_width().unwrap_or(host.width);
                let done = r.invoke(&line, &[], width, &cancel, |s, t| host.write(s, t));
                match done {
                    Ok(f) if f.exited => return f.exit_code(true),
                    Ok(f) if f.state == "stopped" => println!(),
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("lyncsh: {e}");
                        return LOST;
                    }
                }
            }
            Ok(Signal::CtrlC) => continue,
            Ok(Signal::CtrlD) => break,
            Ok(_) => continue,
            Err(e) => {
                eprintln!("lyncsh: cannot read the terminal: {e}");
                return 74;
            }
        }
    }
    drop(ed);
    if let Ok(Ok(r)) = Arc::try_unwrap(remote).map(Mutex::into_inner) {
        r.close();
    }
    0
}
