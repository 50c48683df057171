//! Geometry of the shared region and the control structures in its header.
//!
//! ```text
//! offset 0     128      256                 256 + 256*N      header_size (page multiple)
//! +--------+--------+-------------------+-- ... --------+-------------------+-- ... --+
//! | RingHeader      | ShardControl[0]   |  [N-1]        | shard 0 data      | shard N-1|
//! | ident  | wait   | producer | consumer|               | shard_size bytes  |          |
//! +--------+--------+-------------------+-- ... --------+-------------------+-- ... --+
//! ```
//! Each 128-byte line has one writer: `ident` and the producer half of each
//! control block are written by the producer (kernel), `wait` and the
//! consumer half by the consumer. The one exception is the wait flag, which a
//! producer that finds it set takes (swaps to 0) before it signals: a write
//! only while the consumer is going to sleep. Separate lines keep the two
//! sides from false sharing. Reserved bytes are zeroed by the producer at
//! attach and are not read by either side.

use crate::schema::MAX_RECORD_SIZE;
use crate::sync::{AtomicU32, AtomicU64};

/// `RingHeader::magic`: "VIGILRNG" little-endian.
pub const RING_MAGIC: u64 = u64::from_le_bytes(*b"VIGILRNG");

/// Most shards a ring can have.
pub const MAX_SHARDS: usize = 64;

/// Bytes of one half of a control structure: two x86 cache lines, because
/// the adjacent-line prefetcher pulls lines in pairs.
pub const LINE: usize = 128;

/// Header offsets and sizes are multiples of this.
pub const PAGE_SIZE: usize = 4096;

/// Aligns `T` to a [`LINE`] boundary and pads it to a multiple of [`LINE`].
#[repr(C, align(128))]
#[derive(Debug, Default)]
pub struct Line<T>(pub T);

/// Fields the producer writes once at attach; the consumer validates them.
#[repr(C)]
#[derive(Debug, Default)]
pub struct RingIdent {
    /// [`RING_MAGIC`]; stored last, with Release, to publish the rest.
    pub magic: AtomicU64,
    /// [`crate::PROTOCOL_VERSION`].
    pub protocol_version: AtomicU32,
    /// [`crate::schema::SCHEMA_VERSION`].
    pub schema_version: AtomicU32,
    /// Bytes before shard 0's data.
    pub header_size: AtomicU32,
    /// Number of shards.
    pub shard_count: AtomicU32,
    /// Data bytes per shard (a power of two).
    pub shard_size: AtomicU32,
    /// Largest record the producer will write.
    pub max_record: AtomicU32,
}

/// The consumer's wait announcement, on a line of its own.
#[repr(C)]
#[derive(Debug, Default)]
pub struct ConsumerWait {
    /// Non-zero while the consumer is asleep or about to sleep and wants a
    /// signal. Set and cleared by the consumer; a producer that reads it
    /// non-zero swaps it to 0 and signals (so one burst signals once, whatever
    /// the number of shards). Untrusted: any non-zero value means "wake".
    pub waiting: AtomicU32,
}

/// The first 256 bytes of the region.
#[repr(C)]
#[derive(Debug, Default)]
pub struct RingHeader {
    /// Producer-written identification.
    pub ident: Line<RingIdent>,
    /// Consumer-written wait flag.
    pub wait: Line<ConsumerWait>,
}

/// The producer's side of a shard's control block. Only `published` is part
/// of the protocol; the counters are informational copies of the producer's
/// private counters.
#[repr(C)]
#[derive(Debug, Default)]
pub struct ShardProducerSide {
    /// Byte position up to which records are complete (published with a
    /// Release store). A multiple of 8; anything else is corruption.
    pub published: AtomicU64,
    /// Records written.
    pub produced: AtomicU64,
    /// Records dropped (ring full, oversize, no consumer).
    pub dropped: AtomicU64,
    /// `Lost` records written.
    pub lost_records: AtomicU64,
    /// Times the consumer position read from shared memory was invalid.
    pub consumer_rejects: AtomicU64,
}

