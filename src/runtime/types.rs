//! Type literals: `[int]`, `[string[]]`, `[pscustomobject]`, exception
//! types for `catch`, and the few static classes scripts call.

use std::rc::Rc;

use super::value::Value;

#[derive(Clone, Debug, PartialEq)]
pub enum PsType {
    Object,
    Bool,
    Int,
    Long,
    /// The other .NET integer types: range-checked, held as Int or Long.
    Integer(IntKind),
    Double,
    /// `[float]`, `[single]`: System.Single.
    Single,
    Decimal,
    Char,
    String,
    DateTime,
    TimeSpan,
    Guid,
    /// `[array]`/`[object[]]` (None) or a typed array such as `[int[]]`.
    Array(Option<Box<PsType>>),
    /// `[System.Collections.ArrayList]` and `[List[T]]`.
    List,
    Hashtable,
    Ordered,
    PsCustomObject,
    PsObject,
    ScriptBlock,
    Switch,
    Regex,
    Void,
    Type,
    ErrorRecord,
    /// An exception type, by full name; used by `catch` and `throw`.
    Exception(Rc<str>),
    /// Static helper classes: `[math]`, `[System.IO.Path]`, `[Environment]`...
    Static(Rc<str>),
    /// A configuration enum or object type from the Lync schema.
    Named(Rc<str>),
    /// An enum or class a script defined.
    Script(Rc<super::classes::ScriptType>),
}

/// The .NET integer types besides Int32 and Int64. Values keep our two
/// integer kinds; the type only decides the range a conversion checks and
/// the words of its error. UInt64 stops at Int64's maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntKind {
    SByte,
    Byte,
    Int16,
    UInt16,
    UInt32,
    UInt64,
}

impl IntKind {
    pub fn full_name(self) -> &'static str {
        match self {
            IntKind::SByte => "System.SByte",
            IntKind::Byte => "System.Byte",
            IntKind::Int16 => "System.Int16",
            IntKind::UInt16 => "System.UInt16",
            IntKind::UInt32 => "System.UInt32",
            IntKind::UInt64 => "System.UInt64",
        }
    }

    pub fn range(self) -> (i64, i64) {
        match self {
            IntKind::SByte => (i8::MIN.into(), i8::MAX.into()),
            IntKind::Byte => (0, u8::MAX.into()),
            IntKind::Int16 => (i16::MIN.into(), i16::MAX.into()),
            IntKind::UInt16 => (0, u16::MAX.into()),
            IntKind::UInt32 => (0, u32::MAX.into()),
            IntKind::UInt64 => (0, i64::MAX),
        }
    }

    /// .NET's overflow message for the type.
    pub fn overflow(self) -> &'static str {
        match self {
            IntKind::SByte => "Value was either too large or too small for a signed byte.",
            IntKind::Byte => "Value was either too large or too small for an unsigned byte.",
            IntKind::Int16 => "Value was either too large or too small for an Int16.",
            IntKind::UInt16 => "Value was either too large or too small for a UInt16.",
            IntKind::UInt32 => "Value was either too large or too small for a UInt32.",
            IntKind::UInt64 => "Value was either too large or too small for a UInt64.",
        }
    }
}

