//! How values read in Pester's messages (its Format-Nicely): strings in
//! single quotes, `$null`, `$true`, arrays as `@(1, 2)`, types as `[int]`.

use crate::runtime::types::PsType;
use crate::runtime::value::Value;

pub fn nicely(v: &Value) -> String {
    match v {
        Value::Null => "$null".into(),
        Value::Bool(b) => format!("${b}"),
        Value::String(s) => format!("'{s}'"),
        Value::Char(c) => format!("'{c}'"),
        Value::Array(a) => {
            let items: Vec<String> = a.to_vec().iter().map(nicely).collect();
            format!("@({})", items.join(", "))
        }
        Value::Type(t) => type_name(t),
        Value::ScriptBlock(b) => format!("{{{}}}", b.body_text()),
        other => other.to_string(),
    }
}

pub fn type_name(t: &PsType) -> String {
    format!("[{}]", t.short_name())
}

/// The type of a value as the messages of `-BeOfType` show it.
pub fn type_of(v: &Value) -> String {
    let full = v.type_name().to_string();
    let short = match full.as_str() {
        "System.Int32" => "int",
        "System.Int64" => "long",
        "System.Double" => "double",
        "System.Decimal" => "decimal",
        "System.String" => "string",
        "System.Boolean" => "bool",
        "System.Char" => "char",
        "System.Object[]" => "Object[]",
        "System.Collections.Hashtable" => "hashtable",
        "System.Management.Automation.ScriptBlock" => "scriptblock",
        "System.Management.Automation.PSCustomObject" => "PSCustomObject",
        other => other,
    };
    format!("[{short}]")
}

/// Pester's Format-Because: ` because reason,` (or the reason as given
/// when it already starts with "because"); empty without a reason.
pub fn because(reason: &str) -> String {
    let r = reason.trim();
    if r.is_empty() {
        String::new()
    } else if r.to_ascii_lowercase().starts_with("because") {
        format!(" {r},")
    } else {
        format!(" because {r},")
    }
}