/// The consumer's side of a shard's control block.
#[repr(C)]
#[derive(Debug, Default)]
pub struct ShardConsumerSide {
    /// Byte position up to which the consumer is done with the data.
    pub consumer: AtomicU64,
}

/// Per-shard control block.
#[repr(C)]
#[derive(Debug, Default)]
pub struct ShardControl {
    /// Producer-written half.
    pub producer: Line<ShardProducerSide>,
    /// Consumer-written half.
    pub consumer: Line<ShardConsumerSide>,
}

#[cfg(not(loom))]
const _: () = {
    use core::mem::{align_of, offset_of, size_of};
    assert!(size_of::<RingHeader>() == 2 * LINE && align_of::<RingHeader>() == LINE);
    assert!(offset_of!(RingHeader, ident) == 0 && offset_of!(RingHeader, wait) == LINE);
    assert!(offset_of!(ConsumerWait, waiting) == 0);
    assert!(size_of::<ShardControl>() == 2 * LINE && align_of::<ShardControl>() == LINE);
    assert!(offset_of!(RingIdent, magic) == 0);
    assert!(offset_of!(RingIdent, protocol_version) == 8);
    assert!(offset_of!(RingIdent, schema_version) == 12);
    assert!(offset_of!(RingIdent, header_size) == 16);
    assert!(offset_of!(RingIdent, shard_count) == 20);
    assert!(offset_of!(RingIdent, shard_size) == 24);
    assert!(offset_of!(RingIdent, max_record) == 28);
    assert!(offset_of!(ShardProducerSide, published) == 0);
    assert!(offset_of!(ShardProducerSide, consumer_rejects) == 32);
    assert!(offset_of!(ShardControl, consumer) == LINE);
    assert!(size_of::<AtomicU64>() == 8 && align_of::<AtomicU64>() == 8);
};

/// Why a region or geometry is unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingError {
    /// Shard count is 0 or above [`MAX_SHARDS`].
    BadShardCount {
        /// The count.
        count: u32,
    },
    /// Shard size is not a power of two in the allowed range.
    BadShardSize {
        /// The size.
        size: u32,
    },
    /// The region is smaller than the geometry needs.
    RegionTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// The region's base is not [`LINE`]-aligned.
    Misaligned,
    /// The header's magic is wrong: not a Vigil ring, or not initialized.
    BadMagic {
        /// The value found.
        found: u64,
    },
    /// The producer speaks another protocol or schema version.
    VersionMismatch {
        /// Protocol version found.
        protocol: u32,
        /// Schema version found.
        schema: u32,
    },
    /// The header's geometry fields are inconsistent.
    BadHeader,
    /// Fewer producer shard slots than shards.
    NotEnoughSlots {
        /// Slots provided.
        slots: usize,
        /// Shards in the layout.
        shards: u32,
    },
}

impl core::fmt::Display for RingError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RingError::BadShardCount { count } => {
                write!(f, "shard count {count} is not in 1..={MAX_SHARDS}")
            }
            RingError::BadShardSize { size } => write!(
                f,
                "shard size {size} is not a power of two in {}..={}",
                RingLayout::MIN_SHARD_SIZE,
                RingLayout::MAX_SHARD_SIZE
            ),
            RingError::RegionTooSmall { needed, available } => {
                write!(f, "shared region has {available} bytes, the ring needs {needed}")
            }
            RingError::Misaligned => write!(f, "shared region is not {LINE}-byte aligned"),
            RingError::BadMagic { found } => write!(f, "not a Vigil ring (magic {found:#018x})"),
            RingError::VersionMismatch { protocol, schema } => write!(
                f,
                "ring speaks protocol {protocol:#x} / schema {schema}, this build speaks {:#x} / {}",
                crate::PROTOCOL_VERSION,
                crate::schema::SCHEMA_VERSION
            ),
            RingError::BadHeader => f.write_str("ring header geometry is inconsistent"),
            RingError::NotEnoughSlots { slots, shards } => {
                write!(f, "{slots} producer shard slots for {shards} shards")
            }
        }
    }
}

impl core::error::Error for RingError {}

/// Shard count and size of a ring; everything else follows from them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingLayout {
    shard_count: u32,
    shard_size: u32,
}

