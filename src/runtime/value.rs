//! The object model: what a PowerShell variable can hold.
//!
//! Arrays, hashtables and objects are reference types, as in .NET:
//! `$b = $a; $b[0] = 9` changes `$a` too. A session runs on one thread, so
//! `Rc<RefCell<..>>` is enough.

use std::any::Any;
use std::cell::{OnceCell, RefCell};
use std::fmt;
use std::rc::Rc;

use indexmap::IndexMap;
use rust_decimal::Decimal;

use super::error::ErrorRecord;
use super::types::PsType;
use crate::syntax::ast::{Literal, ScriptBlockAst};

#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Double(f64),
    /// `[float]` (System.Single): kept in single precision, widened to a
    /// double by arithmetic as in pwsh.
    Single(f32),
    Decimal(Decimal),
    Char(char),
    String(Rc<str>),
    DateTime(chrono::NaiveDateTime),
    TimeSpan(chrono::TimeDelta),
    /// Stored as bytes so `Value` stays 24 bytes (u128 would align it to 16).
    Guid([u8; 16]),
    Array(Rc<PsArray>),
    Hashtable(Rc<RefCell<Hashtable>>),
    Object(Rc<RefCell<PsObject>>),
    ScriptBlock(Rc<ScriptBlockAst>),
    Type(Rc<PsType>),
    Error(Rc<ErrorRecord>),
    /// A value of an enum from the configuration schema, shown by name.
    Enum(Rc<EnumValue>),
}

#[derive(Debug, PartialEq, Eq)]
pub struct EnumValue {
    pub type_name: Rc<str>,
    pub name: Rc<str>,
    pub value: i64,
}

/// `object[]` (fixed size: `+=` builds a new one) or an `ArrayList`/`List[T]`
/// that grows with `.Add()`.
#[derive(Debug)]
pub struct PsArray {
    pub items: RefCell<Vec<Value>>,
    pub growable: bool,
    /// Element type of a typed array (`[int[]]`), enforced on assignment.
    pub elem: Option<PsType>,
}

impl PsArray {
    pub fn len(&self) -> usize {
        self.items.borrow().len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.borrow().is_empty()
    }
    pub fn get(&self, i: usize) -> Option<Value> {
        self.items.borrow().get(i).cloned()
    }
    pub fn to_vec(&self) -> Vec<Value> {
        self.items.borrow().clone()
    }
}

/// Freeing a value nested a million deep would recurse once per level and
/// overflow the stack. Each container instead hands the containers it owns
/// alone to a worklist, so freeing any value is a loop.
impl Drop for PsArray {
    fn drop(&mut self) {
        free(std::mem::take(self.items.get_mut()));
    }
}

impl Drop for Hashtable {
    fn drop(&mut self) {
        free(entries(std::mem::take(&mut self.map)));
    }
}

impl Drop for PsObject {
    fn drop(&mut self) {
        free(
            self.props
                .take()
                .unwrap_or_default()
                .into_iter()
                .map(|p| p.value),
        );
    }
}

fn entries(map: IndexMap<HashKey, (Value, Value)>) -> impl Iterator<Item = Value> {
    map.into_values().flat_map(|(k, v)| [k, v])
}

/// Whether dropping the value may drop more values.
fn is_container(v: &Value) -> bool {
    matches!(v, Value::Array(_) | Value::Hashtable(_) | Value::Object(_))
}

