//! How large a value one operation may build, and how deep the interpreter
//! may recurse, checked before the memory or the stack is taken.
//!
//! Sizes: every builder whose output size comes from input (`"x" * n`,
//! `PadLeft`, `-join`, `-replace`, `-f` alignment, ConvertTo-Json, ...)
//! asks here first and reserves with `try_reserve`, so an absurd size is a
//! PowerShell error instead of an aborted process. Remote sessions lower the
//! limits for their thread ([`set_limits`]).
//!
//! Depth: the interpreter walks the syntax tree and calls script blocks
//! recursively. Whatever the nesting (`iex` calling itself, a script
//! property reading itself, deeply nested parentheses), [`enter`] stops it
//! with pwsh's call depth error while the thread still has stack to report
//! it, whatever size of stack the thread was given.

use std::cell::Cell;
use std::time::Duration;

use super::error::{ErrorCategory, ErrorRecord};
use super::value::Value;

thread_local! {
    /// Most items of one collection and most bytes of one string an
    /// operation may build on this thread.
    static LIMITS: Cell<(usize, usize)> = const { Cell::new((50_000_000, 256 << 20)) };
}

/// The scheduling priority ("nice" value) a long-running command drops
/// its thread to: other sessions' short commands then get the CPU first.
const LONG_COMMAND_NICE: i32 = 19;

/// Lowers this thread's CPU priority for good. A remote session's process
/// calls it once a command has run for a while, so that a crowd of busy
/// sessions cannot slow an administrator's quick change to a crawl. The
/// priority is not raised again afterwards: that would need a privilege
/// a server should not hold (and Linux's nice value is per thread, so
/// only the interpreter's own thread is affected).
pub fn yield_cpu() {
    // An absolute value, so a second call changes nothing. Failure leaves
    // the priority as it was, which is only less fair.
    let _ = rustix::process::setpriority_process(None, LONG_COMMAND_NICE);
}

/// CPU time this thread has used so far.
pub fn thread_cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        t.tv_sec.max(0) as u64,
        t.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// Sets this thread's limits: most items, most string bytes.
pub fn set_limits(max_items: usize, max_string: usize) {
    LIMITS.with(|l| l.set((max_items, max_string)));
}

pub fn max_items() -> usize {
    LIMITS.with(|l| l.get().0)
}

pub fn max_string() -> usize {
    LIMITS.with(|l| l.get().1)
}

/// The error for a value past the limits (pwsh itself would run out of
/// memory: the exception type says so).
pub fn too_large() -> ErrorRecord {
    ErrorRecord::new(
        "The operation would create a value larger than this session allows.",
        "LimitsExceeded",
        ErrorCategory::LimitsExceeded,
    )
    .with_exception("System.OutOfMemoryException")
}

/// May a collection of `n` items be built?
pub fn check_items(n: usize) -> Result<(), ErrorRecord> {
    if n > max_items() {
        Err(too_large())
    } else {
        Ok(())
    }
}

/// May a string of `bytes` bytes be built?
pub fn check_string(bytes: usize) -> Result<(), ErrorRecord> {
    if bytes > max_string() {
        Err(too_large())
    } else {
        Ok(())
    }
}

/// An empty vector with room for `n` items, within the limits.
pub fn vec_for<T>(n: usize) -> Result<Vec<T>, ErrorRecord> {
    check_items(n)?;
    let mut v = Vec::new();
    v.try_reserve(n).map_err(|_| too_large())?;
    Ok(v)
}

/// A string being built under the string limit: every append is checked
/// before it allocates.
pub struct TextBuf {
    text: String,
    max: usize,
}

impl Default for TextBuf {
    fn default() -> TextBuf {
        TextBuf::new()
    }
}

impl TextBuf {
    pub fn new() -> TextBuf {
        TextBuf {
            text: String::new(),
            max: max_string(),
        }
    }

    /// Whether `more` bytes would still fit.
    pub fn fits(&self, more: usize) -> Result<(), ErrorRecord> {
        if self.text.len().saturating_add(more) > self.max {
            return Err(too_large());
        }
        Ok(())
    }

