//! ConvertTo-Json and ConvertFrom-Json, shaped after pwsh 7.4 (which uses
//! Json.NET): 2-space indentation, `"key": value`, objects deeper than
//! `-Depth` written as their string form with a warning; integers read
//! back as Int64, ISO dates as DateTime.

use std::rc::Rc;

use crate::commands::gathered::{AllInput, Gathered};
use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::runtime::budget;
use crate::runtime::error::{ErrorCategory, ErrorRecord, Flow, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::{Hashtable, PsObject, Value, format_double, format_single};

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<Gathered<ConvertToJson>>(
            "ConvertTo-Json",
            "Turns objects into JSON text.",
            Signature::new()
                .named("InputObject", PsType::Object, "The objects to convert.")
                .positional(0)
                .from_pipeline()
                .named(
                    "Depth",
                    PsType::Int,
                    "How many levels of contained objects to write (2 by default); deeper ones become strings.",
                )
                .with(|p| p.range = Some((0, 100)))
                .switch("Compress", "Writes everything on one line, without spaces.")
                .switch("EnumsAsStrings", "Writes enumeration values by name instead of number.")
                .switch("AsArray", "Always writes a JSON array, even for a single object.")
                .named(
                    "EscapeHandling",
                    PsType::String,
                    "Default, EscapeNonAscii or EscapeHtml: which characters become \\u escapes.",
                )
                .values(&["Default", "EscapeNonAscii", "EscapeHtml"]),
        )
        .examples(&[Example {
            code: "Get-CsConferencingPolicy -Identity Global | Select-Object Identity, MaxMeetingSize | ConvertTo-Json",
            about: "Shows two settings of the global policy as a JSON object.",
        }]),
        CommandInfo::new::<ConvertFromJson>(
            "ConvertFrom-Json",
            "Turns JSON text into objects.",
            Signature::new()
                .named("InputObject", PsType::String, "The JSON text; lines from the pipeline are joined.")
                .positional(0)
                .mandatory()
                .from_pipeline()
                .switch("AsHashtable", "Makes ordered hashtables instead of custom objects.")
                .named("Depth", PsType::Int, "The deepest nesting accepted (1024 by default).")
                .switch("NoEnumerate", "Writes a top-level array as one object."),
        )
        .examples(&[Example {
            code: "Get-Content settings.json -Raw | ConvertFrom-Json",
            about: "Reads a JSON file into an object.",
        }]),
    ]
}

// ----------------------------------------------------------------------
// ConvertTo-Json

