//! The built-in Pester on a generated test file of 1,000 `It` blocks (100
//! Describe blocks of ten tests, each with a `Should`), run as a user runs
//! it: a whole `lyncsh -Command "Invoke-Pester …"` process. Target: under
//! two seconds.
//!
//!   cargo bench --bench pester

use std::fmt::Write;
use std::process::Command;
use std::time::{Duration, Instant};

const TARGET: Duration = Duration::from_secs(2);

fn generated() -> String {
    let mut text = String::new();
    for d in 0..100 {
        let _ = writeln!(text, "Describe 'Pool {d}' {{");
        let _ = writeln!(text, "    BeforeEach {{ $size = {d} }}");
        for i in 0..10 {
            let _ = writeln!(
                text,
                "    It 'test {i}' {{ $size + {i} | Should -Be {} }}",
                d + i
            );
        }
        let _ = writeln!(text, "}}");
    }
    text
}

fn main() {
    let dir = std::env::temp_dir().join(format!("lyncsh-bench-pester-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("Generated.Tests.ps1");
    std::fs::write(&file, generated()).expect("write the test file");
    let script = format!(
        "$r = Invoke-Pester '{}' -Show None -PassThru -FreshStore; \"$($r.PassedCount)/$($r.TotalCount)\"",
        file.display()
    );
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_lyncsh"))
            .args(["-NoProfile", "-NonInteractive", "--store"])
            .arg(dir.join("store.db"))
            .args(["-Command", &script])
            .output()
            .expect("run lyncsh");
        times.push(t.elapsed());
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            stdout.trim(),
            "1000/1000",
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    times.sort();
    let median = times[times.len() / 2];
    let verdict = if median < TARGET { "ok" } else { "TOO SLOW" };
    println!(
        "pester: 1,000 It blocks in {:.3} s (median of 5 processes; target < {} s): {verdict}",
        median.as_secs_f64(),
        TARGET.as_secs()
    );
    if median >= TARGET {
        std::process::exit(1);
    }
}
