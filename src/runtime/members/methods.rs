//! Methods of values: strings, arrays, hashtables, dates, script blocks,
//! and the intrinsic `.Where()`/`.ForEach()` every value has.

use super::*;

impl Interp {
    /// `$x.Method(args)`.
    pub fn call_method(&mut self, v: &Value, name: &str, args: Vec<Value>) -> Res<Value> {
        budget::enter().map_err(Flow::error)?;
        if let Some(r) = self.call_class_method(v, name, &args) {
            return r;
        }
        let lower = name.to_ascii_lowercase();
        // Intrinsic methods every object has.
        match lower.as_str() {
            "where" => return self.intrinsic_where(v, &args),
            "foreach" => return self.intrinsic_foreach(v, &args),
            "gettype" => {
                return Ok(Value::Type(Rc::new(type_of(v))));
            }
            "tostring" if args.is_empty() => {
                return Ok(Value::from(match v {
                    Value::DateTime(d) => crate::runtime::dotnet_format::format_datetime(d, "G"),
                    Value::Array(_) => v.type_name().to_string(),
                    // .NET's own ToString: the shortest round trip, unlike
                    // PowerShell's conversion to text.
                    Value::Double(d) => crate::runtime::value::format_double(*d),
                    Value::Single(f) => crate::runtime::value::format_single(*f),
                    other => other.to_string(),
                }));
            }
            "tostring" => {
                return crate::runtime::dotnet_format::format_value(v, &arg_str(&args, 0))
                    .map(Value::from)
                    .map_err(Flow::error);
            }
            "equals" => {
                // .NET Equals: ordinal for strings, no conversion across kinds.
                let other = arg(&args, 0);
                let same = match (v, &other) {
                    (Value::String(a), Value::String(b)) => a == b,
                    (Value::String(_), _) | (_, Value::String(_)) => false,
                    _ => crate::runtime::ops::equals(v, &other, true),
                };
                return Ok(Value::Bool(same));
            }
            "gethashcode" => return Ok(Value::Int(0)),
            _ => {}
        }
        let r = match v {
            Value::String(s) => string_method(s, &lower, &args),
            Value::Array(a) => {
                let argc = args.len();
                match lower.as_str() {
                    "add" if a.growable => {
                        let n = a.len();
                        grow(a, 1).map_err(|e| method_error(name, argc, &e.message))?;
                        a.items.borrow_mut().push(arg(&args, 0));
                        Ok(Value::from(n))
                    }
                    "add" | "remove" | "removeat" | "insert" | "clear" | "addrange"
                        if !a.growable =>
                    {
                        Err(method_error(name, argc, "Collection was of a fixed size."))
                    }
                    "addrange" => {
                        let more = arg(&args, 0).enumerate();
                        grow(a, more.len()).map_err(|e| method_error(name, argc, &e.message))?;
                        a.items.borrow_mut().extend(more);
                        Ok(Value::Null)
                    }
                    "remove" => {
                        let x = arg(&args, 0);
                        let mut items = a.items.borrow_mut();
                        if let Some(i) = items
                            .iter()
                            .position(|y| crate::runtime::ops::equals(y, &x, true))
                        {
                            items.remove(i);
                            Ok(Value::Bool(true))
                        } else {
                            Ok(Value::Bool(false))
                        }
                    }
                    "removeat" => {
                        let i = to_i32(&arg(&args, 0)).map_err(Flow::error)?;
                        let mut items = a.items.borrow_mut();
                        if i < 0 || i as usize >= items.len() {
                            return Err(Flow::error(method_error(
                                name,
                                argc,
                                "Index was out of range. Must be non-negative and less than the size of the collection.",
                            )));
                        }
                        items.remove(i as usize);
                        Ok(Value::Null)
                    }
                    "insert" => {
                        let i = to_i32(&arg(&args, 0)).map_err(Flow::error)?;
                        let mut items = a.items.borrow_mut();
                        if i < 0 || i as usize > items.len() {
                            return Err(Flow::error(method_error(
                                name,
                                argc,
                                "Index must be within the bounds of the List.",
                            )));
                        }
                        items.insert(i as usize, arg(&args, 1));
                        Ok(Value::Null)
                    }
                    "clear" => {
                        a.items.borrow_mut().clear();
                        Ok(Value::Null)
                    }
                    "contains" => {
                        let x = arg(&args, 0);
                        Ok(Value::Bool(
                            a.items
                                .borrow()
                                .iter()
                                .any(|y| crate::runtime::ops::equals(y, &x, true)),
                        ))
                    }
                    "indexof" => {
                        let x = arg(&args, 0);
                        Ok(Value::from(
                            a.items
                                .borrow()
                                .iter()
                                .position(|y| crate::runtime::ops::equals(y, &x, true))
                                .map(|i| i as i64)
                                .unwrap_or(-1),
                        ))
                    }
                    "toarray" | "clone" => Ok(Value::array(a.to_vec())),
                    "getrange" => {
                        let start = to_i32(&arg(&args, 0)).map_err(Flow::error)?.max(0) as usize;
                        let count = to_i32(&arg(&args, 1)).map_err(Flow::error)?.max(0) as usize;
                        let items = a.items.borrow();
                        Ok(Value::array(
                            items.iter().skip(start).take(count).cloned().collect(),
                        ))
                    }
                    // A member collection (`$o.PSObject.Properties`) looks
                    // members up by name, `$null` when there is none; any
                    // other list takes a position, as IList's indexer does.
                    "item" if argc == 1 => {
                        let key = arg(&args, 0);
                        let items = a.items.borrow();
                        if let Value::String(wanted) = &key
                            && items.iter().all(is_member_info)
                        {
                            return Ok(items
                                .iter()
                                .find(|m| match m {
                                    Value::Object(o) => o.borrow().get("Name").is_some_and(|n| {
                                        n.to_string().eq_ignore_ascii_case(wanted)
                                    }),
                                    _ => false,
                                })
                                .cloned()
                                .unwrap_or_default());
                        }
                        let i = to_i32(&key).map_err(|e| method_error(name, argc, &e.message))?;
                        usize::try_from(i)
                            .ok()
                            .and_then(|i| items.get(i).cloned())
                            .ok_or_else(|| {
                                method_error(
                                    name,
                                    argc,
                                    "Index was outside the bounds of the array.",
                                )
                            })
                    }
                    "reverse" => {
                        a.items.borrow_mut().reverse();
                        Ok(Value::Null)
                    }
                    "sort" => {
                        let mut items = a.items.borrow_mut();
                        items.sort_by(|x, y| {
                            crate::runtime::ops::compare(x, y, false)
                                .unwrap_or(std::cmp::Ordering::Equal)
                        });
                        Ok(Value::Null)
                    }
                    _ => {
                        // Member enumeration: call the method on each element.
                        let items = a.to_vec();
                        if items.is_empty() {
                            return Err(Flow::error(no_method(v, name)));
                        }
                        let mut out = Vec::new();
                        for x in &items {
                            match self.call_method(x, name, args.clone()) {
                                Ok(Value::Null) => {}
                                Ok(r) => out.push(r),
                                Err(Flow::Error(_)) if out.is_empty() => {
                                    return Err(Flow::error(no_method(v, name)));
                                }
                                Err(e) => return Err(e),
                            }
                        }
                        return Ok(match out.len() {
                            1 => out.pop().unwrap_or_default(),
                            _ => Value::array(out),
                        });
                    }
                }
            }
            Value::Hashtable(h) => match lower.as_str() {
                "containskey" | "contains" => {
                    Ok(Value::Bool(h.borrow().get(&arg(&args, 0)).is_some()))
                }
                "containsvalue" => {
                    let x = arg(&args, 0);
                    Ok(Value::Bool(
                        h.borrow()
                            .entries()
                            .any(|(_, y)| crate::runtime::ops::equals(y, &x, false)),
                    ))
                }
                "add" => {
                    let k = arg(&args, 0);
                    budget::check_items(h.borrow().len().saturating_add(1))
                        .map_err(|e| Flow::error(method_error(name, args.len(), &e.message)))?;
                    if h.borrow_mut().add(k.clone(), arg(&args, 1)).is_err() {
                        return Err(Flow::error(method_error(
                            name,
                            args.len(),
                            &format!(
                                "Item has already been added. Key in dictionary: '{k}'  Key being added: '{k}'"
                            ),
                        )));
                    }
                    Ok(Value::Null)
                }
                "remove" => {
                    h.borrow_mut().remove(&arg(&args, 0));
                    Ok(Value::Null)
                }
                "clear" => {
                    h.borrow_mut().map.clear();
                    Ok(Value::Null)
                }
                "clone" => Ok(Value::hashtable(h.borrow().clone())),
                "getenumerator" => Ok(Value::array(
                    h.borrow()
                        .entries()
                        .map(|(k, v)| {
                            obj(
                                vec![
                                    ("Name", k.clone()),
                                    ("Key", k.clone()),
                                    ("Value", v.clone()),
                                ],
                                "System.Collections.DictionaryEntry",
                            )
                        })
                        .collect(),
                )),
                _ => Err(no_method(v, name)),
            },
            Value::Object(o)
                if o.borrow()
                    .type_names
                    .first()
                    .is_some_and(|t| &**t == super::powershell::POWERSHELL) =>
            {
                match self.powershell_method(v, name, &args) {
                    Some(r) => return r,
                    None => Err(no_method(v, name)),
                }
            }
            Value::Object(o)
                if o.borrow()
                    .type_names
                    .first()
                    .is_some_and(|t| &**t == SCRIPT_CMDLET) =>
            {
                match self.script_cmdlet_method(name, &args) {
                    Some(r) => return r,
                    None => Err(no_method(v, name)),
                }
            }
            Value::Object(o) => {
                // Methods added with Add-Member -MemberType ScriptMethod.
                let m = o.borrow().prop(name).map(|p| p.value.clone());
                match m {
                    Some(Value::ScriptBlock(sb)) => {
                        let saved = self.get_var("this").cloned();
                        self.set_local("this", v.clone());
                        let mut c = Collect::default();
                        let r = self.call_block(&sb, args, &mut c);
                        self.set_local("this", saved.unwrap_or_default());
                        r?;
                        return Ok(c.into_value());
                    }
                    _ => Err(no_method(v, name)),
                }
            }
            Value::DateTime(d) => {
                datetime_method(d, &lower, &args).unwrap_or_else(|| Err(no_method(v, name)))
            }
            Value::Int(_)
            | Value::Long(_)
            | Value::Double(_)
            | Value::Single(_)
            | Value::Decimal(_) => match lower.as_str() {
                "compareto" => Ok(Value::Int(
                    match crate::runtime::ops::compare(v, &arg(&args, 0), false) {
                        Ok(std::cmp::Ordering::Less) => -1,
                        Ok(std::cmp::Ordering::Greater) => 1,
                        _ => 0,
                    },
                )),
                _ => Err(no_method(v, name)),
            },
            Value::ScriptBlock(sb) => match lower.as_str() {
                "invoke" | "invokereturnasis" => {
                    let mut c = Collect::default();
                    let sb = sb.clone();
                    self.call_block(&sb, args, &mut c)?;
                    return Ok(c.into_value());
                }
                _ => Err(no_method(v, name)),
            },
            _ => Err(no_method(v, name)),
        };
        r.map_err(Flow::error)
    }

