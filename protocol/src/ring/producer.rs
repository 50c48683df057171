//! The producer side: many writers (one per CPU), one shard each.
//!
//! A writer picks the shard of its CPU, takes that shard's lock, and under it
//! reserves space, writes the record in place and publishes it. Everything
//! the producer needs to stay correct lives in [`ShardState`], in the
//! producer's own memory; from the shared region it reads exactly two
//! values, the consumer position (only when its cached copy leaves too little
//! room) and the wait bit in the old `published` word its publishing `swap`
//! returns, and treats both as untrusted.

use super::layout::{RING_MAGIC, RingError, RingLayout, WAIT_BIT};
use super::lock::SpinLock;
use super::region::{DataWriter, Region, SharedMemory};
use crate::encode::{Encode, Record, RecordOut, Stamp};
use crate::pod::{bytes_of, wire_struct};
use crate::schema::{HEADER_SIZE, Kind, Lost, RECORD_ALIGN, RecordPrefix, SCHEMA_VERSION};
use crate::sync::Ordering;
use core::ops::Deref;

/// How the producer wakes a consumer that asked for it. On Windows a
/// `KeSetEvent` on the event the client registered; in tests a condvar,
/// futex or eventfd.
pub trait Notify {
    /// Wakes the consumer. Called at most once per announced wait, outside
    /// any shard lock.
    fn notify(&self);
}

/// A [`Notify`] that does nothing (a consumer that polls).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoNotify;

impl Notify for NoNotify {
    fn notify(&self) {}
}

impl<N: Notify + ?Sized> Notify for &N {
    fn notify(&self) {
        (**self).notify();
    }
}

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
        /// Records dropped because no ring was attached.
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
    /// Reserve, commit and published position are one number: the shard
    /// lock admits one reservation at a time, and it is published before the
    /// lock is released. Invariant: `floor <= pos <= floor + shard_size`.
    pos: u64,
    /// Last validated consumer position: the producer never writes below
    /// `floor + shard_size`. Never decreases while a ring is attached.
    floor: u64,
    /// Next sequence number. Survives detach/attach, so sequence numbers of
    /// one driver run never repeat.
    seq: u64,
    /// Records dropped since the last `Lost` record: first seq, count, bytes.
    lost_first: u64,
    lost_count: u64,
    lost_bytes: u64,
    counters: ShardCounters,
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

    /// Counters so far.
    pub fn counters(&self) -> ShardCounters {
        self.counters
    }

    fn take_seq(&mut self) -> u64 {
        let s = self.seq;
        self.seq = self.seq.wrapping_add(1);
        s
    }

    fn note_lost(&mut self, seq: u64, bytes: u64) {
        if self.lost_count == 0 {
            self.lost_first = seq;
        }
        self.lost_count += 1;
        self.lost_bytes += bytes;
    }

    /// Validates the consumer position read from shared memory and moves
    /// `floor` up to it. Whatever the value, the result stays within
    /// `[floor, pos]`: a consumer that writes garbage can make the producer
    /// overwrite records it has not read yet (its own loss), never write
    /// outside the shard or block.
    /// Returns whether the value was rejected (and counted).
    fn advance_floor(&mut self, raw: u64) -> bool {
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
}

/// A shard's lock and private state, padded to its own cache lines.
#[repr(align(128))]
#[derive(Debug)]
pub struct ShardSlot {
    state: SpinLock<ShardState>,
}

impl ShardSlot {
    /// A fresh slot. `const`, so the driver can keep its slots in a
    /// `static` array.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Self { state: SpinLock::new(ShardState::new()) }
    }

    /// A fresh slot.
    #[cfg(loom)]
    pub fn new() -> Self {
        Self { state: SpinLock::new(ShardState::new()) }
    }

    /// Counts a record dropped while no ring is attached. It is reported in
    /// the first `Lost` record after the next attach. Planning `record` is
    /// all this does; nothing is written.
    pub fn drop_detached<R: Encode + ?Sized>(&self, record: &R) {
        let bytes = record.plan(crate::schema::MAX_RECORD_SIZE).map_or(0, |p| u64::from(p.size));
        self.state.with(|st| {
            let seq = st.take_seq();
            st.note_lost(seq, bytes);
            st.counters.dropped_detached += 1;
        });
    }

    /// A copy of this shard's counters.
    pub fn counters(&self) -> ShardCounters {
        self.state.with(|st| st.counters)
    }
}