/// The JSON shape of a value, once depth and types have been decided.
enum J {
    Null,
    Bool(bool),
    /// A number, already written out.
    Num(String),
    /// Shared with the value it came from: a string repeated many times
    /// is held once until the text is written.
    Str(Rc<str>),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

struct ToJson {
    max_depth: i64,
    enums_as_strings: bool,
    warned: bool,
    /// What the text will take, counted as the tree grows, so a value
    /// that repeats one large string many times is refused before it is
    /// written out.
    bytes: usize,
}

/// Json.NET writes floating-point numbers with a decimal point or exponent.
fn ensure_decimal(s: String) -> String {
    if s.contains(['.', 'E', 'e']) {
        s
    } else {
        format!("{s}.0")
    }
}

fn iso_date(d: &chrono::NaiveDateTime) -> String {
    let base = d.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = chrono::Timelike::nanosecond(d) % 1_000_000_000;
    let ticks = nanos / 100;
    if ticks == 0 {
        return base;
    }
    let frac = format!("{ticks:07}");
    format!("{base}.{}", frac.trim_end_matches('0'))
}

impl ToJson {
    fn value(&mut self, cx: &mut Cx, v: &Value, depth: i64) -> Res<J> {
        // A value, its indentation and its punctuation.
        let cost = match v {
            Value::String(s) => s.len(),
            other if depth > self.max_depth => other.text_len(),
            _ => 0,
        };
        self.bytes = self
            .bytes
            .saturating_add(cost)
            .saturating_add(2 * usize::try_from(depth).unwrap_or(0) + 8);
        budget::check_string(self.bytes).map_err(|e| cx.fail(e))?;
        Ok(match v {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::Num(i.to_string()),
            Value::Long(i) => J::Num(i.to_string()),
            Value::Double(d) => {
                if d.is_finite() {
                    J::Num(ensure_decimal(format_double(*d)))
                } else {
                    J::Str(format_double(*d).into())
                }
            }
            Value::Single(f) => {
                if f.is_finite() {
                    J::Num(ensure_decimal(format_single(*f)))
                } else {
                    J::Str(format_single(*f).into())
                }
            }
            Value::Decimal(d) => J::Num(ensure_decimal(d.to_string())),
            Value::Char(c) => J::Str(c.to_string().into()),
            Value::String(s) => J::Str(s.clone()),
            Value::DateTime(d) => J::Str(iso_date(d).into()),
            Value::Guid(_) => J::Str(v.to_string().into()),
            Value::Enum(e) => {
                if self.enums_as_strings {
                    J::Str(e.name.clone())
                } else {
                    J::Num(e.value.to_string())
                }
            }
            _ if depth > self.max_depth => {
                if !self.warned {
                    self.warned = true;
                    cx.warn(&format!(
                        "Resulting JSON is truncated as serialization has exceeded the set depth of {}.",
                        self.max_depth
                    ))?;
                }
                J::Str(v.to_string().into())
            }
            Value::Array(a) => {
                let mut out = Vec::new();
                for item in a.to_vec() {
                    out.push(self.value(cx, &item, depth + 1)?);
                }
                J::Arr(out)
            }
            Value::Hashtable(h) => {
                let entries: Vec<(Value, Value)> = h
                    .borrow()
                    .entries()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let mut out = Vec::new();
                for (k, val) in entries {
                    out.push((k.to_string(), self.value(cx, &val, depth + 1)?));
                }
                J::Obj(out)
            }
            Value::Object(o) => {
                let names: Vec<String> = o
                    .borrow()
                    .props()
                    .iter()
                    .map(|p| p.name.to_string())
                    .collect();
                let mut out = Vec::new();
                for n in names {
                    let val = cx.it.get_member(v, &n).map_err(Flow::error)?;
                    out.push((n, self.value(cx, &val, depth + 1)?));
                }
                J::Obj(out)
            }
            Value::TimeSpan(t) => {
                let ticks = t.num_nanoseconds().map(|n| n / 100).unwrap_or(i64::MAX);
                let secs = t.num_milliseconds() as f64 / 1000.0;
                let pairs: Vec<(&str, J)> = vec![
                    ("Ticks", J::Num(ticks.to_string())),
                    ("Days", J::Num(t.num_days().to_string())),
                    ("Hours", J::Num((t.num_hours() % 24).to_string())),
                    (
                        "Milliseconds",
                        J::Num((t.num_milliseconds() % 1000).to_string()),
                    ),
                    ("Minutes", J::Num((t.num_minutes() % 60).to_string())),
                    ("Seconds", J::Num((t.num_seconds() % 60).to_string())),
                    (
                        "TotalDays",
                        J::Num(ensure_decimal(format_double(secs / 86400.0))),
                    ),
                    (
                        "TotalHours",
                        J::Num(ensure_decimal(format_double(secs / 3600.0))),
                    ),
                    (
                        "TotalMilliseconds",
                        J::Num(ensure_decimal(format_double(secs * 1000.0))),
                    ),
                    (
                        "TotalMinutes",
                        J::Num(ensure_decimal(format_double(secs / 60.0))),
                    ),
                    ("TotalSeconds", J::Num(ensure_decimal(format_double(secs)))),
                ];
                J::Obj(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }
            other => J::Str(other.to_string().into()),
        })
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Escape {
    Default,
    NonAscii,
    Html,
}

fn write_str(out: &mut String, s: &str, esc: Escape) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\'' | '<' | '>' | '&' if esc == Escape::Html => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}') => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if esc == Escape::NonAscii && (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_json(out: &mut String, j: &J, indent: Option<usize>, esc: Escape) {
    let newline = |out: &mut String, level: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(level));
    };
    match j {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Num(n) => out.push_str(n),
        J::Str(s) => write_str(out, s, esc),
        J::Arr(items) => {
            out.push('[');
            if items.is_empty() {
                out.push(']');
                return;
            }
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(level) = indent {
                    newline(out, level + 1);
                }
                write_json(out, item, indent.map(|l| l + 1), esc);
            }
            if let Some(level) = indent {
                newline(out, level);
            }
            out.push(']');
        }
        J::Obj(pairs) => {
            out.push('{');
            if pairs.is_empty() {
                out.push('}');
                return;
            }
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if let Some(level) = indent {
                    newline(out, level + 1);
                }
                write_str(out, k, esc);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_json(out, v, indent.map(|l| l + 1), esc);
            }
            if let Some(level) = indent {
                newline(out, level);
            }
            out.push('}');
        }
    }
}

