//! Select-Object: picks properties (including calculated ones), expands one
//! property, or takes the first/last/unique objects.

use std::collections::VecDeque;
use std::rc::Rc;

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::runtime::error::{ErrorCategory, Flow, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::{PSCUSTOMOBJECT, PsObject, Value};
use crate::runtime::wildcard::Wildcard;

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<SelectObject>(
            "Select-Object",
            "Selects properties of objects, or a number of objects.",
            Signature::new()
                .named(
                    "Property",
                    PsType::Array(None),
                    "Properties to keep; a hashtable @{Name=..; Expression={..}} computes one.",
                )
                .positional(0)
                .named(
                    "ExcludeProperty",
                    PsType::Array(Some(Box::new(PsType::String))),
                    "Properties to leave out.",
                )
                .named(
                    "ExpandProperty",
                    PsType::String,
                    "Outputs the value of this property instead of an object.",
                )
                .named(
                    "First",
                    PsType::Int,
                    "Takes this many objects from the start.",
                )
                .named("Last", PsType::Int, "Takes this many objects from the end.")
                .named(
                    "Skip",
                    PsType::Int,
                    "Skips this many objects from the start.",
                )
                .named(
                    "SkipLast",
                    PsType::Int,
                    "Skips this many objects from the end.",
                )
                .named(
                    "Index",
                    PsType::Array(Some(Box::new(PsType::Int))),
                    "Takes the objects at these positions.",
                )
                .switch("Unique", "Drops duplicates.")
                .named("InputObject", PsType::Object, "The objects to select from.")
                .from_pipeline(),
        )
        .aliases(&["select"])
        .examples(&[Example {
            code: "Get-CsUser | Select-Object DisplayName, SipAddress, ConferencingPolicy",
            about: "Shows three properties of each user.",
        }]),
    ]
}

/// A property to produce: a name pattern, or a name and an expression.
enum Pick {
    Name(String),
    Computed(String, Value),
}

#[derive(Default)]
struct SelectObject {
    picks: Option<Vec<Pick>>,
    seen: usize,
    taken: usize,
    last: VecDeque<Value>,
    unique: Vec<Value>,
    all: Vec<Value>,
}

impl SelectObject {
    fn picks(&mut self, cx: &Cx, args: &Args) -> Res<()> {
        if self.picks.is_some() {
            return Ok(());
        }
        let Some(props) = args.get("Property") else {
            return Ok(());
        };
        let mut out = Vec::new();
        for p in props.enumerate() {
            match &p {
                Value::Hashtable(h) => {
                    let h = h.borrow();
                    let name = ["Name", "N", "Label", "L"]
                        .iter()
                        .find_map(|k| h.get_str(k))
                        .map(|v| v.to_string());
                    let expr = ["Expression", "E"]
                        .iter()
                        .find_map(|k| h.get_str(k))
                        .cloned();
                    match (name, expr) {
                        (Some(n), Some(e)) => out.push(Pick::Computed(n, e)),
                        (None, Some(e)) => out.push(Pick::Computed(e.to_string(), e)),
                        _ => {
                            return Err(cx.fail_msg(
                                "A calculated property needs an Expression key (and usually a Name).",
                                "DictionaryKeyMissing",
                                ErrorCategory::InvalidArgument,
                            ));
                        }
                    }
                }
                other => out.push(Pick::Name(other.to_string())),
            }
        }
        self.picks = Some(out);
        Ok(())
    }

    /// Builds the output for one object.
    fn shape(&mut self, cx: &mut Cx, args: &Args, item: Value) -> Res<Vec<Value>> {
        if let Some(exp) = args.string("ExpandProperty") {
            let v = cx.it.get_member(&item, &exp).map_err(Flow::error)?;
            if v.is_null() && !has_prop(&item, &exp) {
                cx.error(
                    crate::runtime::error::ErrorRecord::new(
                        format!("Property \"{exp}\" cannot be found."),
                        "ExpandPropertyNotFound,Microsoft.PowerShell.Commands.SelectObjectCommand",
                        ErrorCategory::InvalidArgument,
                    )
                    .with_target(item),
                )?;
                return Ok(Vec::new());
            }
            return Ok(v.enumerate());
        }
        let Some(picks) = &self.picks else {
            return Ok(vec![item]);
        };
        let exclude: Vec<Wildcard> = args
            .get("ExcludeProperty")
            .map(|v| {
                v.enumerate()
                    .iter()
                    .map(|x| Wildcard::new(&x.to_string(), false))
                    .collect()
            })
            .unwrap_or_default();
        let source_type = item.type_name();
        let mut o = PsObject::with_type(Rc::from(vec![
            Rc::from(format!("Selected.{source_type}")),
            Rc::from(PSCUSTOMOBJECT),
            Rc::from("System.Object"),
        ]));
        for p in picks {
            match p {
                Pick::Name(pattern) if Wildcard::has_wildcards(pattern) => {
                    let w = Wildcard::new(pattern, false);
                    for name in prop_names(&item) {
                        if w.is_match(&name) && !exclude.iter().any(|x| x.is_match(&name)) {
                            let v = cx.it.get_member(&item, &name).map_err(Flow::error)?;
                            o.set(&name, v);
                        }
                    }
                }
                Pick::Name(name) => {
                    if exclude.iter().any(|x| x.is_match(name)) {
                        continue;
                    }
                    let real = prop_names(&item)
                        .into_iter()
                        .find(|n| n.eq_ignore_ascii_case(name))
                        .unwrap_or_else(|| name.clone());
                    let v = cx.it.get_member(&item, name).map_err(Flow::error)?;
                    o.set(&real, v);
                }
                Pick::Computed(name, expr) => {
                    let v = match expr {
                        Value::ScriptBlock(sb) => {
                            let sb = sb.clone();
                            cx.it.invoke_with_item(&sb, item.clone())?
                        }
                        other => cx
                            .it
                            .get_member(&item, &other.to_string())
                            .map_err(Flow::error)?,
                    };
                    o.set(name, v);
                }
            }
        }
        Ok(vec![Value::object(o)])
    }
}

