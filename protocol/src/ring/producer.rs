//! The producer side: many writers (one per CPU), one shard each.
//!
//! One engine (`push_in`) reserves space, writes the record in place and
//! publishes it; three ways to get exclusive use of a shard's state call it:
//! - [`Producer::push`]: any thread, any shard. Takes the shard's lock for
//!   each record, so CPUs that share a shard (more CPUs than shards) are safe.
//! - [`ShardWriter`] ([`Producer::writer`]): holds its shard's lock for its
//!   whole life, so its pushes execute no locked instruction (user-mode
//!   producers with one thread per shard: the simulator, tests, benchmarks).
//! - [`Producer::push_exclusive`] (unsafe): no lock at all, for a caller
//!   that guarantees it is the shard's only writer (the driver: CPU `i`
//!   writes shard `i` at DISPATCH_LEVEL, when every CPU has its own shard).
//!
//! Everything the producer needs to stay correct lives in [`ShardState`], in
//! the producer's own memory; from the shared region it reads exactly two
//! values, the consumer position (only when its cached copy leaves too little
//! room) and the consumer's wait flag, and treats both as untrusted.

use super::layout::{RING_MAGIC, RingError, RingLayout, ShardControl};
use super::lock::Held;
use super::region::{DataWriter, Region, SharedMemory};
use super::slot::{ShardCounters, ShardSlot, ShardState};
use crate::encode::{Encode, Record, RecordOut, Stamp};
use crate::pod::bytes_of;
use crate::schema::{HEADER_SIZE, Kind, Lost, RECORD_ALIGN, RecordPrefix, SCHEMA_VERSION};
use crate::sync::Ordering;
use core::ops::Deref;

