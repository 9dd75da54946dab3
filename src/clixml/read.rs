//! Reading CLIXML: XML into a tree of [`Node`]s (bounded), and a tree into
//! the shell's values.

use std::collections::HashMap;
use std::rc::Rc;

use quick_xml::events::Event;

use super::{Error, unescape};
use crate::runtime::value::{Hashtable, Prop, PropKind, PsObject, Value};

/// Deepest element nesting accepted: pwsh's own serialiser stops far
/// earlier, so deeper input is an attack, not data.
pub const MAX_DEPTH: usize = 64;

/// Most elements in one document.
pub const MAX_NODES: usize = 500_000;

/// One XML element: its name, attributes, text and children.
#[derive(Debug, Default, Clone)]
pub struct Node {
    pub tag: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The `N` attribute: a property's name.
    pub fn name(&self) -> Option<&str> {
        self.attr("N")
    }

    pub fn child(&self, tag: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.tag == tag)
    }

    /// The property named `n` of an `<Obj>`, among its `<MS>` and `<Props>`.
    pub fn prop(&self, n: &str) -> Option<&Node> {
        self.children
            .iter()
            .filter(|c| c.tag == "MS" || c.tag == "Props")
            .flat_map(|c| c.children.iter())
            .find(|c| c.name() == Some(n))
    }

    /// The elements of a list-valued `<Obj>` (`<LST>`, `<IE>`, …).
    pub fn items(&self) -> &[Node] {
        self.children
            .iter()
            .find(|c| matches!(c.tag.as_str(), "LST" | "IE" | "STK" | "QUE"))
            .map_or(&[], |l| l.children.as_slice())
    }
}

/// Parses one CLIXML document (a UTF-8 BOM is skipped) into its root
/// element.
pub fn parse(bytes: &[u8]) -> Result<Node, Error> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| Error::Xml(e.to_string()))?;
    let mut reader = quick_xml::Reader::from_str(text);
    let xml = |e: &dyn std::fmt::Display| Error::Xml(e.to_string());
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut count = 0usize;
    loop {
        let ev = reader.read_event().map_err(|e| xml(&e))?;
        let empty = matches!(ev, Event::Empty(_));
        match ev {
            Event::Start(e) | Event::Empty(e) => {
                count += 1;
                if count > MAX_NODES {
                    return Err(Error::TooLarge(MAX_NODES));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(Error::TooDeep(MAX_DEPTH));
                }
                let mut node = Node {
                    tag: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
                    ..Node::default()
                };
                for a in e.attributes() {
                    let a = a.map_err(|e| xml(&e))?;
                    let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                    let value = a.unescape_value().map_err(|e| xml(&e))?.into_owned();
                    node.attrs.push((key, value));
                }
                stack.push(node);
                if empty {
                    close(&mut stack, &mut root)?;
                }
            }
            Event::End(_) => close(&mut stack, &mut root)?,
            Event::Text(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t.decode().map_err(|e| xml(&e))?);
                }
            }
            Event::CData(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t.decode().map_err(|e| xml(&e))?);
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(|e| xml(&e))? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(|e| xml(&e))?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| Error::Xml(format!("unknown entity '&{name};'")))?
                            .to_string()
                    }
                };
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&c);
                }
            }
            Event::DocType(_) => return Err(Error::DocType),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(Error::Xml("the document ends inside an element".into()));
    }
    root.ok_or(Error::Empty)
}

/// Ends the innermost open element. A second top-level element is
/// refused: one message holds one value.
fn close(stack: &mut Vec<Node>, root: &mut Option<Node>) -> Result<(), Error> {
    let Some(node) = stack.pop() else {
        return Err(Error::Xml("an end tag closes nothing".into()));
    };
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None if root.is_none() => *root = Some(node),
        None => return Err(Error::Xml("more than one top-level element".into())),
    }
    Ok(())
}

/// Turns a CLIXML element into a value.
pub fn to_value(node: &Node) -> Result<Value, Error> {
    Cx::default().value(node)
}

/// What `<Ref>` and `<TNRef>` refer to, as read so far.
#[derive(Default)]
pub struct Cx {
    objects: HashMap<String, Value>,
    types: HashMap<String, Rc<[Rc<str>]>>,
    /// Objects get `Deserialized.` type names (Import-Clixml), as pwsh
    /// marks what it rebuilt from properties alone.
    deserialized: bool,
}

impl Cx {
    pub fn deserializing() -> Cx {
        Cx {
            deserialized: true,
            ..Cx::default()
        }
    }

