//! The CLIXML bodies of the messages this server sends: its capability,
//! the pool's private data and state, pipeline states, host calls, the
//! stream records and the command metadata Enter-PSSession asks for.

use crate::clixml::Writer;
use crate::host::Progress;
use crate::runtime::error::ErrorRecord;
use crate::runtime::value::Value;

/// pwsh ≤ 7.5 clients accept 2.3 and nothing newer; 7.6 clients send 2.4
/// and accept 2.3 too.
pub const PROTOCOL_VERSION: &str = "2.3";

/// The PowerShell version this server reports in `$PSVersionTable`.
pub const PS_VERSION: &str = "7.4.0";

pub fn session_capability() -> String {
    let mut w = Writer::default();
    w.start_obj(None, &[], None);
    w.raw("<MS>");
    w.prim("Version", Some("PSVersion"), "2.0");
    w.prim("Version", Some("protocolversion"), PROTOCOL_VERSION);
    w.prim("Version", Some("SerializationVersion"), "1.1.0.1");
    w.raw("</MS>");
    w.end_obj();
    w.finish()
}

const PRIMITIVE_DICTIONARY: &[&str] = &[
    "System.Management.Automation.PSPrimitiveDictionary",
    "System.Collections.Hashtable",
    "System.Object",
];

/// `$PSVersionTable` as the client's `ApplicationPrivateData`; no
/// debugger keys, or the client would start a remote debugger.
pub fn application_private_data() -> String {
    let mut w = Writer::default();
    w.start_obj(None, &[], None);
    w.raw("<MS>");
    w.start_obj(Some("ApplicationPrivateData"), PRIMITIVE_DICTIONARY, None);
    w.raw("<DCT><En>");
    w.prim("S", Some("Key"), "PSVersionTable");
    w.start_obj(Some("Value"), PRIMITIVE_DICTIONARY, None);
    w.raw("<DCT>");
    for (key, tag, value) in [
        ("PSVersion", "Version", PS_VERSION),
        ("PSEdition", "S", "Core"),
        ("PSRemotingProtocolVersion", "Version", PROTOCOL_VERSION),
        ("SerializationVersion", "Version", "1.1.0.1"),
        ("WSManStackVersion", "Version", "3.0"),
        ("Platform", "S", "Unix"),
        ("OS", "S", "lyncsh"),
    ] {
        w.raw("<En>");
        w.prim("S", Some("Key"), key);
        w.prim(tag, Some("Value"), value);
        w.raw("</En>");
    }
    w.raw("</DCT>");
    w.end_obj();
    w.raw("</En></DCT>");
    w.end_obj();
    w.raw("</MS>");
    w.end_obj();
    w.finish()
}

pub fn pool_state(state: i32) -> String {
    let mut w = Writer::default();
    w.start_obj(None, &[], None);
    w.raw("<MS>");
    w.prim("I32", Some("RunspaceState"), &state.to_string());
    w.raw("</MS>");
    w.end_obj();
    w.finish()
}

/// PSInvocationState values.
pub const STOPPED: i32 = 3;
pub const COMPLETED: i32 = 4;
pub const FAILED: i32 = 5;

/// A pipeline's final state, with the error that ended it.
pub fn pipeline_state(state: i32, reason: Option<&ErrorRecord>) -> String {
    let mut w = Writer::default();
    w.start_obj(None, &[], None);
    w.raw("<MS>");
    w.prim("I32", Some("PipelineState"), &state.to_string());
    if let Some(rec) = reason {
        w.error_record(Some("ExceptionAsErrorRecord"), rec);
    }
    w.raw("</MS>");
    w.end_obj();
    w.finish()
}

/// Host method ids (`RemoteHostMethodId`).
pub const READ_LINE: i32 = 11;
pub const WRITE_LINE2: i32 = 16;
pub const WRITE_ERROR_LINE: i32 = 18;
pub const PROMPT: i32 = 23;
pub const PROMPT_FOR_CHOICE: i32 = 26;
pub const POP_RUNSPACE: i32 = 53;

