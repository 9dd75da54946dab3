//! `[powershell]::Create()`: script text run in a session of its own.
//!
//! `AddScript($text)` queues text and returns the instance; `Invoke()` runs
//! the queue as one pipeline (each script gets the previous one's output
//! as `$input`) in a fresh runspace — none of the caller's variables or
//! functions — and returns the output as a collection. Errors the scripts
//! report land in `.Streams.Error` and set `.HadErrors` instead of reaching
//! the caller; text that does not parse, and a script ended by `throw`,
//! make `Invoke` itself fail, as a MethodInvocationException wrapping the
//! ParseException or RuntimeException. PowerShell's own language tests
//! build source as text and run it this way.

use std::rc::Rc;

use super::{arg_str, method_error, obj};
use crate::runtime::error::{ErrorCategory, ErrorRecord, Flow, Res};
use crate::runtime::interp::{Collect, ErrTarget, Interp};
use crate::runtime::scope::Scopes;
use crate::runtime::value::{PsArray, Value};
use crate::syntax::{Source, parse_script};

pub(crate) const POWERSHELL: &str = "System.Management.Automation.PowerShell";

/// The streams other than output, as `.Streams` shows them.
const STREAMS: [&str; 6] = [
    "Error",
    "Progress",
    "Verbose",
    "Debug",
    "Warning",
    "Information",
];

/// A new instance holding no scripts yet.
pub(crate) fn create() -> Value {
    let streams = obj(
        STREAMS
            .iter()
            .map(|s| (*s, Value::list(Vec::new())))
            .collect(),
        "System.Management.Automation.PSDataStreams",
    );
    crate::commands::typed_object(
        POWERSHELL,
        vec![
            ("Commands", Value::list(Vec::new())),
            ("Streams", streams),
            ("HadErrors", Value::Bool(false)),
        ],
    )
}

/// `Cannot find an overload`, for a method called with the wrong count.
fn no_overload(name: &str, argc: usize) -> Flow {
    Flow::error(
        ErrorRecord::new(
            format!("Cannot find an overload for \"{name}\" and the argument count: \"{argc}\"."),
            "MethodCountCouldNotFindBest",
            ErrorCategory::InvalidOperation,
        )
        .with_exception("System.Management.Automation.MethodException"),
    )
}

/// What `Invoke` throws for an error `inner` its scripts ended with: the
/// .NET exception seen from script, named after the inner exception.
fn invoke_failed(argc: usize, inner: ErrorRecord) -> Flow {
    let id = inner
        .exception_type
        .rsplit('.')
        .next()
        .unwrap_or("RuntimeException")
        .to_string();
    let outer = method_error("Invoke", argc, &inner.message);
    let rec = ErrorRecord {
        error_id: Rc::from(id),
        inner: Some(Rc::new(inner)),
        ..outer
    };
    Flow::error(rec)
}

/// The caller's session state, put aside while a script runs in a new one.
struct Saved {
    scopes: Scopes,
    errors: Rc<PsArray>,
    err_target: ErrTarget,
    merged: Vec<Value>,
    try_depth: usize,
    caught: Vec<Rc<ErrorRecord>>,
    invocation: Option<(Rc<str>, Option<crate::runtime::error::Position>)>,
    last_ok: bool,
    warn_to_null: bool,
}

impl Interp {
    /// The instance's methods; `None` for a name it does not have.
    pub(super) fn powershell_method(
        &mut self,
        v: &Value,
        name: &str,
        args: &[Value],
    ) -> Option<Res<Value>> {
        let Value::Object(o) = v else { return None };
        let (scripts, streams) = {
            let o = o.borrow();
            (o.get("Commands")?, o.get("Streams")?)
        };
        let Value::Array(scripts) = scripts else {
            return None;
        };
        Some(match name.to_ascii_lowercase().as_str() {
            // The second argument, useLocalScope, changes nothing here: each
            // runspace is new.
            "addscript" => match args.len() {
                1 | 2 => {
                    scripts
                        .items
                        .borrow_mut()
                        .push(Value::from(arg_str(args, 0)));
                    Ok(v.clone())
                }
                n => Err(no_overload(name, n)),
            },
            "invoke" => {
                if !args.is_empty() {
                    return Some(Err(no_overload(name, args.len())));
                }
                let texts: Vec<String> = scripts
                    .items
                    .borrow()
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                if texts.is_empty() {
                    return Some(Err(Flow::error(method_error(
                        name,
                        0,
                        "No commands are specified.",
                    ))));
                }
                let mut had_errors = false;
                let r = self.invoke_scripts(texts, &streams, &mut had_errors);
                o.borrow_mut().set("HadErrors", Value::Bool(had_errors));
                r.map(Value::array)
            }
            "dispose" | "stop" => Ok(Value::Null),
            _ => return None,
        })
    }

