//! File-system cmdlets: Get-Content, Set-Content, Add-Content, Test-Path,
//! Join-Path, Split-Path, Remove-Item, New-Item and Get-ChildItem.
//!
//! Every access goes through `check_path`, so a session that may not use
//! the file system (or only part of it) gets a clean error instead.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature, check_path, io_error};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::{Prop, PropKind, PsObject, Value};
use crate::runtime::wildcard::Wildcard;

const MODULE: &str = "Microsoft.PowerShell.Management";
const PROVIDER_PREFIX: &str = "Microsoft.PowerShell.Core\\FileSystem::";

fn strings() -> PsType {
    PsType::Array(Some(Box::new(PsType::String)))
}

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<GetContent>(
            "Get-Content",
            "Reads a file and writes its lines (or its whole text) to the pipeline.",
            Signature::new()
                .named("Path", strings(), "Files to read; wildcards are expanded.")
                .positional(0)
                .by_property_name()
                .literal_path(strings(), "Files to read, taken literally.")
                .named(
                    "TotalCount",
                    PsType::Long,
                    "Reads only this many lines from the start.",
                )
                .alias("First")
                .alias("Head")
                .named(
                    "Tail",
                    PsType::Int,
                    "Reads only this many lines from the end.",
                )
                .alias("Last")
                .named(
                    "ReadCount",
                    PsType::Long,
                    "Lines sent down the pipeline at a time; 0 sends them all as one array.",
                )
                .switch(
                    "Raw",
                    "Returns the whole file as one string, newlines included.",
                )
                .named(
                    "Encoding",
                    PsType::String,
                    "Accepted for compatibility; files are read as UTF-8.",
                )
                .switch("Force", "Accepted for compatibility."),
        )
        .aliases(&["gc", "cat", "type"])
        .module(MODULE)
        .examples(&[Example {
            code: "Get-Content users.txt -TotalCount 5",
            about: "Shows the first five lines of users.txt.",
        }]),
        CommandInfo::new::<SetContent>(
            "Set-Content",
            "Replaces the content of a file with the given values, one per line.",
            content_signature("The values to write; each becomes one line."),
        )
        .aliases(&["sc"])
        .module(MODULE)
        .examples(&[Example {
            code: "Get-CsUser | ForEach-Object SipAddress | Set-Content sips.txt",
            about: "Writes every user's SIP address to sips.txt, replacing what was there.",
        }]),
        CommandInfo::new::<AddContent>(
            "Add-Content",
            "Appends values to the end of a file, one per line, creating it if needed.",
            content_signature("The values to append; each becomes one line."),
        )
        .aliases(&["ac"])
        .module(MODULE)
        .examples(&[Example {
            code: "Add-Content log.txt \"Finished at $(Get-Date)\"",
            about: "Adds a line to log.txt.",
        }]),
        CommandInfo::new::<TestPath>(
            "Test-Path",
            "Tells whether a path exists, optionally whether it is a file or a directory.",
            Signature::new()
                .named("Path", strings(), "Paths to test; wildcards are expanded.")
                .positional(0)
                .from_pipeline()
                .by_property_name()
                .literal_path(strings(), "Paths to test, taken literally.")
                .named(
                    "PathType",
                    PsType::String,
                    "Any, Container (a directory) or Leaf (a file).",
                )
                .alias("Type")
                .values(&["Any", "Container", "Leaf"])
                .switch("IsValid", "Only checks that the path is well formed."),
        )
        .module(MODULE)
        .examples(&[Example {
            code: "if (Test-Path .\\policies.csv -PathType Leaf) { Import-Csv .\\policies.csv }",
            about: "Imports a file only when it exists.",
        }]),
        CommandInfo::new::<JoinPath>(
            "Join-Path",
            "Combines a parent path and child paths into one path.",
            Signature::new()
                .named("Path", strings(), "The parent paths.")
                .positional(0)
                .mandatory()
                .from_pipeline()
                .by_property_name()
                .alias("PSPath")
                .named(
                    "ChildPath",
                    PsType::String,
                    "The path to append to each parent.",
                )
                .positional(1)
                .by_property_name()
                .named(
                    "AdditionalChildPath",
                    strings(),
                    "Further path parts appended in order.",
                )
                .positional(2)
                .with(|p| p.remaining = true)
                .switch("Resolve", "Fails unless the joined path exists."),
        )
        .module(MODULE)
        .examples(&[Example {
            code: "Join-Path $HOME reports 'users.csv'",
            about: "Builds the path of a report under the home directory.",
        }]),
        CommandInfo::new::<SplitPath>(
            "Split-Path",
            "Returns a part of a path: its parent (the default), leaf, base name or extension.",
            Signature::new()
                .named("Path", strings(), "The paths to split.")
                .positional(0)
                .mandatory()
                .from_pipeline()
                .by_property_name()
                .switch("Parent", "Returns the containing directory (the default).")
                .switch("Leaf", "Returns the last element of the path.")
                .switch(
                    "LeafBase",
                    "Returns the last element without its extension.",
                )
                .switch(
                    "Extension",
                    "Returns the extension of the last element, dot included.",
                )
                .switch("Qualifier", "Returns the drive part of the path.")
                .switch("NoQualifier", "Returns the path without its drive part.")
                .switch("IsAbsolute", "Tells whether the path is absolute."),
        )
        .module(MODULE)
        .examples(&[Example {
            code: "Split-Path C:/exports/users.csv -Leaf",
            about: "Returns users.csv.",
        }]),
        CommandInfo::new::<RemoveItem>(
            "Remove-Item",
            "Deletes files and directories.",
            Signature::new()
                .named(
                    "Path",
                    strings(),
                    "Items to delete; wildcards are expanded.",
                )
                .positional(0)
                .from_pipeline()
                .by_property_name()
                .literal_path(strings(), "Items to delete, taken literally.")
                .switch("Recurse", "Also deletes everything inside a directory.")
                .switch("Force", "Also deletes hidden and read-only items.")
                .should_process(),
        )
        .aliases(&["ri", "rm", "del", "erase", "rd", "rmdir"])
        .module(MODULE)
        .examples(&[Example {
            code: "Remove-Item .\\old-export -Recurse",
            about: "Deletes a directory and all it holds.",
        }]),
        CommandInfo::new::<NewItem>(
            "New-Item",
            "Creates a file or a directory.",
            Signature::new()
                .named("Path", strings(), "Where to create the item.")
                .positional(0)
                .by_property_name()
                .named("Name", PsType::String, "The item's name, joined to -Path.")
                .by_property_name()
                .named(
                    "ItemType",
                    PsType::String,
                    "File (the default) or Directory.",
                )
                .alias("Type")
                .values(&["File", "Directory"])
                .named("Value", PsType::Object, "Text the new file starts with.")
                .from_pipeline()
                .by_property_name()
                .switch(
                    "Force",
                    "Overwrites an existing file and creates missing parent directories.",
                )
                .should_process(),
        )
        .aliases(&["ni"])
        .module(MODULE)
        .examples(&[Example {
            code: "New-Item -ItemType Directory -Path exports",
            about: "Creates the directory exports.",
        }]),
        CommandInfo::new::<GetChildItem>(
            "Get-ChildItem",
            "Lists the files and directories in a directory.",
            Signature::new()
                .named(
                    "Path",
                    strings(),
                    "Directories (or files) to list; wildcards are expanded.",
                )
                .positional(0)
                .from_pipeline()
                .by_property_name()
                .literal_path(strings(), "Directories to list, taken literally.")
                .named(
                    "Filter",
                    PsType::String,
                    "A wildcard pattern names must match.",
                )
                .positional(1)
                .named(
                    "Include",
                    strings(),
                    "Only items whose names match one of these patterns.",
                )
                .named(
                    "Exclude",
                    strings(),
                    "Leaves out items whose names match these patterns.",
                )
                .switch("Recurse", "Also lists the contents of subdirectories.")
                .alias("s")
                .named(
                    "Depth",
                    PsType::Int,
                    "How many levels of subdirectories to descend.",
                )
                .switch("File", "Lists only files.")
                .switch("Directory", "Lists only directories.")
                .alias("ad")
                .switch(
                    "Force",
                    "Also lists hidden items (names starting with a dot).",
                )
                .switch("Name", "Writes only the names of the items."),
        )
        .aliases(&["gci", "ls", "dir"])
        .module(MODULE)
        .examples(&[Example {
            code: "Get-ChildItem . -Filter *.csv -Recurse",
            about: "Finds every CSV file below the current directory.",
        }]),
    ]
}

