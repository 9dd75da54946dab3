//! Property values between the shell and the store: validation by the
//! schema's type, range and enum (with an error that names the parameter,
//! the value and what was expected), and the objects Get-* emits.

use std::rc::Rc;

use serde_json::Value as Json;

use super::identity::Scope;
use super::schema::{Family, PropDef, schema};
use super::store::StoredObject;
use crate::runtime::convert;
use crate::runtime::types::{IntKind, PsType};
use crate::runtime::value::{EnumValue, Prop, PropKind, PsObject, Value};

/// Why a value does not fit a property.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct InvalidValue(pub String);

fn shown(v: &Value) -> String {
    match v {
        Value::Null => "$null".into(),
        other => other.to_string(),
    }
}

/// Checks and converts a shell value for a property; `Json::Null` clears it.
pub fn to_stored(prop: &PropDef, v: &Value) -> Result<Json, InvalidValue> {
    let name = &prop.name;
    if v.is_null() {
        return match prop.ty.as_str() {
            "String" | "PSListModifier" | "TimeSpan" => Ok(Json::Null),
            t if schema().enum_values(t).is_some() => Ok(Json::Null),
            // Lync's nullable settings (a fresh client policy has dozens):
            // $null means "not set", so the client's own default applies.
            _ if prop.default.as_ref().is_none_or(Json::is_null) => Ok(Json::Null),
            _ => Err(InvalidValue(format!(
                "Cannot bind argument to parameter '{name}' because it is null: {name} needs {}.",
                expect_text(prop)
            ))),
        };
    }
    match prop.ty.as_str() {
        "Boolean" => match v {
            Value::Bool(b) => Ok(Json::Bool(*b)),
            Value::Int(_) | Value::Long(_) => Ok(Json::Bool(v.is_true())),
            _ => Err(InvalidValue(format!(
                "Cannot process argument transformation on parameter '{name}'. Cannot convert value \"{}\" to type \"System.Boolean\". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.",
                shown(v)
            ))),
        },
        "UInt16" | "UInt32" | "Int32" | "Int64" => {
            let (lo, hi, dotnet) = match prop.ty.as_str() {
                "UInt16" => (0, u16::MAX as i64, "System.UInt16"),
                "UInt32" => (0, u32::MAX as i64, "System.UInt32"),
                "Int32" => (i32::MIN as i64, i32::MAX as i64, "System.Int32"),
                _ => (i64::MIN, i64::MAX, "System.Int64"),
            };
            let n = convert::to_i64(v, dotnet).map_err(|e| {
                InvalidValue(format!("Cannot bind parameter '{name}'. {}", e.message))
            })?;
            let lo = prop.min.unwrap_or(lo).max(lo);
            let hi = prop.max.unwrap_or(hi).min(hi);
            if n < lo {
                return Err(InvalidValue(format!(
                    "Cannot validate argument on parameter '{name}'. The {n} argument is less than the minimum allowed range of {lo}. Supply an argument that is greater than or equal to {lo} and then try the command again."
                )));
            }
            if n > hi {
                return Err(InvalidValue(format!(
                    "Cannot validate argument on parameter '{name}'. The {n} argument is greater than the maximum allowed range of {hi}. Supply an argument that is less than or equal to {hi} and then try the command again."
                )));
            }
            Ok(Json::from(n))
        }
        "String" => Ok(Json::String(v.to_string())),
        "TimeSpan" => {
            let t = match v {
                Value::TimeSpan(t) => *t,
                other => parse_timespan(&other.to_string()).ok_or_else(|| {
                    InvalidValue(format!(
                        "Cannot bind parameter '{name}'. Cannot convert value \"{}\" to type \"System.TimeSpan\": use hh:mm:ss.",
                        shown(other)
                    ))
                })?,
            };
            let secs = t.num_seconds();
            let text = |n: i64| Value::TimeSpan(chrono::TimeDelta::seconds(n)).to_string();
            if let Some(hi) = prop.max
                && secs > hi
            {
                return Err(InvalidValue(format!(
                    "Cannot validate argument on parameter '{name}'. The value {} is greater than the maximum allowed {}.",
                    text(secs),
                    text(hi)
                )));
            }
            if let Some(lo) = prop.min
                && secs < lo
            {
                return Err(InvalidValue(format!(
                    "Cannot validate argument on parameter '{name}'. The value {} is less than the minimum allowed {}.",
                    text(secs),
                    text(lo)
                )));
            }
            Ok(Json::String(Value::TimeSpan(t).to_string()))
        }
        "PSListModifier" => Ok(Json::Array(
            v.enumerate()
                .iter()
                .map(|x| Json::String(x.to_string()))
                .collect(),
        )),
        t => match schema().enum_values(t) {
            Some(values) => {
                let s = v.to_string();
                match values.iter().find(|x| x.eq_ignore_ascii_case(&s)) {
                    Some(canon) => Ok(Json::String(canon.clone())),
                    None => Err(InvalidValue(format!(
                        "Cannot bind parameter '{name}'. Cannot convert value \"{s}\" to type \"{t}\". Error: \"Unable to match the identifier name {s} to a valid enumerator name. Specify one of the following enumerator names and try again: {}\"",
                        values.join(", ")
                    ))),
                }
            }
            None => Ok(Json::String(v.to_string())),
        },
    }
}

