//! PSRP messages (MS-PSRP 2.2.1): a 40-byte little-endian header
//! (destination, type, runspace pool id, pipeline id; GUIDs in .NET's byte
//! order) and CLIXML data.

use uuid::Uuid;

pub const SESSION_CAPABILITY: u32 = 0x0001_0002;
pub const INIT_RUNSPACEPOOL: u32 = 0x0001_0004;
pub const PUBLIC_KEY: u32 = 0x0001_0005;
pub const CONNECT_RUNSPACEPOOL: u32 = 0x0001_0008;
pub const SET_MAX_RUNSPACES: u32 = 0x0002_1002;
pub const SET_MIN_RUNSPACES: u32 = 0x0002_1003;
pub const RUNSPACE_AVAILABILITY: u32 = 0x0002_1004;
pub const RUNSPACEPOOL_STATE: u32 = 0x0002_1005;
pub const CREATE_PIPELINE: u32 = 0x0002_1006;
pub const GET_AVAILABLE_RUNSPACES: u32 = 0x0002_1007;
pub const APPLICATION_PRIVATE_DATA: u32 = 0x0002_1009;
pub const GET_COMMAND_METADATA: u32 = 0x0002_100A;
pub const RESET_RUNSPACE_STATE: u32 = 0x0002_100C;
pub const RUNSPACEPOOL_HOST_RESPONSE: u32 = 0x0002_1101;
pub const PIPELINE_INPUT: u32 = 0x0004_1002;
pub const END_OF_PIPELINE_INPUT: u32 = 0x0004_1003;
pub const PIPELINE_OUTPUT: u32 = 0x0004_1004;
pub const ERROR_RECORD: u32 = 0x0004_1005;
pub const PIPELINE_STATE: u32 = 0x0004_1006;
pub const DEBUG_RECORD: u32 = 0x0004_1007;
pub const VERBOSE_RECORD: u32 = 0x0004_1008;
pub const WARNING_RECORD: u32 = 0x0004_1009;
pub const PROGRESS_RECORD: u32 = 0x0004_1010;
pub const INFORMATION_RECORD: u32 = 0x0004_1011;
pub const PIPELINE_HOST_CALL: u32 = 0x0004_1100;
pub const PIPELINE_HOST_RESPONSE: u32 = 0x0004_1101;

/// Messages a client may send that this server takes without acting on
/// them (runspace counts, key exchange, host responses it never asked
/// for); any other type is a protocol error.
pub fn known_from_client(kind: u32) -> bool {
    matches!(
        kind,
        SESSION_CAPABILITY
            | INIT_RUNSPACEPOOL
            | PUBLIC_KEY
            | CONNECT_RUNSPACEPOOL
            | SET_MAX_RUNSPACES
            | SET_MIN_RUNSPACES
            | CREATE_PIPELINE
            | GET_AVAILABLE_RUNSPACES
            | GET_COMMAND_METADATA
            | RESET_RUNSPACE_STATE
            | RUNSPACEPOOL_HOST_RESPONSE
            | PIPELINE_INPUT
            | END_OF_PIPELINE_INPUT
            | PIPELINE_HOST_RESPONSE
    )
}

const HEADER: usize = 40;

/// Destination of a message: the client (1) or the server (2).
const TO_CLIENT: u32 = 1;

#[derive(Debug)]
pub struct Message {
    pub kind: u32,
    pub rpid: Uuid,
    pub pid: Uuid,
    pub data: Vec<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("a PSRP message is {0} bytes, shorter than its 40-byte header")]
pub struct Short(pub usize);

impl Message {
    pub fn decode(bytes: &[u8]) -> Result<Message, Short> {
        if bytes.len() < HEADER {
            return Err(Short(bytes.len()));
        }
        let u32_at =
            |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let guid_at = |i: usize| {
            let mut b = [0u8; 16];
            b.copy_from_slice(&bytes[i..i + 16]);
            Uuid::from_bytes_le(b)
        };
        Ok(Message {
            kind: u32_at(4),
            rpid: guid_at(8),
            pid: guid_at(24),
            data: bytes[HEADER..].to_vec(),
        })
    }

    /// A message to the client.
    pub fn encode(kind: u32, rpid: Uuid, pid: Uuid, data: &str) -> Vec<u8> {
        let mut m = Vec::with_capacity(HEADER + data.len());
        m.extend_from_slice(&TO_CLIENT.to_le_bytes());
        m.extend_from_slice(&kind.to_le_bytes());
        m.extend_from_slice(&rpid.to_bytes_le());
        m.extend_from_slice(&pid.to_bytes_le());
        m.extend_from_slice(data.as_bytes());
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_in_dotnet_byte_order() {
        let rpid = Uuid::parse_str("64054255-405e-4b25-80ed-0a5d4a8cee53").unwrap();
        let bytes = Message::encode(PIPELINE_STATE, rpid, Uuid::nil(), "<x/>");
        assert_eq!(&bytes[8..12], &[0x55, 0x42, 0x05, 0x64]);
        let m = Message::decode(&bytes).unwrap();
        assert_eq!(
            (m.kind, m.rpid, m.data.as_slice()),
            (PIPELINE_STATE, rpid, &b"<x/>"[..])
        );
        assert_eq!(Message::decode(&bytes[..39]).unwrap_err(), Short(39));
    }
}
