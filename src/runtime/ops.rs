//! Operators. The left operand decides how the right one is converted:
//! `1 + "2"` is 3, `"1" + 2` is "12", `"10" -gt 9` compares strings.

use std::cmp::Ordering;
use std::rc::Rc;

use rust_decimal::Decimal;

use super::convert::{self, cast_error, convert_to, to_f64, to_number};
use super::dates;
use super::error::{ErrorCategory, ErrorRecord};
use super::regex_cache;
use super::types::PsType;
use super::value::{Hashtable, Value};
use super::wildcard;
use crate::syntax::ast::{BinOp, Case, CmpOp};

type R = Result<Value, ErrorRecord>;

pub use super::budget::set_limits;
use super::budget::{TextBuf, check_items, check_string, too_large};

// ------------------------------------------------------------ arithmetic

/// A numeric pair promoted to a common representation.
enum Num {
    I(i64),
    F(f64),
    D(Decimal),
}

fn promote(a: &Value, b: &Value) -> (Num, Num) {
    let dec = matches!(a, Value::Decimal(_)) || matches!(b, Value::Decimal(_));
    let float = matches!(a, Value::Double(_) | Value::Single(_))
        || matches!(b, Value::Double(_) | Value::Single(_));
    let conv = |v: &Value| -> Num {
        if dec {
            Num::D(convert::to_decimal(v).unwrap_or_default())
        } else if float {
            Num::F(to_f64(v).unwrap_or(0.0))
        } else {
            Num::I(v.as_i64().unwrap_or(0))
        }
    };
    (conv(a), conv(b))
}

/// Integer results keep the narrowest of int/long, widening to double on
/// overflow, as PowerShell does.
fn int_result(l: &Value, r: &Value, n: Option<i64>, fallback: f64) -> Value {
    let both_int = matches!(l, Value::Int(_)) && matches!(r, Value::Int(_));
    match n {
        // int op int that overflows goes straight to double, not long.
        Some(n) if both_int => match i32::try_from(n) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Double(n as f64),
        },
        Some(n) => Value::Long(n),
        None => Value::Double(fallback),
    }
}

fn arith(op: BinOp, l: &Value, r: &Value) -> R {
    let ln = to_number(l)?;
    let rn = match to_number(r) {
        Ok(v) => v,
        Err(_) => {
            let target = match &ln {
                Value::Double(_) => "System.Double",
                Value::Long(_) => "System.Int64",
                Value::Decimal(_) => "System.Decimal",
                _ => "System.Int32",
            };
            return Err(match r {
                Value::String(s) => cast_error(
                    r,
                    target,
                    &format!("The input string '{s}' was not in a correct format."),
                ),
                _ => op_not_defined(op, l, r),
            });
        }
    };
    let (a, b) = promote(&ln, &rn);
    Ok(match (a, b) {
        (Num::I(x), Num::I(y)) => match op {
            BinOp::Add => int_result(&ln, &rn, x.checked_add(y), x as f64 + y as f64),
            BinOp::Sub => int_result(&ln, &rn, x.checked_sub(y), x as f64 - y as f64),
            BinOp::Mul => int_result(&ln, &rn, x.checked_mul(y), x as f64 * y as f64),
            BinOp::Div => {
                if y == 0 {
                    return Err(divide_by_zero());
                }
                // MinValue / -1 has no remainder but overflows: it widens.
                if x.checked_rem(y).is_none_or(|r| r == 0) {
                    int_result(&ln, &rn, x.checked_div(y), x as f64 / y as f64)
                } else {
                    Value::Double(x as f64 / y as f64)
                }
            }
            BinOp::Rem => {
                if y == 0 {
                    return Err(divide_by_zero());
                }
                int_result(&ln, &rn, x.checked_rem(y).or(Some(0)), 0.0)
            }
            _ => Value::Null,
        },
        (Num::F(x), Num::F(y)) => Value::Double(match op {
            BinOp::Add => x + y,
            BinOp::Sub => x - y,
            BinOp::Mul => x * y,
            BinOp::Div => x / y,
            BinOp::Rem => x % y,
            _ => 0.0,
        }),
        (Num::D(x), Num::D(y)) => {
            let res = match op {
                BinOp::Add => x.checked_add(y),
                BinOp::Sub => x.checked_sub(y),
                BinOp::Mul => x.checked_mul(y),
                BinOp::Div => {
                    if y.is_zero() {
                        return Err(divide_by_zero());
                    }
                    x.checked_div(y)
                }
                BinOp::Rem => {
                    if y.is_zero() {
                        return Err(divide_by_zero());
                    }
                    x.checked_rem(y)
                }
                _ => None,
            };
            Value::Decimal(res.ok_or_else(|| {
                ErrorRecord::new(
                    "Value was either too large or too small for a Decimal.",
                    "RuntimeException",
                    ErrorCategory::NotSpecified,
                )
                .with_exception("System.OverflowException")
            })?)
        }
        _ => Value::Null,
    })
}

