//! Select-Object: picks properties (including calculated ones), expands one
//! property, or takes the first/last/unique/indexed objects.
//!
//! The object window follows PowerShell's: -First streams objects as they
//! come and then stops the commands upstream, -Last keeps a window of the
//! latest objects, -Skip with -Last drops from the end of that window, and
//! -Wait lets the upstream run to its end.

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::rc::Rc;

use crate::commands::get_member::property_names;
use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Flow, Res};
use crate::runtime::ops;
use crate::runtime::types::PsType;
use crate::runtime::value::{PSCUSTOMOBJECT, PropKind, PsObject, Value};
use crate::runtime::wildcard::Wildcard;
use crate::syntax::ast::ScriptBlockAst;

const SELECT_ID: &str = "Microsoft.PowerShell.Commands.SelectObjectCommand";

const DEFAULT_SET: &str = "DefaultParameter";
const SKIP_LAST_SET: &str = "SkipLastParameter";
const INDEX_SET: &str = "IndexParameter";
const SKIP_INDEX_SET: &str = "SkipIndexParameter";

/// Counts and positions are never negative.
const NON_NEGATIVE: Option<(i64, i64)> = Some((0, i32::MAX as i64));

pub fn infos() -> Vec<CommandInfo> {
    let property_sets = &[DEFAULT_SET, SKIP_LAST_SET];
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
                .sets(property_sets)
                .named(
                    "ExcludeProperty",
                    PsType::Array(Some(Box::new(PsType::String))),
                    "Properties to leave out.",
                )
                .sets(property_sets)
                .named(
                    "ExpandProperty",
                    PsType::String,
                    "Outputs the value of this property instead of an object.",
                )
                .sets(property_sets)
                .switch("Unique", "Drops duplicates.")
                .switch(
                    "CaseInsensitive",
                    "With -Unique, strings that differ only in case are duplicates.",
                )
                .named("Last", PsType::Int, "Takes this many objects from the end.")
                .sets(&[DEFAULT_SET])
                .with(|p| p.range = NON_NEGATIVE)
                .named(
                    "First",
                    PsType::Int,
                    "Takes this many objects from the start.",
                )
                .sets(&[DEFAULT_SET])
                .with(|p| p.range = NON_NEGATIVE)
                .named(
                    "Skip",
                    PsType::Int,
                    "Skips this many objects from the start (from the end of the -Last window).",
                )
                .sets(property_sets)
                .with(|p| p.range = NON_NEGATIVE)
                .named(
                    "SkipLast",
                    PsType::Int,
                    "Skips this many objects from the end.",
                )
                .sets(&[SKIP_LAST_SET])
                .with(|p| p.range = NON_NEGATIVE)
                .switch(
                    "Wait",
                    "Lets the commands before this one run to their end after -First or -Index is satisfied.",
                )
                .sets(&[DEFAULT_SET, INDEX_SET])
                .named(
                    "Index",
                    PsType::Array(Some(Box::new(PsType::Int))),
                    "Takes the objects at these positions.",
                )
                .sets(&[INDEX_SET])
                .with(|p| p.range = NON_NEGATIVE)
                .named(
                    "SkipIndex",
                    PsType::Array(Some(Box::new(PsType::Int))),
                    "Takes every object except those at these positions.",
                )
                .sets(&[SKIP_INDEX_SET])
                .with(|p| p.range = NON_NEGATIVE)
                .named("InputObject", PsType::Object, "The objects to select from.")
                .from_pipeline()
                .default_set(DEFAULT_SET),
        )
        .aliases(&["select"])
        .examples(&[Example {
            code: "Get-CsUser | Select-Object DisplayName, SipAddress, ConferencingPolicy",
            about: "Shows three properties of each user.",
        }]),
    ]
}

/// What a property is computed from.
enum Expr {
    /// A property name, perhaps with wildcards.
    Name(String),
    Script(Rc<ScriptBlockAst>),
}

