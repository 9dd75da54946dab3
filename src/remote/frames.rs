//! The pipe between `lyncsh serve` and a session's own process
//! (`lyncsh __session`): frames of a 4-byte length (little-endian), a kind
//! byte and a body. The server sends the session's configuration first,
//! then one input each time the session asks for one, and control (cancel,
//! Ctrl-C, hang-up) at any moment; the session sends its output, its exit
//! status, and its requests for input.
//!
//! Input is pulled, never pushed: the session's reader only ever holds one
//! input, so it is always free to read a cancel that comes behind it, and
//! the server's bounded queue is where a busy session's input waits.

use std::io::{self, Read, Write};

use tokio::io::{AsyncRead, AsyncReadExt};

use serde::{Deserialize, Serialize};

use super::worker::{Input, Mode, SessionConfig};

/// Longest frame a session may send: output travels in chunks of
/// [`CHUNK`], so a larger length means the session is not speaking this
/// protocol (a wrong executable, a crash half-way through a write).
pub const MAX_UP: usize = CHUNK + 64;

/// Output is cut into pieces this long, so the server never holds more
/// than a few of them per session, however much a command prints.
pub const CHUNK: usize = 64 << 10;

/// Longest frame the server sends: a configuration, or one input (a
/// request line is at most 4 MiB, a shell line less).
pub const MAX_DOWN: usize = 16 << 20;

/// Server to session.
#[derive(Debug, Serialize, Deserialize)]
pub enum Down {
    /// First and once: who the session is and what it runs.
    Start {
        cfg: SessionConfig,
        mode: Mode,
        /// The server already checked the store file for damage: the
        /// session skips that whole-file read.
        store_checked: bool,
    },
    /// The input the session asked for.
    Input(Input),
    /// Stop the running command, or the request `id` before it starts.
    Cancel(Option<u64>),
    /// Ctrl-C in a shell: stops the running command, or at the prompt
    /// drops the pending continuation.
    Interrupt,
    /// The client is gone or the server is stopping: stop what runs, run
    /// nothing more, end.
    HangUp,
}

/// Session to server.
#[derive(Debug, PartialEq)]
pub enum Up {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    /// The session is over with this exit status.
    Exit(i32),
    /// The session waits for its next input.
    Want,
}

const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const EXIT: u8 = 3;
const WANT: u8 = 4;
const JSON: u8 = 5;