fn content_signature(value_help: &str) -> Signature {
    Signature::new()
        .named("Path", strings(), "The files to write.")
        .positional(0)
        .by_property_name()
        .literal_path(strings(), "The files to write, taken literally.")
        .named("Value", PsType::Array(None), value_help)
        .positional(1)
        .from_pipeline()
        .by_property_name()
        .switch(
            "NoNewline",
            "Writes the values back to back, without newlines.",
        )
        .switch("PassThru", "Writes the values to the pipeline as well.")
        .switch("Force", "Accepted for compatibility.")
        .named(
            "Encoding",
            PsType::String,
            "Accepted for compatibility; files are written as UTF-8.",
        )
        .should_process()
}

// ----------------------------------------------------------------------
// Path helpers

fn class(cx: &Cx) -> String {
    format!(
        "Microsoft.PowerShell.Commands.{}Command",
        cx.rt.name.replace('-', "")
    )
}

/// Qualifies an error id with the cmdlet's class, as pwsh's ids read.
pub(crate) fn qualify(rec: ErrorRecord, cx: &Cx) -> ErrorRecord {
    let id = format!("{},{}", rec.error_id, class(cx));
    ErrorRecord {
        error_id: Rc::from(id),
        ..rec
    }
}

fn not_found(cx: &Cx, path: &Path) -> ErrorRecord {
    let e = std::io::Error::from(std::io::ErrorKind::NotFound);
    qualify(io_error(path, &e), cx)
}

