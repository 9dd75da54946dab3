//! ErrorRecords and the control-flow signals that travel the same path
//! (`break`, `continue`, `return`, `exit`, terminating errors, stops).

use std::rc::Rc;

use super::value::Value;
use crate::syntax::ast::Span;
use crate::syntax::{ParseError, Source};

/// Declares the categories once: the enum, its names, and the lookup.
macro_rules! categories {
    ($($name:ident),* $(,)?) => {
        /// PowerShell's ErrorCategory names, the ones lyncsh raises.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum ErrorCategory {
            $($name),*
        }

        impl ErrorCategory {
            const ALL: &'static [ErrorCategory] = &[$(ErrorCategory::$name),*];

            pub fn name(self) -> &'static str {
                match self {
                    $(ErrorCategory::$name => stringify!($name)),*
                }
            }

            pub fn parse(s: &str) -> Option<ErrorCategory> {
                Self::ALL.iter().copied().find(|c| c.name().eq_ignore_ascii_case(s))
            }
        }
    };
}

categories!(
    NotSpecified,
    InvalidArgument,
    InvalidData,
    InvalidOperation,
    InvalidType,
    ObjectNotFound,
    OperationStopped,
    ParserError,
    PermissionDenied,
    ResourceExists,
    ResourceUnavailable,
    ReadError,
    WriteError,
    LimitsExceeded,
    OperationTimeout,
    SyntaxError,
    MetadataError,
);

/// Where in which script something happened.
#[derive(Clone, Debug)]
pub struct Position {
    pub source: Rc<Source>,
    pub span: Span,
}

impl Position {
    pub fn line_col(&self) -> (usize, usize) {
        self.source.line_col(self.span.start)
    }
}

#[derive(Clone, Debug)]
pub struct ErrorRecord {
    pub message: Box<str>,
    /// Full .NET exception type name; `catch [T]` matches on it.
    pub exception_type: Rc<str>,
    /// FullyQualifiedErrorId, e.g. `CommandNotFoundException`.
    pub error_id: Rc<str>,
    pub category: ErrorCategory,
    pub target: Value,
    pub position: Option<Position>,
    /// The command that raised it: the prefix of the concise view.
    pub command: Option<Rc<str>>,
    /// Raised by `throw`: pwsh shows these as `Exception: ...`.
    pub thrown: bool,
    /// `throw` and `-ErrorAction Stop` end the script; other terminating
    /// errors end only the statement, unless a `try` is waiting for them.
    pub script_terminating: bool,
    /// The error this one wraps: a .NET method's exception seen from
    /// script is a MethodInvocationException whose InnerException is what
    /// the method threw.
    pub inner: Option<Rc<ErrorRecord>>,
}

impl ErrorRecord {
    pub fn new(message: impl Into<String>, error_id: &str, category: ErrorCategory) -> ErrorRecord {
        ErrorRecord {
            message: message.into().into_boxed_str(),
            exception_type: Rc::from("System.Management.Automation.RuntimeException"),
            error_id: Rc::from(error_id),
            category,
            target: Value::Null,
            position: None,
            command: None,
            thrown: false,
            script_terminating: false,
            inner: None,
        }
    }

    pub fn with_exception(mut self, ty: &str) -> ErrorRecord {
        self.exception_type = Rc::from(ty);
        self
    }

    pub fn with_target(mut self, target: Value) -> ErrorRecord {
        self.target = target;
        self
    }

    pub fn at(mut self, source: &Rc<Source>, span: Span) -> ErrorRecord {
        if self.position.is_none() {
            self.position = Some(Position {
                source: source.clone(),
                span,
            });
        }
        self
    }

    pub fn from_parse(e: &ParseError) -> ErrorRecord {
        ErrorRecord {
            position: Some(Position {
                source: e.src.clone(),
                span: e.span,
            }),
            exception_type: Rc::from("System.Management.Automation.ParseException"),
            ..ErrorRecord::new(e.message.clone(), e.error_id, ErrorCategory::ParserError)
        }
    }

