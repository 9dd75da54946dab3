//! Language benchmarks, each reported as a ratio against a baseline run in
//! the same command:
//!
//!   cargo bench --bench language
//!
//! * parse throughput of the pest grammar on a generated script of more
//!   than 1 MB (MB/s), against the 6 MB/s target;
//! * `$s=0; foreach ($i in 1..1000000) { $s += $i }; $s` against the same
//!   loop in `python3 -c` (whole processes, median of runs);
//! * `lyncsh -Command 1` start-up against `/bin/true` (mean of many runs);
//! * a REPL keystroke on a 200-character line: the highlighter's token
//!   scan and parse plus the validator's parse, against the 1 ms target.
//!
//! Side by side in one run before the hand-written parser was deleted
//! (2 shared cores, 2026-12-04, commit 853f9bc):
//!
//!   parse (pest grammar):  1.20 MB in 200.1 ms =  6.0 MB/s  (a second run: 5.5)
//!   parse (hand-written):  1.20 MB in  35.2 ms = 34.1 MB/s  (a second run: 31.0)
//!   loop 1..1000000: lyncsh 146.4 ms, python3 233.8 ms (0.63x)
//!   start-up: lyncsh -Command 1 2.53 ms, /bin/true 1.97 ms (1.28x)
//!
//! The pest parse alone (no tree building), callgrind instructions per
//! byte of this script: 1827 before 853f9bc, 1274 after.
//!
//! After the deletion, with the pwsh 7 syntax added (2026-12-05), pest 2.9.6
//! against 2.8.8, `valgrind --tool=callgrind lyncsh check` on 200 KB of
//! this script (parse and tree, start-up subtracted): 1,990 against 1,167
//! instructions per byte; this bench, same machine with a fuzzer building
//! beside it: 5.7 MB/s on 2.9.6, 8.5 MB/s on 2.8.8 (Cargo.toml says why
//! pest is held at 2.8).

use std::process::Command;
use std::rc::Rc;
use std::time::{Duration, Instant};

use lyncsh::syntax::{Source, parse_script};

/// A realistic chunk of admin script, repeated to make the big input.
const CHUNK: &str = include_str!("data/admin.ps1");

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_process(cmd: &mut Command) -> Duration {
    let t = Instant::now();
    let out = cmd.output();
    let d = t.elapsed();
    match out {
        Ok(o) if o.status.success() => d,
        Ok(o) => panic!("{cmd:?} failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => panic!("{cmd:?}: {e}"),
    }
}

/// Best-of-five parse rate over `text`, in MB/s.
fn parse_rate(text: &str) -> (f64, Duration) {
    let mb = text.len() as f64 / 1e6;
    // Warm up once, then take the best of a few runs.
    if let Err(e) = parse_script(Rc::new(Source::new(None, text.to_string()))) {
        panic!("benchmark script does not parse: {}", e.short());
    }
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let src = Rc::new(Source::new(None, text.to_string()));
        let t = Instant::now();
        let _ = parse_script(src);
        best = best.min(t.elapsed());
    }
    (mb / best.as_secs_f64(), best)
}

fn parse_throughput() {
    let mut text = String::new();
    while text.len() < 1_200_000 {
        text.push_str(CHUNK);
    }
    let mb = text.len() as f64 / 1e6;
    let (rate, best) = parse_rate(&text);
    println!(
        "parse (pest grammar): {mb:.2} MB in {:.1} ms = {rate:.1} MB/s (target >= 6 MB/s; ratio to target {:.2}x)",
        best.as_secs_f64() * 1e3,
        rate / 6.0
    );
}

fn loop_vs_python() {
    let exe = env!("CARGO_BIN_EXE_lyncsh");
    let script = "$s=0; foreach ($i in 1..1000000) { $s += $i }; $s";
    let py = "s=0\nfor i in range(1, 1000001):\n    s += i\nprint(s)";
    let check = Command::new(exe)
        .args(["-NoProfile", "-Command", script])
        .output()
        .expect("lyncsh runs");
    assert_eq!(
        String::from_utf8_lossy(&check.stdout).trim(),
        "500000500000"
    );
    let runs = 7;
    let ours = median(
        (0..runs)
            .map(|_| time_process(Command::new(exe).args(["-NoProfile", "-Command", script])))
            .collect(),
    );
    let python = match Command::new("python3").arg("--version").output() {
        Ok(_) => median(
            (0..runs)
                .map(|_| time_process(Command::new("python3").args(["-c", py])))
                .collect(),
        ),
        Err(_) => {
            println!(
                "loop: python3 not found; lyncsh {:.1} ms",
                ours.as_secs_f64() * 1e3
            );
            return;
        }
    };
    println!(
        "loop 1..1000000: lyncsh {:.1} ms, python3 {:.1} ms, ratio {:.2}x (target <= 2x)",
        ours.as_secs_f64() * 1e3,
        python.as_secs_f64() * 1e3,
        ours.as_secs_f64() / python.as_secs_f64()
    );
}

fn startup_vs_true() {
    let exe = env!("CARGO_BIN_EXE_lyncsh");
    let runs = 50;
    let mean = |f: &dyn Fn() -> Duration| (0..runs).map(|_| f()).sum::<Duration>() / runs;
    let ours = mean(&|| time_process(Command::new(exe).args(["-NoProfile", "-Command", "1"])));
    let base = mean(&|| time_process(&mut Command::new("/bin/true")));
    println!(
        "start-up: lyncsh -Command 1 {:.2} ms, /bin/true {:.2} ms, ratio {:.2}x (target <= 5x)",
        ours.as_secs_f64() * 1e3,
        base.as_secs_f64() * 1e3,
        ours.as_secs_f64() / base.as_secs_f64()
    );
}

/// What the REPL does on each key: the highlighter scans tokens and parses
/// (to mark an error), the validator parses again (complete or `>>`).
fn keystroke() {
    let line = "Get-CsUser -Filter {ConferencingPolicy -eq $null} | Where-Object { $_.Enabled -and $_.SipAddress -like '*@contoso.com' } | ForEach-Object { Grant-CsConferencingPolicy -Identity $_.Identity -PolicyName 'Anon' }";
    assert!(line.len() >= 200, "{}", line.len());
    let parse = |text: &str| parse_script(Rc::new(Source::new(None, text.to_string()))).is_ok();
    let runs = 2000;
    let mut typed = 0;
    let t = Instant::now();
    for i in 0..runs {
        // Each keystroke sees a longer prefix, as while typing.
        let cut = line.len() * (i % 100 + 1) / 100;
        let text = &line[..cut]; // ASCII: every cut is a char boundary
        typed += lyncsh::syntax::tokens::tokens(text).len();
        typed += usize::from(parse(text)) + usize::from(parse(text));
    }
    let each = t.elapsed() / runs as u32;
    std::hint::black_box(typed);
    println!(
        "keystroke (highlight + validate, up to {} chars): {:.1} us, ratio to the 1 ms target {:.3}x",
        line.len(),
        each.as_secs_f64() * 1e6,
        each.as_secs_f64() / 1e-3
    );
}

fn main() {
    // `cargo test` runs benches with --test-less flags; only measure under `cargo bench`.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    parse_throughput();
    // `cargo bench --bench language -- parse` measures the parsers only.
    if std::env::args().any(|a| a == "parse") {
        return;
    }
    keystroke();
    loop_vs_python();
    startup_vs_true();
}
