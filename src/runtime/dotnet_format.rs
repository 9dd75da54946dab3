//! .NET composite formatting for `-f` and `ToString("N2")`: `{0}`,
//! `{0,-10}`, `{0:N2}`, `{0:D3}`, `{0:X}`, `{0:P1}`, `{0:yyyy-MM-dd}`, and
//! custom numeric patterns like `0.00` and `#,##0`. en-US conventions.

use super::budget::{TextBuf, text_of};
use super::convert::to_f64;
use super::error::{ErrorCategory, ErrorRecord};
use super::value::Value;

fn format_error() -> ErrorRecord {
    ErrorRecord::new(
        "Error formatting a string: Input string was not in a correct format.",
        "FormatError",
        ErrorCategory::InvalidOperation,
    )
    .with_exception("System.FormatException")
}

/// `"{0} is {1:N1}" -f $a, $b`
pub fn composite(fmt: &str, args: &[Value]) -> Result<String, ErrorRecord> {
    let mut out = TextBuf::new();
    let mut it = fmt.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '{' if it.peek() == Some(&'{') => {
                it.next();
                out.push('{')?;
            }
            '}' if it.peek() == Some(&'}') => {
                it.next();
                out.push('}')?;
            }
            '}' => return Err(format_error()),
            '{' => {
                let mut item = String::new();
                let mut closed = false;
                for d in it.by_ref() {
                    if d == '}' {
                        closed = true;
                        break;
                    }
                    item.push(d);
                }
                if !closed {
                    return Err(format_error());
                }
                let (head, spec) = match item.split_once(':') {
                    Some((h, s)) => (h, Some(s)),
                    None => (item.as_str(), None),
                };
                let (index, align) = match head.split_once(',') {
                    Some((i, a)) => (
                        i,
                        Some(a.trim().parse::<i64>().map_err(|_| format_error())?),
                    ),
                    None => (head, None),
                };
                // .NET refuses widths of a million or more.
                if align.is_some_and(|w| w.unsigned_abs() >= WIDTH_LIMIT) {
                    return Err(format_error());
                }
                let index: usize = index.trim().parse().map_err(|_| format_error())?;
                let arg = args.get(index).ok_or_else(|| {
                    ErrorRecord::new(
                        "Error formatting a string: Index (zero based) must be greater than or equal to zero and less than the size of the argument list.",
                        "FormatError",
                        ErrorCategory::InvalidOperation,
                    )
                    .with_exception("System.FormatException")
                })?;
                let text = match (spec, arg) {
                    (Some(s), _) => format_value(arg, s)?,
                    // String.Format calls .NET's ToString, not PowerShell's
                    // conversion: the shortest round trip.
                    (None, Value::Double(d)) => super::value::format_double(*d),
                    (None, Value::Single(f)) => super::value::format_single(*f),
                    (None, _) => text_of(arg)?,
                };
                let pad = |w: i64| {
                    usize::try_from(w.unsigned_abs())
                        .unwrap_or(usize::MAX)
                        .saturating_sub(text.chars().count())
                };
                match align {
                    Some(w) if w < 0 => {
                        out.push_str(&text)?;
                        out.repeat(' ', pad(w))?;
                    }
                    Some(w) => {
                        out.repeat(' ', pad(w))?;
                        out.push_str(&text)?;
                    }
                    None => out.push_str(&text)?,
                }
            }
            c => out.push(c)?,
        }
    }
    Ok(out.into_string())
}

/// The widest alignment .NET's composite formatting accepts (exclusive).
const WIDTH_LIMIT: u64 = 1_000_000;

