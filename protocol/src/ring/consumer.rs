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

    /// Reads up to `max_records` records from `shard`, calling `f` for each,
    /// then releases the space they used. Returns the number read.
    pub fn poll_shard(&mut self, shard: u32, max_records: usize, f: &mut dyn FnMut(ShardItem<'_>)) -> usize {
        let Some(ctl) = self.region.control(shard) else {
            return 0;
        };
        let (Some(&start), Some(&released)) = (self.pos.get(shard as usize), self.released.get(shard as usize)) else {
            return 0;
        };
        // Acquire pairs with the producer's Release store of `published` in
        // `Producer::push`: every record below it is fully written.
        let published = ctl.producer.0.published.load(Ordering::Acquire);
        let size = u64::from(self.region.layout().shard_size());
        let mask = size - 1;
        let mut pos = start;
        let mut read_count = 0;
        let mut last_release = released;
        if published % RECORD_ALIGN as u64 != 0 || published < pos || published - pos > size {
            self.resync(shard, pos, published);
            return 0;
        }
        while pos < published && read_count < max_records {
            let off = pos & mask;
            let to_end = size - off;
            let avail = published - pos;
            // SAFETY: `[off, off + 8)` is below `published` (avail >= 8 since
            // both are multiples of 8) and not yet released, so the producer
            // does not write it while we read.
            let prefix: Option<RecordPrefix> = unsafe { self.region.read_data(shard, off as usize, 8, read) }.flatten();
            let Some(prefix) = prefix else { break };
            let rec = u64::from(prefix.size);
            if prefix.kind == Kind::Pad as u16 {
                if rec != to_end || rec > avail {
                    self.resync(shard, pos, published);
                    return read_count;
                }
                pos += rec;
                continue;
            }
            if rec < HEADER_SIZE as u64 || rec % RECORD_ALIGN as u64 != 0 || rec > to_end || rec > avail {
                self.resync(shard, pos, published);
                return read_count;
            }
            let stats = &mut self.stats;
            // SAFETY: as above, `[off, off + rec)` is published, unreleased
            // and inside the shard (`rec <= to_end`).
            let _ = unsafe {
                self.region.read_data(shard, off as usize, rec as usize, |bytes| {
                    let record = decode(bytes);
                    if record.is_err() {
                        stats.decode_errors += 1;
                    }
                    stats.records += 1;
                    f(ShardItem { shard, pos, record });
                })
            };
            pos += rec;
            read_count += 1;
            // Give space back early during long batches.
            if pos - last_release >= size / 4 {
                self.release(shard, pos);
                last_release = pos;
            }
        }
        if let Some(p) = self.pos.get_mut(shard as usize) {
            *p = pos;
        }
        if pos != last_release {
            self.release(shard, pos);
        }
        read_count
    }

    /// Reads up to `max_per_shard` records from every shard in turn.
    pub fn poll(&mut self, max_per_shard: usize, f: &mut dyn FnMut(ShardItem<'_>)) -> usize {
        (0..self.region.layout().shard_count()).map(|s| self.poll_shard(s, max_per_shard, f)).sum()
    }

    /// Whether any shard has published records not yet read.
    pub fn has_pending(&self) -> bool {
        (0..self.region.layout().shard_count()).any(|shard| {
            let Some(ctl) = self.region.control(shard) else {
                return false;
            };
            // Acquire: as in `poll_shard`.
            ctl.producer.0.published.load(Ordering::Acquire) != self.pos.get(shard as usize).copied().unwrap_or(0)
        })
    }

    /// Announces that the consumer is about to sleep. Returns `true` if it
    /// may: nothing is pending and a producer that publishes from now on
    /// will call [`super::Notify::notify`]. Returns `false` (and withdraws
    /// the announcement) if records arrived meanwhile.
    pub fn prepare_wait(&self) -> bool {
        let waiting = &self.region.header().waiting.0.waiting;
        waiting.store(1, Ordering::Relaxed);
        // Pairs with the SeqCst fence in `Producer::push` (Dekker): either the
        // producer sees `waiting == 1` and signals, or we see its `published`.
        fence(Ordering::SeqCst);
        if self.has_pending() {
            waiting.store(0, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Withdraws a wait announcement (after waking up by timeout).
    pub fn cancel_wait(&self) {
        self.region.header().waiting.0.waiting.store(0, Ordering::Relaxed);
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
