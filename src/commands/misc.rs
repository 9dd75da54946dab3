//! Small utility cmdlets: Start-Sleep, Get-Random, Get-Unique, Get-Alias,
//! Get-Culture.

use std::cell::Cell;
use std::time::{Duration, Instant};

use crate::commands::get_command::command_object;
use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature};
use crate::runtime::convert::to_f64;
use crate::runtime::error::{ErrorCategory, ErrorRecord, Res};
use crate::runtime::members::fill_random;
use crate::runtime::ops;
use crate::runtime::types::PsType;
use crate::runtime::value::Value;
use crate::runtime::wildcard::Wildcard;

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<StartSleep>(
            "Start-Sleep",
            "Waits for a number of seconds or milliseconds.",
            Signature::new()
                .named("Seconds", PsType::Double, "How many seconds to wait.")
                .positional(0)
                .mandatory()
                .sets(&["Seconds"])
                .named(
                    "Milliseconds",
                    PsType::Int,
                    "How many milliseconds to wait.",
                )
                .alias("ms")
                .mandatory()
                .sets(&["Milliseconds"])
                .named("Duration", PsType::TimeSpan, "How long to wait.")
                .alias("ts")
                .mandatory()
                .sets(&["FromTimeSpan"])
                .default_set("Seconds"),
        )
        .aliases(&["sleep"])
        .examples(&[Example {
            code: "Start-Sleep -Seconds 5",
            about: "Pauses the script for five seconds.",
        }]),
        CommandInfo::new::<GetCulture>(
            "Get-Culture",
            "Gets the culture the shell formats numbers and dates with (en-US).",
            Signature::new(),
        )
        .examples(&[Example {
            code: "(Get-Culture).Name",
            about: "Shows the culture's name.",
        }]),
        CommandInfo::new::<ClearHost>(
            "Clear-Host",
            "Clears the terminal screen (does nothing where output is not a terminal).",
            Signature::new(),
        )
        .aliases(&["cls"]),
        CommandInfo::new::<GetRandom>(
            "Get-Random",
            "Gets a random number, or picks objects from a collection at random.",
            Signature::new()
                .named(
                    "Maximum",
                    PsType::Object,
                    "The upper bound (not included) of the number.",
                )
                .positional(0)
                .named(
                    "Minimum",
                    PsType::Object,
                    "The lower bound (included) of the number.",
                )
                .named(
                    "InputObject",
                    PsType::Array(None),
                    "The collection to pick from.",
                )
                .from_pipeline()
                .named(
                    "Count",
                    PsType::Int,
                    "How many numbers or objects to return.",
                )
                .switch("Shuffle", "Returns all the objects in random order.")
                .named(
                    "SetSeed",
                    PsType::Int,
                    "Starts the session's random sequence from this seed, for repeatable results.",
                ),
        )
        .examples(&[Example {
            code: "Get-CsUser | Get-Random -Count 3",
            about: "Picks three users at random.",
        }]),
        CommandInfo::new::<GetUnique>(
            "Get-Unique",
            "Drops adjacent duplicates from a sorted list.",
            Signature::new()
                .switch("AsString", "Compares the objects as text.")
                .switch("OnType", "Keeps one object of each type.")
                .switch("CaseInsensitive", "Ignores case when comparing text.")
                .named("InputObject", PsType::Object, "The sorted objects.")
                .from_pipeline(),
        )
        .aliases(&["gu"])
        .examples(&[Example {
            code: "'b','a','b' | Sort-Object | Get-Unique",
            about: "Lists each distinct string once.",
        }]),
        CommandInfo::new::<GetAlias>(
            "Get-Alias",
            "Lists the aliases of the session.",
            Signature::new()
                .named(
                    "Name",
                    PsType::Array(Some(Box::new(PsType::String))),
                    "Alias names to list; wildcards allowed.",
                )
                .positional(0)
                .named(
                    "Definition",
                    PsType::Array(Some(Box::new(PsType::String))),
                    "Lists the aliases of these commands.",
                )
                .named(
                    "Exclude",
                    PsType::Array(Some(Box::new(PsType::String))),
                    "Alias names to leave out.",
                ),
        )
        .aliases(&["gal"])
        .examples(&[Example {
            code: "Get-Alias -Definition Get-ChildItem",
            about: "Shows the aliases of Get-ChildItem.",
        }]),
    ]
}

// ------------------------------------------------------------ Start-Sleep

#[derive(Default)]
struct StartSleep;

