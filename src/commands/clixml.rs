//! Export-Clixml, Import-Clixml, ConvertTo-CliXml and ConvertFrom-CliXml:
//! objects kept as CLIXML, through the serializer PSRP uses
//! ([`crate::clixml`]). Objects read back carry `Deserialized.` type
//! names, as pwsh's do: their properties, not their behaviour.

use std::path::PathBuf;

use crate::clixml::{self, Writer};
use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature, check_path, io_error};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::Value;

/// How deep objects are written with their properties unless `-Depth`
/// says otherwise (pwsh's default for these cmdlets).
const DEFAULT_DEPTH: i64 = 2;

/// The root element pwsh writes and expects.
const OBJS_START: &str =
    "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">";
const OBJS_END: &str = "</Objs>";

fn strings() -> PsType {
    PsType::Array(Some(Box::new(PsType::String)))
}

fn depth_param(sig: Signature) -> Signature {
    sig.named(
        "Depth",
        PsType::Int,
        "How many levels of contained objects keep their properties (2 by default); deeper ones are kept as text.",
    )
}

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<ExportClixml>(
            "Export-Clixml",
            "Saves objects to a CLIXML file that Import-Clixml reads back.",
            depth_param(
                Signature::new()
                    .named("Path", PsType::String, "The file to write.")
                    .positional(0)
                    .literal_path(PsType::String, "The file to write, taken literally.")
                    .named("InputObject", PsType::Object, "The objects to save.")
                    .from_pipeline()
                    .switch("Force", "Overwrites a read-only file.")
                    .switch("NoClobber", "Refuses to overwrite an existing file.")
                    .named("Encoding", PsType::String, "Accepted for compatibility; files are written as UTF-8."),
            ),
        )
        .examples(&[Example {
            code: "Get-CsConferencingPolicy | Export-Clixml policies.xml",
            about: "Keeps a copy of every conferencing policy's settings in policies.xml.",
        }]),
        CommandInfo::new::<ImportClixml>(
            "Import-Clixml",
            "Reads objects back from a CLIXML file.",
            Signature::new()
                .named("Path", strings(), "The files to read.")
                .positional(0)
                .from_pipeline()
                .by_property_name()
                .literal_path(strings(), "The files to read, taken literally."),
        )
        .examples(&[Example {
            code: "Import-Clixml policies.xml | Select-Object Identity, AllowAnonymousParticipantsInMeetings",
            about: "Reads saved policies and shows two of their settings.",
        }]),
        CommandInfo::new::<ConvertToCliXml>(
            "ConvertTo-CliXml",
            "Turns objects into one CLIXML string.",
            depth_param(
                Signature::new()
                    .named("InputObject", PsType::Object, "The objects to convert.")
                    .positional(0)
                    .from_pipeline(),
            ),
        ),
        CommandInfo::new::<ConvertFromCliXml>(
            "ConvertFrom-CliXml",
            "Turns a CLIXML string back into objects.",
            Signature::new()
                .named("InputObject", PsType::String, "The CLIXML text.")
                .positional(0)
                .mandatory()
                .from_pipeline(),
        ),
    ]
}

/// Collects objects into one document, the way both writers need.
struct Collect {
    writer: Writer,
}

impl Collect {
    fn new(cx: &Cx, args: &Args) -> Res<Collect> {
        let depth = match args.get("Depth") {
            Some(Value::Int(d)) => i64::from(*d),
            _ => DEFAULT_DEPTH,
        };
        if depth < 0 {
            return Err(cx.fail_msg(
                format!("Cannot validate argument on parameter 'Depth'. The {depth} argument is less than the minimum allowed range of 0. Supply an argument that is greater than or equal to 0 and then try the command again."),
                "ParameterArgumentValidationError",
                ErrorCategory::InvalidData,
            ));
        }
        let mut writer = Writer::default();
        // With -Depth 2, an object's properties and theirs keep their
        // members; objects one level further down are kept as their text.
        writer.max_depth = usize::try_from(depth).unwrap_or(usize::MAX);
        writer.raw(OBJS_START);
        Ok(Collect { writer })
    }

    fn add(&mut self, args: &Args) {
        if let Some(v) = args.get("InputObject") {
            self.writer.value(None, v, 0);
        }
    }

    fn finish(mut self) -> String {
        self.writer.raw(OBJS_END);
        self.writer.finish()
    }
}

