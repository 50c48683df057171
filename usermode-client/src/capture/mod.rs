//! Capture files: the raw record stream of a live run, for replay.
//!
//! A capture is a small versioned header (format version, the protocol and
//! record-schema versions it was written with, host name, creation time,
//! volume and account tables) followed by the records exactly as the driver
//! encoded them, in checksummed blocks (layout: [`format`]).
//!
//! The reader treats the file as untrusted input: every problem is a
//! [`CaptureError`] naming the file and the record number (1-based: record 1
//! is the first in the file) or byte offset; it is reported, counted, and
//! reading goes on at the next record or block it can trust. Nothing already
//! read is dropped and nothing panics (fuzz target `capture_reader`).

pub mod format;
mod reader;
mod writer;

pub use reader::{CaptureReader, Item, ReadStats};
pub use writer::CaptureWriter;

use crate::enrich::volumes::Volume;
use std::path::PathBuf;
use vigil_protocol::decode::DecodeError;

/// What the capture header says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaptureInfo {
    /// `vigil_protocol::PROTOCOL_VERSION` of the writer.
    pub protocol_version: u32,
    /// `vigil_protocol::schema::SCHEMA_VERSION` of the records.
    pub schema_version: u32,
    /// When the capture was started (FILETIME).
    pub created: u64,
    /// Host the records come from.
    pub host: String,
    /// Its device → drive table.
    pub volumes: Vec<Volume>,
    /// SID → account names known when the capture started.
    pub accounts: Vec<(Vec<u8>, String)>,
}

impl CaptureInfo {
    /// A header for records of this build's protocol and schema.
    pub fn new(host: impl Into<String>, created: u64) -> Self {
        Self {
            protocol_version: vigil_protocol::PROTOCOL_VERSION,
            schema_version: vigil_protocol::schema::SCHEMA_VERSION,
            created,
            host: host.into(),
            volumes: Vec::new(),
            accounts: Vec::new(),
        }
    }
}

/// A capture problem. Each names the file; record problems name the record.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// Reading or writing failed.
    #[error("{file}: {source}")]
    Io {
        /// The capture.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file does not start with the capture magic.
    #[error("{file}: not a Vigil capture (no VIGILCAP magic)")]
    NotACapture {
        /// The file.
        file: PathBuf,
    },
    /// The capture format version is not one this build reads.
    #[error("{file}: capture format version {found} is not supported (this build reads {supported})")]
    UnsupportedFormat {
        /// The file.
        file: PathBuf,
        /// Version found.
        found: u32,
        /// Version supported.
        supported: u32,
    },
    /// The records use another schema or protocol major version.
    #[error(
        "{file}: records written with protocol {protocol:#x} / schema {schema}; this build reads protocol {our_protocol:#x} / schema {our_schema}"
    )]
    Incompatible {
        /// The file.
        file: PathBuf,
        /// Protocol version in the capture.
        protocol: u32,
        /// Schema version in the capture.
        schema: u32,
        /// This build's protocol version.
        our_protocol: u32,
        /// This build's schema version.
        our_schema: u32,
    },
    /// The header block is missing or malformed.
    #[error("{file}: bad capture header: {reason}")]
    BadHeader {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// One record could not be decoded; the records around it are fine.
    #[error("{file}: record {record} (byte {offset}): {source}")]
    Record {
        /// The file.
        file: PathBuf,
        /// 1-based record number in the file.
        record: u64,
        /// Byte offset of the record in the file.
        offset: u64,
        /// Why it is invalid.
        source: DecodeError,
    },
    /// Records were skipped: a block is damaged or missing.
    #[error("{file}: byte {offset}: {reason}; records {first}..={last} skipped")]
    Skipped {
        /// The file.
        file: PathBuf,
        /// Where the damage was found.
        offset: u64,
        /// What is wrong.
        reason: String,
        /// First record number skipped (1-based).
        first: u64,
        /// Last record number skipped (1-based).
        last: u64,
    },
    /// A block is damaged in a way that loses no record by itself (a bad
    /// checksum: its records were still decoded and checked one by one; an
    /// unreadable table block; bytes between blocks).
    #[error("{file}: byte {offset}: {reason}")]
    Block {
        /// The file.
        file: PathBuf,
        /// Offset of the block.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A record could not be written.
    #[error("{file}: cannot write record: {reason}")]
    Write {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
}

#[cfg(test)]
mod tests;
