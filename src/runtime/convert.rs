//! PowerShell's conversion rules: casts, typed variables and parameters,
//! and the operand conversions the operators use.

use std::rc::Rc;

use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};

use super::error::{ErrorCategory, ErrorRecord};
use super::types::PsType;
use super::value::{EnumValue, Hashtable, PsArray, PsObject, Value};
use crate::config::schema::schema;

pub fn cast_error(v: &Value, ty: &str, why: &str) -> ErrorRecord {
    let shown = match v {
        Value::Null => "".to_string(),
        other => other.to_string(),
    };
    let from = v.type_name();
    let id = if matches!(v, Value::String(_)) {
        "InvalidCastFromStringToInteger"
    } else {
        "ConvertToFinalInvalidCastException"
    };
    let msg = if why.is_empty() {
        format!("Cannot convert the \"{shown}\" value of type \"{from}\" to type \"{ty}\".")
    } else {
        format!("Cannot convert value \"{shown}\" to type \"{ty}\". Error: \"{why}\"")
    };
    ErrorRecord::new(msg, id, ErrorCategory::InvalidArgument)
        .with_exception("System.Management.Automation.PSInvalidCastException")
        .with_target(v.clone())
}

fn bad_format(s: &str) -> String {
    format!("The input string '{s}' was not in a correct format.")
}

/// Parses a string as PowerShell reads numbers from text: surrounding white
/// space is ignored, hex and exponents work, an empty string is 0.
pub fn parse_numeric(s: &str) -> Option<Value> {
    let t = s.trim();
    if t.is_empty() {
        return Some(Value::Int(0));
    }
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if body.starts_with(['+', '-']) {
        return None;
    }
    if let Some(hex) = body
        .get(2..)
        .filter(|_| body.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("0x")))
    {
        let n = i64::from_str_radix(hex, 16).ok()?;
        return Some(Value::from(if neg { -n } else { n }));
    }
    if body.bytes().all(|b| b.is_ascii_digit()) && !body.is_empty() {
        if let Ok(n) = t.parse::<i64>() {
            return Some(Value::from(n));
        }
        return t.parse::<f64>().ok().map(Value::Double);
    }
    // Reals: digits with one dot and an optional exponent. Rust's parser
    // also takes "inf" and "nan", which PowerShell does not.
    if body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && body.bytes().any(|b| b.is_ascii_digit())
    {
        return t.parse::<f64>().ok().map(Value::Double);
    }
    None
}

/// The numeric form of an operand for arithmetic and numeric comparison.
pub fn to_number(v: &Value) -> Result<Value, ErrorRecord> {
    match v {
        Value::Int(_) | Value::Long(_) | Value::Double(_) | Value::Decimal(_) => Ok(v.clone()),
        // Arithmetic and comparison see a float as the double it widens to.
        Value::Single(f) => Ok(Value::Double(f64::from(*f))),
        Value::Null => Ok(Value::Int(0)),
        Value::Bool(b) => Ok(Value::Int(*b as i32)),
        Value::Char(c) => Ok(Value::Int(*c as i32)),
        Value::Enum(e) => Ok(Value::from(e.value)),
        Value::String(s) => {
            parse_numeric(s).ok_or_else(|| cast_error(v, "System.Int32", &bad_format(s)))
        }
        // A one-item array stands for its item; one that holds itself
        // (or another one-item array) is no number.
        Value::Array(a) if a.len() == 1 => match a.get(0).unwrap_or_default() {
            Value::Array(_) => Err(cast_error(v, "System.Int32", "")),
            item => to_number(&item),
        },
        other => Err(cast_error(other, "System.Int32", "")),
    }
}

pub fn to_f64(v: &Value) -> Result<f64, ErrorRecord> {
    Ok(match to_number(v)? {
        Value::Int(i) => i as f64,
        Value::Long(i) => i as f64,
        Value::Double(d) => d,
        Value::Decimal(d) => d.to_f64().unwrap_or(f64::NAN),
        _ => 0.0,
    })
}

