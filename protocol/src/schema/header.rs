//! The header every record starts with.

use crate::pod::wire_struct;

wire_struct! {
    /// The first 8 bytes of every record, including ring padding.
    pub struct RecordPrefix {
        /// Total record size in bytes, a multiple of 8.
        pub size: u32,
        /// [`super::Kind`] as `u16`.
        pub kind: u16,
        /// [`RecordFlags`] bits.
        pub flags: u16,
    }
    size = 8;
}

wire_struct! {
    /// Common header of every event record.
    ///
    /// `pid`, `tid` and `process_key` name the *subject*: for process and
    /// image events the process the event is about (the new process for
    /// `ProcessStart`), for file events the process that issued the I/O.
    pub struct RecordHeader {
        /// Total record size in bytes, a multiple of 8, header included.
        pub size: u32,
        /// [`super::Kind`] as `u16`.
        pub kind: u16,
        /// [`RecordFlags`] bits.
        pub flags: u16,
        /// 100 ns ticks since 1601-01-01 UTC (a Windows FILETIME), as taken by
        /// `KeQuerySystemTimePrecise` when the event was captured.
        pub timestamp: u64,
        /// Per-shard sequence number. Every attempt to write a record takes
        /// one, so a gap is exactly the records a `Lost` record reports.
        pub seq: u64,
        /// Process id of the subject.
        pub pid: u32,
        /// Thread id that triggered the event.
        pub tid: u32,
        /// Boot-unique process start key of the subject (PsGetProcessStartKey):
        /// pids are reused, (pid, process_key) is not.
        pub process_key: u64,
    }
    size = 40;
}

/// Size of [`RecordHeader`].
pub const HEADER_SIZE: usize = core::mem::size_of::<RecordHeader>();

const _: () = {
    use core::mem::offset_of;
    assert!(offset_of!(RecordHeader, size) == 0);
    assert!(offset_of!(RecordHeader, kind) == 4);
    assert!(offset_of!(RecordHeader, flags) == 6);
    assert!(offset_of!(RecordHeader, timestamp) == 8);
    assert!(offset_of!(RecordHeader, seq) == 16);
    assert!(offset_of!(RecordHeader, pid) == 24);
    assert!(offset_of!(RecordHeader, tid) == 28);
    assert!(offset_of!(RecordHeader, process_key) == 32);
    assert!(offset_of!(RecordPrefix, size) == offset_of!(RecordHeader, size));
    assert!(offset_of!(RecordPrefix, kind) == offset_of!(RecordHeader, kind));
    assert!(offset_of!(RecordPrefix, flags) == offset_of!(RecordHeader, flags));
};

impl RecordHeader {
    /// The header as the five little-endian 64-bit words it occupies, so a
    /// writer can store it in five stores instead of one per field. Tied to
    /// the layout by the offset assertions above and by a unit test against
    /// `bytes_of`.
    #[inline]
    pub fn words(&self) -> [u64; 5] {
        [
            u64::from(self.size) | u64::from(self.kind) << 32 | u64::from(self.flags) << 48,
            self.timestamp,
            self.seq,
            u64::from(self.pid) | u64::from(self.tid) << 32,
            self.process_key,
        ]
    }
}

/// Record-level flags (the `flags` field of the header).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordFlags(pub u16);

impl RecordFlags {
    /// At least one variable-length field was cut (or a SID dropped) to fit
    /// the record size limit.
    pub const TRUNCATED: u16 = 1 << 0;
    /// Every defined flag bit.
    pub const KNOWN: u16 = Self::TRUNCATED;

    /// Whether `bit` is set.
    pub const fn has(self, bit: u16) -> bool {
        self.0 & bit != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_the_header_bytes() {
        let h = RecordHeader {
            size: 0x1122_3344,
            kind: 0x5566,
            flags: 0x7788,
            timestamp: 0x0102_0304_0506_0708,
            seq: 0x1112_1314_1516_1718,
            pid: 0x2122_2324,
            tid: 0x2526_2728,
            process_key: 0x3132_3334_3536_3738,
        };
        let words: [[u8; 8]; 5] = h.words().map(u64::to_le_bytes);
        assert_eq!(words.as_flattened(), crate::pod::bytes_of(&h));
    }
}
