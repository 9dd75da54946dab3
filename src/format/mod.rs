//! Turning objects into text the way pwsh 7's Out-Default does: scalars one
//! per line; objects with up to four properties as a table, with more as a
//! list; hashtables as Name/Value tables; blank lines around each group.
//! Pure functions from objects and a width to text, plus the small state
//! that lets a table wait for its rows to size its columns.

mod table;
mod text;

pub use table::{Column, TableSpec, fit as table_fit, render_table};
pub use text::{cell_text, list_value_text, scalar_text};

use unicode_width::UnicodeWidthStr;

use crate::host::{Host, Stream};
use crate::runtime::value::Value;

/// How many rows a default table collects before it is drawn with the
/// widths seen so far (pwsh waits a moment instead; a count is repeatable).
const TABLE_BATCH: usize = 300;

/// The view Out-Default picks for an object.
#[derive(Debug, PartialEq, Eq)]
pub enum View {
    Scalar,
    Table,
    List,
    HashTable,
}

/// A table view pwsh defines for a type: columns as (header, property,
/// width, right-aligned), and a property whose change starts a new group
/// under a `   Label: value` heading.
pub struct TypeView {
    pub type_name: &'static str,
    pub columns: &'static [(&'static str, &'static str, Option<usize>, Option<bool>)],
    pub group_by: Option<(&'static str, &'static str)>,
}

static TYPE_VIEWS: &[TypeView] = &[
    TypeView {
        type_name: "Microsoft.PowerShell.Commands.GroupInfoNoElement",
        columns: &[
            ("Count", "Count", Some(5), Some(true)),
            ("Name", "Name", None, Some(false)),
        ],
        group_by: None,
    },
    TypeView {
        type_name: "Microsoft.PowerShell.Commands.GroupInfo",
        columns: &[
            ("Count", "Count", Some(5), Some(true)),
            ("Name", "Name", Some(25), Some(false)),
            ("Group", "Group", None, Some(false)),
        ],
        group_by: None,
    },
    TypeView {
        type_name: "Microsoft.PowerShell.Commands.MemberDefinition",
        columns: &[
            ("Name", "Name", None, Some(false)),
            ("MemberType", "MemberType", None, Some(false)),
            ("Definition", "Definition", None, Some(false)),
        ],
        group_by: Some(("TypeName", "TypeName")),
    },
    TypeView {
        type_name: "System.Management.Automation.CommandInfo",
        columns: &[
            ("CommandType", "CommandType", Some(15), Some(false)),
            ("Name", "DisplayName", Some(50), Some(false)),
            ("Version", "Version", Some(10), Some(false)),
            ("Source", "Source", None, Some(false)),
        ],
        group_by: None,
    },
];

/// The type-specific table view of an object, if pwsh defines one.
pub fn type_view(v: &Value) -> Option<&'static TypeView> {
    let Value::Object(o) = v else { return None };
    let o = o.borrow();
    o.type_names
        .iter()
        .find_map(|t| TYPE_VIEWS.iter().find(|view| view.type_name == &**t))
}

pub fn view_of(v: &Value) -> View {
    if type_view(v).is_some() {
        return View::Table;
    }
    match v {
        Value::Hashtable(_) => View::HashTable,
        Value::Object(o) => {
            let o = o.borrow();
            if o.type_names
                .first()
                .is_some_and(|t| &**t == "System.Collections.DictionaryEntry")
            {
                return View::HashTable;
            }
            // Lync's configuration objects always show as lists.
            if o.type_names
                .first()
                .is_some_and(|t| t.starts_with("Microsoft.Rtc."))
            {
                return View::List;
            }
            let visible = o.props().len();
            if visible == 0 {
                View::Scalar
            } else if visible <= 4 {
                View::Table
            } else {
                View::List
            }
        }
        Value::Type(_) => View::Table,
        _ => View::Scalar,
    }
}

/// The columns of a default table for an object.
pub fn default_columns(v: &Value) -> Vec<String> {
    if let Some(view) = type_view(v) {
        return view.columns.iter().map(|c| c.1.to_string()).collect();
    }
    match v {
        Value::Object(o) => o
            .borrow()
            .props()
            .iter()
            .map(|p| p.name.to_string())
            .collect(),
        Value::Type(_) => vec![
            "IsPublic".into(),
            "IsSerial".into(),
            "Name".into(),
            "BaseType".into(),
        ],
        Value::Hashtable(_) => vec!["Name".into(), "Value".into()],
        _ => Vec::new(),
    }
}