fn io_fail(cx: &Cx, path: &Path, e: &std::io::Error) -> ErrorRecord {
    if e.kind() == std::io::ErrorKind::NotFound && path.parent().is_some_and(|p| !p.exists()) {
        return qualify(
            ErrorRecord::new(
                format!("Could not find a part of the path '{}'.", path.display()),
                "DirectoryNotFound",
                ErrorCategory::ObjectNotFound,
            )
            .with_exception("System.IO.DirectoryNotFoundException")
            .with_target(Value::from(path.display().to_string())),
            cx,
        );
    }
    qualify(io_error(path, e), cx)
}

/// Removes `.` and `..` (without touching the disk) so messages show the
/// path pwsh would show.
pub(crate) fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

pub(crate) fn resolve(cx: &Cx, s: &str) -> PathBuf {
    let s = s.strip_prefix(PROVIDER_PREFIX).unwrap_or(s);
    clean(&cx.it.resolve_path(s))
}

/// The path strings a command was given: -LiteralPath (never expanded)
/// or -Path (wildcards expanded).
fn path_args(args: &Args) -> (Vec<String>, bool) {
    if let Some(v) = args.get("LiteralPath").filter(|v| !v.is_null()) {
        return (v.enumerate().iter().map(|x| x.to_string()).collect(), true);
    }
    let paths = args
        .get("Path")
        .map(|v| v.enumerate().iter().map(|x| x.to_string()).collect())
        .unwrap_or_default();
    (paths, false)
}

/// Expands a wildcard path into the existing paths it names, sorted.
/// `None` means the path has no wildcard characters.
fn expand(cx: &Cx, pattern: &str, literal: bool) -> Result<Option<Vec<PathBuf>>, ErrorRecord> {
    let full = resolve(cx, pattern);
    check_path(cx.it, &full)?;
    if literal || !Wildcard::has_wildcards(&full.to_string_lossy()) {
        return Ok(None);
    }
    let mut current: Vec<PathBuf> = vec![PathBuf::new()];
    for comp in full.components() {
        let text = comp.as_os_str().to_string_lossy().to_string();
        if !Wildcard::has_wildcards(&text) {
            for p in &mut current {
                p.push(comp.as_os_str());
            }
            continue;
        }
        let w = Wildcard::new(&text, false);
        let mut next = Vec::new();
        for dir in &current {
            let Ok(rd) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut names: Vec<String> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| w.is_match(n))
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|n| dir.join(n)));
        }
        current = next;
    }
    current.retain(|p| p.exists());
    // A wildcard can walk through a link out of an allowed directory:
    // each match is held to the session's rule, not only the pattern.
    for p in &current {
        check_path(cx.it, p)?;
    }
    Ok(Some(current))
}

/// Expands each -Path/-LiteralPath argument; missing literal paths are
/// reported through `missing`.
fn targets(cx: &mut Cx, args: &Args, must_exist: bool) -> Res<Vec<PathBuf>> {
    let (paths, literal) = path_args(args);
    let mut out = Vec::new();
    for p in paths {
        match expand(cx, &p, literal) {
            Err(e) => cx.error(qualify(e, cx))?,
            Ok(Some(found)) => out.extend(found),
            Ok(None) => {
                let full = resolve(cx, &p);
                if must_exist && std::fs::symlink_metadata(&full).is_err() {
                    let e = not_found(cx, &full);
                    cx.error(e)?;
                } else {
                    out.push(full);
                }
            }
        }
    }
    Ok(out)
}

