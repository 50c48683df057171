//! The capture file layout: preamble, block headers, table payloads.
//!
//! ```text
//! file     = preamble block*
//! preamble = "VIGILCAP" | format_version u32 | reserved u32            (16 bytes)
//! block    = header (32 bytes) | payload (len bytes) | zero pad to 8
//! header   = "VGBK" | kind u16 | flags u16 | len u32 | count u32
//!            | first u64 | payload_crc u32 | header_crc u32
//! ```
//! All integers little-endian; CRCs are CRC-32 (IEEE). `header_crc` covers the
//! header's first 28 bytes, so a reader can tell a real block header from
//! record bytes that happen to contain "VGBK" when it resynchronizes.
//!
//! Block kinds and payloads (`str` = u32 length + UTF-8, `bytes` = u32 length
//! + bytes):
//! - `INFO` (exactly one, first): protocol_version u32 | schema_version u32 |
//!   created FILETIME u64 | host str | volumes | accounts
//! - `RECORDS`: `count` records exactly as `vigil_protocol::encode` writes
//!   them, concatenated; `first` is the file-wide index of the first one
//!   (0-based), so numbering survives a lost block.
//! - `VOLUMES`: volumes (a drive mapped after the capture started).
//! - `ACCOUNTS`: accounts (names the live analyzer looked up as it went).
//! - `END` (last, written by `finish`): `first` = records in the file, empty
//!   payload. A capture without it was truncated or its writer never
//!   finished.
//!
//! `volumes = count u32 | (device str | dos str)*`,
//! `accounts = count u32 | (sid bytes | name str)*`.

use crate::enrich::volumes::Volume;

/// First 8 bytes of every capture.
pub const MAGIC: [u8; 8] = *b"VIGILCAP";
/// The capture format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Size of the preamble.
pub const PREAMBLE_SIZE: usize = 16;
/// First 4 bytes of every block header.
pub const BLOCK_MAGIC: [u8; 4] = *b"VGBK";
/// Size of a block header.
pub const BLOCK_HEADER_SIZE: usize = 32;
/// Largest payload a reader accepts; a larger `len` marks a corrupt header.
pub const MAX_PAYLOAD: u32 = 16 * 1024 * 1024;

/// What a block holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    /// Capture metadata.
    Info = 1,
    /// Event records.
    Records = 2,
    /// Additional volume mappings.
    Volumes = 3,
    /// Additional account names.
    Accounts = 4,
    /// End of capture.
    End = 5,
}

impl BlockKind {
    fn from_u16(v: u16) -> Option<Self> {
        Some(match v {
            1 => Self::Info,
            2 => Self::Records,
            3 => Self::Volumes,
            4 => Self::Accounts,
            5 => Self::End,
            _ => return None,
        })
    }
}

/// A parsed, checksum-verified block header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockHeader {
    /// Kind of payload.
    pub kind: BlockKind,
    /// Payload length in bytes.
    pub len: u32,
    /// Records (or table entries) in the payload.
    pub count: u32,
    /// File-wide index of the first record (records blocks), else 0.
    pub first: u64,
    /// CRC-32 of the payload.
    pub payload_crc: u32,
}

impl BlockHeader {
    /// The header's bytes.
    pub fn to_bytes(&self) -> [u8; BLOCK_HEADER_SIZE] {
        let mut b = [0u8; BLOCK_HEADER_SIZE];
        b[0..4].copy_from_slice(&BLOCK_MAGIC);
        b[4..6].copy_from_slice(&(self.kind as u16).to_le_bytes());
        b[8..12].copy_from_slice(&self.len.to_le_bytes());
        b[12..16].copy_from_slice(&self.count.to_le_bytes());
        b[16..24].copy_from_slice(&self.first.to_le_bytes());
        b[24..28].copy_from_slice(&self.payload_crc.to_le_bytes());
        let crc = crc32fast::hash(&b[..28]);
        b[28..32].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Parses and verifies a header; `None` if the bytes are not a valid one
    /// (wrong magic, checksum, kind, flags or an oversized payload).
    pub fn parse(b: &[u8]) -> Option<Self> {
        let b: &[u8; BLOCK_HEADER_SIZE] = b.get(..BLOCK_HEADER_SIZE)?.try_into().ok()?;
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        if b[0..4] != BLOCK_MAGIC || crc32fast::hash(&b[..28]) != u32_at(28) {
            return None;
        }
        let kind = BlockKind::from_u16(u16::from_le_bytes([b[4], b[5]]))?;
        let flags = u16::from_le_bytes([b[6], b[7]]);
        let len = u32_at(8);
        if flags != 0 || len > MAX_PAYLOAD {
            return None;
        }
        let mut first = [0u8; 8];
        first.copy_from_slice(&b[16..24]);
        Some(Self { kind, len, count: u32_at(12), first: u64::from_le_bytes(first), payload_crc: u32_at(24) })
    }
}

/// Bytes of zero padding after a payload of `len` bytes.
pub const fn pad_len(len: usize) -> usize {
    (8 - len % 8) % 8
}

/// Appends a length-prefixed byte string.
pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

/// Appends a volume table.
pub fn put_volumes<'a>(out: &mut Vec<u8>, volumes: impl ExactSizeIterator<Item = &'a Volume>) {
    out.extend_from_slice(&(volumes.len() as u32).to_le_bytes());
    for v in volumes {
        put_bytes(out, v.device.as_bytes());
        put_bytes(out, v.dos.as_bytes());
    }
}

