//! EVTX files through the `evtx` crate: each record is rendered as
//! `evtx_dump`-style JSON and read by the [`super::json`] reader.

use super::json::JsonReader;
use super::{InputError, ReadStats};
use crate::event::Event;
use evtx::EvtxParser;
use std::io::{Read, Seek};
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
    let mut parser = EvtxParser::from_read_seek(src)
        .map_err(|e| InputError::new(path, 0, 0, format!("not a readable EVTX file: {e}")))?;
    let mut reader = JsonReader::new();
    let mut stats = ReadStats::default();
    for (i, rec) in parser.records_json().enumerate() {
        let n = i as u64 + 1;
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
