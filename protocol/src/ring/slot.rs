//! One shard's producer-side state, in producer memory (never in the shared
//! region): positions, sequence numbers, pending losses and counters.
//!
//! [`ShardState`] is touched only by the shard's one writer at a time (under
//! the slot's lock, or by a writer that owns the shard). Everything other
//! threads may do to a slot at any time goes through atomics beside it:
//! reading the counters ([`ShardSlot::counters`]) and counting a record
//! dropped while no ring is attached ([`ShardSlot::drop_detached`]), which
//! the next writer folds into its pending losses.

use super::lock::SpinLock;
use crate::encode::Encode;
use crate::pod::wire_struct;
use crate::schema::RECORD_ALIGN;
use crate::sync::{AtomicU64, Ordering};

wire_struct! {
    /// One shard's producer counters (trusted: kept in producer memory).
    pub struct ShardCounters {
        /// Records written (events and `Lost` records).
        pub produced: u64,
        /// Bytes written, padding included.
        pub bytes: u64,
        /// Records dropped because the shard was full.
        pub dropped_full: u64,
        /// Records dropped because they could not fit any record size.
        pub dropped_oversize: u64,
        /// Records dropped because no shard could take them: no ring was
        /// attached, or the CPU owns no shard of the attached ring.
        pub dropped_detached: u64,
        /// `Lost` records written.
        pub lost_records: u64,
        /// Consumer positions read from shared memory that were invalid
        /// (misaligned, behind the last valid one, or past what was published).
        pub consumer_rejects: u64,
        /// Wakeups signalled.
        pub wakeups: u64,
    }
    size = 64;
}

impl ShardCounters {
    /// All records dropped, whatever the reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_full + self.dropped_oversize + self.dropped_detached
    }
}

/// Producer-private state of one shard.
#[derive(Debug)]
pub struct ShardState {
    /// Reserve, commit and published position are one number: one writer
    /// at a time reserves, and it publishes before it lets go of the shard.
    /// Invariant: `floor <= pos <= floor + shard_size`.
    pub(super) pos: u64,
    /// Last validated consumer position: the producer never writes below
    /// `floor + shard_size`. Never decreases while a ring is attached.
    pub(super) floor: u64,
    /// Next sequence number. Survives detach/attach, so sequence numbers of
    /// one driver run never repeat.
    seq: u64,
    /// Records dropped since the last `Lost` record: first seq, count, bytes.
    pub(super) lost_first: u64,
    pub(super) lost_count: u64,
    pub(super) lost_bytes: u64,
    /// Counters; `dropped_detached` is not kept here but in the slot's atomics.
    pub(super) counters: ShardCounters,
}

impl ShardState {
    #[cfg(not(loom))]
    const fn new() -> Self {
        Self { pos: 0, floor: 0, seq: 0, lost_first: 0, lost_count: 0, lost_bytes: 0, counters: ShardCounters::ZERO }
    }

    #[cfg(loom)]
    fn new() -> Self {
        Self { pos: 0, floor: 0, seq: 0, lost_first: 0, lost_count: 0, lost_bytes: 0, counters: ShardCounters::ZERO }
    }

    pub(super) fn take_seq(&mut self) -> u64 {
        let s = self.seq;
        self.seq = self.seq.wrapping_add(1);
        s
    }

    /// Adds `count` dropped records, the first with sequence number `first`,
    /// to the losses the next `Lost` record reports.
    fn note_lost_range(&mut self, first: u64, count: u64, bytes: u64) {
        if self.lost_count == 0 {
            self.lost_first = first;
        }
        self.lost_count += count;
        self.lost_bytes += bytes;
    }

    /// Adds one dropped record, which took sequence number `seq`.
    pub(super) fn note_lost(&mut self, seq: u64, bytes: u64) {
        self.note_lost_range(seq, 1, bytes);
    }

    /// Gives `count` records dropped while detached the next sequence
    /// numbers, so the stream stays dense: the `Lost` record covers them.
    fn note_lost_detached(&mut self, count: u64, bytes: u64) {
        let first = self.seq;
        self.seq = self.seq.wrapping_add(count);
        self.note_lost_range(first, count, bytes);
    }

    /// Validates the consumer position read from shared memory and moves
    /// `floor` up to it. Whatever the value, the result stays within
    /// `[floor, pos]`: a consumer that writes garbage can make the producer
    /// overwrite records it has not read yet (its own loss), never write
    /// outside the shard or block.
    /// Returns whether the value was rejected (and counted).
    pub(super) fn advance_floor(&mut self, raw: u64) -> bool {
        let aligned = raw & !(RECORD_ALIGN as u64 - 1);
        let rejected = aligned != raw || raw < self.floor || raw > self.pos;
        if rejected {
            self.counters.consumer_rejects += 1;
        }
        // Not `clamp`: it panics when min > max, and although `floor <= pos` always holds
        // here, the kernel build must not keep that panic path (the driver's no-panic
        // check fails on any).
        self.floor = aligned.max(self.floor).min(self.pos);
        rejected
    }

    /// Resets the positions for a newly attached ring.
    pub(super) fn reset_positions(&mut self) {
        self.pos = 0;
        self.floor = 0;
    }
}