fn to_local(t: std::io::Result<std::time::SystemTime>) -> Value {
    match t {
        Ok(t) => {
            let dt: chrono::DateTime<chrono::Local> = t.into();
            Value::DateTime(dt.naive_local())
        }
        Err(_) => Value::Null,
    }
}

fn prop(o: &mut PsObject, name: &str, v: Value) {
    o.props_mut().push(Prop {
        kind: PropKind::Property,
        ..Prop::note(name, v)
    });
}

/// A FileInfo/DirectoryInfo-like object for a path.
fn item_object(path: &Path) -> Value {
    let meta = std::fs::metadata(path).ok();
    let is_dir = meta.as_ref().is_some_and(|m| m.is_dir());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| path.display().to_string());
    let full = path.display().to_string();
    let parent = path
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let type_name = if is_dir {
        "System.IO.DirectoryInfo"
    } else {
        "System.IO.FileInfo"
    };
    let mut o = PsObject::with_type(Rc::from(vec![
        Rc::from(type_name),
        Rc::from("System.IO.FileSystemInfo"),
        Rc::from("System.MarshalByRefObject"),
        Rc::from("System.Object"),
    ]));
    let (base, ext) = split_ext(&name);
    let hidden = name.starts_with('.');
    let mode = format!(
        "{}{}---",
        if is_dir { 'd' } else { '-' },
        if hidden { 'h' } else { '-' }
    );
    prop(
        &mut o,
        "PSPath",
        Value::from(format!("{PROVIDER_PREFIX}{full}")),
    );
    prop(
        &mut o,
        "PSParentPath",
        Value::from(format!("{PROVIDER_PREFIX}{parent}")),
    );
    prop(&mut o, "PSChildName", Value::from(name.clone()));
    prop(&mut o, "PSIsContainer", Value::Bool(is_dir));
    prop(&mut o, "Mode", Value::from(mode));
    prop(
        &mut o,
        "BaseName",
        Value::from(if is_dir { name.clone() } else { base }),
    );
    if is_dir {
        prop(&mut o, "Parent", Value::from(parent));
    } else {
        let len = meta.as_ref().map(|m| m.len() as i64).unwrap_or(0);
        prop(&mut o, "Length", Value::Long(len));
        prop(&mut o, "DirectoryName", Value::from(parent));
    }
    prop(&mut o, "FullName", Value::from(full.clone()));
    prop(&mut o, "Extension", Value::from(ext));
    prop(&mut o, "Name", Value::from(name));
    prop(&mut o, "Exists", Value::Bool(meta.is_some()));
    prop(
        &mut o,
        "CreationTime",
        to_local(meta.as_ref().map_or_else(
            || Err(std::io::Error::from(std::io::ErrorKind::NotFound)),
            |m| m.created(),
        )),
    );
    prop(
        &mut o,
        "LastWriteTime",
        to_local(meta.as_ref().map_or_else(
            || Err(std::io::Error::from(std::io::ErrorKind::NotFound)),
            |m| m.modified(),
        )),
    );
    o.display = Some(Rc::from(full));
    Value::object(o)
}

/// `name.ext` → (`name`, `.ext`); a leading dot alone is not an extension
/// separator for the base name (`.bashrc` has base `` and extension
/// `.bashrc`, as .NET says).
fn split_ext(name: &str) -> (String, String) {
    match name.rfind('.') {
        Some(i) => (
            name.get(..i).unwrap_or_default().to_string(),
            name.get(i..).unwrap_or_default().to_string(),
        ),
        None => (name.to_string(), String::new()),
    }
}

