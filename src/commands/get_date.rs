//! Get-Date: the current date and time, or a given one, optionally changed
//! field by field and formatted with .NET (-Format) or Unix (-UFormat)
//! specifiers.

use chrono::{Datelike, NaiveDateTime, TimeZone, Timelike};

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::runtime::dotnet_format::format_datetime;
use crate::runtime::error::{ErrorCategory, ErrorRecord, Res};
use crate::runtime::types::PsType;
use crate::runtime::value::Value;

pub fn infos() -> Vec<CommandInfo> {
    let mut sig = Signature::new()
        .named("Date", PsType::DateTime, "The date to use instead of now.")
        .positional(0)
        .from_pipeline()
        .alias("LastWriteTime")
        .named(
            "UnixTimeSeconds",
            PsType::Long,
            "The date as seconds since 1 January 1970 (UTC).",
        )
        .alias("UnixTime");
    for (name, range) in [
        ("Year", (1, 9999)),
        ("Month", (1, 12)),
        ("Day", (1, 31)),
        ("Hour", (0, 23)),
        ("Minute", (0, 59)),
        ("Second", (0, 59)),
        ("Millisecond", (0, 999)),
    ] {
        sig = sig
            .named(
                name,
                PsType::Int,
                &format!("Replaces the {} of the date.", name.to_lowercase()),
            )
            .with(|p| p.range = Some(range));
    }
    sig = sig
        .named(
            "Format",
            PsType::String,
            "Returns text formatted with .NET specifiers such as 'yyyy-MM-dd HH:mm'.",
        )
        .sets(&["DateTimeFormat"])
        .named(
            "UFormat",
            PsType::String,
            "Returns text formatted with Unix specifiers such as '%Y-%m-%d'.",
        )
        .sets(&["UFormat"])
        .switch("AsUTC", "Converts the date to UTC.")
        .named("DisplayHint", PsType::String, "Accepted for compatibility.")
        .values(&["Date", "Time", "DateTime"])
        .default_set("DateTimeFormat");
    vec![
        CommandInfo::new::<GetDate>(
            "Get-Date",
            "Gets the current date and time, or formats a date.",
            sig,
        )
        .examples(&[Example {
            code: "Get-Date -Format 'yyyy-MM-dd'",
            about: "Shows today's date in ISO form.",
        }]),
    ]
}

#[derive(Default)]
struct GetDate;

fn to_local(d: chrono::DateTime<chrono::Utc>) -> NaiveDateTime {
    d.with_timezone(&chrono::Local).naive_local()
}

fn utc_of(d: &NaiveDateTime) -> NaiveDateTime {
    chrono::Local
        .from_local_datetime(d)
        .earliest()
        .map(|x| x.naive_utc())
        .unwrap_or(*d)
}

const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Unix-style specifiers as pwsh's -UFormat knows them.
pub fn uformat(d: &NaiveDateTime, f: &str) -> String {
    let mut out = String::new();
    let mut chars = f.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(s) = chars.next() else {
            out.push('%');
            break;
        };
        let dotnet = |spec: &str| format_datetime(d, spec);
        let piece = match s {
            'a' => dotnet("ddd"),
            'A' => dotnet("dddd"),
            'b' | 'h' => dotnet("MMM"),
            'B' => dotnet("MMMM"),
            'c' => dotnet("ddd MMM dd HH:mm:ss yyyy"),
            'C' => format!("{:02}", d.year() / 100),
            'd' => format!("{:02}", d.day()),
            'D' => dotnet("MM/dd/yy"),
            'e' => format!("{:>2}", d.day()),
            'F' => dotnet("yyyy-MM-dd"),
            'g' => format!("{:02}", d.iso_week().year() % 100),
            'G' => format!("{}", d.iso_week().year()),
            'H' => format!("{:02}", d.hour()),
            'I' => dotnet("hh"),
            'j' => format!("{:03}", d.ordinal()),
            'k' => format!("{:>2}", d.hour()),
            'l' => format!("{:>2}", dotnet("%h")),
            'm' => format!("{:02}", d.month()),
            'M' => format!("{:02}", d.minute()),
            'n' => "\n".into(),
            'p' => dotnet("tt"),
            'r' => dotnet("hh:mm:ss tt"),
            'R' => dotnet("HH:mm"),
            's' => utc_of(d).and_utc().timestamp().to_string(),
            'S' => format!("{:02}", d.second()),
            't' => "\t".into(),
            'T' | 'X' => dotnet("HH:mm:ss"),
            'u' => d.weekday().number_from_monday().to_string(),
            'U' => format!(
                "{:02}",
                (d.ordinal0() + 7 - d.weekday().num_days_from_sunday()) / 7
            ),
            'V' => format!("{:02}", d.iso_week().week()),
            'w' => d.weekday().num_days_from_sunday().to_string(),
            'W' => format!(
                "{:02}",
                (d.ordinal0() + 7 - d.weekday().num_days_from_monday()) / 7
            ),
            'x' => dotnet("MM/dd/yy"),
            'y' => dotnet("yy"),
            'Y' => format!("{}", d.year()),
            'Z' => dotnet("zz"),
            '%' => "%".into(),
            other => other.to_string(),
        };
        out.push_str(&piece);
    }
    out
}

