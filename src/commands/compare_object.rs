//! Compare-Object: walks a reference set and a difference set side by side
//! and reports what only one side holds (`<=`, `=>`) or both (`==`).

use std::cmp::Ordering;

use crate::commands::group_object::{compare_keys, eval_keys, key_exprs};
use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::runtime::error::Res;
use crate::runtime::types::PsType;
use crate::runtime::value::{Prop, PsObject, Value};

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<CompareObject>(
            "Compare-Object",
            "Shows the differences between two sets of objects.",
            Signature::new()
                .named(
                    "ReferenceObject",
                    PsType::Array(None),
                    "The objects to compare against.",
                )
                .positional(0)
                .mandatory()
                .named(
                    "DifferenceObject",
                    PsType::Array(None),
                    "The objects compared with the reference set.",
                )
                .positional(1)
                .mandatory()
                .from_pipeline()
                .named(
                    "Property",
                    PsType::Array(None),
                    "Compares these properties (or script-block keys) instead of whole objects.",
                )
                .switch(
                    "IncludeEqual",
                    "Also reports objects found on both sides (==).",
                )
                .switch(
                    "ExcludeDifferent",
                    "Leaves out objects found on one side only.",
                )
                .switch(
                    "PassThru",
                    "Outputs the objects themselves, each with a SideIndicator property added.",
                )
                .switch("CaseSensitive", "Treats 'a' and 'A' as different.")
                .named(
                    "SyncWindow",
                    PsType::Int,
                    "How far ahead to look for a match.",
                )
                .named("Culture", PsType::String, "Accepted for compatibility."),
        )
        .aliases(&["compare", "diff"])
        .examples(&[Example {
            code: "Compare-Object (Get-Content before.txt) (Get-Content after.txt)",
            about: "Lists the lines removed (<=) and added (=>) between two files.",
        }]),
    ]
}

struct Entry {
    keys: Vec<Value>,
    item: Value,
}

#[derive(Default)]
struct CompareObject {
    props: Vec<Value>,
    reference: Vec<Entry>,
    next_ref: usize,
    ref_backlog: Vec<Entry>,
    diff_backlog: Vec<Entry>,
    started: bool,
    window: usize,
}

/// The column name of a -Property key in the output.
fn key_name(k: &Value) -> String {
    match k {
        Value::ScriptBlock(sb) => sb.body_text().trim().to_string(),
        other => other.to_string(),
    }
}

impl CompareObject {
    fn same(&self, a: &Entry, b: &Entry, cs: bool) -> bool {
        a.keys.len() == b.keys.len()
            && a.keys
                .iter()
                .zip(&b.keys)
                .all(|(x, y)| compare_keys(x, y, cs) == Ordering::Equal)
    }

    fn emit(&self, cx: &mut Cx, args: &Args, e: Entry, side: &str) -> Res<()> {
        // -ExcludeDifferent implies -IncludeEqual unless that is turned off.
        let include_equal = match args.get("IncludeEqual") {
            Some(v) => v.is_true(),
            None => args.switch("ExcludeDifferent"),
        };
        if side == "==" && !include_equal {
            return Ok(());
        }
        if side != "==" && args.switch("ExcludeDifferent") {
            return Ok(());
        }
        if args.switch("PassThru") {
            // The object itself carries the indicator.
            match &e.item {
                Value::Object(o) => {
                    o.borrow_mut().set("SideIndicator", Value::from(side));
                    return cx.emit(e.item);
                }
                _ => return cx.emit(e.item),
            }
        }
        let mut o = PsObject::custom();
        if self.props.is_empty() {
            o.props_mut().push(Prop::note("InputObject", e.item));
        } else {
            for (k, v) in self.props.iter().zip(e.keys) {
                o.set(&key_name(k), v);
            }
        }
        o.props_mut()
            .push(Prop::note("SideIndicator", Value::from(side)));
        cx.emit(Value::object(o))
    }

    /// One step of the side-by-side walk: the next reference object against
    /// one difference object (either may be missing).
    fn step(&mut self, cx: &mut Cx, args: &Args, diff: Option<Entry>) -> Res<()> {
        let cs = args.switch("CaseSensitive");
        let mut reference = None;
        if self.next_ref < self.reference.len() {
            let idx = self.next_ref;
            self.next_ref += 1;
            let placeholder = Entry {
                keys: Vec::new(),
                item: Value::Null,
            };
            if let Some(slot) = self.reference.get_mut(idx) {
                reference = Some(std::mem::replace(slot, placeholder));
            }
        }
        let mut diff = diff;
        if let (Some(r), Some(d)) = (&reference, &diff)
            && self.same(r, d, cs)
        {
            if let Some(r) = reference.take() {
                self.emit(cx, args, r, "==")?;
            }
            return Ok(());
        }
        if let Some(d) = &diff
            && let Some(i) = self.ref_backlog.iter().position(|r| self.same(r, d, cs))
        {
            let r = self.ref_backlog.remove(i);
            self.emit(cx, args, r, "==")?;
            diff = None;
        }
        if let Some(r) = &reference
            && let Some(i) = self.diff_backlog.iter().position(|d| self.same(r, d, cs))
        {
            self.diff_backlog.remove(i);
            if let Some(r) = reference.take() {
                self.emit(cx, args, r, "==")?;
            }
        }
        if let Some(d) = diff {
            while self.diff_backlog.len() >= self.window && !self.diff_backlog.is_empty() {
                let old = self.diff_backlog.remove(0);
                self.emit(cx, args, old, "=>")?;
            }
            self.diff_backlog.push(d);
        }
        if let Some(r) = reference {
            while self.ref_backlog.len() >= self.window && !self.ref_backlog.is_empty() {
                let old = self.ref_backlog.remove(0);
                self.emit(cx, args, old, "<=")?;
            }
            self.ref_backlog.push(r);
        }
        Ok(())
    }

    fn start(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        self.props = key_exprs(args);
        self.window = args
            .get("SyncWindow")
            .and_then(Value::as_i64)
            .filter(|n| *n > 0)
            .map(|n| n as usize)
            .unwrap_or(usize::MAX);
        let items = args
            .get("ReferenceObject")
            .map(Value::enumerate)
            .unwrap_or_default();
        let props = self.props.clone();
        for item in items {
            let keys = eval_keys(cx, &props, &item)?;
            self.reference.push(Entry { keys, item });
        }
        Ok(())
    }
}

impl Processor for CompareObject {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        self.start(cx, args)?;
        let Some(d) = args.get("DifferenceObject") else {
            return Ok(());
        };
        // A whole array bound on the command line, or one pipeline object
        // (which the binder wraps as a one-item array).
        let items = d.enumerate();
        let props = self.props.clone();
        for item in items {
            let keys = eval_keys(cx, &props, &item)?;
            self.step(cx, args, Some(Entry { keys, item }))?;
        }
        Ok(())
    }

    fn end(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        self.start(cx, args)?;
        while self.next_ref < self.reference.len() {
            self.step(cx, args, None)?;
        }
        for d in std::mem::take(&mut self.diff_backlog) {
            self.emit(cx, args, d, "=>")?;
        }
        for r in std::mem::take(&mut self.ref_backlog) {
            self.emit(cx, args, r, "<=")?;
        }
        Ok(())
    }
}