/// Lines of a text the way Get-Content reads them: `\n`, `\r\n` or `\r`
/// end a line; a final line ending adds no empty line.
fn split_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => out.push(std::mem::take(&mut cur)),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push(std::mem::take(&mut cur));
            }
            other => cur.push(other),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn read_text(path: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    let bytes = bytes
        .strip_prefix(&[0xEF, 0xBB, 0xBF][..])
        .unwrap_or(&bytes);
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

// ----------------------------------------------------------------------
// Get-Content

#[derive(Default)]
struct GetContent;

impl Processor for GetContent {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let files = targets(cx, args, true)?;
        let total = args.get("TotalCount").and_then(Value::as_i64);
        let tail = args.get("Tail").and_then(Value::as_i64);
        let read_count = args.get("ReadCount").and_then(Value::as_i64).unwrap_or(1);
        for path in files {
            if path.is_dir() {
                let rec = qualify(
                    ErrorRecord::new(
                        format!(
                            "Unable to get content because it is a directory: '{}'. Please use 'Get-ChildItem' instead.",
                            path.display()
                        ),
                        "GetContainerContentException",
                        ErrorCategory::InvalidOperation,
                    )
                    .with_target(Value::from(path.display().to_string())),
                    cx,
                );
                cx.error(rec)?;
                continue;
            }
            let text = match read_text(&path) {
                Ok(t) => t,
                Err(e) => {
                    let rec = io_fail(cx, &path, &e);
                    cx.error(rec)?;
                    continue;
                }
            };
            if args.switch("Raw") {
                if !text.is_empty() {
                    cx.emit(Value::from(text))?;
                }
                continue;
            }
            let mut lines = split_lines(&text);
            if let Some(n) = total.filter(|n| *n >= 0) {
                lines.truncate(n as usize);
            }
            if let Some(n) = tail.filter(|n| *n >= 0) {
                let n = n as usize;
                if lines.len() > n {
                    lines.drain(..lines.len() - n);
                }
            }
            let values: Vec<Value> = lines.into_iter().map(Value::from).collect();
            if read_count <= 0 {
                if !values.is_empty() {
                    cx.emit(Value::array(values))?;
                }
            } else if read_count == 1 {
                for v in values {
                    cx.emit(v)?;
                }
            } else {
                for chunk in values.chunks(read_count as usize) {
                    cx.emit(Value::array(chunk.to_vec()))?;
                }
            }
        }
        Ok(())
    }
}

// ----------------------------------------------------------------------
// Set-Content / Add-Content

#[derive(Default)]
struct SetContent {
    writer: ContentWriter,
}

#[derive(Default)]
struct AddContent {
    writer: ContentWriter,
}

#[derive(Default)]
struct ContentWriter {
    values: Vec<Value>,
}

impl ContentWriter {
    fn collect(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        if let Some(v) = args.get("Value") {
            let items = v.enumerate();
            if args.switch("PassThru") {
                for i in &items {
                    cx.emit(i.clone())?;
                }
            }
            self.values.extend(items);
        }
        Ok(())
    }

    fn finish(&mut self, cx: &mut Cx, args: &Args, append: bool) -> Res<()> {
        let mut text = String::new();
        for v in &self.values {
            text.push_str(&v.to_string());
            if !args.switch("NoNewline") {
                text.push('\n');
            }
        }
        let (paths, literal) = path_args(args);
        let action = if append { "Add Content" } else { "Set Content" };
        for p in paths {
            let targets = match expand(cx, &p, literal) {
                Err(e) => {
                    cx.error(qualify(e, cx))?;
                    continue;
                }
                Ok(Some(found)) if !found.is_empty() => found,
                Ok(_) => vec![resolve(cx, &p)],
            };
            for path in targets {
                if !cx.should_process(&format!("Path: {}", path.display()), action)? {
                    continue;
                }
                let result = if append {
                    use std::io::Write;
                    std::fs::OpenOptions::new()
                        .append(true)
                        .create(true)
                        .open(&path)
                        .and_then(|mut f| f.write_all(text.as_bytes()))
                } else {
                    std::fs::write(&path, &text)
                };
                if let Err(e) = result {
                    let rec = io_fail(cx, &path, &e);
                    cx.error(rec)?;
                }
            }
        }
        Ok(())
    }
}

impl Processor for SetContent {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        self.writer.collect(cx, args)
    }
    fn end(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        self.writer.finish(cx, args, false)
    }
}

impl Processor for AddContent {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        self.writer.collect(cx, args)
    }
    fn end(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        self.writer.finish(cx, args, true)
    }
}

// ----------------------------------------------------------------------
// Test-Path

#[derive(Default)]
struct TestPath;

impl Processor for TestPath {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let (paths, literal) = path_args(args);
        let kind = args
            .string("PathType")
            .unwrap_or_else(|| "Any".into())
            .to_ascii_lowercase();
        if !["any", "container", "leaf"].contains(&kind.as_str()) {
            return Err(cx.fail_msg(
                format!(
                    "Cannot bind parameter 'PathType'. Cannot convert value \"{kind}\" to type \"Microsoft.PowerShell.Commands.TestPathType\". Error: \"Unable to match the identifier name {kind} to a valid enumerator name. Specify one of the following enumerator names and try again:\nAny, Container, Leaf\""
                ),
                "CannotConvertArgumentNoMessage,Microsoft.PowerShell.Commands.TestPathCommand",
                ErrorCategory::InvalidArgument,
            ));
        }
        if paths.is_empty() {
            return cx.emit(Value::Bool(false));
        }
        for p in paths {
            if p.is_empty() {
                cx.emit(Value::Bool(false))?;
                continue;
            }
            if args.switch("IsValid") {
                cx.emit(Value::Bool(!p.contains('\0')))?;
                continue;
            }
            let found = match expand(cx, &p, literal) {
                Err(e) => return Err(cx.fail(qualify(e, cx))),
                Ok(Some(found)) => found,
                Ok(None) => vec![resolve(cx, &p)],
            };
            let ok = found.iter().any(|f| match std::fs::metadata(f) {
                Ok(m) => match kind.as_str() {
                    "container" => m.is_dir(),
                    "leaf" => !m.is_dir(),
                    _ => true,
                },
                Err(_) => false,
            });
            cx.emit(Value::Bool(ok))?;
        }
        Ok(())
    }
}