/// One entry of -Property: an expression, and the name a calculated
/// property gives it.
struct Pick {
    name: Option<String>,
    expr: Expr,
}

fn select_error(msg: String, id: &str, cat: ErrorCategory, exception: &str) -> ErrorRecord {
    ErrorRecord::new(msg, &format!("{id},{SELECT_ID}"), cat).with_exception(exception)
}

/// An error in a calculated property's hashtable.
fn key_error(id: &str, msg: String) -> ErrorRecord {
    select_error(
        msg,
        id,
        ErrorCategory::InvalidArgument,
        "System.NotSupportedException",
    )
}

/// Reads one -Property entry: a name, a script block, or a hashtable whose
/// keys are Name (or Label) and Expression, each possibly shortened.
fn parse_pick(v: &Value) -> Result<Pick, ErrorRecord> {
    match v {
        Value::String(s) => Ok(Pick {
            name: None,
            expr: Expr::Name(s.to_string()),
        }),
        Value::ScriptBlock(sb) => Ok(Pick {
            name: None,
            expr: Expr::Script(sb.clone()),
        }),
        Value::Hashtable(h) => {
            let h = h.borrow();
            let mut name: Option<String> = None;
            let mut expr: Option<Expr> = None;
            for (k, val) in h.entries() {
                let Value::String(key) = k else {
                    return Err(key_error(
                        "DictionaryKeyNonString",
                        format!(
                            "The key {k} of a calculated property is not a string; use Name and Expression as keys."
                        ),
                    ));
                };
                let lower = key.to_ascii_lowercase();
                let is = |full: &str| !lower.is_empty() && full.starts_with(&lower);
                let missing = || {
                    key_error(
                        "DictionaryKeyMissingValue",
                        format!("The key '{key}' of a calculated property has no value."),
                    )
                };
                if is("name") || is("label") {
                    if name.is_some() {
                        return Err(key_error(
                            "DictionaryKeyDuplicate",
                            format!(
                                "The key '{key}' names the property a second time (Name and Label are the same key)."
                            ),
                        ));
                    }
                    match val {
                        Value::String(s) => name = Some(s.to_string()),
                        Value::Null => return Err(missing()),
                        other => {
                            return Err(key_error(
                                "DictionaryKeyIllegalValue2",
                                format!(
                                    "The key '{key}' of a calculated property takes a string, not a value of type {}.",
                                    other.type_name()
                                ),
                            ));
                        }
                    }
                } else if is("expression") {
                    if expr.is_some() {
                        return Err(key_error(
                            "DictionaryKeyDuplicate",
                            format!("The key '{key}' gives the expression a second time."),
                        ));
                    }
                    expr = Some(match val {
                        Value::String(s) => Expr::Name(s.to_string()),
                        Value::ScriptBlock(sb) => Expr::Script(sb.clone()),
                        Value::Null => return Err(missing()),
                        other => {
                            return Err(key_error(
                                "DictionaryKeyIllegalValue1",
                                format!(
                                    "The key '{key}' of a calculated property takes a string or a script block, not a value of type {}.",
                                    other.type_name()
                                ),
                            ));
                        }
                    });
                } else {
                    return Err(key_error(
                        "DictionaryKeyIllegal",
                        format!(
                            "A calculated property has no key '{key}'; its keys are Name (or Label) and Expression."
                        ),
                    ));
                }
            }
            match expr {
                Some(expr) => Ok(Pick { name, expr }),
                None => Err(key_error(
                    "DictionaryKeyMandatoryEntry",
                    "A calculated property needs an Expression key.".into(),
                )),
            }
        }
        other => Err(key_error(
            "DictionaryKeyUnknownType",
            format!(
                "A property is given as a name, a script block or a hashtable, not as a value of type {}.",
                other.type_name()
            ),
        )),
    }
}