impl Default for ShardSlot {
    fn default() -> Self {
        Self::new()
    }
}

/// What happened to a pushed record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Push {
    /// Written and published with this sequence number.
    Written {
        /// The record's sequence number.
        seq: u64,
    },
    /// Dropped and counted; a `Lost` record will report it.
    Dropped {
        /// The sequence number the record would have had.
        seq: u64,
        /// Why.
        reason: DropReason,
    },
}

/// Why a record was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The shard had no room (the consumer is behind or gone).
    Full,
    /// The record's fixed part is larger than the ring's record limit.
    Oversize,
}

/// Size of a `Lost` record.
const LOST_SIZE: u64 = (HEADER_SIZE + core::mem::size_of::<Lost>()) as u64;

/// Where a record of `size` bytes goes if written at position `pos`:
/// `(start, pad)`. Records never wrap: if it does not fit before the end of
/// the buffer, the rest of the lap is padding and the record starts the next.
#[inline]
fn place(pos: u64, size: u64, shard_size: u64) -> (u64, u64) {
    let to_end = shard_size - (pos & (shard_size - 1));
    if size > to_end { (pos + to_end, to_end) } else { (pos, 0) }
}

/// Whether records of `sizes`, written in order from `st.pos` (with lap
/// padding), stay within `shard_size` bytes of the consumer floor.
#[inline]
fn fits(st: &ShardState, shard_size: u64, sizes: &[u64]) -> bool {
    let mut pos = st.pos;
    for &s in sizes {
        pos = place(pos, s, shard_size).0 + s;
    }
    pos - st.floor <= shard_size
}

/// Writes into the reserved bytes of one record.
struct ReservedOut<'r>(DataWriter<'r>);

impl RecordOut for ReservedOut<'_> {
    #[inline]
    fn put(&mut self, at: usize, bytes: &[u8]) {
        self.0.put(at, bytes);
    }
}

/// The producer of one attached ring. Shared by all writers (`&self`).
///
/// `S` holds the shard slots: `&'static [ShardSlot]` in the driver (a
/// `static` array), a `Vec` or `Arc<[ShardSlot]>` in user mode.
#[derive(Debug)]
pub struct Producer<S: Deref<Target = [ShardSlot]>, N: Notify> {
    region: Region,
    slots: S,
    notify: N,
    max_record: usize,
    /// `region.layout().shard_size()`, the producer's own copy.
    shard_size: u64,
}

impl<S: Deref<Target = [ShardSlot]>, N: Notify> Producer<S, N> {
    /// Initializes `mem` as a ring with `layout` and returns its producer.
    ///
    /// Writes the header (magic last, with Release), resets each slot's
    /// positions to 0 and keeps their sequence numbers, pending losses and
    /// counters. `max_record` is capped at [`RingLayout::max_record`].
    ///
    /// The caller must make sure no other producer for these slots is alive
    /// (the driver attaches under its rundown protection).
    pub fn attach(
        mem: SharedMemory,
        layout: RingLayout,
        slots: S,
        notify: N,
        max_record: usize,
    ) -> Result<Self, RingError> {
        if slots.len() < layout.shard_count() as usize {
            return Err(RingError::NotEnoughSlots { slots: slots.len(), shards: layout.shard_count() });
        }
        let region = Region::new(mem, layout)?;
        region.memory().zero_header(&layout);
        let ident = &region.header().ident.0;
        ident.protocol_version.store(crate::PROTOCOL_VERSION, Ordering::Relaxed);
        ident.schema_version.store(SCHEMA_VERSION, Ordering::Relaxed);
        ident.header_size.store(layout.header_size() as u32, Ordering::Relaxed);
        ident.shard_count.store(layout.shard_count(), Ordering::Relaxed);
        ident.shard_size.store(layout.shard_size(), Ordering::Relaxed);
        let max_record = max_record.min(layout.max_record()) & !(RECORD_ALIGN - 1);
        ident.max_record.store(max_record as u32, Ordering::Relaxed);
        for slot in slots.iter().take(layout.shard_count() as usize) {
            slot.state.with(|st| {
                st.pos = 0;
                st.floor = 0;
            });
        }
        // Release pairs with the consumer's Acquire load of `magic` in
        // `Consumer::attach`: the fields above are visible once it matches.
        ident.magic.store(RING_MAGIC, Ordering::Release);
        let shard_size = u64::from(layout.shard_size());
        Ok(Self { region, slots, notify, max_record, shard_size })
    }

