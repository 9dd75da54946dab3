//! `Invoke-Pester`: finds the `*.Tests.ps1` files, runs each, prints the
//! summary and returns the result object.

use std::path::{Path, PathBuf};

use super::scratch::ScratchStore;
use super::{Outcome, Run, Show, TestResult, guarded, in_child_scope, nunit, results};
use crate::commands::{Args, CommandInfo, Cx, Processor, Signature};
use crate::runtime::error::{ErrorCategory, Flow, Res};
use crate::runtime::interp::Discard;
use crate::runtime::types::PsType;
use crate::runtime::value::Value;

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<InvokePester>(
            "Invoke-Pester",
            "Runs the *.Tests.ps1 files in a folder (or the files named) and reports the results.",
            Signature::new()
                .named(
                    "Path",
                    PsType::Array(None),
                    "Test files, or folders searched for *.Tests.ps1.",
                )
                .positional(0)
                .alias("Script")
                .switch("PassThru", "Returns the result object.")
                .switch(
                    "EnableExit",
                    "Ends the shell with the number of failed tests as exit status.",
                )
                .named(
                    "Tag",
                    PsType::Array(None),
                    "Runs only the Describe blocks with one of these tags.",
                )
                .alias("Tags")
                .named(
                    "ExcludeTag",
                    PsType::Array(None),
                    "Skips the Describe blocks with one of these tags.",
                )
                .named(
                    "Show",
                    PsType::Array(None),
                    "Pester 4: the parts of the report to print (None, Failed, Summary, All, ...).",
                )
                .named(
                    "Output",
                    PsType::String,
                    "Pester 5: how much to print (None, Minimal, Normal, Detailed, Diagnostic).",
                )
                .named(
                    "OutputFile",
                    PsType::String,
                    "Writes the results to this file as NUnit 2.5 XML.",
                )
                .named(
                    "OutputFormat",
                    PsType::String,
                    "The format of -OutputFile: NUnitXml (the only one).",
                )
                .named("CodeCoverage", PsType::Object, "Not supported: refused with a message.")
                .switch(
                    "FreshStore",
                    "Runs the tests on a fresh default configuration store instead of a copy of the current one.",
                ),
        )
        .module("Pester"),
    ]
}

#[derive(Default)]
struct InvokePester;

fn strings(args: &Args, name: &str) -> Vec<String> {
    args.get(name)
        .map(|v| v.enumerate().iter().map(|x| x.to_string()).collect())
        .unwrap_or_default()
}

/// Test files under a folder, in name order, subfolders included.
fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out);
        } else if p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.to_ascii_lowercase().ends_with(".tests.ps1"))
        {
            out.push(p);
        }
    }
}

