//! Where the Control Panel's work on the store happens: a few threads,
//! each with an engine of its own (the engine and the interpreter are not
//! `Send`), taking jobs from the web tasks. Reads call the engine's
//! functions; changes run the equivalent shell command in an interpreter
//! under the web account and its roles, so validation, error texts, RBAC
//! and the change log are the cmdlets' own.

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use crate::config::Engine;
use crate::config::roles;
use crate::host::{Host, Stream};
use crate::runtime::Interp;
use crate::runtime::error::ErrorRecord;
use crate::runtime::interp::Discard;
use crate::runtime::session::Outcome;
use crate::syntax::Source;

/// The interpreter recurses: each desk thread gets a roomy stack.
const STACK: usize = 64 << 20;

type Job = Box<dyn FnOnce(&mut Seat) + Send>;

/// What a desk thread holds between jobs.
pub struct Seat {
    store: PathBuf,
    engine: Option<Engine>,
}

impl Seat {
    /// The thread's engine for reads, opened on first use.
    fn engine(&mut self) -> Result<&Engine, String> {
        if self.engine.is_none() {
            let e = Engine::open(&self.store, "web").map_err(|e| e.to_string())?;
            self.engine = Some(e);
        }
        self.engine
            .as_ref()
            .ok_or_else(|| "the store is not open".to_string())
    }
}

/// The pool of desk threads.
#[derive(Clone)]
pub struct Desk {
    jobs: mpsc::SyncSender<Job>,
}

/// Why a change was not made.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The account's roles do not allow the cmdlet.
    Forbidden(String),
    /// The cmdlet ran and reported these errors (its own words).
    Errors(Vec<String>),
}

/// Says when every desk thread has ended, its store closed.
pub struct Closed(mpsc::Receiver<()>);

impl Closed {
    /// Waits until the desk threads have ended (they end once every
    /// [`Desk`] is dropped), at most `limit`.
    pub fn wait(self, limit: Duration) {
        // Each thread holds a sender: all gone is the end.
        let _ = self.0.recv_timeout(limit);
    }
}

impl Desk {
    pub fn new(store: PathBuf, threads: usize) -> std::io::Result<(Desk, Closed)> {
        let (tx, rx) = mpsc::sync_channel::<Job>(1024);
        let rx = Arc::new(Mutex::new(rx));
        let (ended, closed) = mpsc::channel::<()>();
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let store = store.clone();
            let ended = ended.clone();
            std::thread::Builder::new()
                .name(format!("web-desk-{i}"))
                .stack_size(STACK)
                .spawn(move || {
                    let _ended = ended;
                    let mut seat = Seat {
                        store,
                        engine: None,
                    };
                    loop {
                        let job = {
                            let Ok(rx) = rx.lock() else { return };
                            match rx.recv() {
                                Ok(j) => j,
                                Err(_) => return,
                            }
                        };
                        job(&mut seat);
                    }
                })?;
        }
        Ok((Desk { jobs: tx }, Closed(closed)))
    }

    /// Runs `f` on a desk thread with its engine; every read it makes is
    /// one snapshot, let go when it returns.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Engine) -> Result<T, String> + Send + 'static,
    ) -> Result<T, String> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |seat: &mut Seat| {
            let r = match seat.engine() {
                Ok(e) => {
                    let r = f(e);
                    e.rollback();
                    r
                }
                Err(e) => Err(e),
            };
            let _ = tx.send(r);
        });
        self.jobs
            .send(job)
            .map_err(|_| "the Control Panel is shutting down".to_string())?;
        rx.await
            .map_err(|_| "the request was dropped".to_string())?
    }

    /// The roles `account` holds now.
    pub async fn roles(&self, account: &str) -> Result<Vec<String>, String> {
        let account = account.to_string();
        self.read(move |e| roles::roles_of(e, &account).map_err(|e| e.to_string()))
            .await
    }

    /// Runs one shell command as `account`: refused before it runs when
    /// the account's roles (read now) do not allow `cmdlet`.
    pub async fn run(&self, account: &str, cmdlet: &str, command: &str) -> Result<(), Refusal> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (account, cmdlet, command) =
            (account.to_string(), cmdlet.to_string(), command.to_string());
        let job: Job = Box::new(move |seat: &mut Seat| {
            let _ = tx.send(run_command(&seat.store, &account, &cmdlet, &command));
        });
        if self.jobs.send(job).is_err() {
            return Err(Refusal::Errors(vec![
                "The Control Panel is shutting down.".into(),
            ]));
        }
        rx.await
            .unwrap_or_else(|_| Err(Refusal::Errors(vec!["The request was dropped.".into()])))
    }
}

/// Collects what a command reports as errors.
#[derive(Default)]
struct WebHost {
    errors: Rc<std::cell::RefCell<Vec<String>>>,
}

impl Host for WebHost {
    fn write(&mut self, stream: Stream, text: &str) {
        if matches!(stream, Stream::Error) {
            let t = text.trim();
            if !t.is_empty() {
                self.errors.borrow_mut().push(t.to_string());
            }
        }
    }

    fn write_error(&mut self, rec: &ErrorRecord) {
        self.errors.borrow_mut().push(rec.message.to_string());
    }
}

fn run_command(
    store: &std::path::Path,
    account: &str,
    cmdlet: &str,
    command: &str,
) -> Result<(), Refusal> {
    let errors = Rc::new(std::cell::RefCell::new(Vec::new()));
    let host = WebHost {
        errors: errors.clone(),
    };
    let mut it = Interp::new(Box::new(host));
    it.account = account.to_string();
    it.store_path = Some(store.to_path_buf());
    it.limits.file_system = false;
    let engine = it
        .engine()
        .map_err(|e| Refusal::Errors(vec![e.message.to_string()]))?;
    let held = roles::roles_of(&engine, account);
    engine.rollback();
    let held = held.map_err(|e| Refusal::Errors(vec![e.to_string()]))?;
    if !roles::allowed(&held, cmdlet) {
        return Err(Refusal::Forbidden(format!(
            "The account '{account}' holds no role that may run {cmdlet}."
        )));
    }
    it.roles = Some(Rc::from(held));
    let src = Rc::new(Source::new(None, command.to_string()));
    let outcome = it.run_text_to(src, Vec::new(), &mut Discard);
    let errors = errors.borrow().clone();
    match outcome {
        Outcome::Completed { .. } if errors.is_empty() => Ok(()),
        _ if errors.is_empty() => Err(Refusal::Errors(vec![
            "The command did not complete.".into(),
        ])),
        _ => Err(Refusal::Errors(errors)),
    }
}
