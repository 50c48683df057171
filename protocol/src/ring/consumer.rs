//! The consumer side: one reader for all shards.
//!
//! Records come out in order within a shard. Across shards there is no
//! order: merge by `(timestamp, shard, seq)` when a global order matters (the
//! analyzer does, per batch). Sequence numbers are per shard and dense: a gap
//! is covered by a `Lost` record (`seq .. seq + count`).
//!
//! The consumer treats the region as untrusted too: a published position
//! that is not a multiple of 8, behind its own, or more than a shard ahead,
//! or a record whose size does not fit, makes it skip to the published
//! position and count a resync, never read out of bounds.

use super::layout::{MAX_SHARDS, RING_MAGIC, RingError, RingLayout};
use super::region::{Region, SharedMemory};
use crate::decode::{DecodeError, Event, decode};
use crate::pod::read;
use crate::schema::{HEADER_SIZE, Kind, RECORD_ALIGN, RecordPrefix, SCHEMA_VERSION};
use crate::sync::{Ordering, fence};

/// Longest first sleep after [`Consumer::prepare_wait`], in milliseconds.
///
/// A producer publishes with a plain store and then reads the wait flag with
/// no fence between them, so a push that races with `prepare_wait` can be
/// missed by both sides: the consumer does not see the record yet, and the
/// producer read the flag before the consumer's store reached it. Such a
/// push's store becomes visible within the store buffer's drain time
/// (nanoseconds), so after a first sleep of this length a re-check finds it;
/// from then on the flag has been visible to every CPU for that long, so any
/// later push sees it and signals. [`Consumer::sleep`] follows this rule.
pub const FIRST_SLEEP_MS: u32 = 1;

/// One record handed to the consumer callback.
#[derive(Debug)]
pub struct ShardItem<'a> {
    /// The shard it came from.
    pub shard: u32,
    /// Its byte position in the shard's stream.
    pub pos: u64,
    /// The decoded record, or why it could not be decoded (the record is
    /// skipped; the ones after it are still read).
    pub record: Result<Event<'a>, DecodeError>,
}

/// One record's raw bytes, from [`Consumer::poll_raw`].
#[derive(Debug)]
pub struct RawItem<'a> {
    /// The shard it came from.
    pub shard: u32,
    /// Its byte position in the shard's stream.
    pub pos: u64,
    /// The record, `size` bytes (the header's first field).
    pub bytes: &'a [u8],
}

/// What [`walk_segment`] did.
struct Walked {
    consumed: u64,
    records: usize,
    corrupt: bool,
}

/// Hands the records of one contiguous, published segment to `f`.
/// `lap_rest`: bytes from the segment's start to the end of the lap, where a
/// padding marker must end. `hard`: the segment ends at the published
/// position or at the end of the lap, so a record crossing its end is
/// corruption; otherwise (a quarter-shard cap) the walk stops before it.
#[inline]
fn walk_segment<F: FnMut(u64, &[u8]) + ?Sized>(
    seg: &[u8],
    base: u64,
    lap_rest: usize,
    hard: bool,
    budget: usize,
    f: &mut F,
) -> Walked {
    let mut at = 0usize;
    let mut records = 0;
    let stop = |at: usize, records, corrupt| Walked { consumed: at as u64, records, corrupt };
    while at < seg.len() && records < budget {
        let rest = seg.get(at..).unwrap_or(&[]);
        let Some(prefix) = read::<RecordPrefix>(rest) else { return stop(at, records, hard) };
        let size = prefix.size as usize;
        if prefix.kind == Kind::Pad as u16 {
            if size != lap_rest - at {
                return stop(at, records, true);
            }
            if size > rest.len() {
                return stop(at, records, hard);
            }
            at += size;
            continue;
        }
        if size < HEADER_SIZE || !size.is_multiple_of(RECORD_ALIGN) {
            return stop(at, records, true);
        }
        let Some(bytes) = rest.get(..size) else { return stop(at, records, hard) };
        f(base + at as u64, bytes);
        records += 1;
        at += size;
    }
    stop(at, records, false)
}

