//! Script-defined types at run time: the `enum` and `class` statements.
//!
//! A block's type definitions are made before its first statement runs,
//! as pwsh makes them when it parses the script: code may use a type that
//! is written further down, and a class whose base cannot be found stops
//! the block before anything in it has run. Enum values are
//! [`Value::Enum`], as the schema's enums are; a class instance is a
//! [`PsObject`] whose type names are the class and its bases, with typed
//! properties and its hidden ones kept apart.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::convert::{cast_error, convert_to};
use super::error::{ErrorCategory, ErrorRecord, Flow, Res};
use super::interp::{Discard, Interp};
use super::types::PsType;
use super::value::{EnumValue, Prop, PropKind, PsObject, Value};
use crate::syntax::ast::{ClassDef, EnumDef, MethodDef, Stmt, TypeDef};

/// A type a script defined.
#[derive(Debug)]
pub struct ScriptType {
    pub def: Rc<TypeDef>,
    /// The base class, when it is a script class too.
    pub base: Option<Rc<ScriptType>>,
    /// Static property values, shared by every use of the type.
    statics: RefCell<Vec<Prop>>,
}

/// Two uses of a type are the same type when they name the same definition.
impl PartialEq for ScriptType {
    fn eq(&self, other: &ScriptType) -> bool {
        Rc::ptr_eq(&self.def, &other.def)
    }
}

impl ScriptType {
    pub fn name(&self) -> &str {
        self.def.name()
    }

    pub fn as_enum(&self) -> Option<&EnumDef> {
        match &*self.def {
            TypeDef::Enum(e) => Some(e),
            TypeDef::Class(_) => None,
        }
    }

    fn as_class(&self) -> Option<&ClassDef> {
        match &*self.def {
            TypeDef::Class(c) => Some(c),
            TypeDef::Enum(_) => None,
        }
    }

    /// The class, then its bases, most derived first.
    fn lineage(self: &Rc<Self>) -> Vec<Rc<ScriptType>> {
        let mut out = vec![self.clone()];
        while let Some(b) = out.last().and_then(|t| t.base.clone()) {
            out.push(b);
        }
        out
    }

    /// Whether a value is of this type, or of a class derived from it.
    pub fn is_instance(&self, v: &Value) -> bool {
        match v {
            Value::Enum(e) => {
                self.as_enum().is_some() && e.type_name.eq_ignore_ascii_case(self.name())
            }
            Value::Object(o) => {
                self.as_class().is_some()
                    && o.borrow()
                        .type_names
                        .iter()
                        .any(|t| t.eq_ignore_ascii_case(self.name()))
            }
            _ => false,
        }
    }
}

/// Script types by lower-cased name.
pub type TypeTable = HashMap<Rc<str>, Rc<ScriptType>>;

/// A value as a member of a script enum: a name (for `[Flags()]` enums a
/// comma-separated list of names), a number, or a member of the same enum.
pub fn to_enum(v: &Value, t: &ScriptType) -> Result<Value, ErrorRecord> {
    let Some(def) = t.as_enum() else {
        return Err(cast_error(v, t.name(), ""));
    };
    let value = match v {
        Value::Enum(e) if e.type_name.eq_ignore_ascii_case(&def.name) => return Ok(v.clone()),
        Value::String(s) => match super::convert::parse_numeric(s) {
            Some(n) => n.as_i64().ok_or_else(|| cast_error(v, &def.name, ""))?,
            None => names_value(s, def).map_err(|bad| {
                let names: Vec<&str> = def.members.iter().map(|(n, _)| &**n).collect();
                cast_error(
                    v,
                    &def.name,
                    &format!(
                        "Unable to match the identifier name {bad} to a valid enumerator name. Specify one of the following enumerator names and try again: {}",
                        names.join(", ")
                    ),
                )
            })?,
        },
        other => other
            .as_i64()
            .ok_or_else(|| cast_error(v, &def.name, ""))?,
    };
    Ok(enum_value(def, value))
}

/// The value a list of names gives: one name, or for a flags enum several.
fn names_value(text: &str, def: &EnumDef) -> Result<i64, String> {
    let mut value = 0;
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    if parts.len() > 1 && !def.flags {
        return Err(text.trim().to_string());
    }
    for part in parts {
        match def
            .members
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(part))
        {
            Some((_, v)) => value |= v,
            None => return Err(part.to_string()),
        }
    }
    Ok(value)
}

