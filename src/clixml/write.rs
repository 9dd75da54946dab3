//! Writing CLIXML: values, and the pieces PSRP messages are built from
//! (objects with member sets, lists, enums, error records).

use std::collections::HashMap;
use std::fmt::Write as _;

use super::escape;
use crate::runtime::error::{ErrorCategory, ErrorRecord};
use crate::runtime::value::{PropKind, Value};

/// How deep objects are written with their properties; deeper ones travel
/// as their text, as pwsh's remoting serialiser does past its depth.
pub const DEFAULT_DEPTH: usize = 3;

/// One CLIXML document being written. Every `<Obj>` gets a fresh `RefId`;
/// a list of type names is written once and referred to by `<TNRef>`.
pub struct Writer {
    out: String,
    next_ref: u32,
    types: HashMap<String, u32>,
    pub max_depth: usize,
}

impl Default for Writer {
    fn default() -> Writer {
        Writer {
            out: String::new(),
            next_ref: 0,
            types: HashMap::new(),
            max_depth: DEFAULT_DEPTH,
        }
    }
}

const ARRAY: &[&str] = &["System.Object[]", "System.Array", "System.Object"];
const HASHTABLE: &[&str] = &["System.Collections.Hashtable", "System.Object"];
const ORDERED: &[&str] = &[
    "System.Collections.Specialized.OrderedDictionary",
    "System.Object",
];

impl Writer {
    pub fn finish(self) -> String {
        self.out
    }

    fn name_attr(&mut self, name: Option<&str>) {
        if let Some(n) = name {
            self.out.push_str(" N=\"");
            escape(n, &mut self.out);
            self.out.push('"');
        }
    }

    /// A primitive element: `<tag N="name">text</tag>`.
    pub fn prim(&mut self, tag: &str, name: Option<&str>, text: &str) {
        let _ = write!(self.out, "<{tag}");
        self.name_attr(name);
        self.out.push('>');
        escape(text, &mut self.out);
        let _ = write!(self.out, "</{tag}>");
    }

    pub fn nil(&mut self, name: Option<&str>) {
        self.out.push_str("<Nil");
        self.name_attr(name);
        self.out.push_str(" />");
    }

    /// Opens `<Obj>` with its type names and text; the caller writes its
    /// content (`<MS>`, `<LST>`, …) and [`Writer::end_obj`].
    pub fn start_obj(&mut self, name: Option<&str>, types: &[&str], to_string: Option<&str>) {
        let id = self.next_ref;
        self.next_ref += 1;
        self.out.push_str("<Obj");
        self.name_attr(name);
        let _ = write!(self.out, " RefId=\"{id}\">");
        if !types.is_empty() {
            let key = types.join("\n");
            match self.types.get(&key) {
                Some(id) => {
                    let _ = write!(self.out, "<TNRef RefId=\"{id}\" />");
                }
                None => {
                    let id = self.types.len() as u32;
                    self.types.insert(key, id);
                    let _ = write!(self.out, "<TN RefId=\"{id}\">");
                    for t in types {
                        self.out.push_str("<T>");
                        escape(t, &mut self.out);
                        self.out.push_str("</T>");
                    }
                    self.out.push_str("</TN>");
                }
            }
        }
        if let Some(s) = to_string {
            self.prim("ToString", None, s);
        }
    }

    pub fn end_obj(&mut self) {
        self.out.push_str("</Obj>");
    }