/// Reads a display property of an object for formatting.
pub fn display_prop(v: &Value, name: &str) -> Value {
    match v {
        Value::Object(o) => o.borrow().get(name).unwrap_or_default(),
        Value::Type(t) => match name {
            "IsPublic" | "IsSerial" => Value::Bool(true),
            "Name" => Value::from(t.short_name()),
            "BaseType" => Value::from(match t.full_name().as_str() {
                "System.String" | "System.Object[]" | "System.Collections.Hashtable" => {
                    "System.Object"
                }
                _ => "System.ValueType",
            }),
            _ => Value::Null,
        },
        Value::Hashtable(h) => h.borrow().get_str(name).cloned().unwrap_or_default(),
        _ => Value::Null,
    }
}

/// Rows of a hashtable (or dictionary entries) in the Name/Value view.
fn hashtable_rows(v: &Value) -> Vec<Vec<Value>> {
    match v {
        Value::Hashtable(h) => h
            .borrow()
            .entries()
            .map(|(k, val)| vec![k.clone(), val.clone()])
            .collect(),
        Value::Object(o) => {
            let o = o.borrow();
            vec![vec![
                o.get("Key").unwrap_or_default(),
                o.get("Value").unwrap_or_default(),
            ]]
        }
        _ => Vec::new(),
    }
}

/// A table being collected: its columns come from the first object.
struct PendingTable {
    type_name: String,
    hashtable: bool,
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
    /// Column widths fixed by an earlier batch of this same table.
    widths: Option<Vec<usize>>,
    view: Option<&'static TypeView>,
    /// The value of the view's group-by property for these rows.
    group: Option<String>,
}

/// Out-Default's state between objects.
#[derive(Default)]
pub struct OutDefault {
    table: Option<PendingTable>,
    /// The last group written was a list of this type.
    list_type: Option<String>,
    /// Whether the text written so far ends with a blank line.
    ended_blank: bool,
    wrote_any: bool,
}

impl OutDefault {
    /// Shows one output object. `$null` shows nothing; a collection shows
    /// its elements (one level deep), as pwsh's formatter enumerates it.
    pub fn push(&mut self, v: Value, host: &mut dyn Host) {
        match v {
            Value::Null => {}
            Value::Array(a) => {
                for item in a.to_vec() {
                    if !matches!(item, Value::Null) {
                        self.push_one(item, host);
                    }
                }
            }
            other => self.push_one(other, host),
        }
    }

    fn push_one(&mut self, v: Value, host: &mut dyn Host) {
        let width = host.width();
        match view_of(&v) {
            // A date stands apart: a blank line before and after it.
            View::Scalar if matches!(v, Value::DateTime(_)) => {
                self.flush(host);
                self.close_list(host);
                self.open_group(host);
                let text = scalar_text(&v);
                self.write(host, &format!("{text}\n\n"));
            }
            View::Scalar => {
                self.flush(host);
                self.close_list(host);
                let text = scalar_text(&v);
                self.write(host, &format!("{text}\n"));
            }
            View::List => {
                self.flush(host);
                let tn = v.type_name().to_string();
                if self.list_type.as_deref() != Some(tn.as_str()) {
                    self.close_list(host);
                    self.open_group(host);
                    self.list_type = Some(tn);
                }
                let mut out = String::new();
                for line in list_lines(&v, None) {
                    out.push_str(&line);
                    out.push('\n');
                }
                out.push('\n');
                self.write(host, &out);
                self.ended_blank = true;
            }
            View::Table | View::HashTable => {
                self.close_list(host);
                let hashtable = view_of(&v) == View::HashTable;
                let view = type_view(&v);
                // Objects shown by the same view share one table.
                let tn = view
                    .map(|x| x.type_name.to_string())
                    .unwrap_or_else(|| v.type_name().to_string());
                let group = view
                    .and_then(|x| x.group_by)
                    .map(|(_, prop)| display_prop(&v, prop).to_string());
                let same = self.table.as_ref().is_some_and(|t| {
                    t.type_name == tn && t.hashtable == hashtable && t.group == group
                });
                if !same {
                    self.flush(host);
                    if let (Some((label, _)), Some(g)) = (view.and_then(|x| x.group_by), &group) {
                        self.open_group(host);
                        self.write(host, &format!("   {label}: {g}\n\n"));
                    }
                    self.table = Some(PendingTable {
                        view,
                        group,
                        type_name: tn,
                        hashtable,
                        columns: if hashtable {
                            vec!["Name".into(), "Value".into()]
                        } else {
                            default_columns(&v)
                        },
                        rows: Vec::new(),
                        widths: None,
                    });
                }
                if let Some(t) = &mut self.table {
                    if hashtable {
                        t.rows.extend(hashtable_rows(&v));
                    } else {
                        t.rows
                            .push(t.columns.iter().map(|c| display_prop(&v, c)).collect());
                    }
                    if t.rows.len() >= TABLE_BATCH {
                        self.draw_batch(host, width);
                    }
                }
            }
        }
    }

    fn write(&mut self, host: &mut dyn Host, text: &str) {
        if text.is_empty() {
            return;
        }
        host.write(Stream::Output, text);
        self.wrote_any = true;
        self.ended_blank = text.ends_with("\n\n") || (text == "\n");
    }

