//! The event record schema: one common header, one fixed body per kind,
//! variable-length data (UTF-16LE strings, SID bytes) referenced by
//! `(offset, length)` inside the record.
//!
//! ```text
//!  0        40                  40+size_of(body)                     size
//!  +--------+-------------------+----------------------------------+-----+
//!  | header | body (VarRefs...) | var data (2-byte aligned pieces) | pad |
//!  +--------+-------------------+----------------------------------+-----+
//! ```
//! Records are 8-byte aligned and their size is a multiple of 8. A `VarRef`
//! with offset 0 means "absent" (the field is unknown), which is different
//! from a present, empty string: Sigma's null semantics depend on it.

mod bodies;
mod header;
mod kind;

pub use bodies::*;
pub use header::{HEADER_SIZE, RecordFlags, RecordHeader, RecordPrefix};
pub use kind::Kind;

use crate::pod::{Pod, wire_struct};

/// Version of the record schema (bodies, kinds, flags). Bumped on any change
/// to a wire struct; the golden test pins the bytes of each version.
pub const SCHEMA_VERSION: u32 = 1;

/// Record sizes and offsets are multiples of this.
pub const RECORD_ALIGN: usize = 8;

/// Largest record the producer writes (strings are truncated to fit and the
/// record is flagged [`RecordFlags::TRUNCATED`]).
pub const MAX_RECORD_SIZE: usize = 64 * 1024;

/// Most variable-length fields any body has.
pub const MAX_VARS: usize = 4;

wire_struct! {
    /// Reference to variable-length data inside the same record.
    pub struct VarRef {
        /// Byte offset from the start of the record; 0 means absent.
        pub offset: u32,
        /// Length in bytes (even for UTF-16 strings).
        pub len: u32,
    }
    size = 8;
}

impl VarRef {
    /// The field is unknown (not the same as empty).
    pub const ABSENT: Self = Self { offset: 0, len: 0 };

    /// Whether this reference points at nothing.
    pub const fn is_absent(&self) -> bool {
        self.offset == 0
    }

    /// The reference as the little-endian 64-bit word it occupies (one store
    /// instead of two).
    #[inline]
    pub const fn word(&self) -> u64 {
        self.offset as u64 | (self.len as u64) << 32
    }
}

const _: () = {
    assert!(core::mem::offset_of!(VarRef, offset) == 0 && core::mem::offset_of!(VarRef, len) == 4);
};

/// What a variable-length field holds, which decides how it may be cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarKind {
    /// UTF-16LE text: truncated on a code-unit boundary, never inside a
    /// surrogate pair.
    Utf16,
    /// Opaque bytes (a SID): never truncated; dropped whole if it cannot fit.
    Bytes,
}

/// A fixed-size record body.
///
/// Implemented only inside this crate, by [`bodies`], for the body struct of
/// each [`Kind`].
pub trait Body: Pod + core::fmt::Debug {
    /// The kind this body is written under.
    const KIND: Kind;
    /// Byte offsets (within the body) of its [`VarRef`] fields, and what
    /// they hold, in the order their data is laid out.
    const VARS: &'static [(usize, VarKind)];
}

/// Rounds `n` up to a multiple of [`RECORD_ALIGN`].
#[inline]
pub const fn align_record(n: usize) -> usize {
    (n + (RECORD_ALIGN - 1)) & !(RECORD_ALIGN - 1)
}