/// Formats one value with a .NET format specifier.
pub fn format_value(v: &Value, spec: &str) -> Result<String, ErrorRecord> {
    if let Value::DateTime(d) = v {
        return Ok(format_datetime(d, spec));
    }
    if !v.is_numeric() {
        return Ok(v.to_string());
    }
    let mut chars = spec.chars();
    let kind = chars.next().unwrap_or('G');
    let digits: Option<usize> = {
        let rest: String = chars.collect();
        if rest.is_empty() {
            None
        } else if rest.bytes().all(|b| b.is_ascii_digit()) && rest.len() <= 2 {
            rest.parse().ok()
        } else {
            return Ok(custom_numeric(to_f64(v)?, spec));
        }
    };
    let int_val = v
        .as_i64()
        .filter(|_| matches!(v, Value::Int(_) | Value::Long(_)));
    Ok(match kind.to_ascii_uppercase() {
        'N' => group_thousands(&fixed(to_f64(v)?, digits.unwrap_or(2))),
        'F' => fixed(to_f64(v)?, digits.unwrap_or(2)),
        'D' => match int_val {
            Some(n) => {
                let s = n.unsigned_abs().to_string();
                let padded = format!("{s:0>width$}", width = digits.unwrap_or(0));
                if n < 0 { format!("-{padded}") } else { padded }
            }
            None => return Err(format_error()),
        },
        'X' => match int_val {
            Some(n) => {
                let s = if kind == 'x' {
                    format!("{:x}", n as u64 & mask(v))
                } else {
                    format!("{:X}", n as u64 & mask(v))
                };
                format!("{s:0>width$}", width = digits.unwrap_or(0))
            }
            None => return Err(format_error()),
        },
        'P' => format!(
            "{}%",
            group_thousands(&fixed(to_f64(v)? * 100.0, digits.unwrap_or(2)))
        ),
        'C' => {
            let f = to_f64(v)?;
            let body = group_thousands(&fixed(f.abs(), digits.unwrap_or(2)));
            if f < 0.0 {
                format!("(${body})")
            } else {
                format!("${body}")
            }
        }
        'E' => {
            let f = to_f64(v)?;
            let d = digits.unwrap_or(6);
            let s = format!("{f:.d$e}");
            let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
            let e: i32 = e.parse().unwrap_or(0);
            let sign = if e < 0 { '-' } else { '+' };
            format!(
                "{m}{}{sign}{:03}",
                if kind == 'e' { 'e' } else { 'E' },
                e.abs()
            )
        }
        'G' | 'R' => match digits {
            Some(d) if d > 0 && !matches!(v, Value::Int(_) | Value::Long(_)) => {
                let f = to_f64(v)?;
                let s = format!("{:.*e}", d - 1, f);
                s.parse::<f64>()
                    .map(super::value::format_double)
                    .unwrap_or(s)
            }
            _ => match v {
                Value::Double(d) => super::value::format_double(*d),
                Value::Single(f) => super::value::format_single(*f),
                _ => v.to_string(),
            },
        },
        _ => custom_numeric(to_f64(v)?, spec),
    })
}

fn mask(v: &Value) -> u64 {
    if matches!(v, Value::Int(_)) {
        0xFFFF_FFFF
    } else {
        u64::MAX
    }
}