fn expect_text(prop: &PropDef) -> String {
    match prop.ty.as_str() {
        "Boolean" => "$True or $False".into(),
        "UInt16" | "UInt32" | "Int32" | "Int64" => "a number".into(),
        other => format!("a {other}"),
    }
}

/// `hh:mm:ss`, `d.hh:mm:ss`, or a number of seconds.
pub fn parse_timespan(s: &str) -> Option<chrono::TimeDelta> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return chrono::TimeDelta::try_seconds(n);
    }
    let (days, rest) = match s.split_once('.') {
        Some((d, r)) if r.contains(':') => (d.parse::<i64>().ok()?, r),
        _ => (0, s),
    };
    let parts: Vec<i64> = rest
        .split(':')
        .map(|p| p.parse::<i64>().ok())
        .collect::<Option<_>>()?;
    let (h, m, sec) = match parts.as_slice() {
        [h, m] => (*h, *m, 0),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    if !(0..24).contains(&h) || !(0..60).contains(&m) || !(0..60).contains(&sec) {
        return None;
    }
    chrono::TimeDelta::try_seconds(
        days.checked_mul(86400)?
            .checked_add(h * 3600 + m * 60 + sec)?,
    )
}

/// A stored value as the shell sees it.
pub fn to_value(prop: &PropDef, j: &Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) if prop.ty == "Int64" => Value::Long(i),
            Some(i) if prop.ty == "UInt32" => Value::from(i),
            Some(i) => Value::from(i),
            None => Value::Double(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => match prop.ty.as_str() {
            "String" => Value::from(s.as_str()),
            "TimeSpan" => parse_timespan(s)
                .map(Value::TimeSpan)
                .unwrap_or_else(|| Value::from(s.as_str())),
            t => match schema().enum_values(t) {
                Some(values) => {
                    let index = values.iter().position(|x| x == s).unwrap_or(0);
                    Value::Enum(Rc::new(EnumValue {
                        type_name: Rc::from(t),
                        name: Rc::from(s.as_str()),
                        value: index as i64,
                    }))
                }
                None => Value::from(s.as_str()),
            },
        },
        Json::Array(items) => Value::array(items.iter().map(|x| to_value(prop, x)).collect()),
        Json::Object(_) => Value::from(j.to_string()),
    }
}

/// A fresh instance's values: the schema defaults.
pub fn defaults(family: &Family) -> serde_json::Map<String, Json> {
    let mut m = serde_json::Map::new();
    for p in &family.properties {
        if p.ty == "Identity" {
            continue;
        }
        m.insert(p.name.clone(), p.default.clone().unwrap_or(Json::Null));
    }
    m
}