    pub(super) fn intrinsic_where(&mut self, v: &Value, args: &[Value]) -> Res<Value> {
        let Some(Value::ScriptBlock(sb)) = args.first() else {
            return Err(Flow::error(method_error(
                "Where",
                args.len(),
                "The Where() method needs a script block.",
            )));
        };
        let mut out = Vec::new();
        for item in v.enumerate() {
            if self.invoke_predicate(sb, item.clone())? {
                out.push(item);
            }
        }
        Ok(Value::list(out))
    }

    pub(super) fn intrinsic_foreach(&mut self, v: &Value, args: &[Value]) -> Res<Value> {
        let mut out = Collect::default();
        match args.first() {
            Some(Value::ScriptBlock(sb)) => {
                for item in v.enumerate() {
                    self.dot_invoke(sb, item, &mut out)?;
                }
            }
            Some(other) => {
                let name = other.to_string();
                for item in v.enumerate() {
                    let m = self.get_member(&item, &name).map_err(Flow::error)?;
                    out.0.push(m);
                }
            }
            None => {}
        }
        Ok(Value::list(out.0))
    }
}

pub(super) fn string_method(s: &str, name: &str, args: &[Value]) -> Result<Value, ErrorRecord> {
    let argc = args.len();
    let ci = |i: usize| {
        args.get(i)
            .map(|v| v.to_string().to_ascii_lowercase().contains("ignorecase"))
            .unwrap_or(false)
    };
    let chars = || s.chars().collect::<Vec<char>>();
    Ok(match name {
        "toupper" | "toupperinvariant" => Value::from(s.to_uppercase()),
        "tolower" | "tolowerinvariant" => Value::from(s.to_lowercase()),
        "trim" | "trimstart" | "trimend" => {
            let set: Vec<char> = args
                .iter()
                .flat_map(|a| a.to_string().chars().collect::<Vec<_>>())
                .collect();
            let pred = |c: char| {
                if set.is_empty() {
                    c.is_whitespace()
                } else {
                    set.contains(&c)
                }
            };
            Value::from(match name {
                "trim" => s.trim_matches(pred),
                "trimstart" => s.trim_start_matches(pred),
                _ => s.trim_end_matches(pred),
            })
        }
        "split" => {
            let seps: Vec<String> = args
                .iter()
                .take_while(|a| !matches!(a, Value::Int(_)))
                .flat_map(|a| a.enumerate())
                .map(|a| a.to_string())
                .collect();
            // One piece more than there are separators: count before building.
            let pieces: usize = if seps.is_empty() {
                s.chars().filter(|c| c.is_whitespace()).count()
            } else {
                seps.iter().map(|x| s.matches(x.as_str()).count()).sum()
            };
            budget::check_items(pieces.saturating_add(1))
                .map_err(|e| method_error("Split", argc, &e.message))?;
            let parts: Vec<Value> = if seps.is_empty() {
                s.split(char::is_whitespace).map(Value::from).collect()
            } else if seps.iter().all(|x| x.chars().count() == 1) {
                let cs: Vec<char> = seps.iter().filter_map(|x| x.chars().next()).collect();
                s.split(|c| cs.contains(&c)).map(Value::from).collect()
            } else {
                let mut out = vec![s.to_string()];
                for sep in &seps {
                    out = out
                        .iter()
                        .flat_map(|p| {
                            p.split(sep.as_str())
                                .map(str::to_string)
                                .collect::<Vec<_>>()
                        })
                        .collect();
                }
                out.into_iter().map(Value::from).collect()
            };
            Value::array(parts)
        }
        "replace" => {
            let from = args.first().map(|a| a.to_string()).unwrap_or_default();
            if from.is_empty() {
                return Err(method_error(
                    "Replace",
                    argc,
                    "String cannot be of zero length.",
                ));
            }
            let to = args.get(1).map(|a| a.to_string()).unwrap_or_default();
            if to.len() > from.len() {
                let grows = (to.len() - from.len()).saturating_mul(s.matches(&from).count());
                budget::check_string(s.len().saturating_add(grows))
                    .map_err(|e| method_error("Replace", argc, &e.message))?;
            }
            Value::from(s.replace(&from, &to))
        }
        "contains" => {
            let x = args.first().map(|a| a.to_string()).unwrap_or_default();
            Value::Bool(if ci(1) {
                s.to_lowercase().contains(&x.to_lowercase())
            } else {
                s.contains(&x)
            })
        }
        "startswith" | "endswith" => {
            let x = args.first().map(|a| a.to_string()).unwrap_or_default();
            let (hay, needle) = if ci(1) {
                (s.to_lowercase(), x.to_lowercase())
            } else {
                (s.to_string(), x)
            };
            Value::Bool(if name == "startswith" {
                hay.starts_with(&needle)
            } else {
                hay.ends_with(&needle)
            })
        }
        "substring" => {
            let c = chars();
            let start = to_i32(&arg(args, 0))?;
            if start < 0 || start as usize > c.len() {
                return Err(method_error(
                    "Substring",
                    argc,
                    "startIndex cannot be larger than length of string. (Parameter 'startIndex')",
                ));
            }
            let start = start as usize;
            let len = if argc > 1 {
                to_i32(&arg(args, 1))?
            } else {
                (c.len() - start) as i32
            };
            if len < 0 || start + len as usize > c.len() {
                return Err(method_error(
                    "Substring",
                    argc,
                    "Index and length must refer to a location within the string. (Parameter 'length')",
                ));
            }
            Value::from(c[start..start + len as usize].iter().collect::<String>())
        }
        "indexof" | "lastindexof" => {
            let x = args.first().map(|a| a.to_string()).unwrap_or_default();
            let (hay, needle) = if ci(1) {
                (s.to_lowercase(), x.to_lowercase())
            } else {
                (s.to_string(), x)
            };
            let found = if name == "indexof" {
                hay.find(&needle)
            } else {
                hay.rfind(&needle)
            };
            Value::from(found.map(|b| hay[..b].chars().count() as i64).unwrap_or(-1))
        }
        "padleft" | "padright" => {
            let method = if name == "padleft" {
                "PadLeft"
            } else {
                "PadRight"
            };
            let width = to_i32(&arg(args, 0))?;
            let Ok(width) = usize::try_from(width) else {
                return Err(method_error(
                    method,
                    argc,
                    "Non-negative number required. (Parameter 'totalWidth')",
                ));
            };
            let ch = args
                .get(1)
                .and_then(|c| c.to_string().chars().next())
                .unwrap_or(' ');
            let n = s.chars().count();
            let padded = || -> Result<String, ErrorRecord> {
                let mut out = budget::TextBuf::new();
                if name == "padright" {
                    out.push_str(s)?;
                }
                out.repeat(ch, width.saturating_sub(n))?;
                if name == "padleft" {
                    out.push_str(s)?;
                }
                Ok(out.into_string())
            };
            Value::from(padded().map_err(|e| method_error(method, argc, &e.message))?)
        }
        "insert" => {
            budget::check_string(s.len().saturating_add(arg(args, 1).text_len()))
                .map_err(|e| method_error("Insert", argc, &e.message))?;
            let c = chars();
            let i = (to_i32(&arg(args, 0))?.max(0) as usize).min(c.len());
            let ins = arg_str(args, 1);
            Value::from(format!(
                "{}{}{}",
                c[..i].iter().collect::<String>(),
                ins,
                c[i..].iter().collect::<String>()
            ))
        }
        "remove" => {
            let c = chars();
            let i = (to_i32(&arg(args, 0))?.max(0) as usize).min(c.len());
            let n = if argc > 1 {
                to_i32(&arg(args, 1))?.max(0) as usize
            } else {
                c.len() - i
            };
            let end = (i + n).min(c.len());
            Value::from(format!(
                "{}{}",
                c[..i].iter().collect::<String>(),
                c[end..].iter().collect::<String>()
            ))
        }
        "tochararray" => {
            let mut out = budget::vec_for(s.chars().count())
                .map_err(|e| method_error("ToCharArray", argc, &e.message))?;
            out.extend(s.chars().map(Value::Char));
            Value::array(out)
        }
        "compareto" => Value::Int(
            match crate::runtime::ops::compare(&Value::from(s), &arg(args, 0), false)? {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            },
        ),
        "normalize" | "clone" => Value::from(s),
        "getbytes" => {
            let mut out =
                budget::vec_for(s.len()).map_err(|e| method_error("GetBytes", argc, &e.message))?;
            out.extend(s.bytes().map(|b| Value::Int(b as i32)));
            Value::array(out)
        }
        _ => return Err(no_method(&Value::from(s), name)),
    })
}