    /// Makes room for `more` bytes, or fails without allocating.
    pub fn reserve(&mut self, more: usize) -> Result<(), ErrorRecord> {
        self.fits(more)?;
        self.text.try_reserve(more).map_err(|_| too_large())
    }

    pub fn push_str(&mut self, s: &str) -> Result<(), ErrorRecord> {
        self.reserve(s.len())?;
        self.text.push_str(s);
        Ok(())
    }

    pub fn push(&mut self, c: char) -> Result<(), ErrorRecord> {
        self.reserve(c.len_utf8())?;
        self.text.push(c);
        Ok(())
    }

    /// Appends `c` `n` times.
    pub fn repeat(&mut self, c: char, n: usize) -> Result<(), ErrorRecord> {
        self.reserve(c.len_utf8().saturating_mul(n))?;
        self.text.extend(std::iter::repeat_n(c, n));
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn into_string(self) -> String {
        self.text
    }
}

/// A value's string form (`[string]$x`), refused before it is built when
/// it would pass the string limit: an object's properties or an array's
/// items can each be large, and their text is their sum.
pub fn text_of(v: &Value) -> Result<String, ErrorRecord> {
    check_string(v.text_len())?;
    Ok(v.to_string())
}

// ------------------------------------------------------------ depth

/// Stack kept free below the deepest evaluation: enough for reporting the
/// error, running `catch` and `finally` blocks, and the non-recursive work
/// between two checks.
const RED_ZONE: usize = 1 << 20;

/// pwsh's error for runaway nesting: catchable, like pwsh's
/// ScriptCallDepthException.
pub fn call_depth_error() -> ErrorRecord {
    ErrorRecord::new(
        "The script failed due to call depth overflow.",
        "CallDepthOverflow",
        ErrorCategory::InvalidOperation,
    )
    .with_exception("System.Management.Automation.ScriptCallDepthException")
}

/// Called on each level of a recursive walk: fails while the thread still
/// has `RED_ZONE` of stack left.
#[inline]
pub fn enter() -> Result<(), ErrorRecord> {
    match stacker::remaining_stack() {
        Some(left) if left < RED_ZONE => Err(call_depth_error()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use crate::host::CaptureHost;
    use crate::runtime::Interp;
    use crate::syntax::Source;

    /// Runs `script` on a thread of its own whose limits are `items` and
    /// `bytes`; returns what it printed on both streams.
    fn run_with_limits(script: &str, items: usize, bytes: usize) -> String {
        let script = script.to_string();
        let run = move || {
            super::set_limits(items, bytes);
            let mut it = Interp::new(Box::new(CaptureHost::default()));
            let _ = it.run_text(Rc::new(Source::new(None, script)), Vec::new());
            let host = std::mem::replace(&mut it.host, Box::new(CaptureHost::default()));
            match crate::host::into_any(host).downcast::<CaptureHost>() {
                Ok(h) => h.stdout + &h.stderr,
                Err(_) => String::new(),
            }
        };
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(run)
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default()
    }

    #[test]
    fn hashtables_and_lists_stop_at_the_item_limit() {
        for script in [
            "$h = @{}; foreach ($i in 0..20) { $h[$i] = $i }",
            "$h = @{}; foreach ($i in 0..20) { $h.\"k$i\" = $i }",
            "$h = @{}; foreach ($i in 0..20) { $h.Add($i, $i) }",
            "$l = [System.Collections.ArrayList]::new(); foreach ($i in 0..20) { $null = $l.Add($i) }",
        ] {
            let out = run_with_limits(&format!("{script}; 'done'"), 10, 1 << 20);
            assert!(
                out.contains("larger than this session allows"),
                "{script}: {out}"
            );
        }
        let out = run_with_limits(
            "$h = @{}; foreach ($i in 0..5) { $h[$i] = $i }; $h.Count",
            10,
            1 << 20,
        );
        assert_eq!(out, "6\n");
    }
}
