//! Get-History and Invoke-History (`h`, `r`): the commands entered in this
//! session, as the REPL records them in `Interp::history`.

use std::rc::Rc;

use super::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::runtime::error::{ErrorCategory, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::{PsObject, Value};
use crate::syntax::{Source, parse_script};

const HISTORY_TYPE: &str = "Microsoft.PowerShell.Commands.HistoryInfo";

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<GetHistory>(
            "Get-History",
            "Lists the commands entered in this session.",
            Signature::new()
                .named("Id", PsType::Long, "Only the entry with this Id.")
                .positional(0)
                .named("Count", PsType::Int, "Only the last this many entries."),
        )
        .aliases(&["h", "history", "ghy"])
        .module("Microsoft.PowerShell.Core")
        .examples(&[Example {
            code: "Get-History -Count 5",
            about: "The last five commands.",
        }]),
        CommandInfo::new::<InvokeHistory>(
            "Invoke-History",
            "Runs a command from the session history again (the last one by default).",
            Signature::new()
                .named(
                    "Id",
                    PsType::String,
                    "The entry's Id, or the start of its text.",
                )
                .positional(0),
        )
        .aliases(&["r", "ihy"])
        .module("Microsoft.PowerShell.Core"),
    ]
}

/// The entries as (Id, text), leaving out the command now running (the
/// last entry, when it is a history command itself).
fn entries(cx: &Cx) -> Vec<(i64, String)> {
    cx.it
        .history
        .iter()
        .enumerate()
        .map(|(i, t)| (i as i64 + 1, t.clone()))
        .collect()
}

#[derive(Default)]
struct GetHistory;

impl Processor for GetHistory {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let mut list = entries(cx);
        if let Some(id) = args.get("Id").and_then(Value::as_i64) {
            list.retain(|(i, _)| *i == id);
        }
        if let Some(n) = args.get("Count").and_then(Value::as_i64) {
            let skip = list.len().saturating_sub(n.max(0) as usize);
            list.drain(..skip);
        }
        for (id, text) in list {
            let mut o = PsObject::with_type(Rc::from(vec![Rc::from(HISTORY_TYPE)]));
            o.set("Id", Value::Long(id));
            o.set("CommandLine", Value::str(text.as_str()));
            o.display = Some(Rc::from(text.as_str()));
            cx.emit(Value::Object(Rc::new(std::cell::RefCell::new(o))))?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct InvokeHistory;

impl Processor for InvokeHistory {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let list = entries(cx);
        // The REPL records `r` itself before running it: skip that entry.
        let earlier = &list[..list.len().saturating_sub(1)];
        let wanted = args.string("Id");
        let found = match wanted.as_deref().map(str::trim) {
            None | Some("") => earlier.last(),
            Some(w) => match w.parse::<i64>() {
                Ok(id) => earlier.iter().find(|(i, _)| *i == id),
                Err(_) => earlier.iter().rev().find(|(_, t)| {
                    t.len() >= w.len()
                        && t.is_char_boundary(w.len())
                        && t[..w.len()].eq_ignore_ascii_case(w)
                }),
            },
        };
        let Some((_, text)) = found.cloned() else {
            return Err(cx.fail_msg(
                format!(
                    "Cannot locate the history for command line {}.",
                    wanted.unwrap_or_default()
                ),
                "InvokeHistoryNoHistoryFound",
                ErrorCategory::ObjectNotFound,
            ));
        };
        cx.host_write(crate::host::Stream::Information, &format!("{text}\n"));
        let src = Rc::new(Source::new(None, text));
        let sb = parse_script(src)
            .map_err(|e| cx.fail(crate::runtime::error::ErrorRecord::from_parse(&e)))?;
        cx.it.exec_here(&sb, cx.out)
    }
}
