//! Write-Output, Write-Host, Write-Warning, Write-Verbose, Write-Debug,
//! Write-Information, Write-Error and Write-Progress.

use std::rc::Rc;

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::host::{Color, Progress, Stream};
use crate::runtime::budget::{self, TextBuf};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::{PsArray, Value};

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<WriteOutput>(
            "Write-Output",
            "Sends objects down the pipeline, one element at a time.",
            Signature::new()
                .named("InputObject", PsType::Object, "The objects to send.")
                .positional(0)
                .from_pipeline()
                .with(|p| p.remaining = true)
                .switch(
                    "NoEnumerate",
                    "Sends a collection as one object instead of element by element.",
                ),
        )
        .aliases(&["echo", "write"])
        .examples(&[Example {
            code: "Write-Output 'Global', 'Site:Redmond'",
            about: "Writes two strings to the pipeline.",
        }]),
        CommandInfo::new::<WriteHost>(
            "Write-Host",
            "Writes text straight to the screen, optionally in colour.",
            Signature::new()
                .named("Object", PsType::Object, "What to write.")
                .positional(0)
                .from_pipeline()
                .with(|p| p.remaining = true)
                .switch("NoNewline", "Leaves the cursor on the same line.")
                .named(
                    "Separator",
                    PsType::Object,
                    "Text placed between the objects written.",
                )
                .named("ForegroundColor", PsType::String, "Text colour.")
                .values(&COLORS)
                .named("BackgroundColor", PsType::String, "Background colour.")
                .values(&COLORS),
        ),
        message_cmd::<WriteWarning>("Write-Warning", "Writes a warning message."),
        message_cmd::<WriteVerbose>("Write-Verbose", "Writes a message shown with -Verbose."),
        message_cmd::<WriteDebug>("Write-Debug", "Writes a message shown with -Debug."),
        CommandInfo::new::<WriteInformation>(
            "Write-Information",
            "Writes to the information stream.",
            Signature::new()
                .named("MessageData", PsType::Object, "The message.")
                .positional(0)
                .mandatory()
                .named(
                    "Tags",
                    PsType::Array(Some(Box::new(PsType::String))),
                    "Tags for the record.",
                ),
        ),
        CommandInfo::new::<WriteError>(
            "Write-Error",
            "Writes a non-terminating error.",
            Signature::new()
                .named("Message", PsType::String, "The error message.")
                .positional(0)
                .from_pipeline()
                .named("Category", PsType::String, "The error category.")
                .named("ErrorId", PsType::String, "An identifier for the error.")
                .named(
                    "TargetObject",
                    PsType::Object,
                    "The object the error concerns.",
                )
                .named(
                    "ErrorRecord",
                    PsType::ErrorRecord,
                    "An existing error record to write.",
                )
                .named(
                    "Exception",
                    PsType::Object,
                    "An exception whose message to use.",
                ),
        ),
        CommandInfo::new::<WriteProgress>(
            "Write-Progress",
            "Shows a progress bar for a long operation.",
            Signature::new()
                .named("Activity", PsType::String, "What is being done.")
                .positional(0)
                .named("Status", PsType::String, "The current state.")
                .positional(1)
                .named("Id", PsType::Int, "Distinguishes concurrent progress bars.")
                .named("PercentComplete", PsType::Int, "How far along, 0 to 100.")
                .named("SecondsRemaining", PsType::Int, "Estimated time left.")
                .named("CurrentOperation", PsType::String, "The step in progress.")
                .named("ParentId", PsType::Int, "The parent progress bar.")
                .switch("Completed", "Removes the progress bar."),
        ),
    ]
}

const COLORS: [&str; 16] = [
    "Black",
    "DarkBlue",
    "DarkGreen",
    "DarkCyan",
    "DarkRed",
    "DarkMagenta",
    "DarkYellow",
    "Gray",
    "DarkGray",
    "Blue",
    "Green",
    "Cyan",
    "Red",
    "Magenta",
    "Yellow",
    "White",
];

fn message_cmd<P: Processor + Default + 'static>(
    name: &'static str,
    synopsis: &'static str,
) -> CommandInfo {
    CommandInfo::new::<P>(
        name,
        synopsis,
        Signature::new()
            .named("Message", PsType::String, "The message text.")
            .positional(0)
            .mandatory()
            .from_pipeline()
            .alias("Msg"),
    )
}

#[derive(Default)]
struct WriteOutput;

impl Processor for WriteOutput {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let Some(v) = args.get("InputObject").cloned() else {
            return Ok(());
        };
        if args.switch("NoEnumerate") {
            cx.emit(v)
        } else {
            cx.emit_enumerated(v)
        }
    }
}

#[derive(Default)]
struct WriteHost;

