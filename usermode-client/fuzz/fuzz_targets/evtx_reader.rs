//! Arbitrary bytes as an EVTX file: reading must never panic (a panic in
//! the `evtx` crate is contained by the reader and reported as a bad
//! record); every record is an event, skipped or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::Once;
use vigil::input::evtx::read_evtx;

static HOOK: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    // libfuzzer-sys aborts in its panic hook, before any unwinding: keep
    // the message but let the reader's containment of `evtx` panics work.
    // A panic that escapes the reader still aborts (libfuzzer-sys catches
    // it around this closure), so it is still found.
    HOOK.call_once(|| {
        // Taking the hook out leaves std's default one (prints, no abort).
        drop(std::panic::take_hook());
    });
    let mut events = 0u64;
    let mut errors = 0u64;
    let result = read_evtx(
        Path::new("fuzz.evtx"),
        data.to_vec(),
        &mut |ev| {
            events += 1;
            let _ = ev.fields().count();
        },
        &mut |e| {
            errors += 1;
            assert!(!e.reason.is_empty(), "{e}");
        },
    );
    match result {
        Ok(stats) => {
            assert_eq!(stats.events, events);
            assert_eq!(stats.errors, errors);
            assert!(stats.events + stats.skipped + stats.errors >= stats.records);
        }
        Err(e) => assert_eq!(e.record, 0, "{e}"),
    }
});
