//! Where a PSRP session's streams go: each message is cut into fragments
//! and sent as `<Data>` lines for the pool or the running pipeline. Host
//! text (formatted output, Write-Host) goes line by line as `WriteLine2`
//! host calls when the client asked for `Out-Default`, else as
//! information records; warnings, verbose and debug text as their
//! records; errors as ERROR_RECORD, or as `WriteErrorLine` text.

use uuid::Uuid;

use super::fragments;
use super::message::{self, Message};
use super::packets;
use super::records::{self, HostArg::Text};
use crate::host::Stream;
use crate::runtime::error::ErrorRecord;

/// The PSRP side of a session's output.
pub struct Target {
    /// The runspace pool's id, from INIT_RUNSPACEPOOL.
    pub rpid: Uuid,
    /// The pipeline whose output is being written.
    pub pid: Uuid,
    next_object: u64,
    /// The client asked for text (`| Out-Default`).
    pub text: bool,
    /// Host text not yet ended by a newline.
    line: String,
    /// The last error record in object mode: if the pipeline fails, it
    /// is the reason sent with the state, not a record of its own.
    pub held: Option<ErrorRecord>,
    pub user: String,
}

impl Target {
    pub fn new(user: &str) -> Target {
        Target {
            rpid: Uuid::nil(),
            pid: Uuid::nil(),
            next_object: 1,
            text: false,
            line: String::new(),
            held: None,
            user: user.to_string(),
        }
    }

    /// A message as `<Data>` lines, one per fragment, for the pipeline
    /// `pid` (nil: the pool).
    pub fn message(&mut self, kind: u32, pid: Uuid, xml: &str) -> Vec<u8> {
        self.message_with(kind, self.rpid, pid, xml)
    }

    pub fn message_with(&mut self, kind: u32, rpid: Uuid, pid: Uuid, xml: &str) -> Vec<u8> {
        let m = Message::encode(kind, rpid, pid, xml);
        let object = self.next_object;
        self.next_object += 1;
        let mut out = Vec::new();
        for f in fragments::fragment(object, &m) {
            out.extend(packets::data(pid, &f));
        }
        out
    }

    /// A message for the running pipeline.
    pub fn to_pipeline(&mut self, kind: u32, xml: &str) -> Vec<u8> {
        self.message(kind, self.pid, xml)
    }

    /// Text the session wrote to a stream.
    pub fn stream_text(&mut self, stream: Stream, text: &str) -> Vec<u8> {
        let record = |prefix: &str, ty: &str| {
            let t = text.trim_end_matches('\n');
            let t = t.strip_prefix(prefix).unwrap_or(t);
            records::informational(ty, t)
        };
        match stream {
            Stream::Output | Stream::Information => {
                self.line.push_str(text);
                let mut out = Vec::new();
                while let Some(i) = self.line.find('\n') {
                    let l: String = self.line.drain(..=i).collect();
                    let l = l.trim_end_matches(['\n', '\r']);
                    out.extend(self.host_line(l));
                }
                out
            }
            Stream::Warning => {
                let xml = record("WARNING: ", "System.Management.Automation.WarningRecord");
                self.to_pipeline(message::WARNING_RECORD, &xml)
            }
            Stream::Verbose => {
                let xml = record("VERBOSE: ", "System.Management.Automation.VerboseRecord");
                self.to_pipeline(message::VERBOSE_RECORD, &xml)
            }
            Stream::Debug => {
                let xml = record("DEBUG: ", "System.Management.Automation.DebugRecord");
                self.to_pipeline(message::DEBUG_RECORD, &xml)
            }
            Stream::Error => {
                let t = text.trim_end_matches('\n');
                if self.text {
                    let xml = records::host_call(-100, records::WRITE_ERROR_LINE, &[Text(t)]);
                    self.to_pipeline(message::PIPELINE_HOST_CALL, &xml)
                } else {
                    let rec = ErrorRecord::new(
                        t,
                        "NativeCommandError",
                        crate::runtime::error::ErrorCategory::NotSpecified,
                    );
                    self.to_pipeline(message::ERROR_RECORD, &records::error_record(&rec))
                }
            }
        }
    }

    /// A Write-Progress update, for the client's progress bar.
    pub fn progress(&mut self, p: &crate::host::Progress) -> Vec<u8> {
        self.to_pipeline(message::PROGRESS_RECORD, &records::progress(p))
    }

    fn host_line(&mut self, l: &str) -> Vec<u8> {
        if self.text {
            let xml = records::host_call(-100, records::WRITE_LINE2, &[Text(l)]);
            self.to_pipeline(message::PIPELINE_HOST_CALL, &xml)
        } else {
            let xml = records::information(l, &self.user.clone());
            self.to_pipeline(message::INFORMATION_RECORD, &xml)
        }
    }

    /// An error record the session raised. In object mode the previous
    /// held one is sent and this one held.
    pub fn error(&mut self, rec: &ErrorRecord) -> Vec<u8> {
        if self.text {
            let xml = records::host_call(
                -100,
                records::WRITE_ERROR_LINE,
                &[Text(&rec.render_concise())],
            );
            return self.to_pipeline(message::PIPELINE_HOST_CALL, &xml);
        }
        match self.held.replace(rec.clone()) {
            Some(prev) => self.to_pipeline(message::ERROR_RECORD, &records::error_record(&prev)),
            None => Vec::new(),
        }
    }

    /// The end of a pipeline's output: host text without a final
    /// newline, and a held error that did not end it.
    pub fn flush(&mut self, failed: bool) -> (Vec<u8>, Option<ErrorRecord>) {
        let mut out = Vec::new();
        if !self.line.is_empty() {
            let l = std::mem::take(&mut self.line);
            out.extend(self.host_line(&l));
        }
        let held = self.held.take();
        if failed {
            return (out, held);
        }
        if let Some(rec) = held {
            out.extend(self.to_pipeline(message::ERROR_RECORD, &records::error_record(&rec)));
        }
        (out, None)
    }
}