/// Drops `items` and everything only they hold, without recursion: a
/// container they were the last owner of is emptied into the worklist
/// before it is dropped (empty). Other values drop as they come.
fn free(items: impl IntoIterator<Item = Value>) {
    let mut work: Vec<Value> = items.into_iter().filter(is_container).collect();
    while let Some(v) = work.pop() {
        match v {
            Value::Array(a) => {
                if let Ok(mut a) = Rc::try_unwrap(a) {
                    work.extend(
                        std::mem::take(a.items.get_mut())
                            .into_iter()
                            .filter(is_container),
                    );
                }
            }
            Value::Hashtable(h) => {
                if let Ok(h) = Rc::try_unwrap(h) {
                    let mut h = h.into_inner();
                    work.extend(entries(std::mem::take(&mut h.map)).filter(is_container));
                }
            }
            Value::Object(o) => {
                if let Ok(o) = Rc::try_unwrap(o) {
                    let mut o = o.into_inner();
                    work.extend(
                        o.props
                            .take()
                            .unwrap_or_default()
                            .into_iter()
                            .map(|p| p.value)
                            .filter(is_container),
                    );
                }
            }
            _ => {}
        }
    }
}

/// Hashtable keys compare as .NET's default comparer does for PowerShell
/// hashtables: strings case-insensitively, numbers by value.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum HashKey {
    Null,
    Bool(bool),
    Int(i64),
    Float(u64),
    Str(Box<str>),
    Other(Box<str>),
}