/// The member of `def` holding `value`, named as .NET names it: the
/// member's name, for a flags enum the names of its bits, else the number.
pub fn enum_value(def: &EnumDef, value: i64) -> Value {
    let name = match def.members.iter().find(|(_, v)| *v == value) {
        Some((n, _)) => n.to_string(),
        None => flag_names(def, value).unwrap_or_else(|| value.to_string()),
    };
    Value::Enum(Rc::new(EnumValue {
        type_name: def.name.clone(),
        name: Rc::from(name),
        value,
    }))
}

/// `Read, Write`: the members whose bits make up `value`, largest first
/// as .NET picks them, listed in declaration order.
fn flag_names(def: &EnumDef, value: i64) -> Option<String> {
    if !def.flags || value <= 0 {
        return None;
    }
    let mut rest = value;
    let mut picked = Vec::new();
    let mut members: Vec<&(Rc<str>, i64)> = def.members.iter().filter(|(_, v)| *v > 0).collect();
    members.sort_by_key(|m| std::cmp::Reverse(m.1));
    for m in members {
        if rest & m.1 == m.1 {
            rest &= !m.1;
            picked.push(m);
        }
    }
    if rest != 0 {
        return None;
    }
    picked.sort_by_key(|m| m.1);
    Some(picked.iter().map(|m| &*m.0).collect::<Vec<_>>().join(", "))
}

/// `[Enum]::GetNames([Color])`, `GetValues`, `IsDefined`, `Parse` on a
/// script enum; `None` for anything else.
pub fn enum_static(method: &str, args: &[Value]) -> Option<Result<Value, ErrorRecord>> {
    let Some(Value::Type(t)) = args.first() else {
        return None;
    };
    let PsType::Script(st) = &**t else {
        return None;
    };
    let def = st.as_enum()?;
    let arg = args.get(1).cloned().unwrap_or_default();
    Some(Ok(match (method, args.len()) {
        ("getnames", 1) => Value::array(
            def.members
                .iter()
                .map(|(n, _)| Value::String(n.clone()))
                .collect(),
        ),
        ("getvalues", 1) => Value::array(
            def.members
                .iter()
                .map(|(_, v)| enum_value(def, *v))
                .collect(),
        ),
        ("isdefined", 2) => Value::Bool(match &arg {
            Value::String(s) => def.members.iter().any(|(n, _)| **n == **s),
            other => other
                .as_i64()
                .is_some_and(|v| def.members.iter().any(|(_, m)| *m == v)),
        }),
        ("parse", 2) => return Some(to_enum(&arg, st)),
        _ => return None,
    }))
}

fn error(msg: String, id: &str) -> ErrorRecord {
    ErrorRecord::new(msg, id, ErrorCategory::InvalidOperation)
}

fn no_overload(name: &str, argc: usize) -> Flow {
    Flow::error(
        error(
            format!("Cannot find an overload for \"{name}\" and the argument count: \"{argc}\"."),
            "MethodCountCouldNotFindBest",
        )
        .with_exception("System.Management.Automation.MethodException"),
    )
}

impl Interp {
    /// Defines the types a block declares, before the block runs.
    pub fn define_types(&mut self, block: &[Stmt]) -> Res<()> {
        let mut pending: Vec<&Rc<TypeDef>> = block
            .iter()
            .filter_map(|s| match s {
                Stmt::TypeDef(t) => Some(t),
                _ => None,
            })
            .collect();
        // A class may derive from one written after it: define what can
        // be defined until nothing more can.
        while !pending.is_empty() {
            let before = pending.len();
            let mut left = Vec::new();
            for def in pending {
                let base = match &**def {
                    TypeDef::Class(c) => match &c.base {
                        Some(b) => match self.types.get(&*b.name.to_ascii_lowercase()) {
                            Some(t) if t.as_class().is_some() => Some(t.clone()),
                            _ if is_object(&b.name) => None,
                            _ => {
                                left.push(def);
                                continue;
                            }
                        },
                        None => None,
                    },
                    TypeDef::Enum(_) => None,
                };
                let t = Rc::new(ScriptType {
                    def: def.clone(),
                    base,
                    statics: RefCell::new(Vec::new()),
                });
                self.types
                    .insert(Rc::from(def.name().to_ascii_lowercase()), t.clone());
                self.init_statics(&t)?;
            }
            if left.len() == before {
                let base = left.first().and_then(|d| match &***d {
                    TypeDef::Class(c) => c.base.clone(),
                    TypeDef::Enum(_) => None,
                });
                if let Some(b) = base {
                    let mut rec = ErrorRecord::new(
                        format!("Unable to find type [{}].", b.name),
                        "TypeNotFound",
                        ErrorCategory::ParserError,
                    )
                    .at(&self.source(), b.span);
                    rec.exception_type = Rc::from("System.Management.Automation.ParseException");
                    rec.script_terminating = true;
                    return Err(Flow::error(rec));
                }
                break;
            }
            pending = left;
        }
        Ok(())
    }