pub(super) fn datetime_member(d: &chrono::NaiveDateTime, name: &str) -> Value {
    use chrono::{Datelike, Timelike};
    match name {
        "year" => Value::Int(d.year()),
        "month" => Value::Int(d.month() as i32),
        "day" => Value::Int(d.day() as i32),
        "hour" => Value::Int(d.hour() as i32),
        "minute" => Value::Int(d.minute() as i32),
        "second" => Value::Int(d.second() as i32),
        "millisecond" => Value::Int((d.nanosecond() / 1_000_000) as i32),
        "dayofweek" => Value::from(d.format("%A").to_string()),
        "dayofyear" => Value::Int(d.ordinal() as i32),
        "date" => Value::DateTime(d.date().and_hms_opt(0, 0, 0).unwrap_or(*d)),
        "ticks" => Value::Long(crate::runtime::convert::ticks(d)),
        "timeofday" => Value::TimeSpan(*d - d.date().and_hms_opt(0, 0, 0).unwrap_or(*d)),
        "kind" => Value::from("Local"),
        _ => Value::Null,
    }
}

pub(super) fn datetime_method(
    d: &chrono::NaiveDateTime,
    name: &str,
    args: &[Value],
) -> Option<Result<Value, ErrorRecord>> {
    use chrono::{Datelike, Months};
    let f = to_f64(&arg(args, 0)).unwrap_or(0.0);
    let argc = args.len();
    // .NET rounds the amount to whole milliseconds (ticks for AddTicks)
    // and refuses a sum outside years 1 to 9999.
    let add = |method: &str, ms: f64| -> Result<Value, ErrorRecord> {
        crate::runtime::dates::add_ms(d, ms)
            .map(Value::DateTime)
            .ok_or_else(|| {
                method_error(
                    method,
                    argc,
                    "Value to add was out of range. (Parameter 'value')",
                )
            })
    };
    Some(match name {
        "adddays" => add("AddDays", f * 86_400_000.0),
        "addhours" => add("AddHours", f * 3_600_000.0),
        "addminutes" => add("AddMinutes", f * 60_000.0),
        "addseconds" => add("AddSeconds", f * 1000.0),
        "addmilliseconds" => add("AddMilliseconds", f),
        "addmonths" | "addyears" => {
            let (method, per) = if name == "addyears" {
                ("AddYears", 12.0)
            } else {
                ("AddMonths", 1.0)
            };
            let n = (f * per).trunc();
            let months = (n.abs() <= 120_000.0).then(|| Months::new(n.abs() as u32));
            let r = months.and_then(|m| {
                if n >= 0.0 {
                    d.checked_add_months(m)
                } else {
                    d.checked_sub_months(m)
                }
            });
            match r.filter(crate::runtime::dates::in_range) {
                Some(r) => Ok(Value::DateTime(r)),
                None => Err(method_error(
                    method,
                    argc,
                    "The added or subtracted value results in an un-representable DateTime. (Parameter 'months')",
                )),
            }
        }
        "subtract" => match arg(args, 0) {
            o @ (Value::DateTime(_) | Value::TimeSpan(_)) => {
                crate::runtime::ops::sub(&Value::DateTime(*d), &o)
                    .map_err(|e| method_error("Subtract", argc, &e.message))
            }
            _ => return None,
        },
        "toshortdatestring" => Ok(Value::from(crate::runtime::dotnet_format::format_datetime(
            d, "d",
        ))),
        "tolongdatestring" => Ok(Value::from(crate::runtime::dotnet_format::format_datetime(
            d, "D",
        ))),
        "toshorttimestring" => Ok(Value::from(crate::runtime::dotnet_format::format_datetime(
            d, "t",
        ))),
        "tolongtimestring" => Ok(Value::from(crate::runtime::dotnet_format::format_datetime(
            d, "T",
        ))),
        "touniversaltime" => Ok(Value::DateTime(
            d.and_local_timezone(chrono::Local)
                .single()
                .map(|x| x.naive_utc())
                .unwrap_or(*d),
        )),
        "tolocaltime" => Ok(Value::DateTime(
            chrono::DateTime::<chrono::Utc>::from_naive_utc_and_offset(*d, chrono::Utc)
                .with_timezone(&chrono::Local)
                .naive_local(),
        )),
        "isdaylightsavingtime" => Ok(Value::Bool(false)),
        "getdatetimeformats" => Ok(Value::array(vec![])),
        _ => {
            let _ = d.year();
            return None;
        }
    })
}