/// Converts to an integer, rounding halves to even as .NET does.
pub fn to_i64(v: &Value, ty: &str) -> Result<i64, ErrorRecord> {
    let n = to_number(v).map_err(|_| match v {
        Value::String(s) => cast_error(v, ty, &bad_format(s)),
        _ => cast_error(v, ty, ""),
    })?;
    let short = ty.trim_start_matches("System.");
    let too_big = || {
        cast_error(
            v,
            ty,
            &format!(
                "Value was either too large or too small for {} {short}.",
                if short.starts_with('U') { "a" } else { "an" }
            ),
        )
    };
    match n {
        Value::Int(i) => Ok(i as i64),
        Value::Long(i) => Ok(i),
        Value::Double(d) => {
            let r = d.round_ties_even();
            if r.is_finite() && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&r) {
                Ok(r as i64)
            } else {
                Err(too_big())
            }
        }
        Value::Decimal(d) => d
            .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointNearestEven)
            .to_i64()
            .ok_or_else(too_big),
        _ => Err(cast_error(v, ty, "")),
    }
}

pub fn to_i32(v: &Value) -> Result<i32, ErrorRecord> {
    let n = to_i64(v, "System.Int32")?;
    i32::try_from(n).map_err(|_| {
        cast_error(
            v,
            "System.Int32",
            "Value was either too large or too small for an Int32.",
        )
    })
}

pub fn to_decimal(v: &Value) -> Result<Decimal, ErrorRecord> {
    match to_number(v)? {
        Value::Int(i) => Ok(Decimal::from(i)),
        Value::Long(i) => Ok(Decimal::from(i)),
        Value::Double(d) => Decimal::from_f64(d).ok_or_else(|| {
            cast_error(
                v,
                "System.Decimal",
                "Value was either too large or too small for a Decimal.",
            )
        }),
        Value::Decimal(d) => Ok(d),
        _ => Err(cast_error(v, "System.Decimal", "")),
    }
}

pub fn parse_datetime(s: &str) -> Option<chrono::NaiveDateTime> {
    use chrono::{NaiveDate, NaiveDateTime};
    let s = s.trim();
    const DT: &[&str] = &[
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M",
        "%m/%d/%Y %I:%M:%S %p",
        "%m/%d/%Y %I:%M %p",
    ];
    for f in DT {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, f) {
            return Some(d);
        }
    }
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&chrono::Local).naive_local());
    }
    for f in [
        "%Y-%m-%d",
        "%m/%d/%Y",
        "%Y/%m/%d",
        "%d %B %Y",
        "%B %d, %Y",
        "%B %d %Y",
    ] {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return d.and_hms_opt(0, 0, 0);
        }
    }
    None
}

pub fn parse_guid(s: &str) -> Option<u128> {
    let t = s.trim().trim_start_matches('{').trim_end_matches('}');
    let hex: String = t.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    u128::from_str_radix(&hex, 16).ok()
}