    fn init_statics(&mut self, t: &Rc<ScriptType>) -> Res<()> {
        let Some(class) = t.as_class() else {
            return Ok(());
        };
        let mut statics = Vec::new();
        for p in class.properties.iter().filter(|p| p.is_static) {
            statics.push(self.property_value(p)?);
        }
        *t.statics.borrow_mut() = statics;
        Ok(())
    }

    /// A property with its declared type and its initial value.
    fn property_value(&mut self, p: &crate::syntax::ast::PropertyDef) -> Res<Prop> {
        let ty = match &p.type_name {
            Some(t) => Some(self.resolve_type(t)?),
            None => None,
        };
        let value = match &p.default {
            Some(e) => self.eval(e)?,
            None => Value::Null,
        };
        let value = match &ty {
            // An unset [string] stays $null, as in .NET; numbers start at 0.
            Some(PsType::String) if value.is_null() => Value::Null,
            Some(t) => convert_to(&value, t).map_err(|e| self.at(e, p_span(p)))?,
            None => value,
        };
        Ok(Prop {
            ty,
            kind: PropKind::Property,
            ..Prop::note(p.name.clone(), value)
        })
    }

    /// A script type by the name a type literal gives (`[Pool]`, `[Pool[]]`).
    pub fn lookup_type(&self, name: &str) -> Option<PsType> {
        if self.types.is_empty() {
            return None;
        }
        let name = name.trim();
        if let Some(elem) = name.strip_suffix("[]") {
            return self
                .lookup_type(elem)
                .map(|t| PsType::Array(Some(Box::new(t))));
        }
        self.types
            .get(&*name.to_ascii_lowercase())
            .map(|t| PsType::Script(t.clone()))
    }

    /// A type by name: the session's script types first, then the built-in ones.
    pub fn find_type(&self, name: &str) -> Option<PsType> {
        self.lookup_type(name).or_else(|| PsType::resolve(name))
    }

    /// The script class of an instance.
    fn class_of(&self, v: &Value) -> Option<Rc<ScriptType>> {
        let Value::Object(o) = v else { return None };
        let name = o.borrow().type_name().to_ascii_lowercase();
        self.types.get(&*name).filter(|t| t.is_instance(v)).cloned()
    }

    /// `[Pool]::new(args)`: properties at their defaults, then the
    /// constructor that takes as many arguments (the base's first).
    pub fn construct_class(&mut self, t: &Rc<ScriptType>, args: Vec<Value>) -> Res<Value> {
        if t.as_class().is_none() {
            return Err(no_overload("new", args.len()));
        }
        let lineage = t.lineage();
        let mut names: Vec<Rc<str>> = lineage.iter().map(|c| Rc::from(c.name())).collect();
        names.push(Rc::from("System.Object"));
        let mut obj = PsObject::with_type(Rc::from(names));
        // .NET lists a class's own properties before those it inherits.
        for c in &lineage {
            let Some(class) = c.as_class() else { continue };
            for p in class.properties.iter().filter(|p| !p.is_static) {
                let prop = self.property_value(p)?;
                if p.hidden {
                    obj.hidden.push(prop);
                } else {
                    obj.props_mut().push(prop);
                }
            }
        }
        let this = Value::object(obj);
        self.run_ctor(t, &this, args)?;
        Ok(this)
    }