    /// Raw markup (`<MS>`, `</MS>`, `<LST>`…).
    pub fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }

    /// An enum value: its number, type names and name.
    pub fn enum_value(&mut self, name: Option<&str>, ty: &str, text: &str, n: i64) {
        self.start_obj(
            name,
            &[ty, "System.Enum", "System.ValueType", "System.Object"],
            Some(text),
        );
        match i32::try_from(n) {
            Ok(n) => self.prim("I32", None, &n.to_string()),
            Err(_) => self.prim("I64", None, &n.to_string()),
        }
        self.end_obj();
    }

    /// A list of strings (`System.Collections.ArrayList`).
    pub fn string_list(&mut self, name: Option<&str>, items: &[&str]) {
        self.start_obj(
            name,
            &["System.Collections.ArrayList", "System.Object"],
            None,
        );
        self.raw("<LST>");
        for i in items {
            self.prim("S", None, i);
        }
        self.raw("</LST>");
        self.end_obj();
    }

    /// Any value of the shell, objects to [`Writer::max_depth`].
    pub fn value(&mut self, name: Option<&str>, v: &Value, depth: usize) {
        match v {
            Value::Null => self.nil(name),
            Value::Bool(b) => self.prim("B", name, if *b { "true" } else { "false" }),
            Value::Int(n) => self.prim("I32", name, &n.to_string()),
            Value::Long(n) => self.prim("I64", name, &n.to_string()),
            Value::Double(d) => self.prim("Db", name, &float_text(*d)),
            Value::Single(f) => self.prim("Sg", name, &float_text(*f)),
            Value::Decimal(d) => self.prim("D", name, &d.to_string()),
            Value::Char(c) => self.prim("C", name, &(*c as u32).to_string()),
            Value::String(s) => self.prim("S", name, s),
            Value::DateTime(d) => self.prim("DT", name, &date_time(d)),
            Value::TimeSpan(t) => self.prim("TS", name, &duration(*t)),
            Value::Guid(g) => self.prim("G", name, &uuid::Uuid::from_bytes(*g).to_string()),
            Value::Array(a) => {
                self.start_obj(name, ARRAY, None);
                self.raw("<LST>");
                if depth < self.max_depth {
                    for item in a.items.borrow().iter() {
                        self.value(None, item, depth + 1);
                    }
                } else {
                    for item in a.items.borrow().iter() {
                        self.prim("S", None, &item.to_string());
                    }
                }
                self.raw("</LST>");
                self.end_obj();
            }
            Value::Hashtable(h) => {
                let h = h.borrow();
                self.start_obj(name, if h.ordered { ORDERED } else { HASHTABLE }, None);
                self.raw("<DCT>");
                for (k, val) in h.entries() {
                    self.raw("<En>");
                    self.value(Some("Key"), k, self.max_depth);
                    if depth < self.max_depth {
                        self.value(Some("Value"), val, depth + 1);
                    } else {
                        self.prim("S", Some("Value"), &val.to_string());
                    }
                    self.raw("</En>");
                }
                self.raw("</DCT>");
                self.end_obj();
            }
            Value::Object(o) => {
                let text = v.to_string();
                if depth >= self.max_depth {
                    return self.prim("S", name, &text);
                }
                let o = o.borrow();
                let types: Vec<&str> = o.type_names.iter().map(|t| &**t).collect();
                self.start_obj(name, &types, Some(&text));
                self.raw("<MS>");
                for p in o.props() {
                    if matches!(
                        p.kind,
                        PropKind::Method | PropKind::Alias | PropKind::Script
                    ) {
                        continue;
                    }
                    self.value(Some(&p.name), &p.value, depth + 1);
                }
                self.raw("</MS>");
                self.end_obj();
            }
            Value::Enum(e) => self.enum_value(name, &e.type_name, &e.name, e.value),
            Value::ScriptBlock(_) => self.prim("SBK", name, &v.to_string()),
            Value::Error(rec) => self.error_record(name, rec),
            Value::Type(_) => self.prim("S", name, &v.to_string()),
        }
    }

    /// An ErrorRecord as pwsh serialises it for remoting: the exception,
    /// the FullyQualifiedErrorId and the category's fields, which is what
    /// a client rebuilds the record from.
    pub fn error_record(&mut self, name: Option<&str>, rec: &ErrorRecord) {
        let ty = &*rec.exception_type;
        let reason = ty.rsplit('.').next().unwrap_or(ty);
        let target_type = match &rec.target {
            Value::Null => String::new(),
            t => {
                let full = t.type_name();
                full.rsplit('.').next().unwrap_or(&full).to_string()
            }
        };
        let target_name = match &rec.target {
            Value::Null => String::new(),
            t => t.to_string(),
        };
        let activity = rec.command.as_deref().unwrap_or("");
        let category = rec.category;
        let message = format!(
            "{}: ({target_name}:{target_type}) [{activity}], {reason}",
            category.name()
        );
        self.start_obj(
            name,
            &["System.Management.Automation.ErrorRecord", "System.Object"],
            Some(&rec.message),
        );
        self.raw("<MS>");
        self.start_obj(
            Some("Exception"),
            &[ty, "System.Exception", "System.Object"],
            Some(&rec.message),
        );
        self.raw("<Props>");
        self.prim("S", Some("Message"), &rec.message);
        self.nil(Some("Data"));
        self.nil(Some("InnerException"));
        self.nil(Some("Source"));
        self.raw("</Props>");
        self.end_obj();
        let depth = self.max_depth;
        self.value(Some("TargetObject"), &rec.target, depth);
        self.prim("S", Some("FullyQualifiedErrorId"), &rec.error_id);
        self.nil(Some("InvocationInfo"));
        self.prim(
            "I32",
            Some("ErrorCategory_Category"),
            &category_number(category).to_string(),
        );
        self.prim("S", Some("ErrorCategory_Activity"), activity);
        self.prim("S", Some("ErrorCategory_Reason"), reason);
        self.prim("S", Some("ErrorCategory_TargetName"), &target_name);
        self.prim("S", Some("ErrorCategory_TargetType"), &target_type);
        self.prim("S", Some("ErrorCategory_Message"), &message);
        self.prim("B", Some("SerializeExtendedInfo"), "false");
        self.raw("</MS>");
        self.end_obj();
    }
}

