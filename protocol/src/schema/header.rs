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
