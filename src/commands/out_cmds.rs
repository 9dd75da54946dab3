//! Out-Default, Out-Host, Out-Null, Out-String and Out-File.

use crate::commands::gathered::{AllInput, Gathered};
use crate::commands::{Args, CommandInfo, Cx, Processor, Signature, write_text_file};
use crate::format::render_all;
use crate::runtime::error::Res;
use crate::runtime::types::PsType;
use crate::runtime::value::Value;

fn input_sig() -> Signature {
    Signature::new()
        .named("InputObject", PsType::Object, "The objects to output.")
        .from_pipeline()
}

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<OutDefault>(
            "Out-Default",
            "Formats objects and shows them, as at the end of every pipeline.",
            input_sig(),
        )
        .module("Microsoft.PowerShell.Core"),
        CommandInfo::new::<OutDefault>(
            "Out-Host",
            "Formats objects and shows them on the screen.",
            input_sig().switch("Paging", "Accepted for compatibility; output is not paged."),
        )
        .module("Microsoft.PowerShell.Core")
        .aliases(&["oh"]),
        CommandInfo::new::<OutNull>("Out-Null", "Discards its input.", input_sig())
            .module("Microsoft.PowerShell.Core"),
        CommandInfo::new::<Gathered<OutString>>(
            "Out-String",
            "Formats objects into text.",
            input_sig()
                .switch(
                    "Stream",
                    "Outputs one string per line instead of one string.",
                )
                .named("Width", PsType::Int, "The line width to format for.")
                .switch("NoNewline", "Leaves out the final line break."),
        ),
        CommandInfo::new::<Gathered<OutFile>>(
            "Out-File",
            "Writes formatted output to a file.",
            input_sig()
                .named("FilePath", PsType::String, "The file to write.")
                .positional(0)
                .mandatory()
                .alias("Path")
                .switch("Append", "Adds to the end of the file.")
                .named(
                    "Encoding",
                    PsType::String,
                    "Accepted for compatibility; files are written as UTF-8.",
                )
                .named("Width", PsType::Int, "The line width to format for.")
                .switch("NoClobber", "Refuses to overwrite an existing file.")
                .switch("Force", "Overwrites read-only files.")
                .switch("NoNewline", "Leaves out line breaks."),
        ),
    ]
}

#[derive(Default)]
struct OutDefault;

impl Processor for OutDefault {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        if let Some(v) = args.get("InputObject") {
            cx.it.out_default.push(v.clone(), &mut *cx.it.host);
        }
        Ok(())
    }

    fn end(&mut self, cx: &mut Cx, _: &Args) -> Res<()> {
        cx.it.flush_output();
        Ok(())
    }
}

#[derive(Default)]
struct OutNull;

impl Processor for OutNull {
    fn process(&mut self, _: &mut Cx, _: &Args) -> Res<()> {
        Ok(())
    }
}

/// -Width, or the host's width when it is not given.
fn width(cx: &Cx, args: &Args) -> usize {
    args.get("Width")
        .and_then(Value::as_i64)
        .map(|w| w as usize)
        .unwrap_or_else(|| cx.it.host.width())
}

#[derive(Default)]
struct OutString;

impl AllInput for OutString {
    fn finish(&self, cx: &mut Cx, args: &Args, items: Vec<Value>) -> Res<()> {
        let width = width(cx, args);
        let text = render_all(&items, width);
        if args.switch("Stream") {
            for line in text.lines() {
                cx.emit(Value::from(line))?;
            }
            return Ok(());
        }
        let text = if args.switch("NoNewline") {
            text.trim_end_matches('\n').to_string()
        } else {
            text
        };
        cx.emit(Value::from(text))
    }
}

#[derive(Default)]
struct OutFile;

impl AllInput for OutFile {
    fn finish(&self, cx: &mut Cx, args: &Args, items: Vec<Value>) -> Res<()> {
        let width = width(cx, args);
        let path = cx
            .it
            .resolve_path(&args.string("FilePath").unwrap_or_default());
        super::check_path(cx.it, &path).map_err(|e| cx.fail(e))?;
        if args.switch("NoClobber") && path.exists() {
            return Err(cx.fail_msg(
                format!("The file '{}' already exists.", path.display()),
                "NoClobber",
                crate::runtime::error::ErrorCategory::ResourceExists,
            ));
        }
        let mut text = render_all(&items, width);
        if args.switch("NoNewline") {
            text = text.replace('\n', "");
        }
        write_text_file(cx.it, &path, &text, args.switch("Append")).map_err(|e| cx.fail(e))
    }
}
