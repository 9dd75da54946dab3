//! The runspace pool: a PSRP session's side of the protocol, running in
//! the session's interpreter thread (or process) like the JSON protocol,
//! so roles, the remote language, limits and the change log hold the
//! same. It takes the client's events from the [`Wire`], answers the
//! pool's messages and runs pipelines in the order they are started: the
//! pool has one runspace, as pwsh's `Invoke-Command` and `Enter-PSSession`
//! open it, so a pipeline started while another runs waits for it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::Ordering;

use uuid::Uuid;

use super::host_calls::HostCalls;
use super::message::{self, Message};
use super::out::Target;
use super::pipeline::{self, Spec};
use super::wire::{Event, Wire};
use super::{packets, records};
use crate::clixml;
use crate::remote::worker::{Inbox, Runner};
use crate::runtime::Interp;
use crate::runtime::error::{ErrorCategory, ErrorRecord, Res};
use crate::runtime::interp::Sink;
use crate::runtime::session::Outcome;
use crate::runtime::value::Value;
use crate::syntax::Source;

/// Most objects piped into one pipeline.
const MAX_INPUT: usize = 1_000_000;

/// Prefix of the variables that carry argument values into a script.
const VAR: &str = "__psrp";

/// What `prompt` returns when the session defines no prompt function:
/// the local shell's default prompt (the client puts `[host]: ` before it).
const DEFAULT_PROMPT: &str = "PS lyncsh> ";

/// The id a pipeline's Signal cancels it by (see `Worker::cancel_request`).
pub fn signal_id(pid: Uuid) -> u64 {
    let b = pid.as_bytes();
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]).max(1)
}

/// A pipeline waiting for its input to end.
struct Waiting {
    spec: Spec,
    input: Vec<Value>,
}

#[derive(Default)]
struct Pool {
    waiting: HashMap<Uuid, Waiting>,
}

/// Serves the client until it closes the pool or goes; the exit status is
/// 1 after a protocol error (reported to the client first).
pub(in crate::remote) fn serve(run: &mut Runner, inbox: Inbox, user: &str) -> i32 {
    run.out.borrow_mut().psrp = Some(Target::new(user));
    let wire = Rc::new(RefCell::new(Wire::new(inbox, run.out.clone())));
    *run.ask.borrow_mut() = Some(Box::new(HostCalls::new(wire.clone(), run.out.clone())));
    let mut pool = Pool::default();
    loop {
        if run.ended() {
            return 0;
        }
        let event = wire.borrow_mut().next_event();
        let result = match event {
            Event::Message(guid, m) => pool.message(run, guid, m),
            Event::Signal(g) => {
                // A signal for a pipeline that never ran here (or already
                // ended) must not stay behind for a later one.
                run.forget_cancel(signal_id(g));
                if pool.waiting.remove(&g).is_some() {
                    stopped(run, g);
                }
                send(run, packets::ack("SignalAck", g));
                Ok(())
            }
            Event::Close(g) if g.is_nil() => {
                // pypsrp waits for the pool's Closed state; pwsh takes it.
                message(
                    run,
                    message::RUNSPACEPOOL_STATE,
                    Uuid::nil(),
                    &records::pool_state(3),
                );
                send(run, packets::ack("CloseAck", g));
                return 0;
            }
            Event::Close(g) => {
                pool.waiting.remove(&g);
                send(run, packets::ack("CloseAck", g));
                Ok(())
            }
            Event::Eof => return 0,
            Event::Fatal(msg) => Err(msg),
        };
        if let Err(msg) = result {
            run.out.borrow_mut().control(packets::fatal(&msg));
            return 1;
        }
    }
}

fn send(run: &Runner, bytes: Vec<u8>) {
    run.out.borrow_mut().control(bytes);
}

/// A message to the client, built by the session's target.
fn message(run: &Runner, kind: u32, pid: Uuid, xml: &str) {
    let bytes = with_target(run, |t| t.message(kind, pid, xml));
    send(run, bytes);
}

fn with_target<T>(run: &Runner, f: impl FnOnce(&mut Target) -> T) -> T {
    let mut out = run.out.borrow_mut();
    let t = out.psrp.get_or_insert_with(|| Target::new(""));
    f(t)
}

