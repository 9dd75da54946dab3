//! `InModuleScope`: runs a block "inside" a module. lyncsh's modules are
//! those of its built-in commands (Pester, Lync, Microsoft.PowerShell.*),
//! whose functions are all visible anyway, so the block runs in a child
//! scope of the caller once the module is known to be loaded.

use super::{in_child_scope, set_vars};
use crate::commands::{Args, CommandInfo, Cx, Processor, Signature};
use crate::runtime::error::{ErrorCategory, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::Value;

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<InModuleScope>(
            "InModuleScope",
            "Runs a script block in the scope of a loaded module.",
            Signature::new()
                .named("ModuleName", PsType::String, "The module.")
                .positional(0)
                .mandatory()
                .named("ScriptBlock", PsType::ScriptBlock, "The code to run.")
                .positional(1)
                .mandatory()
                .named(
                    "Parameters",
                    PsType::Object,
                    "A hashtable whose keys become variables of the block.",
                ),
        )
        .module("Pester"),
    ]
}

#[derive(Default)]
struct InModuleScope;

impl Processor for InModuleScope {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let module = args.string("ModuleName").unwrap_or_default();
        let loaded = cx
            .it
            .registry
            .all()
            .iter()
            .any(|c| c.module.eq_ignore_ascii_case(&module));
        if !loaded {
            return Err(cx.fail_msg(
                format!("No modules named '{module}' are currently loaded."),
                "PesterModuleNotLoaded",
                ErrorCategory::ObjectNotFound,
            ));
        }
        let Some(Value::ScriptBlock(body)) = args.get("ScriptBlock").cloned() else {
            return Ok(());
        };
        let params = args.get("Parameters").cloned();
        let out = &mut *cx.out;
        in_child_scope(cx.it, |it| {
            set_vars(it, params.as_ref());
            it.dot_invoke(&body, Value::Null, out)
        })
    }
}