#[derive(Default)]
struct ExportClixml {
    doc: Option<Collect>,
    path: Option<PathBuf>,
}

impl Processor for ExportClixml {
    fn begin(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let Some(p) = args.string("LiteralPath").or_else(|| args.string("Path")) else {
            return Err(cx.fail_msg(
                "Cannot bind argument to parameter 'Path' because it is null.",
                "ParameterArgumentValidationErrorNullNotAllowed",
                ErrorCategory::InvalidData,
            ));
        };
        let path = cx.it.resolve_path(&p);
        check_path(cx.it, &path).map_err(|e| cx.fail(e))?;
        if args.switch("NoClobber") && path.exists() {
            return Err(cx.fail(
                ErrorRecord::new(
                    format!("The file '{}' already exists.", path.display()),
                    "NoClobber,Microsoft.PowerShell.Commands.ExportClixmlCommand",
                    ErrorCategory::ResourceExists,
                )
                .with_exception("System.IO.IOException")
                .with_target(Value::from(path.display().to_string())),
            ));
        }
        self.doc = Some(Collect::new(cx, args)?);
        self.path = Some(path);
        Ok(())
    }

    fn process(&mut self, _cx: &mut Cx, args: &Args) -> Res<()> {
        if let Some(doc) = self.doc.as_mut() {
            doc.add(args);
        }
        Ok(())
    }

    fn end(&mut self, cx: &mut Cx, _args: &Args) -> Res<()> {
        let (Some(doc), Some(path)) = (self.doc.take(), self.path.take()) else {
            return Ok(());
        };
        std::fs::write(&path, doc.finish()).map_err(|e| cx.fail(io_error(&path, &e)))
    }
}

#[derive(Default)]
struct ConvertToCliXml {
    doc: Option<Collect>,
}

impl Processor for ConvertToCliXml {
    fn begin(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        self.doc = Some(Collect::new(cx, args)?);
        Ok(())
    }

    fn process(&mut self, _cx: &mut Cx, args: &Args) -> Res<()> {
        if let Some(doc) = self.doc.as_mut() {
            doc.add(args);
        }
        Ok(())
    }

    fn end(&mut self, cx: &mut Cx, _args: &Args) -> Res<()> {
        match self.doc.take() {
            Some(doc) => cx.emit(Value::from(doc.finish())),
            None => Ok(()),
        }
    }
}

/// Emits the objects of one CLIXML document.
fn emit_document(cx: &mut Cx, text: &str, target: Value) -> Res<()> {
    let read = clixml::parse(text.as_bytes()).and_then(|root| {
        if root.tag != "Objs" {
            return Err(clixml::Error::Xml(format!(
                "the root element is <{}>, not <Objs>",
                root.tag
            )));
        }
        let mut values = Vec::with_capacity(root.children.len());
        let mut read = clixml::read::Cx::deserializing();
        for node in &root.children {
            values.push(read.value(node)?);
        }
        Ok(values)
    });
    match read {
        Ok(values) => {
            for v in values {
                cx.emit(v)?;
            }
            Ok(())
        }
        Err(e) => cx.error(
            ErrorRecord::new(
                format!("The CLIXML could not be read: {e}."),
                &format!(
                    "System.Xml.XmlException,Microsoft.PowerShell.Commands.{}Command",
                    cx.rt.name.replace('-', "")
                ),
                ErrorCategory::InvalidData,
            )
            .with_exception("System.Xml.XmlException")
            .with_target(target),
        ),
    }
}

#[derive(Default)]
struct ImportClixml;

impl Processor for ImportClixml {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let paths = args
            .get("LiteralPath")
            .filter(|v| !v.is_null())
            .or_else(|| args.get("Path"))
            .map(Value::enumerate)
            .unwrap_or_default();
        for p in paths {
            let path = cx.it.resolve_path(&p.to_string());
            check_path(cx.it, &path).map_err(|e| cx.fail(e))?;
            let text = match std::fs::read(&path) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(e) => {
                    cx.error(io_error(&path, &e))?;
                    continue;
                }
            };
            emit_document(cx, &text, Value::from(path.display().to_string()))?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct ConvertFromCliXml;

impl Processor for ConvertFromCliXml {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        match args.string("InputObject") {
            Some(text) => emit_document(cx, &text, Value::Null),
            None => Ok(()),
        }
    }
}
