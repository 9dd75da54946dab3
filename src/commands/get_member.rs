//! Get-Member: lists the properties and methods of objects, one group per
//! type, as MemberDefinition objects that format as pwsh's table.

use std::rc::Rc;

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::{Prop, PropKind, PsObject, Value};
use crate::runtime::wildcard::Wildcard;

const MEMBER_TYPES: &[&str] = &[
    "AliasProperty",
    "CodeProperty",
    "Property",
    "NoteProperty",
    "ScriptProperty",
    "Properties",
    "PropertySet",
    "Method",
    "CodeMethod",
    "ScriptMethod",
    "Methods",
    "ParameterizedProperty",
    "MemberSet",
    "Event",
    "Dynamic",
    "All",
];

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<GetMember>(
            "Get-Member",
            "Lists the properties and methods of objects.",
            Signature::new()
                .named(
                    "Name",
                    PsType::Array(Some(Box::new(PsType::String))),
                    "Only members with these names (wildcards allowed).",
                )
                .positional(0)
                .named(
                    "MemberType",
                    PsType::Array(Some(Box::new(PsType::String))),
                    "Only members of these kinds, such as Property, NoteProperty or Method.",
                )
                .alias("Type")
                .values(MEMBER_TYPES)
                .named("View", PsType::String, "Accepted for compatibility.")
                .switch("Static", "Lists static members of a type instead.")
                .switch("Force", "Also lists members that are normally hidden.")
                .named("InputObject", PsType::Object, "The objects to inspect.")
                .from_pipeline(),
        )
        .aliases(&["gm"])
        .examples(&[Example {
            code: "Get-CsUser kenmyer | Get-Member -MemberType Property",
            about: "Lists the properties a user object has.",
        }]),
    ]
}

#[derive(Default)]
struct GetMember {
    seen: Vec<Rc<str>>,
    any_input: bool,
}

struct Member {
    name: String,
    kind: &'static str,
    definition: String,
}

fn m(name: &str, kind: &'static str, definition: &str) -> Member {
    Member {
        name: name.to_string(),
        kind,
        definition: definition.to_string(),
    }
}

/// The type name a note property's definition shows for its value.
fn value_type_display(v: &Value) -> String {
    match v {
        Value::Null => "object".into(),
        Value::Bool(_) => "bool".into(),
        Value::Int(_) => "int".into(),
        Value::Long(_) => "long".into(),
        Value::Double(_) => "double".into(),
        Value::Single(_) => "float".into(),
        Value::Decimal(_) => "decimal".into(),
        Value::Char(_) => "char".into(),
        Value::String(_) => "string".into(),
        Value::DateTime(_) => "datetime".into(),
        Value::TimeSpan(_) => "timespan".into(),
        Value::Guid(_) => "guid".into(),
        Value::Hashtable(h) if !h.borrow().ordered => "hashtable".into(),
        Value::ScriptBlock(_) => "scriptblock".into(),
        Value::Object(o) => o
            .borrow()
            .type_names
            .first()
            .map(|t| t.to_string())
            .unwrap_or_else(|| "System.Object".into()),
        other => {
            let full = other.type_name();
            full.rsplit('.').next().unwrap_or(&full).to_string()
        }
    }
}

fn common_methods() -> Vec<Member> {
    vec![
        m("Equals", "Method", "bool Equals(System.Object obj)"),
        m("GetHashCode", "Method", "int GetHashCode()"),
        m("GetType", "Method", "type GetType()"),
        m("ToString", "Method", "string ToString()"),
    ]
}

fn prop_member(p: &Prop) -> Member {
    match p.kind {
        PropKind::Note => m(
            &p.name,
            "NoteProperty",
            &format!(
                "{} {}={}",
                value_type_display(&p.value),
                p.name,
                if p.value.is_null() {
                    "null".to_string()
                } else {
                    p.value.to_string()
                }
            ),
        ),
        PropKind::Property => {
            let ty = match &p.ty {
                Some(t) => t.full_name(),
                None => match &p.value {
                    Value::Null => "System.Object".into(),
                    v => v.type_name().to_string(),
                },
            };
            let access = if p.read_only { "{get;}" } else { "{get;set;}" };
            m(&p.name, "Property", &format!("{ty} {} {access}", p.name))
        }
        PropKind::Script => {
            let body = match &p.value {
                Value::ScriptBlock(sb) => sb.body_text().to_string(),
                other => other.to_string(),
            };
            m(
                &p.name,
                "ScriptProperty",
                &format!("System.Object {} {{get={body};}}", p.name),
            )
        }
        PropKind::Alias => m(
            &p.name,
            "AliasProperty",
            &format!("{} = {}", p.name, p.value),
        ),
        PropKind::Method => m(
            &p.name,
            "ScriptMethod",
            &format!("System.Object {}();", p.name),
        ),
        // PSVariable.Value, as pwsh's Get-Member lists it.
        PropKind::Variable => m(
            &p.name,
            "Property",
            &format!("System.Object {} {{get;set;}}", p.name),
        ),
    }
}

