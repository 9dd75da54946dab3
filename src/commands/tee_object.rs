//! Tee-Object: passes objects on down the pipeline and also saves them in
//! a file or a variable.

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature, write_text_file};
use crate::format::render_all;
use crate::runtime::error::Res;
use crate::runtime::types::PsType;
use crate::runtime::value::Value;

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<TeeObject>(
            "Tee-Object",
            "Sends objects on down the pipeline while saving a copy in a file or variable.",
            Signature::new()
                .named(
                    "FilePath",
                    PsType::String,
                    "The file that receives the formatted objects.",
                )
                .positional(0)
                .mandatory()
                .alias("Path")
                .sets(&["File"])
                .named(
                    "LiteralPath",
                    PsType::String,
                    "The file, taken exactly as written.",
                )
                .alias("PSPath")
                .alias("LP")
                .mandatory()
                .sets(&["LiteralFile"])
                .switch(
                    "Append",
                    "Adds to the end of the file instead of replacing it.",
                )
                .sets(&["File", "LiteralFile"])
                .named(
                    "Variable",
                    PsType::String,
                    "The name of the variable (without $) that receives the objects.",
                )
                .mandatory()
                .sets(&["Variable"])
                .named("Encoding", PsType::String, "Accepted for compatibility.")
                .sets(&["File", "LiteralFile"])
                .named(
                    "InputObject",
                    PsType::Object,
                    "The objects to pass on and save.",
                )
                .from_pipeline()
                .default_set("File"),
        )
        .aliases(&["tee"])
        .examples(&[Example {
            code: "Get-CsUser | Tee-Object -Variable users | Select-Object DisplayName",
            about: "Shows user names while keeping the full user objects in $users.",
        }]),
    ]
}

#[derive(Default)]
struct TeeObject {
    items: Vec<Value>,
}

impl Processor for TeeObject {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let Some(v) = args.get("InputObject").cloned() else {
            return Ok(());
        };
        self.items.push(v.clone());
        cx.emit(v)
    }

    fn end(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let items = std::mem::take(&mut self.items);
        if let Some(name) = args.string("Variable") {
            let name = name.trim_start_matches('$').to_string();
            cx.it.set_named(&name, Value::list(items));
            return Ok(());
        }
        let Some(file) = args
            .string("FilePath")
            .or_else(|| args.string("LiteralPath"))
        else {
            return Ok(());
        };
        let path = cx.it.resolve_path(&file);
        let text = render_all(&items, cx.it.host.width());
        write_text_file(cx.it, &path, &text, args.switch("Append")).map_err(|e| cx.fail(e))
    }
}
