//! Import-Csv, Export-Csv, ConvertTo-Csv and ConvertFrom-Csv.
//!
//! Writing follows pwsh 7: no `#TYPE` line unless asked for, every field
//! quoted, columns taken from the first object. Reading follows pwsh's
//! lenient parser: quoted fields may hold delimiters, doubled quotes and
//! newlines; blank lines are skipped; missing trailing fields are `$null`.

use std::path::PathBuf;
use std::rc::Rc;

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature, check_path};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Flow, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::{PsObject, Value};

fn strings() -> PsType {
    PsType::Array(Some(Box::new(PsType::String)))
}

/// Parameters shared by Export-Csv and ConvertTo-Csv.
fn writing(sig: Signature) -> Signature {
    sig.named(
        "Delimiter",
        PsType::Char,
        "The character between fields (a comma by default).",
    )
    .positional(1)
    .switch(
        "NoTypeInformation",
        "Leaves out the #TYPE line (the default).",
    )
    .alias("NTI")
    .switch(
        "IncludeTypeInformation",
        "Starts with a #TYPE line naming the input type.",
    )
    .alias("ITI")
    .named(
        "UseQuotes",
        PsType::String,
        "Always (the default), AsNeeded or Never.",
    )
    .values(&["Always", "AsNeeded", "Never"])
    .named("QuoteFields", strings(), "Only these columns are quoted.")
    .alias("QF")
    .switch("NoHeader", "Leaves out the header line.")
    .switch(
        "UseCulture",
        "Accepted for compatibility; the delimiter stays a comma.",
    )
}

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<ImportCsv>(
            "Import-Csv",
            "Reads a CSV file into objects, one per row, named by the header row.",
            Signature::new()
                .named("Path", strings(), "The CSV files to read.")
                .positional(0)
                .from_pipeline()
                .by_property_name()
                .literal_path(strings(), "The CSV files to read, taken literally.")
                .named("Delimiter", PsType::Char, "The character between fields (a comma by default).")
                .positional(1)
                .named("Header", strings(), "Column names to use; the first row is then data.")
                .named("Encoding", PsType::String, "Accepted for compatibility; files are read as UTF-8.")
                .switch("UseCulture", "Accepted for compatibility; the delimiter stays a comma."),
        )
        .aliases(&["ipcsv"])
        .examples(&[Example {
            code: "Import-Csv users.csv | ForEach-Object { Grant-CsConferencingPolicy -Identity $_.SipAddress -PolicyName $_.Policy }",
            about: "Assigns the policy named in each row of users.csv.",
        }]),
        CommandInfo::new::<ExportCsv>(
            "Export-Csv",
            "Writes objects to a CSV file, one row per object.",
            writing(
                Signature::new()
                    .named("InputObject", PsType::Object, "The objects to write.")
                    .from_pipeline()
                    .named("Path", PsType::String, "The file to write.")
                    .positional(0)
                    // Not `literal_path`: the piped objects are rows, and one with a
                    // PSPath must not name the file.
                    .named("LiteralPath", PsType::String, "The file to write, taken literally.")
                    .alias("PSPath")
                    .alias("LP"),
            )
            .switch("Append", "Adds rows to the end of an existing file, keeping its columns.")
            .switch("Force", "Appends even when objects lack some of the file's columns.")
            .switch("NoClobber", "Refuses to overwrite an existing file.")
            .alias("NoOverwrite")
            .named("Encoding", PsType::String, "Accepted for compatibility; files are written as UTF-8.")
            .should_process(),
        )
        .aliases(&["epcsv"])
        .examples(&[Example {
            code: "Get-CsUser | Select-Object DisplayName, SipAddress | Export-Csv users.csv",
            about: "Saves two properties of every user to users.csv.",
        }]),
        CommandInfo::new::<ConvertToCsv>(
            "ConvertTo-Csv",
            "Turns objects into lines of CSV text.",
            writing(
                Signature::new()
                    .named("InputObject", PsType::Object, "The objects to convert.")
                    .positional(0)
                    .from_pipeline(),
            ),
        )
        .examples(&[Example {
            code: "Get-CsConferencingPolicy | Select-Object Identity, MaxMeetingSize | ConvertTo-Csv",
            about: "Shows two columns of every conferencing policy as CSV text.",
        }]),
        CommandInfo::new::<ConvertFromCsv>(
            "ConvertFrom-Csv",
            "Turns lines of CSV text into objects.",
            Signature::new()
                .named("InputObject", PsType::Array(None), "The CSV text, a line or more per item.")
                .positional(0)
                .from_pipeline()
                .named("Delimiter", PsType::Char, "The character between fields (a comma by default).")
                .positional(1)
                .named("Header", strings(), "Column names to use; the first row is then data.")
                .switch("UseCulture", "Accepted for compatibility; the delimiter stays a comma."),
        )
        .examples(&[Example {
            code: "'Name,Size','Small,10','Large,250' | ConvertFrom-Csv",
            about: "Makes two objects with Name and Size properties.",
        }]),
    ]
}

