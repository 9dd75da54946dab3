//! Format-Table, Format-List and Format-Wide. They turn objects into lines
//! of text, which Out-Default then prints as they are.

use crate::commands::gathered::{AllInput, Gathered};
use crate::commands::{Args, CommandInfo, Cx, Signature};
use crate::format::{
    Column, TableSpec, View, cell_text, default_columns, display_prop, list_lines, render_table,
    view_of,
};
use crate::runtime::error::{Flow, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::Value;
use crate::runtime::wildcard::Wildcard;

fn sig() -> Signature {
    Signature::new()
        .named(
            "Property",
            PsType::Array(None),
            "The properties to show; a hashtable @{Name=..; Expression={..}} computes one.",
        )
        .positional(0)
        .named("InputObject", PsType::Object, "The objects to format.")
        .from_pipeline()
}

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<Gathered<FormatTable>>(
            "Format-Table",
            "Shows objects as a table.",
            sig()
                .switch("AutoSize", "Sizes columns to their content.")
                .switch("HideTableHeaders", "Leaves out the column headers.")
                .switch("Wrap", "Accepted for compatibility.")
                .named("GroupBy", PsType::Object, "Accepted for compatibility."),
        )
        .aliases(&["ft"]),
        CommandInfo::new::<Gathered<FormatList>>(
            "Format-List",
            "Shows each property of objects on its own line.",
            sig().named("GroupBy", PsType::Object, "Accepted for compatibility."),
        )
        .aliases(&["fl"]),
        CommandInfo::new::<Gathered<FormatWide>>(
            "Format-Wide",
            "Shows one property of objects in columns.",
            sig()
                .named("Column", PsType::Int, "How many columns.")
                .switch("AutoSize", "Fits as many columns as the width allows."),
        )
        .aliases(&["fw"]),
    ]
}

/// A requested column: a property name (maybe a wildcard) or a calculated one.
enum Col {
    Name(String),
    Computed(String, Value),
}

fn requested(args: &Args) -> Option<Vec<Col>> {
    let p = args.get("Property")?;
    Some(
        p.enumerate()
            .into_iter()
            .map(|x| match &x {
                Value::Hashtable(h) => {
                    let h = h.borrow();
                    let name = ["Name", "N", "Label", "L"]
                        .iter()
                        .find_map(|k| h.get_str(k))
                        .map(|v| v.to_string());
                    let expr = ["Expression", "E"]
                        .iter()
                        .find_map(|k| h.get_str(k))
                        .cloned()
                        .unwrap_or_default();
                    Col::Computed(name.unwrap_or_else(|| expr.to_string()), expr)
                }
                other => Col::Name(other.to_string()),
            })
            .collect(),
    )
}

/// Expands wildcards against the first object's properties.
fn column_names(cols: &[Col], first: &Value) -> Vec<(String, Option<Value>)> {
    let names = default_columns(first);
    let mut out = Vec::new();
    for c in cols {
        match c {
            Col::Name(n) if Wildcard::has_wildcards(n) => {
                let w = Wildcard::new(n, false);
                out.extend(
                    names
                        .iter()
                        .filter(|x| w.is_match(x))
                        .map(|x| (x.clone(), None)),
                );
            }
            Col::Name(n) => {
                let real = names
                    .iter()
                    .find(|x| x.eq_ignore_ascii_case(n))
                    .cloned()
                    .unwrap_or_else(|| n.clone());
                out.push((real, None));
            }
            Col::Computed(n, e) => out.push((n.clone(), Some(e.clone()))),
        }
    }
    out
}

fn cell(cx: &mut Cx, item: &Value, name: &str, expr: &Option<Value>) -> Res<Value> {
    match expr {
        Some(Value::ScriptBlock(sb)) => {
            let sb = sb.clone();
            cx.it.invoke_with_item(&sb, item.clone())
        }
        Some(other) => cx
            .it
            .get_member(item, &other.to_string())
            .map_err(Flow::error),
        None => match item {
            Value::Object(_) | Value::Hashtable(_) | Value::Type(_) => Ok(display_prop(item, name)),
            other => cx.it.get_member(other, name).map_err(Flow::error),
        },
    }
}

fn emit_lines(cx: &mut Cx, lines: Vec<String>) -> Res<()> {
    for l in lines {
        cx.emit(Value::from(l))?;
    }
    Ok(())
}

#[derive(Default)]
struct FormatTable;