/// `System.Management.Automation.ErrorCategory`'s number for a category.
pub fn category_number(c: ErrorCategory) -> i32 {
    match c {
        ErrorCategory::NotSpecified => 0,
        ErrorCategory::InvalidArgument => 5,
        ErrorCategory::InvalidData => 6,
        ErrorCategory::InvalidOperation => 7,
        ErrorCategory::InvalidType => 9,
        ErrorCategory::MetadataError => 10,
        ErrorCategory::ObjectNotFound => 13,
        ErrorCategory::OperationStopped => 14,
        ErrorCategory::OperationTimeout => 15,
        ErrorCategory::SyntaxError => 16,
        ErrorCategory::ParserError => 17,
        ErrorCategory::PermissionDenied => 18,
        ErrorCategory::ResourceExists => 20,
        ErrorCategory::ResourceUnavailable => 21,
        ErrorCategory::ReadError => 22,
        ErrorCategory::WriteError => 23,
        ErrorCategory::LimitsExceeded => 29,
    }
}

/// A TimeSpan as `xs:duration`: `-P1DT2H3M4.5S`.
/// A double or single as CLIXML spells it: shortest round-trip digits,
/// with .NET's names for the values that are not numbers.
fn float_text<F: Into<f64> + std::fmt::Display + Copy>(x: F) -> String {
    let d: f64 = x.into();
    if d.is_nan() {
        "NaN".to_string()
    } else if d.is_infinite() {
        if d > 0.0 { "INF" } else { "-INF" }.to_string()
    } else {
        x.to_string()
    }
}

fn duration(t: chrono::TimeDelta) -> String {
    let neg = t < chrono::TimeDelta::zero();
    let micros = t.num_microseconds().unwrap_or(i64::MAX).unsigned_abs();
    let days = micros / 86_400_000_000;
    let rem = micros % 86_400_000_000;
    let (h, rem) = (rem / 3_600_000_000, rem % 3_600_000_000);
    let (m, rem) = (rem / 60_000_000, rem % 60_000_000);
    let (s, frac) = (rem / 1_000_000, rem % 1_000_000);
    let sign = if neg { "-" } else { "" };
    let secs = if frac == 0 {
        format!("{s}")
    } else {
        format!("{s}.{frac:06}").trim_end_matches('0').to_string()
    };
    format!("{sign}P{days}DT{h}H{m}M{secs}S")
}

/// A DateTime as .NET's round-trip form writes it: seven fractional digits
/// (ticks), trailing zeros dropped. (chrono has no `%.7f`: formatting with
/// it fails, so the fraction is built here.)
fn date_time(d: &chrono::NaiveDateTime) -> String {
    use chrono::Timelike;
    let mut text = d.format("%Y-%m-%dT%H:%M:%S").to_string();
    let ticks = d.nanosecond() % 1_000_000_000 / 100;
    if ticks != 0 {
        let fraction = format!(".{ticks:07}");
        text.push_str(fraction.trim_end_matches('0'));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clixml::{parse, to_value};
    use crate::runtime::value::{Hashtable, Prop, PsObject};
    use std::rc::Rc;

    fn round_trip(v: &Value) -> Value {
        let mut w = Writer::default();
        w.value(None, v, 0);
        let xml = w.finish();
        to_value(&parse(xml.as_bytes()).expect("parses")).expect("reads")
    }

    #[test]
    fn values_round_trip() {
        let mut o = PsObject::with_type(Rc::from(vec![
            Rc::from("Microsoft.Rtc.Management.WritableConfig.Policy.Edge.AccessEdgeConfiguration"),
            Rc::from("System.Object"),
        ]));
        o.props_mut()
            .push(Prop::note("Identity", Value::from("Global")));
        o.props_mut().push(Prop::note("Max", Value::Int(5)));
        o.display = Some(Rc::from("Global"));
        let mut h = Hashtable::new(true);
        h.insert(Value::from("k"), Value::from("line\nbreak"));
        let v = Value::array(vec![
            Value::object(o),
            Value::hashtable(h),
            Value::Long(1 << 40),
            Value::Bool(false),
            Value::Null,
            Value::Double(1.5),
            Value::TimeSpan(chrono::TimeDelta::milliseconds(-93_784_500)),
        ]);
        let back = round_trip(&v);
        assert_eq!(
            crate::remote::protocol::to_json(&back, 0),
            crate::remote::protocol::to_json(&v, 0)
        );
        let Value::Array(a) = back else {
            panic!("array")
        };
        let Some(Value::Object(o)) = a.get(0) else {
            panic!("object")
        };
        assert_eq!(
            &*o.borrow().type_names[0],
            "Microsoft.Rtc.Management.WritableConfig.Policy.Edge.AccessEdgeConfiguration"
        );
        assert_eq!(a.get(0).unwrap().to_string(), "Global");
    }

    #[test]
    fn repeated_type_names_are_referred_to() {
        let mk = || {
            let mut o = PsObject::custom();
            o.props_mut().push(Prop::note("a", Value::Int(1)));
            Value::object(o)
        };
        let mut w = Writer::default();
        w.value(None, &Value::array(vec![mk(), mk()]), 0);
        let xml = w.finish();
        assert_eq!(xml.matches("<TNRef RefId=\"1\" />").count(), 1, "{xml}");
    }
}