// ----------------------------------------------------------------------
// Reading

/// A CSV reader over the characters of a text, after pwsh's rules.
struct Reader {
    chars: Vec<char>,
    pos: usize,
    delim: char,
}

impl Reader {
    fn new(text: &str, delim: char) -> Reader {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        Reader {
            chars: text.chars().collect(),
            pos: 0,
            delim,
        }
    }

    fn eof(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        self.pos += 1;
        c
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn read_line(&mut self) -> String {
        let mut s = String::new();
        while let Some(c) = self.next() {
            match c {
                '\n' => break,
                '\r' => {
                    if self.peek() == Some('\n') {
                        self.pos += 1;
                    }
                    break;
                }
                other => s.push(other),
            }
        }
        s
    }

    /// Consumes a line ending at `c`, returning its text, or None.
    fn newline(&mut self, c: char) -> Option<&'static str> {
        match c {
            '\n' => Some("\n"),
            '\r' => {
                if self.peek() == Some('\n') {
                    self.pos += 1;
                    Some("\r\n")
                } else {
                    Some("\r")
                }
            }
            _ => None,
        }
    }

    /// Reads to the next delimiter or line end; returns whether the record
    /// ended. Blanks alone are dropped when `trim` is set.
    fn rest_of_field(&mut self, cur: &mut String, trim: bool) -> bool {
        let mut tail = String::new();
        let mut ended = false;
        loop {
            let Some(c) = self.next() else {
                ended = true;
                break;
            };
            if c == self.delim {
                break;
            }
            if self.newline(c).is_some() {
                ended = true;
                break;
            }
            tail.push(c);
        }
        if trim && tail.chars().all(|c| c == ' ' || c == '\t') {
            cur.push_str(tail.trim());
        } else {
            cur.push_str(&tail);
        }
        ended
    }