#[derive(Default)]
struct ConvertToJson;

impl AllInput for ConvertToJson {
    fn finish(&self, cx: &mut Cx, args: &Args, items: Vec<Value>) -> Res<()> {
        if items.is_empty() {
            return Ok(());
        }
        let value = if items.len() > 1 || args.switch("AsArray") {
            Value::array(items)
        } else {
            items.into_iter().next().unwrap_or_default()
        };
        let esc = match args
            .string("EscapeHandling")
            .map(|s| s.to_ascii_lowercase())
            .as_deref()
        {
            Some("escapenonascii") => Escape::NonAscii,
            Some("escapehtml") => Escape::Html,
            _ => Escape::Default,
        };
        let mut conv = ToJson {
            max_depth: args.get("Depth").and_then(Value::as_i64).unwrap_or(2),
            enums_as_strings: args.switch("EnumsAsStrings"),
            warned: false,
            bytes: 0,
        };
        let tree = conv.value(cx, &value, 0)?;
        let mut out = String::new();
        let indent = if args.switch("Compress") {
            None
        } else {
            Some(0)
        };
        write_json(&mut out, &tree, indent, esc);
        cx.emit(Value::from(out))
    }
}

// ----------------------------------------------------------------------
// ConvertFrom-Json

/// A lenient JSON reader in the spirit of Json.NET: comments, single-quoted
/// strings and unquoted property names are accepted.
struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    max_depth: usize,
    hashtable: bool,
    path: Vec<String>,
    _src: &'a str,
}

type PResult<T> = Result<T, String>;

