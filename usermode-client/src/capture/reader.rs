//! Reads captures, block by block, from any `Read`.

use super::format::{self, BlockHeader, BlockKind, Parser};
use super::{CaptureError, CaptureInfo};
use crate::enrich::volumes::Volume;
use std::io::Read;
use std::path::{Path, PathBuf};
use vigil_protocol::decode::{self, Records};

/// What reading a block yields, in file order.
#[derive(Debug)]
pub enum Item<'a> {
    /// A valid record.
    Record {
        /// 1-based record number in the file.
        number: u64,
        /// Byte offset of the record in the file.
        offset: u64,
        /// The decoded record (borrowed from the reader's buffer).
        record: decode::Event<'a>,
    },
    /// Volumes mapped from here on.
    Volumes(Vec<Volume>),
    /// Account names known from here on.
    Accounts(Vec<(Vec<u8>, String)>),
    /// A problem; reading goes on.
    Error(CaptureError),
}

/// Counters of one read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Bytes consumed from the file.
    pub bytes: u64,
    /// Blocks read (header included).
    pub blocks: u64,
    /// Records delivered.
    pub records: u64,
    /// Records that did not decode (each reported).
    pub bad_records: u64,
    /// Records lost to damaged or missing blocks (counted from the block
    /// numbering; bytes between blocks may hide more).
    pub skipped_records: u64,
    /// Errors reported.
    pub errors: u64,
}

/// Buffered input with look-ahead, tracking the file offset. The buffer is
/// allocated (and zeroed) once and grows only for a larger block.
#[derive(Debug)]
struct Source<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    pos: u64,
}

impl<R: Read> Source<R> {
    fn new(inner: R) -> Self {
        Self { inner, buf: Vec::new(), start: 0, end: 0, eof: false, pos: 0 }
    }

