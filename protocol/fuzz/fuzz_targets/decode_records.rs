//! Arbitrary bytes as a record stream: decoding must never panic or read out
//! of bounds, and every view it returns must be internally consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_protocol::decode::{decode, Event, Records};

fn touch(ev: &Event<'_>, input_len: usize) {
    let h = ev.header();
    assert_eq!(ev.bytes().len(), h.size as usize);
    assert!(ev.bytes().len() <= input_len);
    let mut n = 0usize;
    let mut text = |t: Option<vigil_protocol::decode::Utf16Str<'_>>| {
        if let Some(t) = t {
            n += t.chars().count();
            let _ = t.to_string_lossy();
        }
    };
    match ev {
        Event::ProcessStart(v) => {
            text(v.text(v.body.image_path));
            text(v.text(v.body.command_line));
            text(v.text(v.body.current_directory));
            let _ = v.var(v.body.user_sid);
        }
        Event::ImageLoad(v) => text(v.text(v.body.image_path)),
        Event::FileCreate(v) => text(v.text(v.body.path)),
        Event::FileWrite(v) => text(v.text(v.body.path)),
        Event::FileRename(v) => {
            text(v.text(v.body.source));
            text(v.text(v.body.target));
        }
        Event::FileLink(v) => {
            text(v.text(v.body.source));
            text(v.text(v.body.target));
        }
        Event::FileDelete(v) => text(v.text(v.body.path)),
        Event::FileSetInfo(v) => text(v.text(v.body.path)),
        Event::ProcessExit(_) | Event::Lost(_) | Event::Heartbeat(_) => {}
    }
    assert!(n <= input_len);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(ev) = decode(data) {
        touch(&ev, data.len());
    }
    let mut last = 0;
    for (offset, item) in Records::new(data) {
        assert!(offset >= last && offset <= data.len());
        last = offset;
        if let Ok(ev) = item {
            touch(&ev, data.len() - offset);
        }
    }
});