fn divide_by_zero() -> ErrorRecord {
    ErrorRecord::new(
        "Attempted to divide by zero.",
        "RuntimeException",
        ErrorCategory::NotSpecified,
    )
    .with_exception("System.DivideByZeroException")
}

fn op_not_defined(op: BinOp, l: &Value, r: &Value) -> ErrorRecord {
    let sym = match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Rem => "%",
        _ => "?",
    };
    ErrorRecord::new(
        format!(
            "Method invocation failed because [{}] does not contain a method named 'op_{}'.",
            l.type_name(),
            match sym {
                "+" => "Addition",
                "-" => "Subtraction",
                "*" => "Multiply",
                "/" => "Division",
                _ => "Modulus",
            }
        ),
        "MethodNotFound",
        ErrorCategory::InvalidOperation,
    )
    .with_target(r.clone())
}

pub fn add(l: &Value, r: &Value) -> R {
    match l {
        Value::Null => Ok(match r {
            Value::Array(_) => Value::array(r.enumerate()),
            other => other.clone(),
        }),
        Value::String(s) => {
            check_string(s.len().saturating_add(r.text_len()))?;
            let mut out = TextBuf::new();
            out.push_str(s)?;
            out.push_str(&r.to_string())?;
            Ok(Value::from(out.into_string()))
        }
        Value::Char(c) if matches!(r, Value::String(_) | Value::Char(_)) => {
            check_string(r.text_len().saturating_add(4))?;
            Ok(Value::from(format!("{c}{r}")))
        }
        Value::Array(a) => {
            let more = match r {
                Value::Array(b) => b.len(),
                _ => 1,
            };
            let mut items = super::budget::vec_for(a.len().saturating_add(more))?;
            items.extend(a.items.borrow().iter().cloned());
            match r {
                Value::Array(b) => items.extend(b.items.borrow().iter().cloned()),
                other => items.push(other.clone()),
            }
            Ok(if a.growable {
                Value::list(items)
            } else {
                match &a.elem {
                    Some(t) => convert_to(
                        &Value::array(items),
                        &PsType::Array(Some(Box::new(t.clone()))),
                    )?,
                    None => Value::array(items),
                }
            })
        }
        Value::Hashtable(h) => {
            let Value::Hashtable(rh) = r else {
                return Err(ErrorRecord::new(
                    "A hash table can only be added to another hash table.",
                    "AddHashTableToNonHashTable",
                    ErrorCategory::InvalidOperation,
                ));
            };
            let mut out: Hashtable = h.borrow().clone();
            for (k, v) in rh.borrow().entries() {
                if out.add(k.clone(), v.clone()).is_err() {
                    return Err(ErrorRecord::new(
                        format!("Item has already been added. Key in dictionary: '{k}'  Key being added: '{k}'"),
                        "System.ArgumentException",
                        ErrorCategory::InvalidOperation,
                    )
                    .with_exception("System.ArgumentException"));
                }
            }
            Ok(Value::hashtable(out))
        }
        Value::DateTime(d) => match r {
            Value::TimeSpan(t) => dates::add(d, *t)
                .map(Value::DateTime)
                .ok_or_else(dates::date_overflow),
            _ => Err(op_not_defined(BinOp::Add, l, r)),
        },
        Value::TimeSpan(t) => match r {
            Value::TimeSpan(u) => dates::span_add(*t, *u)
                .map(Value::TimeSpan)
                .ok_or_else(dates::span_overflow),
            _ => Err(op_not_defined(BinOp::Add, l, r)),
        },
        Value::Int(_)
        | Value::Long(_)
        | Value::Double(_)
        | Value::Single(_)
        | Value::Decimal(_)
        | Value::Bool(_)
        | Value::Char(_)
        | Value::Enum(_) => arith(BinOp::Add, l, r),
        _ => Err(op_not_defined(BinOp::Add, l, r)),
    }
}