impl HashKey {
    pub fn of(v: &Value) -> HashKey {
        match v {
            Value::Null => HashKey::Null,
            Value::Bool(b) => HashKey::Bool(*b),
            Value::Int(i) => HashKey::Int(*i as i64),
            Value::Long(i) => HashKey::Int(*i),
            Value::Double(d) => HashKey::Float(d.to_bits()),
            Value::Single(f) => HashKey::Float(f64::from(*f).to_bits()),
            Value::String(s) => HashKey::Str(s.to_lowercase().into_boxed_str()),
            Value::Char(c) => HashKey::Str(c.to_lowercase().collect::<String>().into_boxed_str()),
            Value::Enum(e) => HashKey::Str(e.name.to_lowercase().into_boxed_str()),
            other => HashKey::Other(other.to_string().into_boxed_str()),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Hashtable {
    pub ordered: bool,
    pub map: IndexMap<HashKey, (Value, Value)>,
}

impl Hashtable {
    pub fn new(ordered: bool) -> Hashtable {
        Hashtable {
            ordered,
            map: IndexMap::new(),
        }
    }
    pub fn get(&self, key: &Value) -> Option<&Value> {
        self.map.get(&HashKey::of(key)).map(|(_, v)| v)
    }
    pub fn get_str(&self, key: &str) -> Option<&Value> {
        self.map
            .get(&HashKey::Str(key.to_lowercase().into_boxed_str()))
            .map(|(_, v)| v)
    }
    pub fn insert(&mut self, key: Value, value: Value) {
        self.map.insert(HashKey::of(&key), (key, value));
    }
    /// Insert that refuses an existing key, as `Add()` and literals do.
    pub fn add(&mut self, key: Value, value: Value) -> Result<(), Value> {
        let k = HashKey::of(&key);
        if self.map.contains_key(&k) {
            return Err(key);
        }
        self.map.insert(k, (key, value));
        Ok(())
    }
    pub fn remove(&mut self, key: &Value) {
        self.map.shift_remove(&HashKey::of(key));
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn entries(&self) -> impl Iterator<Item = (&Value, &Value)> {
        self.map.values().map(|(k, v)| (k, v))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropKind {
    /// Added to a PSCustomObject or by Add-Member.
    Note,
    /// A typed property of a configuration object (a .NET property in Lync).
    Property,
    /// Computed on read by Add-Member -MemberType ScriptProperty.
    Script,
    /// Another name for a property (`value` holds the target's name).
    Alias,
    /// A method added by Add-Member -MemberType ScriptMethod (`value` holds
    /// the script block); not shown as a property.
    Method,
    /// A PSVariable's `Value`: reads and writes the variable whose key
    /// `value` holds, as visible where it is used, so the object stays live.
    Variable,
}

#[derive(Clone, Debug)]
pub struct Prop {
    pub name: Rc<str>,
    pub value: Value,
    pub kind: PropKind,
    /// Values assigned to a typed property are converted to this type.
    pub ty: Option<PsType>,
    pub read_only: bool,
}

impl Prop {
    pub fn note(name: impl Into<Rc<str>>, value: Value) -> Prop {
        Prop {
            name: name.into(),
            value,
            kind: PropKind::Note,
            ty: None,
            read_only: false,
        }
    }
}

/// Where the properties of an object read from the store come from: the
/// object keeps its row and builds its properties the first time anything
/// looks at them, so a pipeline that only passes objects on (or counts
/// them) never pays for a property it does not read.
pub trait Fill: fmt::Debug {
    /// Every property, in display order.
    fn props(&self) -> Vec<Prop>;
    /// One property's value when it is cheap to give without filling the
    /// object (`None`: fill and look).
    fn peek(&self, name: &str) -> Option<Value>;
    fn as_any(&self) -> &dyn Any;
}

/// A PSObject: type names (most derived first) and ordered properties.
/// `[pscustomobject]@{}`, Select-Object output and configuration objects
/// are all this.
#[derive(Clone, Debug)]
pub struct PsObject {
    pub type_names: Rc<[Rc<str>]>,
    /// Set at once, or on first look from `source`.
    props: OnceCell<Vec<Prop>>,
    source: Option<Rc<dyn Fill>>,
    /// Overrides `ToString()`; configuration objects show their Identity.
    pub display: Option<Rc<str>>,
    /// A script class's `hidden` properties: read and set by name, never
    /// shown.
    pub hidden: Vec<Prop>,
}

pub const PSCUSTOMOBJECT: &str = "System.Management.Automation.PSCustomObject";

impl PsObject {
    pub fn custom() -> PsObject {
        thread_local! {
            static NAMES: Rc<[Rc<str>]> = Rc::from(vec![Rc::from(PSCUSTOMOBJECT), Rc::from("System.Object")]);
        }
        PsObject::with_type(NAMES.with(|n| n.clone()))
    }

    pub fn with_type(type_names: Rc<[Rc<str>]>) -> PsObject {
        PsObject {
            type_names,
            props: OnceCell::from(Vec::new()),
            source: None,
            display: None,
            hidden: Vec::new(),
        }
    }

    /// An object whose properties `source` gives when first looked at.
    pub fn lazy(type_names: Rc<[Rc<str>]>, source: Rc<dyn Fill>, display: Rc<str>) -> PsObject {
        PsObject {
            type_names,
            props: OnceCell::new(),
            source: Some(source),
            display: Some(display),
            hidden: Vec::new(),
        }
    }

    /// The properties, in order (filled from the source on first look).
    pub fn props(&self) -> &Vec<Prop> {
        self.props
            .get_or_init(|| self.source.as_ref().map(|s| s.props()).unwrap_or_default())
    }

    pub fn props_mut(&mut self) -> &mut Vec<Prop> {
        self.props();
        self.source = None;
        match self.props.get_mut() {
            Some(p) => p,
            // props() has just filled the cell.
            None => unreachable!("properties filled above"),
        }
    }

    /// The source of an object nobody has looked into yet: what it holds
    /// is still exactly what its source read.
    pub fn untouched_source(&self) -> Option<&Rc<dyn Fill>> {
        self.source.as_ref().filter(|_| self.props.get().is_none())
    }

    pub fn is_custom(&self) -> bool {
        self.type_names.first().map(|t| &**t) == Some(PSCUSTOMOBJECT)
    }

    /// The most derived type name.
    pub fn type_name(&self) -> &str {
        self.type_names
            .first()
            .map(|s| &**s)
            .unwrap_or("System.Object")
    }

    pub fn prop(&self, name: &str) -> Option<&Prop> {
        self.props()
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    pub fn prop_mut(&mut self, name: &str) -> Option<&mut Prop> {
        self.props_mut()
            .iter_mut()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    pub fn get(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.untouched_source().and_then(|s| s.peek(name)) {
            return Some(v);
        }
        self.prop(name).map(|p| p.value.clone())
    }

    /// Sets a note property, adding it when missing.
    pub fn set(&mut self, name: &str, value: Value) {
        match self.prop_mut(name) {
            Some(p) => p.value = value,
            None => self.props_mut().push(Prop::note(name, value)),
        }
    }
}

impl Value {
    pub fn str(s: impl Into<Rc<str>>) -> Value {
        Value::String(s.into())
    }

    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Rc::new(PsArray {
            items: RefCell::new(items),
            growable: false,
            elem: None,
        }))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::Array(Rc::new(PsArray {
            items: RefCell::new(items),
            growable: true,
            elem: None,
        }))
    }

    pub fn object(o: PsObject) -> Value {
        Value::Object(Rc::new(RefCell::new(o)))
    }

    pub fn hashtable(h: Hashtable) -> Value {
        Value::Hashtable(Rc::new(RefCell::new(h)))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Value::Int(_)
                | Value::Long(_)
                | Value::Double(_)
                | Value::Single(_)
                | Value::Decimal(_)
        )
    }

    /// PowerShell's truthiness: `"False"` is true, `@(0)` is false, `@(0,0)` is true.
    pub fn is_true(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Long(i) => *i != 0,
            Value::Double(d) => *d != 0.0,
            Value::Single(f) => *f != 0.0,
            Value::Decimal(d) => !d.is_zero(),
            Value::Char(c) => *c != '\0',
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => {
                let items = a.items.borrow();
                match items.len() {
                    0 => false,
                    // A lone list is true when it holds anything, without
                    // looking further in (it may hold itself).
                    1 => match &items[0] {
                        Value::Array(inner) => !inner.is_empty(),
                        other => other.is_true(),
                    },
                    _ => true,
                }
            }
            Value::Enum(e) => e.value != 0,
            _ => true,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i as i64),
            Value::Long(i) => Some(*i),
            Value::Bool(b) => Some(*b as i64),
            Value::Double(d) if d.fract() == 0.0 && d.abs() < 9.2e18 => Some(*d as i64),
            Value::Single(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Some(*f as i64),
            Value::Decimal(d) if d.fract().is_zero() => i64::try_from(*d).ok(),
            Value::Enum(e) => Some(e.value),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The elements of a collection, or the value itself as a one-item list;
    /// `$null` enumerates as nothing. This is how pipelines and `foreach`
    /// see a value.
    pub fn enumerate(&self) -> Vec<Value> {
        match self {
            Value::Null => Vec::new(),
            Value::Array(a) => a.to_vec(),
            other => vec![other.clone()],
        }
    }

    pub fn is_collection(&self) -> bool {
        matches!(self, Value::Array(_))
    }

    /// Count as `.Count` answers it: 0 for `$null`, 1 for a scalar.
    pub fn count(&self) -> usize {
        match self {
            Value::Null => 0,
            Value::Array(a) => a.len(),
            Value::Hashtable(h) => h.borrow().len(),
            _ => 1,
        }
    }

    /// The full .NET type name, as `.GetType().FullName` and Get-Member show it.
    pub fn type_name(&self) -> Rc<str> {
        let s: &str = match self {
            Value::Null => "null",
            Value::Bool(_) => "System.Boolean",
            Value::Int(_) => "System.Int32",
            Value::Long(_) => "System.Int64",
            Value::Double(_) => "System.Double",
            Value::Single(_) => "System.Single",
            Value::Decimal(_) => "System.Decimal",
            Value::Char(_) => "System.Char",
            Value::String(_) => "System.String",
            Value::DateTime(_) => "System.DateTime",
            Value::TimeSpan(_) => "System.TimeSpan",
            Value::Guid(_) => "System.Guid",
            Value::Array(a) => {
                if a.growable {
                    "System.Collections.ArrayList"
                } else if let Some(t) = &a.elem {
                    return Rc::from(format!("{}[]", t.full_name()));
                } else {
                    "System.Object[]"
                }
            }
            Value::Hashtable(h) => {
                if h.borrow().ordered {
                    "System.Collections.Specialized.OrderedDictionary"
                } else {
                    "System.Collections.Hashtable"
                }
            }
            Value::Object(o) => {
                return o
                    .borrow()
                    .type_names
                    .first()
                    .cloned()
                    .unwrap_or_else(|| Rc::from("System.Object"));
            }
            Value::ScriptBlock(_) => "System.Management.Automation.ScriptBlock",
            Value::Type(_) => "System.RuntimeType",
            Value::Error(_) => "System.Management.Automation.ErrorRecord",
            Value::Enum(e) => return e.type_name.clone(),
        };
        Rc::from(s)
    }

    /// The type names Get-Member and format views look at, most derived first.
    pub fn type_names(&self) -> Vec<Rc<str>> {
        match self {
            Value::Object(o) => o.borrow().type_names.to_vec(),
            other => vec![other.type_name(), Rc::from("System.Object")],
        }
    }
}

impl From<&Literal> for Value {
    fn from(l: &Literal) -> Value {
        match l {
            Literal::Null => Value::Null,
            Literal::Bool(b) => Value::Bool(*b),
            Literal::Int(i) => Value::Int(*i),
            Literal::Long(n) => Value::Long(*n),
            Literal::Double(d) => Value::Double(*d),
            Literal::Decimal(d) => Value::Decimal(*d),
            Literal::Str(s) => Value::String(s.clone()),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(Rc::from(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(Rc::from(s))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Value {
        Value::Int(i)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        match i32::try_from(i) {
            Ok(n) => Value::Int(n),
            Err(_) => Value::Long(i),
        }
    }
}

impl From<usize> for Value {
    fn from(i: usize) -> Value {
        Value::from(i as i64)
    }
}

impl From<f64> for Value {
    fn from(d: f64) -> Value {
        Value::Double(d)
    }
}

/// PowerShell's string conversion (`[string]$x`, `"$x"`), culture-invariant.
/// Arrays join with a space here; `$OFS` is applied by the evaluator.
///
/// Like pwsh it goes one level deep only: the items of an array and the
/// property values of a custom object read as [`Inner`] does, so a value
/// that holds itself, or one nested a million deep, converts in one step.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Array(a) => {
                let items = a.items.borrow();
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{}", Inner(v))?;
                }
                Ok(())
            }
            Value::Object(o) => {
                let o = o.borrow();
                if let Some(d) = &o.display {
                    return f.write_str(d);
                }
                if !o.is_custom() {
                    return f.write_str(o.type_name());
                }
                // PSCustomObject: @{Name=x; Count=1}; no properties, no text.
                let mut first = true;
                for p in o.props().iter().filter(|p| p.kind != PropKind::Method) {
                    f.write_str(if first { "@{" } else { "; " })?;
                    first = false;
                    write!(f, "{}=", p.name)?;
                    match p.kind {
                        // pwsh does not run script properties to make text.
                        PropKind::Script => f.write_str(SCRIPT_PROPERTY)?,
                        PropKind::Alias => {
                            let target = o.get(&p.value.to_string()).unwrap_or_default();
                            write!(f, "{}", Inner(&target))?
                        }
                        _ => write!(f, "{}", Inner(&p.value))?,
                    }
                }
                if first { Ok(()) } else { f.write_str("}") }
            }
            other => Inner(other).fmt(f),
        }
    }
}

const SCRIPT_PROPERTY: &str = "System.Management.Automation.PSScriptProperty";

/// A value's text inside another value's text: an array reads as its type
/// name and a custom object as nothing, as pwsh converts nested values.
pub struct Inner<'a>(pub &'a Value);

impl fmt::Display for Inner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::Null => Ok(()),
            Value::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
            Value::Int(i) => write!(f, "{i}"),
            Value::Long(i) => write!(f, "{i}"),
            Value::Double(d) => f.write_str(&display_double(*d)),
            Value::Single(x) => f.write_str(&display_single(*x)),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::Char(c) => write!(f, "{c}"),
            Value::String(s) => f.write_str(s),
            Value::DateTime(d) => write!(f, "{}", d.format("%m/%d/%Y %H:%M:%S")),
            Value::TimeSpan(t) => f.write_str(&format_timespan(*t)),
            Value::Guid(g) => f.write_str(&format_guid(u128::from_be_bytes(*g))),
            Value::Array(_) | Value::Hashtable(_) => f.write_str(&self.0.type_name()),
            Value::Object(o) => {
                let o = o.borrow();
                match &o.display {
                    Some(d) => f.write_str(d),
                    None if o.is_custom() => Ok(()),
                    None => f.write_str(o.type_name()),
                }
            }
            Value::ScriptBlock(sb) => f.write_str(sb.body_text()),
            Value::Type(t) => f.write_str(&t.full_name()),
            Value::Error(e) => f.write_str(&e.message),
            Value::Enum(e) => f.write_str(&e.name),
        }
    }
}

impl Value {
    /// The length [`fmt::Display`] would give, or more (never less), found
    /// without building the text: a size check asks before converting.
    pub fn text_len(&self) -> usize {
        match self {
            Value::Array(a) => a.items.borrow().iter().fold(0usize, |n, v| {
                n.saturating_add(v.inner_len()).saturating_add(1)
            }),
            Value::Object(o) => {
                let o = o.borrow();
                if o.display.is_some() || !o.is_custom() {
                    return self.inner_len();
                }
                o.props().iter().fold(2usize, |n, p| {
                    let value = match p.kind {
                        PropKind::Script => SCRIPT_PROPERTY.len(),
                        // An alias reads another property: bound it by the largest.
                        PropKind::Alias => o
                            .props()
                            .iter()
                            .map(|q| q.value.inner_len())
                            .max()
                            .unwrap_or(0),
                        _ => p.value.inner_len(),
                    };
                    n.saturating_add(p.name.len())
                        .saturating_add(value)
                        .saturating_add(3)
                })
            }
            other => other.inner_len(),
        }
    }

