//! Event sources read from files: Windows event JSON ([`json`]) and EVTX
//! ([`evtx`]). The format is detected from the content.

pub mod evtx;
mod framing;
pub mod json;
mod lexer;

use crate::event::Event;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// A record that could not be read: file, 1-based record number, 1-based
/// line (0 where lines do not apply, as in EVTX) and reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: record {record} (line {line}): {reason}", path.display())]
pub struct InputError {
    /// The file.
    pub path: PathBuf,
    /// 1-based record number in the file (0: the file as a whole).
    pub record: u64,
    /// 1-based line where the problem was found (0: not applicable).
    pub line: u64,
    /// What is wrong.
    pub reason: String,
}

impl InputError {
    pub(crate) fn new(path: &Path, record: u64, line: u64, reason: impl Into<String>) -> Self {
        InputError { path: path.to_owned(), record, line, reason: reason.into() }
    }
}

/// Counts from reading one input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Records seen.
    pub records: u64,
    /// Records turned into events (passed to the callback).
    pub events: u64,
    /// Well-formed records that are not events Vigil matches (other event
    /// ids or providers).
    pub skipped: u64,
    /// Malformed records (each also reported as an [`InputError`]).
    pub errors: u64,
}

impl std::ops::AddAssign for ReadStats {
    fn add_assign(&mut self, o: ReadStats) {
        self.records += o.records;
        self.events += o.events;
        self.skipped += o.skipped;
        self.errors += o.errors;
    }
}

/// An input format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Windows event JSON (any of the layouts [`json`] reads).
    Json,
    /// A Windows event log file.
    Evtx,
}

/// Detects the format from the first bytes (`ElfFile\0` is EVTX).
pub fn detect(head: &[u8]) -> Format {
    if head.starts_with(b"ElfFile\0") { Format::Evtx } else { Format::Json }
}

/// Reads a file of either format, streaming it (the whole file is never
/// held in memory). Each event goes to `on_event`, each bad record to
/// `on_error`; only an unreadable file is an `Err`.
pub fn read_path(
    path: &Path,
    on_event: &mut dyn FnMut(&Event),
    on_error: &mut dyn FnMut(InputError),
) -> Result<ReadStats, InputError> {
    let cannot = |e: std::io::Error| InputError::new(path, 0, 0, format!("cannot read: {e}"));
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    let mut head = [0u8; 8];
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(cannot(e)),
        }
    }
    file.seek(SeekFrom::Start(0)).map_err(cannot)?;
    match detect(&head[..n]) {
        Format::Json => json::JsonReader::new().read_stream(path, &mut file, on_event, on_error),
        Format::Evtx => evtx::read_evtx_file(path, file, on_event, on_error),
    }
}
