//! EVTX files through the `evtx` crate: each record is rendered as
//! `evtx_dump`-style JSON and read by the [`super::json`] reader.
//!
//! The `evtx` crate may panic on malformed input. As a last resort the
//! reader contains such a panic with `catch_unwind` around each call into
//! the crate: it is reported as an error for the record being read (the
//! panic message also goes to stderr through the panic hook), and the rest
//! of the file is skipped, since the parser's state after a panic is
//! unknown. Panics in Vigil's own code are not caught.

use super::json::JsonReader;
use super::{InputError, ReadStats};
use crate::event::Event;
use evtx::EvtxParser;
use std::io::{Read, Seek};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// Reads an EVTX file already in memory.
pub fn read_evtx(
    path: &Path,
    data: Vec<u8>,
    on_event: &mut dyn FnMut(&Event),
    on_error: &mut dyn FnMut(InputError),
) -> Result<ReadStats, InputError> {
    read_from(path, std::io::Cursor::new(data), on_event, on_error)
}

/// Reads an EVTX file chunk by chunk (64 KiB at a time, as the format stores them).
pub fn read_evtx_file(
    path: &Path,
    file: std::fs::File,
    on_event: &mut dyn FnMut(&Event),
    on_error: &mut dyn FnMut(InputError),
) -> Result<ReadStats, InputError> {
    read_from(path, file, on_event, on_error)
}

fn read_from<T: Read + Seek>(
    path: &Path,
    src: T,
    on_event: &mut dyn FnMut(&Event),
    on_error: &mut dyn FnMut(InputError),
) -> Result<ReadStats, InputError> {
    let opened = catch_unwind(AssertUnwindSafe(|| EvtxParser::from_read_seek(src)));
    let mut parser = match opened {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => return Err(InputError::new(path, 0, 0, format!("not a readable EVTX file: {e}"))),
        Err(_) => return Err(InputError::new(path, 0, 0, "not a readable EVTX file: the EVTX parser panicked")),
    };
    let mut reader = JsonReader::new();
    let mut stats = ReadStats::default();
    let mut records = parser.records_json();
    for n in 1u64.. {
        let rec = match catch_unwind(AssertUnwindSafe(|| records.next())) {
            Ok(Some(rec)) => rec,
            Ok(None) => break,
            Err(_) => {
                stats.records += 1;
                stats.errors += 1;
                on_error(InputError::new(path, n, 0, "EVTX parser panicked; rest of the file skipped"));
                break;
            }
        };
        match rec {
            Ok(r) => {
                let mut one = reader.read(path, r.data.as_bytes(), on_event, &mut |mut e: InputError| {
                    e.record = n;
                    e.line = 0;
                    on_error(e);
                });
                // The inner reader numbered its single record 1.
                one.records = 1;
                stats += one;
            }
            Err(e) => {
                stats.records += 1;
                stats.errors += 1;
                on_error(InputError::new(path, n, 0, format!("EVTX record: {e}")));
            }
        }
    }
    Ok(stats)
}