    pub fn value(&mut self, n: &Node) -> Result<Value, Error> {
        let bad = || Error::BadValue(n.tag.clone(), n.text.clone());
        let t = n.text.trim();
        Ok(match n.tag.as_str() {
            "Nil" => Value::Null,
            "S" | "Version" | "URI" | "XD" | "SBK" | "PR" => {
                Value::from(unescape(&n.text).as_str())
            }
            "B" => match t.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err(bad()),
            },
            "I32" | "I16" | "U16" | "SB" | "By" => Value::Int(t.parse().map_err(|_| bad())?),
            "I64" | "U32" => Value::Long(t.parse().map_err(|_| bad())?),
            "U64" => {
                let v: u64 = t.parse().map_err(|_| bad())?;
                i64::try_from(v).map_or(Value::Double(v as f64), Value::Long)
            }
            "Db" => Value::Double(match t {
                "INF" | "Infinity" => f64::INFINITY,
                "-INF" | "-Infinity" => f64::NEG_INFINITY,
                "NaN" => f64::NAN,
                _ => t.parse().map_err(|_| bad())?,
            }),
            "Sg" => Value::Single(match t {
                "INF" | "Infinity" => f32::INFINITY,
                "-INF" | "-Infinity" => f32::NEG_INFINITY,
                "NaN" => f32::NAN,
                _ => t.parse().map_err(|_| bad())?,
            }),
            "D" => Value::Decimal(t.parse().map_err(|_| bad())?),
            "C" => {
                let u: u32 = t.parse().map_err(|_| bad())?;
                Value::Char(char::from_u32(u).ok_or_else(bad)?)
            }
            "G" => Value::Guid(*uuid::Uuid::parse_str(t).map_err(|_| bad())?.as_bytes()),
            "DT" => Value::DateTime(date_time(t).ok_or_else(bad)?),
            "TS" => Value::TimeSpan(duration(t).ok_or_else(bad)?),
            "BA" => {
                use base64::Engine;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(t)
                    .map_err(|_| bad())?;
                Value::array(bytes.into_iter().map(|b| Value::Int(b.into())).collect())
            }
            "Ref" => {
                let id = n.attr("RefId").unwrap_or_default();
                self.objects
                    .get(id)
                    .cloned()
                    .ok_or_else(|| Error::BadRef(id.to_string()))?
            }
            "Obj" => {
                let v = self.object(n)?;
                if let Some(id) = n.attr("RefId") {
                    self.objects.insert(id.to_string(), v.clone());
                }
                v
            }
            _ => return Err(Error::BadValue(n.tag.clone(), "unknown element".into())),
        })
    }

    /// The type names of an `<Obj>`, from its `<TN>` or the `<TNRef>` to an
    /// earlier one.
    fn type_names(&mut self, n: &Node) -> Result<Option<Rc<[Rc<str>]>>, Error> {
        if let Some(tn) = n.child("TN") {
            let names: Rc<[Rc<str>]> = tn
                .children
                .iter()
                .filter(|c| c.tag == "T")
                .map(|c| Rc::from(unescape(&c.text).as_str()))
                .collect();
            if let Some(id) = tn.attr("RefId") {
                self.types.insert(id.to_string(), names.clone());
            }
            return Ok(Some(names));
        }
        if let Some(r) = n.child("TNRef") {
            let id = r.attr("RefId").unwrap_or_default();
            return self
                .types
                .get(id)
                .cloned()
                .map(Some)
                .ok_or_else(|| Error::BadRef(id.to_string()));
        }
        Ok(None)
    }

    fn object(&mut self, n: &Node) -> Result<Value, Error> {
        let types = self.type_names(n)?;
        let has = |t: &str| {
            types
                .as_ref()
                .is_some_and(|ts| ts.iter().any(|x| x.ends_with(t)))
        };
        if let Some(list) = n
            .children
            .iter()
            .find(|c| matches!(c.tag.as_str(), "LST" | "IE" | "STK" | "QUE"))
        {
            let items = list
                .children
                .iter()
                .map(|c| self.value(c))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Value::array(items));
        }
        if let Some(dct) = n.child("DCT") {
            let mut h = Hashtable::new(has("OrderedDictionary"));
            for en in dct.children.iter().filter(|c| c.tag == "En") {
                let mut key = Value::Null;
                let mut val = Value::Null;
                for c in &en.children {
                    match c.name() {
                        Some("Key") => key = self.value(c)?,
                        Some("Value") => val = self.value(c)?,
                        _ => {}
                    }
                }
                h.insert(key, val);
            }
            return Ok(Value::hashtable(h));
        }
        if has("SwitchParameter") {
            let present = n
                .prop("IsPresent")
                .map(|p| self.value(p))
                .transpose()?
                .unwrap_or(Value::Bool(true));
            return Ok(present);
        }
        // An enum or a boxed primitive: the value itself, unnamed.
        if let Some(inner) = n.children.iter().find(|c| {
            c.name().is_none()
                && !matches!(c.tag.as_str(), "TN" | "TNRef" | "ToString" | "MS" | "Props")
        }) {
            return self.value(inner);
        }
        let to_string = n.child("ToString").map(|t| unescape(&t.text));
        let members: Vec<&Node> = n
            .children
            .iter()
            .filter(|c| c.tag == "MS" || c.tag == "Props")
            .flat_map(|c| c.children.iter())
            .collect();
        if members.is_empty()
            && let Some(s) = &to_string
        {
            return Ok(Value::from(s.as_str()));
        }
        let types = match types {
            Some(t) if self.deserialized => Some(
                t.iter()
                    .map(|n| match n.strip_prefix("Deserialized.") {
                        Some(_) => n.clone(),
                        None => Rc::from(format!("Deserialized.{n}").as_str()),
                    })
                    .collect(),
            ),
            other => other,
        };
        let mut o = match types {
            Some(t) if !t.is_empty() => PsObject::with_type(t),
            _ => PsObject::custom(),
        };
        for m in members {
            let Some(name) = m.name() else { continue };
            let mut p = Prop::note(unescape(name).as_str(), self.value(m)?);
            p.kind = PropKind::Note;
            o.props_mut().push(p);
        }
        o.display = to_string.map(|s| Rc::from(s.as_str()));
        Ok(Value::object(o))
    }
}