pub fn sub(l: &Value, r: &Value) -> R {
    match (l, r) {
        (Value::DateTime(a), Value::DateTime(b)) => {
            Ok(Value::TimeSpan(a.signed_duration_since(*b)))
        }
        (Value::DateTime(a), Value::TimeSpan(t)) => dates::sub(a, *t)
            .map(Value::DateTime)
            .ok_or_else(dates::date_overflow),
        (Value::TimeSpan(a), Value::TimeSpan(b)) => dates::span_sub(*a, *b)
            .map(Value::TimeSpan)
            .ok_or_else(dates::span_overflow),
        (Value::Array(_) | Value::Hashtable(_) | Value::Object(_), _) => {
            Err(op_not_defined(BinOp::Sub, l, r))
        }
        _ => arith(BinOp::Sub, l, r),
    }
}

pub fn mul(l: &Value, r: &Value) -> R {
    match l {
        // pwsh: multiplying nothing gives nothing (`$n *= 2` on an unset $n).
        Value::Null => Ok(Value::Null),
        Value::String(s) => {
            let n = convert::to_i64(r, "System.Int32")?;
            let n = usize::try_from(n).map_err(|_| {
                ErrorRecord::new(
                    "The string cannot be repeated a negative number of times.",
                    "ArgumentOutOfRange",
                    ErrorCategory::InvalidArgument,
                )
            })?;
            let mut out = TextBuf::new();
            out.reserve(s.len().saturating_mul(n))?;
            for _ in 0..n {
                out.push_str(s)?;
            }
            Ok(Value::from(out.into_string()))
        }
        Value::Array(a) => {
            let n = usize::try_from(convert::to_i64(r, "System.Int32")?).unwrap_or(0);
            let items = a.to_vec();
            let mut out = super::budget::vec_for(items.len().saturating_mul(n))?;
            for _ in 0..n {
                out.extend(items.iter().cloned());
            }
            Ok(Value::array(out))
        }
        Value::Hashtable(_) | Value::Object(_) => Err(op_not_defined(BinOp::Mul, l, r)),
        _ => arith(BinOp::Mul, l, r),
    }
}

pub fn arithmetic(op: BinOp, l: &Value, r: &Value) -> R {
    match op {
        BinOp::Add => add(l, r),
        BinOp::Sub => sub(l, r),
        BinOp::Mul => mul(l, r),
        BinOp::Div | BinOp::Rem => match l {
            Value::Array(_) | Value::Hashtable(_) | Value::Object(_) | Value::String(_) if !matches!(l, Value::String(s) if convert::parse_numeric(s).is_some()) => {
                Err(op_not_defined(op, l, r))
            }
            _ => arith(op, l, r),
        },
        _ => Ok(Value::Null),
    }
}

// ------------------------------------------------------------ comparison

fn str_eq(a: &str, b: &str, cs: bool) -> bool {
    if cs {
        a == b
    } else {
        a.len() == b.len() && a.eq_ignore_ascii_case(b)
            || (!a.is_ascii() || !b.is_ascii()) && a.to_lowercase() == b.to_lowercase()
    }
}