impl Pool {
    fn message(&mut self, run: &mut Runner, guid: Uuid, m: Message) -> Result<(), String> {
        match m.kind {
            message::SESSION_CAPABILITY => {
                let xml = records::session_capability();
                let bytes = with_target(run, |t| {
                    t.message_with(m.kind, Uuid::nil(), Uuid::nil(), &xml)
                });
                send(run, bytes);
            }
            message::INIT_RUNSPACEPOOL => {
                with_target(run, |t| t.rpid = m.rpid);
                let data = records::application_private_data();
                message(run, message::APPLICATION_PRIVATE_DATA, Uuid::nil(), &data);
                message(
                    run,
                    message::RUNSPACEPOOL_STATE,
                    Uuid::nil(),
                    &records::pool_state(2),
                );
            }
            message::CREATE_PIPELINE => {
                let spec = clixml::parse(&m.data)
                    .map_err(|e| e.to_string())
                    .and_then(|root| pipeline::parse(&root));
                match spec {
                    Err(why) => failed(run, guid, &format!("The pipeline cannot be read: {why}.")),
                    Ok(spec) if spec.no_input => run_pipeline(run, guid, spec, None),
                    Ok(spec) => {
                        self.waiting.insert(
                            guid,
                            Waiting {
                                spec,
                                input: Vec::new(),
                            },
                        );
                    }
                }
            }
            message::PIPELINE_INPUT => {
                let Some(w) = self.waiting.get_mut(&guid) else {
                    return Ok(());
                };
                if w.input.len() >= MAX_INPUT {
                    return Err(format!("More than {MAX_INPUT} objects were piped in."));
                }
                let v = clixml::parse(&m.data)
                    .and_then(|n| clixml::to_value(&n))
                    .map_err(|e| format!("Pipeline input cannot be read: {e}."))?;
                w.input.push(v);
            }
            message::END_OF_PIPELINE_INPUT => {
                if let Some(w) = self.waiting.remove(&guid) {
                    run_pipeline(run, guid, w.spec, Some(w.input));
                }
            }
            message::GET_COMMAND_METADATA => command_metadata(run, guid, &m.data),
            k if message::known_from_client(k) => {}
            k => return Err(format!("Unknown PSRP message type 0x{k:08X}.")),
        }
        Ok(())
    }
}

/// GET_COMMAND_METADATA (Enter-PSSession checks that `Out-Default` and
/// `Exit-PSSession` exist): the count, then one object per name.
fn command_metadata(run: &mut Runner, pid: Uuid, data: &[u8]) {
    // As before a statement: a demoted account is told only of what it
    // may still run.
    run.it.refresh_roles();
    let names: Vec<String> = clixml::parse(data)
        .ok()
        .and_then(|root| {
            root.prop("Name").map(|n| {
                n.items()
                    .iter()
                    .map(|s| clixml::unescape(&s.text))
                    .collect()
            })
        })
        .unwrap_or_default();
    let found: Vec<(String, i32)> = names
        .into_iter()
        .filter(|n| !n.contains(['*', '?', '[']))
        .filter_map(|n| {
            let special = ["Out-Default", "Exit-PSSession"]
                .iter()
                .any(|s| s.eq_ignore_ascii_case(&n));
            if special || (run.it.registry.get(&n).is_some() && run.it.may_run(&n)) {
                Some((n, 8))
            } else if run.it.scopes.function(&n).is_some() {
                Some((n, 2))
            } else {
                None
            }
        })
        .collect();
    message(
        run,
        message::PIPELINE_OUTPUT,
        pid,
        &records::metadata_count(found.len()),
    );
    for (n, ty) in &found {
        message(
            run,
            message::PIPELINE_OUTPUT,
            pid,
            &records::command_metadata(n, *ty),
        );
    }
    message(
        run,
        message::PIPELINE_STATE,
        pid,
        &records::pipeline_state(records::COMPLETED, None),
    );
}

fn stopped(run: &Runner, pid: Uuid) {
    let rec = ErrorRecord::new(
        "The pipeline has been stopped.",
        "PipelineStopped",
        ErrorCategory::OperationStopped,
    )
    .with_exception("System.Management.Automation.PipelineStoppedException");
    let xml = records::pipeline_state(records::STOPPED, Some(&rec));
    message(run, message::PIPELINE_STATE, pid, &xml);
}