impl AllInput for FormatTable {
    fn finish(&self, cx: &mut Cx, args: &Args, items: Vec<Value>) -> Res<()> {
        let Some(first) = items.first().cloned() else {
            return Ok(());
        };
        let hashtable = view_of(&first) == View::HashTable;
        let cols: Vec<(String, Option<Value>)> = match requested(args) {
            Some(r) => column_names(&r, &first),
            None if hashtable => vec![("Name".into(), None), ("Value".into(), None)],
            None if view_of(&first) == View::Scalar => {
                let mut lines = Vec::new();
                for it in &items {
                    lines.push(cell_text(it));
                }
                return emit_lines(cx, lines);
            }
            None => default_columns(&first)
                .into_iter()
                .map(|c| (c, None))
                .collect(),
        };
        let mut rows = Vec::new();
        for it in &items {
            if hashtable
                && args.get("Property").is_none()
                && let Value::Hashtable(h) = it
            {
                for (k, v) in h.borrow().entries() {
                    rows.push(vec![k.clone(), v.clone()]);
                }
                continue;
            }
            let mut row = Vec::new();
            for (n, e) in &cols {
                row.push(cell(cx, it, n, e)?);
            }
            rows.push(row);
        }
        let spec = TableSpec {
            columns: cols
                .iter()
                .enumerate()
                .map(|(i, (n, _))| Column {
                    header: n.clone(),
                    width: if hashtable
                        && i == 0
                        && !args.switch("AutoSize")
                        && args.get("Property").is_none()
                    {
                        Some(30)
                    } else {
                        None
                    },
                    right: None,
                })
                .collect(),
            autosize: args.switch("AutoSize"),
            width: cx.it.host.width(),
            fixed: None,
            headers: !args.switch("HideTableHeaders"),
        };
        let (lines, _) = render_table(&spec, &rows);
        let mut out = vec![String::new()];
        out.extend(lines);
        out.push(String::new());
        emit_lines(cx, out)
    }
}

#[derive(Default)]
struct FormatList;

impl AllInput for FormatList {
    fn finish(&self, cx: &mut Cx, args: &Args, items: Vec<Value>) -> Res<()> {
        let mut out = vec![String::new()];
        let req = requested(args);
        for it in &items {
            if view_of(it) == View::Scalar && req.is_none() {
                out.push(cell_text(it));
                continue;
            }
            let lines = match &req {
                Some(r) => {
                    let cols = column_names(r, it);
                    let mut o = crate::runtime::value::PsObject::custom();
                    for (n, e) in &cols {
                        let v = cell(cx, it, n, e)?;
                        o.set(n, v);
                    }
                    list_lines(&Value::object(o), None)
                }
                None => list_lines(it, None),
            };
            out.extend(lines);
            out.push(String::new());
        }
        if items.is_empty() {
            return Ok(());
        }
        emit_lines(cx, out)
    }
}

#[derive(Default)]
struct FormatWide;

impl AllInput for FormatWide {
    fn finish(&self, cx: &mut Cx, args: &Args, items: Vec<Value>) -> Res<()> {
        let prop = args.get("Property").map(|p| p.to_string());
        let mut texts = Vec::new();
        for it in &items {
            let v = match &prop {
                Some(p) => cx.it.get_member(it, p).map_err(Flow::error)?,
                None => match it {
                    Value::Object(o) => o
                        .borrow()
                        .props()
                        .first()
                        .map(|p| p.value.clone())
                        .unwrap_or_default(),
                    other => other.clone(),
                },
            };
            texts.push(cell_text(&v));
        }
        let width = cx.it.host.width();
        let longest = texts.iter().map(|t| t.chars().count()).max().unwrap_or(0);
        let cols = match args.get("Column").and_then(Value::as_i64) {
            Some(n) => n.max(1) as usize,
            None if args.switch("AutoSize") => (width / (longest + 1).max(1)).max(1),
            None => 2,
        };
        let col_width = (width / cols).max(1);
        let mut lines = vec![String::new()];
        for chunk in texts.chunks(cols) {
            let mut line = String::new();
            for t in chunk {
                line.push_str(&format!(
                    "{:<w$}",
                    crate::format::table_fit(t, col_width.saturating_sub(1)),
                    w = col_width
                ));
            }
            lines.push(line.trim_end().to_string());
        }
        lines.push(String::new());
        emit_lines(cx, lines)
    }
}
