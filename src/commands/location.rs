//! Get-Location, Set-Location, Push-Location and Pop-Location (`pwd`,
//! `cd`, `pushd`, `popd`): the session's current directory, which relative
//! paths of every file cmdlet start from. A remote session confined to a
//! directory cannot leave it (`check_path`).

use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::files::{qualify, resolve};
use super::{Args, CommandInfo, Cx, Example, Processor, Signature, check_path};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::{PsObject, Value};

const PATH_INFO: &str = "System.Management.Automation.PathInfo";

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<GetLocation>(
            "Get-Location",
            "Shows the session's current directory.",
            Signature::new(),
        )
        .aliases(&["gl", "pwd"])
        .module("Microsoft.PowerShell.Management"),
        CommandInfo::new::<SetLocation>(
            "Set-Location",
            "Makes a directory the session's current one; relative paths start there.",
            target("The directory to go to; `~` is the home directory.")
                .switch("PassThru", "Writes the new location to the pipeline."),
        )
        .aliases(&["sl", "cd", "chdir"])
        .module("Microsoft.PowerShell.Management")
        .examples(&[Example {
            code: "Set-Location ./imports; Import-Csv users.csv",
            about: "Reads users.csv from the imports directory.",
        }]),
        CommandInfo::new::<PushLocation>(
            "Push-Location",
            "Remembers the current directory on a stack, then goes to another one.",
            target("The directory to go to (default: stay)."),
        )
        .aliases(&["pushd"])
        .module("Microsoft.PowerShell.Management"),
        CommandInfo::new::<PopLocation>(
            "Pop-Location",
            "Goes back to the directory the last Push-Location remembered.",
            Signature::new().switch("PassThru", "Writes the new location to the pipeline."),
        )
        .aliases(&["popd"])
        .module("Microsoft.PowerShell.Management"),
    ]
}

fn target(about: &'static str) -> Signature {
    Signature::new()
        .named("Path", PsType::String, about)
        .positional(0)
        .from_pipeline()
        .by_property_name()
        .literal_path(PsType::String, "The directory, taken literally.")
}

/// A directory as pwsh shows it: a `PathInfo` whose text is the path.
pub fn path_info(path: &Path) -> Value {
    let text = path.display().to_string();
    let mut o = PsObject::with_type(Rc::from(vec![Rc::from(PATH_INFO)]));
    o.set("Path", Value::str(text.as_str()));
    o.display = Some(Rc::from(text.as_str()));
    Value::Object(Rc::new(std::cell::RefCell::new(o)))
}

/// The directory a Set- or Push-Location names, checked: it must exist,
/// be a directory, and be one the session may use.
fn destination(cx: &Cx, args: &Args) -> Result<Option<PathBuf>, ErrorRecord> {
    checked(cx, args).map_err(|e| qualify(e, cx))
}

fn checked(cx: &Cx, args: &Args) -> Result<Option<PathBuf>, ErrorRecord> {
    let Some(given) = args.string("LiteralPath").or_else(|| args.string("Path")) else {
        return Ok(None);
    };
    let path = if given.is_empty() || given == "~" {
        cx.it.home()
    } else {
        resolve(cx, &given)
    };
    check_path(cx.it, &path)?;
    match std::fs::metadata(&path) {
        Ok(m) if m.is_dir() => Ok(Some(path)),
        Ok(_) => Err(ErrorRecord::new(
            format!("Cannot go to '{given}' because it is a file, not a directory."),
            "PathIsNotADirectory",
            ErrorCategory::InvalidArgument,
        )
        .with_exception("System.Management.Automation.PSArgumentException")
        .with_target(Value::from(given))),
        Err(_) => Err(ErrorRecord::new(
            format!(
                "Cannot find path '{}' because it does not exist.",
                path.display()
            ),
            "PathNotFound",
            ErrorCategory::ObjectNotFound,
        )
        .with_exception("System.Management.Automation.ItemNotFoundException")
        .with_target(Value::from(given))),
    }
}

#[derive(Default)]
struct GetLocation;

impl Processor for GetLocation {
    fn process(&mut self, cx: &mut Cx, _args: &Args) -> Res<()> {
        let here = cx.it.cwd.clone();
        cx.emit(path_info(&here))
    }
}

#[derive(Default)]
struct SetLocation;

impl Processor for SetLocation {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        // Not a terminating error: pwsh's Set-Location writes it and the
        // script goes on in the directory it was in.
        let path = match destination(cx, args) {
            Ok(Some(p)) => p,
            Ok(None) => cx.it.home(),
            Err(e) => return cx.error(e),
        };
        cx.it.cwd = path;
        if args.switch("PassThru") {
            let here = cx.it.cwd.clone();
            cx.emit(path_info(&here))?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct PushLocation;

impl Processor for PushLocation {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let next = match destination(cx, args) {
            Ok(next) => next,
            Err(e) => return cx.error(e),
        };
        let here = cx.it.cwd.clone();
        cx.it.location_stack.push(here);
        if let Some(p) = next {
            cx.it.cwd = p;
        }
        Ok(())
    }
}

#[derive(Default)]
struct PopLocation;

impl Processor for PopLocation {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        // An empty stack leaves the location as it is, as pwsh does.
        if let Some(p) = cx.it.location_stack.pop() {
            cx.it.cwd = p;
        }
        if args.switch("PassThru") {
            let here = cx.it.cwd.clone();
            cx.emit(path_info(&here))?;
        }
        Ok(())
    }
}