/// The properties an object of this family shows, in order. The Access
/// Edge object shows different routing properties per routing method.
pub fn shown_properties<'f>(
    family: &'f Family,
    data: &serde_json::Map<String, Json>,
) -> Vec<&'f PropDef> {
    let default_route = family.noun == "CsAccessEdgeConfiguration"
        && data.get("RoutingMethod").and_then(Json::as_str) == Some("UseDefaultRouting");
    if !default_route {
        return family.properties.iter().filter(|p| p.shown).collect();
    }
    let mut out = Vec::new();
    for p in &family.properties {
        match p.name.as_str() {
            "BeClearingHouse" | "EnablePartnerDiscovery" | "DiscoveredPartnerVerificationLevel" => {
            }
            "EnableArchivingDisclaimer" => {
                for extra in ["DefaultRouteFqdn", "IsPublicProvider", "VerificationLevel"] {
                    if let Some(x) = family.prop(extra) {
                        out.push(x);
                    }
                }
                out.push(p);
            }
            "DefaultRouteFqdn" | "IsPublicProvider" | "VerificationLevel" => {}
            _ if p.shown => out.push(p),
            _ => {}
        }
    }
    out
}

/// The object Get-* emits for a stored instance.
pub fn to_object(family: &Family, obj: &StoredObject) -> Value {
    let default_route =
        obj.data.get("RoutingMethod").and_then(Json::as_str) == Some("UseDefaultRouting");
    let type_name = match family.type_names.as_slice() {
        [_, second, ..] if default_route => second.as_str(),
        _ => family.type_name(),
    };
    let mut o = PsObject::with_type(Rc::from(vec![
        Rc::from(type_name),
        Rc::from("System.Object"),
    ]));
    for p in shown_properties(family, &obj.data) {
        let value = if p.ty == "Identity" {
            Value::from(obj.identity.as_str())
        } else {
            obj.data
                .get(&p.name)
                .map(|j| to_value(p, j))
                .unwrap_or_default()
        };
        o.props_mut().push(Prop {
            name: Rc::from(p.name.as_str()),
            value,
            kind: PropKind::Property,
            ty: assigned_type(p),
            read_only: p.ty == "Identity" || p.read_only,
        });
    }
    o.display = Some(Rc::from(obj.identity.as_str()));
    Value::object(o)
}

/// The type a value assigned to a property of a Get/New object is converted
/// to on the spot, as a typed .NET property converts (`$p.MaxMeetingSize =
/// 'abc'` fails at the assignment). Nullable settings take `$null`, which a
/// conversion would turn into a value, so they are checked at Set time only;
/// ranges are always checked there.
fn assigned_type(p: &PropDef) -> Option<PsType> {
    if p.default.as_ref().is_none_or(Json::is_null) {
        return None;
    }
    match p.ty.as_str() {
        "Boolean" => Some(PsType::Bool),
        "TimeSpan" => Some(PsType::TimeSpan),
        t if schema().enum_values(t).is_some() => Some(PsType::Named(Rc::from(t))),
        t => integer_type(t),
    }
}

/// The .NET type of an integer setting, so that binding and assignment name
/// the type Lync declares (`System.UInt32`) in their errors.
pub fn integer_type(ty: &str) -> Option<PsType> {
    Some(match ty {
        "UInt16" => PsType::Integer(IntKind::UInt16),
        "UInt32" => PsType::Integer(IntKind::UInt32),
        "Int32" => PsType::Int,
        "Int64" => PsType::Long,
        _ => return None,
    })
}

/// Reads an object handed to `-Instance` back into stored values.
pub fn from_object(
    family: &Family,
    v: &Value,
) -> Result<(Scope, serde_json::Map<String, Json>), InvalidValue> {
    let Value::Object(o) = v else {
        return Err(InvalidValue(format!(
            "Cannot bind parameter 'Instance': the value \"{v}\" is not a {} object.",
            family.noun
        )));
    };
    let o = o.borrow();
    let identity = o.get("Identity").map(|i| i.to_string()).unwrap_or_default();
    let scope = Scope::from_display(family, &identity)
        .or_else(|| Scope::parse(family, &identity).ok())
        .ok_or_else(|| {
            InvalidValue(format!(
                "The -Instance object has no valid Identity ('{identity}')."
            ))
        })?;
    let mut data = serde_json::Map::new();
    for p in family
        .settable()
        .chain(family.properties.iter().filter(|p| p.read_only))
    {
        if let Some(val) = o.get(&p.name) {
            data.insert(p.name.clone(), to_stored(p, &val)?);
        }
    }
    Ok((scope, data))
}