    /// The fields of the next record; empty at the end of the text.
    fn record(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut quoted = false;
        while let Some(c) = self.next() {
            if c == self.delim {
                if quoted {
                    cur.push(c);
                } else {
                    out.push(std::mem::take(&mut cur));
                }
            } else if c == '"' {
                if quoted {
                    if self.peek() == Some('"') {
                        self.pos += 1;
                        cur.push('"');
                    } else {
                        quoted = false;
                        let ended = self.rest_of_field(&mut cur, true);
                        out.push(std::mem::take(&mut cur));
                        if ended {
                            return out;
                        }
                    }
                } else if cur.is_empty() {
                    quoted = true;
                } else {
                    cur.push(c);
                    let ended = self.rest_of_field(&mut cur, false);
                    out.push(std::mem::take(&mut cur));
                    if ended {
                        return out;
                    }
                }
            } else if c == ' ' || c == '\t' {
                if quoted {
                    cur.push(c);
                } else if !cur.is_empty() {
                    cur.push(c);
                    let ended = self.rest_of_field(&mut cur, true);
                    out.push(std::mem::take(&mut cur));
                    if ended {
                        return out;
                    }
                }
            } else if let Some(nl) = self.newline(c) {
                if quoted {
                    cur.push_str(nl);
                } else {
                    out.push(std::mem::take(&mut cur));
                    return out;
                }
            } else {
                cur.push(c);
            }
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        out
    }
}

/// Reads the `#TYPE` line and the header (unless one was given).
fn read_header(r: &mut Reader, header: &mut Option<Vec<String>>, type_name: &mut Option<String>) {
    if type_name.is_none() && r.peek() == Some('#') {
        let line = r.read_line();
        if line.len() >= 5
            && line
                .get(..5)
                .is_some_and(|p| p.eq_ignore_ascii_case("#type"))
        {
            let t = line.get(5..).unwrap_or_default().trim().to_string();
            if !t.is_empty() {
                *type_name = Some(t);
            }
        }
    }
    while header.is_none() && !r.eof() {
        let mut values = r.record();
        while values.len() > 1 && values.last().is_some_and(|v| v.is_empty()) {
            values.pop();
        }
        if let Some(first) = values.first() {
            if let Some(rest) = first.strip_prefix("#Fields: ") {
                values[0] = rest.to_string();
                *header = Some(values);
            } else if first.starts_with('#') {
                continue;
            } else {
                *header = Some(values);
            }
        } else {
            *header = Some(values);
        }
    }
}

fn duplicate_header(names: &[String]) -> Option<ErrorRecord> {
    let mut seen: Vec<String> = Vec::new();
    for n in names.iter().filter(|n| !n.is_empty()) {
        let low = n.to_lowercase();
        if seen.contains(&low) {
            return Some(
                ErrorRecord::new(
                    format!("The member \"{n}\" is already present."),
                    "AlreadyPresentPSMemberInfoInternalCollectionAdd",
                    ErrorCategory::NotSpecified,
                )
                .with_exception("System.Management.Automation.ExtendedTypeSystemException"),
            );
        }
        seen.push(low);
    }
    None
}

/// Parses a whole text, writing one object per record.
fn import_text(
    cx: &mut Cx,
    text: &str,
    delim: char,
    header: &mut Option<Vec<String>>,
    type_name: &mut Option<String>,
    warned: &mut bool,
) -> Res<()> {
    let mut r = Reader::new(text, delim);
    read_header(&mut r, header, type_name);
    let Some(names) = header.clone() else {
        return Ok(());
    };
    if let Some(e) = duplicate_header(&names) {
        return Err(cx.fail(qualified(cx, e)));
    }
    let type_names: Rc<[Rc<str>]> = match type_name {
        Some(t) => Rc::from(vec![Rc::from(t.as_str()), Rc::from(format!("CSV:{t}"))]),
        None => PsObject::custom().type_names.clone(),
    };
    loop {
        let values = r.record();
        if values.is_empty() {
            break;
        }
        if values.len() == 1 && values.first().is_some_and(|v| v.is_empty()) {
            continue;
        }
        let mut o = PsObject::with_type(type_names.clone());
        let mut unnamed = 1;
        for (i, name) in names.iter().enumerate() {
            let name = if name.is_empty() {
                let n = format!("H{unnamed}");
                unnamed += 1;
                n
            } else {
                name.clone()
            };
            let v = values
                .get(i)
                .map(|s| Value::from(s.as_str()))
                .unwrap_or_default();
            o.props_mut()
                .push(crate::runtime::value::Prop::note(name.as_str(), v));
        }
        if unnamed > 1 && !*warned {
            *warned = true;
            cx.warn("One or more headers were not specified. Default names starting with \"H\" have been used in place of any missing headers.")?;
        }
        cx.emit(Value::object(o))?;
    }
    Ok(())
}

/// Adds the command's class to an error id, as pwsh's
/// FullyQualifiedErrorId reads (`FileOpenFailure,...ImportCsvCommand`).
fn qualified(cx: &Cx, rec: ErrorRecord) -> ErrorRecord {
    let id = format!(
        "{},Microsoft.PowerShell.Commands.{}Command",
        rec.error_id,
        cx.rt.name.replace('-', "")
    );
    ErrorRecord {
        error_id: Rc::from(id),
        ..rec
    }
}

fn delimiter(args: &Args) -> char {
    match args.get("Delimiter") {
        Some(Value::Char(c)) => *c,
        Some(v) => v.to_string().chars().next().unwrap_or(','),
        None => ',',
    }
}

fn given_header(args: &Args) -> Option<Vec<String>> {
    args.get("Header")
        .map(|h| h.enumerate().iter().map(|x| x.to_string()).collect())
}

#[derive(Default)]
struct ImportCsv {
    warned: bool,
}

impl Processor for ImportCsv {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let (paths, _) = match args.get("LiteralPath").filter(|v| !v.is_null()) {
            Some(v) => (v.enumerate(), true),
            None => (
                args.get("Path").map(Value::enumerate).unwrap_or_default(),
                false,
            ),
        };
        let delim = delimiter(args);
        for p in paths {
            let p = p.to_string();
            let p = p
                .strip_prefix("Microsoft.PowerShell.Core\\FileSystem::")
                .unwrap_or(&p)
                .to_string();
            let path = cx.it.resolve_path(&p);
            check_path(cx.it, &path).map_err(|e| cx.fail(e))?;
            let text = match std::fs::read(&path) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => return Err(cx.fail(qualified(cx, open_failure(&path, &e)))),
            };
            let mut header = given_header(args);
            let mut type_name = None;
            import_text(
                cx,
                &text,
                delim,
                &mut header,
                &mut type_name,
                &mut self.warned,
            )?;
        }
        Ok(())
    }
}

