//! Running text nobody vouches for (fuzzing today, remote sessions later)
//! under tight limits: a short deadline, no file system, small collections.

use std::rc::Rc;
use std::time::{Duration, Instant};

use super::interp::{Interp, Limits};
use crate::host::CaptureHost;
use crate::syntax::Source;

/// Limits for a run of untrusted text.
pub fn untrusted_limits(budget: Duration) -> Limits {
    Limits {
        max_call_depth: 64,
        max_collect: 100_000,
        deadline: Some(Instant::now() + budget),
        file_system: false,
        root: None,
        halt_on_size: true,
        ..Limits::default()
    }
}

/// Parses and runs `text` on a thread with a generous stack, returning what
/// it printed. Errors are expected; a panic or a hang is a bug.
pub fn run_untrusted(text: &str) -> (String, String) {
    let text = text.to_string();
    let worker = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let mut it = Interp::new(Box::new(CaptureHost::default()));
            it.limits = untrusted_limits(Duration::from_millis(200));
            super::ops::set_limits(100_000, 1 << 20);
            let src = Rc::new(Source::new(None, text));
            let _ = it.run_text(src, Vec::new());
            let host = std::mem::replace(&mut it.host, Box::new(CaptureHost::default()));
            match crate::host::into_any(host).downcast::<CaptureHost>() {
                Ok(h) => (h.stdout, h.stderr),
                Err(_) => (String::new(), String::new()),
            }
        });
    match worker.map(|h| h.join()) {
        Ok(Ok(out)) => out,
        // A panic must surface to the fuzzer.
        Ok(Err(p)) => std::panic::resume_unwind(p),
        Err(e) => (String::new(), e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::run_untrusted;
    use std::time::{Duration, Instant};

    fn assert_stops(script: &str) -> String {
        let t = Instant::now();
        let (_, err) = run_untrusted(script);
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "took {:?}",
            t.elapsed()
        );
        err
    }

    #[test]
    fn endless_loop_ends_with_an_error() {
        let err = assert_stops("while ($true) { }");
        assert!(err.contains("ran longer than this session allows"), "{err}");
    }

    #[test]
    fn a_catch_all_cannot_swallow_the_time_limit() {
        let err = assert_stops("while ($true) { try { 1/0 } catch { } }");
        assert!(err.contains("ran longer than this session allows"), "{err}");
    }

    #[test]
    fn a_long_sleep_ends_at_the_time_limit() {
        // The fuzzer found `sleep 0201` running its full 201 seconds: the
        // sleep's rounds were too few to reach a sampled clock check.
        let err = assert_stops("Start-Sleep 201; 'not reached'");
        assert!(err.contains("ran longer than this session allows"), "{err}");
    }

    #[test]
    fn a_script_of_slow_commands_stops_at_the_time_limit() {
        // No loop, so no sampled clock check: each command reads the clock
        // (the fuzzer found a few store writes running 2 s past 200 ms).
        let line = "Out-Null -InputObject ('x' * 1000000).Replace('x', 'yz')\n";
        let (out, err) = run_untrusted(&format!("{}'not reached'", line.repeat(300)));
        assert!(err.contains("ran longer than this session allows"), "{err}");
        assert_eq!(out, "");
    }

    #[test]
    fn failing_statements_in_a_loop_still_stop() {
        assert_stops(":top while ($true) { do { Get-Nothing } while ($false) }");
    }

    #[test]
    fn exponential_recursion_stops() {
        assert_stops("function f { try { f } catch { f } }; f");
    }

    #[test]
    fn inputs_the_fuzzer_found() {
        // Each once panicked.
        for script in [
            "$z = Get-Random -Minimum 80.5 \u{1}\u{29a};ame",
            "[int]'\u{29a}x'",
            "[string]::Join()",
            "'-\u{29a}' + 1",
        ] {
            let _ = run_untrusted(script);
        }
    }

    #[test]
    fn huge_values_are_refused() {
        let err = assert_stops("$x = 'x' * 1e10; $a = 1..100000000");
        assert!(err.contains("larger than this session allows"), "{err}");
    }
}