fn str_cmp(a: &str, b: &str, cs: bool) -> Ordering {
    let ci = a.to_lowercase().cmp(&b.to_lowercase());
    if ci != Ordering::Equal || !cs {
        return ci;
    }
    // Culture order puts lower case before upper case.
    for (x, y) in a.chars().zip(b.chars()) {
        if x != y {
            return if x.is_lowercase() {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
    }
    Ordering::Equal
}

fn num_eq(a: &Value, b: &Value) -> bool {
    match promote(a, b) {
        (Num::I(x), Num::I(y)) => x == y,
        (Num::F(x), Num::F(y)) => x == y,
        (Num::D(x), Num::D(y)) => x == y,
        _ => false,
    }
}

fn num_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match promote(a, b) {
        (Num::I(x), Num::I(y)) => Some(x.cmp(&y)),
        (Num::F(x), Num::F(y)) => x.partial_cmp(&y),
        (Num::D(x), Num::D(y)) => Some(x.cmp(&y)),
        _ => None,
    }
}

/// `-eq` between two scalars, the left one deciding the conversion.
pub fn equals(l: &Value, r: &Value, cs: bool) -> bool {
    match l {
        Value::Null => r.is_null(),
        _ if r.is_null() => false,
        Value::String(s) => match r {
            Value::String(t) => str_eq(s, t, cs),
            other => str_eq(s, &other.to_string(), cs),
        },
        Value::Char(c) => match r {
            Value::Char(d) => {
                if cs {
                    c == d
                } else {
                    c.to_lowercase().eq(d.to_lowercase())
                }
            }
            Value::String(t) => str_eq(&c.to_string(), t, cs),
            other => to_number(other)
                .map(|n| num_eq(&Value::Int(*c as i32), &n))
                .unwrap_or(false),
        },
        Value::Int(_)
        | Value::Long(_)
        | Value::Double(_)
        | Value::Single(_)
        | Value::Decimal(_) => match (to_number(l), to_number(r)) {
            (Ok(m), Ok(n)) if !matches!(r, Value::Array(_)) => num_eq(&m, &n),
            _ => false,
        },
        Value::Bool(b) => *b == r.is_true(),
        Value::Enum(e) => match r {
            Value::String(t) => str_eq(&e.name, t, cs),
            Value::Enum(f) => e.value == f.value && e.type_name == f.type_name,
            other => other.as_i64() == Some(e.value),
        },
        Value::DateTime(d) => match r {
            Value::DateTime(e) => d == e,
            Value::String(s) => convert::parse_datetime(s).is_some_and(|e| e == *d),
            _ => false,
        },
        Value::TimeSpan(t) => matches!(r, Value::TimeSpan(u) if t == u),
        Value::Guid(g) => match r {
            Value::Guid(h) => g == h,
            Value::String(s) => convert::parse_guid(s).map(u128::to_be_bytes) == Some(*g),
            _ => false,
        },
        Value::Array(a) => matches!(r, Value::Array(b) if Rc::ptr_eq(a, b)),
        Value::Hashtable(a) => matches!(r, Value::Hashtable(b) if Rc::ptr_eq(a, b)),
        Value::Object(a) => matches!(r, Value::Object(b) if Rc::ptr_eq(a, b)),
        Value::ScriptBlock(a) => matches!(r, Value::ScriptBlock(b) if Rc::ptr_eq(a, b)),
        Value::Type(a) => match r {
            Value::Type(b) => a == b,
            Value::String(s) => PsType::resolve(s).as_ref() == Some(a),
            _ => false,
        },
        Value::Error(a) => matches!(r, Value::Error(b) if Rc::ptr_eq(a, b)),
    }
}

fn compare_error(l: &Value, r: &Value, why: Option<ErrorRecord>) -> ErrorRecord {
    let msg = match why {
        Some(e) => format!(
            "Could not compare \"{l}\" to \"{r}\". Error: \"{}\"",
            e.message
        ),
        None => format!("Cannot compare \"{l}\" because it is not IComparable."),
    };
    ErrorRecord::new(msg, "ComparisonFailure", ErrorCategory::InvalidOperation)
}

/// Ordering for `-gt`, `-lt`, Sort-Object; `$null` sorts first.
pub fn compare(l: &Value, r: &Value, cs: bool) -> Result<Ordering, ErrorRecord> {
    match l {
        Value::Null => Ok(if r.is_null() {
            Ordering::Equal
        } else {
            Ordering::Less
        }),
        _ if r.is_null() => Ok(Ordering::Greater),
        Value::String(s) => Ok(str_cmp(s, &r.to_string(), cs)),
        Value::Char(c) => match r {
            Value::String(t) => Ok(str_cmp(&c.to_string(), t, cs)),
            other => {
                let n = to_number(other).map_err(|e| compare_error(l, r, Some(e)))?;
                num_cmp(&Value::Int(*c as i32), &n).ok_or_else(|| compare_error(l, r, None))
            }
        },
        Value::Int(_)
        | Value::Long(_)
        | Value::Double(_)
        | Value::Single(_)
        | Value::Decimal(_)
        | Value::Enum(_) => {
            let ln = to_number(l).map_err(|e| compare_error(l, r, Some(e)))?;
            let n = to_number(r).map_err(|e| compare_error(l, r, Some(e)))?;
            // NaN compares below everything, as .NET's CompareTo does.
            Ok(num_cmp(&ln, &n).unwrap_or_else(|| {
                let (a, b) = (to_f64(&ln).unwrap_or(0.0), to_f64(&n).unwrap_or(0.0));
                a.is_nan().cmp(&b.is_nan()).reverse()
            }))
        }
        Value::Bool(b) => Ok(b.cmp(&r.is_true())),
        Value::DateTime(d) => match r {
            Value::DateTime(e) => Ok(d.cmp(e)),
            Value::String(s) => convert::parse_datetime(s)
                .map(|e| d.cmp(&e))
                .ok_or_else(|| compare_error(l, r, Some(cast_error(r, "System.DateTime", "")))),
            // A number on the right converts as [datetime] does: ticks.
            Value::Int(_) | Value::Long(_) => {
                let n = convert::to_i64(r, "System.DateTime")
                    .map_err(|e| compare_error(l, r, Some(e)))?;
                Ok(convert::ticks(d).cmp(&n))
            }
            _ => Err(compare_error(l, r, None)),
        },
        Value::TimeSpan(t) => match r {
            Value::TimeSpan(u) => Ok(t.cmp(u)),
            _ => Err(compare_error(l, r, None)),
        },
        Value::Guid(g) => Ok(l.to_string().cmp(&r.to_string()).then(g.cmp(g))),
        _ => Err(compare_error(l, r, None)),
    }
}

/// Outcome of a comparison operator; `-match` also yields `$Matches`.
pub struct CmpOutcome {
    pub value: Value,
    pub matches: Option<Value>,
}

fn scalar_cmp(
    op: CmpOp,
    l: &Value,
    r: &Value,
    cs: bool,
    matches: &mut Option<Value>,
) -> Result<bool, ErrorRecord> {
    Ok(match op {
        CmpOp::Eq => equals(l, r, cs),
        CmpOp::Ne => !equals(l, r, cs),
        CmpOp::Gt => compare(l, r, cs)? == Ordering::Greater,
        CmpOp::Ge => compare(l, r, cs)? != Ordering::Less,
        CmpOp::Lt => compare(l, r, cs)? == Ordering::Less,
        CmpOp::Le => compare(l, r, cs)? != Ordering::Greater,
        CmpOp::Like => wildcard::like(&l.to_string(), &r.to_string(), cs),
        CmpOp::NotLike => !wildcard::like(&l.to_string(), &r.to_string(), cs),
        CmpOp::Match | CmpOp::NotMatch => {
            let re = regex_cache::get(&r.to_string(), cs)?;
            let text = l.to_string();
            let hit = match re.captures(&text) {
                Some(caps) => {
                    let mut h = Hashtable::new(false);
                    // .NET numbers the unnamed groups first; named groups
                    // are keyed by name.
                    let mut unnamed = 0;
                    for (i, name) in re.capture_names().enumerate() {
                        let key = match name {
                            Some(n) => Value::from(n),
                            None => {
                                let k = Value::Int(unnamed);
                                unnamed += 1;
                                k
                            }
                        };
                        if let Some(m) = caps.get(i) {
                            h.insert(key, Value::from(m.as_str()));
                        }
                    }
                    // PowerShell lists groups highest first.
                    h.map.reverse();
                    *matches = Some(Value::hashtable(h));
                    true
                }
                None => false,
            };
            if op == CmpOp::Match { hit } else { !hit }
        }
        CmpOp::Contains => l.enumerate().iter().any(|x| equals(x, r, cs)),
        CmpOp::NotContains => !l.enumerate().iter().any(|x| equals(x, r, cs)),
        CmpOp::In => r.enumerate().iter().any(|x| equals(x, l, cs)),
        CmpOp::NotIn => !r.enumerate().iter().any(|x| equals(x, l, cs)),
    })
}

/// A comparison operator; with a collection on the left the comparison
/// filters it (`1,2,3 -gt 1` is `2,3`) — except the containment operators.
pub fn comparison(op: CmpOp, case: Case, l: &Value, r: &Value) -> Result<CmpOutcome, ErrorRecord> {
    let cs = case.sensitive();
    let mut matches = None;
    let containment = matches!(
        op,
        CmpOp::Contains | CmpOp::NotContains | CmpOp::In | CmpOp::NotIn
    );
    if let (Value::Array(a), false) = (l, containment) {
        let mut out = Vec::new();
        let mut ignored = None;
        for item in a.items.borrow().iter() {
            if scalar_cmp(op, item, r, cs, &mut ignored)? {
                out.push(item.clone());
            }
        }
        return Ok(CmpOutcome {
            value: Value::array(out),
            matches: None,
        });
    }
    let b = scalar_cmp(op, l, r, cs, &mut matches)?;
    Ok(CmpOutcome {
        value: Value::Bool(b),
        matches: if b && op == CmpOp::Match {
            matches
        } else {
            None
        },
    })
}

// ------------------------------------------------------------ string operators

pub fn replace(l: &Value, r: &Value, case: Case) -> R {
    let parts = r.enumerate();
    let pattern = parts.first().map(|v| v.to_string()).unwrap_or_default();
    let rep = parts.get(1).map(|v| v.to_string()).unwrap_or_default();
    if parts.len() > 2 {
        return Err(ErrorRecord::new(
            "The -replace operator allows only two elements to follow it, not more.",
            "BadReplaceArgument",
            ErrorCategory::InvalidOperation,
        ));
    }
    let re = regex_cache::get(&pattern, case.sensitive())?;
    let rep = regex_cache::dotnet_replacement(&rep);
    let refs = rep.matches('$').count();
    let one = |v: &Value| -> R {
        let text = super::budget::text_of(v)?;
        // Without group references the size is known from the matches.
        if refs == 0 {
            let n = re.find_iter(&text).count();
            check_string(text.len().saturating_add(n.saturating_mul(rep.len())))?;
        }
        let mut out = TextBuf::new();
        let mut last = 0;
        for caps in re.captures_iter(&text) {
            let Some(m) = caps.get(0) else { continue };
            out.push_str(&text[last..m.start()])?;
            // Each `$` of the replacement may stand for the whole match.
            out.fits(rep.len().saturating_add(refs.saturating_mul(m.len())))?;
            let mut piece = String::new();
            caps.expand(&rep, &mut piece);
            out.push_str(&piece)?;
            last = m.end();
        }
        out.push_str(&text[last..])?;
        Ok(Value::from(out.into_string()))
    };
    Ok(match l {
        Value::Array(a) => {
            let items = a.to_vec();
            let mut out = super::budget::vec_for(items.len())?;
            for v in &items {
                out.push(one(v)?);
            }
            Value::array(out)
        }
        other => one(other)?,
    })
}

pub fn split(l: &Value, r: &Value, case: Case) -> R {
    let parts = r.enumerate();
    let pattern = parts.first().map(|v| v.to_string()).unwrap_or_default();
    let max = match parts.get(1) {
        Some(v) => convert::to_i32(v)?.max(0) as usize,
        None => 0,
    };
    // The third operand holds options: SimpleMatch, IgnoreCase, ...
    let opts = parts
        .get(2)
        .map(|v| v.to_string().to_ascii_lowercase())
        .unwrap_or_default();
    let simple = opts.split(',').any(|o| o.trim() == "simplematch");
    let sensitive = case.sensitive() && !opts.split(',').any(|o| o.trim() == "ignorecase");
    let pattern = if simple {
        regex::escape(&pattern)
    } else {
        pattern
    };
    let re = regex_cache::get(&pattern, sensitive)?;
    let mut out = Pieces::default();
    for s in l.enumerate() {
        let s = super::budget::text_of(&s)?;
        // A piece per match, plus the groups it captures: when that could
        // pass the item limit, count the matches before building anything.
        let groups = re.captures_len();
        let bound = s.len().saturating_add(1).saturating_mul(groups);
        if max == 0 && out.0.len().saturating_add(bound) > super::budget::max_items() {
            // Counting stops once the limit is passed: a huge input costs
            // at most the limit's worth of matching.
            let room = super::budget::max_items().saturating_sub(out.0.len()) / groups.max(1);
            let matches = re.find_iter(&s).take(room.saturating_add(1)).count();
            check_items(
                out.0
                    .len()
                    .saturating_add(matches.saturating_add(1).saturating_mul(groups)),
            )?;
        }
        if max > 0 {
            for p in re.splitn(&s, max) {
                out.push(p)?;
            }
        } else {
            split_keeping_captures(&re, &s, &mut out)?;
        }
    }
    Ok(Value::array(out.0))
}

/// The pieces of a split, counted against the item limit as they come:
/// splitting a long string on every character makes many values.
#[derive(Default)]
struct Pieces(Vec<Value>);

impl Pieces {
    fn push(&mut self, s: &str) -> Result<(), ErrorRecord> {
        check_items(self.0.len() + 1)?;
        self.0.try_reserve(1).map_err(|_| too_large())?;
        self.0.push(Value::from(s));
        Ok(())
    }
}

/// Like `Regex.Split`: captured groups of the separator are kept.
fn split_keeping_captures(re: &regex::Regex, s: &str, out: &mut Pieces) -> Result<(), ErrorRecord> {
    let mut last = 0;
    for caps in re.captures_iter(s) {
        let Some(m) = caps.get(0) else { continue };
        if m.start() == m.end() && (m.start() == 0 || m.start() == s.len()) {
            continue;
        }
        out.push(&s[last..m.start()])?;
        for g in caps.iter().skip(1).flatten() {
            out.push(g.as_str())?;
        }
        last = m.end();
    }
    out.push(&s[last..])
}

pub fn unary_split(v: &Value) -> R {
    let mut out = Pieces::default();
    for s in v.enumerate() {
        for p in super::budget::text_of(&s)?.split_whitespace() {
            out.push(p)?;
        }
    }
    Ok(Value::array(out.0))
}

/// `-join`: each item's string form, within the string limit.
pub fn join(l: &Value, sep: &str) -> R {
    let items = l.enumerate();
    let mut out = TextBuf::new();
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep)?;
        }
        out.fits(v.text_len())?;
        out.push_str(&v.to_string())?;
    }
    Ok(Value::from(out.into_string()))
}