impl Parser<'_> {
    fn line_pos(&self) -> (usize, usize) {
        let mut line = 1;
        let mut col = 0;
        for c in self.chars.iter().take(self.pos) {
            if *c == '\n' {
                line += 1;
                col = 0;
            } else {
                col += 1;
            }
        }
        (line, col)
    }

    fn err(&self, msg: &str) -> String {
        let (line, col) = self.line_pos();
        format!(
            "{msg} Path '{}', line {line}, position {col}.",
            self.path.join(".").replace(".[", "[")
        )
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) -> PResult<()> {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() || c == '\u{feff}' => self.pos += 1,
                Some('/') => match self.chars.get(self.pos + 1) {
                    Some('/') => {
                        while let Some(c) = self.peek() {
                            if c == '\n' {
                                break;
                            }
                            self.pos += 1;
                        }
                    }
                    Some('*') => {
                        self.pos += 2;
                        loop {
                            match self.peek() {
                                None => {
                                    return Err(self.err("Unexpected end while parsing comment."));
                                }
                                Some('*') if self.chars.get(self.pos + 1) == Some(&'/') => {
                                    self.pos += 2;
                                    break;
                                }
                                Some(_) => self.pos += 1,
                            }
                        }
                    }
                    _ => return Ok(()),
                },
                _ => return Ok(()),
            }
        }
    }

    fn document(&mut self) -> PResult<Option<Value>> {
        self.skip_ws()?;
        if self.peek().is_none() {
            return Ok(None);
        }
        let v = self.value(0)?;
        self.skip_ws()?;
        if let Some(c) = self.peek() {
            return Err(self.err(&format!(
                "Additional text encountered after finished reading JSON content: {c}."
            )));
        }
        Ok(Some(v))
    }

    fn value(&mut self, depth: usize) -> PResult<Value> {
        self.skip_ws()?;
        let Some(c) = self.peek() else {
            return Err(self.err("Unexpected end when reading JSON."));
        };
        match c {
            '{' => self.object(depth + 1),
            '[' => self.array(depth + 1),
            '"' | '\'' => {
                let s = self.string(c)?;
                Ok(match parse_iso_date(&s) {
                    Some(d) => Value::DateTime(d),
                    None => Value::from(s),
                })
            }
            '-' | '0'..='9' | '.' => self.number(),
            _ if c.is_alphabetic() => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_alphanumeric()) {
                    self.pos += 1;
                }
                let word: String = self
                    .chars
                    .get(start..self.pos)
                    .unwrap_or_default()
                    .iter()
                    .collect();
                match word.as_str() {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    "null" | "undefined" => Ok(Value::Null),
                    "NaN" => Ok(Value::Double(f64::NAN)),
                    "Infinity" => Ok(Value::Double(f64::INFINITY)),
                    _ => {
                        self.pos = start;
                        Err(self.err(&format!(
                            "Unexpected character encountered while parsing value: {c}."
                        )))
                    }
                }
            }
            _ => Err(self.err(&format!(
                "Unexpected character encountered while parsing value: {c}."
            ))),
        }
    }

    fn check_depth(&self, depth: usize) -> PResult<()> {
        if let Err(e) = budget::enter() {
            // Without the path: at this depth it would be longer than the text.
            let (line, col) = self.line_pos();
            return Err(format!("{} Line {line}, position {col}.", e.message));
        }
        if depth > self.max_depth {
            return Err(self.err(&format!(
                "The reader's MaxDepth of {} has been exceeded.",
                self.max_depth
            )));
        }
        Ok(())
    }

    fn string(&mut self, quote: char) -> PResult<String> {
        self.pos += 1;
        let mut s = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("Unterminated string. Expected delimiter: \"."));
            };
            self.pos += 1;
            if c == quote {
                return Ok(s);
            }
            if c != '\\' {
                s.push(c);
                continue;
            }
            let Some(e) = self.peek() else {
                return Err(self.err("Unterminated string. Expected delimiter: \"."));
            };
            self.pos += 1;
            match e {
                'n' => s.push('\n'),
                'r' => s.push('\r'),
                't' => s.push('\t'),
                'b' => s.push('\u{8}'),
                'f' => s.push('\u{c}'),
                'u' => {
                    let hex: String = self
                        .chars
                        .get(self.pos..self.pos + 4)
                        .unwrap_or_default()
                        .iter()
                        .collect();
                    let Ok(unit) = u16::from_str_radix(&hex, 16) else {
                        return Err(self.err("Invalid Unicode escape sequence."));
                    };
                    self.pos += 4;
                    let mut units = vec![unit];
                    if (0xD800..0xDC00).contains(&unit)
                        && self.peek() == Some('\\')
                        && self.chars.get(self.pos + 1) == Some(&'u')
                    {
                        let low: String = self
                            .chars
                            .get(self.pos + 2..self.pos + 6)
                            .unwrap_or_default()
                            .iter()
                            .collect();
                        if let Ok(l) = u16::from_str_radix(&low, 16) {
                            units.push(l);
                            self.pos += 6;
                        }
                    }
                    s.push_str(&String::from_utf16_lossy(&units));
                }
                other => s.push(other),
            }
        }
    }

    fn number(&mut self) -> PResult<Value> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'))
        {
            self.pos += 1;
        }
        let text: String = self
            .chars
            .get(start..self.pos)
            .unwrap_or_default()
            .iter()
            .collect();
        if text == "-Infinity" {
            return Ok(Value::Double(f64::NEG_INFINITY));
        }
        let is_float = text.contains(['.', 'e', 'E']);
        if !is_float && let Ok(i) = text.parse::<i64>() {
            return Ok(Value::Long(i));
        }
        match text.parse::<f64>() {
            Ok(d) if !text.starts_with('+') => Ok(Value::Double(d)),
            _ => {
                self.pos = start;
                Err(self.err(&format!("Input string '{text}' is not a valid number.")))
            }
        }
    }

    fn array(&mut self, depth: usize) -> PResult<Value> {
        self.check_depth(depth)?;
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_ws()?;
            match self.peek() {
                None => return Err(self.err("Unexpected end when reading JSON.")),
                Some(']') => {
                    self.pos += 1;
                    return Ok(Value::array(items));
                }
                _ => {}
            }
            self.path.push(format!("[{}]", items.len()));
            let v = self.value(depth)?;
            self.path.pop();
            items.push(v);
            self.skip_ws()?;
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(']') => {}
                None => return Err(self.err("Unexpected end when reading JSON.")),
                Some(c) => {
                    return Err(self.err(&format!(
                        "After parsing a value an unexpected character was encountered: {c}."
                    )));
                }
            }
        }
    }

    fn key(&mut self) -> PResult<String> {
        match self.peek() {
            Some(q @ ('"' | '\'')) => self.string(q),
            Some(c) if c.is_alphanumeric() || c == '_' || c == '$' => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
                {
                    self.pos += 1;
                }
                Ok(self
                    .chars
                    .get(start..self.pos)
                    .unwrap_or_default()
                    .iter()
                    .collect())
            }
            Some(c) => Err(self.err(&format!("Invalid property identifier character: {c}."))),
            None => Err(self.err("Unexpected end when reading JSON.")),
        }
    }

    fn object(&mut self, depth: usize) -> PResult<Value> {
        self.check_depth(depth)?;
        self.pos += 1;
        let mut pairs: Vec<(String, Value)> = Vec::new();
        loop {
            self.skip_ws()?;
            match self.peek() {
                None => return Err(self.err("Unexpected end when reading JSON.")),
                Some('}') => {
                    self.pos += 1;
                    break;
                }
                _ => {}
            }
            let key = self.key()?;
            self.skip_ws()?;
            if self.peek() != Some(':') {
                return Err(self.err(&format!(
                    "Invalid character after parsing property name. Expected ':' but got: {}.",
                    self.peek().map(String::from).unwrap_or_default()
                )));
            }
            self.pos += 1;
            self.path.push(key.clone());
            let v = self.value(depth)?;
            self.path.pop();
            match pairs.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = v,
                None => pairs.push((key, v)),
            }
            self.skip_ws()?;
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {}
                None => return Err(self.err("Unexpected end when reading JSON.")),
                Some(c) => {
                    return Err(self.err(&format!(
                        "After parsing a value an unexpected character was encountered: {c}."
                    )));
                }
            }
        }
        if self.hashtable {
            let mut h = Hashtable::new(true);
            for (k, v) in pairs {
                h.insert(Value::from(k), v);
            }
            return Ok(Value::hashtable(h));
        }
        let mut o = PsObject::custom();
        for (k, v) in pairs {
            if k.is_empty() {
                return Err("\u{0}EmptyKeyInJsonString\u{0}The provided JSON includes a property whose name is an empty string, this is only supported using the -AsHashTable switch."
                    .to_string());
            }
            if let Some(existing) = o.prop(&k) {
                return Err(format!(
                    "\u{0}KeysWithDifferentCasingInJsonString\u{0}Cannot convert the JSON string because it contains keys with different casing. Please use the -AsHashTable switch instead. The key that was attempted to be added to the existing key '{}' was '{k}'.",
                    existing.name
                ));
            }
            o.props_mut()
                .push(crate::runtime::value::Prop::note(k.as_str(), v));
        }
        Ok(Value::object(o))
    }
}

