//! How one value reads inside a table cell, a list line, or on its own.

use crate::runtime::dotnet_format::format_datetime;
use crate::runtime::value::{Inner, Value};

/// Collections inside a property show at most this many items.
const ENUMERATION_LIMIT: usize = 4;

/// A value on a line of its own (Out-Default of a scalar).
pub fn scalar_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::DateTime(d) => format_datetime(d, "dddd, MMMM d, yyyy h:mm:ss tt"),
        Value::Error(e) => e.render_concise(),
        other => other.to_string(),
    }
}

/// A value inside a table cell or after `Name : ` in a list. A collection
/// shows its first items, each as its string form: like pwsh, formatting
/// goes one level into a value, so a value that holds itself shows too.
pub fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Array(a) => {
            let items = a.items.borrow();
            let mut parts: Vec<String> = items
                .iter()
                .take(ENUMERATION_LIMIT)
                .map(item_text)
                .collect();
            if items.len() > ENUMERATION_LIMIT
                && let Some(last) = parts.last_mut()
            {
                last.push('…');
            }
            format!("{{{}}}", parts.join(", "))
        }
        Value::Hashtable(h) => {
            let h = h.borrow();
            let mut parts: Vec<String> = h
                .entries()
                .take(ENUMERATION_LIMIT)
                .map(|(k, v)| format!("[{}, {}]", item_text(k), item_text(v)))
                .collect();
            if h.len() > ENUMERATION_LIMIT
                && let Some(last) = parts.last_mut()
            {
                last.push('…');
            }
            format!("{{{}}}", parts.join(", "))
        }
        Value::DateTime(d) => format_datetime(d, "G"),
        Value::ScriptBlock(sb) => sb.body_text().to_string(),
        other => other.to_string(),
    }
}

/// An item of a collection shown in a cell.
fn item_text(v: &Value) -> String {
    match v {
        Value::DateTime(d) => format_datetime(d, "G"),
        // A collection inside a collection reads as its type name.
        Value::Array(_) | Value::Hashtable(_) => Inner(v).to_string(),
        other => other.to_string(),
    }
}

/// List values show collections the same way as cells.
pub fn list_value_text(v: &Value) -> String {
    cell_text(v)
}

/// Whether a value is right-aligned in a table column.
/// Whether a table column whose first value is `v` is right-aligned.
pub fn right_aligned(v: &Value) -> bool {
    v.is_numeric() || matches!(v, Value::Bool(_) | Value::DateTime(_) | Value::Char(_))
}