pub fn format(l: &Value, r: &Value) -> R {
    let args = r.enumerate();
    let args = if args.is_empty() && !r.is_null() {
        vec![r.clone()]
    } else {
        args
    };
    let args = if r.is_null() { vec![Value::Null] } else { args };
    super::dotnet_format::composite(&super::budget::text_of(l)?, &args).map(Value::from)
}

// ------------------------------------------------------------ bitwise, range, types

pub fn bitwise(op: BinOp, l: &Value, r: &Value) -> R {
    let a = convert::to_i64(l, "System.Int64")?;
    let b = convert::to_i64(r, "System.Int64")?;
    let n = match op {
        BinOp::BAnd => a & b,
        BinOp::BOr => a | b,
        BinOp::BXor => a ^ b,
        BinOp::Shl => a.wrapping_shl((b & 63) as u32),
        BinOp::Shr => a.wrapping_shr((b & 63) as u32),
        _ => 0,
    };
    let ints = matches!(l, Value::Int(_))
        && (matches!(r, Value::Int(_)) || matches!(op, BinOp::Shl | BinOp::Shr));
    Ok(if ints {
        Value::Int(n as i32)
    } else {
        Value::from(n)
    })
}

/// Bounds of `a..b` as integers, or as characters for `'a'..'e'`.
pub enum RangeSpec {
    Int(i64, i64),
    Char(char, char),
}

