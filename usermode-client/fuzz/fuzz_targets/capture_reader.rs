//! Arbitrary bytes as a capture file: the reader must never panic, must
//! account for every record it reports, and must make progress (every call
//! to `read_block` consumes input or ends).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil::capture::{CaptureReader, Item};
use vigil::event::{Category, Event};
use vigil::mapping::Mapper;

fuzz_target!(|data: &[u8]| {
    // Raw input, and the same bytes behind a valid preamble and header so the
    // fuzzer reaches the block and record parsers quickly.
    read(data);
    static HEADER: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let mut framed = HEADER.get_or_init(valid_header).clone();
    framed.extend_from_slice(data);
    read(&framed);
});

fn valid_header() -> Vec<u8> {
    let info = vigil::capture::CaptureInfo::new("fuzz", 0);
    let w = vigil::capture::CaptureWriter::new(Vec::new(), "fuzz", &info).expect("in-memory write");
    let mut bytes = w.finish().expect("in-memory write");
    // Drop the end marker (32-byte header, empty payload).
    bytes.truncate(bytes.len() - 32);
    bytes
}

fn read(data: &[u8]) {
    let Ok(mut reader) = CaptureReader::new(data, "fuzz.vcap") else { return };
    let mut mapper = Mapper::default();
    mapper.pe = None;
    let mut event = Event::new(Category::ProcessCreation);
    let mut last = reader.stats().bytes;
    let mut records = 0u64;
    while reader.read_block(&mut |item| {
        if let Item::Record { record, .. } = item {
            records += 1;
            let _ = mapper.map(&record, &mut event);
        }
    }) {
        let now = reader.stats().bytes;
        assert!(now > last, "read_block made no progress");
        last = now;
    }
    assert!(reader.stats().bytes <= data.len() as u64);
    assert_eq!(reader.stats().records, records);
}
