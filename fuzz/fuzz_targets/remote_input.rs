//! What a remote client can send, as the server reads it: `lyncsh`
//! subsystem request lines (cut as the connection and `-sshs` cut them,
//! then parsed), and shell input through the line editor (with and without
//! a pty) and the unfinished-input judge. Any panic or hang is a bug;
//! refusals are fine.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lyncsh::remote::continuation::Continuation;
use lyncsh::remote::line_editor::{Event, LineEditor};
use lyncsh::remote::protocol::{LineRead, parse_request, read_bounded_line, trim_eol};

fuzz_target!(|data: &[u8]| {
    // The subsystem: lines of at most 64 bytes here, read through a small
    // buffer so lines straddle its refills.
    let mut reader = std::io::BufReader::with_capacity(7, data);
    loop {
        let mut line = Vec::new();
        match read_bounded_line(&mut reader, &mut line, 64) {
            Ok(LineRead::Eof) | Err(_) => break,
            Ok(LineRead::TooLong) => {}
            Ok(LineRead::Line) => {
                let _ = parse_request(trim_eol(&line));
            }
        }
    }
    let _ = parse_request(data);
    // The shell: every finished line goes to the judge of unfinished input.
    for pty in [false, true] {
        let mut editor = LineEditor::new(pty);
        let mut unfinished = Continuation::default();
        let mut echo = Vec::new();
        for &b in data {
            match editor.feed(b, &mut echo) {
                Some(Event::Line(line)) => {
                    let _ = unfinished.push(&line);
                }
                Some(Event::Interrupt | Event::TooLong) => unfinished.clear(),
                Some(Event::Eof) | None => {}
            }
            echo.clear();
        }
    }
});
