//! Static members of the .NET types scripts use: `[math]::Round()`,
//! `[string]::Join()`, `[datetime]::Now`, `[guid]::NewGuid()`, `[T]::new()`.

use super::*;

impl Interp {
    pub fn static_member(&mut self, t: &PsType, name: &str) -> Result<Value, ErrorRecord> {
        let lower = name.to_ascii_lowercase();
        if let PsType::Script(st) = t
            && let Some(v) = self.class_static_member(st, name)
        {
            return Ok(v);
        }
        let v = match (t, lower.as_str()) {
            (PsType::Int, "maxvalue") => Value::Int(i32::MAX),
            (PsType::Int, "minvalue") => Value::Int(i32::MIN),
            (PsType::Long, "maxvalue") => Value::Long(i64::MAX),
            (PsType::Long, "minvalue") => Value::Long(i64::MIN),
            (PsType::Double, "maxvalue") => Value::Double(f64::MAX),
            (PsType::Double, "minvalue") => Value::Double(f64::MIN),
            (PsType::Double, "nan") => Value::Double(f64::NAN),
            (PsType::Double, "positiveinfinity") => Value::Double(f64::INFINITY),
            (PsType::Double, "negativeinfinity") => Value::Double(f64::NEG_INFINITY),
            (PsType::Single, "maxvalue") => Value::Single(f32::MAX),
            (PsType::Single, "minvalue") => Value::Single(f32::MIN),
            (PsType::String, "empty") => Value::from(""),
            (PsType::DateTime, "now") => Value::DateTime(chrono::Local::now().naive_local()),
            (PsType::DateTime, "today") => Value::DateTime(
                chrono::Local::now()
                    .date_naive()
                    .and_hms_opt(0, 0, 0)
                    .unwrap_or_default(),
            ),
            (PsType::DateTime, "utcnow") => Value::DateTime(chrono::Utc::now().naive_utc()),
            (PsType::Guid, "empty") => Value::Guid([0; 16]),
            (PsType::Static(n), "pi") if &**n == "System.Math" => {
                Value::Double(std::f64::consts::PI)
            }
            (PsType::Static(n), "e") if &**n == "System.Math" => Value::Double(std::f64::consts::E),
            (PsType::Static(n), "newline") if &**n == "System.Environment" => Value::from("\n"),
            (PsType::Static(n), "machinename") if &**n == "System.Environment" => Value::from(
                self.env
                    .get("HOSTNAME")
                    .cloned()
                    .unwrap_or_else(|| "localhost".into()),
            ),
            (PsType::Static(n), "username") if &**n == "System.Environment" => {
                Value::from(self.env.get("USER").cloned().unwrap_or_default())
            }
            (PsType::Static(n), "directoryseparatorchar") if &**n == "System.IO.Path" => {
                Value::Char('/')
            }
            _ => {
                return Err(ErrorRecord::new(
                    format!(
                        "The static property '{name}' of [{}] is not available in lyncsh.",
                        t.full_name()
                    ),
                    "PropertyNotFound",
                    ErrorCategory::InvalidOperation,
                ));
            }
        };
        Ok(v)
    }