fn open_failure(path: &std::path::Path, e: &std::io::Error) -> ErrorRecord {
    let (msg, ty) = match e.kind() {
        std::io::ErrorKind::NotFound => {
            if path.parent().is_some_and(|p| !p.exists()) {
                (
                    format!("Could not find a part of the path '{}'.", path.display()),
                    "System.IO.DirectoryNotFoundException",
                )
            } else {
                (
                    format!("Could not find file '{}'.", path.display()),
                    "System.IO.FileNotFoundException",
                )
            }
        }
        std::io::ErrorKind::PermissionDenied => (
            format!("Access to the path '{}' is denied.", path.display()),
            "System.UnauthorizedAccessException",
        ),
        _ if path.is_dir() => (
            format!("Access to the path '{}' is denied.", path.display()),
            "System.UnauthorizedAccessException",
        ),
        _ => (format!("{e}"), "System.IO.IOException"),
    };
    ErrorRecord::new(msg, "FileOpenFailure", ErrorCategory::ReadError)
        .with_exception(ty)
        .with_target(Value::from(path.display().to_string()))
}

#[derive(Default)]
struct ConvertFromCsv {
    header: Option<Vec<String>>,
    type_name: Option<String>,
    warned: bool,
    started: bool,
}

impl Processor for ConvertFromCsv {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        if !self.started {
            self.started = true;
            self.header = given_header(args);
        }
        let delim = delimiter(args);
        let items = args
            .get("InputObject")
            .map(Value::enumerate)
            .unwrap_or_default();
        for item in items {
            let text = item.to_string();
            import_text(
                cx,
                &text,
                delim,
                &mut self.header,
                &mut self.type_name,
                &mut self.warned,
            )?;
        }
        Ok(())
    }
}

// ----------------------------------------------------------------------
// Writing

#[derive(Clone, Copy, PartialEq)]
enum Quote {
    Always,
    AsNeeded,
    Never,
}

struct CsvWriter {
    delim: char,
    quote: Quote,
    quote_fields: Option<Vec<String>>,
    columns: Option<Vec<String>>,
}

impl CsvWriter {
    fn new(cx: &Cx, args: &Args) -> Res<CsvWriter> {
        let quote = match args.string("UseQuotes").map(|s| s.to_ascii_lowercase()) {
            None => Quote::Always,
            Some(s) if s == "always" => Quote::Always,
            Some(s) if s == "asneeded" => Quote::AsNeeded,
            Some(s) if s == "never" => Quote::Never,
            Some(s) => {
                return Err(cx.fail_msg(
                    format!(
                        "Cannot bind parameter 'UseQuotes'. Cannot convert value \"{s}\" to type \"Microsoft.PowerShell.Commands.BaseCsvWritingCommand+QuoteKind\". Error: \"Unable to match the identifier name {s} to a valid enumerator name. Specify one of the following enumerator names and try again:\nNever, Always, AsNeeded\""
                    ),
                    "CannotConvertArgumentNoMessage",
                    ErrorCategory::InvalidArgument,
                ));
            }
        };
        Ok(CsvWriter {
            delim: delimiter(args),
            quote,
            quote_fields: args
                .get("QuoteFields")
                .map(|v| v.enumerate().iter().map(|x| x.to_string()).collect()),
            columns: None,
        })
    }