/// Json.NET reads `yyyy-MM-ddTHH:mm:ss[.fffffff][Z|±hh:mm]` strings as dates.
fn parse_iso_date(s: &str) -> Option<chrono::NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() < 19 || b.get(4) != Some(&b'-') || b.get(10) != Some(&b'T') {
        return None;
    }
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    if !(digits(0..4)
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19))
    {
        return None;
    }
    let mut rest = s.get(19..)?;
    let mut nanos = 0u32;
    if let Some(r) = rest.strip_prefix('.') {
        let n = r.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || n > 7 {
            return None;
        }
        let frac = r.get(..n)?;
        nanos = format!("{frac:0<9}").parse().ok()?;
        rest = r.get(n..)?;
    }
    let naive = chrono::NaiveDateTime::parse_from_str(s.get(..19)?, "%Y-%m-%dT%H:%M:%S")
        .ok()?
        .checked_add_signed(chrono::TimeDelta::nanoseconds(nanos as i64))?;
    match rest {
        "" | "Z" => Some(naive),
        off => {
            let sign = match off.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let hm = off.get(1..)?.replace(':', "");
            if hm.len() != 4 || !hm.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let h: i64 = hm.get(..2)?.parse().ok()?;
            let m: i64 = hm.get(2..)?.parse().ok()?;
            let utc = naive.checked_sub_signed(chrono::TimeDelta::minutes(sign * (h * 60 + m)))?;
            let local = chrono::TimeZone::from_utc_datetime(&chrono::Local, &utc);
            Some(local.naive_local())
        }
    }
}