fn method_name(id: i32) -> &'static str {
    match id {
        READ_LINE => "ReadLine",
        WRITE_LINE2 => "WriteLine2",
        WRITE_ERROR_LINE => "WriteErrorLine",
        PROMPT => "Prompt",
        PROMPT_FOR_CHOICE => "PromptForChoice",
        POP_RUNSPACE => "PopRunspace",
        _ => "Unknown",
    }
}

/// A parameter of a host call, as pwsh's host encoder writes it.
pub enum HostArg<'a> {
    Text(&'a str),
    Number(i32),
    /// `Collection<FieldDescription>` for Prompt: one text field per name.
    Fields(&'a [&'a str]),
    /// `Collection<ChoiceDescription>` for PromptForChoice: the labels,
    /// `&` before each hot key.
    Choices(&'a [&'a str]),
}

/// A host call; `ci` -100 is a void call that expects no answer, any
/// other is the id the client's PIPELINE_HOST_RESPONSE answers under.
pub fn host_call(ci: i64, method: i32, params: &[HostArg]) -> String {
    let mut w = Writer::default();
    w.start_obj(None, &[], None);
    w.raw("<MS>");
    w.prim("I64", Some("ci"), &ci.to_string());
    w.enum_value(
        Some("mi"),
        "System.Management.Automation.Remoting.RemoteHostMethodId",
        method_name(method),
        method.into(),
    );
    w.start_obj(Some("mp"), ARRAY_LIST, None);
    w.raw("<LST>");
    for p in params {
        match p {
            HostArg::Text(t) => w.prim("S", None, t),
            HostArg::Number(n) => w.prim("I32", None, &n.to_string()),
            HostArg::Fields(names) => list(&mut w, names, field_description),
            HostArg::Choices(labels) => list(&mut w, labels, |w, label| {
                w.start_obj(None, &[], None);
                w.raw("<MS>");
                w.prim("S", Some("label"), label);
                w.prim("S", Some("helpMessage"), "");
                w.raw("</MS>");
                w.end_obj();
            }),
        }
    }
    w.raw("</LST>");
    w.end_obj();
    w.raw("</MS>");
    w.end_obj();
    w.finish()
}

const ARRAY_LIST: &[&str] = &["System.Collections.ArrayList", "System.Object"];

fn list(w: &mut Writer, items: &[&str], item: impl Fn(&mut Writer, &str)) {
    w.start_obj(None, ARRAY_LIST, None);
    w.raw("<LST>");
    for i in items {
        item(w, i);
    }
    w.raw("</LST>");
    w.end_obj();
}

/// A text field of a Prompt call, with the members pwsh's host encoder
/// gives a FieldDescription.
fn field_description(w: &mut Writer, name: &str) {
    w.start_obj(None, &[], None);
    w.raw("<MS>");
    w.prim("S", Some("name"), name);
    w.prim("S", Some("label"), "");
    w.prim("S", Some("parameterTypeName"), "String");
    w.prim("S", Some("parameterTypeFullName"), "System.String");
    w.prim("S", Some("parameterAssemblyFullName"), "System.String");
    w.prim("S", Some("helpMessage"), "");
    w.prim("B", Some("isMandatory"), "false");
    w.start_obj(Some("metadata"), ARRAY_LIST, None);
    w.raw("<LST></LST>");
    w.end_obj();
    w.prim("B", Some("modifiedByRemotingProtocol"), "false");
    w.prim("B", Some("isFromRemoteHost"), "false");
    w.raw("</MS>");
    w.end_obj();
}

/// A warning, verbose or debug record.
pub fn informational(type_name: &str, message: &str) -> String {
    let mut w = Writer::default();
    w.start_obj(
        None,
        &[
            type_name,
            "System.Management.Automation.InformationalRecord",
            "System.Object",
        ],
        Some(message),
    );
    w.raw("<MS>");
    w.prim("S", Some("InformationalRecord_Message"), message);
    w.prim(
        "B",
        Some("InformationalRecord_SerializeInvocationInfo"),
        "false",
    );
    w.raw("</MS>");
    w.end_obj();
    w.finish()
}