// ----------------------------------------------------------------------
// Join-Path / Split-Path (pure string work, no file access)

fn join_two(parent: &str, child: &str) -> String {
    let parent = parent.replace('\\', "/");
    let child = child.replace('\\', "/");
    if parent.is_empty() {
        return child;
    }
    if child.is_empty() {
        return parent;
    }
    let p = parent.trim_end_matches('/');
    let c = child.trim_start_matches('/');
    format!("{p}/{c}")
}

#[derive(Default)]
struct JoinPath;

impl Processor for JoinPath {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let parents = args.get("Path").map(Value::enumerate).unwrap_or_default();
        let child = args.string("ChildPath").unwrap_or_default();
        let more: Vec<String> = args
            .get("AdditionalChildPath")
            .map(|v| v.enumerate().iter().map(|x| x.to_string()).collect())
            .unwrap_or_default();
        for parent in parents {
            let mut joined = join_two(&parent.to_string(), &child);
            for m in &more {
                joined = join_two(&joined, m);
            }
            if args.switch("Resolve") {
                let found = match expand(cx, &joined, false) {
                    Err(e) => return Err(cx.fail(qualify(e, cx))),
                    Ok(Some(found)) => found,
                    Ok(None) => {
                        let full = resolve(cx, &joined);
                        if full.exists() {
                            vec![full]
                        } else {
                            Vec::new()
                        }
                    }
                };
                if found.is_empty() {
                    let e = not_found(cx, &resolve(cx, &joined));
                    cx.error(e)?;
                }
                for f in found {
                    cx.emit(Value::from(f.display().to_string()))?;
                }
                continue;
            }
            cx.emit(Value::from(joined))?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct SplitPath;

fn leaf_of(p: &str) -> String {
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return String::new();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

fn parent_of(p: &str) -> String {
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return String::new();
    }
    match t.rfind('/') {
        None => String::new(),
        Some(i) => {
            let head = t.get(..i).unwrap_or_default().trim_end_matches('/');
            if head.is_empty() {
                "/".into()
            } else {
                head.to_string()
            }
        }
    }
}

impl Processor for SplitPath {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let paths = args.get("Path").map(Value::enumerate).unwrap_or_default();
        for p in paths {
            let p = p.to_string().replace('\\', "/");
            let out = if args.switch("IsAbsolute") {
                Value::Bool(p.starts_with('/') || p.starts_with('~'))
            } else if args.switch("Leaf") {
                Value::from(leaf_of(&p))
            } else if args.switch("LeafBase") {
                Value::from(split_ext(&leaf_of(&p)).0)
            } else if args.switch("Extension") {
                Value::from(split_ext(&leaf_of(&p)).1)
            } else if args.switch("NoQualifier") {
                Value::from(p.clone())
            } else if args.switch("Qualifier") {
                return Err(cx.fail(qualify(
                    ErrorRecord::new(
                        format!("Cannot parse path because path '{p}' does not have a qualifier specified."),
                        "ParsePathFormatError",
                        ErrorCategory::ParserError,
                    )
                    .with_exception("System.Management.Automation.PSArgumentException"),
                    cx,
                )));
            } else {
                Value::from(parent_of(&p))
            };
            cx.emit(out)?;
        }
        Ok(())
    }
}

// ----------------------------------------------------------------------
// Remove-Item

#[derive(Default)]
struct RemoveItem;

impl Processor for RemoveItem {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        for path in targets(cx, args, true)? {
            let is_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
            let action = if is_dir {
                "Remove Directory"
            } else {
                "Remove File"
            };
            if !cx.should_process(&path.display().to_string(), action)? {
                continue;
            }
            let result = if is_dir {
                let empty = std::fs::read_dir(&path)
                    .map(|mut d| d.next().is_none())
                    .unwrap_or(true);
                if !empty && !args.switch("Recurse") {
                    let msg = format!(
                        "The item at {} has children and the Recurse parameter was not specified. If you continue, all children will be removed with the item. Are you sure you want to continue?",
                        path.display()
                    );
                    if !cx.confirm(&path.display().to_string(), &msg)? {
                        continue;
                    }
                }
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            if let Err(e) = result {
                let rec = io_fail(cx, &path, &e);
                cx.error(rec)?;
            }
        }
        Ok(())
    }
}

// ----------------------------------------------------------------------
// New-Item

#[derive(Default)]
struct NewItem;

impl Processor for NewItem {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let mut paths: Vec<String> = args
            .get("Path")
            .map(|v| v.enumerate().iter().map(|x| x.to_string()).collect())
            .unwrap_or_default();
        if paths.is_empty() {
            paths.push(".".into());
        }
        let name = args.string("Name");
        let kind = args
            .string("ItemType")
            .unwrap_or_else(|| "File".into())
            .to_ascii_lowercase();
        let dir = match kind.as_str() {
            "file" => false,
            "directory" | "container" => true,
            other => {
                return Err(cx.fail(qualify(
                    ErrorRecord::new(
                        format!(
                            "The type is not a known type for the file system. Only \"file\",\"directory\",\"symboliclink\",\"junction\",\"hardlink\" can be specified. ({other})"
                        ),
                        "NewItemTypeNotKnown",
                        ErrorCategory::InvalidArgument,
                    )
                    .with_exception("System.Management.Automation.PSArgumentException"),
                    cx,
                )));
            }
        };
        let force = args.switch("Force");
        for p in paths {
            let joined = match &name {
                Some(n) => join_two(&p, n),
                None => p,
            };
            let path = resolve(cx, &joined);
            if let Err(e) = check_path(cx.it, &path) {
                cx.error(qualify(e, cx))?;
                continue;
            }
            let action = if dir {
                "Create Directory"
            } else {
                "Create File"
            };
            if !cx.should_process(&format!("Destination: {}", path.display()), action)? {
                continue;
            }
            if dir {
                if path.exists() && !force {
                    let rec = qualify(
                        ErrorRecord::new(
                            format!(
                                "An item with the specified name {} already exists.",
                                path.display()
                            ),
                            "DirectoryExist",
                            ErrorCategory::ResourceExists,
                        )
                        .with_exception("System.IO.IOException")
                        .with_target(Value::from(path.display().to_string())),
                        cx,
                    );
                    cx.error(rec)?;
                    continue;
                }
                if let Err(e) = std::fs::create_dir_all(&path) {
                    let rec = io_fail(cx, &path, &e);
                    cx.error(rec)?;
                    continue;
                }
            } else {
                if path.is_dir() || (path.exists() && !force) {
                    let rec = qualify(
                        ErrorRecord::new(
                            format!("The file '{}' already exists.", path.display()),
                            "NewItemIOError",
                            ErrorCategory::WriteError,
                        )
                        .with_exception("System.IO.IOException")
                        .with_target(Value::from(path.display().to_string())),
                        cx,
                    );
                    cx.error(rec)?;
                    continue;
                }
                if force && let Some(parent) = path.parent() {
                    let _ = std::fs::create_dir_all(parent);
                }
                let text = args.get("Value").map(|v| v.to_string()).unwrap_or_default();
                if let Err(e) = std::fs::write(&path, text) {
                    let rec = io_fail(cx, &path, &e);
                    cx.error(rec)?;
                    continue;
                }
            }
            cx.emit(item_object(&path))?;
        }
        Ok(())
    }
}