    /// Like [`Value::text_len`] for the value's text inside another's.
    pub fn inner_len(&self) -> usize {
        match self {
            Value::String(s) => s.len(),
            Value::ScriptBlock(sb) => sb.body_text().len(),
            Value::Error(e) => e.message.len(),
            Value::Enum(e) => e.name.len(),
            Value::Object(o) => {
                let o = o.borrow();
                o.display.as_ref().map_or(o.type_name().len(), |d| d.len())
            }
            Value::Type(t) => t.full_name().len(),
            // Numbers, dates, GUIDs and type names are short.
            _ => 64,
        }
    }
}

/// A double as .NET's `ToString()` writes it: the shortest text that reads
/// back as the same number. The `-f` operator and ConvertTo-Json show
/// doubles this way.
pub fn format_double(d: f64) -> String {
    general(d, None, 15)
}

/// A double as PowerShell turns it into text (output, `"$x"`, `[string]`):
/// at most 15 significant digits, the precision pwsh kept when .NET moved
/// to shortest round-trip strings, so `0.1 + 0.2` shows as 0.3.
pub fn display_double(d: f64) -> String {
    general(d, Some(15), 15)
}

/// A `[float]` as PowerShell turns it into text: 7 significant digits.
pub fn display_single(f: f32) -> String {
    general(f64::from(f), Some(7), 7)
}

/// A `[float]` as .NET's `ToString()` writes it: the shortest text that
/// reads back as the same single-precision number.
pub fn format_single(f: f32) -> String {
    if !f.is_finite() || f == 0.0 {
        return general(f64::from(f), None, 7);
    }
    let shortest = format!("{f:e}");
    shortest
        .parse::<f64>()
        .map_or(shortest, |d| general(d, None, 7))
}

/// .NET's general number format: `digits` significant digits at most
/// (`None`: the shortest round trip), fixed notation for exponents from
/// -5 up to `sci_from`, else `1.5E+20`.
fn general(d: f64, digits: Option<usize>, sci_from: i32) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = match digits {
        Some(n) => format!("{:.*e}", n.saturating_sub(1), d),
        None => format!("{d:e}"),
    };
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mant = if mant.contains('.') {
        mant.trim_end_matches('0').trim_end_matches('.')
    } else {
        mant
    };
    if exp <= -5 || exp >= sci_from {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}E{sign}{:02}", exp.abs());
    }
    let mut out = String::new();
    if mant.starts_with('-') {
        out.push('-');
    }
    let ds: String = mant.chars().filter(char::is_ascii_digit).collect();
    if exp < 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat(exp.unsigned_abs() as usize - 1));
        out.push_str(&ds);
    } else {
        let whole = exp as usize + 1;
        if ds.len() <= whole {
            out.push_str(&ds);
            out.push_str(&"0".repeat(whole - ds.len()));
        } else {
            out.push_str(&ds[..whole]);
            out.push('.');
            out.push_str(&ds[whole..]);
        }
    }
    out
}

