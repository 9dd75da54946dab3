//! PSRP fragments (MS-PSRP 2.2.4): a message is cut into fragments with a
//! 21-byte big-endian header (object id, fragment id, start/end flags,
//! blob length). The client's `<Data>` packets are slices of the stream
//! of fragments, not aligned to them, so each target (the pool, or one
//! pipeline) reassembles its own byte stream.

/// Fragment bytes per `<Data>` we send, header included, as pwsh does.
pub const FRAGMENT: usize = 32 << 10;

const HEADER: usize = 21;

/// Largest message accepted from a client: pwsh caps what it receives at
/// 10 MiB per object too.
pub const MAX_MESSAGE: usize = 16 << 20;

/// Most bytes of one fragment: pwsh never sends more than [`FRAGMENT`];
/// anything claiming much more is refused before it is buffered.
const MAX_BLOB: usize = 1 << 20;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BadFragment {
    #[error("a fragment claims {0} bytes, more than a fragment may hold")]
    TooBig(u64),
    #[error("a message is larger than {} MiB", MAX_MESSAGE >> 20)]
    MessageTooBig,
    #[error("fragment {fragment} of object {object} arrived out of order")]
    OutOfOrder { object: u64, fragment: u64 },
}

/// One target's stream of fragments, reassembled into messages.
#[derive(Default)]
pub struct Reassembler {
    pending: Vec<u8>,
    /// The message being assembled: its object id, next fragment id, bytes.
    current: Option<(u64, u64, Vec<u8>)>,
}

impl Reassembler {
    /// Takes the next slice of the stream; returns the messages it
    /// completes.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Vec<u8>>, BadFragment> {
        self.pending.extend_from_slice(bytes);
        let mut done = Vec::new();
        let mut at = 0;
        while self.pending.len() - at >= HEADER {
            let h = &self.pending[at..at + HEADER];
            let object = u64::from_be_bytes(h[0..8].try_into().unwrap_or_default());
            let fragment = u64::from_be_bytes(h[8..16].try_into().unwrap_or_default());
            let flags = h[16];
            let len = u32::from_be_bytes(h[17..21].try_into().unwrap_or_default()) as usize;
            if len > MAX_BLOB {
                return Err(BadFragment::TooBig(len as u64));
            }
            if self.pending.len() - at - HEADER < len {
                break;
            }
            let blob = &self.pending[at + HEADER..at + HEADER + len];
            let start = flags & 1 != 0;
            let end = flags & 2 != 0;
            let order = BadFragment::OutOfOrder { object, fragment };
            match (&mut self.current, start) {
                (None, true) if fragment == 0 => {
                    self.current = Some((object, 1, blob.to_vec()));
                }
                (Some((o, next, buf)), false) if *o == object && *next == fragment => {
                    if buf.len() + blob.len() > MAX_MESSAGE {
                        return Err(BadFragment::MessageTooBig);
                    }
                    buf.extend_from_slice(blob);
                    *next += 1;
                }
                _ => return Err(order),
            }
            if end && let Some((_, _, buf)) = self.current.take() {
                done.push(buf);
            }
            at += HEADER + len;
        }
        self.pending.drain(..at);
        Ok(done)
    }
}

/// Cuts a message into fragments of at most [`FRAGMENT`] bytes each.
pub fn fragment(object: u64, message: &[u8]) -> Vec<Vec<u8>> {
    let chunks: Vec<&[u8]> = if message.is_empty() {
        vec![&[]]
    } else {
        message.chunks(FRAGMENT - HEADER).collect()
    };
    let last = chunks.len() - 1;
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, blob)| {
            let mut f = Vec::with_capacity(HEADER + blob.len());
            f.extend_from_slice(&object.to_be_bytes());
            f.extend_from_slice(&(i as u64).to_be_bytes());
            f.push(u8::from(i == 0) | (u8::from(i == last) << 1));
            f.extend_from_slice(&(blob.len() as u32).to_be_bytes());
            f.extend_from_slice(blob);
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_reassemble_across_any_split() {
        let msg: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        let stream: Vec<u8> = fragment(7, &msg).concat();
        assert_eq!(fragment(7, &msg).len(), 4);
        for cut in [1, 20, 21, 22, 5000, 32768, 32769] {
            let mut r = Reassembler::default();
            let mut got = Vec::new();
            for part in stream.chunks(cut) {
                got.extend(r.push(part).unwrap());
            }
            assert_eq!(got, vec![msg.clone()], "cut at {cut}");
        }
    }

    #[test]
    fn hostile_fragments_are_refused() {
        let mut f = fragment(1, b"abc").remove(0);
        f[17..21].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(
            Reassembler::default().push(&f),
            Err(BadFragment::TooBig(u32::MAX as u64))
        );
        // A middle fragment with no start.
        let mut frags = fragment(1, &vec![0u8; 70_000]);
        let second = frags.remove(1);
        assert!(matches!(
            Reassembler::default().push(&second),
            Err(BadFragment::OutOfOrder { .. })
        ));
        // A truncated fragment waits for the rest.
        let mut r = Reassembler::default();
        assert_eq!(r.push(&fragment(2, b"hello")[0][..10]), Ok(vec![]));
    }
}
