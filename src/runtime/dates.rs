//! Date and time arithmetic within .NET's ranges: a DateTime holds the
//! years 1 to 9999 and a TimeSpan a signed 64-bit count of 100 ns ticks.
//! A result outside them is pwsh's error, never a panic.

use chrono::{Datelike, NaiveDateTime, TimeDelta};

use super::error::{ErrorCategory, ErrorRecord};

/// The most milliseconds a DateTime can move (its whole range).
const MAX_MILLIS: f64 = 315_537_897_600_000.0;

/// Whether `d` is a date .NET can hold.
pub fn in_range(d: &NaiveDateTime) -> bool {
    (1..=9999).contains(&d.year())
}

/// Whether `t` fits a TimeSpan's ticks.
pub fn span_in_range(t: &TimeDelta) -> bool {
    t.num_seconds()
        .checked_mul(10_000_000)
        .and_then(|n| n.checked_add(i64::from(t.subsec_nanos() / 100)))
        .is_some()
}

/// `d + t`, `None` outside the DateTime range.
pub fn add(d: &NaiveDateTime, t: TimeDelta) -> Option<NaiveDateTime> {
    d.checked_add_signed(t).filter(in_range)
}

/// `d - t`, `None` outside the DateTime range.
pub fn sub(d: &NaiveDateTime, t: TimeDelta) -> Option<NaiveDateTime> {
    d.checked_sub_signed(t).filter(in_range)
}

/// `AddMilliseconds` and the other `Add*` methods: the amount rounds to
/// whole milliseconds, as .NET does.
pub fn add_ms(d: &NaiveDateTime, ms: f64) -> Option<NaiveDateTime> {
    let ms = ms.round();
    if !ms.is_finite() || ms.abs() > MAX_MILLIS {
        return None;
    }
    add(d, TimeDelta::try_milliseconds(ms as i64)?)
}

/// A TimeSpan of `ms` milliseconds (`[timespan]::FromDays(...)`), `None`
/// past its range.
pub fn span_ms(ms: f64) -> Option<TimeDelta> {
    let us = (ms * 1000.0).round();
    // i64 microseconds reach further than TimeSpan's ticks: check both.
    if !us.is_finite() || us.abs() >= 9.2e18 {
        return None;
    }
    Some(TimeDelta::microseconds(us as i64)).filter(span_in_range)
}

/// `a + b` of two TimeSpans.
pub fn span_add(a: TimeDelta, b: TimeDelta) -> Option<TimeDelta> {
    a.checked_add(&b).filter(span_in_range)
}

/// `a - b` of two TimeSpans.
pub fn span_sub(a: TimeDelta, b: TimeDelta) -> Option<TimeDelta> {
    a.checked_sub(&b).filter(span_in_range)
}

/// A TimeSpan of whole seconds, `None` past its range.
pub fn span_secs(secs: i64) -> Option<TimeDelta> {
    TimeDelta::try_seconds(secs).filter(span_in_range)
}

/// .NET's error for a date moved out of its range.
pub fn date_overflow() -> ErrorRecord {
    ErrorRecord::new(
        "The added or subtracted value results in an un-representable DateTime. (Parameter 'value')",
        "ArgumentOutOfRangeException",
        ErrorCategory::NotSpecified,
    )
    .with_exception("System.ArgumentOutOfRangeException")
}

/// .NET's error for a TimeSpan past its range.
pub fn span_overflow() -> ErrorRecord {
    ErrorRecord::new(
        "TimeSpan overflowed because the duration is too long.",
        "OverflowException",
        ErrorCategory::NotSpecified,
    )
    .with_exception("System.OverflowException")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_dotnets() {
        let d = NaiveDateTime::parse_from_str("2024-01-01 00:00:00", "%Y-%m-%d %H:%M:%S")
            .unwrap_or_default();
        assert!(add_ms(&d, 1e300).is_none());
        assert!(add_ms(&d, f64::NAN).is_none());
        assert!(add_ms(&d, 86_400_000.0 * 365.0 * 8000.0).is_none());
        assert!(add_ms(&d, 1.0).is_some());
        assert!(span_ms(1e300).is_none());
        assert!(span_secs(i64::MAX).is_none());
        assert!(span_secs(86_400).is_some());
    }
}