/// The object window of -First, -Last, -Skip and -SkipLast.
#[derive(Default)]
struct Window {
    queue: VecDeque<Value>,
    first: usize,
    last: usize,
    skip: usize,
    skip_last: usize,
    first_or_last: bool,
    streamed: usize,
}

impl Window {
    /// Whether -First has been served and nothing more is wanted.
    fn done(&self) -> bool {
        self.first_or_last && self.last == 0 && self.first != 0 && self.streamed >= self.first
    }

    fn push(&mut self, v: Value) {
        let full = if self.first == 0 {
            self.last + self.skip
        } else {
            self.last
        };
        if self.last > 0 && self.queue.len() >= full {
            self.queue.pop_front();
        }
        self.queue.push_back(v);
    }

    /// The object to pass on now, if any.
    fn take(&mut self) -> Option<Value> {
        if self.skip > 0 {
            if self.last == 0 || self.first != 0 {
                self.skip -= 1;
                self.queue.pop_front();
            }
            return None;
        }
        if self.skip_last > 0 {
            if self.queue.len() > self.skip_last {
                return self.queue.pop_front();
            }
            return None;
        }
        if self.streamed < self.first || !self.first_or_last {
            self.streamed += 1;
            return self.queue.pop_front();
        }
        if self.last == 0 {
            self.queue.pop_front();
        }
        None
    }
}

/// An object kept by -Unique, with the properties Select-Object gave it.
struct Kept {
    value: Value,
    notes: Vec<(String, Value)>,
}

#[derive(Default)]
struct SelectObject {
    picks: Vec<Pick>,
    expand: Option<String>,
    exclude: Vec<Wildcard>,
    window: Window,
    /// Skip as given (the window counts its copy down).
    skip: usize,
    /// Sorted positions of -Index (true) or -SkipIndex (false).
    index: Option<(Vec<usize>, bool)>,
    next_index: usize,
    position: usize,
    wait: bool,
    default_set: bool,
    unique: Option<Vec<Kept>>,
    case_sensitive: bool,
}

fn count(args: &Args, name: &str) -> usize {
    args.get(name)
        .and_then(Value::as_i64)
        .map(|n| n.max(0) as usize)
        .unwrap_or(0)
}

/// The .NET type Select-Object names its output after: PSCustomObject for
/// every custom object, whatever type names were added to it.
fn base_type_name(v: &Value) -> Rc<str> {
    match v {
        Value::Object(o) if o.borrow().type_names.iter().any(|t| &**t == PSCUSTOMOBJECT) => {
            Rc::from(PSCUSTOMOBJECT)
        }
        other => other.type_name(),
    }
}

fn is_custom_object(v: &Value) -> bool {
    matches!(v, Value::Object(o) if o.borrow().type_names.iter().any(|t| &**t == PSCUSTOMOBJECT))
}

/// Puts `Selected.<type>` first among the type names of a custom object,
/// unless it is already there (a new object always gets it).
fn mark_selected(obj: &Value, source: &Value, new_object: bool) {
    let Value::Object(o) = obj else { return };
    if !is_custom_object(obj) {
        return;
    }
    let name: Rc<str> = Rc::from(format!("Selected.{}", base_type_name(source)));
    let mut o = o.borrow_mut();
    if new_object || !o.type_names.contains(&name) {
        let mut names: Vec<Rc<str>> = Vec::with_capacity(o.type_names.len() + 1);
        names.push(name);
        names.extend(o.type_names.iter().cloned());
        o.type_names = Rc::from(names);
    }
}

/// The name a property has on `item`, if it has it: a hashtable's key
/// first, then a property.
fn resolve_name(item: &Value, name: &str) -> Option<String> {
    if let Value::Hashtable(h) = item
        && let Some((k, _)) = h
            .borrow()
            .entries()
            .find(|(k, _)| matches!(k, Value::String(s) if s.eq_ignore_ascii_case(name)))
    {
        return Some(k.to_string());
    }
    if let Value::Object(o) = item {
        // The common case, without listing every member.
        return o
            .borrow()
            .prop(name)
            .filter(|p| p.kind != PropKind::Method)
            .map(|p| p.name.to_string());
    }
    property_names(item)
        .into_iter()
        .find(|n| n.eq_ignore_ascii_case(name))
}