fn failed(run: &Runner, pid: Uuid, why: &str) {
    let rec = ErrorRecord::new(why, "InvalidPipeline", ErrorCategory::InvalidData);
    let xml = records::pipeline_state(records::FAILED, Some(&rec));
    message(run, message::PIPELINE_STATE, pid, &xml);
}

/// Output objects of a pipeline, as PIPELINE_OUTPUT messages.
struct PsrpSink {
    out: Rc<std::cell::RefCell<crate::remote::worker::Out>>,
}

impl Sink for PsrpSink {
    fn emit(&mut self, it: &mut Interp, v: Value) -> Res<()> {
        it.check_stop()?;
        let v = it.display_snapshot(v);
        let xml = records::output(&v);
        let mut out = self.out.borrow_mut();
        let bytes = match out.psrp.as_mut() {
            Some(t) => t.to_pipeline(message::PIPELINE_OUTPUT, &xml),
            None => return Ok(()),
        };
        out.line(bytes);
        Ok(())
    }
}

fn run_pipeline(run: &mut Runner, pid: Uuid, spec: Spec, input: Option<Vec<Value>>) {
    let id = signal_id(pid);
    if run.take_cancelled(id) {
        return stopped(run, pid);
    }
    let text = spec.renders_text();
    let first = spec.first();
    // `exit` at an Enter-PSSession prompt: the client pops the session.
    if first.is_some_and(|c| c.is("Exit-PSSession")) {
        let xml = records::host_call(-100, records::POP_RUNSPACE, &[]);
        message(run, message::PIPELINE_HOST_CALL, pid, &xml);
        let xml = records::pipeline_state(records::COMPLETED, None);
        return message(run, message::PIPELINE_STATE, pid, &xml);
    }
    // The console's prompt, when the session defines none of its own.
    if spec.statements.len() == 1
        && spec.statements[0].len() == 1
        && first.is_some_and(|c| c.is("prompt") && c.args.is_empty())
        && run.it.scopes.function("prompt").is_none()
    {
        let xml = records::output(&Value::from(DEFAULT_PROMPT));
        message(run, message::PIPELINE_OUTPUT, pid, &xml);
        let xml = records::pipeline_state(records::COMPLETED, None);
        return message(run, message::PIPELINE_STATE, pid, &xml);
    }
    let input_var = format!("{VAR}_input");
    let piped = input.as_ref().map(|_| input_var.as_str());
    let (script, values) = match pipeline::script(&spec, VAR, piped, text) {
        Ok(s) => s,
        Err(why) => return failed(run, pid, &format!("The pipeline cannot be run: {why}.")),
    };
    for (i, v) in values.into_iter().enumerate() {
        run.it.set_global(&format!("{VAR}{i}"), v);
    }
    if let Some(items) = input {
        run.it.set_global(&input_var, Value::array(items));
    }
    with_target(run, |t| {
        t.pid = pid;
        t.text = text;
    });
    run.shared.running.store(id, Ordering::SeqCst);
    run.start();
    let src = Rc::new(Source::new(None, script));
    let outcome = if text {
        run.it.run_text(src, Vec::new())
    } else {
        let mut sink = PsrpSink {
            out: run.out.clone(),
        };
        run.it.run_text_to(src, Vec::new(), &mut sink)
    };
    run.stop();
    run.shared.running.store(0, Ordering::SeqCst);
    let cap_hit = run.out.borrow().cap_hit();
    let failed_run = matches!(outcome, Outcome::Failed) && !text;
    let (rest, reason) = with_target(run, |t| t.flush(failed_run));
    send(run, rest);
    let xml = match outcome {
        Outcome::Stopped if cap_hit => {
            let limit = run.limits.as_ref().map_or(0, |l| l.max_output);
            let rec = ErrorRecord::new(
                format!(
                    "The output of this command is larger than this session allows ({limit} bytes); the command was stopped."
                ),
                "OutputLimitExceeded",
                ErrorCategory::LimitsExceeded,
            );
            records::pipeline_state(records::FAILED, Some(&rec))
        }
        Outcome::Stopped => {
            return stopped(run, pid);
        }
        Outcome::Failed if !text => records::pipeline_state(records::FAILED, reason.as_ref()),
        _ => records::pipeline_state(records::COMPLETED, None),
    };
    message(run, message::PIPELINE_STATE, pid, &xml);
}
