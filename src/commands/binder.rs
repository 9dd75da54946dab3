//! Parameter binding: named arguments (with unique prefixes and aliases),
//! positional arguments, switches, splatting, common parameters, parameter
//! sets, type conversion and validation — then, per pipeline object,
//! binding by value and by property name.

use std::rc::Rc;

use super::{COMMON_PARAMS, ParamSpec, ParamType, SHOULD_PROCESS_PARAMS, Signature};
use crate::runtime::convert::convert_to;
use crate::runtime::error::{ErrorCategory, ErrorRecord, Position};
use crate::runtime::types::PsType;
use crate::runtime::value::Value;
use crate::syntax::Source;
use crate::syntax::ast::Span;

/// One argument as written, after evaluation.
#[derive(Clone, Debug)]
pub struct RawArg {
    /// `-Name` (without the dash) for named arguments.
    pub name: Option<Rc<str>>,
    pub value: Option<Value>,
    pub span: Span,
    /// `-Name:value` binds the value even to a switch.
    pub colon: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionPreference {
    Stop,
    Continue,
    SilentlyContinue,
    Ignore,
    Inquire,
}

impl ActionPreference {
    pub fn parse(v: &Value) -> Option<ActionPreference> {
        let s = v.to_string();
        Some(match s.to_ascii_lowercase().as_str() {
            "stop" | "1" => ActionPreference::Stop,
            "continue" | "2" => ActionPreference::Continue,
            "silentlycontinue" | "0" => ActionPreference::SilentlyContinue,
            "ignore" | "4" => ActionPreference::Ignore,
            "inquire" | "3" => ActionPreference::Inquire,
            _ => return None,
        })
    }
}

/// Common parameters, applied by the runtime around the command.
#[derive(Clone, Debug, Default)]
pub struct Common {
    pub error_action: Option<ActionPreference>,
    pub warning_action: Option<ActionPreference>,
    pub information_action: Option<ActionPreference>,
    /// Variable name and whether to append (`-ErrorVariable +errs`).
    pub error_variable: Option<(String, bool)>,
    pub warning_variable: Option<(String, bool)>,
    pub out_variable: Option<(String, bool)>,
    pub verbose: Option<bool>,
    pub debug: Option<bool>,
    pub what_if: Option<bool>,
    pub confirm: Option<bool>,
}

/// The result of binding: canonical parameter names to converted values.
#[derive(Clone, Debug, Default)]
pub struct Args {
    pub set: Option<&'static str>,
    values: Vec<(Rc<str>, Value)>,
    /// Arguments no parameter took (`$args` of simple functions).
    pub unbound: Vec<Value>,
    pub common: Common,
    /// Names bound from the pipeline for the current object.
    pub from_pipeline: Vec<Rc<str>>,
}

impl Args {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn switch(&self, name: &str) -> bool {
        self.get(name).is_some_and(Value::is_true)
    }

    pub fn string(&self, name: &str) -> Option<String> {
        self.get(name)
            .filter(|v| !v.is_null())
            .map(|v| v.to_string())
    }

    pub fn set(&mut self, name: &str, v: Value) {
        match self
            .values
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1 = v,
            None => self.values.push((Rc::from(name), v)),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.values.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Rc<str>, &Value)> {
        self.values.iter().map(|(n, v)| (n, v))
    }
}

fn binding_error(cmd: &str, id: &str, msg: String) -> ErrorRecord {
    let mut e = ErrorRecord::new(msg, &format!("{id},{cmd}"), ErrorCategory::InvalidArgument)
        .with_exception("System.Management.Automation.ParameterBindingException");
    e.command = Some(Rc::from(cmd));
    e
}

pub struct Binder<'a> {
    pub sig: &'a Signature,
    pub command: &'a str,
    /// Script functions word conversion errors as "argument transformation".
    pub is_script: bool,
    /// Advanced functions and cmdlets take common parameters.
    pub takes_common: bool,
    /// The script the arguments were written in, so an error can point at
    /// the offending argument rather than the whole command.
    pub source: Option<Rc<Source>>,
}

