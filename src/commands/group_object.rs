//! Group-Object: collects objects that share the values of some properties
//! (or of script-block keys) into GroupInfo objects, or a hashtable.

use std::cmp::Ordering;
use std::rc::Rc;

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::runtime::error::{ErrorCategory, Flow, Res};
use crate::runtime::ops;
use crate::runtime::types::PsType;
use crate::runtime::value::{Hashtable, Prop, PropKind, PsObject, Value};

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<GroupObject>(
            "Group-Object",
            "Puts objects with equal property values together in groups.",
            Signature::new()
                .named(
                    "Property",
                    PsType::Array(None),
                    "What to group by: property names, script blocks, or @{Expression={..}} keys.",
                )
                .positional(0)
                .switch(
                    "NoElement",
                    "Leaves the grouped objects out; only counts and names remain.",
                )
                .switch(
                    "AsHashTable",
                    "Returns one hashtable: each key maps to the objects of its group.",
                )
                .alias("AHT")
                .switch("AsString", "With -AsHashTable, makes every key a string.")
                .switch("CaseSensitive", "Treats 'a' and 'A' as different keys.")
                .named("Culture", PsType::String, "Accepted for compatibility.")
                .named("InputObject", PsType::Object, "The objects to group.")
                .from_pipeline(),
        )
        .aliases(&["group"])
        .examples(&[Example {
            code: "Get-CsUser | Group-Object RegistrarPool",
            about: "Counts the users homed on each pool and lists them per pool.",
        }]),
    ]
}

#[derive(Default)]
struct GroupObject {
    /// Each input with its key values.
    entries: Vec<(Vec<Value>, Value)>,
}