impl Processor for StartSleep {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let ms: f64 = if let Some(s) = args.get("Seconds") {
            to_f64(s).map_err(|e| cx.fail(e))? * 1000.0
        } else if let Some(m) = args.get("Milliseconds") {
            to_f64(m).map_err(|e| cx.fail(e))?
        } else if let Some(Value::TimeSpan(t)) = args.get("Duration") {
            t.num_milliseconds() as f64
        } else {
            0.0
        };
        if !ms.is_finite() || ms < 0.0 {
            return Err(cx.fail_msg(
                "The time to sleep must be zero or more.",
                "ParameterArgumentValidationError,Microsoft.PowerShell.Commands.StartSleepCommand",
                ErrorCategory::InvalidArgument,
            ));
        }
        let until = Instant::now() + Duration::from_micros((ms * 1000.0).min(1e15) as u64);
        loop {
            cx.it.check_clock()?;
            let now = Instant::now();
            if now >= until {
                return Ok(());
            }
            std::thread::sleep((until - now).min(Duration::from_millis(20)));
        }
    }
}

// ------------------------------------------------------------- Get-Random

thread_local! {
    /// The session's generator state (a session runs on one thread).
    static RNG: Cell<Option<u64>> = const { Cell::new(None) };
}

/// SplitMix64: small, fast, and good enough for picking things.
fn next_u64() -> u64 {
    RNG.with(|c| {
        let mut s = c.get().unwrap_or_else(|| {
            let mut b = [0u8; 8];
            fill_random(&mut b);
            u64::from_le_bytes(b)
        });
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        c.set(Some(s));
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

fn seed(n: i64) {
    RNG.with(|c| c.set(Some(n as u64 ^ 0x5DEE_CE66_D1CE_4E5B)));
}

/// A uniform integer in `[lo, hi)`; `hi > lo`.
fn range_i64(lo: i64, hi: i64) -> i64 {
    let span = (hi as i128 - lo as i128) as u128;
    let r = (next_u64() as u128) % span.max(1);
    (lo as i128 + r as i128) as i64
}

fn unit_f64() -> f64 {
    (next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

#[derive(Default)]
struct ClearHost;

impl Processor for ClearHost {
    fn process(&mut self, cx: &mut Cx, _args: &Args) -> Res<()> {
        cx.it.host.clear();
        Ok(())
    }
}

/// The shell reads and writes numbers and dates as en-US does, whatever the
/// machine's locale, so that is the culture it reports.
#[derive(Default)]
struct GetCulture;

impl Processor for GetCulture {
    fn process(&mut self, cx: &mut Cx, _args: &Args) -> Res<()> {
        cx.emit(crate::commands::typed_object(
            "System.Globalization.CultureInfo",
            vec![
                ("LCID", Value::Int(1033)),
                ("Name", Value::from("en-US")),
                ("DisplayName", Value::from("English (United States)")),
            ],
        ))
    }
}

#[derive(Default)]
struct GetRandom {
    items: Vec<Value>,
    seeded: bool,
}

fn is_float(v: &Value) -> bool {
    match v {
        Value::Double(_) | Value::Single(_) | Value::Decimal(_) => true,
        Value::String(s) => s.contains('.') || s.to_ascii_lowercase().contains('e'),
        _ => false,
    }
}

impl GetRandom {
    fn number(&self, cx: &mut Cx, args: &Args) -> Res<Value> {
        let min = args.get("Minimum").filter(|v| !v.is_null());
        let max = args.get("Maximum").filter(|v| !v.is_null());
        let float = min.is_some_and(is_float) || max.is_some_and(is_float);
        if float {
            let lo = match min {
                Some(v) => to_f64(v).map_err(|e| cx.fail(e))?,
                None => 0.0,
            };
            let hi = match max {
                Some(v) => to_f64(v).map_err(|e| cx.fail(e))?,
                None => f64::MAX,
            };
            if lo >= hi {
                return Err(min_max_error(cx, min, max));
            }
            return Ok(Value::Double(lo + unit_f64() * (hi - lo)));
        }
        let int =
            |v: &Value| crate::runtime::convert::to_i64(v, "System.Int64").map_err(|e| cx.fail(e));
        let lo = match min {
            Some(v) => int(v)?,
            None => 0,
        };
        let wide = min.is_some_and(|v| matches!(v, Value::Long(_)))
            || max.is_some_and(|v| matches!(v, Value::Long(_)));
        let hi = match max {
            Some(v) => int(v)?,
            None if wide => i64::MAX,
            None => i32::MAX as i64,
        };
        if lo >= hi {
            return Err(min_max_error(cx, min, max));
        }
        let n = range_i64(lo, hi);
        Ok(if wide { Value::Long(n) } else { Value::from(n) })
    }
}

fn min_max_error(cx: &Cx, min: Option<&Value>, max: Option<&Value>) -> crate::runtime::error::Flow {
    let show = |v: Option<&Value>| v.map(|x| x.to_string()).unwrap_or_else(|| "0".into());
    cx.fail(ErrorRecord::new(
        format!(
            "The Minimum value ({}) cannot be greater than or equal to the Maximum value ({}).",
            show(min),
            show(max)
        ),
        "MinGreaterThanOrEqualMax,Microsoft.PowerShell.Commands.GetRandomCommand",
        ErrorCategory::InvalidArgument,
    ))
}

impl Processor for GetRandom {
    fn begin(&mut self, _: &mut Cx, args: &Args) -> Res<()> {
        if let Some(n) = args.get("SetSeed").and_then(Value::as_i64) {
            seed(n);
            self.seeded = true;
        }
        Ok(())
    }

    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        if let Some(v) = args.get("InputObject") {
            // Each pipeline object arrives wrapped as a one-item array.
            self.items.extend(v.enumerate());
            return Ok(());
        }
        let count = args
            .get("Count")
            .and_then(Value::as_i64)
            .unwrap_or(1)
            .max(0);
        for _ in 0..count {
            let n = self.number(cx, args)?;
            cx.emit(n)?;
        }
        Ok(())
    }

    fn end(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        if !args.has("InputObject") && self.items.is_empty() {
            return Ok(());
        }
        let mut items = std::mem::take(&mut self.items);
        let want = if args.switch("Shuffle") {
            items.len()
        } else {
            args.get("Count")
                .and_then(Value::as_i64)
                .unwrap_or(1)
                .max(0) as usize
        };
        // A partial Fisher-Yates shuffle: the first `want` are the picks.
        let take = want.min(items.len());
        for i in 0..take {
            let j = range_i64(i as i64, items.len() as i64) as usize;
            items.swap(i, j);
        }
        items.truncate(take);
        for v in items {
            cx.emit(v)?;
        }
        Ok(())
    }
}

// ------------------------------------------------------------- Get-Unique

#[derive(Default)]
struct GetUnique {
    last: Option<Value>,
}

impl Processor for GetUnique {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let Some(v) = args.get("InputObject").cloned() else {
            return Ok(());
        };
        let ci = args.switch("CaseInsensitive");
        let same = match &self.last {
            None => false,
            Some(prev) if args.switch("OnType") => prev.type_name() == v.type_name(),
            Some(prev) if args.switch("AsString") || matches!(v, Value::String(_)) => {
                let (a, b) = (prev.to_string(), v.to_string());
                if ci {
                    a.to_lowercase() == b.to_lowercase()
                } else {
                    a == b
                }
            }
            Some(prev) => match (prev, &v) {
                (Value::Object(_), _) | (_, Value::Object(_)) => {
                    prev.to_string() == v.to_string() && prev.type_name() == v.type_name()
                }
                _ => ops::equals(prev, &v, !ci),
            },
        };
        self.last = Some(v.clone());
        if same {
            return Ok(());
        }
        cx.emit(v)
    }
}

// -------------------------------------------------------------- Get-Alias

#[derive(Default)]
struct GetAlias;

impl Processor for GetAlias {
    fn process(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let registry = cx.it.registry.clone();
        let mut all: Vec<(String, String)> = registry
            .aliases()
            .into_iter()
            .map(|(a, t)| (a, t.to_string()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let pats = |name: &str| -> Vec<Wildcard> {
            args.get(name)
                .map(|v| {
                    v.enumerate()
                        .iter()
                        .map(|x| Wildcard::new(&x.to_string(), false))
                        .collect()
                })
                .unwrap_or_default()
        };
        let defs = pats("Definition");
        let excl = pats("Exclude");
        let names: Vec<String> = args
            .get("Name")
            .map(|v| v.enumerate().iter().map(|x| x.to_string()).collect())
            .unwrap_or_else(|| vec!["*".into()]);
        let mut shown: Vec<String> = Vec::new();
        for n in names {
            let w = Wildcard::new(&n, false);
            let mut any = false;
            for (alias, target) in &all {
                if !w.is_match(alias)
                    || (!defs.is_empty() && !defs.iter().any(|d| d.is_match(target)))
                    || excl.iter().any(|x| x.is_match(alias))
                {
                    continue;
                }
                any = true;
                if shown.contains(alias) {
                    continue;
                }
                shown.push(alias.clone());
                cx.emit(command_object(
                    "Alias",
                    alias,
                    &format!("{alias} -> {target}"),
                    "",
                    target,
                ))?;
            }
            if !any && !Wildcard::has_wildcards(&n) && defs.is_empty() {
                cx.error(
                    ErrorRecord::new(
                        format!(
                            "This command cannot find a matching alias because an alias with the name '{n}' does not exist."
                        ),
                        "ItemNotFoundException,Microsoft.PowerShell.Commands.GetAliasCommand",
                        ErrorCategory::ObjectNotFound,
                    )
                    .with_target(Value::from(n.as_str())),
                )?;
            }
        }
        if let Some(d) = args.get("Definition")
            && shown.is_empty()
        {
            for x in d.enumerate() {
                let x = x.to_string();
                if !Wildcard::has_wildcards(&x) {
                    cx.error(
                        ErrorRecord::new(
                            format!(
                                "This command cannot find a matching alias because an alias with the definition '{x}' does not exist."
                            ),
                            "ItemNotFoundException,Microsoft.PowerShell.Commands.GetAliasCommand",
                            ErrorCategory::ObjectNotFound,
                        )
                        .with_target(Value::from(x.as_str())),
                    )?;
                }
            }
        }
        Ok(())
    }
}