/// Exception types scripts name in `catch`, each with its base type.
const EXCEPTIONS: &[(&str, &str)] = &[
    ("System.Exception", ""),
    ("System.SystemException", "System.Exception"),
    (
        "System.Management.Automation.RuntimeException",
        "System.SystemException",
    ),
    ("System.ArgumentException", "System.SystemException"),
    ("System.ArgumentNullException", "System.ArgumentException"),
    (
        "System.ArgumentOutOfRangeException",
        "System.ArgumentException",
    ),
    ("System.InvalidOperationException", "System.SystemException"),
    ("System.NotSupportedException", "System.SystemException"),
    ("System.FormatException", "System.SystemException"),
    ("System.InvalidCastException", "System.SystemException"),
    ("System.ArithmeticException", "System.SystemException"),
    ("System.DivideByZeroException", "System.ArithmeticException"),
    ("System.OverflowException", "System.ArithmeticException"),
    ("System.IndexOutOfRangeException", "System.SystemException"),
    (
        "System.Collections.Generic.KeyNotFoundException",
        "System.SystemException",
    ),
    ("System.IO.IOException", "System.SystemException"),
    ("System.IO.FileNotFoundException", "System.IO.IOException"),
    (
        "System.IO.DirectoryNotFoundException",
        "System.IO.IOException",
    ),
    (
        "System.UnauthorizedAccessException",
        "System.SystemException",
    ),
    ("System.TimeoutException", "System.SystemException"),
    (
        "System.Management.Automation.ItemNotFoundException",
        "System.Management.Automation.SessionStateException",
    ),
    (
        "System.Management.Automation.SessionStateException",
        "System.Management.Automation.RuntimeException",
    ),
    (
        "System.Management.Automation.CommandNotFoundException",
        "System.Management.Automation.RuntimeException",
    ),
    (
        "System.Management.Automation.ParameterBindingException",
        "System.Management.Automation.RuntimeException",
    ),
    (
        "System.Management.Automation.ValidationMetadataException",
        "System.Management.Automation.MetadataException",
    ),
    (
        "System.Management.Automation.MetadataException",
        "System.Management.Automation.RuntimeException",
    ),
    (
        "System.Management.Automation.PSInvalidCastException",
        "System.InvalidCastException",
    ),
    (
        "System.Management.Automation.ParseException",
        "System.Management.Automation.RuntimeException",
    ),
    (
        "System.Management.Automation.PipelineStoppedException",
        "System.Management.Automation.RuntimeException",
    ),
    (
        "System.Management.Automation.ActionPreferenceStopException",
        "System.Management.Automation.RuntimeException",
    ),
    (
        "System.Management.Automation.MethodInvocationException",
        "System.Management.Automation.RuntimeException",
    ),
    (
        "System.Management.Automation.PSArgumentException",
        "System.ArgumentException",
    ),
    (
        "System.Management.Automation.PSInvalidOperationException",
        "System.InvalidOperationException",
    ),
    (
        "System.Management.Automation.ScriptCallDepthException",
        "System.SystemException",
    ),
    (
        "System.Management.Automation.CmdletInvocationException",
        "System.Management.Automation.RuntimeException",
    ),
    (
        "System.Management.Automation.PSNotSupportedException",
        "System.NotSupportedException",
    ),
    (
        "Microsoft.Rtc.Management.ManagementException",
        "System.Exception",
    ),
];

const STATIC_CLASSES: &[&str] = &[
    "System.Math",
    "System.IO.Path",
    "System.IO.File",
    "System.Environment",
    "System.Convert",
    "System.Console",
    "System.Linq.Enumerable",
    "System.Text.RegularExpressions.Regex",
    "System.Web.HttpUtility",
    "System.Enum",
];