    fn run_ctor(&mut self, t: &Rc<ScriptType>, this: &Value, args: Vec<Value>) -> Res<()> {
        let Some(class) = t.as_class() else {
            return Ok(());
        };
        let ctors: Vec<&Rc<MethodDef>> = class.methods.iter().filter(|m| m.is_ctor).collect();
        let ctor = ctors.iter().find(|m| m.params.len() == args.len()).cloned();
        if ctor.is_none() && (!ctors.is_empty() || !args.is_empty()) {
            return Err(no_overload("new", args.len()));
        }
        let Some(ctor) = ctor.cloned() else {
            // The default constructor: the base's, with no arguments.
            if let Some(b) = &t.base {
                self.run_ctor(b, this, Vec::new())?;
            }
            return Ok(());
        };
        self.invoke_member(t, &ctor, Some(this.clone()), args)
            .map(|_| ())
    }

    /// `$obj.Name(args)` when `$obj` is a script class instance and its
    /// class (or a base) has that method; `None` lets built-in methods
    /// (`GetType()`, `ToString()`, ...) answer.
    pub fn call_class_method(
        &mut self,
        v: &Value,
        name: &str,
        args: &[Value],
    ) -> Option<Res<Value>> {
        let class = self.class_of(v)?;
        let mut named = false;
        for c in class.lineage() {
            let Some(def) = c.as_class() else { continue };
            for m in def.methods.iter().filter(|m| !m.is_ctor && !m.is_static) {
                if m.name.eq_ignore_ascii_case(name) {
                    named = true;
                    if m.params.len() == args.len() {
                        let m = m.clone();
                        return Some(self.invoke_member(&c, &m, Some(v.clone()), args.to_vec()));
                    }
                }
            }
        }
        named.then(|| Err(no_overload(name, args.len())))
    }

    /// `[Pool]::Name(args)`: `new` and static methods.
    pub fn call_class_static(
        &mut self,
        t: &Rc<ScriptType>,
        name: &str,
        args: Vec<Value>,
    ) -> Res<Value> {
        if name.eq_ignore_ascii_case("new") {
            return self.construct_class(t, args);
        }
        let mut named = false;
        for c in t.lineage() {
            let Some(def) = c.as_class() else { continue };
            for m in def.methods.iter().filter(|m| m.is_static) {
                if m.name.eq_ignore_ascii_case(name) {
                    named = true;
                    if m.params.len() == args.len() {
                        let m = m.clone();
                        return self.invoke_member(&c, &m, None, args);
                    }
                }
            }
        }
        if named {
            return Err(no_overload(name, args.len()));
        }
        Err(Flow::error(error(
            format!(
                "Method invocation failed because [{}] does not contain a method named '{name}'.",
                t.name()
            ),
            "MethodNotFound",
        )))
    }