    /// The ring's geometry.
    pub fn layout(&self) -> &RingLayout {
        self.region.layout()
    }

    /// Largest record this producer writes.
    pub fn max_record(&self) -> usize {
        self.max_record
    }

    /// The shard writer `cpu` uses.
    #[inline]
    pub fn shard_for(&self, cpu: u32) -> u32 {
        // `RingLayout` guarantees at least one shard; `checked_rem` keeps the
        // division-by-zero panic path out of the kernel build all the same.
        cpu.checked_rem(self.region.layout().shard_count()).unwrap_or(0)
    }

    /// Whether a record of `size` bytes would fit in `cpu`'s shard now
    /// (lap padding and a pending `Lost` record included). Takes no sequence
    /// number and counts nothing: for user-mode producers that prefer to wait
    /// for room (as an rtrb producer does) instead of dropping. The driver
    /// never waits and never calls it.
    pub fn has_room(&self, cpu: u32, size: usize) -> bool {
        let shard = self.shard_for(cpu);
        let (Some(slot), Some(ctl)) = (self.slots.get(shard as usize), self.region.control(shard)) else {
            return false;
        };
        let size = (size as u64 + RECORD_ALIGN as u64 - 1) & !(RECORD_ALIGN as u64 - 1);
        slot.state.with(|st| {
            let need_both = [LOST_SIZE, size];
            let need: &[u64] = if st.lost_count > 0 { &need_both } else { &need_both[1..] };
            if !fits(st, self.shard_size, need)
                // Acquire: as in `push_locked`.
                && st.advance_floor(ctl.consumer.0.consumer.load(Ordering::Acquire))
            {
                ctl.producer.0.consumer_rejects.store(st.counters.consumer_rejects, Ordering::Relaxed);
            }
            fits(st, self.shard_size, need)
        })
    }

    /// Writes `record` to the shard of `cpu`. Never blocks beyond the shard
    /// lock's critical section and never allocates: if the shard is full the
    /// record is dropped and counted.
    ///
    /// Kernel callers: IRQL must be >= DISPATCH_LEVEL (see [`SpinLock`]).
    #[inline]
    pub fn push<R: Encode + ?Sized>(&self, cpu: u32, record: &R) -> Push {
        let shard = self.shard_for(cpu);
        let Some(slot) = self.slots.get(shard as usize) else {
            // Unreachable: `attach` checked there is a slot per shard.
            return Push::Dropped { seq: 0, reason: DropReason::Full };
        };
        let (result, wake) = slot.state.with(|st| self.push_locked(st, shard, record));
        if wake {
            self.notify.notify();
        }
        result
    }

