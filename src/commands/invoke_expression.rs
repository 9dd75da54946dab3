//! Invoke-Expression: runs text as script in the caller's scope.

use std::rc::Rc;

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::runtime::error::{ErrorRecord, Res};
use crate::runtime::types::PsType;
use crate::syntax::{Source, parse_script};

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<InvokeExpression>(
            "Invoke-Expression",
            "Runs a string as PowerShell script in the current scope.",
            Signature::new()
                .named("Command", PsType::String, "The script text to run.")
                .positional(0)
                .mandatory()
                .from_pipeline(),
        )
        .aliases(&["iex"])
        .examples(&[Example {
            code: "$cmd = 'Get-CsUser -Identity kenmyer'; Invoke-Expression $cmd",
            about: "Runs a command kept in a variable.",
        }]),
    ]
}

#[derive(Default)]
struct InvokeExpression;

impl Processor for InvokeExpression {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let Some(text) = args.string("Command") else {
            return Ok(());
        };
        let src = Rc::new(Source::new(None, text));
        let sb = parse_script(src).map_err(|e| cx.fail(ErrorRecord::from_parse(&e)))?;
        // Text that runs itself (`$c = 'iex $c'; iex $c`) nests like calls.
        cx.it.enter_call().map_err(|e| cx.fail(e))?;
        let r = cx.it.exec_here(&sb, cx.out);
        cx.it.leave_call();
        r
    }
}