pub fn range_spec(l: &Value, r: &Value) -> Result<RangeSpec, ErrorRecord> {
    let as_char = |v: &Value| match v {
        Value::Char(c) => Some(*c),
        Value::String(s) if s.chars().count() == 1 && convert::parse_numeric(s).is_none() => {
            s.chars().next()
        }
        _ => None,
    };
    if let (Some(a), Some(b)) = (as_char(l), as_char(r)) {
        return Ok(RangeSpec::Char(a, b));
    }
    let a = convert::to_i32(l)? as i64;
    let b = convert::to_i32(r)? as i64;
    Ok(RangeSpec::Int(a, b))
}

impl RangeSpec {
    /// A range always holds at least one value.
    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn len(&self) -> usize {
        match *self {
            RangeSpec::Int(a, b) => (a - b).unsigned_abs() as usize + 1,
            RangeSpec::Char(a, b) => (a as i64 - b as i64).unsigned_abs() as usize + 1,
        }
    }

    pub fn get(&self, i: usize) -> Value {
        match *self {
            RangeSpec::Int(a, b) => {
                let v = if a <= b { a + i as i64 } else { a - i as i64 };
                Value::Int(v as i32)
            }
            RangeSpec::Char(a, b) => {
                let v = if a <= b {
                    a as u32 + i as u32
                } else {
                    a as u32 - i as u32
                };
                Value::Char(char::from_u32(v).unwrap_or('?'))
            }
        }
    }
}