impl Processor for WriteHost {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let sep = args.string("Separator").unwrap_or_else(|| " ".into());
        let text = match args.get("Object") {
            Some(v) => {
                let mut out = TextBuf::new();
                flatten(v, &sep, &mut Vec::new(), &mut out).map_err(|e| cx.fail(e))?;
                out.into_string()
            }
            None => String::new(),
        };
        let fg = args
            .string("ForegroundColor")
            .and_then(|c| Color::parse(&c));
        let bg = args
            .string("BackgroundColor")
            .and_then(|c| Color::parse(&c));
        cx.it.flush_output();
        if cx.it.warn_to_null {
            return Ok(());
        }
        cx.it
            .host
            .write_host(&text, fg, bg, !args.switch("NoNewline"));
        Ok(())
    }
}

/// Write-Host joins collections with the separator, recursively.
/// An array already being written (one that holds itself) shows as its type
/// name; the text stays within the string limit.
fn flatten(
    v: &Value,
    sep: &str,
    path: &mut Vec<*const PsArray>,
    out: &mut TextBuf,
) -> Result<(), ErrorRecord> {
    match v {
        Value::Array(a) if path.contains(&Rc::as_ptr(a)) => out.push_str(&v.type_name()),
        Value::Array(a) => {
            budget::enter()?;
            path.push(Rc::as_ptr(a));
            for (i, x) in a.to_vec().iter().enumerate() {
                if i > 0 {
                    out.push_str(sep)?;
                }
                flatten(x, sep, path, out)?;
            }
            path.pop();
            Ok(())
        }
        other => {
            out.fits(other.text_len())?;
            out.push_str(&other.to_string())
        }
    }
}

#[derive(Default)]
struct WriteWarning;

impl Processor for WriteWarning {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let msg = args.string("Message").unwrap_or_default();
        cx.warn(&msg)
    }
}

#[derive(Default)]
struct WriteVerbose;

impl Processor for WriteVerbose {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let msg = args.string("Message").unwrap_or_default();
        cx.verbose(&msg);
        Ok(())
    }
}

#[derive(Default)]
struct WriteDebug;

impl Processor for WriteDebug {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let msg = args.string("Message").unwrap_or_default();
        cx.it.debug(&msg, cx.rt.common.debug);
        Ok(())
    }
}

#[derive(Default)]
struct WriteInformation;

impl Processor for WriteInformation {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let show = match cx.rt.common.information_action {
            Some(a) => a == crate::commands::binder::ActionPreference::Continue,
            None => cx
                .it
                .get_var("informationpreference")
                .is_some_and(|v| v.to_string().eq_ignore_ascii_case("continue")),
        };
        if show {
            let msg = args.string("MessageData").unwrap_or_default();
            cx.host_write(Stream::Information, &format!("{msg}\n"));
        }
        Ok(())
    }
}

#[derive(Default)]
struct WriteError;

impl Processor for WriteError {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        if let Some(Value::Error(rec)) = args.get("ErrorRecord") {
            return cx.error((**rec).clone());
        }
        let msg = match (args.string("Message"), args.get("Exception")) {
            (Some(m), _) => m,
            (None, Some(Value::Error(e))) => e.message.to_string(),
            (None, Some(e)) => e.to_string(),
            (None, None) => String::new(),
        };
        let category = args
            .string("Category")
            .and_then(|c| ErrorCategory::parse(&c))
            .unwrap_or(ErrorCategory::NotSpecified);
        let id = args
            .string("ErrorId")
            .unwrap_or_else(|| "Microsoft.PowerShell.Commands.WriteErrorException".into());
        let mut rec = ErrorRecord::new(msg, &id, category)
            .with_exception("Microsoft.PowerShell.Commands.WriteErrorException")
            .with_target(args.get("TargetObject").cloned().unwrap_or_default());
        if let Some(Value::Error(e)) = args.get("Exception") {
            rec.exception_type = e.exception_type.clone();
        }
        // Inside a function the error names the function and its call.
        if let Some((name, pos)) = &cx.it.invocation {
            rec.command = Some(name.clone());
            rec.position = pos.clone();
        }
        cx.error(rec)
    }
}

#[derive(Default)]
struct WriteProgress;

impl Processor for WriteProgress {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let quiet = cx
            .it
            .get_var("progresspreference")
            .is_some_and(|v| v.to_string().eq_ignore_ascii_case("silentlycontinue"));
        if quiet {
            return Ok(());
        }
        let p = Progress {
            id: args.get("Id").and_then(Value::as_i64).unwrap_or(0) as i32,
            activity: args.string("Activity").unwrap_or_default(),
            status: args.string("Status").unwrap_or_else(|| "Processing".into()),
            percent: args
                .get("PercentComplete")
                .and_then(Value::as_i64)
                .map(|p| p as i32),
            completed: args.switch("Completed"),
        };
        cx.it.host.progress(&p);
        Ok(())
    }
}