/// A cast: `[T]$v`, typed variables, typed parameters, `-as` (which turns
/// the error into `$null`).
pub fn convert_to(v: &Value, ty: &PsType) -> Result<Value, ErrorRecord> {
    let name = ty.full_name();
    Ok(match ty {
        PsType::Object | PsType::PsObject => v.clone(),
        PsType::Void => Value::Null,
        PsType::Bool | PsType::Switch => Value::Bool(v.is_true()),
        PsType::Int => Value::Int(to_i32(v)?),
        PsType::Long => Value::Long(to_i64(v, &name)?),
        PsType::Integer(kind) => {
            let n = to_i64(v, &name)?;
            let (lo, hi) = kind.range();
            if !(lo..=hi).contains(&n) {
                return Err(cast_error(v, &name, kind.overflow()));
            }
            i32::try_from(n).map_or(Value::Long(n), Value::Int)
        }
        PsType::Double => match v {
            Value::String(s) if s.trim().is_empty() => Value::Double(0.0),
            _ => Value::Double(to_f64(v).map_err(|_| match v {
                Value::String(s) => cast_error(v, &name, &bad_format(s)),
                _ => cast_error(v, &name, ""),
            })?),
        },
        PsType::Single => match v {
            Value::String(s) if s.trim().is_empty() => Value::Single(0.0),
            // Narrowing: out of range becomes infinity, as .NET's cast does.
            _ => Value::Single(to_f64(v).map_err(|_| match v {
                Value::String(s) => cast_error(v, &name, &bad_format(s)),
                _ => cast_error(v, &name, ""),
            })? as f32),
        },
        PsType::Decimal => match v {
            Value::String(s) => Value::Decimal(
                s.trim()
                    .parse::<Decimal>()
                    .or_else(|_| Decimal::from_scientific(s.trim()))
                    .map_err(|_| cast_error(v, &name, &bad_format(s)))?,
            ),
            _ => Value::Decimal(to_decimal(v)?),
        },
        PsType::Char => match v {
            Value::Char(c) => Value::Char(*c),
            Value::String(s) if s.chars().count() == 1 => Value::Char(s.chars().next().unwrap_or('\0')),
            Value::String(_) => {
                return Err(cast_error(
                    v,
                    &name,
                    "String must be exactly one character long.",
                ));
            }
            _ => {
                let n = to_i64(v, &name)?;
                Value::Char(
                    u32::try_from(n)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| cast_error(v, &name, "Value was either too large or too small for a character."))?,
                )
            }
        },
        PsType::String => match v {
            Value::Null => Value::str(""),
            Value::String(_) => v.clone(),
            other => Value::from(super::budget::text_of(other)?),
        },
        PsType::DateTime => match v {
            Value::DateTime(_) => v.clone(),
            Value::String(s) => Value::DateTime(parse_datetime(s).ok_or_else(|| {
                cast_error(
                    v,
                    &name,
                    &format!("String '{s}' was not recognized as a valid DateTime."),
                )
            })?),
            _ => return Err(cast_error(v, &name, "")),
        },
        PsType::TimeSpan => match v {
            Value::TimeSpan(_) => v.clone(),
            Value::Int(_) | Value::Long(_) => {
                Value::TimeSpan(chrono::TimeDelta::nanoseconds(to_i64(v, &name)?.saturating_mul(100)))
            }
            _ => return Err(cast_error(v, &name, "")),
        },
        PsType::Guid => match v {
            Value::Guid(_) => v.clone(),
            Value::String(s) => Value::Guid(parse_guid(s).map(u128::to_be_bytes).ok_or_else(|| {
                cast_error(
                    v,
                    &name,
                    "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).",
                )
            })?),
            _ => return Err(cast_error(v, &name, "")),
        },
        PsType::Array(elem) => {
            if v.is_null() {
                return Ok(Value::Null);
            }
            // `[char[]]'abc'`: a string converts to its characters.
            let items = match (v, elem.as_deref()) {
                (Value::String(s), Some(PsType::Char)) => s.chars().map(Value::Char).collect(),
                _ => v.enumerate(),
            };
            let items = match elem {
                Some(e) => items
                    .iter()
                    .map(|x| convert_to(x, e))
                    .collect::<Result<Vec<_>, _>>()?,
                None => items,
            };
            Value::Array(Rc::new(PsArray {
                items: items.into(),
                growable: false,
                elem: elem.as_deref().cloned(),
            }))
        }
        PsType::List => Value::list(v.enumerate()),
        PsType::Hashtable | PsType::Ordered => match v {
            Value::Hashtable(h) => {
                let ordered = matches!(ty, PsType::Ordered);
                if h.borrow().ordered == ordered {
                    v.clone()
                } else {
                    let mut copy = h.borrow().clone();
                    copy.ordered = ordered;
                    Value::hashtable(copy)
                }
            }
            Value::Null if matches!(ty, PsType::Hashtable) => Value::Null,
            _ => return Err(cast_error(v, &name, "")),
        },
        PsType::PsCustomObject => match v {
            Value::Hashtable(h) => {
                let mut o = PsObject::custom();
                for (k, val) in h.borrow().entries() {
                    o.set(&k.to_string(), val.clone());
                }
                Value::object(o)
            }
            _ => v.clone(),
        },
        PsType::ScriptBlock => match v {
            Value::ScriptBlock(_) => v.clone(),
            _ => return Err(cast_error(v, &name, "")),
        },
        PsType::Regex => match v {
            Value::String(s) => {
                regex::Regex::new(&format!("(?i){s}")).map_err(|e| cast_error(v, &name, &e.to_string()))?;
                v.clone()
            }
            _ => Value::from(v.to_string()),
        },
        PsType::Type => match v {
            Value::Type(_) => v.clone(),
            Value::String(s) => Value::Type(Rc::new(PsType::resolve(s).ok_or_else(|| {
                cast_error(v, &name, &format!("Unable to find type [{s}]."))
            })?)),
            _ => return Err(cast_error(v, &name, "")),
        },
        PsType::ErrorRecord => match v {
            Value::Error(_) => v.clone(),
            _ => return Err(cast_error(v, &name, "")),
        },
        PsType::Named(n) if !ty.is_instance(v) && schema().enum_values(n).is_some() => {
            schema_enum(v, n)?
        }
        PsType::Script(t) if t.as_enum().is_some() => super::classes::to_enum(v, t)?,
        PsType::Exception(_) | PsType::Static(_) | PsType::Named(_) | PsType::Script(_) => {
            if ty.is_instance(v) {
                v.clone()
            } else {
                return Err(cast_error(v, &name, ""));
            }
        }
    })
}