/// The consumer's own counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConsumerStats {
    /// Records handed to the callback (decoded or not).
    pub records: u64,
    /// Records that failed to decode.
    pub decode_errors: u64,
    /// Times the shard structure was broken and the consumer skipped ahead.
    pub resyncs: u64,
    /// Bytes skipped by resyncs.
    pub resync_bytes: u64,
}

/// Reads every shard of one ring.
#[derive(Debug)]
pub struct Consumer {
    region: Region,
    /// Next position to read, per shard.
    pos: [u64; MAX_SHARDS],
    /// Last position stored to shared memory, per shard.
    released: [u64; MAX_SHARDS],
    max_record: usize,
    stats: ConsumerStats,
}

impl Consumer {
    /// Attaches to a ring the producer has initialized, and resumes each
    /// shard at the consumer position stored in it (so a restarted consumer
    /// continues where the previous one released).
    pub fn attach(mem: SharedMemory) -> Result<Self, RingError> {
        let ident = &mem.header().ident.0;
        // Acquire pairs with the producer's Release store of `magic` in
        // `Producer::attach`: the fields read below are initialized.
        let magic = ident.magic.load(Ordering::Acquire);
        if magic != RING_MAGIC {
            return Err(RingError::BadMagic { found: magic });
        }
        let protocol = ident.protocol_version.load(Ordering::Relaxed);
        let schema = ident.schema_version.load(Ordering::Relaxed);
        if protocol >> 16 != crate::PROTOCOL_VERSION >> 16 || schema != SCHEMA_VERSION {
            return Err(RingError::VersionMismatch { protocol, schema });
        }
        let layout =
            RingLayout::new(ident.shard_count.load(Ordering::Relaxed), ident.shard_size.load(Ordering::Relaxed))?;
        let max_record = ident.max_record.load(Ordering::Relaxed) as usize;
        if ident.header_size.load(Ordering::Relaxed) as usize != layout.header_size()
            || max_record < HEADER_SIZE
            || max_record > layout.max_record()
        {
            return Err(RingError::BadHeader);
        }
        let region = Region::new(mem, layout)?;
        let mut c = Self {
            region,
            pos: [0; MAX_SHARDS],
            released: [0; MAX_SHARDS],
            max_record,
            stats: ConsumerStats::default(),
        };
        for shard in 0..layout.shard_count() {
            let Some(ctl) = c.region.control(shard) else {
                continue;
            };
            let stored = ctl.consumer.0.consumer.load(Ordering::Relaxed);
            let published = ctl.producer.0.published.load(Ordering::Acquire);
            let size = u64::from(layout.shard_size());
            let valid = stored % RECORD_ALIGN as u64 == 0 && stored <= published && published - stored <= size;
            let start = if valid { stored } else { published };
            if let (Some(p), Some(r)) = (c.pos.get_mut(shard as usize), c.released.get_mut(shard as usize)) {
                *p = start;
                *r = stored;
            }
        }
        Ok(c)
    }

    /// The ring's geometry.
    pub fn layout(&self) -> &RingLayout {
        self.region.layout()
    }

    /// Largest record the producer announced.
    pub fn max_record(&self) -> usize {
        self.max_record
    }

    /// Counters so far.
    pub fn stats(&self) -> ConsumerStats {
        self.stats
    }

    /// The producer's informational counters for `shard`, as published in
    /// shared memory: `(produced, dropped, lost_records, consumer_rejects)`.
    pub fn producer_counters(&self, shard: u32) -> Option<(u64, u64, u64, u64)> {
        let p = &self.region.control(shard)?.producer.0;
        Some((
            p.produced.load(Ordering::Relaxed),
            p.dropped.load(Ordering::Relaxed),
            p.lost_records.load(Ordering::Relaxed),
            p.consumer_rejects.load(Ordering::Relaxed),
        ))
    }