/// Ordering as -Unique compares: custom objects alike (their properties
/// decide), strings case-sensitively unless asked otherwise.
fn unique_cmp(a: &Value, b: &Value, case_sensitive: bool) -> Ordering {
    if is_custom_object(a) && is_custom_object(b) {
        return Ordering::Equal;
    }
    ops::compare(a, b, case_sensitive).unwrap_or_else(|_| a.to_string().cmp(&b.to_string()))
}

impl SelectObject {
    /// The properties an expression yields for one object: (name, value).
    /// `filtered`: leave out what -ExcludeProperty names.
    fn evaluate(
        &self,
        cx: &mut Cx,
        expr: &Expr,
        item: &Value,
        filtered: bool,
    ) -> Res<Vec<(String, Value)>> {
        let excluded = |name: &str| filtered && self.excluded(name);
        match expr {
            Expr::Script(sb) => {
                let sb = sb.clone();
                // A failing expression leaves the property empty.
                let v = match cx.it.invoke_with_item(&sb, item.clone()) {
                    Ok(v) => v,
                    Err(Flow::Error(_)) => Value::Null,
                    Err(other) => return Err(other),
                };
                Ok(vec![(sb.body_text().to_string(), v)])
            }
            Expr::Name(pattern) if Wildcard::has_wildcards(pattern) => {
                let w = Wildcard::new(pattern, false);
                let mut out = Vec::new();
                for name in property_names(item) {
                    if w.is_match(&name) && !excluded(&name) {
                        let v = cx.it.get_member(item, &name).map_err(Flow::error)?;
                        out.push((name, v));
                    }
                }
                Ok(out)
            }
            Expr::Name(name) => match resolve_name(item, name) {
                Some(real) if !excluded(&real) => {
                    let v = cx.it.get_member(item, &real).map_err(Flow::error)?;
                    Ok(vec![(real, v)])
                }
                _ => Ok(Vec::new()),
            },
        }
    }

    fn excluded(&self, name: &str) -> bool {
        self.exclude.iter().any(|w| w.is_match(name))
    }

    /// The properties -Property makes for one object.
    fn notes(&self, cx: &mut Cx, item: &Value) -> Res<Vec<(String, Value)>> {
        let mut notes = Vec::new();
        for pick in &self.picks {
            let mut found = self.evaluate(cx, &pick.expr, item, true)?;
            if found.is_empty() {
                // A plain name the object lacks still makes a property.
                match &pick.expr {
                    Expr::Name(n) if !Wildcard::has_wildcards(n) && !self.excluded(n) => {
                        found.push((n.clone(), Value::Null));
                    }
                    _ => continue,
                }
            }
            match &pick.name {
                Some(_) if found.len() > 1 => {
                    cx.error(
                        select_error(
                            "A calculated property cannot rename several properties at once; its expression matched more than one.".into(),
                            "RenamingMultipleResults",
                            ErrorCategory::InvalidOperation,
                            "System.InvalidOperationException",
                        )
                        .with_target(item.clone()),
                    )?;
                    continue;
                }
                Some(name) => {
                    for (_, v) in found {
                        notes.push((name.clone(), v));
                    }
                }
                None => {
                    for (n, v) in found {
                        if n.is_empty() {
                            return Err(cx.fail(select_error(
                                "A script block given to -Property has no text to name the property by. Use a hashtable with Name and Expression keys instead.".into(),
                                "EmptyScriptBlockAndNoName",
                                ErrorCategory::InvalidArgument,
                                "System.Management.Automation.PSArgumentException",
                            )));
                        }
                        notes.push((n, v));
                    }
                }
            }
        }
        Ok(notes)
    }