    fn open_group(&mut self, host: &mut dyn Host) {
        if !self.ended_blank {
            host.write(Stream::Output, "\n");
            self.wrote_any = true;
        }
    }

    fn close_list(&mut self, _host: &mut dyn Host) {
        self.list_type = None;
    }

    /// Draws the rows collected so far; a table continued later keeps its
    /// widths and headers.
    fn draw_batch(&mut self, host: &mut dyn Host, width: usize) {
        let Some(t) = &mut self.table else { return };
        let first = t.widths.is_none();
        let spec = TableSpec {
            columns: t
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| match t.view.and_then(|v| v.columns.get(i)) {
                    Some(&(header, _, width, right)) => Column {
                        header: header.to_string(),
                        width,
                        right,
                    },
                    None => Column {
                        header: c.clone(),
                        width: if t.hashtable && i == 0 {
                            Some(30)
                        } else {
                            None
                        },
                        right: if t.hashtable { Some(false) } else { None },
                    },
                })
                .collect(),
            autosize: false,
            width,
            fixed: t.widths.clone(),
            headers: first,
        };
        let rows = std::mem::take(&mut t.rows);
        let (lines, widths) = render_table(&spec, &rows);
        t.widths = Some(widths);
        let mut out = String::new();
        if first && !self.ended_blank {
            out.push('\n');
        }
        for l in lines {
            out.push_str(&l);
            out.push('\n');
        }
        host.write(Stream::Output, &out);
        self.wrote_any = true;
        self.ended_blank = false;
    }

    /// Ends any pending table: draws it and its closing blank line.
    pub fn flush(&mut self, host: &mut dyn Host) {
        if self.table.is_none() {
            return;
        }
        let width = host.width();
        self.draw_batch(host, width);
        self.table = None;
        host.write(Stream::Output, "\n");
        self.ended_blank = true;
    }
}

/// The lines of one object in list view: `Name : Value`, names padded to
/// the longest. `props` selects and orders properties.
pub fn list_lines(v: &Value, props: Option<&[String]>) -> Vec<String> {
    let pairs: Vec<(String, Value)> = match v {
        Value::Object(o) => {
            let o = o.borrow();
            match props {
                Some(names) => names
                    .iter()
                    .map(|n| {
                        let real = o
                            .prop(n)
                            .map(|p| p.name.to_string())
                            .unwrap_or_else(|| n.clone());
                        (real, o.get(n).unwrap_or_default())
                    })
                    .collect(),
                None => o
                    .props()
                    .iter()
                    .map(|p| (p.name.to_string(), p.value.clone()))
                    .collect(),
            }
        }
        Value::Hashtable(h) => {
            let mut out = Vec::new();
            for (k, val) in h.borrow().entries() {
                out.push(("Name".to_string(), k.clone()));
                out.push(("Value".to_string(), val.clone()));
            }
            return pairs_to_lines_grouped(out);
        }
        Value::Error(e) => vec![
            ("Exception".to_string(), Value::from(&*e.message)),
            (
                "FullyQualifiedErrorId".to_string(),
                Value::String(e.error_id.clone()),
            ),
            ("CategoryInfo".to_string(), Value::from(e.category.name())),
        ],
        other => vec![("Value".into(), other.clone())],
    };
    pairs_to_lines(&pairs)
}

fn pairs_to_lines(pairs: &[(String, Value)]) -> Vec<String> {
    let w = pairs.iter().map(|(n, _)| n.width()).max().unwrap_or(0);
    let mut lines = Vec::new();
    for (n, v) in pairs {
        let text = list_value_text(v);
        let pad = " ".repeat(w - n.width());
        let mut value_lines = text.split('\n');
        let first = value_lines.next().unwrap_or("");
        let line = format!("{n}{pad} : {first}");
        lines.push(line.trim_end().to_string());
        for more in value_lines {
            lines.push(
                format!("{} {}", " ".repeat(w + 2), more)
                    .trim_end()
                    .to_string(),
            );
        }
    }
    lines
}

/// Hashtables in list view: one Name/Value block per entry.
fn pairs_to_lines_grouped(pairs: Vec<(String, Value)>) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, chunk) in pairs.chunks(2).enumerate() {
        if i > 0 {
            lines.push(String::new());
        }
        lines.extend(pairs_to_lines(chunk));
    }
    lines
}

/// Formats a whole stream as Out-Default would: Out-String, Out-File, `>`.
pub fn render_all(values: &[Value], width: usize) -> String {
    let mut host = crate::host::CaptureHost {
        width: Some(width),
        ..Default::default()
    };
    let mut od = OutDefault::default();
    for v in values {
        od.push(v.clone(), &mut host);
    }
    od.flush(&mut host);
    host.stdout
}