pub(super) fn timespan_member(t: &chrono::TimeDelta, name: &str) -> Value {
    let ms = t.num_milliseconds() as f64;
    match name {
        "days" => Value::from(t.num_days()),
        "hours" => Value::from(t.num_hours() % 24),
        "minutes" => Value::from(t.num_minutes() % 60),
        "seconds" => Value::from(t.num_seconds() % 60),
        "milliseconds" => Value::from(t.num_milliseconds() % 1000),
        "totaldays" => Value::Double(ms / 86_400_000.0),
        "totalhours" => Value::Double(ms / 3_600_000.0),
        "totalminutes" => Value::Double(ms / 60_000.0),
        "totalseconds" => Value::Double(ms / 1000.0),
        "totalmilliseconds" => Value::Double(ms),
        "ticks" => Value::Long(t.num_nanoseconds().unwrap_or(0) / 100),
        _ => Value::Null,
    }
}

/// Room for `more` items in a growable list, within the item limit.
fn grow(a: &PsArray, more: usize) -> Result<(), ErrorRecord> {
    budget::check_items(a.len().saturating_add(more))?;
    a.items
        .borrow_mut()
        .try_reserve(more)
        .map_err(|_| budget::too_large())
}

/// Whether a value describes a member (a PSNoteProperty and the like), as
/// the elements of `.PSObject.Properties` do.
fn is_member_info(v: &Value) -> bool {
    match v {
        Value::Object(o) => {
            let o = o.borrow();
            let t = o.type_name();
            t.starts_with("System.Management.Automation.PS")
                && (t.ends_with("Property") || t.ends_with("Method") || t.ends_with("Info"))
        }
        _ => false,
    }
}
