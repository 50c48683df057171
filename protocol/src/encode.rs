//! Record builders: the one way records are written, by the driver, by the
//! Linux stand-in producer and by user-mode tools (captures, tests).
//!
//! Writing is two steps so a ring can reserve exactly the space needed:
//! [`Encode::plan`] decides the record size (cutting strings to fit a size
//! limit), then [`Encode::write`] puts the bytes through a [`RecordOut`].
//! Neither step allocates or can panic.

use crate::pod::{bytes_of, utf16_bytes};
use crate::schema::{
    Body, HEADER_SIZE, Kind, MAX_RECORD_SIZE, MAX_VARS, RecordFlags, RecordHeader, VarKind, VarRef, align_record,
};

/// Who and when: the header fields the event source provides. The ring adds
/// `size`, `kind`, `flags` and `seq`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stamp {
    /// FILETIME ticks (100 ns since 1601).
    pub timestamp: u64,
    /// Subject process id.
    pub pid: u32,
    /// Thread id.
    pub tid: u32,
    /// Subject process start key.
    pub process_key: u64,
}

/// The data of one variable-length field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Var<'a> {
    /// Unknown: written as [`VarRef::ABSENT`].
    #[default]
    Absent,
    /// UTF-16 code units (a UNICODE_STRING's buffer).
    Utf16(&'a [u16]),
    /// Raw bytes (a SID).
    Bytes(&'a [u8]),
}

impl<'a> Var<'a> {
    fn bytes(&self) -> Option<&'a [u8]> {
        match *self {
            Var::Absent => None,
            Var::Utf16(u) => Some(utf16_bytes(u)),
            Var::Bytes(b) => Some(b),
        }
    }
}

/// A record to write: the stamp, the fixed body and the data of the body's
/// variable-length fields in [`Body::VARS`] order (extra entries are ignored,
/// missing ones are absent). The body's own `VarRef` fields are ignored; the
/// encoder fills them in.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a, T: Body> {
    /// Header fields from the event source.
    pub stamp: Stamp,
    /// Fixed body.
    pub body: T,
    /// Variable-length data.
    pub vars: [Var<'a>; MAX_VARS],
}

impl<'a, T: Body> Record<'a, T> {
    /// A record with no variable data.
    pub fn new(stamp: Stamp, body: T) -> Self {
        Self { stamp, body, vars: [Var::Absent; MAX_VARS] }
    }

    /// A record with variable data, in [`Body::VARS`] order.
    pub fn with_vars(stamp: Stamp, body: T, vars: &[Var<'a>]) -> Self {
        let mut all = [Var::Absent; MAX_VARS];
        for (slot, v) in all.iter_mut().zip(vars) {
            *slot = *v;
        }
        Self { stamp, body, vars: all }
    }
}

/// The decided layout of one record. Scalars only (no arrays), so that a
/// plan made and used in one push stays in registers: every store a push
/// saves is one less entry in a store buffer that cross-core traffic fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Total record size, a multiple of 8.
    pub size: u32,
    /// Bytes of variable field `i` that will be written, in bits
    /// `16 * i .. 16 * i + 16` (a field is shorter than its record, which is
    /// at most [`MAX_RECORD_SIZE`] = 64 KiB).
    lens: u64,
    /// Bit `i`: variable field `i` is dropped whole (written as absent).
    dropped: u8,
    /// Something was cut or dropped.
    truncated: bool,
}

const _: () = assert!(MAX_VARS * 16 <= 64 && MAX_VARS <= 8 && MAX_RECORD_SIZE <= 1 << 16);

impl Plan {
    /// Whether the record will carry [`RecordFlags::TRUNCATED`].
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Bytes of variable field `i` that will be written.
    #[inline]
    fn len(&self, i: usize) -> usize {
        if i < MAX_VARS { ((self.lens >> (16 * i)) & 0xFFFF) as usize } else { 0 }
    }

    /// Whether variable field `i` is dropped whole.
    #[inline]
    fn is_dropped(&self, i: usize) -> bool {
        i < MAX_VARS && self.dropped & (1 << i) != 0
    }