/// Fixed-point with .NET's rounding (half away from zero).
fn fixed(f: f64, digits: usize) -> String {
    let digits = digits.min(15);
    let scale = 10f64.powi(digits as i32);
    let r = (f * scale).round() / scale;
    let s = format!("{r:.digits$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

fn group_thousands(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// Custom numeric formats: `0`, `#`, `.`, `,` (grouping), `%`, literals.
fn custom_numeric(f: f64, spec: &str) -> String {
    let pct = spec.contains('%');
    let f = if pct { f * 100.0 } else { f };
    let (int_spec, frac_spec) = match spec.split_once('.') {
        Some((i, fr)) => (i, fr),
        None => (spec, ""),
    };
    let frac_digits = frac_spec.chars().filter(|c| matches!(c, '0' | '#')).count();
    let min_frac = frac_spec.chars().filter(|c| *c == '0').count();
    let min_int = int_spec.chars().filter(|c| *c == '0').count();
    let grouping = int_spec.contains(',');
    let s = fixed(f.abs(), frac_digits);
    let (int, frac) = match s.split_once('.') {
        Some((i, fr)) => (i.to_string(), fr.to_string()),
        None => (s.clone(), String::new()),
    };
    let mut frac = frac;
    while frac.len() > min_frac && frac.ends_with('0') {
        frac.pop();
    }
    let int = if int == "0" && min_int == 0 {
        String::new()
    } else {
        int
    };
    let int = format!("{int:0>min_int$}");
    let int = if grouping { group_thousands(&int) } else { int };
    let prefix: String = int_spec
        .chars()
        .take_while(|c| !matches!(c, '0' | '#' | ','))
        .filter(|c| *c != '%')
        .collect();
    let suffix: String = spec
        .chars()
        .rev()
        .take_while(|c| !matches!(c, '0' | '#' | '.' | ','))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let mut out = String::new();
    if f < 0.0 && (int.chars().any(|c| c != '0' && c != ',') || frac.chars().any(|c| c != '0')) {
        out.push('-');
    }
    out.push_str(&prefix);
    out.push_str(&int);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(&frac);
    }
    out.push_str(&suffix);
    out
}

/// .NET date format strings, standard (`d`, `D`, `g`, `G`, `s`, `o`, `u`, `t`,
/// `T`, `f`, `F`) and custom (`yyyy-MM-dd HH:mm:ss`).
pub fn format_datetime(d: &chrono::NaiveDateTime, spec: &str) -> String {
    let custom = match spec {
        "d" => "M/d/yyyy",
        "D" => "dddd, MMMM d, yyyy",
        "f" => "dddd, MMMM d, yyyy h:mm tt",
        "F" => "dddd, MMMM d, yyyy h:mm:ss tt",
        "g" => "M/d/yyyy h:mm tt",
        "G" => "M/d/yyyy h:mm:ss tt",
        "s" => "yyyy-MM-ddTHH:mm:ss",
        "u" => "yyyy-MM-dd HH:mm:ssZ",
        "o" | "O" => "yyyy-MM-ddTHH:mm:ss.fffffff",
        "t" => "h:mm tt",
        "T" => "h:mm:ss tt",
        "M" | "m" => "MMMM d",
        "Y" | "y" => "MMMM yyyy",
        other => other,
    };
    use chrono::{Datelike, Timelike};
    let mut out = String::new();
    let chars: Vec<char> = custom.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut n = 1;
        while i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        match c {
            'y' => {
                if n <= 2 {
                    out.push_str(&format!("{:0w$}", d.year() % 100, w = n))
                } else {
                    out.push_str(&format!("{:0w$}", d.year(), w = n))
                }
            }
            'M' => match n {
                1 => out.push_str(&d.month().to_string()),
                2 => out.push_str(&format!("{:02}", d.month())),
                3 => out.push_str(&d.format("%b").to_string()),
                _ => out.push_str(&d.format("%B").to_string()),
            },
            'd' => match n {
                1 => out.push_str(&d.day().to_string()),
                2 => out.push_str(&format!("{:02}", d.day())),
                3 => out.push_str(&d.format("%a").to_string()),
                _ => out.push_str(&d.format("%A").to_string()),
            },
            'H' => out.push_str(&format!("{:0w$}", d.hour(), w = n.min(2))),
            'h' => {
                let h = match d.hour() % 12 {
                    0 => 12,
                    h => h,
                };
                out.push_str(&format!("{:0w$}", h, w = n.min(2)))
            }
            'm' => out.push_str(&format!("{:0w$}", d.minute(), w = n.min(2))),
            's' => out.push_str(&format!("{:0w$}", d.second(), w = n.min(2))),
            'f' | 'F' => {
                let nanos = format!("{:09}", d.nanosecond() % 1_000_000_000);
                let take = n.min(7);
                let mut frac = nanos[..take].to_string();
                if c == 'F' {
                    while frac.ends_with('0') {
                        frac.pop();
                    }
                }
                out.push_str(&frac);
            }
            't' => {
                let am = d.hour() < 12;
                let s = if am { "AM" } else { "PM" };
                out.push_str(if n == 1 { &s[..1] } else { s });
            }
            '\\' if i + 1 < chars.len() => {
                out.push(chars[i + 1]);
                i += 2;
                continue;
            }
            '\'' | '"' => {
                let mut j = i + 1;
                while j < chars.len() && chars[j] != c {
                    out.push(chars[j]);
                    j += 1;
                }
                i = j + 1;
                continue;
            }
            _ => {
                for _ in 0..n {
                    out.push(c);
                }
            }
        }
        i += n;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_numeric_formats() {
        let f = |v: Value, s: &str| format_value(&v, s).unwrap_or_default();
        assert_eq!(f(Value::Double(1234.5), "N2"), "1,234.50");
        assert_eq!(f(Value::Int(7), "D3"), "007");
        assert_eq!(f(Value::Int(255), "X"), "FF");
        assert_eq!(f(Value::Int(255), "x4"), "00ff");
        assert_eq!(f(Value::Double(0.125), "P1"), "12.5%");
        assert_eq!(f(Value::Double(1.23456), "0.00"), "1.23");
        assert_eq!(f(Value::Int(1234567), "#,##0"), "1,234,567");
        assert_eq!(f(Value::Double(2.5), "F0"), "3");
    }

    #[test]
    fn composite_alignment() {
        let args = [Value::from("ab"), Value::Int(5)];
        assert_eq!(
            composite("[{0,-4}][{1,3}]", &args).unwrap_or_default(),
            "[ab  ][  5]"
        );
        assert!(composite("{2}", &args).is_err());
        assert_eq!(composite("{{x}}", &args).unwrap_or_default(), "{x}");
    }
}