fn string_members() -> Vec<Member> {
    let mut v = vec![
        m(
            "Clone",
            "Method",
            "System.Object Clone(), System.Object ICloneable.Clone()",
        ),
        m(
            "CompareTo",
            "Method",
            "int CompareTo(System.Object value), int CompareTo(string strB), int IComparable.CompareTo(System.Object obj), int IComparable[string].CompareTo(string other)",
        ),
        m(
            "Contains",
            "Method",
            "bool Contains(string value), bool Contains(string value, System.StringComparison comparisonType), bool Contains(char value), bool Contains(char value, System.StringComparison comparisonType)",
        ),
        m(
            "EndsWith",
            "Method",
            "bool EndsWith(string value), bool EndsWith(string value, System.StringComparison comparisonType), bool EndsWith(string value, bool ignoreCase, cultureinfo culture), bool EndsWith(char value)",
        ),
        m(
            "Equals",
            "Method",
            "bool Equals(System.Object obj), bool Equals(string value), bool Equals(string value, System.StringComparison comparisonType), bool IEquatable[string].Equals(string other)",
        ),
        m(
            "GetHashCode",
            "Method",
            "int GetHashCode(), int GetHashCode(System.StringComparison comparisonType)",
        ),
        m("GetType", "Method", "type GetType()"),
        m(
            "IndexOf",
            "Method",
            "int IndexOf(char value), int IndexOf(char value, int startIndex), int IndexOf(string value), int IndexOf(string value, int startIndex)",
        ),
        m(
            "Insert",
            "Method",
            "string Insert(int startIndex, string value)",
        ),
        m(
            "LastIndexOf",
            "Method",
            "int LastIndexOf(char value), int LastIndexOf(char value, int startIndex), int LastIndexOf(string value), int LastIndexOf(string value, int startIndex)",
        ),
        m(
            "PadLeft",
            "Method",
            "string PadLeft(int totalWidth), string PadLeft(int totalWidth, char paddingChar)",
        ),
        m(
            "PadRight",
            "Method",
            "string PadRight(int totalWidth), string PadRight(int totalWidth, char paddingChar)",
        ),
        m(
            "Remove",
            "Method",
            "string Remove(int startIndex, int count), string Remove(int startIndex)",
        ),
        m(
            "Replace",
            "Method",
            "string Replace(string oldValue, string newValue), string Replace(char oldChar, char newChar)",
        ),
        m(
            "Split",
            "Method",
            "string[] Split(char separator, System.StringSplitOptions options), string[] Split(string separator, System.StringSplitOptions options), string[] Split(Params char[] separator)",
        ),
        m(
            "StartsWith",
            "Method",
            "bool StartsWith(string value), bool StartsWith(string value, System.StringComparison comparisonType), bool StartsWith(char value)",
        ),
        m(
            "Substring",
            "Method",
            "string Substring(int startIndex), string Substring(int startIndex, int length)",
        ),
        m(
            "ToCharArray",
            "Method",
            "char[] ToCharArray(), char[] ToCharArray(int startIndex, int length)",
        ),
        m(
            "ToLower",
            "Method",
            "string ToLower(), string ToLower(cultureinfo culture)",
        ),
        m("ToLowerInvariant", "Method", "string ToLowerInvariant()"),
        m(
            "ToString",
            "Method",
            "string ToString(), string ToString(System.IFormatProvider provider), string IConvertible.ToString(System.IFormatProvider provider)",
        ),
        m(
            "ToUpper",
            "Method",
            "string ToUpper(), string ToUpper(cultureinfo culture)",
        ),
        m("ToUpperInvariant", "Method", "string ToUpperInvariant()"),
        m(
            "Trim",
            "Method",
            "string Trim(), string Trim(char trimChar), string Trim(Params char[] trimChars)",
        ),
        m(
            "TrimEnd",
            "Method",
            "string TrimEnd(), string TrimEnd(char trimChar), string TrimEnd(Params char[] trimChars)",
        ),
        m(
            "TrimStart",
            "Method",
            "string TrimStart(), string TrimStart(char trimChar), string TrimStart(Params char[] trimChars)",
        ),
    ];
    v.push(m(
        "Chars",
        "ParameterizedProperty",
        "char Chars(int index) {get;}",
    ));
    v.push(m("Length", "Property", "int Length {get;}"));
    v
}