fn has_prop(v: &Value, name: &str) -> bool {
    match v {
        Value::Object(o) => o.borrow().prop(name).is_some(),
        Value::Hashtable(h) => h.borrow().get_str(name).is_some(),
        Value::String(_) => name.eq_ignore_ascii_case("length"),
        _ => false,
    }
}

fn prop_names(v: &Value) -> Vec<String> {
    match v {
        Value::Object(o) => o
            .borrow()
            .props()
            .iter()
            .map(|p| p.name.to_string())
            .collect(),
        Value::Hashtable(h) => h.borrow().entries().map(|(k, _)| k.to_string()).collect(),
        Value::String(_) => vec!["Length".into()],
        _ => Vec::new(),
    }
}

impl Processor for SelectObject {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let Some(item) = args.get("InputObject").cloned() else {
            return Ok(());
        };
        self.picks(cx, args)?;
        let index = self.seen;
        self.seen += 1;
        let skip = args.get("Skip").and_then(Value::as_i64).unwrap_or(0).max(0) as usize;
        if index < skip {
            return Ok(());
        }
        if let Some(idx) = args.get("Index") {
            let wanted: Vec<i64> = idx.enumerate().iter().filter_map(Value::as_i64).collect();
            if !wanted.contains(&(index as i64)) {
                return Ok(());
            }
        }
        let needs_all = args.has("Last") || args.has("SkipLast");
        if needs_all {
            self.last.push_back(item);
            if let Some(n) = args.get("Last").and_then(Value::as_i64)
                && self.last.len() > n.max(0) as usize
                && !args.has("SkipLast")
            {
                self.last.pop_front();
            }
            return Ok(());
        }
        if args.switch("Unique") {
            self.all.push(item);
            return Ok(());
        }
        let first = args
            .get("First")
            .and_then(Value::as_i64)
            .map(|n| n.max(0) as usize);
        if first == Some(0) {
            return Err(Flow::StopUpstream(cx.rt.pipeline, cx.rt.stage));
        }
        for v in self.shape(cx, args, item)? {
            cx.emit(v)?;
        }
        self.taken += 1;
        if let Some(n) = first
            && self.taken >= n
        {
            // Enough: the commands before this one stop producing.
            return Err(Flow::StopUpstream(cx.rt.pipeline, cx.rt.stage));
        }
        Ok(())
    }

    fn end(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let mut rest: Vec<Value> = std::mem::take(&mut self.last).into();
        if let Some(n) = args.get("SkipLast").and_then(Value::as_i64) {
            let keep = rest.len().saturating_sub(n.max(0) as usize);
            rest.truncate(keep);
            if let Some(l) = args.get("Last").and_then(Value::as_i64) {
                let drop = rest.len().saturating_sub(l.max(0) as usize);
                rest.drain(..drop);
            }
        }
        rest.extend(std::mem::take(&mut self.all));
        let mut shaped = Vec::new();
        for item in rest {
            shaped.extend(self.shape(cx, args, item)?);
        }
        if args.switch("Unique") {
            let mut kept: Vec<Value> = Vec::new();
            for v in shaped {
                let key = v.to_string();
                if !kept.iter().any(|k| k.to_string() == key) {
                    kept.push(v);
                }
            }
            shaped = kept;
            if let Some(n) = args.get("First").and_then(Value::as_i64) {
                shaped.truncate(n.max(0) as usize);
            }
        }
        self.unique.clear();
        for v in shaped {
            cx.emit(v)?;
        }
        Ok(())
    }
}
