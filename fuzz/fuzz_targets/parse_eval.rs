//! Parses and runs arbitrary text with tight limits. Any panic, hang or
//! stack overflow is a bug; errors are fine.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        lyncsh::runtime::sandbox::run_untrusted(text);
    }
});
