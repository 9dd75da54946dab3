//! Sort-Object: a stable sort by properties or calculated keys, ascending
//! or descending, optionally keeping one of each key.

use std::cmp::Ordering;

use crate::commands::gathered::{AllInput, Gathered};
use crate::commands::{Args, CommandInfo, Cx, Example, Signature};
use crate::runtime::error::{Flow, Res};
use crate::runtime::ops;
use crate::runtime::types::PsType;
use crate::runtime::value::Value;

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<Gathered<SortObject>>(
            "Sort-Object",
            "Sorts objects by property values.",
            Signature::new()
                .named(
                    "Property",
                    PsType::Array(None),
                    "Properties or @{Expression=..; Descending=..} keys to sort by.",
                )
                .positional(0)
                .switch("Descending", "Sorts from highest to lowest.")
                .switch("Unique", "Keeps one object for each distinct key.")
                .switch(
                    "Stable",
                    "Keeps objects with equal keys in their input order (the sort always does).",
                )
                .switch("CaseSensitive", "Distinguishes upper and lower case.")
                .named(
                    "Top",
                    PsType::Int,
                    "Keeps only this many objects from the start of the sorted list.",
                )
                .named(
                    "Bottom",
                    PsType::Int,
                    "Keeps only this many objects from the end of the sorted list.",
                )
                .named("InputObject", PsType::Object, "The objects to sort.")
                .from_pipeline(),
        )
        .aliases(&["sort"])
        .examples(&[Example {
            code: "Get-CsUser | Sort-Object DisplayName",
            about: "Lists users alphabetically.",
        }]),
    ]
}

#[derive(Default)]
struct SortObject;

struct Key {
    expr: Value,
    descending: Option<bool>,
}

impl AllInput for SortObject {
    fn finish(&self, cx: &mut Cx, args: &Args, items: Vec<Value>) -> Res<()> {
        let keys: Vec<Key> = match args.get("Property") {
            Some(p) => p
                .enumerate()
                .into_iter()
                .map(|k| match &k {
                    Value::Hashtable(h) => {
                        let h = h.borrow();
                        let expr = ["Expression", "E"]
                            .iter()
                            .find_map(|n| h.get_str(n))
                            .cloned()
                            .unwrap_or_default();
                        let descending = h
                            .get_str("Descending")
                            .map(Value::is_true)
                            .or_else(|| h.get_str("Ascending").map(|v| !v.is_true()));
                        Key { expr, descending }
                    }
                    _ => Key {
                        expr: k,
                        descending: None,
                    },
                })
                .collect(),
            None => Vec::new(),
        };
        // Compute every key once.
        let mut rows: Vec<(Vec<Value>, Value)> = Vec::with_capacity(items.len());
        for item in items {
            let mut ks = Vec::with_capacity(keys.len().max(1));
            if keys.is_empty() {
                ks.push(item.clone());
            }
            for k in &keys {
                ks.push(match &k.expr {
                    Value::ScriptBlock(sb) => {
                        let sb = sb.clone();
                        cx.it.invoke_with_item(&sb, item.clone())?
                    }
                    name => cx
                        .it
                        .get_member(&item, &name.to_string())
                        .map_err(Flow::error)?,
                });
            }
            rows.push((ks, item));
        }
        let cs = args.switch("CaseSensitive");
        let desc = args.switch("Descending");
        let cmp = |a: &[Value], b: &[Value]| -> Ordering {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                let d = keys.get(i).and_then(|k| k.descending).unwrap_or(desc);
                let o =
                    ops::compare(x, y, cs).unwrap_or_else(|_| x.to_string().cmp(&y.to_string()));
                let o = if d { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        };
        rows.sort_by(|a, b| cmp(&a.0, &b.0));
        if args.switch("Unique") {
            rows.dedup_by(|b, a| cmp(&a.0, &b.0) == Ordering::Equal);
        }
        let mut out: Vec<Value> = rows.into_iter().map(|(_, v)| v).collect();
        if let Some(n) = args.get("Top").and_then(Value::as_i64) {
            out.truncate(n.max(0) as usize);
        }
        if let Some(n) = args.get("Bottom").and_then(Value::as_i64) {
            let drop = out.len().saturating_sub(n.max(0) as usize);
            out.drain(..drop);
        }
        for v in out {
            cx.emit(v)?;
        }
        Ok(())
    }
}