    fn push_locked<R: Encode + ?Sized>(&self, st: &mut ShardState, shard: u32, record: &R) -> (Push, bool) {
        let seq = st.take_seq();
        let Some(ctl) = self.region.control(shard) else {
            return (Push::Dropped { seq, reason: DropReason::Full }, false);
        };
        let Some(plan) = record.plan(self.max_record) else {
            st.note_lost(seq, 0);
            st.counters.dropped_oversize += 1;
            return (Push::Dropped { seq, reason: DropReason::Oversize }, false);
        };
        let size = u64::from(plan.size);
        let shard_size = self.shard_size;
        let lost_pending = st.lost_count > 0;
        // The cached floor is conservative (the consumer only moves forward),
        // so the shared consumer position is read only when the cached one
        // leaves too little room: no cross-CPU traffic while there is space.
        let need_both = [LOST_SIZE, size];
        let need: &[u64] = if lost_pending { &need_both } else { &need_both[1..] };
        let p = &ctl.producer.0;
        if !fits(st, shard_size, need) {
            // Acquire pairs with the consumer's Release store of `consumer`
            // in `Consumer::release`: it has finished reading the bytes below
            // the value we see, so we may overwrite them.
            if st.advance_floor(ctl.consumer.0.consumer.load(Ordering::Acquire)) {
                p.consumer_rejects.store(st.counters.consumer_rejects, Ordering::Relaxed);
            }
        }
        let result = if fits(st, shard_size, need) {
            if lost_pending {
                self.write_lost(st, shard, record.stamp());
                p.lost_records.store(st.counters.lost_records, Ordering::Relaxed);
            }
            self.write_at(st, shard, &plan, seq, record);
            Push::Written { seq }
        } else {
            st.note_lost(seq, size);
            st.counters.dropped_full += 1;
            p.dropped.store(st.counters.dropped(), Ordering::Relaxed);
            if fits(st, shard_size, &[LOST_SIZE]) {
                self.write_lost(st, shard, record.stamp());
                p.lost_records.store(st.counters.lost_records, Ordering::Relaxed);
            }
            Push::Dropped { seq, reason: DropReason::Full }
        };

        // Publish and take the wakeup request in one RMW. Release pairs with
        // the consumer's Acquire loads of `published` (`Consumer::poll_shard`,
        // `Consumer::prepare_wait`): the record bytes written above are
        // visible to it once it sees this position. Bit 0 of the old value is
        // the consumer's wait flag (`WAIT_BIT`): `prepare_wait` sets it with
        // `fetch_or` on this same word. Both are RMWs on one location, so one
        // of them is first: either we see the flag and signal, or its
        // `fetch_or` returns our new position and it does not sleep. Only that
        // bit of the old value is used (it is consumer-writable, untrusted).
        let old = p.published.swap(st.pos, Ordering::Release);
        let wake = old & WAIT_BIT != 0;
        if wake {
            st.counters.wakeups += 1;
        }
        // Informational copies: `produced` here (same line as `published`);
        // the others where they change, on the slow paths above.
        p.produced.store(st.counters.produced, Ordering::Relaxed);
        (result, wake)
    }

    /// Reserves (padding the lap if needed), writes and accounts one record.
    /// The caller has checked that it fits.
    fn write_at<R: Encode + ?Sized>(
        &self,
        st: &mut ShardState,
        shard: u32,
        plan: &crate::encode::Plan,
        seq: u64,
        record: &R,
    ) {
        let size = u64::from(plan.size);
        let shard_size = self.shard_size;
        let (start, pad) = place(st.pos, size, shard_size);
        if pad > 0 {
            let marker = RecordPrefix { size: pad as u32, kind: Kind::Pad as u16, flags: 0 };
            let at = (st.pos & (shard_size - 1)) as usize;
            // SAFETY: `[pos, pos + pad)` is inside the free space the caller
            // checked (`fits`) and unpublished; a pad is at least 8 bytes
            // since positions and sizes are multiples of 8.
            unsafe { self.region.write_data(shard, at, bytes_of(&marker)) };
            st.counters.bytes += pad;
        }
        // SAFETY: `[start, start + size)` is inside the free space the caller
        // checked (`fits`) and not yet published: our reservation.
        if let Some(w) = unsafe { self.region.writer(shard, (start & (shard_size - 1)) as usize, size as usize) } {
            record.write(plan, seq, &mut ReservedOut(w));
        }
        st.pos = start + size;
        st.counters.produced += 1;
        st.counters.bytes += size;
    }

    /// Writes the pending `Lost` record and clears the pending count.
    fn write_lost(&self, st: &mut ShardState, shard: u32, stamp: Stamp) {
        let lost = Record::new(
            Stamp { timestamp: stamp.timestamp, pid: 0, tid: 0, process_key: 0 },
            Lost { count: st.lost_count, bytes: st.lost_bytes },
        );
        let Some(plan) = lost.plan(self.max_record) else {
            return;
        };
        let first = st.lost_first;
        self.write_at(st, shard, &plan, first, &lost);
        st.lost_count = 0;
        st.lost_bytes = 0;
        st.counters.lost_records += 1;
    }

    /// A copy of `shard`'s counters.
    pub fn counters(&self, shard: u32) -> Option<ShardCounters> {
        self.slots.get(shard as usize).map(ShardSlot::counters)
    }
}