/// One Write-Progress update (MS-PSRP's PROGRESS_RECORD): pwsh draws it
/// as the client's progress bar.
pub fn progress(p: &Progress) -> String {
    let mut w = Writer::default();
    w.start_obj(None, &[], None);
    w.raw("<MS>");
    w.prim("S", Some("Activity"), &p.activity);
    w.prim("I32", Some("ActivityId"), &p.id.to_string());
    w.nil(Some("CurrentOperation"));
    w.prim("I32", Some("ParentActivityId"), "-1");
    w.prim(
        "I32",
        Some("PercentComplete"),
        &p.percent.unwrap_or(-1).to_string(),
    );
    let (text, n) = if p.completed {
        ("Completed", 1)
    } else {
        ("Processing", 0)
    };
    w.enum_value(
        Some("Type"),
        "System.Management.Automation.ProgressRecordType",
        text,
        n,
    );
    w.prim("I32", Some("SecondsRemaining"), "-1");
    w.prim("S", Some("StatusDescription"), &p.status);
    w.raw("</MS>");
    w.end_obj();
    w.finish()
}

/// Write-Host or Write-Information text.
pub fn information(message: &str, user: &str) -> String {
    let mut w = Writer::default();
    w.start_obj(
        None,
        &[
            "System.Management.Automation.InformationRecord",
            "System.Object",
        ],
        Some(message),
    );
    w.raw("<MS>");
    w.prim("S", Some("MessageData"), message);
    w.prim("S", Some("Source"), "");
    w.value(
        Some("TimeGenerated"),
        &Value::DateTime(chrono::Local::now().naive_local()),
        0,
    );
    w.string_list(Some("Tags"), &[]);
    w.prim("S", Some("User"), user);
    w.prim("S", Some("Computer"), "localhost");
    w.prim("U32", Some("ProcessId"), "0");
    w.prim("U32", Some("NativeThreadId"), "0");
    w.prim("U32", Some("ManagedThreadId"), "0");
    w.raw("</MS>");
    w.end_obj();
    w.finish()
}

pub fn error_record(rec: &ErrorRecord) -> String {
    let mut w = Writer::default();
    w.error_record(None, rec);
    w.finish()
}

pub fn output(v: &Value) -> String {
    let mut w = Writer::default();
    w.value(None, v, 0);
    w.finish()
}

/// The first answer to GET_COMMAND_METADATA: how many commands follow.
pub fn metadata_count(n: usize) -> String {
    let mut w = Writer::default();
    w.start_obj(
        None,
        &[
            "Selected.Microsoft.PowerShell.Commands.GenericMeasureInfo",
            "System.Management.Automation.PSCustomObject",
            "System.Object",
        ],
        None,
    );
    w.raw("<MS>");
    w.prim("I32", Some("Count"), &n.to_string());
    w.raw("</MS>");
    w.end_obj();
    w.finish()
}

/// One command's metadata, as `Get-Command | Select-Object Name,
/// Namespace, HelpUri, CommandType, ResolvedCommandName, OutputType,
/// Parameters` gives it.
pub fn command_metadata(name: &str, command_type: i32) -> String {
    let mut w = Writer::default();
    w.start_obj(
        None,
        &[
            "Selected.System.Management.Automation.CmdletInfo",
            "System.Management.Automation.PSCustomObject",
            "System.Object",
        ],
        None,
    );
    w.raw("<MS>");
    w.prim("S", Some("Name"), name);
    w.prim("S", Some("Namespace"), "Microsoft.PowerShell.Core");
    w.prim("S", Some("HelpUri"), "");
    w.enum_value(
        Some("CommandType"),
        "System.Management.Automation.CommandTypes",
        if command_type == 2 {
            "Function"
        } else {
            "Cmdlet"
        },
        command_type.into(),
    );
    w.nil(Some("ResolvedCommandName"));
    w.string_list(Some("OutputType"), &[]);
    w.start_obj(
        Some("Parameters"),
        &["System.Collections.Hashtable", "System.Object"],
        None,
    );
    w.raw("<DCT></DCT>");
    w.end_obj();
    w.raw("</MS>");
    w.end_obj();
    w.finish()
}