/// Appends an account table.
pub fn put_accounts<'a>(out: &mut Vec<u8>, accounts: impl ExactSizeIterator<Item = (&'a [u8], &'a str)>) {
    out.extend_from_slice(&(accounts.len() as u32).to_le_bytes());
    for (sid, name) in accounts {
        put_bytes(out, sid);
        put_bytes(out, name.as_bytes());
    }
}

/// Reads table payloads; every read is bounds-checked and names what was
/// malformed.
#[derive(Debug)]
pub struct Parser<'a> {
    rest: &'a [u8],
}

impl<'a> Parser<'a> {
    /// A parser over `b`.
    pub fn new(b: &'a [u8]) -> Self {
        Self { rest: b }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], &'static str> {
        let (head, rest) = self.rest.split_at_checked(n).ok_or(what)?;
        self.rest = rest;
        Ok(head)
    }

    /// A u32.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, &'static str> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A u64.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, &'static str> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// A length-prefixed byte string.
    pub fn bytes(&mut self, what: &'static str) -> Result<&'a [u8], &'static str> {
        let n = self.u32(what)? as usize;
        self.take(n, what)
    }

    /// A length-prefixed UTF-8 string.
    pub fn str(&mut self, what: &'static str) -> Result<&'a str, &'static str> {
        std::str::from_utf8(self.bytes(what)?).map_err(|_| what)
    }

    /// A volume table.
    pub fn volumes(&mut self) -> Result<Vec<Volume>, &'static str> {
        let n = self.u32("volume count")?;
        let mut out = Vec::new();
        for _ in 0..n {
            let device = self.str("volume device name")?.to_owned();
            let dos = self.str("volume drive name")?.to_owned();
            out.push(Volume { device, dos });
        }
        Ok(out)
    }

    /// An account table.
    pub fn accounts(&mut self) -> Result<Vec<(Vec<u8>, String)>, &'static str> {
        let n = self.u32("account count")?;
        let mut out = Vec::new();
        for _ in 0..n {
            let sid = self.bytes("account SID")?.to_vec();
            let name = self.str("account name")?.to_owned();
            out.push((sid, name));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_rejects_damage() {
        let h = BlockHeader { kind: BlockKind::Records, len: 1000, count: 7, first: 1 << 40, payload_crc: 0xDEAD_BEEF };
        let b = h.to_bytes();
        assert_eq!(BlockHeader::parse(&b), Some(h));
        for i in 0..BLOCK_HEADER_SIZE {
            let mut d = b;
            d[i] ^= 0x01;
            assert_eq!(BlockHeader::parse(&d), None, "flipped bit in byte {i} accepted");
        }
        assert_eq!(BlockHeader::parse(&b[..31]), None);
        let big = BlockHeader { len: MAX_PAYLOAD + 1, ..h };
        assert_eq!(BlockHeader::parse(&big.to_bytes()), None);
    }

    #[test]
    fn tables_round_trip_and_truncation_is_an_error() {
        let vols = [Volume { device: r"\Device\HarddiskVolume3".into(), dos: "C:".into() }];
        let mut b = Vec::new();
        put_volumes(&mut b, vols.iter());
        put_accounts(&mut b, [(&[1u8, 0, 0, 0, 0, 0, 0, 5][..], r"NT AUTHORITY\SYSTEM")].into_iter());
        let mut p = Parser::new(&b);
        assert_eq!(p.volumes().unwrap(), vols);
        assert_eq!(p.accounts().unwrap()[0].1, r"NT AUTHORITY\SYSTEM");
        assert_eq!(p.remaining(), 0);
        for cut in 0..b.len() {
            let mut p = Parser::new(&b[..cut]);
            assert!(p.volumes().and_then(|_| p.accounts()).is_err(), "cut at {cut} accepted");
        }
    }
}