// ----------------------------------------------------------------------
// Get-ChildItem

#[derive(Default)]
struct GetChildItem;

struct Listing {
    filter: Option<Wildcard>,
    include: Vec<Wildcard>,
    exclude: Vec<Wildcard>,
    files_only: bool,
    dirs_only: bool,
    force: bool,
    names: bool,
    recurse: bool,
    depth: Option<i64>,
}

impl Listing {
    fn wants(&self, name: &str, is_dir: bool) -> bool {
        if self.files_only && is_dir || self.dirs_only && !is_dir {
            return false;
        }
        if self.filter.as_ref().is_some_and(|f| !f.is_match(name)) {
            return false;
        }
        if !self.include.is_empty() && !self.include.iter().any(|w| w.is_match(name)) {
            return false;
        }
        !self.exclude.iter().any(|w| w.is_match(name))
    }

    fn emit(&self, cx: &mut Cx, path: &Path, rel: &str) -> Res<()> {
        if self.names {
            cx.emit(Value::from(rel.to_string()))
        } else {
            cx.emit(item_object(path))
        }
    }

    fn list(&self, cx: &mut Cx, dir: &Path, rel: &str, level: i64) -> Res<()> {
        cx.it.check_stop()?;
        crate::runtime::budget::enter().map_err(|e| cx.fail(e))?;
        let entries = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) => {
                let rec = io_fail(cx, dir, &e);
                return cx.error(rec);
            }
        };
        let mut dirs = Vec::new();
        let mut files = Vec::new();
        for e in entries.filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with('.') && !self.force {
                continue;
            }
            if e.path().is_dir() {
                dirs.push(name);
            } else {
                files.push(name);
            }
        }
        let key = |s: &String| (s.to_lowercase(), s.clone());
        dirs.sort_by_key(key);
        files.sort_by_key(key);
        let child_rel = |n: &str| {
            if rel.is_empty() {
                n.to_string()
            } else {
                format!("{rel}/{n}")
            }
        };
        for d in &dirs {
            if self.wants(d, true) {
                self.emit(cx, &dir.join(d), &child_rel(d))?;
            }
        }
        for f in &files {
            if self.wants(f, false) {
                self.emit(cx, &dir.join(f), &child_rel(f))?;
            }
        }
        if self.recurse && self.depth.is_none_or(|d| level < d) {
            for d in &dirs {
                let sub = dir.join(d);
                // As pwsh does without -FollowSymlink: a linked directory
                // is listed, not entered (it may lead anywhere, even to an
                // ancestor, or out of a session's allowed directory).
                if std::fs::symlink_metadata(&sub).is_ok_and(|m| m.file_type().is_symlink()) {
                    continue;
                }
                self.list(cx, &sub, &child_rel(d), level + 1)?;
            }
        }
        Ok(())
    }
}