    fn field(&self, out: &mut String, column: &str, value: &str) {
        let quote = match &self.quote_fields {
            Some(q) => q.iter().any(|f| f.eq_ignore_ascii_case(column)),
            None => match self.quote {
                Quote::Always => true,
                Quote::Never => false,
                Quote::AsNeeded => value
                    .chars()
                    .any(|c| c == self.delim || c == '\n' || c == '"'),
            },
        };
        if quote {
            out.push('"');
            out.push_str(&value.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(value);
        }
    }

    fn header_line(&self) -> String {
        let mut out = String::new();
        for (i, c) in self.columns.iter().flatten().enumerate() {
            if i > 0 {
                out.push(self.delim);
            }
            self.field(&mut out, c, c);
        }
        out
    }

    fn row(&self, cx: &mut Cx, v: &Value) -> Res<String> {
        let mut out = String::new();
        for (i, c) in self.columns.iter().flatten().enumerate() {
            if i > 0 {
                out.push(self.delim);
            }
            if let Some(s) = field_text(cx, v, c)? {
                self.field(&mut out, c, &s);
            }
        }
        Ok(out)
    }

    /// The lines an object produces: on the first object the type and
    /// header lines too.
    fn lines(&mut self, cx: &mut Cx, args: &Args, v: &Value) -> Res<Vec<String>> {
        let mut out = Vec::new();
        if self.columns.is_none() {
            self.columns = Some(column_names(v));
            if !args.switch("NoHeader") {
                if args.switch("IncludeTypeInformation") && !args.switch("NoTypeInformation") {
                    out.push(type_line(v));
                }
                let h = self.header_line();
                if !h.is_empty() {
                    out.push(h);
                }
            }
        }
        let row = self.row(cx, v)?;
        if !row.is_empty() {
            out.push(row);
        }
        Ok(out)
    }
}

fn type_line(v: &Value) -> String {
    let t = v.type_name();
    let t = t.strip_prefix("CSV:").unwrap_or(&t);
    format!("#TYPE {t}")
}

/// The columns an object gives: its properties, a dictionary's keys.
fn column_names(v: &Value) -> Vec<String> {
    match v {
        Value::Object(o) => o
            .borrow()
            .props()
            .iter()
            .map(|p| p.name.to_string())
            .collect(),
        Value::Hashtable(h) => h.borrow().entries().map(|(k, _)| k.to_string()).collect(),
        Value::String(_) | Value::Array(_) => vec!["Length".into()],
        _ => Vec::new(),
    }
}

/// A property's text as `ToString()` gives it; `None` for `$null` or a
/// missing property (an empty, unquoted field).
fn field_text(cx: &mut Cx, v: &Value, name: &str) -> Res<Option<String>> {
    let value = match v {
        Value::Object(o) => {
            if o.borrow().prop(name).is_none() {
                return Ok(None);
            }
            cx.it.get_member(v, name).map_err(Flow::error)?
        }
        Value::Hashtable(h) => match h.borrow().get_str(name) {
            Some(x) => x.clone(),
            None => return Ok(None),
        },
        Value::String(s) if name.eq_ignore_ascii_case("Length") => Value::from(s.chars().count()),
        Value::Array(a) if name.eq_ignore_ascii_case("Length") => Value::from(a.len()),
        _ => return Ok(None),
    };
    Ok(match value {
        Value::Null => None,
        Value::Array(_) => Some(value.type_name().to_string()),
        other => Some(other.to_string()),
    })
}

#[derive(Default)]
struct ConvertToCsv {
    writer: Option<CsvWriter>,
}

impl Processor for ConvertToCsv {
    fn begin(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        self.writer = Some(CsvWriter::new(cx, args)?);
        Ok(())
    }

    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let Some(v) = args.get("InputObject").filter(|v| !v.is_null()) else {
            return Ok(());
        };
        let Some(w) = self.writer.as_mut() else {
            return Ok(());
        };
        for line in w.lines(cx, args, v)? {
            cx.emit(Value::from(line))?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct ExportCsv {
    writer: Option<CsvWriter>,
    path: Option<PathBuf>,
    text: String,
    appending: bool,
    any: bool,
}

impl Processor for ExportCsv {
    fn begin(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let mut w = CsvWriter::new(cx, args)?;
        let Some(p) = args.string("LiteralPath").or_else(|| args.string("Path")) else {
            return Err(cx.fail_msg(
                "Cannot perform operation because the path resolved to more than one file. This command cannot operate on multiple files.",
                "CannotSpecifyPathAndLiteralPath",
                ErrorCategory::InvalidData,
            ));
        };
        let p = p
            .strip_prefix("Microsoft.PowerShell.Core\\FileSystem::")
            .unwrap_or(&p)
            .to_string();
        let path = cx.it.resolve_path(&p);
        check_path(cx.it, &path).map_err(|e| cx.fail(e))?;
        let existing = std::fs::read(&path).ok();
        if args.switch("NoClobber") && existing.is_some() && !args.switch("Append") {
            return Err(cx.fail(qualified(
                cx,
                ErrorRecord::new(
                    format!("The file '{}' already exists.", path.display()),
                    "NoClobber",
                    ErrorCategory::ResourceExists,
                )
                .with_exception("System.IO.IOException")
                .with_target(Value::from(path.display().to_string())),
            )));
        }
        if args.switch("Append")
            && let Some(bytes) = existing.filter(|b| !b.is_empty())
        {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let mut r = Reader::new(&text, w.delim);
            let mut header = None;
            let mut type_name = None;
            read_header(&mut r, &mut header, &mut type_name);
            w.columns = header;
            self.appending = true;
        }
        self.writer = Some(w);
        self.path = Some(path);
        Ok(())
    }

    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let Some(v) = args.get("InputObject").filter(|v| !v.is_null()) else {
            return Ok(());
        };
        let Some(w) = self.writer.as_mut() else {
            return Ok(());
        };
        if self.appending && !args.switch("Force") {
            let have = column_names(v);
            if let Some(missing) = w
                .columns
                .iter()
                .flatten()
                .find(|c| !have.iter().any(|h| h.eq_ignore_ascii_case(c)))
            {
                let path = self
                    .path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                return Err(cx.fail(qualified(
                    cx,
                    ErrorRecord::new(
                        format!(
                            "Cannot append CSV content to the following file: {path}. The appended object does not have a property that corresponds to the following column: {missing}. To continue with mismatched properties, add the -Force parameter, and then retry the command."
                        ),
                        "CannotAppendCsvWithMismatchedPropertyNames",
                        ErrorCategory::InvalidData,
                    )
                    .with_exception("System.InvalidOperationException")
                    .with_target(Value::from(missing.as_str())),
                )));
            }
        }
        self.any = true;
        for line in w.lines(cx, args, v)? {
            self.text.push_str(&line);
            self.text.push('\n');
        }
        Ok(())
    }

    fn end(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        if !self.any && args.switch("Append") {
            return Ok(());
        }
        if !cx.should_process(&path.display().to_string(), "Export-Csv")? {
            return Ok(());
        }
        let result = if self.appending {
            use std::io::Write;
            std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .and_then(|mut f| f.write_all(self.text.as_bytes()))
        } else {
            std::fs::write(&path, &self.text)
        };
        result.map_err(|e| cx.fail(qualified(cx, open_failure(&path, &e))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str) -> Vec<Vec<String>> {
        let mut r = Reader::new(text, ',');
        let mut out = Vec::new();
        loop {
            let rec = r.record();
            if rec.is_empty() {
                break;
            }
            out.push(rec);
        }
        out
    }

    #[test]
    fn quoted_fields() {
        assert_eq!(
            records("a,\"b,c\",\"d\"\"e\"\n\"x\ny\",z\n"),
            vec![vec!["a", "b,c", "d\"e"], vec!["x\ny", "z"]]
        );
    }

    #[test]
    fn blanks_around_fields() {
        assert_eq!(records(" a , b\n"), vec![vec!["a ", "b"]]);
        assert_eq!(records("\"a\"  ,b"), vec![vec!["a", "b"]]);
    }
}