impl RingLayout {
    /// Smallest shard: one page.
    pub const MIN_SHARD_SIZE: u32 = 4096;
    /// Largest shard: 1 GiB.
    pub const MAX_SHARD_SIZE: u32 = 1 << 30;

    /// A layout of `shard_count` shards of `shard_size` bytes.
    pub const fn new(shard_count: u32, shard_size: u32) -> Result<Self, RingError> {
        if shard_count == 0 || shard_count as usize > MAX_SHARDS {
            return Err(RingError::BadShardCount { count: shard_count });
        }
        if !shard_size.is_power_of_two() || shard_size < Self::MIN_SHARD_SIZE || shard_size > Self::MAX_SHARD_SIZE {
            return Err(RingError::BadShardSize { size: shard_size });
        }
        Ok(Self { shard_count, shard_size })
    }

    /// The layout with `shard_count` shards of the largest power-of-two size
    /// that fits in `region_len` bytes.
    pub const fn fit(region_len: usize, shard_count: u32) -> Result<Self, RingError> {
        if shard_count == 0 || shard_count as usize > MAX_SHARDS {
            return Err(RingError::BadShardCount { count: shard_count });
        }
        let header = Self::header_size_for(shard_count);
        let needed = header + shard_count as usize * Self::MIN_SHARD_SIZE as usize;
        if region_len < needed {
            return Err(RingError::RegionTooSmall { needed, available: region_len });
        }
        let per_shard = (region_len - header) / shard_count as usize;
        let capped = if per_shard > Self::MAX_SHARD_SIZE as usize { Self::MAX_SHARD_SIZE as usize } else { per_shard };
        // Largest power of two <= capped (capped >= MIN_SHARD_SIZE > 0).
        let size = 1u32 << (usize::BITS - 1 - capped.leading_zeros());
        Self::new(shard_count, size)
    }

    const fn header_size_for(shard_count: u32) -> usize {
        let raw = core::mem::size_of::<RingHeader>() + shard_count as usize * core::mem::size_of::<ShardControl>();
        (raw + PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
    }

    /// Number of shards.
    pub const fn shard_count(&self) -> u32 {
        self.shard_count
    }

    /// Data bytes per shard.
    pub const fn shard_size(&self) -> u32 {
        self.shard_size
    }

    /// Bytes before shard 0's data (a page multiple).
    pub const fn header_size(&self) -> usize {
        Self::header_size_for(self.shard_count)
    }

    /// Total bytes of the region.
    pub const fn total_size(&self) -> usize {
        self.header_size() + self.shard_count as usize * self.shard_size as usize
    }

    /// Largest record allowed in this ring: a quarter of a shard, at most
    /// [`MAX_RECORD_SIZE`], so one big record can never fill a shard.
    pub const fn max_record(&self) -> usize {
        let quarter = self.shard_size as usize / 4;
        if quarter < MAX_RECORD_SIZE { quarter } else { MAX_RECORD_SIZE }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_picks_largest_power_of_two() {
        let l = RingLayout::fit(4096 + 4 * 70_000, 4).unwrap();
        assert_eq!(l.shard_size(), 65536);
        assert!(l.total_size() <= 4096 + 4 * 70_000);
        assert_eq!(RingLayout::fit(1000, 1), Err(RingError::RegionTooSmall { needed: 8192, available: 1000 }));
    }

    #[test]
    fn header_is_page_multiple_and_holds_controls() {
        for n in 1..=MAX_SHARDS as u32 {
            let l = RingLayout::new(n, 4096).unwrap();
            assert_eq!(l.header_size() % PAGE_SIZE, 0);
            assert!(l.header_size() >= 256 + 256 * n as usize);
        }
        assert_eq!(RingLayout::new(64, 4096).unwrap().header_size(), 20480);
    }

    #[test]
    fn rejects_bad_geometry() {
        assert!(RingLayout::new(0, 4096).is_err());
        assert!(RingLayout::new(65, 4096).is_err());
        assert!(RingLayout::new(1, 5000).is_err());
        assert!(RingLayout::new(1, 2048).is_err());
        assert!(RingLayout::new(1, 1 << 31).is_err());
    }
}