impl Binder<'_> {
    fn place(&self, mut rec: ErrorRecord, span: Span) -> ErrorRecord {
        if let Some(src) = &self.source
            && span != Span::default()
        {
            rec.position = Some(Position {
                source: src.clone(),
                span,
            });
        }
        rec
    }

    /// Binds the arguments written on the command line.
    pub fn bind(&self, raw: Vec<RawArg>) -> Result<Args, ErrorRecord> {
        let mut args = Args::default();
        let mut bound: Vec<(usize, Value, Span)> = Vec::new();
        let mut positional: Vec<(Value, Span)> = Vec::new();
        let mut it = raw.into_iter().peekable();
        while let Some(a) = it.next() {
            let Some(name) = a.name.clone() else {
                positional.push((a.value.unwrap_or_default(), a.span));
                continue;
            };
            if self.takes_common
                && self
                    .bind_common(&name, &a, &mut it, &mut args)
                    .map_err(|e| self.place(e, a.span))?
            {
                continue;
            }
            let idx = match self.resolve(&name).map_err(|e| self.place(e, a.span))? {
                Some(i) => i,
                None if self.sig.loose => {
                    // Simple functions see unknown -names as plain strings.
                    positional.push((Value::from(format!("-{name}")), a.span));
                    if let Some(v) = a.value {
                        positional.push((v, a.span));
                    }
                    continue;
                }
                None => {
                    return Err(self.place(
                        binding_error(
                            self.command,
                            "NamedParameterNotFound",
                            format!(
                                "A parameter cannot be found that matches parameter name '{name}'."
                            ),
                        ),
                        a.span,
                    ));
                }
            };
            let spec = &self.sig.params[idx];
            if bound.iter().any(|(i, _, _)| *i == idx) {
                return Err(self.place(binding_error(
                    self.command,
                    "ParameterAlreadyBound",
                    format!(
                        "Cannot bind parameter because parameter '{}' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, \"-parameter value1,value2,value3\".",
                        spec.name
                    ),
                ), a.span));
            }
            let mut value_span = a.span;
            let value = if a.colon || a.value.is_some() {
                a.value.unwrap_or_default()
            } else if spec.is_switch() {
                Value::Bool(true)
            } else {
                match it.next_if(|n| n.name.is_none()) {
                    Some(n) => {
                        value_span = n.span;
                        n.value.unwrap_or_default()
                    }
                    None => {
                        return Err(self.place(binding_error(
                            self.command,
                            "MissingArgument",
                            format!(
                                "Missing an argument for parameter '{}'. Specify a parameter of type '{}' and try again.",
                                spec.name,
                                type_full(spec)
                            ),
                        ), a.span));
                    }
                }
            };
            bound.push((idx, value, value_span));
        }

        // Parameter sets: those containing every named parameter.
        let all_sets = self.sig.set_names();
        let mut candidates: Vec<&'static str> = all_sets
            .iter()
            .copied()
            .filter(|s| bound.iter().all(|(i, _, _)| self.sig.params[*i].in_set(s)))
            .collect();
        if !all_sets.is_empty() && candidates.is_empty() {
            return Err(binding_error(
                self.command,
                "AmbiguousParameterSet",
                "Parameter set cannot be resolved using the specified named parameters. One or more parameters issued cannot be used together or an insufficient number of parameters were provided.".into(),
            ));
        }

        // Positional arguments fill positional parameters in order.
        if !positional.is_empty() {
            let set = self.pick_set(&candidates);
            let mut slots: Vec<(usize, usize)> = self
                .sig
                .params
                .iter()
                .enumerate()
                .filter(|(i, p)| {
                    p.position.is_some()
                        && !bound.iter().any(|(b, _, _)| b == i)
                        && set.is_none_or(|s| p.in_set(s))
                })
                .map(|(i, p)| (p.position.unwrap_or(0), i))
                .collect();
            slots.sort();
            let mut slots = slots.into_iter();
            let remaining = self
                .sig
                .params
                .iter()
                .position(|p| p.remaining && set.is_none_or(|s| p.in_set(s)));
            // Whether the remaining-arguments parameter already holds a list
            // this binding built (and may extend).
            let mut grew = false;
            for (v, span) in positional {
                match slots.next() {
                    Some((_, idx)) => bound.push((idx, v, span)),
                    None if remaining.is_some() => {
                        let ri = remaining.unwrap_or(0);
                        match bound.iter_mut().find(|(i, _, _)| *i == ri) {
                            Some((_, existing, _)) => {
                                let mut items = match &*existing {
                                    Value::Array(a) if grew => a.to_vec(),
                                    other => vec![other.clone()],
                                };
                                items.push(v);
                                *existing = Value::array(items);
                                grew = true;
                            }
                            None => bound.push((ri, v, span)),
                        }
                    }
                    None if self.sig.loose => args.unbound.push(v),
                    None => {
                        return Err(self.place(
                            binding_error(
                                self.command,
                                "PositionalParameterNotFound",
                                format!(
                                    "A positional parameter cannot be found that accepts argument '{v}'."
                                ),
                            ),
                            span,
                        ));
                    }
                }
            }
            candidates.retain(|s| bound.iter().all(|(i, _, _)| self.sig.params[*i].in_set(s)));
        }
        args.set = self.pick_set(&candidates);

        for (idx, v, span) in bound {
            let spec = &self.sig.params[idx];
            let v = self.convert(spec, v).map_err(|e| self.place(e, span))?;
            args.values.push((spec.name.clone(), v));
        }
        Ok(args)
    }

    fn pick_set(&self, candidates: &[&'static str]) -> Option<&'static str> {
        if candidates.is_empty() {
            return None;
        }
        match self.sig.default_set {
            Some(d) if candidates.contains(&d) => Some(d),
            _ => candidates.first().copied(),
        }
    }

    /// Resolves `-Na` to a parameter: exact name or alias first, then a
    /// unique prefix.
    fn resolve(&self, name: &str) -> Result<Option<usize>, ErrorRecord> {
        if let Some(i) = self.sig.params.iter().position(|p| p.matches_name(name)) {
            return Ok(Some(i));
        }
        let lower = name.to_ascii_lowercase();
        let hits: Vec<usize> = self
            .sig
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                p.name.to_ascii_lowercase().starts_with(&lower)
                    || p.aliases
                        .iter()
                        .any(|a| a.to_ascii_lowercase().starts_with(&lower))
            })
            .map(|(i, _)| i)
            .collect();
        match hits.len() {
            0 => Ok(None),
            1 => Ok(hits.first().copied()),
            _ => Err(binding_error(
                self.command,
                "AmbiguousParameter",
                format!(
                    "Parameter cannot be processed because the parameter name '{name}' is ambiguous. Possible matches include: {}.",
                    hits.iter()
                        .map(|&i| format!("-{}", self.sig.params[i].name))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            )),
        }
    }

    /// Binds a common parameter; returns whether `name` was one.
    fn bind_common(
        &self,
        name: &str,
        a: &RawArg,
        rest: &mut std::iter::Peekable<impl Iterator<Item = RawArg>>,
        args: &mut Args,
    ) -> Result<bool, ErrorRecord> {
        // A command's own parameter wins over a common one of the same prefix.
        if self.sig.params.iter().any(|p| p.matches_name(name)) {
            return Ok(false);
        }
        let lower = name.to_ascii_lowercase();
        let table = COMMON_PARAMS
            .iter()
            .chain(if self.sig.supports_should_process {
                SHOULD_PROCESS_PARAMS.iter()
            } else {
                [].iter()
            });
        let mut found = None;
        for (n, aliases) in table {
            let exact = n.eq_ignore_ascii_case(name)
                || aliases.iter().any(|x| x.eq_ignore_ascii_case(name));
            if exact {
                found = Some(*n);
                break;
            }
            if n.to_ascii_lowercase().starts_with(&lower)
                && !self
                    .sig
                    .params
                    .iter()
                    .any(|p| p.name.to_ascii_lowercase().starts_with(&lower))
            {
                found = Some(*n);
            }
        }
        let Some(param) = found else {
            return Ok(false);
        };
        let is_switch = matches!(param, "Verbose" | "Debug" | "WhatIf" | "Confirm");
        let value = if a.colon || a.value.is_some() {
            a.value.clone().unwrap_or_default()
        } else if is_switch {
            Value::Bool(true)
        } else {
            match rest.next_if(|n| n.name.is_none()) {
                Some(n) => n.value.unwrap_or_default(),
                None => {
                    return Err(binding_error(
                        self.command,
                        "MissingArgument",
                        format!(
                            "Missing an argument for parameter '{param}'. Specify a parameter of type 'System.String' and try again."
                        ),
                    ));
                }
            }
        };
        let action = |v: &Value| {
            ActionPreference::parse(v).ok_or_else(|| {
                binding_error(
                    self.command,
                    "CannotConvertArgumentNoMessage",
                    format!(
                        "Cannot bind parameter '{param}'. Cannot convert value \"{v}\" to type \"System.Management.Automation.ActionPreference\". Error: \"Unable to match the identifier name {v} to a valid enumerator name. Specify one of the following enumerator names and try again: SilentlyContinue, Stop, Continue, Inquire, Ignore\""
                    ),
                )
            })
        };
        let var = |v: &Value| {
            let s = v.to_string();
            match s.strip_prefix('+') {
                Some(n) => (n.to_string(), true),
                None => (s, false),
            }
        };
        match param {
            "ErrorAction" => args.common.error_action = Some(action(&value)?),
            "WarningAction" => args.common.warning_action = Some(action(&value)?),
            "InformationAction" => args.common.information_action = Some(action(&value)?),
            "ErrorVariable" => args.common.error_variable = Some(var(&value)),
            "WarningVariable" => args.common.warning_variable = Some(var(&value)),
            "OutVariable" => args.common.out_variable = Some(var(&value)),
            "Verbose" => args.common.verbose = Some(value.is_true()),
            "Debug" => args.common.debug = Some(value.is_true()),
            "WhatIf" => args.common.what_if = Some(value.is_true()),
            "Confirm" => args.common.confirm = Some(value.is_true()),
            _ => {}
        }
        Ok(true)
    }

    /// Converts and validates a value for a parameter.
    pub fn convert(&self, spec: &ParamSpec, v: Value) -> Result<Value, ErrorRecord> {
        let v = match &spec.ty {
            ParamType::Switch => Value::Bool(v.is_true()),
            ParamType::Typed(PsType::Object) => v,
            ParamType::Typed(t) => {
                if matches!(t, PsType::Bool) && matches!(v, Value::String(_)) {
                    return Err(binding_error(
                        self.command,
                        "ParameterArgumentTransformationError",
                        format!(
                            "Cannot process argument transformation on parameter '{}'. Cannot convert value \"System.String\" to type \"System.Boolean\". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.",
                            spec.name
                        ),
                    ));
                }
                convert_to(&v, t).map_err(|e| {
                    if self.is_script {
                        binding_error(
                            self.command,
                            "ParameterArgumentTransformationError",
                            format!(
                                "Cannot process argument transformation on parameter '{}'. {}",
                                spec.name, e.message
                            ),
                        )
                    } else {
                        binding_error(
                            self.command,
                            "CannotConvertArgumentNoMessage",
                            format!("Cannot bind parameter '{}'. {}", spec.name, e.message),
                        )
                    }
                })?
            }
        };
        self.validate(spec, &v)?;
        Ok(v)
    }

    fn validate(&self, spec: &ParamSpec, v: &Value) -> Result<(), ErrorRecord> {
        let fail = |why: String| {
            binding_error(
                self.command,
                "ParameterArgumentValidationError",
                format!(
                    "Cannot validate argument on parameter '{}'. {why}",
                    spec.name
                ),
            )
        };
        if spec.not_empty {
            let empty = match v {
                Value::Null => true,
                Value::String(s) => s.is_empty(),
                Value::Array(a) => a.is_empty(),
                _ => false,
            };
            if empty {
                return Err(fail("The argument is null or empty. Provide an argument that is not null or empty, and then try the command again.".into()));
            }
        }
        if !spec.values.is_empty() && !v.is_null() {
            for item in v.enumerate() {
                let s = item.to_string();
                if !spec.values.iter().any(|x| x.eq_ignore_ascii_case(&s)) {
                    if let Some(t) = &spec.enum_type {
                        return Err(binding_error(
                            self.command,
                            "CannotConvertArgumentNoMessage",
                            format!(
                                "Cannot bind parameter '{}'. Cannot convert value \"{s}\" to type \"{t}\". Error: \"Unable to match the identifier name {s} to a valid enumerator name. Specify one of the following enumerator names and try again: {}\"",
                                spec.name,
                                spec.values
                                    .iter()
                                    .map(|x| x.to_string())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        ));
                    }
                    return Err(fail(format!(
                        "The argument \"{s}\" does not belong to the set \"{}\" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.",
                        spec.values
                            .iter()
                            .map(|x| x.to_string())
                            .collect::<Vec<_>>()
                            .join(",")
                    )));
                }
            }
        }
        if let Some((lo, hi)) = spec.range {
            for item in v.enumerate() {
                let Some(n) = item.as_i64() else { continue };
                if n < lo {
                    return Err(fail(format!(
                        "The {n} argument is less than the minimum allowed range of {lo}. Supply an argument that is greater than or equal to {lo} and then try the command again."
                    )));
                }
                if n > hi {
                    return Err(fail(format!(
                        "The {n} argument is greater than the maximum allowed range of {hi}. Supply an argument that is less than or equal to {hi} and then try the command again."
                    )));
                }
            }
        }
        Ok(())
    }

    /// Reports mandatory parameters that are still missing. Parameters that
    /// take pipeline input are left for the pipeline when input is coming.
    pub fn check_mandatory(&self, args: &Args, pipeline_input: bool) -> Result<(), ErrorRecord> {
        let missing: Vec<&str> = self
            .sig
            .params
            .iter()
            .filter(|p| p.mandatory && args.set.is_none_or(|s| p.in_set(s)))
            .filter(|p| !args.has(&p.name))
            .filter(|p| !(pipeline_input && (p.pipeline || p.by_name)))
            .map(|p| &*p.name)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(binding_error(
            self.command,
            "MissingMandatoryParameter",
            format!(
                "Cannot process command because of one or more missing mandatory parameters: {}.",
                missing.join(" ")
            ),
        ))
    }

    /// Binds one pipeline object by value, then by property name. Returns
    /// `Ok(None)` when the object fits no parameter.
    pub fn bind_pipeline(&self, base: &Args, input: &Value) -> Result<Option<Args>, ErrorRecord> {
        let mut args = base.clone();
        // Pipeline input may choose the parameter set: any set that holds
        // every parameter given on the command line is still open.
        let open: Vec<&'static str> = self
            .sig
            .set_names()
            .into_iter()
            .filter(|s| {
                base.iter()
                    .all(|(name, _)| self.sig.find(name).is_none_or(|p| p.in_set(s)))
            })
            .collect();
        let in_set = |p: &ParamSpec| p.sets.is_empty() || p.sets.iter().any(|s| open.contains(s));
        let mut any = false;
        // By value: the first pipeline parameter whose type accepts it.
        for p in self.sig.params.iter().filter(|p| p.pipeline && in_set(p)) {
            if base.has(&p.name) {
                continue;
            }
            let converted = match &p.ty {
                ParamType::Typed(PsType::Object) => Some(input.clone()),
                ParamType::Typed(t) => convert_to(input, t).ok(),
                ParamType::Switch => None,
            };
            if let Some(v) = converted {
                self.validate(p, &v)?;
                args.values.push((p.name.clone(), v));
                args.from_pipeline.push(p.name.clone());
                any = true;
                break;
            }
        }
        // By property name.
        if let Value::Object(o) = input {
            let o = o.borrow();
            for p in self.sig.params.iter().filter(|p| p.by_name && in_set(p)) {
                if args.has(&p.name) {
                    continue;
                }
                let prop = o
                    .prop(&p.name)
                    .or_else(|| p.aliases.iter().find_map(|a| o.prop(a)));
                if let Some(prop) = prop {
                    let v = self.convert(p, prop.value.clone())?;
                    args.values.push((p.name.clone(), v));
                    args.from_pipeline.push(p.name.clone());
                    any = true;
                }
            }
        }
        if !any {
            return Ok(None);
        }
        self.check_mandatory(&args, false)?;
        Ok(Some(args))
    }

    pub fn takes_pipeline(&self) -> bool {
        self.sig.params.iter().any(|p| p.pipeline || p.by_name)
    }
}

fn type_full(spec: &ParamSpec) -> String {
    match &spec.ty {
        ParamType::Switch => "System.Management.Automation.SwitchParameter".into(),
        ParamType::Typed(t) => t.full_name(),
    }
}

pub fn input_binding_error(cmd: &str, input: &Value) -> ErrorRecord {
    binding_error(
        cmd,
        "InputObjectNotBound",
        "The input object cannot be bound to any parameters for the command either because the command does not take pipeline input or the input and its properties do not match any of the parameters that take pipeline input.".to_string(),
    )
    .with_target(input.clone())
}
