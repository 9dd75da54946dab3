//! Read-Host: reads a line typed by the user.

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::host::Unread;
use crate::runtime::error::{ErrorCategory, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::Value;

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<ReadHost>(
            "Read-Host",
            "Reads a line of input from the console.",
            Signature::new()
                .named(
                    "Prompt",
                    PsType::Object,
                    "Text shown before the input, followed by a colon.",
                )
                .positional(0)
                .switch(
                    "AsSecureString",
                    "Hides the typed characters (the result is plain text in lyncsh).",
                )
                .switch("MaskInput", "Hides the typed characters."),
        )
        .examples(&[Example {
            code: "$pool = Read-Host 'Registrar pool'",
            about: "Asks for a pool name and keeps the answer in $pool.",
        }]),
    ]
}

#[derive(Default)]
struct ReadHost;

impl Processor for ReadHost {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let prompt = match args.get("Prompt") {
            Some(p) if !p.is_null() => format!("{p}: "),
            _ => String::new(),
        };
        let secret = args.switch("AsSecureString") || args.switch("MaskInput");
        let answer = cx.it.ask(|h| h.read_line(&prompt, secret));
        // A Ctrl-C while the question was open stops the command; it is
        // no failure of Read-Host's.
        cx.it.check_stop()?;
        match answer {
            Ok(line) => cx.emit(Value::from(line)),
            Err(Unread::NoInput) => Err(cx.fail_msg(
                "Read-Host cannot read input: this session is not interactive and has no input to read.",
                "ReadHostNotAvailable,Microsoft.PowerShell.Commands.ReadHostCommand",
                ErrorCategory::ResourceUnavailable,
            )),
            Err(Unread::Refused(why)) => Err(cx.fail_msg(
                why,
                "ReadHostNotAvailable,Microsoft.PowerShell.Commands.ReadHostCommand",
                ErrorCategory::InvalidOperation,
            )),
        }
    }
}