impl Processor for InvokePester {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        if args.has("CodeCoverage") {
            return Err(cx.fail_msg(
                "Invoke-Pester -CodeCoverage is not supported by lyncsh: it cannot measure which commands a test ran.",
                "PesterCodeCoverageNotSupported",
                ErrorCategory::InvalidOperation,
            ));
        }
        if let Some(format) = args.string("OutputFormat")
            && !["NUnitXml", "NUnit2.5"]
                .iter()
                .any(|f| f.eq_ignore_ascii_case(&format))
        {
            return Err(cx.fail_msg(
                format!(
                    "Invoke-Pester -OutputFormat {format} is not supported by lyncsh; use NUnitXml."
                ),
                "PesterOutputFormatNotSupported",
                ErrorCategory::InvalidArgument,
            ));
        }
        if cx.it.pester.is_some() {
            return Err(cx.fail_msg(
                "Invoke-Pester cannot run inside a test.",
                "PesterNested",
                ErrorCategory::InvalidOperation,
            ));
        }
        let mut given = strings(args, "Path");
        if given.is_empty() {
            given.push(".".into());
        }
        let mut files = Vec::new();
        for g in &given {
            let p = cx.it.resolve_path(g);
            if p.is_dir() {
                collect(&p, &mut files);
            } else if p.is_file() {
                files.push(p);
            } else {
                return Err(cx.fail_msg(
                    format!("Cannot find path '{g}' because it does not exist."),
                    "PathNotFound",
                    ErrorCategory::ObjectNotFound,
                ));
            }
        }
        let mut run = Run::new(cx.it);
        run.tags = strings(args, "Tag");
        run.exclude_tags = strings(args, "ExcludeTag");
        run.show = shown_parts(args).map_err(|m| {
            cx.fail_msg(
                m,
                "ParameterArgumentValidationError",
                ErrorCategory::InvalidData,
            )
        })?;
        if run.show.has(Show::HEADER) {
            // Not yet the session's run: say_part would not see its -Show.
            results::say_part(
                cx.it,
                Show::HEADER,
                &format!("Executing all tests in '{}'", given.join("', '")),
                "Magenta",
            );
        }
        let fresh = args.switch("FreshStore");
        let store = ScratchStore::enter(cx.it, fresh).map_err(|e| cx.fail(e))?;
        let what = if fresh {
            "a fresh default configuration store"
        } else {
            "a scratch copy of the configuration store"
        };
        cx.it.pester = Some(Box::new(run));
        results::say_part(
            cx.it,
            Show::HEADER,
            &format!("Tests run on {what}; their changes are discarded."),
            "Magenta",
        );
        let fatal = run_files(cx, files);
        store.restore(cx.it);
        let Some(run) = cx.it.pester.take() else {
            return Ok(());
        };
        if let Some(f) = fatal {
            return Err(f);
        }
        results::summary(cx.it, &run);
        if let Some(path) = args.string("OutputFile") {
            let target = cx.it.resolve_path(&path);
            let xml = nunit::report(&run, &cx.it.cwd);
            std::fs::write(&target, xml).map_err(|e| {
                cx.fail_msg(
                    format!("Cannot write the test results to '{path}': {e}"),
                    "PesterOutputFile",
                    ErrorCategory::WriteError,
                )
            })?;
        }
        if args.switch("PassThru") {
            cx.emit(results::pass_thru(&run))?;
        }
        if args.switch("EnableExit") {
            let failed = results::count(&run, Outcome::Failed);
            return Err(Flow::Exit(i32::try_from(failed).unwrap_or(i32::MAX)));
        }
        Ok(())
    }
}

/// The parts of the report `-Show` or `-Output` ask for (all by default).
fn shown_parts(args: &Args) -> Result<Show, String> {
    let show = strings(args, "Show");
    let output = strings(args, "Output");
    match (show.is_empty(), output.is_empty()) {
        (true, true) => Ok(Show::ALL),
        (false, _) => Show::parse_show(&show),
        (true, false) => Show::parse_output(&output),
    }
}

/// Runs each test file; a flow that ends the shell stops the run.
fn run_files(cx: &mut Cx, files: Vec<PathBuf>) -> Option<Flow> {
    let mut fatal = None;
    for file in files {
        let shown = cx
            .it
            .pester
            .as_ref()
            .map(|r| r.show_path(&file))
            .unwrap_or_default();
        results::say_part(cx.it, Show::HEADER, "", "Gray");
        results::say_part(
            cx.it,
            Show::HEADER,
            &format!("Executing script {shown}"),
            "Magenta",
        );
        if let Some(run) = cx.it.pester.as_mut() {
            run.file = shown.clone();
        }
        let dir = file
            .parent()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        let path = file.display().to_string();
        let r = cx.it.load_script(&file).and_then(|sb| {
            // The test file sees its own folder and path, as a script does.
            in_child_scope(cx.it, |it| {
                it.set_local("PSScriptRoot", Value::from(dir));
                it.set_local("PSCommandPath", Value::from(path));
                guarded(it, |it| {
                    it.call_block_raw(&sb, Vec::new(), true, &mut Discard)
                })
            })
        });
        match r {
            Ok(()) => {}
            Err(Flow::Error(rec)) => {
                let Some(run) = cx.it.pester.as_mut() else {
                    break;
                };
                let result = TestResult {
                    file: shown.clone(),
                    name: format!("Error occurred in test script '{shown}'"),
                    describe: String::new(),
                    context: String::new(),
                    outcome: Outcome::Failed,
                    message: rec.message.to_string(),
                    stack: String::new(),
                    time: run.duration(std::time::Duration::ZERO),
                };
                results::test_line(cx.it, 0, &result);
                if let Some(run) = cx.it.pester.as_mut() {
                    run.results.push(result);
                }
            }
            Err(f @ (Flow::Exit(_) | Flow::Stopped | Flow::Halt(_))) => {
                fatal = Some(f);
                break;
            }
            Err(_) => {}
        }
    }
    fatal
}