    /// `lens` packed as in [`Plan::lens`]; every length is below 64 KiB.
    fn pack(lens: &[u32; MAX_VARS]) -> u64 {
        lens.iter().enumerate().fold(0, |acc, (i, &l)| acc | (u64::from(l) & 0xFFFF) << (16 * i))
    }
}

/// Where [`Encode::write`] puts bytes: a reservation in the ring, a slice.
pub trait RecordOut {
    /// Writes `bytes` at offset `at` of the record. The encoder only writes
    /// inside `0..plan.size`; an implementation must still ignore anything
    /// out of its bounds rather than fault.
    fn put(&mut self, at: usize, bytes: &[u8]);
}

/// Something that can be written as one record.
pub trait Encode {
    /// The record's kind.
    fn kind(&self) -> Kind;
    /// The stamp, which the ring copies into the `Lost` record it may have to
    /// write first.
    fn stamp(&self) -> Stamp;
    /// Decides the size, cutting variable data so that the record is at most
    /// `max_size` bytes. `None` if even the fixed part does not fit.
    fn plan(&self, max_size: usize) -> Option<Plan>;
    /// Writes the record as planned, with sequence number `seq`.
    fn write<O: RecordOut + ?Sized>(&self, plan: &Plan, seq: u64, out: &mut O);
}

const ZEROS: [u8; 8] = [0; 8];

/// Even lengths keep every variable field 2-byte aligned.
const fn round2(n: usize) -> usize {
    (n + 1) & !1
}

impl<T: Body> Record<'_, T> {
    fn fixed_size() -> usize {
        HEADER_SIZE + core::mem::size_of::<T>()
    }

    /// Where the fixed part and the variable data written under `plan` end:
    /// the record size less its tail padding.
    #[inline]
    fn content_end(&self, plan: &Plan) -> usize {
        let vars: usize = (0..T::VARS.len())
            .filter(|&i| !plan.is_dropped(i) && self.vars.get(i).is_some_and(|v| *v != Var::Absent))
            .map(|i| round2(plan.len(i)))
            .sum();
        Self::fixed_size() + vars
    }

    fn total(lens: &[u32; MAX_VARS]) -> usize {
        let vars: usize = lens.iter().map(|&l| round2(l as usize)).sum();
        align_record(Self::fixed_size() + vars)
    }

    /// Drops a trailing high surrogate so a cut never splits a pair.
    fn fix_utf16_cut(data: &[u8], mut len: usize) -> usize {
        len &= !1;
        if len >= 2 {
            let hi = data.get(len - 1).copied().unwrap_or(0);
            let lo = data.get(len - 2).copied().unwrap_or(0);
            let unit = u16::from_le_bytes([lo, hi]);
            if (0xD800..0xDC00).contains(&unit) {
                len -= 2;
            }
        }
        len
    }
}

impl<T: Body> Encode for Record<'_, T> {
    fn kind(&self) -> Kind {
        T::KIND
    }

    fn stamp(&self) -> Stamp {
        self.stamp
    }

    #[inline]
    fn plan(&self, max_size: usize) -> Option<Plan> {
        // No record is larger than MAX_RECORD_SIZE (the decoder refuses
        // one), which also keeps every field length within 16 bits.
        let max_size = max_size.min(MAX_RECORD_SIZE) & !7;
        if Self::fixed_size() > max_size {
            return None;
        }
        // Fast path: everything fits as it is (the common case).
        let mut lens = 0u64;
        let mut var_bytes = 0usize;
        for (i, (var, _)) in self.vars.iter().zip(T::VARS.iter()).enumerate() {
            if let Some(data) = var.bytes() {
                let len = data.len().min(max_size);
                lens |= (len as u64 & 0xFFFF) << (16 * i);
                var_bytes += round2(len);
            }
        }
        let size = align_record(Self::fixed_size() + var_bytes);
        if size <= max_size {
            return Some(Plan { size: size as u32, lens, dropped: 0, truncated: false });
        }
        self.plan_truncated(max_size)
    }

    #[inline]
    fn write<O: RecordOut + ?Sized>(&self, plan: &Plan, seq: u64, out: &mut O) {
        self.write_planned(plan, seq, out);
    }
}