fn day_name(d: &NaiveDateTime) -> &'static str {
    DAYS.get(d.weekday().num_days_from_sunday() as usize)
        .copied()
        .unwrap_or("")
}

impl Processor for GetDate {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let mut d = match (args.get("Date"), args.get("UnixTimeSeconds")) {
            (Some(Value::DateTime(d)), _) => *d,
            (_, Some(secs)) => {
                let secs = secs.as_i64().unwrap_or(0);
                match chrono::DateTime::from_timestamp(secs, 0) {
                    Some(t) => to_local(t),
                    None => {
                        return Err(cx.fail_msg(
                            format!("{secs} seconds is outside the range of dates."),
                            "UnixTimeOutOfRange,Microsoft.PowerShell.Commands.GetDateCommand",
                            ErrorCategory::InvalidArgument,
                        ));
                    }
                }
            }
            _ => chrono::Local::now().naive_local(),
        };
        let field = |n: &str| args.get(n).and_then(Value::as_i64);
        let bad = |what: &str| {
            ErrorRecord::new(
                format!("The {what} does not make a valid date."),
                "ParameterArgumentValidationError,Microsoft.PowerShell.Commands.GetDateCommand",
                ErrorCategory::InvalidArgument,
            )
        };
        if let Some(y) = field("Year") {
            d = d.with_year(y as i32).ok_or_else(|| cx.fail(bad("year")))?;
        }
        if let Some(m) = field("Month") {
            d = d
                .with_month(m as u32)
                .ok_or_else(|| cx.fail(bad("month")))?;
        }
        if let Some(day) = field("Day") {
            d = d.with_day(day as u32).ok_or_else(|| cx.fail(bad("day")))?;
        }
        if let Some(h) = field("Hour") {
            d = d.with_hour(h as u32).ok_or_else(|| cx.fail(bad("hour")))?;
        }
        if let Some(m) = field("Minute") {
            d = d
                .with_minute(m as u32)
                .ok_or_else(|| cx.fail(bad("minute")))?;
        }
        if let Some(s) = field("Second") {
            d = d
                .with_second(s as u32)
                .ok_or_else(|| cx.fail(bad("second")))?;
        }
        if let Some(ms) = field("Millisecond") {
            d = d
                .with_nanosecond(ms as u32 * 1_000_000)
                .ok_or_else(|| cx.fail(bad("millisecond")))?;
        }
        if args.switch("AsUTC") {
            d = utc_of(&d);
        }
        let _ = day_name;
        if let Some(f) = args.string("UFormat") {
            return cx.emit(Value::from(uformat(&d, &f)));
        }
        if let Some(f) = args.string("Format") {
            let text = match f.to_ascii_lowercase().as_str() {
                "filedate" => format_datetime(&d, "yyyyMMdd"),
                "filedateuniversal" => format_datetime(&utc_of(&d), "yyyyMMddZ"),
                "filedatetime" => format_datetime(&d, "yyyyMMddTHHmmssffff"),
                "filedatetimeuniversal" => format_datetime(&utc_of(&d), "yyyyMMddTHHmmssffffZ"),
                _ => format_datetime(&d, &f),
            };
            return cx.emit(Value::from(text));
        }
        cx.emit(Value::DateTime(d))
    }
}