    pub fn call_static(&mut self, t: &PsType, name: &str, args: Vec<Value>) -> Res<Value> {
        let lower = name.to_ascii_lowercase();
        let argc = args.len();
        let e = |r: Result<Value, ErrorRecord>| r.map_err(Flow::error);
        let num = |i: usize| to_f64(&arg(&args, i)).map_err(Flow::error);
        if let PsType::Script(st) = t {
            return self.call_class_static(st, name, args);
        }
        if let PsType::Static(n) = t
            && &**n == "System.Enum"
            && let Some(r) = crate::runtime::classes::enum_static(&lower, &args)
        {
            return e(r);
        }
        if lower == "new" {
            return e(construct(t, &args));
        }
        if lower == "referenceequals" && argc == 2 {
            // Every type inherits Object's: the same object, not equal values.
            return Ok(Value::Bool(same_object(&args[0], &args[1])));
        }
        match t {
            PsType::Static(n) if &**n == super::powershell::POWERSHELL && lower == "create" => {
                Ok(super::powershell::create())
            }
            PsType::Static(n) if &**n == "System.Math" => {
                let v = match lower.as_str() {
                    "round" => {
                        let x = arg(&args, 0);
                        let digits = if argc > 1 {
                            to_i32(&arg(&args, 1)).map_err(Flow::error)?
                        } else {
                            0
                        };
                        if let Value::Decimal(d) = x {
                            Value::Decimal(d.round_dp_with_strategy(
                                digits.max(0) as u32,
                                rust_decimal::RoundingStrategy::MidpointNearestEven,
                            ))
                        } else {
                            let f = num(0)?;
                            let scale = 10f64.powi(digits);
                            Value::Double((f * scale).round_ties_even() / scale)
                        }
                    }
                    "floor" => Value::Double(num(0)?.floor()),
                    "ceiling" => Value::Double(num(0)?.ceil()),
                    "truncate" => Value::Double(num(0)?.trunc()),
                    "abs" => match arg(&args, 0) {
                        Value::Int(i) => Value::from((i as i64).abs()),
                        Value::Long(i) => Value::Long(i.saturating_abs()),
                        _ => Value::Double(num(0)?.abs()),
                    },
                    "sqrt" => Value::Double(num(0)?.sqrt()),
                    "pow" => Value::Double(num(0)?.powf(num(1)?)),
                    "log" => {
                        if argc > 1 {
                            Value::Double(num(0)?.log(num(1)?))
                        } else {
                            Value::Double(num(0)?.ln())
                        }
                    }
                    "log10" => Value::Double(num(0)?.log10()),
                    "exp" => Value::Double(num(0)?.exp()),
                    "max" | "min" => {
                        let (a, b) = (arg(&args, 0), arg(&args, 1));
                        let ord =
                            crate::runtime::ops::compare(&a, &b, false).map_err(Flow::error)?;
                        let pick_a = (ord == std::cmp::Ordering::Greater) == (lower == "max");
                        if pick_a { a } else { b }
                    }
                    "sign" => Value::Int(num(0)?.signum() as i32),
                    _ => {
                        return Err(Flow::error(no_method(
                            &Value::Type(Rc::new(t.clone())),
                            name,
                        )));
                    }
                };
                Ok(v)
            }
            PsType::String => match lower.as_str() {
                "isnullorempty" => Ok(Value::Bool(match arg(&args, 0) {
                    Value::Null => true,
                    v => v.to_string().is_empty(),
                })),
                "isnullorwhitespace" => {
                    Ok(Value::Bool(arg(&args, 0).to_string().trim().is_empty()))
                }
                "join" => {
                    let sep = arg_str(&args, 0);
                    let items: Vec<Value> = if argc == 2 {
                        arg(&args, 1).enumerate()
                    } else {
                        args.get(1..).unwrap_or_default().to_vec()
                    };
                    e(crate::runtime::ops::join(&Value::array(items), &sep))
                }
                "concat" => e(crate::runtime::ops::join(&Value::array(args.clone()), "")),
                "format" => e(crate::runtime::dotnet_format::composite(
                    &arg_str(&args, 0),
                    &args[1.min(argc)..],
                )
                .map(Value::from)),
                "equals" => Ok(Value::Bool(arg_str(&args, 0) == arg_str(&args, 1))),
                "compare" => Ok(Value::Int(
                    match crate::runtime::ops::compare(
                        &arg(&args, 0),
                        &arg(&args, 1),
                        !(argc > 2 && arg(&args, 2).is_true()),
                    ) {
                        Ok(std::cmp::Ordering::Less) => -1,
                        Ok(std::cmp::Ordering::Greater) => 1,
                        _ => 0,
                    },
                )),
                _ => Err(Flow::error(no_method(
                    &Value::Type(Rc::new(t.clone())),
                    name,
                ))),
            },
            PsType::Int
            | PsType::Long
            | PsType::Double
            | PsType::Single
            | PsType::Decimal
            | PsType::Bool
            | PsType::DateTime
            | PsType::Guid
                if lower == "parse" =>
            {
                e(convert_to(&Value::from(arg_str(&args, 0)), t)
                    .map_err(|err| method_error(name, argc, &err.message)))
            }
            PsType::DateTime if lower == "parseexact" => {
                let s = arg_str(&args, 0);
                let fmt = dotnet_to_chrono(&arg_str(&args, 1));
                chrono::NaiveDateTime::parse_from_str(&s, &fmt)
                    .or_else(|_| {
                        chrono::NaiveDate::parse_from_str(&s, &fmt)
                            .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
                    })
                    .map(Value::DateTime)
                    .map_err(|_| {
                        Flow::error(method_error(
                            name,
                            argc,
                            &format!("String '{s}' was not recognized as a valid DateTime."),
                        ))
                    })
            }
            PsType::DateTime if lower == "daysinmonth" => {
                let y = to_i32(&arg(&args, 0)).map_err(Flow::error)?;
                let m = to_i32(&arg(&args, 1)).map_err(Flow::error)? as u32;
                if !(1..=9999).contains(&y) {
                    return Err(Flow::error(method_error(
                        name,
                        argc,
                        "Year must be between 1 and 9999. (Parameter 'year')",
                    )));
                }
                let first = chrono::NaiveDate::from_ymd_opt(y, m, 1);
                let next = if m == 12 {
                    y.checked_add(1)
                        .and_then(|y| chrono::NaiveDate::from_ymd_opt(y, 1, 1))
                } else {
                    m.checked_add(1)
                        .and_then(|m| chrono::NaiveDate::from_ymd_opt(y, m, 1))
                };
                match (first, next) {
                    (Some(a), Some(b)) => Ok(Value::from((b - a).num_days())),
                    _ => Err(Flow::error(method_error(
                        name,
                        argc,
                        "Month must be between one and twelve.",
                    ))),
                }
            }
            PsType::Guid if lower == "newguid" => {
                let mut bytes = [0u8; 16];
                fill_random(&mut bytes);
                bytes[6] = (bytes[6] & 0x0f) | 0x40;
                bytes[8] = (bytes[8] & 0x3f) | 0x80;
                Ok(Value::Guid(bytes))
            }
            PsType::TimeSpan => {
                let f = num(0)?;
                let ms = match lower.as_str() {
                    "fromdays" => f * 86_400_000.0,
                    "fromhours" => f * 3_600_000.0,
                    "fromminutes" => f * 60_000.0,
                    "fromseconds" => f * 1000.0,
                    "frommilliseconds" => f,
                    _ => {
                        return Err(Flow::error(no_method(
                            &Value::Type(Rc::new(t.clone())),
                            name,
                        )));
                    }
                };
                crate::runtime::dates::span_ms(ms)
                    .map(Value::TimeSpan)
                    .ok_or_else(|| Flow::error(crate::runtime::dates::span_overflow()))
            }
            PsType::Char => {
                let c = arg_str(&args, 0).chars().next().unwrap_or('\0');
                let b = match lower.as_str() {
                    "isdigit" => c.is_ascii_digit(),
                    "isletter" => c.is_alphabetic(),
                    "isletterordigit" => c.is_alphanumeric(),
                    "iswhitespace" => c.is_whitespace(),
                    "isupper" => c.is_uppercase(),
                    "islower" => c.is_lowercase(),
                    "ispunctuation" => c.is_ascii_punctuation(),
                    _ => {
                        return Err(Flow::error(no_method(
                            &Value::Type(Rc::new(t.clone())),
                            name,
                        )));
                    }
                };
                Ok(Value::Bool(b))
            }
            PsType::Regex | PsType::Static(_)
                if matches!(t, PsType::Regex)
                    || t.full_name() == "System.Text.RegularExpressions.Regex" =>
            {
                match lower.as_str() {
                    "escape" => Ok(Value::from(regex::escape(&arg_str(&args, 0)))),
                    "ismatch" => {
                        let re = crate::runtime::regex_cache::get(&arg_str(&args, 1), true)
                            .map_err(Flow::error)?;
                        Ok(Value::Bool(re.is_match(&arg_str(&args, 0))))
                    }
                    "replace" => {
                        let re = crate::runtime::regex_cache::get(&arg_str(&args, 1), true)
                            .map_err(Flow::error)?;
                        let rep =
                            crate::runtime::regex_cache::dotnet_replacement(&arg_str(&args, 2));
                        Ok(Value::from(
                            re.replace_all(&arg_str(&args, 0), rep.as_str())
                                .into_owned(),
                        ))
                    }
                    "split" => {
                        let re = crate::runtime::regex_cache::get(&arg_str(&args, 1), true)
                            .map_err(Flow::error)?;
                        Ok(Value::array(
                            re.split(&arg_str(&args, 0)).map(Value::from).collect(),
                        ))
                    }
                    "matches" | "match" => {
                        let re = crate::runtime::regex_cache::get(&arg_str(&args, 1), true)
                            .map_err(Flow::error)?;
                        let text = arg_str(&args, 0);
                        let ms: Vec<Value> = re
                            .captures_iter(&text)
                            .map(|c| {
                                let m = c.get(0);
                                let groups: Vec<Value> = c
                                    .iter()
                                    .map(|g| {
                                        obj(
                                            vec![
                                                (
                                                    "Value",
                                                    Value::from(
                                                        g.map(|g| g.as_str()).unwrap_or(""),
                                                    ),
                                                ),
                                                ("Success", Value::Bool(g.is_some())),
                                            ],
                                            "System.Text.RegularExpressions.Group",
                                        )
                                    })
                                    .collect();
                                obj(
                                    vec![
                                        ("Value", Value::from(m.map(|m| m.as_str()).unwrap_or(""))),
                                        ("Index", Value::from(m.map(|m| m.start()).unwrap_or(0))),
                                        ("Success", Value::Bool(true)),
                                        ("Groups", Value::array(groups)),
                                    ],
                                    "System.Text.RegularExpressions.Match",
                                )
                            })
                            .collect();
                        if lower == "match" {
                            Ok(ms.into_iter().next().unwrap_or_else(|| {
                                obj(
                                    vec![
                                        ("Value", Value::from("")),
                                        ("Success", Value::Bool(false)),
                                    ],
                                    "System.Text.RegularExpressions.Match",
                                )
                            }))
                        } else {
                            Ok(Value::array(ms))
                        }
                    }
                    _ => Err(Flow::error(no_method(
                        &Value::Type(Rc::new(t.clone())),
                        name,
                    ))),
                }
            }
            PsType::Static(n) if &**n == "System.IO.Path" => {
                let p = std::path::Path::new(&arg_str(&args, 0)).to_path_buf();
                let s = |o: Option<&std::ffi::OsStr>| {
                    Value::from(
                        o.map(|x| x.to_string_lossy().to_string())
                            .unwrap_or_default(),
                    )
                };
                Ok(match lower.as_str() {
                    "combine" => {
                        let mut out = std::path::PathBuf::new();
                        for a in &args {
                            out.push(a.to_string());
                        }
                        Value::from(out.display().to_string())
                    }
                    "getfilename" => s(p.file_name()),
                    "getfilenamewithoutextension" => s(p.file_stem()),
                    "getextension" => Value::from(
                        p.extension()
                            .map(|x| format!(".{}", x.to_string_lossy()))
                            .unwrap_or_default(),
                    ),
                    "getdirectoryname" => Value::from(
                        p.parent()
                            .map(|x| x.display().to_string())
                            .unwrap_or_default(),
                    ),
                    "gettemppath" => Value::from(format!("{}/", std::env::temp_dir().display())),
                    "isrooted" | "ispathrooted" => Value::Bool(p.is_absolute()),
                    _ => {
                        return Err(Flow::error(no_method(
                            &Value::Type(Rc::new(t.clone())),
                            name,
                        )));
                    }
                })
            }
            PsType::Static(n) if &**n == "System.Environment" => match lower.as_str() {
                "getenvironmentvariable" => {
                    let k = arg_str(&args, 0);
                    Ok(self
                        .env
                        .iter()
                        .find(|(x, _)| x.eq_ignore_ascii_case(&k))
                        .map(|(_, v)| Value::from(v.as_str()))
                        .unwrap_or_default())
                }
                _ => Err(Flow::error(no_method(
                    &Value::Type(Rc::new(t.clone())),
                    name,
                ))),
            },
            PsType::Static(n) if &**n == "System.Convert" => match lower.as_str() {
                "toint32" | "toint64" => {
                    if argc > 1 {
                        let base = to_i32(&arg(&args, 1)).map_err(Flow::error)? as u32;
                        i64::from_str_radix(arg_str(&args, 0).trim_start_matches("0x"), base)
                            .map(Value::from)
                            .map_err(|_| {
                                Flow::error(method_error(
                                    name,
                                    argc,
                                    "Could not find any recognizable digits.",
                                ))
                            })
                    } else {
                        e(convert_to(
                            &arg(&args, 0),
                            if lower == "toint32" {
                                &PsType::Int
                            } else {
                                &PsType::Long
                            },
                        ))
                    }
                }
                "tostring" => Ok(Value::from(arg_str(&args, 0))),
                "toboolean" => Ok(Value::Bool(arg(&args, 0).is_true())),
                "todouble" => e(convert_to(&arg(&args, 0), &PsType::Double)),
                _ => Err(Flow::error(no_method(
                    &Value::Type(Rc::new(t.clone())),
                    name,
                ))),
            },
            _ => Err(Flow::error(no_method(
                &Value::Type(Rc::new(t.clone())),
                name,
            ))),
        }
    }
}