fn number_members(short: &str) -> Vec<Member> {
    vec![
        m(
            "CompareTo",
            "Method",
            &format!("int CompareTo(System.Object value), int CompareTo({short} value)"),
        ),
        m(
            "Equals",
            "Method",
            &format!("bool Equals(System.Object obj), bool Equals({short} obj)"),
        ),
        m("GetHashCode", "Method", "int GetHashCode()"),
        m("GetType", "Method", "type GetType()"),
        m("GetTypeCode", "Method", "System.TypeCode GetTypeCode()"),
        m(
            "ToString",
            "Method",
            "string ToString(), string ToString(string format), string ToString(System.IFormatProvider provider), string ToString(string format, System.IFormatProvider provider)",
        ),
    ]
}

fn hashtable_members() -> Vec<Member> {
    vec![
        m(
            "Add",
            "Method",
            "void Add(System.Object key, System.Object value)",
        ),
        m("Clear", "Method", "void Clear()"),
        m("Clone", "Method", "System.Object Clone()"),
        m("Contains", "Method", "bool Contains(System.Object key)"),
        m(
            "ContainsKey",
            "Method",
            "bool ContainsKey(System.Object key)",
        ),
        m(
            "ContainsValue",
            "Method",
            "bool ContainsValue(System.Object value)",
        ),
        m("Equals", "Method", "bool Equals(System.Object obj)"),
        m(
            "GetEnumerator",
            "Method",
            "System.Collections.IDictionaryEnumerator GetEnumerator()",
        ),
        m("GetHashCode", "Method", "int GetHashCode()"),
        m("GetType", "Method", "type GetType()"),
        m("Remove", "Method", "void Remove(System.Object key)"),
        m("ToString", "Method", "string ToString()"),
        m(
            "Item",
            "ParameterizedProperty",
            "System.Object Item(System.Object key) {get;set;}",
        ),
        m("Count", "Property", "int Count {get;}"),
        m("IsFixedSize", "Property", "bool IsFixedSize {get;}"),
        m("IsReadOnly", "Property", "bool IsReadOnly {get;}"),
        m("IsSynchronized", "Property", "bool IsSynchronized {get;}"),
        m(
            "Keys",
            "Property",
            "System.Collections.ICollection Keys {get;}",
        ),
        m("SyncRoot", "Property", "System.Object SyncRoot {get;}"),
        m(
            "Values",
            "Property",
            "System.Collections.ICollection Values {get;}",
        ),
    ]
}

fn array_members(growable: bool) -> Vec<Member> {
    let mut v = vec![
        m("Clone", "Method", "System.Object Clone()"),
        m("Contains", "Method", "bool Contains(System.Object item)"),
        m("Equals", "Method", "bool Equals(System.Object obj)"),
        m("GetHashCode", "Method", "int GetHashCode()"),
        m("GetType", "Method", "type GetType()"),
        m("IndexOf", "Method", "int IndexOf(System.Object value)"),
        m("ToString", "Method", "string ToString()"),
        if growable {
            m("Count", "Property", "int Count {get;}")
        } else {
            m("Count", "AliasProperty", "Count = Length")
        },
        m("IsFixedSize", "Property", "bool IsFixedSize {get;}"),
        m("IsReadOnly", "Property", "bool IsReadOnly {get;}"),
        m("IsSynchronized", "Property", "bool IsSynchronized {get;}"),
        m("SyncRoot", "Property", "System.Object SyncRoot {get;}"),
    ];
    if growable {
        v.push(m("Add", "Method", "int Add(System.Object value)"));
        v.push(m("Clear", "Method", "void Clear()"));
        v.push(m("Remove", "Method", "void Remove(System.Object obj)"));
        v.push(m("RemoveAt", "Method", "void RemoveAt(int index)"));
        v.push(m(
            "Insert",
            "Method",
            "void Insert(int index, System.Object value)",
        ));
        v.push(m("Capacity", "Property", "int Capacity {get;set;}"));
    } else {
        v.push(m("Length", "Property", "int Length {get;}"));
        v.push(m("Rank", "Property", "int Rank {get;}"));
    }
    v
}

fn datetime_members() -> Vec<Member> {
    let mut v = vec![
        m("AddDays", "Method", "datetime AddDays(double value)"),
        m("AddHours", "Method", "datetime AddHours(double value)"),
        m("AddMinutes", "Method", "datetime AddMinutes(double value)"),
        m("AddMonths", "Method", "datetime AddMonths(int months)"),
        m("AddSeconds", "Method", "datetime AddSeconds(double value)"),
        m("AddYears", "Method", "datetime AddYears(int value)"),
        m("Equals", "Method", "bool Equals(System.Object value)"),
        m("GetHashCode", "Method", "int GetHashCode()"),
        m("GetType", "Method", "type GetType()"),
        m(
            "ToString",
            "Method",
            "string ToString(), string ToString(string format)",
        ),
    ];
    for (n, t) in [
        ("Date", "datetime"),
        ("Day", "int"),
        ("DayOfWeek", "System.DayOfWeek"),
        ("DayOfYear", "int"),
        ("Hour", "int"),
        ("Millisecond", "int"),
        ("Minute", "int"),
        ("Month", "int"),
        ("Second", "int"),
        ("Ticks", "long"),
        ("TimeOfDay", "timespan"),
        ("Year", "int"),
    ] {
        v.push(m(n, "Property", &format!("{t} {n} {{get;}}")));
    }
    v
}

