//! Typed views over records read from untrusted bytes (the ring, a capture
//! file, a fuzzer).
//!
//! [`decode`] checks the header and every variable-field reference before it
//! returns a view, so accessors cannot fail afterwards. Fixed parts (at most
//! 112 bytes) are copied out with unaligned reads, so input needs no
//! alignment; variable data is borrowed, never copied. No input can make
//! these functions panic or read out of bounds: the fuzz target
//! `decode_records` holds them to that.

use crate::pod::{read, read_at};
use crate::schema::{
    Body, FileCreate, FileDelete, FileLink, FileRename, FileSetInfo, FileWrite, HEADER_SIZE, Heartbeat, ImageLoad,
    Kind, Lost, MAX_RECORD_SIZE, ProcessExit, ProcessStart, RECORD_ALIGN, RecordFlags, RecordHeader, VarKind, VarRef,
};

/// Why bytes are not a valid record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer bytes than a record header.
    Truncated {
        /// Bytes available.
        available: usize,
    },
    /// `size` is below the header size, not a multiple of 8, or above
    /// [`MAX_RECORD_SIZE`].
    BadSize {
        /// The declared size.
        size: u32,
    },
    /// `size` is larger than the bytes available.
    SizeBeyondInput {
        /// The declared size.
        size: u32,
        /// Bytes available.
        available: usize,
    },
    /// The kind is not one this schema version defines.
    UnknownKind {
        /// The kind value.
        kind: u16,
    },
    /// A ring padding record where an event was expected.
    Pad,
    /// Flag bits this schema version does not define.
    UnknownFlags {
        /// The flags value.
        flags: u16,
    },
    /// The record is too short for its kind's fixed body.
    BodyTruncated {
        /// The record's kind.
        kind: Kind,
        /// The declared size.
        size: u32,
    },
    /// A variable-field reference points outside the record's data area, is
    /// misaligned, or is absent with a non-zero length.
    BadVarRef {
        /// The record's kind.
        kind: Kind,
        /// Index of the field in the body's variable fields.
        field: usize,
        /// The reference as read.
        var: VarRef,
    },
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DecodeError::Truncated { available } => {
                write!(f, "truncated record: {available} bytes, header needs {HEADER_SIZE}")
            }
            DecodeError::BadSize { size } => write!(f, "invalid record size {size}"),
            DecodeError::SizeBeyondInput { size, available } => {
                write!(f, "record size {size} exceeds the {available} bytes available")
            }
            DecodeError::UnknownKind { kind } => write!(f, "unknown record kind {kind}"),
            DecodeError::Pad => f.write_str("ring padding where a record was expected"),
            DecodeError::UnknownFlags { flags } => write!(f, "unknown record flags {flags:#06x}"),
            DecodeError::BodyTruncated { kind, size } => {
                write!(f, "{} record of {size} bytes is shorter than its fixed body", kind.name())
            }
            DecodeError::BadVarRef { kind, field, var } => write!(
                f,
                "{} record: variable field {field} has invalid reference (offset {}, len {})",
                kind.name(),
                var.offset,
                var.len
            ),
        }
    }
}

impl core::error::Error for DecodeError {}

/// A UTF-16LE string borrowed from a record.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Utf16Str<'a> {
    bytes: &'a [u8],
}

impl<'a> Utf16Str<'a> {
    /// A view over little-endian UTF-16 bytes; a trailing odd byte is ignored.
    pub fn from_le_bytes(bytes: &'a [u8]) -> Self {
        let even = bytes.len() & !1;
        Self { bytes: bytes.get(..even).unwrap_or(&[]) }
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Number of UTF-16 code units.
    pub fn len_units(&self) -> usize {
        self.bytes.len() / 2
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The code units.
    pub fn units(&self) -> impl Iterator<Item = u16> + 'a {
        self.bytes.chunks_exact(2).map(|c| match *c {
            [lo, hi] => u16::from_le_bytes([lo, hi]),
            _ => 0,
        })
    }

    /// The characters, with U+FFFD for unpaired surrogates.
    pub fn chars(&self) -> impl Iterator<Item = char> + 'a {
        char::decode_utf16(self.units()).map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
    }

    /// Appends the string to `out`, lossily.
    #[cfg(feature = "alloc")]
    pub fn push_to(&self, out: &mut alloc::string::String) {
        out.reserve(self.len_units());
        out.extend(self.chars());
    }