impl<T: Body> Record<'_, T> {
    /// The slow path of [`Encode::plan`]: cut text (never inside a
    /// surrogate pair) and, last, drop byte fields until the record fits.
    fn plan_truncated(&self, max_size: usize) -> Option<Plan> {
        let mut lens = [0u32; MAX_VARS];
        let mut dropped = [false; MAX_VARS];
        let mut truncated = false;
        for (i, ((_, kind), var)) in T::VARS.iter().zip(self.vars.iter()).enumerate() {
            let Some(data) = var.bytes() else { continue };
            let Some(slot) = lens.get_mut(i) else {
                continue;
            };
            // A record is at most MAX_RECORD_SIZE, so anything longer is cut
            // up front (and u32 cannot overflow).
            let mut len = data.len().min(max_size);
            if *kind == VarKind::Utf16 {
                len = Self::fix_utf16_cut(data, len);
            }
            truncated |= len != data.len();
            *slot = len as u32;
        }
        // Shrink the longest UTF-16 field until the record fits. Each pass
        // cuts at least the current excess from one field, so this ends in
        // at most MAX_VARS passes with all text empty in the worst case.
        for _ in 0..=MAX_VARS {
            let total = Self::total(&lens);
            if total <= max_size {
                break;
            }
            let excess = total - max_size;
            let longest = T::VARS
                .iter()
                .zip(lens.iter().enumerate())
                .filter(|((_, kind), _)| *kind == VarKind::Utf16)
                .max_by_key(|(_, (_, len))| **len)
                .map(|(_, (i, len))| (i, *len));
            let Some((i, len)) = longest.filter(|(_, len)| *len > 0) else {
                break;
            };
            let data = self.vars.get(i).and_then(Var::bytes).unwrap_or(&[]);
            let keep = Self::fix_utf16_cut(data, (len as usize).saturating_sub(round2(excess)));
            if let Some(slot) = lens.get_mut(i) {
                *slot = keep as u32;
            }
            truncated = true;
        }
        // Still too big: only byte fields are left. Drop them whole, since a
        // cut SID is worse than none.
        if Self::total(&lens) > max_size {
            for (i, (_, kind)) in T::VARS.iter().enumerate() {
                if *kind == VarKind::Bytes
                    && let (Some(len), Some(d)) = (lens.get_mut(i), dropped.get_mut(i))
                {
                    *len = 0;
                    *d = self.vars.get(i).is_some_and(|v| *v != Var::Absent);
                }
            }
            truncated = true;
        }
        let size = Self::total(&lens);
        if size > max_size {
            return None;
        }
        let dropped = dropped.iter().enumerate().fold(0u8, |acc, (i, &d)| acc | u8::from(d) << i);
        Some(Plan { size: size as u32, lens: Plan::pack(&lens), dropped, truncated })
    }

    #[inline]
    fn write_planned<O: RecordOut + ?Sized>(&self, plan: &Plan, seq: u64, out: &mut O) {
        let header = RecordHeader {
            size: plan.size,
            kind: T::KIND as u16,
            flags: if plan.truncated { RecordFlags::TRUNCATED } else { 0 },
            timestamp: self.stamp.timestamp,
            seq,
            pid: self.stamp.pid,
            tid: self.stamp.tid,
            process_key: self.stamp.process_key,
        };
        // The tail padding (< 8 bytes), if any, is zeroed first with one
        // fixed-size store over the record's last 8 bytes; everything after
        // may overwrite part of it. (Records are at least 48 bytes.)
        let end = plan.size as usize;
        if end != self.content_end(plan) {
            out.put(end.saturating_sub(8), &ZEROS);
        }
        // Whole words: five stores, not one per field.
        let words = header.words();
        out.put(0, bytes_of(&words));
        out.put(HEADER_SIZE, bytes_of(&self.body));
        let mut at = Self::fixed_size();
        for (i, (field_off, _)) in T::VARS.iter().enumerate() {
            let len = plan.len(i);
            let data = self.vars.get(i).and_then(Var::bytes);
            let is_dropped = plan.is_dropped(i);
            let var = match data {
                Some(d) if !is_dropped => {
                    out.put(at, d.get(..len).unwrap_or(&[]));
                    let r = VarRef { offset: at as u32, len: len as u32 };
                    if len % 2 == 1 {
                        out.put(at + len, &ZEROS[..1]);
                    }
                    at += round2(len);
                    r
                }
                _ => VarRef::ABSENT,
            };
            out.put(HEADER_SIZE + field_off, &var.word().to_le_bytes());
        }
    }
}