/// The instance members of one value.
fn members_of(v: &Value) -> Vec<Member> {
    match v {
        Value::Object(o) => {
            let o = o.borrow();
            let mut out = common_methods();
            out.extend(o.props().iter().map(prop_member));
            out
        }
        Value::String(_) => string_members(),
        Value::Int(_) => number_members("int"),
        Value::Long(_) => number_members("long"),
        Value::Double(_) => number_members("double"),
        Value::Single(_) => number_members("float"),
        Value::Decimal(_) => number_members("decimal"),
        Value::Bool(_) => number_members("bool"),
        Value::Char(_) => number_members("char"),
        Value::Hashtable(_) => hashtable_members(),
        Value::Array(a) => array_members(a.growable),
        Value::DateTime(_) => datetime_members(),
        _ => common_methods(),
    }
}

/// The names of a value's properties, in Get-Member's order: what
/// Select-Object's wildcard patterns choose from.
pub(crate) fn property_names(v: &Value) -> Vec<String> {
    members_of(v)
        .into_iter()
        .filter(|m| kind_matches(m.kind, "properties"))
        .map(|m| m.name)
        .collect()
}

/// Whether a member kind passes a -MemberType filter entry.
fn kind_matches(kind: &str, filter: &str) -> bool {
    match filter.to_ascii_lowercase().as_str() {
        "all" => true,
        "properties" => matches!(
            kind,
            "AliasProperty" | "CodeProperty" | "Property" | "NoteProperty" | "ScriptProperty"
        ),
        "methods" => matches!(
            kind,
            "Method" | "CodeMethod" | "ScriptMethod" | "ParameterizedProperty"
        ),
        f => kind.eq_ignore_ascii_case(f),
    }
}

fn definition_object(type_name: &str, mb: Member) -> Value {
    let mut o = PsObject::with_type(Rc::from(vec![
        Rc::from("Microsoft.PowerShell.Commands.MemberDefinition"),
        Rc::from("System.Object"),
    ]));
    let prop = |name: &str, v: Value| Prop {
        kind: PropKind::Property,
        read_only: true,
        ..Prop::note(name, v)
    };
    o.props_mut().push(prop("TypeName", Value::from(type_name)));
    o.props_mut().push(prop("Name", Value::from(mb.name)));
    o.props_mut().push(prop("MemberType", Value::from(mb.kind)));
    o.props_mut()
        .push(prop("Definition", Value::from(mb.definition)));
    Value::object(o)
}

impl Processor for GetMember {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let Some(v) = args.get("InputObject").cloned() else {
            return Ok(());
        };
        if v.is_null() {
            return Ok(());
        }
        self.any_input = true;
        if args.switch("Static") {
            // Static members of .NET types are beyond lyncsh's object model.
            return Ok(());
        }
        let type_name = v.type_name();
        if self.seen.contains(&type_name) {
            return Ok(());
        }
        self.seen.push(type_name.clone());
        let names: Vec<Wildcard> = args
            .get("Name")
            .map(|n| {
                n.enumerate()
                    .iter()
                    .map(|x| Wildcard::new(&x.to_string(), false))
                    .collect()
            })
            .unwrap_or_default();
        let kinds: Vec<String> = args
            .get("MemberType")
            .map(|k| k.enumerate().iter().map(|x| x.to_string()).collect())
            .unwrap_or_default();
        let mut members: Vec<Member> = members_of(&v)
            .into_iter()
            .filter(|mb| names.is_empty() || names.iter().any(|w| w.is_match(&mb.name)))
            .filter(|mb| kinds.is_empty() || kinds.iter().any(|k| kind_matches(mb.kind, k)))
            .collect();
        members.sort_by(|a, b| {
            a.kind.cmp(b.kind).then_with(|| {
                a.name
                    .to_ascii_lowercase()
                    .cmp(&b.name.to_ascii_lowercase())
            })
        });
        for mb in members {
            cx.emit(definition_object(&type_name, mb))?;
        }
        Ok(())
    }

    fn end(&mut self, cx: &mut Cx, _: &Args) -> Res<()> {
        if !self.any_input {
            cx.error(ErrorRecord::new(
                "You must specify an object for the Get-Member cmdlet.",
                "NoObjectInGetMember,Microsoft.PowerShell.Commands.GetMemberCommand",
                ErrorCategory::InvalidOperation,
            ))?;
        }
        Ok(())
    }
}