/// `[T]::new(args)`: collections, exceptions, and simple values.
pub(super) fn construct(t: &PsType, args: &[Value]) -> Result<Value, ErrorRecord> {
    Ok(match t {
        PsType::List => Value::list(
            args.first()
                .map(|a| match a {
                    Value::Array(_) => a.enumerate(),
                    _ => Vec::new(),
                })
                .unwrap_or_default(),
        ),
        PsType::Hashtable => Value::hashtable(Hashtable::new(false)),
        PsType::Ordered => Value::hashtable(Hashtable::new(true)),
        PsType::PsCustomObject | PsType::PsObject | PsType::Object => {
            Value::object(PsObject::custom())
        }
        PsType::Exception(n) => {
            let msg = args
                .first()
                .map(|a| a.to_string())
                .unwrap_or_else(|| format!("Exception of type '{n}' was thrown."));
            Value::Error(Rc::new(
                ErrorRecord::new(
                    msg,
                    n.rsplit('.').next().unwrap_or("Exception"),
                    ErrorCategory::NotSpecified,
                )
                .with_exception(n),
            ))
        }
        PsType::String => Value::from(args.iter().map(|a| a.to_string()).collect::<String>()),
        PsType::DateTime => {
            let n: Vec<i32> = args.iter().map(|a| to_i32(a).unwrap_or(0)).collect();
            let g = |i: usize, d: i32| n.get(i).copied().unwrap_or(d);
            chrono::NaiveDate::from_ymd_opt(g(0, 1), g(1, 1) as u32, g(2, 1) as u32)
                .and_then(|d| d.and_hms_opt(g(3, 0) as u32, g(4, 0) as u32, g(5, 0) as u32))
                .map(Value::DateTime)
                .ok_or_else(|| {
                    method_error(
                        "new",
                        args.len(),
                        "Year, Month, and Day parameters describe an un-representable DateTime.",
                    )
                })?
        }
        PsType::TimeSpan => {
            let n: Vec<i64> = args
                .iter()
                .map(|a| convert::to_i64(a, "System.Int64").unwrap_or(0))
                .collect();
            // days, hours, minutes, seconds from the right; checked, as
            // .NET refuses a span past its range.
            let secs = |d: i64, h: i64, m: i64, s: i64| {
                d.checked_mul(86_400)?
                    .checked_add(h.checked_mul(3600)?)?
                    .checked_add(m.checked_mul(60)?)?
                    .checked_add(s)
            };
            let span = match n.as_slice() {
                [ticks] => {
                    return Ok(Value::TimeSpan(chrono::TimeDelta::nanoseconds(
                        ticks.saturating_mul(100),
                    )));
                }
                [h, m, s] => secs(0, *h, *m, *s),
                [d, h, m, s] => secs(*d, *h, *m, *s),
                _ => Some(0),
            }
            .and_then(crate::runtime::dates::span_secs);
            Value::TimeSpan(span.ok_or_else(crate::runtime::dates::span_overflow)?)
        }
        other => {
            return Err(ErrorRecord::new(
                format!(
                    "lyncsh cannot create objects of type [{}].",
                    other.full_name()
                ),
                "CannotCreateType",
                ErrorCategory::InvalidType,
            ));
        }
    })
}

/// Best-effort randomness without another dependency: hashing the time,
/// the process id and a counter through the std hasher's random keys.
pub fn fill_random(buf: &mut [u8]) {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    for chunk in buf.chunks_mut(8) {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        let bytes = h.finish().to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}

pub(super) fn dotnet_to_chrono(f: &str) -> String {
    f.replace("yyyy", "%Y")
        .replace("MM", "%m")
        .replace("dd", "%d")
        .replace("HH", "%H")
        .replace("mm", "%M")
        .replace("ss", "%S")
}

/// `[object]::ReferenceEquals`: both `$null`, or one collection, object or
/// block; values such as numbers and strings are never the same object.
fn same_object(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Array(x), Value::Array(y)) => Rc::ptr_eq(x, y),
        (Value::Hashtable(x), Value::Hashtable(y)) => Rc::ptr_eq(x, y),
        (Value::Object(x), Value::Object(y)) => Rc::ptr_eq(x, y),
        (Value::ScriptBlock(x), Value::ScriptBlock(y)) => Rc::ptr_eq(x, y),
        (Value::Error(x), Value::Error(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}
