//! CLIXML, PowerShell's serialisation of objects as XML: what PSRP
//! carries in its messages (and what `Export-Clixml` writes). [`write`](mod@write)
//! turns values into it, with a depth past which objects travel as their
//! text; [`read`] parses it into a small tree of elements, bounded in depth
//! and size, and turns that back into values, resolving `<Ref>`/`<TNRef>`
//! by sharing instead of copying, so no input can make a value larger
//! than itself.
//!
//! Strings escape what XML cannot hold (control characters, lone
//! surrogates) as `_xHHHH_`, and a literal `_x` as `_x005F_x`, as pwsh does.

pub mod read;
pub mod write;

pub use read::{Node, parse, to_value};
pub use write::Writer;

/// Why a CLIXML document could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Error {
    #[error("the CLIXML is not well-formed XML: {0}")]
    Xml(String),
    #[error("the CLIXML nests deeper than {0} elements")]
    TooDeep(usize),
    #[error("the CLIXML has more than {0} elements")]
    TooLarge(usize),
    #[error("the CLIXML declares a document type, which is not allowed")]
    DocType,
    #[error("the CLIXML has no element")]
    Empty,
    #[error("the CLIXML refers to an object it has not defined (RefId {0})")]
    BadRef(String),
    #[error("the CLIXML value <{0}> is not valid: '{1}'")]
    BadValue(String, String),
}

/// A string as CLIXML element content: XML's own escapes plus pwsh's
/// `_xHHHH_` for characters XML cannot carry.
pub fn escape(s: &str, out: &mut String) {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '_' if chars.peek() == Some(&'x') => out.push_str("_x005F_"),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{fffe}' || c == '\u{ffff}' => {
                out.push_str(&format!("_x{:04X}_", c as u32));
            }
            c => out.push(c),
        }
    }
}

/// Undoes [`escape`]'s `_xHHHH_` (XML's escapes are undone by the reader).
/// Escaped UTF-16 surrogate pairs become their character; a lone one
/// becomes U+FFFD.
pub fn unescape(s: &str) -> String {
    if !s.contains("_x") {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut units: Vec<u16> = Vec::new();
    let mut rest = s;
    loop {
        let Some(at) = rest.find("_x") else {
            flush_units(&mut units, &mut out);
            out.push_str(rest);
            return out;
        };
        let code = rest
            .get(at + 2..at + 7)
            .filter(|t| t.ends_with('_'))
            .and_then(|t| u16::from_str_radix(&t[..4], 16).ok());
        match code {
            Some(u) => {
                if at > 0 {
                    flush_units(&mut units, &mut out);
                    out.push_str(&rest[..at]);
                }
                units.push(u);
                rest = &rest[at + 7..];
            }
            None => {
                flush_units(&mut units, &mut out);
                out.push_str(&rest[..at + 2]);
                rest = &rest[at + 2..];
            }
        }
    }
}

fn flush_units(units: &mut Vec<u16>, out: &mut String) {
    out.extend(char::decode_utf16(units.drain(..)).map(|c| c.unwrap_or('\u{fffd}')));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip() {
        for s in [
            "plain",
            "a\nb\tc",
            "_x0041_ literal",
            "<&>\"",
            "x\u{1}y",
            "é€😀",
        ] {
            let mut e = String::new();
            escape(s, &mut e);
            assert!(!e.contains('\n'), "{e}");
            let xml = format!("<S>{e}</S>");
            let node = parse(xml.as_bytes()).expect("parses");
            assert_eq!(unescape(&node.text), s);
        }
    }

    #[test]
    fn pwsh_escapes_are_decoded() {
        assert_eq!(unescape("a_x000A_b"), "a\nb");
        assert_eq!(unescape("_xD83D__xDE00_"), "😀");
        assert_eq!(unescape("_xD83D_"), "\u{fffd}");
        assert_eq!(unescape("_x12_ and _xZZZZ_"), "_x12_ and _xZZZZ_");
    }
}