/// Writes one frame in one piece.
fn write_frame(w: &mut impl Write, kind: u8, body: &[u8]) -> io::Result<()> {
    let len = u32::try_from(body.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too long"))?;
    let mut buf = Vec::with_capacity(body.len() + 5);
    buf.extend_from_slice(&len.to_le_bytes());
    buf.push(kind);
    buf.extend_from_slice(body);
    w.write_all(&buf)?;
    w.flush()
}

/// Reads one frame; `None` at a clean end of the stream.
fn read_frame(r: &mut impl Read, max: usize) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut head = [0u8; 5];
    let mut got = 0;
    while got < head.len() {
        match r.read(&mut head[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let (kind, len) = frame_head(&head, max)?.ok_or_else(|| bad("a frame head is 5 bytes"))?;
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    Ok(Some((kind, body)))
}

/// The kind and body length of the frame `buf` starts with, once its
/// five-byte head is there. A length over `max` means the stream is not
/// frames (a wrong executable, a crash half-way through a write).
fn frame_head(buf: &[u8], max: usize) -> io::Result<Option<(u8, usize)>> {
    let Some(h) = buf.get(..5) else {
        return Ok(None);
    };
    let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
    if len > max {
        return Err(bad(format!("a frame of {len} bytes is longer than {max}")));
    }
    Ok(Some((h[4], len)))
}

fn bad(what: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

pub fn write_down(w: &mut impl Write, d: &Down) -> io::Result<()> {
    let body = serde_json::to_vec(d).map_err(bad)?;
    write_frame(w, JSON, &body)
}

pub fn read_down(r: &mut impl Read) -> io::Result<Option<Down>> {
    match read_frame(r, MAX_DOWN)? {
        None => Ok(None),
        Some((JSON, body)) => serde_json::from_slice(&body).map(Some).map_err(bad),
        Some((kind, _)) => Err(bad(format!("unknown frame kind {kind}"))),
    }
}

/// Writes an output or control frame; output longer than [`CHUNK`] goes
/// as several.
pub fn write_up(w: &mut impl Write, u: &Up) -> io::Result<()> {
    match u {
        Up::Stdout(b) | Up::Stderr(b) => {
            let kind = if matches!(u, Up::Stdout(_)) {
                STDOUT
            } else {
                STDERR
            };
            for piece in b.chunks(CHUNK) {
                write_frame(w, kind, piece)?;
            }
            Ok(())
        }
        Up::Exit(n) => write_frame(w, EXIT, &n.to_le_bytes()),
        Up::Want => write_frame(w, WANT, &[]),
    }
}

/// Reads the frames a session process sends from its output pipe, on the
/// server's runtime rather than on a thread of the session's own: bytes
/// gather in a buffer and whole frames are taken from it.
pub struct UpReader<R> {
    r: R,
    buf: Vec<u8>,
    /// Where the first unread byte of `buf` is.
    at: usize,
}

impl<R: AsyncRead + Unpin> UpReader<R> {
    pub fn new(r: R) -> UpReader<R> {
        UpReader {
            r,
            buf: Vec::with_capacity(CHUNK + 64),
            at: 0,
        }
    }

    /// The next frame; `None` at a clean end of the stream. Cancel-safe:
    /// what was read before a cancel stays in the buffer for the next call.
    pub async fn next(&mut self) -> io::Result<Option<Up>> {
        loop {
            if let Some((up, used)) = decode_up(&self.buf[self.at..])? {
                self.at += used;
                return Ok(Some(up));
            }
            if self.at > 0 {
                self.buf.drain(..self.at);
                self.at = 0;
            }
            self.buf.reserve(CHUNK + 64);
            if self.r.read_buf(&mut self.buf).await? == 0 {
                return match self.buf.is_empty() {
                    true => Ok(None),
                    false => Err(io::ErrorKind::UnexpectedEof.into()),
                };
            }
        }
    }

    /// Appends to `into` the body of the next frame if it is already
    /// whole in the buffer, of `stdout`'s kind, and fits under [`CHUNK`]
    /// with what `into` holds; never reads. The relay joins what a session
    /// wrote in one go (an object and the request's end) into one message
    /// to the client.
    pub fn take_buffered(&mut self, stdout: bool, into: &mut Vec<u8>) -> bool {
        let buf = &self.buf[self.at..];
        let Ok(Some((kind, len))) = frame_head(buf, MAX_UP) else {
            return false;
        };
        let want = if stdout { STDOUT } else { STDERR };
        if kind != want || into.len() + len > CHUNK {
            return false;
        }
        let Some(body) = buf.get(5..5 + len) else {
            return false;
        };
        into.extend_from_slice(body);
        self.at += 5 + len;
        true
    }
}

/// The frame at the start of `buf` and the bytes it takes, if it is whole
/// there.
fn decode_up(buf: &[u8]) -> io::Result<Option<(Up, usize)>> {
    let Some((kind, len)) = frame_head(buf, MAX_UP)? else {
        return Ok(None);
    };
    let Some(body) = buf.get(5..5 + len) else {
        return Ok(None);
    };
    let up = match kind {
        STDOUT => Up::Stdout(body.to_vec()),
        STDERR => Up::Stderr(body.to_vec()),
        EXIT => {
            let n: [u8; 4] = body
                .try_into()
                .map_err(|_| bad("an exit frame is 4 bytes"))?;
            Up::Exit(i32::from_le_bytes(n))
        }
        WANT => Up::Want,
        other => return Err(bad(format!("unknown frame kind {other}"))),
    };
    Ok(Some((up, 5 + len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every frame `pipe` holds, read as the relay reads them.
    fn read_all(pipe: &[u8]) -> io::Result<Vec<Up>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut r = UpReader::new(pipe);
            let mut got = Vec::new();
            while let Some(u) = r.next().await? {
                got.push(u);
            }
            Ok(got)
        })
    }

    #[test]
    fn output_is_cut_into_chunks_and_read_back_in_order() {
        let big = vec![b'x'; CHUNK * 2 + 10];
        let mut pipe = Vec::new();
        for u in [
            Up::Want,
            Up::Stdout(big.clone()),
            Up::Stderr(b"e".to_vec()),
            Up::Exit(-3),
        ] {
            write_up(&mut pipe, &u).expect("write");
        }
        let got = read_all(&pipe).expect("read");
        assert_eq!(got.len(), 6);
        assert_eq!(got[0], Up::Want);
        let joined: Vec<u8> = got[1..4]
            .iter()
            .flat_map(|u| match u {
                Up::Stdout(b) => b.clone(),
                _ => Vec::new(),
            })
            .collect();
        assert_eq!(joined, big);
        assert_eq!(got[4], Up::Stderr(b"e".to_vec()));
        assert_eq!(got[5], Up::Exit(-3));
    }

    #[test]
    fn output_frames_already_read_are_joined_up_to_another_kind() {
        let mut pipe = Vec::new();
        for u in [
            Up::Stdout(b"a".to_vec()),
            Up::Stdout(b"b".to_vec()),
            Up::Stderr(b"e".to_vec()),
            Up::Stdout(b"c".to_vec()),
        ] {
            write_up(&mut pipe, &u).expect("write");
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut r = UpReader::new(pipe.as_slice());
            let Some(Up::Stdout(mut b)) = r.next().await.expect("read") else {
                panic!("stdout first");
            };
            while r.take_buffered(true, &mut b) {}
            assert_eq!(b, b"ab");
            assert!(!r.take_buffered(true, &mut b));
            assert_eq!(
                r.next().await.expect("read"),
                Some(Up::Stderr(b"e".to_vec()))
            );
            // Only a frame that is whole in the buffer is taken: the rest
            // of it would mean waiting for the session.
            let mut part = UpReader::new(&pipe[..pipe.len() - 1]);
            let mut c = Vec::new();
            for _ in 0..3 {
                let _ = part.next().await;
            }
            assert!(!part.take_buffered(true, &mut c));
            assert!(c.is_empty());
            assert_eq!(
                part.next().await.map_err(|e| e.kind()),
                Err(io::ErrorKind::UnexpectedEof)
            );
        });
    }

    #[test]
    fn a_stream_that_is_not_frames_is_an_error_not_an_allocation() {
        assert!(read_all(b"running 0 tests\n").is_err());
        assert!(read_all(&[1, 0]).is_err());
    }
}