    /// Everything Select-Object outputs for one object.
    fn process_object(&mut self, cx: &mut Cx, item: Value) -> Res<()> {
        if self.picks.is_empty() && self.expand.is_none() {
            return self.write(cx, item.clone(), &item, Vec::new());
        }
        let notes = self.notes(cx, &item)?;
        let Some(expand) = self.expand.clone() else {
            let mut o = PsObject::custom();
            let mut kept = Vec::with_capacity(notes.len());
            for (name, v) in notes {
                if o.prop(&name).is_some() {
                    cx.error(already_there(
                        &name,
                        &item,
                        "AlreadyExistingUserSpecifiedPropertyNoExpand",
                    ))?;
                    continue;
                }
                o.set(&name, v.clone());
                kept.push((name, v));
            }
            return self.write(cx, Value::object(o), &item, kept);
        };
        let found = self.evaluate(cx, &Expr::Name(expand.clone()), &item, false)?;
        let value = match found.len() {
            1 => found.into_iter().next().map(|(_, v)| v).unwrap_or_default(),
            0 => {
                return cx.error(
                    select_error(
                        format!("The property \"{expand}\" to expand was not found."),
                        "ExpandPropertyNotFound",
                        ErrorCategory::InvalidArgument,
                        "System.Management.Automation.PSArgumentException",
                    )
                    .with_target(item),
                );
            }
            _ => {
                return cx.error(
                    select_error(
                        format!(
                            "-ExpandProperty \"{expand}\" matches more than one property; it expands one only."
                        ),
                        "MutlipleExpandProperties",
                        ErrorCategory::InvalidArgument,
                        "System.Management.Automation.PSArgumentException",
                    )
                    .with_target(item),
                );
            }
        };
        // Collections expand into their elements; $null elements go.
        for v in value.enumerate() {
            if v.is_null() {
                continue;
            }
            let v = self.with_notes(cx, v, &item, &notes)?;
            self.write(cx, v, &item, notes.clone())?;
        }
        Ok(())
    }

    /// An expanded value with the -Property properties added. Objects are
    /// copied, so the original keeps its members; other values cannot carry
    /// properties here and pass as they are.
    fn with_notes(
        &self,
        cx: &mut Cx,
        v: Value,
        item: &Value,
        notes: &[(String, Value)],
    ) -> Res<Value> {
        let Value::Object(o) = &v else { return Ok(v) };
        if notes.is_empty() {
            return Ok(v);
        }
        let mut copy = o.borrow().clone();
        for (name, val) in notes {
            if copy.prop(name).is_some() {
                cx.error(already_there(
                    name,
                    item,
                    "AlreadyExistingUserSpecifiedPropertyExpand",
                ))?;
            } else {
                copy.set(name, val.clone());
            }
        }
        Ok(Value::object(copy))
    }

    /// Outputs an object, or with -Unique keeps it unless an equal one is
    /// already kept.
    fn write(
        &mut self,
        cx: &mut Cx,
        v: Value,
        source: &Value,
        notes: Vec<(String, Value)>,
    ) -> Res<()> {
        let cs = self.case_sensitive;
        match &mut self.unique {
            None => {
                mark_selected(&v, source, !notes.is_empty());
                cx.emit(v)
            }
            Some(kept) => {
                let dup = kept.iter().any(|k| {
                    unique_cmp(&k.value, &v, cs) == Ordering::Equal
                        && k.notes.len() == notes.len()
                        && notes.iter().all(|(n, x)| {
                            k.notes.iter().any(|(kn, kx)| {
                                kn.eq_ignore_ascii_case(n)
                                    && unique_cmp(kx, x, cs) == Ordering::Equal
                            })
                        })
                });
                if !dup {
                    mark_selected(&v, source, !notes.is_empty());
                    kept.push(Kept { value: v, notes });
                }
                Ok(())
            }
        }
    }

