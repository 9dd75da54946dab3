//! The OutOfProc transport: one XML packet per line, as pwsh writes them
//! for SSH (`<Data Stream='Default' PSGuid='…'>BASE64</Data>`,
//! `<DataAck PSGuid='…' />`, `<Command …/>`, `<Close …/>`, `<Signal …/>`
//! and their acks). The client's side is strict about the shape of what
//! we send (attribute count, single quotes, no whitespace), so the lines
//! are written by format strings, exactly.

use base64::Engine;
use uuid::Uuid;

/// Longest packet line accepted: pwsh sends at most 32 KiB of fragments
/// per `<Data>`, which is under 44 KiB of base64.
pub const MAX_LINE: usize = 1 << 20;

/// A packet from the client.
#[derive(Debug, PartialEq)]
pub enum Packet {
    Data {
        prompt_response: bool,
        guid: Uuid,
        bytes: Vec<u8>,
    },
    DataAck(Uuid),
    Command(Uuid),
    Close(Uuid),
    Signal(Uuid),
}

/// A line the transport cannot read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BadPacket {
    #[error("the packet is not one of Data, DataAck, Command, Close or Signal: '{0}'")]
    Unknown(String),
    #[error("the packet has no valid PSGuid")]
    Guid,
    #[error("the Data packet's stream '{0}' is neither Default nor PromptResponse")]
    Stream(String),
    #[error("the Data packet's content is not base64")]
    Base64,
}

/// Reads one packet line (without its line end).
pub fn parse(line: &str) -> Result<Packet, BadPacket> {
    let line = line.trim();
    let unknown = || BadPacket::Unknown(line.chars().take(40).collect());
    let rest = line.strip_prefix('<').ok_or_else(unknown)?;
    let name_end = rest
        .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
        .ok_or_else(unknown)?;
    let (name, rest) = rest.split_at(name_end);
    let guid = attr(rest, "PSGuid")
        .and_then(|g| Uuid::parse_str(g).ok())
        .ok_or(BadPacket::Guid)?;
    if name == "Data" {
        let stream = attr(rest, "Stream").unwrap_or("");
        let prompt_response = if stream.eq_ignore_ascii_case("Default") {
            false
        } else if stream.eq_ignore_ascii_case("PromptResponse") {
            true
        } else {
            return Err(BadPacket::Stream(stream.chars().take(40).collect()));
        };
        let body = rest
            .split_once('>')
            .and_then(|(_, b)| b.strip_suffix("</Data>"))
            .ok_or_else(unknown)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .map_err(|_| BadPacket::Base64)?;
        return Ok(Packet::Data {
            prompt_response,
            guid,
            bytes,
        });
    }
    if !rest.trim_end().ends_with("/>") {
        return Err(unknown());
    }
    Ok(match name {
        "DataAck" => Packet::DataAck(guid),
        "Command" => Packet::Command(guid),
        "Close" => Packet::Close(guid),
        "Signal" => Packet::Signal(guid),
        _ => return Err(unknown()),
    })
}

/// The value of `name='…'` (or `"…"`) in a start tag.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let head = tag.split('>').next()?;
    let at = head.find(&format!("{name}="))? + name.len() + 1;
    let quoted = &head[at..];
    let q = quoted.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = &quoted[1..];
    inner.find(q).map(|end| &inner[..end])
}

/// A `<Data>` line carrying these fragment bytes.
pub fn data(guid: Uuid, bytes: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    format!("<Data Stream='Default' PSGuid='{guid}'>{b64}</Data>\n").into_bytes()
}

/// An ack (`DataAck`, `CommandAck`, `SignalAck`, `CloseAck`).
pub fn ack(kind: &str, guid: Uuid) -> Vec<u8> {
    format!("<{kind} PSGuid='{guid}' />\n").into_bytes()
}

/// What pwsh's own `-sshs` server writes when the transport fails: the
/// client shows the message and gives up on the session.
pub fn fatal(message: &str) -> Vec<u8> {
    let one_line = message.replace(['\r', '\n'], " ");
    format!("__NamedPipeError__:{one_line}\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_pwsh_sends() {
        let g = "64054255-405e-4b25-80ed-0a5d4a8cee53";
        let id = Uuid::parse_str(g).unwrap();
        assert_eq!(
            parse(&format!("<Command PSGuid='{g}' />")),
            Ok(Packet::Command(id))
        );
        assert_eq!(
            parse(&format!("<Data Stream='Default' PSGuid='{g}'>AAEC</Data>")),
            Ok(Packet::Data {
                prompt_response: false,
                guid: id,
                bytes: vec![0, 1, 2]
            })
        );
        assert_eq!(
            parse(&format!("<Data Stream='Default' PSGuid='{g}'>!!</Data>")),
            Err(BadPacket::Base64)
        );
        assert_eq!(parse("<Close PSGuid='zz' />"), Err(BadPacket::Guid));
        assert!(matches!(parse("hello"), Err(BadPacket::Unknown(_))));
        assert!(matches!(
            parse(&format!("<Bogus PSGuid='{g}' />")),
            Err(BadPacket::Unknown(_))
        ));
    }

    #[test]
    fn lines_we_send_have_pwsh_shape() {
        let id = Uuid::nil();
        assert_eq!(
            ack("CloseAck", id),
            b"<CloseAck PSGuid='00000000-0000-0000-0000-000000000000' />\n"
        );
        assert_eq!(
            data(id, &[0, 1, 2]),
            b"<Data Stream='Default' PSGuid='00000000-0000-0000-0000-000000000000'>AAEC</Data>\n"
        );
    }
}