    /// `[Color]::Red`, `[Pool]::Count`.
    pub fn class_static_member(&self, t: &ScriptType, name: &str) -> Option<Value> {
        if let Some(def) = t.as_enum() {
            let (_, v) = def
                .members
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))?;
            return Some(enum_value(def, *v));
        }
        let mut cur = Some(t);
        while let Some(c) = cur {
            if let Some(p) = c
                .statics
                .borrow()
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(name))
            {
                return Some(p.value.clone());
            }
            cur = c.base.as_deref();
        }
        None
    }

    /// `[Pool]::Count = 3`, converted to the property's type.
    pub fn set_class_static(
        &self,
        t: &ScriptType,
        name: &str,
        value: Value,
    ) -> Result<(), ErrorRecord> {
        let mut cur = Some(t);
        while let Some(c) = cur {
            let mut statics = c.statics.borrow_mut();
            if let Some(p) = statics
                .iter_mut()
                .find(|p| p.name.eq_ignore_ascii_case(name))
            {
                p.value = match &p.ty {
                    Some(ty) => convert_to(&value, ty).map_err(|e| setting_error(&p.name, e))?,
                    None => value,
                };
                return Ok(());
            }
            cur = c.base.as_deref();
        }
        Err(super::members::property_not_found(name))
    }

    /// `[Pool]@{ Size = 3 }`: the default constructor, then each key set
    /// as a property.
    pub fn class_from_hashtable(&mut self, t: &Rc<ScriptType>, v: &Value) -> Res<Value> {
        let obj = self.construct_class(t, Vec::new())?;
        if let Value::Hashtable(h) = v {
            let entries: Vec<(Value, Value)> = h
                .borrow()
                .entries()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            for (k, val) in entries {
                let key = k.to_string();
                self.set_member(&obj, &key, val).map_err(|e| {
                    Flow::error(error(
                        format!(
                            "Cannot create object of type \"{}\". {}",
                            t.name(),
                            e.message
                        ),
                        "ObjectCreationError",
                    ))
                })?;
            }
        }
        Ok(obj)
    }

    /// Runs a method or constructor in a scope of its own: `$this` (not
    /// for static methods) and the arguments converted to the parameters'
    /// types. Only what `return` gives comes back; other output of the
    /// body is dropped, as pwsh drops it.
    fn invoke_member(
        &mut self,
        owner: &Rc<ScriptType>,
        m: &Rc<MethodDef>,
        this: Option<Value>,
        args: Vec<Value>,
    ) -> Res<Value> {
        let Some(class) = owner.as_class() else {
            return Ok(Value::Null);
        };
        self.enter_call().map_err(Flow::error)?;
        let scope = self.scopes.alloc(self.scopes.cur, false);
        let prev_scope = std::mem::replace(&mut self.scopes.cur, scope);
        let prev_src = std::mem::replace(&mut self.cur_source, class.source.clone());
        let prev_ret = self.method_return.take();
        // An error in a method ends the method, as an exception would.
        self.try_depth += 1;
        let r = self.member_body(owner, m, this, args);
        self.try_depth -= 1;
        let returned = self.method_return.take();
        self.method_return = prev_ret;
        self.cur_source = prev_src;
        self.scopes.cur = prev_scope;
        self.scopes.release(scope);
        self.leave_call();
        let value = match r {
            Ok(()) | Err(Flow::Return) => returned.unwrap_or_default(),
            Err(e) => return Err(e),
        };
        match &m.returns {
            Some(t) if !m.is_ctor => {
                let ty = self.resolve_type(t)?;
                convert_to(&value, &ty).map_err(|e| self.at(e, t.span))
            }
            _ => Ok(Value::Null),
        }
    }

    fn member_body(
        &mut self,
        owner: &Rc<ScriptType>,
        m: &MethodDef,
        this: Option<Value>,
        args: Vec<Value>,
    ) -> Res<()> {
        if let Some(this) = &this {
            self.set_local("this", this.clone());
        }
        let mut args = args.into_iter();
        for p in &m.params {
            let v = match (args.next(), &p.default) {
                (Some(v), _) => v,
                (None, Some(d)) => self.eval(d)?,
                (None, None) => Value::Null,
            };
            let v = match &p.type_name {
                Some(t) => {
                    let ty = self.resolve_type(t)?;
                    convert_to(&v, &ty).map_err(|e| {
                        self.at(
                            super::members::method_error(&m.name, m.params.len(), &e.message),
                            p.span,
                        )
                    })?
                }
                None => v,
            };
            self.set_local(&p.name.name, v);
        }
        // A derived constructor runs its base's first: `: base(args)`,
        // or the base's constructor without arguments.
        if m.is_ctor
            && let (Some(base), Some(this)) = (&owner.base, &this)
        {
            let mut base_args = Vec::new();
            for a in m.base_args.iter().flatten() {
                base_args.push(self.eval(a)?);
            }
            self.run_ctor(base, this, base_args)?;
        }
        self.exec_block(&m.body, &mut Discard)
    }
}

fn p_span(p: &crate::syntax::ast::PropertyDef) -> crate::syntax::ast::Span {
    p.default
        .as_ref()
        .map(|e| e.span)
        .or(p.type_name.as_ref().map(|t| t.span))
        .unwrap_or_default()
}

fn is_object(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "object" || n == "system.object"
}

pub fn setting_error(name: &str, e: ErrorRecord) -> ErrorRecord {
    ErrorRecord::new(
        format!("Exception setting \"{name}\": \"{}\"", e.message),
        "ExceptionWhenSetting",
        ErrorCategory::InvalidArgument,
    )
}