    /// Runs the scripts as one pipeline in a new runspace and gives their
    /// output; errors they report go to `streams.Error`, and any error,
    /// reported or ending them, sets `had_errors`.
    fn invoke_scripts(
        &mut self,
        texts: Vec<String>,
        streams: &Value,
        had_errors: &mut bool,
    ) -> Res<Vec<Value>> {
        // Every script is parsed before any runs, as PowerShell compiles
        // the whole pipeline first.
        let mut blocks = Vec::new();
        for text in texts {
            let src = Rc::new(Source::new(None, text));
            match parse_script(src) {
                Ok(sb) => blocks.push(sb),
                Err(e) => {
                    *had_errors = true;
                    return Err(invoke_failed(0, ErrorRecord::from_parse(&e)));
                }
            }
        }
        let saved = self.enter_runspace();
        let mut input: Option<Vec<Value>> = None;
        let mut ended = Ok(());
        for sb in &blocks {
            let mut out = Collect::default();
            if let Some(items) = input.take() {
                self.set_local("input", Value::array(items));
            }
            let r = self.exec_here(sb, &mut out);
            input = Some(out.0);
            match r {
                Ok(()) | Err(Flow::Exit(_) | Flow::Break(_) | Flow::Continue(_)) => {}
                Err(other) => {
                    ended = Err(other);
                    break;
                }
            }
        }
        let reported: Vec<Value> = self.errors.items.borrow().iter().rev().cloned().collect();
        self.leave_runspace(saved);
        *had_errors = !reported.is_empty() || ended.is_err();
        if let Some(list) = error_list(streams) {
            list.items.borrow_mut().extend(reported);
        }
        match ended {
            Ok(()) => Ok(input.unwrap_or_default()),
            Err(Flow::Error(rec)) => Err(invoke_failed(0, (*rec).clone())),
            Err(other) => Err(other),
        }
    }

    /// Puts the caller's session aside for a new one with only the
    /// variables every session starts with.
    fn enter_runspace(&mut self) -> Saved {
        let errors = Rc::new(PsArray {
            items: Default::default(),
            growable: true,
            elem: None,
        });
        let saved = Saved {
            scopes: std::mem::take(&mut self.scopes),
            errors: std::mem::replace(&mut self.errors, errors),
            err_target: std::mem::replace(&mut self.err_target, ErrTarget::Null),
            merged: std::mem::take(&mut self.merged),
            try_depth: std::mem::take(&mut self.try_depth),
            caught: std::mem::take(&mut self.caught),
            invocation: self.invocation.take(),
            last_ok: self.last_ok,
            warn_to_null: std::mem::replace(&mut self.warn_to_null, true),
        };
        self.install_globals();
        saved
    }

    fn leave_runspace(&mut self, saved: Saved) {
        self.scopes = saved.scopes;
        self.errors = saved.errors;
        self.err_target = saved.err_target;
        self.merged = saved.merged;
        self.try_depth = saved.try_depth;
        self.caught = saved.caught;
        self.invocation = saved.invocation;
        self.last_ok = saved.last_ok;
        self.warn_to_null = saved.warn_to_null;
    }
}

/// The `Error` list of an instance's `Streams`.
fn error_list(streams: &Value) -> Option<Rc<PsArray>> {
    let Value::Object(s) = streams else {
        return None;
    };
    match s.borrow().get("Error") {
        Some(Value::Array(a)) => Some(a),
        _ => None,
    }
}