fn format_timespan(t: chrono::TimeDelta) -> String {
    let neg = t < chrono::TimeDelta::zero();
    let t = t.abs();
    let days = t.num_days();
    let hours = t.num_hours() % 24;
    let mins = t.num_minutes() % 60;
    let secs = t.num_seconds() % 60;
    let ticks = (t.subsec_nanos() / 100) as i64;
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    if days > 0 {
        s.push_str(&format!("{days}."));
    }
    s.push_str(&format!("{hours:02}:{mins:02}:{secs:02}"));
    if ticks > 0 {
        s.push_str(&format!(".{ticks:07}"));
    }
    s
}

pub fn format_guid(g: u128) -> String {
    let h = format!("{g:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_format_like_dotnet() {
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(1.0 / 3.0), "0.3333333333333333");
        assert_eq!(format_double(-0.25), "-0.25");
        assert_eq!(format_double(1234.5), "1234.5");
        assert_eq!(format_double(1e15), "1E+15");
        assert_eq!(format_double(123456789012345.0), "123456789012345");
        assert_eq!(format_double(0.0001), "0.0001");
        assert_eq!(format_double(0.00001), "1E-05");
        assert_eq!(format_double(2.0), "2");
    }

    #[test]
    fn pwsh_shows_doubles_with_15_digits_and_floats_with_7() {
        assert_eq!(display_double(0.1 + 0.2), "0.3");
        assert_eq!(display_double(1.0 / 3.0), "0.333333333333333");
        assert_eq!(display_double(11111.11 - 11110.01), "1.10000000000036");
        assert_eq!(display_double(-2.0 / 3.0), "-0.666666666666667");
        assert_eq!(display_double(f64::MAX), "1.79769313486232E+308");
        assert_eq!(display_double(1e15), "1E+15");
        assert_eq!(display_double(999999999999999.9), "1E+15");
        assert_eq!(display_double(0.0001), "0.0001");
        assert_eq!(display_single(0.1), "0.1");
        assert_eq!(display_single(std::f32::consts::PI), "3.141593");
        assert_eq!(display_single(16777216.0), "1.677722E+07");
        assert_eq!(format_single(0.1), "0.1");
        assert_eq!(format_single(std::f32::consts::PI), "3.1415927");
    }

    #[test]
    fn truthiness() {
        assert!(Value::from("False").is_true());
        assert!(!Value::array(vec![Value::Int(0)]).is_true());
        assert!(Value::array(vec![Value::Int(0), Value::Int(0)]).is_true());
    }
}
