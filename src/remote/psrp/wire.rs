//! The client's side of the conversation as events: packet lines read from
//! the session's inbox, each acked, their fragments reassembled per target
//! into messages. Shared by the pool, which acts on the events, and by
//! host calls, which wait inside a running pipeline for their answer and
//! set aside whatever else comes meanwhile for the pool to take up after.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use uuid::Uuid;

use super::fragments::Reassembler;
use super::message::Message;
use super::packets::{self, Packet};
use crate::remote::worker::{Inbox, Input, Out};

/// Most targets (the pool and pipelines) with fragments or input in
/// flight at once; a client has one or two.
const MAX_TARGETS: usize = 64;

/// Most events set aside while a host call waits: a client that keeps
/// sending other work instead of answering is cut off, not buffered.
const MAX_LATER: usize = 4096;

/// Something the client did.
pub enum Event {
    /// A whole message for the pool (nil id) or a pipeline.
    Message(Uuid, Message),
    /// Stop this pipeline.
    Signal(Uuid),
    /// Close this pipeline, or (nil) the pool.
    Close(Uuid),
    /// The client is gone.
    Eof,
    /// The client broke the protocol; the session ends with this message.
    Fatal(String),
}

pub struct Wire {
    inbox: Inbox,
    out: Rc<RefCell<Out>>,
    streams: HashMap<(Uuid, bool), Reassembler>,
    /// Events that came while a pipeline waited for a host response.
    later: VecDeque<Event>,
}

impl Wire {
    pub(in crate::remote) fn new(inbox: Inbox, out: Rc<RefCell<Out>>) -> Wire {
        Wire {
            inbox,
            out,
            streams: HashMap::new(),
            later: VecDeque::new(),
        }
    }

    /// The next event, those set aside first.
    pub fn next_event(&mut self) -> Event {
        loop {
            if let Some(e) = self.later.pop_front() {
                return e;
            }
            let events = self.receive();
            self.later.extend(events);
        }
    }

    /// Sets an event aside for the pool.
    pub fn later(&mut self, e: Event) {
        if self.later.len() >= MAX_LATER {
            self.later.push_back(Event::Fatal(
                "The client sent more than this server holds while it waited for an answer.".into(),
            ));
            return;
        }
        self.later.push_back(e);
    }

    /// What the client's next input brings: nothing (an ack), or events.
    pub fn receive(&mut self) -> Vec<Event> {
        match self.inbox.next() {
            Input::Line(line) => self
                .packet(&line)
                .unwrap_or_else(|why| vec![Event::Fatal(why)]),
            Input::TooLong => vec![Event::Fatal(format!(
                "A packet line is longer than this server accepts ({} bytes).",
                packets::MAX_LINE
            ))],
            Input::Eof => vec![Event::Eof],
            _ => Vec::new(),
        }
    }

    fn packet(&mut self, line: &str) -> Result<Vec<Event>, String> {
        match packets::parse(line).map_err(|e| e.to_string())? {
            Packet::Data {
                prompt_response,
                guid,
                bytes,
            } => {
                let key = (guid, prompt_response);
                if !self.streams.contains_key(&key) && self.streams.len() >= MAX_TARGETS {
                    return Err("The client has too many pipelines open.".into());
                }
                let done = self
                    .streams
                    .entry(key)
                    .or_default()
                    .push(&bytes)
                    .map_err(|e| e.to_string())?;
                self.ack("DataAck", guid);
                done.iter()
                    .map(|m| {
                        Message::decode(m)
                            .map(|m| Event::Message(guid, m))
                            .map_err(|e| e.to_string())
                    })
                    .collect()
            }
            Packet::DataAck(_) => Ok(Vec::new()),
            Packet::Command(g) => {
                self.ack("CommandAck", g);
                Ok(Vec::new())
            }
            Packet::Signal(g) => Ok(vec![Event::Signal(g)]),
            Packet::Close(g) => {
                if !g.is_nil() {
                    self.streams.remove(&(g, false));
                    self.streams.remove(&(g, true));
                }
                Ok(vec![Event::Close(g)])
            }
        }
    }

    pub fn ack(&self, kind: &str, guid: Uuid) {
        self.out.borrow_mut().control(packets::ack(kind, guid));
    }
}