fn patterns(args: &Args, name: &str) -> Vec<Wildcard> {
    args.get(name)
        .map(|v| {
            v.enumerate()
                .iter()
                .map(|x| Wildcard::new(&x.to_string(), false))
                .collect()
        })
        .unwrap_or_default()
}

impl Processor for GetChildItem {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let depth = args.get("Depth").and_then(Value::as_i64);
        let listing = Listing {
            filter: args.string("Filter").map(|f| Wildcard::new(&f, false)),
            include: patterns(args, "Include"),
            exclude: patterns(args, "Exclude"),
            files_only: args.switch("File"),
            dirs_only: args.switch("Directory"),
            force: args.switch("Force"),
            names: args.switch("Name"),
            recurse: args.switch("Recurse") || depth.is_some(),
            depth,
        };
        let (mut paths, literal) = path_args(args);
        if paths.is_empty() {
            paths.push(".".into());
        }
        for p in paths {
            let found = match expand(cx, &p, literal) {
                Err(e) => {
                    cx.error(qualify(e, cx))?;
                    continue;
                }
                Ok(Some(found)) => {
                    for f in found {
                        let name = f
                            .file_name()
                            .map(|n| n.to_string_lossy().to_string())
                            .unwrap_or_default();
                        let is_dir = f.is_dir();
                        if listing.wants(&name, is_dir) {
                            listing.emit(cx, &f, &name)?;
                        }
                        if is_dir && listing.recurse {
                            listing.list(cx, &f, &name, 1)?;
                        }
                    }
                    continue;
                }
                Ok(None) => resolve(cx, &p),
            };
            match std::fs::metadata(&found) {
                Err(_) => {
                    let e = not_found(cx, &found);
                    cx.error(e)?;
                }
                Ok(m) if m.is_dir() => listing.list(cx, &found, "", 0)?,
                Ok(_) => {
                    let name = found
                        .file_name()
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_default();
                    listing.emit(cx, &found, &name)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_like_get_content() {
        assert_eq!(split_lines("a\r\nb\n\nc\n"), vec!["a", "b", "", "c"]);
        assert_eq!(split_lines("a\rb"), vec!["a", "b"]);
        assert!(split_lines("").is_empty());
    }

    #[test]
    fn path_parts() {
        assert_eq!(parent_of("/a/b/c.txt"), "/a/b");
        assert_eq!(parent_of("/a"), "/");
        assert_eq!(parent_of("a/b/"), "a");
        assert_eq!(leaf_of("a/b/"), "b");
        assert_eq!(join_two("a/", "/b"), "a/b");
        assert_eq!(split_ext("x.tar.gz"), ("x.tar".into(), ".gz".into()));
    }
}