/// Copies of a shard's counters that any thread may read while the writer
/// runs. The writer stores them (Relaxed: each is a statistic, not a
/// synchronization point) where they change; on x86 a Relaxed store to a
/// line the writer owns is a plain `mov`.
#[derive(Debug, Default)]
struct Mirror {
    produced: AtomicU64,
    bytes: AtomicU64,
    dropped_full: AtomicU64,
    dropped_oversize: AtomicU64,
    lost_records: AtomicU64,
    consumer_rejects: AtomicU64,
    wakeups: AtomicU64,
}

/// Records dropped while no shard could take them, counted by whichever
/// thread dropped them. On their own line: written by other CPUs while
/// detached, read (one Relaxed load per push) by the writer.
#[repr(align(128))]
#[derive(Debug, Default)]
struct Detached {
    /// Not yet reported in a `Lost` record.
    pending: AtomicU64,
    /// Their bytes (reported with them; a drop racing with the fold may have
    /// its bytes reported one `Lost` record early).
    pending_bytes: AtomicU64,
    /// All of them, ever.
    total: AtomicU64,
}

/// A shard's lock, private state and counters, in producer memory.
#[repr(align(128))]
#[derive(Debug)]
pub struct ShardSlot {
    pub(super) state: SpinLock<ShardState>,
    mirror: Mirror,
    detached: Detached,
}

impl ShardSlot {
    /// A fresh slot. `const`, so the driver can keep its slots in a
    /// `static` array.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Self {
            state: SpinLock::new(ShardState::new()),
            mirror: Mirror {
                produced: AtomicU64::new(0),
                bytes: AtomicU64::new(0),
                dropped_full: AtomicU64::new(0),
                dropped_oversize: AtomicU64::new(0),
                lost_records: AtomicU64::new(0),
                consumer_rejects: AtomicU64::new(0),
                wakeups: AtomicU64::new(0),
            },
            detached: Detached {
                pending: AtomicU64::new(0),
                pending_bytes: AtomicU64::new(0),
                total: AtomicU64::new(0),
            },
        }
    }

    /// A fresh slot.
    #[cfg(loom)]
    pub fn new() -> Self {
        Self { state: SpinLock::new(ShardState::new()), mirror: Mirror::default(), detached: Detached::default() }
    }

    /// Counts a record dropped while no ring (or no shard of it) can take
    /// it. Safe from any thread at any time, concurrently with the writer:
    /// the next push on this slot reports it in a `Lost` record. Planning
    /// `record` is all this does with it.
    pub fn drop_detached<R: Encode + ?Sized>(&self, record: &R) {
        let bytes = record.plan(crate::schema::MAX_RECORD_SIZE).map_or(0, |p| u64::from(p.size));
        self.detached.pending_bytes.fetch_add(bytes, Ordering::Relaxed);
        // Release pairs with the Acquire swap in `fold_detached`: the bytes
        // added above are counted no later than this record.
        self.detached.pending.fetch_add(1, Ordering::Release);
        self.detached.total.fetch_add(1, Ordering::Relaxed);
    }

    /// Moves drops counted by [`Self::drop_detached`] into `st`'s pending
    /// losses; returns whether there were any. The writer calls it before
    /// each record; in the common case it is one Relaxed load that finds 0.
    #[inline]
    pub(super) fn fold_detached(&self, st: &mut ShardState) -> bool {
        if self.detached.pending.load(Ordering::Relaxed) == 0 {
            return false;
        }
        let count = self.detached.pending.swap(0, Ordering::Acquire);
        let bytes = self.detached.pending_bytes.swap(0, Ordering::Relaxed);
        if count > 0 {
            st.note_lost_detached(count, bytes);
        }
        count > 0
    }

    /// Stores the counters that every push changes.
    #[inline]
    pub(super) fn mirror_fast(&self, c: &ShardCounters) {
        self.mirror.produced.store(c.produced, Ordering::Relaxed);
        self.mirror.bytes.store(c.bytes, Ordering::Relaxed);
    }

    /// Stores all counters (after a drop, a `Lost` record, a reject or a wakeup).
    pub(super) fn mirror_all(&self, c: &ShardCounters) {
        let m = &self.mirror;
        self.mirror_fast(c);
        m.dropped_full.store(c.dropped_full, Ordering::Relaxed);
        m.dropped_oversize.store(c.dropped_oversize, Ordering::Relaxed);
        m.lost_records.store(c.lost_records, Ordering::Relaxed);
        m.consumer_rejects.store(c.consumer_rejects, Ordering::Relaxed);
        m.wakeups.store(c.wakeups, Ordering::Relaxed);
    }

    /// Records dropped while detached, ever (for the informational copy).
    pub(super) fn detached_total(&self) -> u64 {
        self.detached.total.load(Ordering::Relaxed)
    }

    /// A copy of this shard's counters. Takes no lock: callable from any
    /// thread while the writer runs (each field is a recent value; the set
    /// is not a snapshot of one instant).
    pub fn counters(&self) -> ShardCounters {
        let m = &self.mirror;
        ShardCounters {
            produced: m.produced.load(Ordering::Relaxed),
            bytes: m.bytes.load(Ordering::Relaxed),
            dropped_full: m.dropped_full.load(Ordering::Relaxed),
            dropped_oversize: m.dropped_oversize.load(Ordering::Relaxed),
            dropped_detached: self.detached_total(),
            lost_records: m.lost_records.load(Ordering::Relaxed),
            consumer_rejects: m.consumer_rejects.load(Ordering::Relaxed),
            wakeups: m.wakeups.load(Ordering::Relaxed),
        }
    }
}

impl Default for ShardSlot {
    fn default() -> Self {
        Self::new()
    }
}