    fn process_indexed(&mut self, cx: &mut Cx, item: Value) -> Res<()> {
        let Some((index, include)) = &self.index else {
            return Ok(());
        };
        let (index, include) = (index.clone(), *include);
        let pos = self.position;
        self.position += 1;
        let at = index.get(self.next_index).copied();
        if at == Some(pos) {
            while index.get(self.next_index) == Some(&pos) {
                self.next_index += 1;
            }
        }
        if include {
            if at == Some(pos) {
                self.process_object(cx, item)?;
            }
            if !self.wait && self.next_index >= index.len() {
                return Err(Flow::StopUpstream(cx.rt.pipeline, cx.rt.stage));
            }
            Ok(())
        } else if at == Some(pos) {
            Ok(())
        } else {
            self.process_object(cx, item)
        }
    }
}

fn already_there(name: &str, item: &Value, id: &str) -> ErrorRecord {
    select_error(
        format!("The property \"{name}\" is there already; it cannot be added a second time."),
        id,
        ErrorCategory::InvalidOperation,
        "System.Management.Automation.PSArgumentException",
    )
    .with_target(item.clone())
}

impl Processor for SelectObject {
    fn begin(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let mut picks = Vec::new();
        if let Some(props) = args.get("Property") {
            for p in props.enumerate() {
                picks.push(parse_pick(&p).map_err(|e| cx.fail(e))?);
            }
        }
        if let Some(ex) = args.get("ExcludeProperty") {
            self.exclude = ex
                .enumerate()
                .iter()
                .map(|x| Wildcard::new(&x.to_string(), false))
                .collect();
            // Leaving properties out implies taking all the others.
            if picks.is_empty() {
                picks.push(Pick {
                    name: None,
                    expr: Expr::Name("*".into()),
                });
            }
        }
        self.picks = picks;
        self.expand = args.string("ExpandProperty").filter(|s| !s.is_empty());
        self.skip = count(args, "Skip");
        self.window = Window {
            first: count(args, "First"),
            last: count(args, "Last"),
            skip: self.skip,
            skip_last: count(args, "SkipLast"),
            first_or_last: args.has("First") || args.has("Last"),
            ..Window::default()
        };
        let positions = |name: &str| -> Option<Vec<usize>> {
            let v = args.get(name)?;
            let mut out: Vec<usize> = v
                .enumerate()
                .iter()
                .filter_map(Value::as_i64)
                .map(|n| n.max(0) as usize)
                .collect();
            out.sort_unstable();
            Some(out)
        };
        self.index = positions("Index")
            .map(|i| (i, true))
            .or_else(|| positions("SkipIndex").map(|i| (i, false)));
        self.wait = args.switch("Wait");
        self.default_set = args.set.is_none_or(|s| s == DEFAULT_SET);
        self.case_sensitive = !args.switch("CaseInsensitive");
        if args.switch("Unique") {
            self.unique = Some(Vec::new());
        }
        Ok(())
    }

    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let Some(item) = args.get("InputObject").cloned() else {
            return Ok(());
        };
        if item.is_null() {
            return Ok(());
        }
        if self.index.is_some() {
            return self.process_indexed(cx, item);
        }
        self.window.push(item);
        if let Some(v) = self.window.take() {
            self.process_object(cx, v)?;
        }
        if self.window.done() && !self.wait {
            // Enough: the commands before this one stop producing.
            return Err(Flow::StopUpstream(cx.rt.pipeline, cx.rt.stage));
        }
        Ok(())
    }

    fn end(&mut self, cx: &mut Cx, _: &Args) -> Res<()> {
        if self.default_set {
            let keep = if self.window.first != 0 { 0 } else { self.skip };
            while self.window.queue.len() > keep {
                let Some(v) = self.window.queue.pop_front() else {
                    break;
                };
                self.process_object(cx, v)?;
            }
        }
        if let Some(kept) = self.unique.take() {
            for k in kept {
                cx.emit(k.value)?;
            }
        }
        Ok(())
    }
}
