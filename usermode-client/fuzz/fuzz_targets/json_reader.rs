//! Arbitrary bytes through the Windows event JSON reader: it must never
//! panic, every record is either an event, skipped or an error, and each
//! error names a record that exists.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use vigil::input::json::JsonReader;

fuzz_target!(|data: &[u8]| {
    let mut reader = JsonReader::new();
    let mut events = 0u64;
    let mut errors = 0u64;
    let stats = reader.read(
        Path::new("fuzz.json"),
        data,
        &mut |ev| {
            events += 1;
            let _ = ev.fields().count();
        },
        &mut |e| {
            errors += 1;
            assert!(e.record >= 1 && e.line >= 1, "{e}");
        },
    );
    assert_eq!(stats.events, events);
    assert_eq!(stats.errors, errors);
    assert!(stats.events + stats.skipped + stats.errors >= stats.records);
});