/// A record that is already encoded (read from a capture file or another
/// ring), written again byte for byte except for its sequence number, which
/// the ring assigns. Validated once, when it is made: the ring only ever
/// carries records that decode.
#[derive(Clone, Copy, Debug)]
pub struct Encoded<'a> {
    bytes: &'a [u8],
    kind: Kind,
    stamp: Stamp,
}

impl<'a> Encoded<'a> {
    /// The record at the start of `bytes` (which may hold more after it),
    /// if it decodes.
    pub fn new(bytes: &'a [u8]) -> Result<Self, crate::decode::DecodeError> {
        let event = crate::decode::decode(bytes)?;
        let h = event.header();
        let bytes = bytes.get(..h.size as usize).unwrap_or(bytes);
        let stamp = Stamp { timestamp: h.timestamp, pid: h.pid, tid: h.tid, process_key: h.process_key };
        Ok(Self { bytes, kind: event.kind(), stamp })
    }

    /// The record's bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

impl Encode for Encoded<'_> {
    fn kind(&self) -> Kind {
        self.kind
    }

    fn stamp(&self) -> Stamp {
        self.stamp
    }

    /// The record's own size; `None` if it is larger than `max_size` (an
    /// encoded record is never cut).
    #[inline]
    fn plan(&self, max_size: usize) -> Option<Plan> {
        (self.bytes.len() <= max_size & !7).then_some(Plan {
            size: self.bytes.len() as u32,
            lens: 0,
            dropped: 0,
            truncated: false,
        })
    }

    #[inline]
    fn write<O: RecordOut + ?Sized>(&self, _plan: &Plan, seq: u64, out: &mut O) {
        out.put(0, self.bytes);
        out.put(core::mem::offset_of!(RecordHeader, seq), &seq.to_le_bytes());
    }
}

/// Errors of [`encode_into`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The fixed part alone is larger than the limit.
    TooLarge,
    /// The output buffer is smaller than the planned record.
    BufferTooSmall {
        /// Bytes the record needs.
        needed: usize,
    },
}

impl core::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            EncodeError::TooLarge => f.write_str("record's fixed part exceeds the size limit"),
            EncodeError::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: record needs {needed} bytes")
            }
        }
    }
}

/// A [`RecordOut`] over a byte slice.
#[derive(Debug)]
pub struct SliceOut<'a>(pub &'a mut [u8]);

impl RecordOut for SliceOut<'_> {
    fn put(&mut self, at: usize, bytes: &[u8]) {
        if let Some(dst) = at.checked_add(bytes.len()).and_then(|end| self.0.get_mut(at..end)) {
            dst.copy_from_slice(bytes);
        }
    }
}

/// Encodes `rec` into the start of `buf`, limited to `max_size` bytes;
/// returns the record size.
pub fn encode_into<R: Encode + ?Sized>(
    rec: &R,
    seq: u64,
    max_size: usize,
    buf: &mut [u8],
) -> Result<usize, EncodeError> {
    let plan = rec.plan(max_size).ok_or(EncodeError::TooLarge)?;
    let size = plan.size as usize;
    let dst = buf.get_mut(..size).ok_or(EncodeError::BufferTooSmall { needed: size })?;
    rec.write(&plan, seq, &mut SliceOut(dst));
    Ok(size)
}

/// Appends `rec` to `out`, limited to `max_size` bytes; returns the record
/// size.
#[cfg(feature = "alloc")]
pub fn encode_to_vec<R: Encode + ?Sized>(
    rec: &R,
    seq: u64,
    max_size: usize,
    out: &mut alloc::vec::Vec<u8>,
) -> Result<usize, EncodeError> {
    let plan = rec.plan(max_size).ok_or(EncodeError::TooLarge)?;
    let start = out.len();
    out.resize(start + plan.size as usize, 0);
    let dst = out.get_mut(start..).unwrap_or(&mut []);
    rec.write(&plan, seq, &mut SliceOut(dst));
    Ok(plan.size as usize)
}