    /// Reads up to `max_records` records from `shard`, calling `f` for each
    /// decoded record (or its decode error), then releases the space they
    /// used. Returns the number read.
    pub fn poll_shard(
        &mut self,
        shard: u32,
        max_records: usize,
        f: &mut (impl FnMut(ShardItem<'_>) + ?Sized),
    ) -> usize {
        let mut decode_errors = 0;
        let n = self.walk_shard(shard, max_records, &mut |pos, bytes| {
            let record = decode(bytes);
            if record.is_err() {
                decode_errors += 1;
            }
            f(ShardItem { shard, pos, record });
        });
        self.stats.decode_errors += decode_errors;
        n
    }

    /// Like [`Consumer::poll_shard`], but hands out each record's raw bytes
    /// (ring structure checked: size, alignment, bounds; the record itself not
    /// decoded), e.g. to write a capture file.
    pub fn poll_raw(&mut self, shard: u32, max_records: usize, f: &mut (impl FnMut(RawItem<'_>) + ?Sized)) -> usize {
        self.walk_shard(shard, max_records, &mut |pos, bytes| f(RawItem { shard, pos, bytes }))
    }

    /// Reads up to `max_per_shard` records from every shard in turn.
    pub fn poll(&mut self, max_per_shard: usize, f: &mut (impl FnMut(ShardItem<'_>) + ?Sized)) -> usize {
        (0..self.region.layout().shard_count()).map(|s| self.poll_shard(s, max_per_shard, f)).sum()
    }

    /// Walks the published records of `shard` one contiguous segment at a
    /// time (at most a quarter shard, so space is given back early during
    /// long batches), releasing each segment after its records were handled.
    fn walk_shard<F: FnMut(u64, &[u8])>(&mut self, shard: u32, max_records: usize, f: &mut F) -> usize {
        let Some(ctl) = self.region.control(shard) else { return 0 };
        let Some(&start) = self.pos.get(shard as usize) else { return 0 };
        // Acquire pairs with the producer's Release store of `published` in
        // `Producer::push_in`: every record below it is fully written.
        let published = ctl.producer.0.published.load(Ordering::Acquire);
        let size = u64::from(self.region.layout().shard_size());
        let mask = size - 1;
        if !published.is_multiple_of(RECORD_ALIGN as u64) || published < start || published - start > size {
            self.resync(shard, start, published);
            return 0;
        }
        let mut pos = start;
        let mut read_count = 0;
        while pos < published && read_count < max_records {
            let off = pos & mask;
            let to_end = size - off;
            let avail = published - pos;
            let quarter = size / 4;
            // A segment ends at the published position or at the end of the
            // lap ("hard": a record crossing it is corruption) or at the
            // quarter-shard cap ("soft": a record crossing it starts the next
            // segment; records are at most a quarter shard, so one fits).
            let (seg_len, hard) =
                if avail.min(to_end) <= quarter { (avail.min(to_end), true) } else { (quarter, false) };
            let budget = max_records - read_count;
            // SAFETY: `[off, off + seg_len)` is below `published` (acquired
            // above), at or after our position (not released), and inside the
            // shard (`seg_len <= to_end`), so the producer does not write it
            // while `walk_segment` reads it.
            let walked = unsafe {
                self.region.read_data(shard, off as usize, seg_len as usize, |seg| {
                    walk_segment(seg, pos, to_end as usize, hard, budget, f)
                })
            };
            let Some(walked) = walked else { break };
            read_count += walked.records;
            pos += walked.consumed;
            self.stats.records += walked.records as u64;
            if walked.corrupt {
                self.resync(shard, pos, published);
                return read_count;
            }
            if walked.consumed == 0 {
                break;
            }
            self.release(shard, pos);
        }
        if let Some(p) = self.pos.get_mut(shard as usize) {
            *p = pos;
        }
        read_count
    }

    /// Whether any shard has published records not yet read.
    pub fn has_pending(&self) -> bool {
        (0..self.region.layout().shard_count()).any(|shard| {
            let Some(ctl) = self.region.control(shard) else { return false };
            // Acquire: as in `walk_shard`.
            let published = ctl.producer.0.published.load(Ordering::Acquire);
            published != self.pos.get(shard as usize).copied().unwrap_or(0)
        })
    }

    /// Announces that the consumer is about to sleep. Returns `true` if it
    /// may: nothing is pending, and a producer that publishes from now on
    /// will call [`super::Notify::notify`] (one that publishes at this very
    /// moment may not: see [`FIRST_SLEEP_MS`]). Returns `false` (and
    /// withdraws the announcement) if records arrived meanwhile. Prefer
    /// [`Consumer::sleep`], which also follows the first-sleep rule.
    pub fn prepare_wait(&self) -> bool {
        let waiting = &self.region.header().wait.0.waiting;
        waiting.store(1, Ordering::Relaxed);
        // SeqCst fence: our flag store is ordered before the loads of
        // `published` below (a store followed by a load to another location
        // is the one reordering x86 does). So for any push, either we see
        // its record here, or its later load of the flag reads 1 — unless
        // its own load overtook its publishing store (no fence on the
        // producer side by design): that case is what `FIRST_SLEEP_MS` covers.
        fence(Ordering::SeqCst);
        if self.has_pending() {
            self.cancel_wait();
            return false;
        }
        true
    }

    /// Withdraws a wait announcement (after waking up, or by timeout).
    pub fn cancel_wait(&self) {
        self.region.header().wait.0.waiting.store(0, Ordering::Relaxed);
    }

    /// Sleeps until records may be pending or `timeout_ms` passed, through
    /// `wait(ms)`: the platform's wait for the producer's signal (returns
    /// when signalled or after `ms`). Announces the wait, sleeps at most
    /// [`FIRST_SLEEP_MS`], re-checks, then sleeps the rest with the
    /// announcement still up, and withdraws it. Returns without sleeping
    /// (`false`) if records are pending.
    pub fn sleep(&self, timeout_ms: u32, wait: &mut dyn FnMut(u32)) -> bool {
        if !self.prepare_wait() {
            return false;
        }
        let first = timeout_ms.min(FIRST_SLEEP_MS);
        wait(first);
        if timeout_ms > first && !self.has_pending() {
            wait(timeout_ms - first);
        }
        self.cancel_wait();
        true
    }

    fn release(&mut self, shard: u32, pos: u64) {
        if let Some(ctl) = self.region.control(shard) {
            // Release pairs with the producer's Acquire load of `consumer` in
            // `Producer::push`: our reads of the bytes below `pos` happen
            // before it reuses them.
            ctl.consumer.0.consumer.store(pos, Ordering::Release);
        }
        if let Some(r) = self.released.get_mut(shard as usize) {
            *r = pos;
        }
    }

    fn resync(&mut self, shard: u32, from: u64, to: u64) {
        self.stats.resyncs = self.stats.resyncs.saturating_add(1);
        // `to` is whatever a hostile peer stored: the distance can be close
        // to 2^64, and the sum must not overflow (a panic in checked builds).
        self.stats.resync_bytes = self.stats.resync_bytes.saturating_add(to.abs_diff(from));
        if let Some(p) = self.pos.get_mut(shard as usize) {
            *p = to;
        }
        self.release(shard, to);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_published_positions_are_counted_without_overflow() {
        let layout = RingLayout::new(1, 4096).unwrap();
        let mem = SharedMemory::alloc_for(layout);
        let slots = [super::super::ShardSlot::new()];
        let _p = super::super::Producer::attach(mem.clone(), layout, &slots[..], super::super::NoNotify, 1024).unwrap();
        let mut c = Consumer::attach(mem).unwrap();
        let published = &c.region.control(0).unwrap().producer.0.published;
        // Far ahead, then far behind (0): each is a resync of ~2^64 bytes.
        published.store(!7, Ordering::Release);
        assert_eq!(c.poll(10, &mut |_| panic!("nothing to read")), 0);
        let published = &c.region.control(0).unwrap().producer.0.published;
        published.store(0, Ordering::Release);
        assert_eq!(c.poll(10, &mut |_| panic!("nothing to read")), 0);
        assert_eq!((c.stats().resyncs, c.stats().resync_bytes), (2, u64::MAX));
    }
}