    /// Makes up to `n` bytes available (fewer only at the end of input).
    fn fill(&mut self, n: usize) -> std::io::Result<&[u8]> {
        if self.end - self.start < n && !self.eof {
            if self.start + n > self.buf.len() {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if n > self.buf.len() {
                // Room for several blocks, so compaction (a copy of the
                // unread tail) happens once every few blocks.
                self.buf.resize((4 * n).max(2 * self.buf.len()).max(64 * 1024), 0);
            }
            while self.end - self.start < n {
                match self.inner.read(&mut self.buf[self.end..]) {
                    Ok(0) => {
                        self.eof = true;
                        break;
                    }
                    Ok(got) => self.end += got,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(&self.buf[self.start..self.end.min(self.start.saturating_add(n))])
    }

    /// The bytes currently available.
    fn available(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.pos += n as u64;
    }
}

/// A capture being read.
#[derive(Debug)]
pub struct CaptureReader<R> {
    src: Source<R>,
    file: PathBuf,
    info: CaptureInfo,
    /// 0-based index of the next record expected.
    next: u64,
    stats: ReadStats,
    done: bool,
    ended: bool,
}

impl CaptureReader<std::fs::File> {
    /// Opens the capture at `path` and reads its header.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CaptureError> {
        let path = path.as_ref();
        let f = std::fs::File::open(path).map_err(|source| CaptureError::Io { file: path.into(), source })?;
        Self::new(f, path)
    }
}

impl<R: Read> CaptureReader<R> {
    /// Reads the preamble and header from `src`; `file` names it in errors.
    /// A file whose header cannot be trusted is refused whole.
    pub fn new(src: R, file: impl Into<PathBuf>) -> Result<Self, CaptureError> {
        let file = file.into();
        let mut src = Source::new(src);
        let io = |source| CaptureError::Io { file: file.clone(), source };
        let bad = |reason: &str| CaptureError::BadHeader { file: file.clone(), reason: reason.into() };
        let pre = src.fill(format::PREAMBLE_SIZE).map_err(io)?;
        if pre.get(..8) != Some(&format::MAGIC[..]) {
            return Err(CaptureError::NotACapture { file });
        }
        let version = pre.get(8..12).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        if pre.len() < format::PREAMBLE_SIZE {
            return Err(bad("file ends inside the preamble"));
        }
        if version != format::FORMAT_VERSION {
            return Err(CaptureError::UnsupportedFormat { file, found: version, supported: format::FORMAT_VERSION });
        }
        src.consume(format::PREAMBLE_SIZE);
        let head = src.fill(format::BLOCK_HEADER_SIZE).map_err(io)?;
        let h = BlockHeader::parse(head).filter(|h| h.kind == BlockKind::Info).ok_or_else(|| bad("no header block"))?;
        let total = format::BLOCK_HEADER_SIZE + h.len as usize;
        let data = src.fill(total + format::pad_len(h.len as usize)).map_err(io)?;
        let payload = data.get(format::BLOCK_HEADER_SIZE..total).ok_or_else(|| bad("file ends inside the header"))?;
        if crc32fast::hash(payload) != h.payload_crc {
            return Err(bad("header checksum mismatch"));
        }
        let info = parse_info(payload).map_err(|what| bad(&format!("malformed {what}")))?;
        let used = data.len();
        src.consume(used);
        let (p, s) = (vigil_protocol::PROTOCOL_VERSION, vigil_protocol::schema::SCHEMA_VERSION);
        if info.schema_version != s || info.protocol_version >> 16 != p >> 16 {
            return Err(CaptureError::Incompatible {
                file,
                protocol: info.protocol_version,
                schema: info.schema_version,
                our_protocol: p,
                our_schema: s,
            });
        }
        let stats = ReadStats { bytes: src.pos, blocks: 1, ..ReadStats::default() };
        Ok(Self { src, file, info, next: 0, stats, done: false, ended: false })
    }

    /// The header.
    pub fn info(&self) -> &CaptureInfo {
        &self.info
    }

    /// The file name used in errors.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Counters so far.
    pub fn stats(&self) -> ReadStats {
        self.stats
    }

    /// Reads every remaining block.
    pub fn for_each(&mut self, mut f: impl FnMut(Item<'_>)) -> ReadStats {
        while self.read_block(&mut f) {}
        self.stats
    }

    /// Reads the next block and passes its items to `f`; `false` once the
    /// input is exhausted.
    pub fn read_block(&mut self, f: &mut dyn FnMut(Item<'_>)) -> bool {
        if self.done {
            return false;
        }
        let at = self.src.pos;
        let more = self.read_block_inner(at, f);
        self.stats.bytes = self.src.pos;
        if !more {
            self.done = true;
        }
        more
    }

    fn report(&mut self, f: &mut dyn FnMut(Item<'_>), e: CaptureError) {
        self.stats.errors += 1;
        if let CaptureError::Skipped { first, last, .. } = &e {
            self.stats.skipped_records += last.saturating_sub(*first).saturating_add(1);
        }
        f(Item::Error(e));
    }

    fn block_error(&mut self, f: &mut dyn FnMut(Item<'_>), offset: u64, reason: String) {
        let file = self.file.clone();
        self.report(f, CaptureError::Block { file, offset, reason });
    }

    fn read_block_inner(&mut self, at: u64, f: &mut dyn FnMut(Item<'_>)) -> bool {
        let head = match self.src.fill(format::BLOCK_HEADER_SIZE) {
            Ok(h) => h,
            Err(source) => {
                let file = self.file.clone();
                self.report(f, CaptureError::Io { file, source });
                return false;
            }
        };
        if head.is_empty() {
            if !self.ended {
                let reason = "no end-of-capture block: the file is truncated or its writer did not finish".into();
                self.block_error(f, at, reason);
            }
            return false;
        }
        if head.len() < format::BLOCK_HEADER_SIZE {
            let n = head.len();
            self.src.consume(n);
            self.block_error(f, at, format!("file ends inside a block header ({n} bytes)"));
            return false;
        }
        let Some(h) = BlockHeader::parse(head) else {
            return self.resync(at, f);
        };
        let total = format::BLOCK_HEADER_SIZE + h.len as usize;
        let padded = total + format::pad_len(h.len as usize);
        let data_len = match self.src.fill(padded) {
            Ok(d) => d.len(),
            Err(source) => {
                let file = self.file.clone();
                self.report(f, CaptureError::Io { file, source });
                return false;
            }
        };
        self.stats.blocks += 1;
        let complete = data_len >= total;
        let payload_end = total.min(data_len);
        let crc_ok = complete && {
            let d = &self.src.available()[..payload_end];
            crc32fast::hash(&d[format::BLOCK_HEADER_SIZE..]) == h.payload_crc
        };
        match h.kind {
            BlockKind::Records => self.records_block(at, &h, payload_end, complete, crc_ok, f),
            BlockKind::Volumes | BlockKind::Accounts if crc_ok => {
                let d = &self.src.available()[format::BLOCK_HEADER_SIZE..payload_end];
                let mut p = Parser::new(d);
                let item = if h.kind == BlockKind::Volumes {
                    p.volumes().map(Item::Volumes)
                } else {
                    p.accounts().map(Item::Accounts)
                };
                match item {
                    Ok(item) => f(item),
                    Err(what) => self.block_error(f, at, format!("malformed {what}; table ignored")),
                }
            }
            BlockKind::Volumes | BlockKind::Accounts => {
                self.block_error(f, at, "damaged or truncated table block; table ignored".into())
            }
            BlockKind::Info => self.block_error(f, at, "second header block ignored".into()),
            BlockKind::End => {
                self.ended = true;
                if h.first > self.next {
                    let file = self.file.clone();
                    let reason = "records missing before the end of the capture".into();
                    let e = CaptureError::Skipped { file, offset: at, reason, first: self.next + 1, last: h.first };
                    self.report(f, e);
                }
            }
        }
        self.src.consume(data_len);
        complete
    }

    fn records_block(
        &mut self,
        at: u64,
        h: &BlockHeader,
        payload_end: usize,
        complete: bool,
        crc_ok: bool,
        f: &mut dyn FnMut(Item<'_>),
    ) {
        let file = self.file.clone();
        let end = h.first.saturating_add(u64::from(h.count));
        if h.first > self.next {
            let e = CaptureError::Skipped {
                file: file.clone(),
                offset: at,
                reason: "records missing before this block".into(),
                first: self.next + 1,
                last: h.first,
            };
            self.report(f, e);
        }
        if complete && !crc_ok {
            let reason = format!(
                "records block checksum mismatch (records {}..={} checked one by one)",
                h.first.saturating_add(1),
                end
            );
            self.block_error(f, at, reason);
        }
        let payload_at = at + format::BLOCK_HEADER_SIZE as u64;

        let mut seen = 0u64;
        let mut errors = Vec::new();
        {
            let payload = &self.src.available()[format::BLOCK_HEADER_SIZE..payload_end];
            for (off, r) in Records::new(payload) {
                let number = h.first.saturating_add(seen).saturating_add(1);
                seen += 1;
                match r {
                    Ok(record) => {
                        self.stats.records += 1;
                        f(Item::Record { number, offset: payload_at + off as u64, record });
                    }
                    Err(source) => {
                        self.stats.bad_records += 1;
                        errors.push(CaptureError::Record {
                            file: file.clone(),
                            record: number,
                            offset: payload_at + off as u64,
                            source,
                        });
                    }
                }
            }
        }
        // Errors are reported after the block's records: the records borrow
        // the buffer, and a caller counting errors loses nothing by the order.
        for e in errors {
            self.report(f, e);
        }
        let reached = h.first.saturating_add(seen);
        if reached < end {
            let reason = if complete {
                format!("record {reached} has an unusable size; the rest of its block cannot be delimited")
            } else {
                "file ends inside a records block (truncated)".to_owned()
            };
            let e = CaptureError::Skipped { file, offset: at, reason, first: reached + 1, last: end };
            self.report(f, e);
        } else if reached > end {
            self.block_error(f, at, format!("block holds {seen} records, its header says {}", h.count));
        }
        self.next = self.next.max(reached.max(end));
    }

    /// After an invalid block header at `at`: scans for the next valid one.
    fn resync(&mut self, at: u64, f: &mut dyn FnMut(Item<'_>)) -> bool {
        const WINDOW: usize = 64 * 1024;
        self.src.consume(1);
        loop {
            let data = match self.src.fill(WINDOW + format::BLOCK_HEADER_SIZE) {
                Ok(d) => d,
                Err(source) => {
                    let file = self.file.clone();
                    self.report(f, CaptureError::Io { file, source });
                    return false;
                }
            };
            let n = data.len();
            let found = data
                .windows(format::BLOCK_HEADER_SIZE)
                .position(|w| w.starts_with(&format::BLOCK_MAGIC) && BlockHeader::parse(w).is_some());
            match found {
                Some(p) => {
                    self.src.consume(p);
                    let skipped = self.src.pos - at;
                    let reason = format!("invalid block header; skipped {skipped} bytes to the next block");
                    self.block_error(f, at, reason);
                    return true;
                }
                None if n < WINDOW + format::BLOCK_HEADER_SIZE => {
                    self.src.consume(n);
                    let reason = format!("invalid block header; no valid block in the remaining {} bytes", n + 1);
                    self.block_error(f, at, reason);
                    return false;
                }
                None => self.src.consume(n - (format::BLOCK_HEADER_SIZE - 1)),
            }
        }
    }
}

fn parse_info(payload: &[u8]) -> Result<CaptureInfo, &'static str> {
    let mut p = Parser::new(payload);
    Ok(CaptureInfo {
        protocol_version: p.u32("protocol version")?,
        schema_version: p.u32("schema version")?,
        created: p.u64("creation time")?,
        host: p.str("host name")?.to_owned(),
        volumes: p.volumes()?,
        accounts: p.accounts()?,
    })
}
