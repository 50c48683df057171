//! Arbitrary bytes through the Windows event JSON reader: it must never
//! panic, every record is either an event, skipped or an error, each error
//! names a record that exists, and streaming the same bytes in small
//! chunks gives the same events and errors as reading them at once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use vigil::event::Event;
use vigil::input::InputError;
use vigil::input::json::JsonReader;

/// Events as their fields' debug text, errors as (record, line, reason).
fn read_all(data: &[u8], chunk: Option<usize>) -> (Vec<String>, Vec<(u64, u64, String)>, vigil::input::ReadStats) {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let mut on_event = |ev: &Event| events.push(format!("{:?} {:?}", ev.category(), ev.fields().collect::<Vec<_>>()));
    let mut on_error = |e: InputError| {
        assert!(e.record >= 1 && e.line >= 1, "{e}");
        errors.push((e.record, e.line, e.reason));
    };
    let stats = match chunk {
        None => JsonReader::new().read(Path::new("fuzz.json"), data, &mut on_event, &mut on_error),
        Some(n) => JsonReader::new()
            .with_chunk_size(n)
            .read_stream(Path::new("fuzz.json"), &mut &data[..], &mut on_event, &mut on_error)
            .expect("reading from memory cannot fail"),
    };
    (events, errors, stats)
}

fuzz_target!(|data: &[u8]| {
    let (events, errors, stats) = read_all(data, None);
    assert_eq!(stats.events, events.len() as u64);
    assert_eq!(stats.errors, errors.len() as u64);
    assert!(stats.events + stats.skipped + stats.errors >= stats.records);
    let chunk = 1 + data.first().map_or(0, |&b| usize::from(b % 16));
    let streamed = read_all(data, Some(chunk));
    assert_eq!(streamed, (events, errors, stats), "chunk size {chunk}");
});