    /// The short exception name shown when no command raised the error.
    fn prefix(&self) -> String {
        if let Some(c) = &self.command {
            return c.to_string();
        }
        if self.thrown {
            return "Exception".to_string();
        }
        // .NET exceptions from expressions (1/0) travel wrapped in a
        // RuntimeException, whose name is what pwsh shows.
        if self.category == ErrorCategory::NotSpecified && &*self.error_id == "RuntimeException" {
            return "RuntimeException".to_string();
        }
        if self.category != ErrorCategory::NotSpecified {
            return self.category.name().to_string();
        }
        // .NET exceptions raised inside an expression reach the user wrapped
        // in a RuntimeException (catch still matches the inner type).
        if !self
            .exception_type
            .starts_with("System.Management.Automation.")
        {
            return "RuntimeException".to_string();
        }
        self.exception_type
            .rsplit('.')
            .next()
            .unwrap_or("Exception")
            .to_string()
    }

    /// pwsh 7's ConciseView. Errors from a file or from multi-line input
    /// show the line with the offending part underlined; a one-line
    /// command shows just the message.
    pub fn render_concise(&self) -> String {
        let prefix = self.prefix();
        let Some(pos) = &self.position else {
            return format!("{prefix}: {}", self.message);
        };
        let source = &pos.source;
        if source.path.is_none() && source.line_count() <= 1 {
            return format!("{prefix}: {}", self.message);
        }
        let (line, col) = pos.line_col();
        // The underline stops at the last non-blank character.
        let slice = source.slice(pos.span);
        let trailing = (slice.len() - slice.trim_end().len()) as u32;
        let end = pos.span.end.saturating_sub(trailing).max(pos.span.start);
        let (_, end_col) = source.line_col(end);
        let text = source.line_text(line);
        let width = if source.line_col(end).0 == line {
            end_col.saturating_sub(col).max(1)
        } else {
            text.chars().count().saturating_sub(col - 1).max(1)
        };
        let header = match source.name() {
            Some(name) => format!("{prefix}: {name}:{line}:{col}"),
            None => format!("{prefix}: "),
        };
        let mut out = String::new();
        out.push_str(&header);
        out.push('\n');
        out.push_str("Line |\n");
        out.push_str(&format!("{line:>4} |  {text}\n"));
        out.push_str(&format!(
            "     |  {}{}\n",
            " ".repeat(col.saturating_sub(1)),
            "~".repeat(width)
        ));
        for (i, l) in self.message.lines().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str("     | ");
            out.push_str(l);
        }
        out
    }

    /// `At line:3 char:5` — the position message of InvocationInfo.
    pub fn position_message(&self) -> String {
        match &self.position {
            Some(p) => {
                let (line, col) = p.line_col();
                match p.source.name() {
                    Some(n) => format!("At {n}:{line} char:{col}"),
                    None => format!("At line:{line} char:{col}"),
                }
            }
            None => String::new(),
        }
    }
}

/// Everything that unwinds the evaluator. `Err(Flow)` is how statements
/// leave early; most of these are not failures.
#[derive(Clone, Debug)]
pub enum Flow {
    Break(Option<Rc<str>>),
    Continue(Option<Rc<str>>),
    Return,
    Exit(i32),
    /// A terminating error.
    Error(Rc<ErrorRecord>),
    /// A downstream command (Select-Object -First) needs no more input:
    /// the pipeline with this id ends quietly; commands from this stage on
    /// still run their `end`.
    StopUpstream(u64, usize),
    /// Ctrl-C or a closed channel.
    Stopped,
    /// A session limit ended the command (time, depth of runaway work).
    /// Unlike an error it cannot be caught or trapped, or a `try` inside
    /// a loop could keep a runaway script alive; `finally` still runs.
    Halt(Rc<ErrorRecord>),
}

impl Flow {
    pub fn error(rec: ErrorRecord) -> Flow {
        Flow::Error(Rc::new(rec))
    }
}

impl From<ErrorRecord> for Flow {
    fn from(r: ErrorRecord) -> Flow {
        Flow::error(r)
    }
}

pub type Res<T> = Result<T, Flow>;

/// Shorthand constructors for the errors the language raises.
pub fn runtime_error(msg: impl Into<String>, id: &str) -> ErrorRecord {
    ErrorRecord::new(msg, id, ErrorCategory::InvalidOperation)
}