#[derive(Default)]
struct ConvertFromJson {
    buffer: Vec<String>,
}

impl ConvertFromJson {
    fn convert(&self, cx: &mut Cx, args: &Args, text: &str) -> Result<(), (Flow, bool)> {
        let max_depth = args
            .get("Depth")
            .and_then(Value::as_i64)
            .unwrap_or(1024)
            .max(1) as usize;
        let mut p = Parser {
            chars: text.chars().collect(),
            pos: 0,
            max_depth,
            hashtable: args.switch("AsHashtable"),
            path: Vec::new(),
            _src: text,
        };
        match p.document() {
            Ok(Some(v)) => {
                let r = if args.switch("NoEnumerate") {
                    cx.emit(v)
                } else {
                    cx.emit_enumerated(v)
                };
                r.map_err(|f| (f, false))
            }
            Ok(None) => Ok(()),
            Err(msg) => {
                if let Some(rest) = msg.strip_prefix('\u{0}') {
                    let (id, text) = rest.split_once('\u{0}').unwrap_or(("", rest));
                    return Err((
                        cx.fail(
                            ErrorRecord::new(
                                text,
                                &format!(
                                    "{id},Microsoft.PowerShell.Commands.ConvertFromJsonCommand"
                                ),
                                ErrorCategory::InvalidOperation,
                            )
                            .with_exception("System.InvalidOperationException"),
                        ),
                        false,
                    ));
                }
                Err((
                    cx.fail(
                        ErrorRecord::new(
                            format!("Conversion from JSON failed with error: {msg}"),
                            "System.ArgumentException,Microsoft.PowerShell.Commands.ConvertFromJsonCommand",
                            ErrorCategory::ParserError,
                        )
                        .with_exception("System.ArgumentException")
                        .with_target(Value::from(text)),
                    ),
                    true,
                ))
            }
        }
    }
}

impl Processor for ConvertFromJson {
    fn process(&mut self, _: &mut Cx, args: &Args) -> Res<()> {
        if let Some(v) = args.get("InputObject") {
            self.buffer.push(v.to_string());
        }
        Ok(())
    }

    fn end(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let buffer = std::mem::take(&mut self.buffer);
        let Some(first) = buffer.first() else {
            return Ok(());
        };
        // Each piece is tried on its own first (one JSON document per
        // line); when the first does not parse, all are joined into one.
        if buffer.len() > 1 {
            let mut probe = Parser {
                chars: first.chars().collect(),
                pos: 0,
                max_depth: usize::MAX,
                hashtable: true,
                path: Vec::new(),
                _src: first,
            };
            if !matches!(probe.document(), Ok(Some(v)) if !v.is_null()) {
                let joined = buffer.join("\n");
                return self.convert(cx, args, &joined).map_err(|(f, _)| f);
            }
        }
        for piece in &buffer {
            self.convert(cx, args, piece).map_err(|(f, _)| f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Option<Value>, String> {
        Parser {
            chars: s.chars().collect(),
            pos: 0,
            max_depth: 64,
            hashtable: false,
            path: Vec::new(),
            _src: s,
        }
        .document()
    }

    #[test]
    fn numbers() {
        assert!(matches!(parse("12"), Ok(Some(Value::Long(12)))));
        assert!(matches!(parse("1.5"), Ok(Some(Value::Double(_)))));
        assert!(parse("{\"a\":").is_err());
        assert!(parse("[1,2] x").is_err());
    }

    #[test]
    fn dates() {
        assert!(parse_iso_date("2024-01-02T03:04:05").is_some());
        assert!(parse_iso_date("2024-01-02").is_none());
        assert!(parse_iso_date("2024-01-02T03:04:05.123Z").is_some());
    }

    #[test]
    fn doubles_keep_a_point() {
        assert_eq!(ensure_decimal("1".into()), "1.0");
        assert_eq!(ensure_decimal("1E+20".into()), "1E+20");
    }
}