/// The keys of -Property: a property name or something to evaluate (a
/// script block, or a hashtable's Expression). Compare-Object shares them.
pub fn key_exprs(args: &Args) -> Vec<Value> {
    args.get("Property")
        .map(|p| {
            p.enumerate()
                .into_iter()
                .map(|k| match &k {
                    Value::Hashtable(h) => {
                        let h = h.borrow();
                        ["Expression", "E"]
                            .iter()
                            .find_map(|n| h.get_str(n))
                            .cloned()
                            .unwrap_or_default()
                    }
                    _ => k,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Evaluates the keys of one object.
pub fn eval_keys(cx: &mut Cx, exprs: &[Value], item: &Value) -> Res<Vec<Value>> {
    if exprs.is_empty() {
        return Ok(vec![item.clone()]);
    }
    let mut out = Vec::with_capacity(exprs.len());
    for e in exprs {
        out.push(match e {
            Value::ScriptBlock(sb) => {
                let sb = sb.clone();
                cx.it.invoke_with_item(&sb, item.clone())?
            }
            name => cx
                .it
                .get_member(item, &name.to_string())
                .map_err(Flow::error)?,
        });
    }
    Ok(out)
}

/// Orders two key values as Group-Object and Compare-Object do: numbers by
/// value, text case-insensitively unless asked, anything else as text.
pub fn compare_keys(a: &Value, b: &Value, cs: bool) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => return Ordering::Equal,
        (Value::Null, _) => return Ordering::Less,
        (_, Value::Null) => return Ordering::Greater,
        _ => {}
    }
    let plain = |v: &Value| !matches!(v, Value::Object(_) | Value::Hashtable(_) | Value::Array(_));
    if plain(a)
        && plain(b)
        && let Ok(o) = ops::compare(a, b, cs)
    {
        return o;
    }
    let (x, y) = (a.to_string(), b.to_string());
    if cs {
        x.cmp(&y)
    } else {
        x.to_lowercase().cmp(&y.to_lowercase())
    }
}

fn compare_all(a: &[Value], b: &[Value], cs: bool) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = compare_keys(x, y, cs);
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

struct Group {
    keys: Vec<Value>,
    items: Vec<Value>,
}

fn group_name(keys: &[Value]) -> String {
    keys.iter()
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn group_info(g: Group, no_element: bool) -> Value {
    let types: Vec<Rc<str>> = if no_element {
        vec![
            Rc::from("Microsoft.PowerShell.Commands.GroupInfoNoElement"),
            Rc::from("Microsoft.PowerShell.Commands.GroupInfo"),
            Rc::from("System.Object"),
        ]
    } else {
        vec![
            Rc::from("Microsoft.PowerShell.Commands.GroupInfo"),
            Rc::from("System.Object"),
        ]
    };
    let mut o = PsObject::with_type(Rc::from(types));
    let prop = |name: &str, v: Value| Prop {
        kind: PropKind::Property,
        read_only: true,
        ..Prop::note(name, v)
    };
    o.props_mut()
        .push(prop("Name", Value::from(group_name(&g.keys))));
    o.props_mut()
        .push(prop("Count", Value::from(g.items.len())));
    o.props_mut().push(prop(
        "Group",
        if no_element {
            Value::Null
        } else {
            Value::array(g.items)
        },
    ));
    o.props_mut().push(prop("Values", Value::list(g.keys)));
    Value::object(o)
}

impl Processor for GroupObject {
    fn begin(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        if args.switch("AsString") && !args.switch("AsHashTable") {
            return Err(cx.fail_msg(
                "The AsString parameter only works together with the AsHashTable parameter.",
                "ArgumentException,Microsoft.PowerShell.Commands.GroupObjectCommand",
                ErrorCategory::InvalidArgument,
            ));
        }
        if args.switch("AsHashTable") && !args.switch("AsString") && key_exprs(args).len() > 1 {
            return Err(cx.fail_msg(
                "With -AsHashTable and several properties, add -AsString so the keys can be strings.",
                "ArgumentException,Microsoft.PowerShell.Commands.GroupObjectCommand",
                ErrorCategory::InvalidArgument,
            ));
        }
        Ok(())
    }

    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let Some(item) = args.get("InputObject").filter(|v| !v.is_null()).cloned() else {
            return Ok(());
        };
        let exprs = key_exprs(args);
        let keys = eval_keys(cx, &exprs, &item)?;
        self.entries.push((keys, item));
        Ok(())
    }

    fn end(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let cs = args.switch("CaseSensitive");
        let mut entries = std::mem::take(&mut self.entries);
        // Keys of one type throughout are sorted (stably); mixed types keep
        // the order in which each group first appeared.
        let width = entries.first().map(|e| e.0.len()).unwrap_or(0);
        let uniform = (0..width).all(|i| {
            let mut seen: Option<Rc<str>> = None;
            entries.iter().all(|(k, _)| match k.get(i) {
                None | Some(Value::Null) => true,
                Some(v) => {
                    let t = v.type_name();
                    match &seen {
                        Some(s) => *s == t,
                        None => {
                            seen = Some(t);
                            true
                        }
                    }
                }
            })
        });
        let mut groups: Vec<Group> = Vec::new();
        if uniform {
            entries.sort_by(|a, b| compare_all(&a.0, &b.0, cs));
            for (keys, item) in entries {
                match groups.last_mut() {
                    Some(g) if compare_all(&g.keys, &keys, cs) == Ordering::Equal => {
                        g.items.push(item)
                    }
                    _ => groups.push(Group {
                        keys,
                        items: vec![item],
                    }),
                }
            }
        } else {
            for (keys, item) in entries {
                match groups
                    .iter_mut()
                    .find(|g| compare_all(&g.keys, &keys, cs) == Ordering::Equal)
                {
                    Some(g) => g.items.push(item),
                    None => groups.push(Group {
                        keys,
                        items: vec![item],
                    }),
                }
            }
        }
        if groups.is_empty() {
            return Ok(());
        }
        if args.switch("AsHashTable") {
            let mut h = Hashtable::new(false);
            for g in groups {
                let key = if args.switch("AsString") {
                    Value::from(group_name(&g.keys))
                } else {
                    g.keys.first().cloned().unwrap_or_default()
                };
                h.insert(key, Value::array(g.items));
            }
            return cx.emit(Value::hashtable(h));
        }
        let no_element = args.switch("NoElement");
        for g in groups {
            cx.emit(group_info(g, no_element))?;
        }
        Ok(())
    }
}