impl PsType {
    /// Resolves a type literal's text; `None` when lyncsh knows no such type.
    pub fn resolve(name: &str) -> Option<PsType> {
        let name = name.trim();
        if let Some(elem) = name.strip_suffix("[]") {
            let e = PsType::resolve(elem)?;
            return Some(match e {
                PsType::Object => PsType::Array(None),
                other => PsType::Array(Some(Box::new(other))),
            });
        }
        let lower = name.to_ascii_lowercase();
        // Generic lists: List[string], System.Collections.Generic.List[int]...
        if let Some(open) = lower.find('[') {
            let base = &lower[..open];
            let base = base
                .strip_prefix("system.collections.generic.")
                .unwrap_or(base);
            return match base {
                "list" | "hashset" | "queue" | "stack" => Some(PsType::List),
                "dictionary" | "sorteddictionary" => Some(PsType::Hashtable),
                _ => None,
            };
        }
        let short = lower.strip_prefix("system.").unwrap_or(&lower);
        Some(match short {
            "object" | "psobject" | "management.automation.psobject" => {
                if short.ends_with("psobject") {
                    PsType::PsObject
                } else {
                    PsType::Object
                }
            }
            "bool" | "boolean" => PsType::Bool,
            "int" | "int32" => PsType::Int,
            "long" | "int64" => PsType::Long,
            "sbyte" => PsType::Integer(IntKind::SByte),
            "byte" => PsType::Integer(IntKind::Byte),
            "int16" | "short" => PsType::Integer(IntKind::Int16),
            "uint16" | "ushort" => PsType::Integer(IntKind::UInt16),
            "uint32" | "uint" => PsType::Integer(IntKind::UInt32),
            "uint64" | "ulong" => PsType::Integer(IntKind::UInt64),
            "double" => PsType::Double,
            "float" | "single" => PsType::Single,
            "decimal" => PsType::Decimal,
            "char" => PsType::Char,
            "string" => PsType::String,
            "datetime" => PsType::DateTime,
            "timespan" => PsType::TimeSpan,
            "guid" => PsType::Guid,
            "array" => PsType::Array(None),
            "collections.arraylist" | "arraylist" | "collections.generic.list" => PsType::List,
            "collections.hashtable" | "hashtable" => PsType::Hashtable,
            "ordered" | "collections.specialized.ordereddictionary" => PsType::Ordered,
            "pscustomobject" | "management.automation.pscustomobject" => PsType::PsCustomObject,
            "scriptblock" | "management.automation.scriptblock" => PsType::ScriptBlock,
            "switch" | "management.automation.switchparameter" => PsType::Switch,
            "regex" | "text.regularexpressions.regex" => PsType::Regex,
            "void" => PsType::Void,
            "type" | "runtimetype" => PsType::Type,
            "management.automation.errorrecord" | "errorrecord" => PsType::ErrorRecord,
            "math" => PsType::Static(Rc::from("System.Math")),
            "io.path" => PsType::Static(Rc::from("System.IO.Path")),
            "io.file" => PsType::Static(Rc::from("System.IO.File")),
            "environment" => PsType::Static(Rc::from("System.Environment")),
            "convert" => PsType::Static(Rc::from("System.Convert")),
            "console" => PsType::Static(Rc::from("System.Console")),
            "powershell" | "management.automation.powershell" => {
                PsType::Static(Rc::from(crate::runtime::members::POWERSHELL))
            }
            "web.httputility" => PsType::Static(Rc::from("System.Web.HttpUtility")),
            _ => {
                let full = if lower.starts_with("system.") || lower.starts_with("microsoft.") {
                    lower.clone()
                } else {
                    format!("system.{lower}")
                };
                if let Some((n, _)) = EXCEPTIONS.iter().find(|(n, _)| {
                    n.eq_ignore_ascii_case(&full)
                        || n.eq_ignore_ascii_case(&format!("system.management.automation.{lower}"))
                }) {
                    return Some(PsType::Exception(Rc::from(*n)));
                }
                if let Some(n) = STATIC_CLASSES
                    .iter()
                    .find(|n| n.eq_ignore_ascii_case(&full))
                {
                    return Some(PsType::Static(Rc::from(*n)));
                }
                if lower.starts_with("microsoft.rtc.") {
                    return Some(PsType::Named(Rc::from(name)));
                }
                return None;
            }
        })
    }