    /// The string, lossily converted.
    #[cfg(feature = "alloc")]
    pub fn to_string_lossy(&self) -> alloc::string::String {
        let mut s = alloc::string::String::new();
        self.push_to(&mut s);
        s
    }
}

impl core::fmt::Display for Utf16Str<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use core::fmt::Write;
        self.chars().try_for_each(|c| f.write_char(c))
    }
}

impl core::fmt::Debug for Utf16Str<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("\"")?;
        core::fmt::Display::fmt(self, f)?;
        f.write_str("\"")
    }
}

/// A validated record of body type `T`.
#[derive(Clone, Copy, Debug)]
pub struct View<'a, T: Body> {
    /// The header.
    pub header: RecordHeader,
    /// The fixed body (its `VarRef`s are validated).
    pub body: T,
    bytes: &'a [u8],
}

impl<'a, T: Body> View<'a, T> {
    /// The whole record, `header.size` bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The bytes a reference points at; `None` if it is absent.
    pub fn var(&self, r: VarRef) -> Option<&'a [u8]> {
        if r.is_absent() {
            return None;
        }
        let start = r.offset as usize;
        self.bytes.get(start..start.checked_add(r.len as usize)?)
    }

    /// The string a reference points at; `None` if it is absent.
    pub fn text(&self, r: VarRef) -> Option<Utf16Str<'a>> {
        self.var(r).map(Utf16Str::from_le_bytes)
    }

    /// Whether the producer cut variable data to fit.
    pub fn truncated(&self) -> bool {
        RecordFlags(self.header.flags).has(RecordFlags::TRUNCATED)
    }
}