/// .NET's ticks of a date: 100-nanosecond steps since 0001-01-01.
pub fn ticks(d: &chrono::NaiveDateTime) -> i64 {
    let utc = d.and_utc();
    utc.timestamp()
        .saturating_mul(10_000_000)
        .saturating_add(i64::from(utc.timestamp_subsec_nanos() / 100))
        .saturating_add(621_355_968_000_000_000)
}

/// A name (any letter case) or number of a Lync schema enum as its value.
fn schema_enum(v: &Value, type_name: &str) -> Result<Value, ErrorRecord> {
    let names = schema().enum_values(type_name).unwrap_or_default();
    let text = v.to_string();
    let index = match v {
        Value::Int(_) | Value::Long(_) => usize::try_from(to_i64(v, type_name)?).ok(),
        _ => names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(text.trim())),
    };
    match index.and_then(|i| names.get(i).map(|n| (i, n))) {
        Some((i, name)) => Ok(Value::Enum(Rc::new(EnumValue {
            type_name: Rc::from(type_name),
            name: Rc::from(name.as_str()),
            value: i as i64,
        }))),
        None => Err(cast_error(
            v,
            type_name,
            &format!(
                "Unable to match the identifier name {text} to a valid enumerator name. Specify one of the following enumerator names and try again: {}",
                names.join(", ")
            ),
        )),
    }
}

/// `[hashtable]` built from a list of pairs: used by cmdlets.
pub fn hashtable_from(pairs: Vec<(Value, Value)>, ordered: bool) -> Value {
    let mut h = Hashtable::new(ordered);
    for (k, v) in pairs {
        h.insert(k, v);
    }
    Value::hashtable(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_casts_round_half_to_even() {
        assert_eq!(to_i32(&Value::Double(2.5)).ok(), Some(2));
        assert_eq!(to_i32(&Value::Double(3.5)).ok(), Some(4));
        assert_eq!(to_i32(&Value::from("2.5")).ok(), Some(2));
        assert!(to_i32(&Value::from("abc")).is_err());
    }

    #[test]
    fn numeric_strings() {
        assert!(matches!(parse_numeric(" 12 "), Some(Value::Int(12))));
        assert!(matches!(parse_numeric("0x10"), Some(Value::Int(16))));
        assert!(parse_numeric("inf").is_none());
        assert!(matches!(parse_numeric("1e3"), Some(Value::Double(d)) if d == 1000.0));
    }
}
