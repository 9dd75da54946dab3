//! Properties and methods: `$x.Name`, `$s.ToUpper()`, member enumeration
//! (`$users.SipAddress`), the intrinsic `.Count`/`.Length`/`.Where()`/
//! `.ForEach()`, and the static members of the few .NET types scripts use.

use std::rc::Rc;

use super::convert::{self, convert_to, to_f64, to_i32};
use super::error::{ErrorCategory, ErrorRecord, Flow, Res};
use super::interp::{Collect, Interp};
use super::types::PsType;
use super::value::{Hashtable, PsObject, Value};

fn method_error(name: &str, argc: usize, msg: &str) -> ErrorRecord {
    ErrorRecord::new(
        format!("Exception calling \"{name}\" with \"{argc}\" argument(s): \"{msg}\""),
        "MethodInvocationException",
        ErrorCategory::NotSpecified,
    )
    .with_exception("System.Management.Automation.MethodInvocationException")
}

fn no_method(v: &Value, name: &str) -> ErrorRecord {
    if matches!(v, Value::Null) {
        return ErrorRecord::new(
            "You cannot call a method on a null-valued expression.",
            "InvokeMethodOnNull",
            ErrorCategory::InvalidOperation,
        );
    }
    let t = match v {
        Value::Type(t) => t.full_name(),
        other => other.type_name().to_string(),
    };
    ErrorRecord::new(
        format!("Method invocation failed because [{t}] does not contain a method named '{name}'."),
        "MethodNotFound",
        ErrorCategory::InvalidOperation,
    )
    .with_target(v.clone())
}

fn arg(args: &[Value], i: usize) -> Value {
    args.get(i).cloned().unwrap_or_default()
}

fn arg_str(args: &[Value], i: usize) -> String {
    args.get(i).map(|v| v.to_string()).unwrap_or_default()
}

fn obj(pairs: Vec<(&str, Value)>, type_name: &str) -> Value {
    let mut o = PsObject::with_type(Rc::from(vec![
        Rc::from(type_name),
        Rc::from("System.Object"),
    ]));
    for (k, v) in pairs {
        o.props.push(super::value::Prop {
            kind: super::value::PropKind::Property,
            ..super::value::Prop::note(k, v)
        });
    }
    Value::object(o)
}