/// One decoded record.
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs, reason = "each variant is named after its body type")]
pub enum Event<'a> {
    ProcessStart(View<'a, ProcessStart>),
    ProcessExit(View<'a, ProcessExit>),
    ImageLoad(View<'a, ImageLoad>),
    FileCreate(View<'a, FileCreate>),
    FileWrite(View<'a, FileWrite>),
    FileRename(View<'a, FileRename>),
    FileLink(View<'a, FileLink>),
    FileDelete(View<'a, FileDelete>),
    FileSetInfo(View<'a, FileSetInfo>),
    Lost(View<'a, Lost>),
    Heartbeat(View<'a, Heartbeat>),
}

impl<'a> Event<'a> {
    /// The header of the record.
    pub fn header(&self) -> &RecordHeader {
        match self {
            Event::ProcessStart(v) => &v.header,
            Event::ProcessExit(v) => &v.header,
            Event::ImageLoad(v) => &v.header,
            Event::FileCreate(v) => &v.header,
            Event::FileWrite(v) => &v.header,
            Event::FileRename(v) => &v.header,
            Event::FileLink(v) => &v.header,
            Event::FileDelete(v) => &v.header,
            Event::FileSetInfo(v) => &v.header,
            Event::Lost(v) => &v.header,
            Event::Heartbeat(v) => &v.header,
        }
    }

    /// The record's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Event::ProcessStart(_) => Kind::ProcessStart,
            Event::ProcessExit(_) => Kind::ProcessExit,
            Event::ImageLoad(_) => Kind::ImageLoad,
            Event::FileCreate(_) => Kind::FileCreate,
            Event::FileWrite(_) => Kind::FileWrite,
            Event::FileRename(_) => Kind::FileRename,
            Event::FileLink(_) => Kind::FileLink,
            Event::FileDelete(_) => Kind::FileDelete,
            Event::FileSetInfo(_) => Kind::FileSetInfo,
            Event::Lost(_) => Kind::Lost,
            Event::Heartbeat(_) => Kind::Heartbeat,
        }
    }

    /// The whole record.
    pub fn bytes(&self) -> &'a [u8] {
        match self {
            Event::ProcessStart(v) => v.bytes(),
            Event::ProcessExit(v) => v.bytes(),
            Event::ImageLoad(v) => v.bytes(),
            Event::FileCreate(v) => v.bytes(),
            Event::FileWrite(v) => v.bytes(),
            Event::FileRename(v) => v.bytes(),
            Event::FileLink(v) => v.bytes(),
            Event::FileDelete(v) => v.bytes(),
            Event::FileSetInfo(v) => v.bytes(),
            Event::Lost(v) => v.bytes(),
            Event::Heartbeat(v) => v.bytes(),
        }
    }
}

/// Checks the header of the record at the start of `bytes` and returns it
/// with the record's bytes (exactly `header.size` of them).
pub fn split_header(bytes: &[u8]) -> Result<(RecordHeader, &[u8]), DecodeError> {
    let header: RecordHeader = read(bytes).ok_or(DecodeError::Truncated { available: bytes.len() })?;
    let size = header.size as usize;
    if size < HEADER_SIZE || !size.is_multiple_of(RECORD_ALIGN) || size > MAX_RECORD_SIZE {
        return Err(DecodeError::BadSize { size: header.size });
    }
    let record = bytes.get(..size).ok_or(DecodeError::SizeBeyondInput { size: header.size, available: bytes.len() })?;
    Ok((header, record))
}

fn view<'a, T: Body>(header: RecordHeader, record: &'a [u8]) -> Result<View<'a, T>, DecodeError> {
    let body: T =
        read_at(record, HEADER_SIZE).ok_or(DecodeError::BodyTruncated { kind: T::KIND, size: header.size })?;
    let data_start = HEADER_SIZE + core::mem::size_of::<T>();
    for (field, (off, kind)) in T::VARS.iter().enumerate() {
        let var: VarRef = read_at(record, HEADER_SIZE + off).unwrap_or(VarRef::ABSENT);
        let bad = DecodeError::BadVarRef { kind: T::KIND, field, var };
        if var.is_absent() {
            if var.len != 0 {
                return Err(bad);
            }
            continue;
        }
        let start = var.offset as usize;
        let end = start.checked_add(var.len as usize).ok_or(bad)?;
        let misaligned = *kind == VarKind::Utf16 && (!start.is_multiple_of(2) || !var.len.is_multiple_of(2));
        if start < data_start || end > record.len() || misaligned {
            return Err(bad);
        }
    }
    Ok(View { header, body, bytes: record })
}

/// Decodes the record at the start of `bytes` (which may hold more records
/// after it: the record is `event.header().size` bytes long).
pub fn decode(bytes: &[u8]) -> Result<Event<'_>, DecodeError> {
    let (header, record) = split_header(bytes)?;
    if header.flags & !RecordFlags::KNOWN != 0 {
        return Err(DecodeError::UnknownFlags { flags: header.flags });
    }
    let kind = Kind::from_u16(header.kind).ok_or(DecodeError::UnknownKind { kind: header.kind })?;
    Ok(match kind {
        Kind::Pad => return Err(DecodeError::Pad),
        Kind::ProcessStart => Event::ProcessStart(view(header, record)?),
        Kind::ProcessExit => Event::ProcessExit(view(header, record)?),
        Kind::ImageLoad => Event::ImageLoad(view(header, record)?),
        Kind::FileCreate => Event::FileCreate(view(header, record)?),
        Kind::FileWrite => Event::FileWrite(view(header, record)?),
        Kind::FileRename => Event::FileRename(view(header, record)?),
        Kind::FileLink => Event::FileLink(view(header, record)?),
        Kind::FileDelete => Event::FileDelete(view(header, record)?),
        Kind::FileSetInfo => Event::FileSetInfo(view(header, record)?),
        Kind::Lost => Event::Lost(view(header, record)?),
        Kind::Heartbeat => Event::Heartbeat(view(header, record)?),
    })
}

/// Iterates over a stream of concatenated records (a capture's record
/// section). After a record whose *size* is unusable the stream cannot be
/// resynchronized, so iteration yields that error and stops; a record with a
/// usable size but a bad body yields its error and iteration goes on.
#[derive(Clone, Debug)]
pub struct Records<'a> {
    rest: &'a [u8],
    offset: usize,
}

impl<'a> Records<'a> {
    /// Records in `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes, offset: 0 }
    }

    /// Byte offset of the next record within the original input.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl<'a> Iterator for Records<'a> {
    /// The record's byte offset and the decoded record or its error.
    type Item = (usize, Result<Event<'a>, DecodeError>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let at = self.offset;
        match split_header(self.rest) {
            Ok((header, _)) => {
                let size = header.size as usize;
                let item = decode(self.rest);
                self.rest = self.rest.get(size..).unwrap_or(&[]);
                self.offset += size;
                Some((at, item))
            }
            Err(e) => {
                self.rest = &[];
                Some((at, Err(e)))
            }
        }
    }
}
