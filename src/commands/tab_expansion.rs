//! TabExpansion2: the completion engine as a command, answering in pwsh's
//! `CommandCompletion` shape. pwsh's own client calls it in the remote
//! session when an admin presses Tab inside `Enter-PSSession`.

use std::rc::Rc;

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature, typed_object};
use crate::complete::{Snapshot, complete};
use crate::runtime::error::Res;
use crate::runtime::types::PsType;
use crate::runtime::value::{EnumValue, Value};

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<TabExpansion2>(
            "TabExpansion2",
            "Lists what may complete the word before the cursor in a line of script.",
            Signature::new()
                .named("inputScript", PsType::String, "The line being typed.")
                .positional(0)
                .mandatory()
                .named(
                    "cursorColumn",
                    PsType::Int,
                    "Where the cursor stands, in characters from the start (the end of the line by default).",
                )
                .positional(1)
                .named(
                    "options",
                    PsType::Object,
                    "Accepted for compatibility; no option changes the answer.",
                )
                .positional(2),
        )
        .examples(&[Example {
            code: "(TabExpansion2 'Get-CsAccessEdge').CompletionMatches.CompletionText",
            about: "Shows the commands whose names start with Get-CsAccessEdge.",
        }]),
    ]
}

#[derive(Default)]
struct TabExpansion2;

impl Processor for TabExpansion2 {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let line = args.string("inputScript").unwrap_or_default();
        let chars = line.chars().count();
        let column = args
            .get("cursorColumn")
            .and_then(Value::as_i64)
            .map_or(chars, |c| usize::try_from(c).unwrap_or(0).min(chars));
        let byte = line
            .char_indices()
            .nth(column)
            .map_or(line.len(), |(b, _)| b);
        let found = complete(&Snapshot::of(cx.it), &line, byte);
        let chars_to = |b: usize| line.get(..b).map_or(0, |s| s.chars().count());
        let start = chars_to(found.start);
        let matches = found
            .items
            .into_iter()
            .map(|i| {
                let kind = Value::Enum(Rc::new(EnumValue {
                    type_name: Rc::from("System.Management.Automation.CompletionResultType"),
                    name: Rc::from(i.kind.name()),
                    value: i.kind as i64,
                }));
                let tip = i.description.clone().unwrap_or_else(|| i.value.clone());
                typed_object(
                    "System.Management.Automation.CompletionResult",
                    vec![
                        ("CompletionText", Value::from(i.value.clone())),
                        ("ListItemText", Value::from(i.value)),
                        ("ResultType", kind),
                        ("ToolTip", Value::from(tip)),
                    ],
                )
            })
            .collect();
        cx.emit(typed_object(
            "System.Management.Automation.CommandCompletion",
            vec![
                ("CurrentMatchIndex", Value::Int(-1)),
                ("ReplacementIndex", Value::Int(start as i32)),
                (
                    "ReplacementLength",
                    Value::Int((chars_to(found.end) - start) as i32),
                ),
                ("CompletionMatches", Value::array(matches)),
            ],
        ))
    }
}