/// How the producer wakes a consumer that asked for it. On Windows a
/// `KeSetEvent` on the event the client registered; in tests a condvar,
/// futex or eventfd.
pub trait Notify {
    /// Wakes the consumer. Called at most once per announced wait, after
    /// the push that found the announcement has published its record. Never
    /// called from inside [`Producer::push`]'s locked section; a
    /// [`ShardWriter`] holds its shard for its whole life, so `notify` must
    /// not push to that shard.
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
    /// (the driver attaches under its rundown protection). Spins while a
    /// [`ShardWriter`] of an earlier producer of these slots lives.
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
            slot.state.with(ShardState::reset_positions);
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
        let n = self.region.layout().shard_count();
        // One CPU per shard is the common case: no division on that path.
        // `RingLayout` guarantees at least one shard; `checked_rem` keeps the
        // division-by-zero panic path out of the kernel build all the same.
        if cpu < n { cpu } else { cpu.checked_rem(n).unwrap_or(0) }
    }

    /// The slot and index of `cpu`'s shard.
    #[inline]
    fn slot_for(&self, cpu: u32) -> Option<(u32, &ShardSlot)> {
        let shard = self.shard_for(cpu);
        self.slots.get(shard as usize).map(|slot| (shard, slot))
    }

    /// Whether a record of `size` bytes would fit in `cpu`'s shard now
    /// (lap padding and a pending `Lost` record included). Takes no sequence
    /// number and counts nothing: for user-mode producers that prefer to wait
    /// for room (as an rtrb producer does) instead of dropping. The driver
    /// never waits and never calls it.
    pub fn has_room(&self, cpu: u32, size: usize) -> bool {
        let Some((shard, slot)) = self.slot_for(cpu) else { return false };
        slot.state.with(|st| self.room_in(slot, st, shard, size))
    }

    fn room_in(&self, slot: &ShardSlot, st: &mut ShardState, shard: u32, size: usize) -> bool {
        let Some(ctl) = self.region.control(shard) else { return false };
        let size = (size as u64 + RECORD_ALIGN as u64 - 1) & !(RECORD_ALIGN as u64 - 1);
        self.room_for(slot, st, ctl, size)
    }

    /// Whether a record of `size` bytes, after the pending `Lost` record if
    /// there is one, fits from `st`'s position. The cached floor is
    /// conservative (the consumer only moves forward), so the shared consumer
    /// position is read only when the cached one leaves too little room: no
    /// cross-CPU traffic while there is space.
    fn room_for(&self, slot: &ShardSlot, st: &mut ShardState, ctl: &ShardControl, size: u64) -> bool {
        let need_both = [LOST_SIZE, size];
        let need: &[u64] = if st.lost_count > 0 { &need_both } else { &need_both[1..] };
        if fits(st, self.shard_size, need) {
            return true;
        }
        // Acquire pairs with the consumer's Release store of `consumer` in
        // `Consumer::release`: it has finished reading the bytes below the
        // value we see, so we may overwrite them.
        if st.advance_floor(ctl.consumer.0.consumer.load(Ordering::Acquire)) {
            ctl.producer.0.consumer_rejects.store(st.counters.consumer_rejects, Ordering::Relaxed);
            slot.mirror_all(&st.counters);
        }
        fits(st, self.shard_size, need)
    }

    /// Writes `record` to the shard of `cpu`. Never blocks beyond the shard
    /// lock's critical section and never allocates: if the shard is full the
    /// record is dropped and counted.
    ///
    /// Kernel callers: IRQL must be >= DISPATCH_LEVEL (see [`super::SpinLock`]).
    #[inline]
    pub fn push<R: Encode + ?Sized>(&self, cpu: u32, record: &R) -> Push {
        let Some((shard, slot)) = self.slot_for(cpu) else {
            // Unreachable: `attach` checked there is a slot per shard.
            return Push::Dropped { seq: 0, reason: DropReason::Full };
        };
        let (result, wake) = slot.state.with(|st| self.push_in(slot, st, shard, record));
        self.signal_if(wake);
        result
    }

    /// [`Producer::push`] without the shard lock: no locked instruction and
    /// no wait, for a writer that owns its shard.
    ///
    /// # Safety
    /// Until this call returns, no other thread accesses the state of the
    /// slot of `self.shard_for(cpu)`: no [`Producer::push`],
    /// [`Producer::has_room`], [`ShardWriter`] or `push_exclusive` for that
    /// shard, and no [`Producer::attach`] with these slots; and every such
    /// access made earlier by another thread happens-before this call. (The
    /// driver: IRQL >= DISPATCH_LEVEL, so nothing else runs on this CPU until
    /// it returns, and every CPU maps to its own shard; pushes of one ring
    /// happen between its attach and its detach, which waits for them.)
    /// [`ShardSlot::counters`] and [`ShardSlot::drop_detached`] are safe
    /// to call concurrently.
    #[inline]
    pub unsafe fn push_exclusive<R: Encode + ?Sized>(&self, cpu: u32, record: &R) -> Push {
        let Some((shard, slot)) = self.slot_for(cpu) else {
            return Push::Dropped { seq: 0, reason: DropReason::Full };
        };
        // SAFETY: this function's contract is `with_unlocked`'s: no other
        // access to the slot's state overlaps this one.
        let (result, wake) = unsafe { slot.state.with_unlocked(|st| self.push_in(slot, st, shard, record)) };
        self.signal_if(wake);
        result
    }

    /// Counts `record` as dropped in the slot of `cpu`'s shard without
    /// touching that shard's state (a CPU that owns no shard while others
    /// push with [`Producer::push_exclusive`]). Reported in the shard's next
    /// `Lost` record.
    pub fn drop_unowned<R: Encode + ?Sized>(&self, cpu: u32, record: &R) {
        if let Some((_, slot)) = self.slot_for(cpu) {
            slot.drop_detached(record);
        }
    }

    /// A writer that owns `shard` until it is dropped: it takes the shard's
    /// lock once, and its pushes then execute no locked instruction. `None`
    /// if there is no such shard or its lock is held now (another writer, or
    /// a [`Producer::push`] in progress). While it lives, a
    /// [`Producer::push`] or [`Producer::has_room`] for its shard spins.
    pub fn writer(&self, shard: u32) -> Option<ShardWriter<'_, S, N>> {
        if shard >= self.region.layout().shard_count() {
            return None;
        }
        let slot = self.slots.get(shard as usize)?;
        let held = slot.state.hold()?;
        Some(ShardWriter { producer: self, slot, shard, held })
    }

    /// Signals the consumer if the push that just returned took its wait
    /// request (outside the shard's state, after the record is published).
    #[inline]
    fn signal_if(&self, wake: bool) {
        if wake {
            self.notify.notify();
        }
    }

    /// Whether the consumer asked to be woken; takes the request if so.
    ///
    /// No fence separates the caller's publishing store from the load here,
    /// so the load may be satisfied before that store is visible to the
    /// consumer (x86 reorders a later load before an earlier store). A
    /// consumer announcing its wait at that same moment may then miss both
    /// the record and the signal; [`super::Consumer::sleep`] bounds its first
    /// sleep for exactly that case. A fence here would cost every push a
    /// drained store buffer; the race costs a rare, bounded delay.
    #[inline]
    fn take_wake(&self) -> bool {
        let waiting = &self.region.header().wait.0.waiting;
        // Relaxed: a hint, not a synchronization point (the signal itself
        // orders our writes before the consumer's wakeup). While the consumer
        // is awake this is a load of a line nobody writes: a cache hit. Any
        // non-zero value counts (the flag is consumer-written, untrusted).
        waiting.load(Ordering::Relaxed) != 0 && waiting.swap(0, Ordering::Relaxed) != 0
    }

    /// Writes one record with exclusive use of the shard's state; returns
    /// what happened and whether to signal the consumer.
    #[inline(always)]
    fn push_in<R: Encode + ?Sized>(
        &self,
        slot: &ShardSlot,
        st: &mut ShardState,
        shard: u32,
        record: &R,
    ) -> (Push, bool) {
        let Some(ctl) = self.region.control(shard) else {
            let seq = st.take_seq();
            return (Push::Dropped { seq, reason: DropReason::Full }, false);
        };
        let p = &ctl.producer.0;
        if slot.fold_detached(st) {
            p.dropped.store(self.dropped(slot, st), Ordering::Relaxed);
        }
        let seq = st.take_seq();
        let Some(plan) = record.plan(self.max_record) else {
            st.note_lost(seq, 0);
            st.counters.dropped_oversize += 1;
            p.dropped.store(self.dropped(slot, st), Ordering::Relaxed);
            slot.mirror_all(&st.counters);
            return (Push::Dropped { seq, reason: DropReason::Oversize }, false);
        };
        let size = u64::from(plan.size);
        // Fast path: no `Lost` record pending and room by the cached floor.
        let (start, pad) = place(st.pos, size, self.shard_size);
        let (result, mut slow) = if st.lost_count == 0 && start + size - st.floor <= self.shard_size {
            self.write_placed(st, shard, &plan, (start, pad), seq, record);
            (Push::Written { seq }, false)
        } else {
            (self.push_slow(slot, st, shard, plan, seq, record), true)
        };

        // Publish. Release pairs with the consumer's Acquire loads of
        // `published` (`Consumer::poll_shard`, `Consumer::has_pending`): the
        // record bytes written above are visible to it once it sees this
        // position. A plain store: no locked instruction on this path.
        p.published.store(st.pos, Ordering::Release);
        // Informational copies: `produced` here (same line as `published`);
        // the others where they change, on the slow paths above.
        p.produced.store(st.counters.produced, Ordering::Relaxed);
        let wake = self.take_wake();
        if wake {
            st.counters.wakeups += 1;
            slow = true;
        }
        if slow {
            slot.mirror_all(&st.counters);
        } else {
            slot.mirror_fast(&st.counters);
        }
        (result, wake)
    }

    /// The rest of `push_in`: a `Lost` record to write first, or too little
    /// room by the cached consumer floor (read the shared one), or a drop.
    /// Takes the plan by value: a reference would keep the fast path's plan
    /// in memory (stores a push need not make).
    #[cold]
    #[inline(never)]
    fn push_slow<R: Encode + ?Sized>(
        &self,
        slot: &ShardSlot,
        st: &mut ShardState,
        shard: u32,
        plan: crate::encode::Plan,
        seq: u64,
        record: &R,
    ) -> Push {
        let Some(ctl) = self.region.control(shard) else {
            return Push::Dropped { seq, reason: DropReason::Full };
        };
        let p = &ctl.producer.0;
        let size = u64::from(plan.size);
        let lost_pending = st.lost_count > 0;
        if self.room_for(slot, st, ctl, size) {
            if lost_pending {
                self.write_lost(st, shard, record.stamp());
                p.lost_records.store(st.counters.lost_records, Ordering::Relaxed);
            }
            self.write_at(st, shard, &plan, seq, record);
            Push::Written { seq }
        } else {
            st.note_lost(seq, size);
            st.counters.dropped_full += 1;
            p.dropped.store(self.dropped(slot, st), Ordering::Relaxed);
            if fits(st, self.shard_size, &[LOST_SIZE]) {
                self.write_lost(st, shard, record.stamp());
                p.lost_records.store(st.counters.lost_records, Ordering::Relaxed);
            }
            Push::Dropped { seq, reason: DropReason::Full }
        }
    }

    /// All drops of the slot so far, for the informational copy.
    fn dropped(&self, slot: &ShardSlot, st: &ShardState) -> u64 {
        st.counters.dropped_full + st.counters.dropped_oversize + slot.detached_total()
    }

    /// Reserves (padding the lap if needed), writes and accounts one record.
    /// The caller has checked that it fits.
    #[inline]
    fn write_at<R: Encode + ?Sized>(
        &self,
        st: &mut ShardState,
        shard: u32,
        plan: &crate::encode::Plan,
        seq: u64,
        record: &R,
    ) {
        let placed = place(st.pos, u64::from(plan.size), self.shard_size);
        self.write_placed(st, shard, plan, placed, seq, record);
    }

    /// [`Self::write_at`] with the placement already computed.
    #[inline(always)]
    fn write_placed<R: Encode + ?Sized>(
        &self,
        st: &mut ShardState,
        shard: u32,
        plan: &crate::encode::Plan,
        (start, pad): (u64, u64),
        seq: u64,
        record: &R,
    ) {
        let size = u64::from(plan.size);
        let shard_size = self.shard_size;
        if pad > 0 {
            let marker = RecordPrefix { size: pad as u32, kind: Kind::Pad as u16, flags: 0 };
            let at = (st.pos & (shard_size - 1)) as usize;
            // SAFETY: `[pos, pos + pad)` is inside the free space the caller
            // checked (its room check) and unpublished; a pad is at least 8 bytes
            // since positions and sizes are multiples of 8.
            unsafe { self.region.write_data(shard, at, bytes_of(&marker)) };
            st.counters.bytes += pad;
        }
        // SAFETY: `[start, start + size)` is inside the free space the caller
        // checked (its room check) and not yet published: our reservation.
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

    /// A copy of `shard`'s counters (no lock; see [`ShardSlot::counters`]).
    pub fn counters(&self, shard: u32) -> Option<ShardCounters> {
        self.slots.get(shard as usize).map(ShardSlot::counters)
    }
}