impl Interp {
    /// `$x.Name`. Missing properties are `$null`, as without strict mode.
    pub fn get_member(&mut self, v: &Value, name: &str) -> Result<Value, ErrorRecord> {
        let lower = name.to_ascii_lowercase();
        Ok(match v {
            Value::Null => match lower.as_str() {
                "count" | "length" => Value::Int(0),
                _ => Value::Null,
            },
            Value::Hashtable(h) => {
                let h = h.borrow();
                if let Some(x) = h.get_str(name) {
                    return Ok(x.clone());
                }
                match lower.as_str() {
                    "count" => Value::from(h.len()),
                    "keys" => Value::array(h.entries().map(|(k, _)| k.clone()).collect()),
                    "values" => Value::array(h.entries().map(|(_, v)| v.clone()).collect()),
                    _ => Value::Null,
                }
            }
            Value::Object(o) => {
                let prop = o.borrow().prop(name).cloned();
                match prop {
                    Some(p) if p.kind == super::value::PropKind::Script => {
                        if let Value::ScriptBlock(sb) = &p.value {
                            let saved = self.get_var("this").cloned();
                            self.set_local("this", v.clone());
                            let r = self.invoke_with_item(sb, Value::Null);
                            self.set_local("this", saved.unwrap_or_default());
                            return r.map_err(flow_to_record);
                        }
                        Value::Null
                    }
                    Some(p) if p.kind == super::value::PropKind::Alias => {
                        let target = p.value.to_string();
                        // One hop only: an alias of an alias reads as nothing.
                        let chained = o
                            .borrow()
                            .prop(&target)
                            .is_some_and(|t| t.kind == super::value::PropKind::Alias);
                        if chained {
                            return Ok(Value::Null);
                        }
                        return self.get_member(v, &target);
                    }
                    Some(p) if p.kind == super::value::PropKind::Method => Value::Null,
                    Some(p) => p.value,
                    None => match lower.as_str() {
                        "count" | "length" => Value::Int(1),
                        "psobject" => self.psobject_view(v),
                        _ => Value::Null,
                    },
                }
            }
            Value::Array(a) => match lower.as_str() {
                "count" | "length" | "longlength" => Value::from(a.len()),
                "rank" => Value::Int(1),
                "issynchronized" | "isreadonly" => Value::Bool(false),
                "isfixedsize" => Value::Bool(!a.growable),
                _ => {
                    // Member enumeration: the property of every element.
                    let items = a.to_vec();
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        let m = self.get_member(&item, name)?;
                        match m {
                            Value::Null => {}
                            Value::Array(inner) => out.extend(inner.to_vec()),
                            other => out.push(other),
                        }
                    }
                    match out.len() {
                        0 => Value::Null,
                        1 => out.pop().unwrap_or_default(),
                        _ => Value::array(out),
                    }
                }
            },
            Value::String(s) => match lower.as_str() {
                "length" => Value::from(s.chars().count()),
                "count" => Value::Int(1),
                _ => Value::Null,
            },
            Value::DateTime(d) => datetime_member(d, &lower),
            Value::TimeSpan(t) => timespan_member(t, &lower),
            Value::Error(e) => self.error_member(e, &lower),
            Value::Type(t) => match lower.as_str() {
                "name" => Value::from(t.short_name()),
                "fullname" => Value::from(t.full_name()),
                _ => Value::Null,
            },
            Value::Enum(e) => match lower.as_str() {
                "value__" => Value::from(e.value),
                "count" | "length" => Value::Int(1),
                _ => Value::Null,
            },
            Value::ScriptBlock(sb) => match lower.as_str() {
                "ast" | "text" => Value::from(sb.body_text()),
                _ => Value::Null,
            },
            Value::Char(c) => match lower.as_str() {
                "count" | "length" => Value::Int(1),
                "value" => Value::Int(*c as i32),
                _ => Value::Null,
            },
            _ => match lower.as_str() {
                "count" | "length" => Value::Int(1),
                _ => Value::Null,
            },
        })
    }

    /// What formatting shows of an object: script and alias properties
    /// read through, script methods left out. Other values pass unchanged.
    pub fn display_snapshot(&mut self, v: Value) -> Value {
        use super::value::PropKind;
        let Value::Object(o) = &v else { return v };
        let computed = o.borrow().props.iter().any(|p| {
            matches!(
                p.kind,
                PropKind::Script | PropKind::Alias | PropKind::Method
            )
        });
        if !computed {
            return v;
        }
        let mut copy = o.borrow().clone();
        copy.props.retain(|p| p.kind != PropKind::Method);
        for p in &mut copy.props {
            if matches!(p.kind, PropKind::Script | PropKind::Alias) {
                p.value = self.get_member(&v, &p.name).unwrap_or_default();
                p.kind = PropKind::Note;
            }
        }
        Value::object(copy)
    }

    fn psobject_view(&self, v: &Value) -> Value {
        let Value::Object(o) = v else {
            return Value::Null;
        };
        let o = o.borrow();
        let props: Vec<Value> = o
            .props
            .iter()
            .map(|p| {
                obj(
                    vec![
                        ("Name", Value::String(p.name.clone())),
                        ("Value", p.value.clone()),
                        ("MemberType", Value::from(member_type(p.kind))),
                        ("TypeNameOfValue", Value::String(p.value.type_name())),
                    ],
                    "System.Management.Automation.PSNoteProperty",
                )
            })
            .collect();
        obj(
            vec![
                ("Properties", Value::array(props)),
                (
                    "TypeNames",
                    Value::array(
                        o.type_names
                            .iter()
                            .map(|t| Value::String(t.clone()))
                            .collect(),
                    ),
                ),
            ],
            "System.Management.Automation.PSMemberSet",
        )
    }

    fn error_member(&mut self, e: &super::error::ErrorRecord, name: &str) -> Value {
        match name {
            "exception" => obj(
                vec![
                    ("Message", Value::from(e.message.as_str())),
                    ("TypeName", Value::String(e.exception_type.clone())),
                    ("ErrorRecord", Value::Null),
                ],
                &e.exception_type,
            )
            .tap_display(&e.message),
            "fullyqualifiederrorid" => Value::String(e.error_id.clone()),
            "targetobject" => e.target.clone(),
            "categoryinfo" => {
                let reason = e
                    .exception_type
                    .rsplit('.')
                    .next()
                    .unwrap_or("")
                    .to_string();
                let target_name = e.target.to_string();
                let text = format!(
                    "{} ({target_name}:{}) [{}], {reason}",
                    e.category.name(),
                    e.target.type_name().rsplit('.').next().unwrap_or(""),
                    e.command.as_deref().unwrap_or(""),
                );
                obj(
                    vec![
                        ("Category", Value::from(e.category.name())),
                        ("Activity", Value::from(e.command.as_deref().unwrap_or(""))),
                        ("Reason", Value::from(reason)),
                        ("TargetName", Value::from(target_name)),
                        (
                            "TargetType",
                            Value::from(if e.target.is_null() {
                                "".to_string()
                            } else {
                                e.target.type_name().to_string()
                            }),
                        ),
                    ],
                    "System.Management.Automation.ErrorCategoryInfo",
                )
                .tap_display(&text)
            }
            "invocationinfo" => {
                let (line, col, text, script) = match &e.position {
                    Some(p) => {
                        let (l, c) = p.line_col();
                        (
                            l,
                            c,
                            p.source.line_text(l).to_string(),
                            p.source.name().unwrap_or_default(),
                        )
                    }
                    None => (0, 0, String::new(), String::new()),
                };
                obj(
                    vec![
                        ("MyCommand", Value::from(e.command.as_deref().unwrap_or(""))),
                        ("ScriptName", Value::from(script)),
                        ("ScriptLineNumber", Value::from(line)),
                        ("OffsetInLine", Value::from(col)),
                        ("Line", Value::from(text)),
                        ("PositionMessage", Value::from(e.position_message())),
                    ],
                    "System.Management.Automation.InvocationInfo",
                )
            }
            "scriptstacktrace" => Value::from(e.position_message()),
            "errordetails" => Value::Null,
            "message" => Value::from(e.message.as_str()),
            _ => Value::Null,
        }
    }

    /// `$x.Name = value`.
    pub fn set_member(
        &mut self,
        target: &Value,
        name: &str,
        value: Value,
    ) -> Result<(), ErrorRecord> {
        match target {
            Value::Hashtable(h) => {
                h.borrow_mut().insert(Value::from(name), value);
                Ok(())
            }
            Value::Object(o) => {
                let alias = o
                    .borrow()
                    .prop(name)
                    .filter(|p| p.kind == super::value::PropKind::Alias)
                    .map(|p| p.value.to_string());
                if let Some(target) = alias
                    && !o
                        .borrow()
                        .prop(&target)
                        .is_some_and(|t| t.kind == super::value::PropKind::Alias)
                {
                    return self.set_member(&Value::Object(o.clone()), &target, value);
                }
                let mut o = o.borrow_mut();
                match o.prop_mut(name) {
                    Some(p) => {
                        if p.read_only {
                            return Err(ErrorRecord::new(
                                format!("'{}' is a ReadOnly property.", p.name),
                                "PropertyAssignmentException",
                                ErrorCategory::InvalidOperation,
                            ));
                        }
                        p.value = match &p.ty {
                            Some(t) => convert_to(&value, t).map_err(|e| {
                                ErrorRecord::new(
                                    format!("Exception setting \"{}\": \"{}\"", p.name, e.message),
                                    "ExceptionWhenSetting",
                                    ErrorCategory::InvalidArgument,
                                )
                            })?,
                            None => value,
                        };
                        Ok(())
                    }
                    None => Err(property_not_found(name)),
                }
            }
            _ => Err(property_not_found(name)),
        }
    }

    /// `$x.Method(args)`.
    pub fn call_method(&mut self, v: &Value, name: &str, args: Vec<Value>) -> Res<Value> {
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
                    Value::DateTime(d) => super::dotnet_format::format_datetime(d, "G"),
                    Value::Array(_) => v.type_name().to_string(),
                    other => other.to_string(),
                }));
            }
            "tostring" => {
                return super::dotnet_format::format_value(v, &arg_str(&args, 0))
                    .map(Value::from)
                    .map_err(Flow::error);
            }
            "equals" => {
                // .NET Equals: ordinal for strings, no conversion across kinds.
                let other = arg(&args, 0);
                let same = match (v, &other) {
                    (Value::String(a), Value::String(b)) => a == b,
                    (Value::String(_), _) | (_, Value::String(_)) => false,
                    _ => super::ops::equals(v, &other, true),
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
                        a.items.borrow_mut().push(arg(&args, 0));
                        Ok(Value::from(n))
                    }
                    "add" | "remove" | "removeat" | "insert" | "clear" | "addrange"
                        if !a.growable =>
                    {
                        Err(method_error(name, argc, "Collection was of a fixed size."))
                    }
                    "addrange" => {
                        a.items.borrow_mut().extend(arg(&args, 0).enumerate());
                        Ok(Value::Null)
                    }
                    "remove" => {
                        let x = arg(&args, 0);
                        let mut items = a.items.borrow_mut();
                        if let Some(i) = items.iter().position(|y| super::ops::equals(y, &x, true))
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
                                .any(|y| super::ops::equals(y, &x, true)),
                        ))
                    }
                    "indexof" => {
                        let x = arg(&args, 0);
                        Ok(Value::from(
                            a.items
                                .borrow()
                                .iter()
                                .position(|y| super::ops::equals(y, &x, true))
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
                    "reverse" => {
                        a.items.borrow_mut().reverse();
                        Ok(Value::Null)
                    }
                    "sort" => {
                        let mut items = a.items.borrow_mut();
                        items.sort_by(|x, y| {
                            super::ops::compare(x, y, false).unwrap_or(std::cmp::Ordering::Equal)
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
                            .any(|(_, y)| super::ops::equals(y, &x, false)),
                    ))
                }
                "add" => {
                    let k = arg(&args, 0);
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
                datetime_method(d, &lower, &args).ok_or_else(|| no_method(v, name))
            }
            Value::Int(_) | Value::Long(_) | Value::Double(_) | Value::Decimal(_) => {
                match lower.as_str() {
                    "compareto" => Ok(Value::Int(
                        match super::ops::compare(v, &arg(&args, 0), false) {
                            Ok(std::cmp::Ordering::Less) => -1,
                            Ok(std::cmp::Ordering::Greater) => 1,
                            _ => 0,
                        },
                    )),
                    _ => Err(no_method(v, name)),
                }
            }
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

    fn intrinsic_where(&mut self, v: &Value, args: &[Value]) -> Res<Value> {
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

    fn intrinsic_foreach(&mut self, v: &Value, args: &[Value]) -> Res<Value> {
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

    // ------------------------------------------------------------ statics

    pub fn static_member(&mut self, t: &PsType, name: &str) -> Result<Value, ErrorRecord> {
        let lower = name.to_ascii_lowercase();
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
        if lower == "new" {
            return e(construct(t, &args));
        }
        match t {
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
                        let ord = super::ops::compare(&a, &b, false).map_err(Flow::error)?;
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
                    Ok(super::ops::join(&Value::array(items), &sep))
                }
                "concat" => Ok(Value::from(
                    args.iter().map(|a| a.to_string()).collect::<String>(),
                )),
                "format" => e(super::dotnet_format::composite(
                    &arg_str(&args, 0),
                    &args[1.min(argc)..],
                )
                .map(Value::from)),
                "equals" => Ok(Value::Bool(arg_str(&args, 0) == arg_str(&args, 1))),
                "compare" => Ok(Value::Int(
                    match super::ops::compare(
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
                let first = chrono::NaiveDate::from_ymd_opt(y, m, 1);
                let next = if m == 12 {
                    chrono::NaiveDate::from_ymd_opt(y + 1, 1, 1)
                } else {
                    chrono::NaiveDate::from_ymd_opt(y, m + 1, 1)
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
                Ok(Value::TimeSpan(chrono::TimeDelta::microseconds(
                    (ms * 1000.0) as i64,
                )))
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
                        let re = super::regex_cache::get(&arg_str(&args, 1), true)
                            .map_err(Flow::error)?;
                        Ok(Value::Bool(re.is_match(&arg_str(&args, 0))))
                    }
                    "replace" => {
                        let re = super::regex_cache::get(&arg_str(&args, 1), true)
                            .map_err(Flow::error)?;
                        let rep = super::regex_cache::dotnet_replacement(&arg_str(&args, 2));
                        Ok(Value::from(
                            re.replace_all(&arg_str(&args, 0), rep.as_str())
                                .into_owned(),
                        ))
                    }
                    "split" => {
                        let re = super::regex_cache::get(&arg_str(&args, 1), true)
                            .map_err(Flow::error)?;
                        Ok(Value::array(
                            re.split(&arg_str(&args, 0)).map(Value::from).collect(),
                        ))
                    }
                    "matches" | "match" => {
                        let re = super::regex_cache::get(&arg_str(&args, 1), true)
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
fn construct(t: &PsType, args: &[Value]) -> Result<Value, ErrorRecord> {
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
            let secs = match n.len() {
                3 => n[0] * 3600 + n[1] * 60 + n[2],
                4 => n[0] * 86400 + n[1] * 3600 + n[2] * 60 + n[3],
                1 => {
                    return Ok(Value::TimeSpan(chrono::TimeDelta::nanoseconds(
                        n[0].saturating_mul(100),
                    )));
                }
                _ => 0,
            };
            Value::TimeSpan(chrono::TimeDelta::seconds(secs))
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

fn dotnet_to_chrono(f: &str) -> String {
    f.replace("yyyy", "%Y")
        .replace("MM", "%m")
        .replace("dd", "%d")
        .replace("HH", "%H")
        .replace("mm", "%M")
        .replace("ss", "%S")
}

fn property_not_found(name: &str) -> ErrorRecord {
    ErrorRecord::new(
        format!(
            "The property '{name}' cannot be found on this object. Verify that the property exists and can be set."
        ),
        "PropertyAssignmentException",
        ErrorCategory::InvalidOperation,
    )
}

fn member_type(k: super::value::PropKind) -> &'static str {
    match k {
        super::value::PropKind::Note => "NoteProperty",
        super::value::PropKind::Property => "Property",
        super::value::PropKind::Script => "ScriptProperty",
        super::value::PropKind::Alias => "AliasProperty",
        super::value::PropKind::Method => "ScriptMethod",
    }
}

pub fn flow_to_record(f: Flow) -> ErrorRecord {
    match f {
        Flow::Error(e) => (*e).clone(),
        _ => ErrorRecord::new(
            "The operation was stopped.",
            "PipelineStopped",
            ErrorCategory::OperationStopped,
        ),
    }
}

/// The type `GetType()` reports.
pub fn type_of(v: &Value) -> PsType {
    match v {
        Value::Bool(_) => PsType::Bool,
        Value::Int(_) => PsType::Int,
        Value::Long(_) => PsType::Long,
        Value::Double(_) => PsType::Double,
        Value::Decimal(_) => PsType::Decimal,
        Value::Char(_) => PsType::Char,
        Value::String(_) => PsType::String,
        Value::DateTime(_) => PsType::DateTime,
        Value::TimeSpan(_) => PsType::TimeSpan,
        Value::Guid(_) => PsType::Guid,
        Value::Array(a) if a.growable => PsType::List,
        Value::Array(a) => PsType::Array(a.elem.clone().map(Box::new)),
        Value::Hashtable(h) if h.borrow().ordered => PsType::Ordered,
        Value::Hashtable(_) => PsType::Hashtable,
        Value::ScriptBlock(_) => PsType::ScriptBlock,
        Value::Type(_) => PsType::Type,
        Value::Error(_) => PsType::ErrorRecord,
        Value::Object(_) | Value::Enum(_) => PsType::Named(v.type_name()),
        Value::Null => PsType::Object,
    }
}

trait TapDisplay {
    fn tap_display(self, text: &str) -> Value;
}

impl TapDisplay for Value {
    /// Sets what `ToString()` shows for an object.
    fn tap_display(self, text: &str) -> Value {
        if let Value::Object(o) = &self {
            o.borrow_mut().display = Some(Rc::from(text));
        }
        self
    }
}

fn string_method(s: &str, name: &str, args: &[Value]) -> Result<Value, ErrorRecord> {
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
            Value::from(s.replace(
                &from,
                &args.get(1).map(|a| a.to_string()).unwrap_or_default(),
            ))
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
            let width = to_i32(&arg(args, 0))?.max(0) as usize;
            let ch = args
                .get(1)
                .and_then(|c| c.to_string().chars().next())
                .unwrap_or(' ');
            let n = s.chars().count();
            let pad: String = std::iter::repeat_n(ch, width.saturating_sub(n)).collect();
            Value::from(if name == "padleft" {
                format!("{pad}{s}")
            } else {
                format!("{s}{pad}")
            })
        }
        "insert" => {
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
        "tochararray" => Value::array(s.chars().map(Value::Char).collect()),
        "compareto" => Value::Int(
            match super::ops::compare(&Value::from(s), &arg(args, 0), false)? {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            },
        ),
        "normalize" | "clone" => Value::from(s),
        "getbytes" => Value::array(s.bytes().map(|b| Value::Int(b as i32)).collect()),
        _ => return Err(no_method(&Value::from(s), name)),
    })
}

fn datetime_member(d: &chrono::NaiveDateTime, name: &str) -> Value {
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
        "ticks" => Value::Long(
            (d.and_utc().timestamp_nanos_opt().unwrap_or(0) / 100)
                .saturating_add(621_355_968_000_000_000),
        ),
        "timeofday" => Value::TimeSpan(*d - d.date().and_hms_opt(0, 0, 0).unwrap_or(*d)),
        "kind" => Value::from("Local"),
        _ => Value::Null,
    }
}

fn datetime_method(d: &chrono::NaiveDateTime, name: &str, args: &[Value]) -> Option<Value> {
    use chrono::{Datelike, Months, TimeDelta};
    let f = to_f64(&arg(args, 0)).unwrap_or(0.0);
    let ms = |x: f64| TimeDelta::milliseconds(x as i64);
    Some(match name {
        "adddays" => Value::DateTime(*d + ms(f * 86_400_000.0)),
        "addhours" => Value::DateTime(*d + ms(f * 3_600_000.0)),
        "addminutes" => Value::DateTime(*d + ms(f * 60_000.0)),
        "addseconds" => Value::DateTime(*d + ms(f * 1000.0)),
        "addmilliseconds" => Value::DateTime(*d + ms(f)),
        "addmonths" | "addyears" => {
            let n = f as i32 * if name == "addyears" { 12 } else { 1 };
            let r = if n >= 0 {
                d.checked_add_months(Months::new(n as u32))
            } else {
                d.checked_sub_months(Months::new(n.unsigned_abs()))
            };
            Value::DateTime(r.unwrap_or(*d))
        }
        "subtract" => match arg(args, 0) {
            Value::DateTime(o) => Value::TimeSpan(*d - o),
            Value::TimeSpan(t) => Value::DateTime(*d - t),
            _ => return None,
        },
        "toshortdatestring" => Value::from(super::dotnet_format::format_datetime(d, "d")),
        "tolongdatestring" => Value::from(super::dotnet_format::format_datetime(d, "D")),
        "toshorttimestring" => Value::from(super::dotnet_format::format_datetime(d, "t")),
        "tolongtimestring" => Value::from(super::dotnet_format::format_datetime(d, "T")),
        "touniversaltime" => Value::DateTime(
            d.and_local_timezone(chrono::Local)
                .single()
                .map(|x| x.naive_utc())
                .unwrap_or(*d),
        ),
        "tolocaltime" => Value::DateTime(
            chrono::DateTime::<chrono::Utc>::from_naive_utc_and_offset(*d, chrono::Utc)
                .with_timezone(&chrono::Local)
                .naive_local(),
        ),
        "isdaylightsavingtime" => Value::Bool(false),
        "getdatetimeformats" => Value::array(vec![]),
        _ => {
            let _ = d.year();
            return None;
        }
    })
}

fn timespan_member(t: &chrono::TimeDelta, name: &str) -> Value {
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

const SCRIPT_CMDLET: &str = "System.Management.Automation.PSScriptCmdlet";

/// `$PSCmdlet` of an advanced function: answers ShouldProcess and friends.
pub fn script_cmdlet() -> Value {
    let o = PsObject::with_type(Rc::from(vec![
        Rc::from(SCRIPT_CMDLET),
        Rc::from("System.Object"),
    ]));
    Value::object(o)
}

/// `$MyInvocation` of a function or script.
pub fn invocation_info(
    name: &str,
    sb: &crate::syntax::ast::ScriptBlockAst,
    bound: Value,
    unbound: Value,
) -> Value {
    let script = sb.source.name().unwrap_or_default();
    let command = obj(
        vec![
            ("Name", Value::from(name)),
            (
                "CommandType",
                Value::from(if sb.source.path.is_some() && name.ends_with(".ps1") {
                    "ExternalScript"
                } else {
                    "Function"
                }),
            ),
        ],
        "System.Management.Automation.FunctionInfo",
    )
    .tap_display(name);
    obj(
        vec![
            ("MyCommand", command),
            ("InvocationName", Value::from(name)),
            ("ScriptName", Value::from(script.as_str())),
            ("PSCommandPath", Value::from(script.as_str())),
            ("BoundParameters", bound),
            ("UnboundArguments", unbound),
        ],
        "System.Management.Automation.InvocationInfo",
    )
}

impl Interp {
    /// Methods of `$PSCmdlet`.
    fn script_cmdlet_method(&mut self, name: &str, args: &[Value]) -> Option<Res<Value>> {
        let lower = name.to_ascii_lowercase();
        Some(match lower.as_str() {
            "shouldprocess" => {
                let target = arg_str(args, 0);
                let action = if args.len() > 1 {
                    arg_str(args, 1)
                } else {
                    "Process".to_string()
                };
                let what_if = self.get_var("whatifpreference").is_some_and(Value::is_true);
                if what_if {
                    self.write_stream(
                        crate::host::Stream::Information,
                        &format!("What if: Performing the operation \"{action}\" on target \"{target}\".\n"),
                    );
                    Ok(Value::Bool(false))
                } else if self
                    .get_var("confirmpreference")
                    .is_some_and(|v| v.to_string().eq_ignore_ascii_case("low"))
                {
                    self.flush_output();
                    let message = format!(
                        "Are you sure you want to perform this action?\nPerforming the operation \"{action}\" on target \"{target}\"."
                    );
                    match self.host.confirm("Confirm", &message) {
                        Some(crate::host::Choice::Yes | crate::host::Choice::YesToAll) => {
                            Ok(Value::Bool(true))
                        }
                        Some(_) => Ok(Value::Bool(false)),
                        None => Err(Flow::error(ErrorRecord::new(
                            format!(
                                "{message}\nConfirmation is needed, but this session cannot ask for it."
                            ),
                            "HostPromptNotAvailable",
                            ErrorCategory::InvalidOperation,
                        ))),
                    }
                } else {
                    Ok(Value::Bool(true))
                }
            }
            "shouldcontinue" => Ok(Value::Bool(true)),
            "writeverbose" => {
                self.verbose(&arg_str(args, 0), None);
                Ok(Value::Null)
            }
            "writewarning" => self.warn(&arg_str(args, 0), None).map(|_| Value::Null),
            "writeerror" | "throwterminatingerror" => {
                let rec = match args.first() {
                    Some(Value::Error(e)) => (**e).clone(),
                    other => ErrorRecord::new(
                        other.map(|v| v.to_string()).unwrap_or_default(),
                        "ScriptCmdletError",
                        ErrorCategory::NotSpecified,
                    ),
                };
                if lower == "writeerror" {
                    self.report_error(rec, None, None).map(|_| Value::Null)
                } else {
                    Err(Flow::error(rec))
                }
            }
            "writeobject" => Ok(arg(args, 0)),
            _ => return None,
        })
    }
}