/// `2024-01-02T03:04:05.1234567+01:00` (the offset is dropped: the shell's
/// dates carry none) or without an offset.
fn date_time(t: &str) -> Option<chrono::NaiveDateTime> {
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(d.naive_local());
    }
    let t = t.strip_suffix('Z').unwrap_or(t);
    chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f").ok()
}

/// An `xs:duration` as .NET writes a TimeSpan: `-P1DT2H3M4.5S`.
fn duration(t: &str) -> Option<chrono::TimeDelta> {
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let t = t.strip_prefix('P')?;
    let (days, time) = match t.split_once('T') {
        Some((d, tm)) => (d, tm),
        None => (t, ""),
    };
    let mut micros: i64 = 0;
    if !days.is_empty() {
        let d: i64 = days.strip_suffix('D')?.parse().ok()?;
        micros = micros.checked_add(d.checked_mul(86_400_000_000)?)?;
    }
    let mut rest = time;
    for (unit, scale) in [
        ('H', 3_600_000_000f64),
        ('M', 60_000_000f64),
        ('S', 1_000_000f64),
    ] {
        if let Some(i) = rest.find(unit) {
            let n: f64 = rest[..i].parse().ok()?;
            let add = (n * scale).round();
            if !add.is_finite() || add.abs() > 9.0e18 {
                return None;
            }
            micros = micros.checked_add(add as i64)?;
            rest = &rest[i + 1..];
        }
    }
    if !rest.is_empty() {
        return None;
    }
    let d = chrono::TimeDelta::microseconds(micros);
    Some(if neg { -d } else { d })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(xml: &str) -> Result<Value, Error> {
        to_value(&parse(xml.as_bytes())?)
    }

    #[test]
    fn primitives() {
        assert_eq!(read("<I32>5</I32>").unwrap().to_string(), "5");
        assert_eq!(
            read("<S>a_x000A_b &amp; c</S>").unwrap().to_string(),
            "a\nb & c"
        );
        assert_eq!(read("<B>true</B>").unwrap().to_string(), "True");
        assert!(matches!(read("<Nil />"), Ok(Value::Null)));
        assert!(matches!(read("<I32>x</I32>"), Err(Error::BadValue(..))));
    }

    #[test]
    fn objects_lists_and_refs() {
        let xml = r#"<Obj RefId="0"><TN RefId="0"><T>System.Object[]</T></TN><LST>
            <Obj RefId="1"><TN RefId="1"><T>My.Type</T><T>System.Object</T></TN><ToString>one</ToString><MS><S N="Name">one</S></MS></Obj>
            <Obj RefId="2"><TNRef RefId="1" /><MS><I32 N="N">2</I32></MS></Obj>
            <Ref RefId="1" /></LST></Obj>"#;
        let v = read(xml).unwrap();
        let Value::Array(a) = v else { panic!("array") };
        assert_eq!(a.len(), 3);
        let Some(Value::Object(o)) = a.get(1) else {
            panic!("object")
        };
        assert_eq!(&*o.borrow().type_names[0], "My.Type");
        assert_eq!(a.get(2).unwrap().to_string(), "one");
    }

    #[test]
    fn hostile_documents_are_refused() {
        let deep = "<Obj><LST>".repeat(100) + &"</LST></Obj>".repeat(100);
        assert_eq!(
            parse(deep.as_bytes()).unwrap_err(),
            Error::TooDeep(MAX_DEPTH)
        );
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><S>&lol2;</S>"#;
        assert_eq!(parse(bomb.as_bytes()).unwrap_err(), Error::DocType);
        assert!(matches!(parse(b"<S>&lol;</S>"), Err(Error::Xml(_))));
        assert!(matches!(read("<Ref RefId=\"9\" />"), Err(Error::BadRef(_))));
        assert!(matches!(parse(b"<S>open"), Err(Error::Xml(_))));
        assert!(matches!(parse(b"<S/><S/>"), Err(Error::Xml(_))));
    }

    #[test]
    fn durations_and_dates() {
        assert_eq!(
            duration("P1DT2H3M4.5S"),
            Some(chrono::TimeDelta::microseconds(93_784_500_000))
        );
        assert!(date_time("2024-01-02T03:04:05.1234567+01:00").is_some());
        assert!(date_time("2024-01-02T03:04:05").is_some());
    }
}