/// A writer that owns one shard: it holds the shard's lock from
/// [`Producer::writer`] until it is dropped, so a push is the ring protocol
/// alone (plain loads and stores; a locked instruction only to take a wait
/// request). Meant for one thread per shard.
#[derive(Debug)]
pub struct ShardWriter<'p, S: Deref<Target = [ShardSlot]>, N: Notify> {
    producer: &'p Producer<S, N>,
    slot: &'p ShardSlot,
    shard: u32,
    held: Held<'p, ShardState>,
}

impl<S: Deref<Target = [ShardSlot]>, N: Notify> ShardWriter<'_, S, N> {
    /// The shard this writer owns.
    pub fn shard(&self) -> u32 {
        self.shard
    }

    /// Writes `record` ([`Producer::push`] without the lock).
    #[inline]
    pub fn push<R: Encode + ?Sized>(&mut self, record: &R) -> Push {
        let (p, slot, shard) = (self.producer, self.slot, self.shard);
        let (result, wake) = self.held.with(|st| p.push_in(slot, st, shard, record));
        p.signal_if(wake);
        result
    }

    /// [`Producer::has_room`] for this writer's shard.
    pub fn has_room(&mut self, size: usize) -> bool {
        let (p, slot, shard) = (self.producer, self.slot, self.shard);
        self.held.with(|st| p.room_in(slot, st, shard, size))
    }
}
