//! Writes captures.

use super::format::{self, BlockHeader, BlockKind};
use super::{CaptureError, CaptureInfo};
use crate::enrich::volumes::Volume;
use std::io::Write;
use std::path::{Path, PathBuf};
use vigil_protocol::decode::split_header;
use vigil_protocol::encode::{Encode, encode_to_vec};
use vigil_protocol::schema::MAX_RECORD_SIZE;

/// Writes a capture: the header at creation, then records in blocks of about
/// `block_size` bytes. Call [`CaptureWriter::finish`] to write the last
/// block; a writer dropped without it loses only its unwritten block, and
/// the file stays readable.
#[derive(Debug)]
pub struct CaptureWriter<W: Write> {
    out: W,
    file: PathBuf,
    block: Vec<u8>,
    count: u32,
    first: u64,
    block_size: usize,
}

/// Default block size: big enough to amortize headers, small enough that a
/// damaged block loses little.
pub const DEFAULT_BLOCK_SIZE: usize = 256 * 1024;

impl CaptureWriter<std::io::BufWriter<std::fs::File>> {
    /// Creates (or truncates) the capture at `path`.
    pub fn create(path: impl AsRef<Path>, info: &CaptureInfo) -> Result<Self, CaptureError> {
        let path = path.as_ref();
        let f = std::fs::File::create(path).map_err(|source| CaptureError::Io { file: path.into(), source })?;
        Self::new(std::io::BufWriter::new(f), path, info)
    }
}

impl<W: Write> CaptureWriter<W> {
    /// Writes the preamble and header to `out`; `file` names it in errors.
    pub fn new(out: W, file: impl Into<PathBuf>, info: &CaptureInfo) -> Result<Self, CaptureError> {
        let mut w = Self {
            out,
            file: file.into(),
            block: Vec::with_capacity(DEFAULT_BLOCK_SIZE + MAX_RECORD_SIZE),
            count: 0,
            first: 0,
            block_size: DEFAULT_BLOCK_SIZE,
        };
        let mut preamble = Vec::with_capacity(format::PREAMBLE_SIZE);
        preamble.extend_from_slice(&format::MAGIC);
        preamble.extend_from_slice(&format::FORMAT_VERSION.to_le_bytes());
        preamble.extend_from_slice(&0u32.to_le_bytes());
        w.io(|o| o.write_all(&preamble))?;
        let mut p = Vec::new();
        p.extend_from_slice(&info.protocol_version.to_le_bytes());
        p.extend_from_slice(&info.schema_version.to_le_bytes());
        p.extend_from_slice(&info.created.to_le_bytes());
        format::put_bytes(&mut p, info.host.as_bytes());
        format::put_volumes(&mut p, info.volumes.iter());
        format::put_accounts(&mut p, info.accounts.iter().map(|(s, n)| (s.as_slice(), n.as_str())));
        w.write_block(BlockKind::Info, &p, 0, 0)?;
        Ok(w)
    }

    /// Sets the size at which a records block is written (tests use small
    /// blocks; at least one record always goes in a block).
    pub fn set_block_size(&mut self, bytes: usize) {
        self.block_size = bytes.max(1);
    }

    /// Records accepted so far.
    pub fn records(&self) -> u64 {
        self.first + u64::from(self.count)
    }

    fn io(&mut self, f: impl FnOnce(&mut W) -> std::io::Result<()>) -> Result<(), CaptureError> {
        f(&mut self.out).map_err(|source| CaptureError::Io { file: self.file.clone(), source })
    }

    fn write_block(&mut self, kind: BlockKind, payload: &[u8], count: u32, first: u64) -> Result<(), CaptureError> {
        let len = u32::try_from(payload.len())
            .ok()
            .filter(|&l| l <= format::MAX_PAYLOAD)
            .ok_or_else(|| CaptureError::Write { file: self.file.clone(), reason: "block too large".into() })?;
        let header = BlockHeader { kind, len, count, first, payload_crc: crc32fast::hash(payload) };
        let pad = [0u8; 8];
        let pad = &pad[..format::pad_len(payload.len())];
        self.io(|o| {
            o.write_all(&header.to_bytes())?;
            o.write_all(payload)?;
            o.write_all(pad)
        })
    }

    /// Writes the pending records block, if any.
    pub fn flush_block(&mut self) -> Result<(), CaptureError> {
        if self.count == 0 {
            return Ok(());
        }
        let block = std::mem::take(&mut self.block);
        let r = self.write_block(BlockKind::Records, &block, self.count, self.first);
        self.block = block;
        self.block.clear();
        self.first += u64::from(self.count);
        self.count = 0;
        r
    }

    fn after_push(&mut self) -> Result<(), CaptureError> {
        self.count += 1;
        if self.block.len() >= self.block_size || self.count == u32::MAX {
            self.flush_block()?;
        }
        Ok(())
    }

    /// Appends one record as the ring delivered it (exactly one record:
    /// `bytes.len()` must equal its size field).
    pub fn push_bytes(&mut self, bytes: &[u8]) -> Result<(), CaptureError> {
        let bad = |reason: String| CaptureError::Write { file: self.file.clone(), reason };
        let (header, _) = split_header(bytes).map_err(|e| bad(e.to_string()))?;
        if header.size as usize != bytes.len() {
            return Err(bad(format!("{} bytes given for a record of {}", bytes.len(), header.size)));
        }
        self.block.extend_from_slice(bytes);
        self.after_push()
    }

    /// Encodes and appends `record` with sequence number `seq`.
    pub fn push<R: Encode + ?Sized>(&mut self, record: &R, seq: u64) -> Result<(), CaptureError> {
        encode_to_vec(record, seq, MAX_RECORD_SIZE, &mut self.block)
            .map_err(|e| CaptureError::Write { file: self.file.clone(), reason: e.to_string() })?;
        self.after_push()
    }

    /// Records volumes mapped after the capture started. Pending records are
    /// written first, so the mapping applies from here on.
    pub fn add_volumes(&mut self, volumes: &[Volume]) -> Result<(), CaptureError> {
        self.flush_block()?;
        let mut p = Vec::new();
        format::put_volumes(&mut p, volumes.iter());
        self.write_block(BlockKind::Volumes, &p, volumes.len() as u32, 0)
    }

    /// Records account names learnt while capturing.
    pub fn add_accounts(&mut self, accounts: &[(Vec<u8>, String)]) -> Result<(), CaptureError> {
        self.flush_block()?;
        let mut p = Vec::new();
        format::put_accounts(&mut p, accounts.iter().map(|(s, n)| (s.as_slice(), n.as_str())));
        self.write_block(BlockKind::Accounts, &p, accounts.len() as u32, 0)
    }

    /// Writes the last block and the end marker, flushes, and returns the
    /// output.
    pub fn finish(mut self) -> Result<W, CaptureError> {
        self.flush_block()?;
        let total = self.first;
        self.write_block(BlockKind::End, &[], 0, total)?;
        self.io(|o| o.flush())?;
        Ok(self.out)
    }
}
