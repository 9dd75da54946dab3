//! ForEach-Object: runs a script block for each input object (`% { }`), or
//! reads a property or calls a method of each (`% Name`).

use std::rc::Rc;

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::runtime::error::{Flow, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::Value;
use crate::syntax::ast::ScriptBlockAst;

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<ForEachObject>(
            "ForEach-Object",
            "Runs a script block for every input object.",
            Signature::new()
                .named("Process", PsType::Object, "The script block run for each object, or a property or method name.")
                .positional(0)
                .with(|p| p.aliases.push(Rc::from("MemberName")))
                .named("RemainingScripts", PsType::Object, "Further script blocks: with two, the first is Begin; with three, Begin, Process, End.")
                .positional(1)
                .with(|p| p.remaining = true)
                .named("Begin", PsType::ScriptBlock, "Runs once before the first object.")
                .named("End", PsType::ScriptBlock, "Runs once after the last object.")
                .named("ArgumentList", PsType::Array(None), "Arguments for a method call.")
                .named("InputObject", PsType::Object, "The objects to process.")
                .from_pipeline(),
        )
        .module("Microsoft.PowerShell.Core")
        .aliases(&["%", "foreach"])
        .examples(&[Example {
            code: "Import-Csv users.csv | ForEach-Object { Grant-CsConferencingPolicy -Identity $_.SipAddress -PolicyName Anonymous }",
            about: "Grants a policy to each user listed in a CSV file.",
        }]),
    ]
}

#[derive(Default)]
struct ForEachObject {
    begin: Option<Rc<ScriptBlockAst>>,
    process: Vec<Rc<ScriptBlockAst>>,
    end: Option<Rc<ScriptBlockAst>>,
    member: Option<String>,
}

impl Processor for ForEachObject {
    fn begin(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let mut blocks: Vec<Value> = Vec::new();
        if let Some(p) = args.get("Process") {
            blocks.push(p.clone());
        }
        if let Some(r) = args.get("RemainingScripts") {
            blocks.extend(r.enumerate());
        }
        let mut sbs = Vec::new();
        for b in blocks {
            match b {
                Value::ScriptBlock(sb) => sbs.push(sb),
                other if sbs.is_empty() => self.member = Some(other.to_string()),
                other => {
                    return Err(cx.fail_msg(
                        format!("Cannot bind '{other}': ForEach-Object takes script blocks after the first one."),
                        "ForEachObjectBadArgument",
                        crate::runtime::error::ErrorCategory::InvalidArgument,
                    ));
                }
            }
        }
        // Two or three positional blocks mean begin/process(/end).
        match sbs.len() {
            2 => {
                self.begin = sbs.first().cloned();
                self.process = sbs[1..].to_vec();
            }
            n if n >= 3 => {
                self.begin = sbs.first().cloned();
                self.end = sbs.last().cloned();
                self.process = sbs[1..n - 1].to_vec();
            }
            _ => self.process = sbs,
        }
        if let Some(Value::ScriptBlock(b)) = args.get("Begin") {
            self.begin = Some(b.clone());
        }
        if let Some(Value::ScriptBlock(e)) = args.get("End") {
            self.end = Some(e.clone());
        }
        if let Some(b) = self.begin.clone() {
            cx.it.dot_invoke(&b, Value::Null, cx.out)?;
        }
        Ok(())
    }

    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let item = args.get("InputObject").cloned().unwrap_or_default();
        if let Some(name) = &self.member {
            let call_args = args.get("ArgumentList").map(|a| a.enumerate());
            let v = match call_args {
                Some(a) => cx.it.call_method(&item, name, a)?,
                None => {
                    let prop = cx.it.get_member(&item, name).map_err(Flow::error)?;
                    if prop.is_null() && !has_member(&item, name) {
                        // A method with no arguments, as `% ToUpper` does.
                        match cx.it.call_method(&item, name, Vec::new()) {
                            Ok(v) => v,
                            Err(_) => Value::Null,
                        }
                    } else {
                        prop
                    }
                }
            };
            return cx.it.emit_unrolled(cx.out, v);
        }
        for sb in &self.process {
            cx.it.dot_invoke(sb, item.clone(), cx.out)?;
        }
        Ok(())
    }

    fn end(&mut self, cx: &mut Cx, _: &Args) -> Res<()> {
        if let Some(e) = self.end.clone() {
            cx.it.dot_invoke(&e, Value::Null, cx.out)?;
        }
        Ok(())
    }
}

fn has_member(v: &Value, name: &str) -> bool {
    match v {
        Value::Object(o) => o.borrow().prop(name).is_some(),
        Value::Hashtable(h) => h.borrow().get_str(name).is_some(),
        _ => false,
    }
}
