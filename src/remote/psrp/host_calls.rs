//! Questions a running pipeline puts to the PowerShell client's host:
//! Read-Host as `ReadLine` (or `Prompt`, when it has a prompt, as pwsh's
//! Read-Host does), a confirmation as `PromptForChoice`. Each call has its
//! own id; the pipeline waits for the PIPELINE_HOST_RESPONSE under that id
//! while the wire keeps acking, and what else arrives waits for the pool.

use std::cell::RefCell;
use std::rc::Rc;

use uuid::Uuid;

use super::message;
use super::records::{self, HostArg};
use super::wire::{Event, Wire};
use crate::clixml;
use crate::host::{Choice, Unread};
use crate::remote::worker::{Asker, Out};
use crate::runtime::value::Value;

/// The confirmation's choices, in [`Choice`]'s order, hot keys marked.
const CHOICES: [&str; 4] = ["&Yes", "Yes to &All", "&No", "No to A&ll"];

pub struct HostCalls {
    pub wire: Rc<RefCell<Wire>>,
    pub out: Rc<RefCell<Out>>,
    next_ci: i64,
}

impl HostCalls {
    pub fn new(wire: Rc<RefCell<Wire>>, out: Rc<RefCell<Out>>) -> HostCalls {
        HostCalls {
            wire,
            out,
            next_ci: 1,
        }
    }

    /// Sends the call and waits for its answer; `None` when none comes:
    /// the client's host failed, the pipeline was stopped, the client went.
    fn call(&mut self, method: i32, args: &[HostArg]) -> Option<Value> {
        let ci = self.next_ci;
        self.next_ci += 1;
        let xml = records::host_call(ci, method, args);
        let pid = {
            let mut out = self.out.borrow_mut();
            let t = out.psrp.as_mut()?;
            let (bytes, pid) = (t.to_pipeline(message::PIPELINE_HOST_CALL, &xml), t.pid);
            out.control(bytes);
            pid
        };
        let mut wire = self.wire.borrow_mut();
        loop {
            let mut answer = None;
            let mut over = false;
            for e in wire.receive() {
                match e {
                    Event::Message(g, m)
                        if answer.is_none()
                            && g == pid
                            && m.kind == message::PIPELINE_HOST_RESPONSE =>
                    {
                        match response(&m.data, ci) {
                            Response::Value(v) => answer = Some(v),
                            Response::Failed => over = true,
                            // An answer to an older call: stale, dropped.
                            Response::Other => {}
                        }
                    }
                    e => {
                        over |= ends_wait(&e, pid);
                        wire.later(e);
                    }
                }
            }
            if answer.is_some() {
                return answer;
            }
            let out = self.out.borrow();
            if over || out.stopping() || out.gone() {
                return None;
            }
        }
    }
}

/// Whether an event means no answer will come for the pipeline `pid`.
fn ends_wait(e: &Event, pid: Uuid) -> bool {
    match e {
        Event::Signal(g) | Event::Close(g) => *g == pid || g.is_nil(),
        Event::Eof | Event::Fatal(_) => true,
        Event::Message(..) => false,
    }
}

enum Response {
    Value(Value),
    /// The client's host raised an error instead of answering.
    Failed,
    /// Not an answer to this call.
    Other,
}

/// A PIPELINE_HOST_RESPONSE: `ci`, and `mr` (the result) or `me` (an
/// error record).
fn response(data: &[u8], ci: i64) -> Response {
    let Ok(root) = clixml::parse(data) else {
        return Response::Failed;
    };
    let answers = root
        .prop("ci")
        .and_then(|n| n.text.trim().parse::<i64>().ok())
        .is_some_and(|n| n == ci);
    if !answers {
        return Response::Other;
    }
    if root.prop("me").is_some() {
        return Response::Failed;
    }
    match root.prop("mr") {
        None => Response::Value(Value::Null),
        Some(n) => match clixml::read::Cx::default().value(n) {
            Ok(v) => Response::Value(v),
            Err(_) => Response::Failed,
        },
    }
}

impl Asker for HostCalls {
    fn read_line(&mut self, prompt: &str, secret: bool) -> Result<String, Unread> {
        if secret {
            return Err(Unread::Refused(
                "Read-Host cannot hide its input over PowerShell remoting here: the answer would \
                 cross as plain text, because lyncsh does not exchange the session key a \
                 SecureString needs. Ask without -AsSecureString or -MaskInput, or set the value \
                 on the server."
                    .into(),
            ));
        }
        // pwsh's Read-Host asks a prompt's question as a form of one field
        // named by the prompt, and a bare one as a plain line.
        let name = prompt.strip_suffix(": ").unwrap_or(prompt);
        let answer = if name.is_empty() {
            self.call(records::READ_LINE, &[])
        } else {
            let fields = [name];
            self.call(
                records::PROMPT,
                &[
                    HostArg::Text(""),
                    HostArg::Text(""),
                    HostArg::Fields(&fields),
                ],
            )
            .map(|form| match &form {
                Value::Hashtable(h) => h.borrow().get_str(name).cloned().unwrap_or(Value::Null),
                _ => form,
            })
        };
        match answer {
            Some(Value::Null) | None => Err(Unread::NoInput),
            Some(v) => Ok(v.to_string()),
        }
    }

    fn confirm(&mut self, caption: &str, message: &str) -> Option<Choice> {
        let answer = self.call(
            records::PROMPT_FOR_CHOICE,
            &[
                HostArg::Text(caption),
                HostArg::Text(message),
                HostArg::Choices(&CHOICES),
                HostArg::Number(0),
            ],
        )?;
        match answer.as_i64()? {
            0 => Some(Choice::Yes),
            1 => Some(Choice::YesToAll),
            2 => Some(Choice::No),
            3 => Some(Choice::NoToAll),
            _ => None,
        }
    }
}