pub fn range(l: &Value, r: &Value) -> R {
    let spec = range_spec(l, r)?;
    let n = spec.len();
    let mut out = super::budget::vec_for(n)?;
    out.extend((0..n).map(|i| spec.get(i)));
    Ok(Value::array(out))
}

pub fn type_operand(r: &Value) -> Result<PsType, ErrorRecord> {
    match r {
        Value::Type(t) => Ok((**t).clone()),
        Value::String(s) => PsType::resolve(s).ok_or_else(|| {
            ErrorRecord::new(
                format!("Unable to find type [{s}]."),
                "TypeNotFound",
                ErrorCategory::InvalidOperation,
            )
        }),
        other => Err(ErrorRecord::new(
            format!("The right operand of '-is' and '-as' must be a type; got '{other}'."),
            "IsOperatorRequiresType",
            ErrorCategory::InvalidOperation,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Value {
        Value::from(s)
    }

    #[test]
    fn left_operand_decides() {
        assert!(matches!(add(&Value::Int(1), &v("2")), Ok(Value::Int(3))));
        assert_eq!(
            add(&v("1"), &Value::Int(2))
                .map(|x| x.to_string())
                .ok()
                .as_deref(),
            Some("12")
        );
        let gt = comparison(CmpOp::Gt, Case::Default, &v("10"), &Value::Int(9))
            .ok()
            .map(|o| o.value.is_true());
        assert_eq!(gt, Some(false));
    }

    #[test]
    fn integer_overflow_widens() {
        assert!(matches!(
            add(&Value::Int(i32::MAX), &Value::Int(1)),
            Ok(Value::Double(d)) if d == 2147483648.0
        ));
        assert!(
            matches!(arith(BinOp::Div, &Value::Int(7), &Value::Int(2)), Ok(Value::Double(d)) if d == 3.5)
        );
        assert!(matches!(
            arith(BinOp::Div, &Value::Int(6), &Value::Int(2)),
            Ok(Value::Int(3))
        ));
    }

    /// A remote session's caps (64 MiB strings, 10M items) hold for every
    /// builder, checked before the memory is taken.
    #[test]
    fn remote_session_caps_hold() {
        let run = || {
            set_limits(10_000_000, 64 << 20);
            let mb = Value::from("x".repeat(1 << 20));
            let too_big = |r: R| matches!(r, Err(e) if e.error_id.as_ref() == "LimitsExceeded");
            assert!(too_big(mul(&v("x"), &Value::Int(65 << 20))));
            assert!(too_big(mul(
                &Value::array(vec![Value::Int(1)]),
                &Value::Int(10_000_001)
            )));
            assert!(too_big(range(&Value::Int(1), &Value::Int(10_000_001))));
            let many = Value::array(vec![mb.clone(); 65]);
            assert!(too_big(join(&many, "")));
            assert!(too_big(replace(
                &Value::from("x".repeat(40 << 20)),
                &Value::array(vec![v("x"), v("yy")]),
                Case::Default
            )));
            let wide = v(&"{0,999999}".repeat(70));
            assert!(too_big(format(&wide, &Value::Int(1))));
            let long = Value::from("x".repeat(10_000_001));
            assert!(too_big(split(&long, &v(""), Case::Default)));
            // Within the caps all is as usual.
            assert!(
                matches!(mul(&v("ab"), &Value::Int(3)), Ok(Value::String(s)) if &*s == "ababab")
            );
        };
        // The caps are the thread's: give the test a thread of its own.
        assert!(std::thread::spawn(run).join().is_ok());
    }
}
