//! Properties and methods: `$x.Name`, `$s.ToUpper()`, member enumeration
//! (`$users.SipAddress`), the intrinsic `.Count`/`.Length`/`.Where()`/
//! `.ForEach()`, and the static members of the few .NET types scripts use.

mod methods;
mod powershell;
mod script_cmdlet;
mod statics;

use methods::{datetime_member, timespan_member};
pub(crate) use powershell::POWERSHELL;
use script_cmdlet::SCRIPT_CMDLET;
pub use script_cmdlet::{invocation_info, script_cmdlet};
pub use statics::fill_random;

use std::rc::Rc;

use super::budget;
use super::convert::{self, convert_to, to_f64, to_i32};
use super::error::{ErrorCategory, ErrorRecord, Flow, Res};
use super::interp::{Collect, Interp};
use super::types::PsType;
use super::value::{Hashtable, PsArray, PsObject, Value};

pub(super) fn method_error(name: &str, argc: usize, msg: &str) -> ErrorRecord {
    ErrorRecord::new(
        format!("Exception calling \"{name}\" with \"{argc}\" argument(s): \"{msg}\""),
        "MethodInvocationException",
        ErrorCategory::NotSpecified,
    )
    .with_exception("System.Management.Automation.MethodInvocationException")
}

pub(super) fn no_method(v: &Value, name: &str) -> ErrorRecord {
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

pub(super) fn arg(args: &[Value], i: usize) -> Value {
    args.get(i).cloned().unwrap_or_default()
}

pub(super) fn arg_str(args: &[Value], i: usize) -> String {
    args.get(i).map(|v| v.to_string()).unwrap_or_default()
}

/// An ErrorRecord's `.Exception`; `record` is what its `ErrorRecord`
/// property gives. A wrapped error shows as `InnerException`, carrying its
/// own record (a ParseException's names the parse error).
fn exception_object(e: &ErrorRecord, record: Value) -> Value {
    let mut pairs = vec![
        ("Message", Value::from(&*e.message)),
        ("TypeName", Value::String(e.exception_type.clone())),
        ("ErrorRecord", record),
    ];
    if let Some(inner) = &e.inner {
        pairs.push((
            "InnerException",
            exception_object(inner, Value::Error(inner.clone())),
        ));
    }
    obj(pairs, &e.exception_type).tap_display(&e.message)
}

pub(super) fn obj(pairs: Vec<(&str, Value)>, type_name: &str) -> Value {
    let mut o = PsObject::with_type(Rc::from(vec![
        Rc::from(type_name),
        Rc::from("System.Object"),
    ]));
    for (k, v) in pairs {
        o.props_mut().push(super::value::Prop {
            kind: super::value::PropKind::Property,
            ..super::value::Prop::note(k, v)
        });
    }
    Value::object(o)
}

impl Interp {
    pub fn get_member(&mut self, v: &Value, name: &str) -> Result<Value, ErrorRecord> {
        // Member enumeration goes into nested arrays (and script
        // properties run code): an array holding itself must not recurse
        // without end.
        budget::enter()?;
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
                            // A getter that reads itself nests like a call.
                            self.enter_call()?;
                            let saved = self.get_var("this").cloned();
                            self.set_local("this", v.clone());
                            let r = self.invoke_with_item(sb, Value::Null);
                            self.set_local("this", saved.unwrap_or_default());
                            self.leave_call();
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
                    Some(p) if p.kind == super::value::PropKind::Variable => self
                        .get_var(&p.value.to_string())
                        .cloned()
                        .unwrap_or_default(),
                    Some(p) => p.value,
                    None if !o.borrow().hidden.is_empty() => {
                        let o = o.borrow();
                        let hidden = o.hidden.iter().find(|p| p.name.eq_ignore_ascii_case(name));
                        hidden.map(|p| p.value.clone()).unwrap_or_default()
                    }
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
        let computed = o.borrow().props().iter().any(|p| {
            matches!(
                p.kind,
                PropKind::Script | PropKind::Alias | PropKind::Method | PropKind::Variable
            )
        });
        if !computed {
            return v;
        }
        let mut copy = o.borrow().clone();
        copy.props_mut().retain(|p| p.kind != PropKind::Method);
        for p in copy.props_mut() {
            if matches!(
                p.kind,
                PropKind::Script | PropKind::Alias | PropKind::Variable
            ) {
                p.value = self.get_member(&v, &p.name).unwrap_or_default();
                p.kind = PropKind::Note;
            }
        }
        Value::object(copy)
    }

    pub(super) fn psobject_view(&self, v: &Value) -> Value {
        let Value::Object(o) = v else {
            return Value::Null;
        };
        let o = o.borrow();
        let props: Vec<Value> = o
            .props()
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

    pub(super) fn error_member(&mut self, e: &super::error::ErrorRecord, name: &str) -> Value {
        match name {
            "exception" => exception_object(e, Value::Null),
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
            "message" => Value::from(&*e.message),
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
        budget::enter()?;
        match target {
            Value::Hashtable(h) => {
                budget::check_items(h.borrow().len().saturating_add(1))?;
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
                let variable = o
                    .borrow()
                    .prop(name)
                    .filter(|p| p.kind == super::value::PropKind::Variable)
                    .map(|p| p.value.to_string());
                if let Some(key) = variable {
                    let name = o.borrow().get("Name").unwrap_or_default().to_string();
                    let scope = self.scopes.lookup_scope(&key).unwrap_or(self.scopes.cur);
                    // The variable refuses as a .NET setter would, and the
                    // error is wrapped as pwsh wraps a setter's exception.
                    return self
                        .set_in(scope, &Rc::from(key), &Rc::from(name), value)
                        .map_err(|f| {
                            let e = flow_to_record(f);
                            ErrorRecord::new(
                                format!("Exception setting \"Value\": \"{}\"", e.message),
                                "ExceptionWhenSetting",
                                ErrorCategory::InvalidOperation,
                            )
                        });
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
                    None => match o
                        .hidden
                        .iter_mut()
                        .find(|p| p.name.eq_ignore_ascii_case(name))
                    {
                        Some(p) => {
                            p.value = match &p.ty {
                                Some(t) => convert_to(&value, t)
                                    .map_err(|e| super::classes::setting_error(&p.name, e))?,
                                None => value,
                            };
                            Ok(())
                        }
                        None => Err(property_not_found(name)),
                    },
                }
            }
            Value::Type(t) => match &**t {
                PsType::Script(t) => self.set_class_static(t, name, value),
                _ => Err(property_not_found(name)),
            },
            _ => Err(property_not_found(name)),
        }
    }
}

pub(super) fn property_not_found(name: &str) -> ErrorRecord {
    ErrorRecord::new(
        format!(
            "The property '{name}' cannot be found on this object. Verify that the property exists and can be set."
        ),
        "PropertyAssignmentException",
        ErrorCategory::InvalidOperation,
    )
}

pub(super) fn member_type(k: super::value::PropKind) -> &'static str {
    match k {
        super::value::PropKind::Note => "NoteProperty",
        super::value::PropKind::Property | super::value::PropKind::Variable => "Property",
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
        Value::Single(_) => PsType::Single,
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

pub(super) trait TapDisplay {
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