    pub fn full_name(&self) -> String {
        match self {
            PsType::Object => "System.Object".into(),
            PsType::Bool => "System.Boolean".into(),
            PsType::Int => "System.Int32".into(),
            PsType::Long => "System.Int64".into(),
            PsType::Integer(k) => k.full_name().into(),
            PsType::Double => "System.Double".into(),
            PsType::Single => "System.Single".into(),
            PsType::Decimal => "System.Decimal".into(),
            PsType::Char => "System.Char".into(),
            PsType::String => "System.String".into(),
            PsType::DateTime => "System.DateTime".into(),
            PsType::TimeSpan => "System.TimeSpan".into(),
            PsType::Guid => "System.Guid".into(),
            PsType::Array(None) => "System.Object[]".into(),
            PsType::Array(Some(e)) => format!("{}[]", e.full_name()),
            PsType::List => "System.Collections.ArrayList".into(),
            PsType::Hashtable => "System.Collections.Hashtable".into(),
            PsType::Ordered => "System.Collections.Specialized.OrderedDictionary".into(),
            PsType::PsCustomObject => "System.Management.Automation.PSCustomObject".into(),
            PsType::PsObject => "System.Management.Automation.PSObject".into(),
            PsType::ScriptBlock => "System.Management.Automation.ScriptBlock".into(),
            PsType::Switch => "System.Management.Automation.SwitchParameter".into(),
            PsType::Regex => "System.Text.RegularExpressions.Regex".into(),
            PsType::Void => "System.Void".into(),
            PsType::Type => "System.Type".into(),
            PsType::ErrorRecord => "System.Management.Automation.ErrorRecord".into(),
            PsType::Exception(n) | PsType::Static(n) | PsType::Named(n) => n.to_string(),
            PsType::Script(t) => t.name().to_string(),
        }
    }

    /// The short name, as `.GetType().Name` shows it.
    pub fn short_name(&self) -> String {
        let full = self.full_name();
        full.rsplit('.').next().unwrap_or(&full).to_string()
    }

    /// `-is`: whether a value is of this type (or derives from it).
    pub fn is_instance(&self, v: &Value) -> bool {
        match (self, v) {
            (PsType::Object | PsType::PsObject, Value::Null) => false,
            (PsType::Object | PsType::PsObject, _) => true,
            (PsType::Bool, Value::Bool(_)) => true,
            (PsType::Int, Value::Int(_)) => true,
            (PsType::Long, Value::Long(_)) => true,
            (PsType::Double, Value::Double(_)) => true,
            (PsType::Single, Value::Single(_)) => true,
            (PsType::Decimal, Value::Decimal(_)) => true,
            (PsType::Char, Value::Char(_)) => true,
            (PsType::String, Value::String(_)) => true,
            (PsType::DateTime, Value::DateTime(_)) => true,
            (PsType::TimeSpan, Value::TimeSpan(_)) => true,
            (PsType::Guid, Value::Guid(_)) => true,
            (PsType::Array(None), Value::Array(a)) => !a.growable,
            (PsType::Array(Some(e)), Value::Array(a)) => a.elem.as_ref() == Some(e),
            (PsType::List, Value::Array(a)) => a.growable,
            (PsType::Hashtable, Value::Hashtable(h)) => !h.borrow().ordered,
            (PsType::Ordered, Value::Hashtable(h)) => h.borrow().ordered,
            (PsType::PsCustomObject, Value::Object(o)) => o.borrow().is_custom(),
            (PsType::ScriptBlock, Value::ScriptBlock(_)) => true,
            (PsType::Type, Value::Type(_)) => true,
            (PsType::ErrorRecord, Value::Error(_)) => true,
            (PsType::Script(t), v) => t.is_instance(v),
            (PsType::Named(n), v) => v.type_names().iter().any(|t| t.eq_ignore_ascii_case(n)),
            (PsType::Exception(n), Value::Error(e)) => exception_is(&e.exception_type, n),
            _ => false,
        }
    }
}

/// Whether exception type `actual` is `wanted` or derives from it.
pub fn exception_is(actual: &str, wanted: &str) -> bool {
    let mut cur = actual;
    for _ in 0..16 {
        if cur.eq_ignore_ascii_case(wanted) {
            return true;
        }
        match EXCEPTIONS.iter().find(|(n, _)| n.eq_ignore_ascii_case(cur)) {
            Some((_, base)) if !base.is_empty() => cur = base,
            _ => return false,
        }
    }
    false
}
