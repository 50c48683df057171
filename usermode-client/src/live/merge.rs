//! Merging shards: records of all shards, delivered in timestamp order.
//!
//! Shards have no order between them, and mapping needs one: a process's
//! `ProcessStart` (one CPU) must reach the process table before its first
//! file event (another CPU), or that event has no `Image`. Sorting each sweep
//! by `(timestamp, shard, position)` is not quite enough, because a sweep
//! reads shards one after another: it can read the file event on shard 1
//! before the `ProcessStart` it depends on is published on shard 0, and then
//! read shard 0 too early. What the producer does guarantee is causality: a
//! record's predecessors (earlier timestamps: the process existed before it
//! acted) were published before it was. So every predecessor of a record read
//! in sweep *k* is visible to sweep *k + 1*.
//!
//! Hence a watermark: records of a sweep are *held* until the next sweep has
//! run, then delivered together with the next sweep's records that are not
//! later than the latest held one; later ones are held in turn. A sweep that
//! finds nothing new releases everything held. The cost is one sweep of
//! delay, a few microseconds when the ring is quiet.
//!
//! The merger also checks each shard's sequence numbers as records arrive:
//! they are dense, and a `Lost` record covers exactly its `count` numbers, so
//! any other gap means records were skipped or corrupted.

use vigil_protocol::decode::{self, Event};
use vigil_protocol::ring::{Consumer, MAX_SHARDS};

/// What the merger counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MergeStats {
    /// Records read from the ring (decoded).
    pub records: u64,
    /// `Lost` records seen.
    pub lost_records: u64,
    /// Records the producer reported lost (sum of `Lost` counts).
    pub lost_events: u64,
    /// Sequence gaps not covered by a `Lost` record.
    pub seq_gaps: u64,
    /// Records delivered, in merged order.
    pub delivered: u64,
    /// Sweeps that found records.
    pub sweeps: u64,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    ts: u64,
    shard: u32,
    pos: u64,
    off: usize,
    len: usize,
}

/// Copies of records, with their sort keys.
#[derive(Debug, Default)]
struct Batch {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
}

impl Batch {
    fn push(&mut self, ts: u64, shard: u32, pos: u64, bytes: &[u8]) {
        self.entries.push(Entry { ts, shard, pos, off: self.bytes.len(), len: bytes.len() });
        self.bytes.extend_from_slice(bytes);
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.entries.clear();
    }

    fn record(&self, e: &Entry) -> &[u8] {
        self.bytes.get(e.off..e.off + e.len).unwrap_or(&[])
    }
}

/// The merge state of one attachment.
#[derive(Debug)]
pub(crate) struct Merger {
    held: Batch,
    fresh: Batch,
    spare: Batch,
    order: Vec<(u64, u32, u64, bool, usize)>,
    next_seq: [Option<u64>; MAX_SHARDS],
    stats: MergeStats,
}

impl Default for Merger {
    fn default() -> Self {
        Self {
            held: Batch::default(),
            fresh: Batch::default(),
            spare: Batch::default(),
            order: Vec::new(),
            next_seq: [None; MAX_SHARDS],
            stats: MergeStats::default(),
        }
    }
}

impl Merger {
    /// Counters so far.
    pub(crate) fn stats(&self) -> MergeStats {
        self.stats
    }

    /// Records read but not yet delivered.
    pub(crate) fn pending(&self) -> usize {
        self.held.entries.len() + self.fresh.entries.len()
    }

    /// Forgets the sequence state (a new attachment: a new ring).
    pub(crate) fn reset_sequences(&mut self) {
        self.next_seq = [None; MAX_SHARDS];
    }

    /// Reads up to `max_per_shard` records from every shard into the fresh
    /// batch. Records that do not decode are counted by the consumer and not
    /// kept. Returns the number read.
    pub(crate) fn sweep(&mut self, consumer: &mut Consumer, max_per_shard: usize) -> usize {
        let Self { fresh, next_seq, stats, .. } = self;
        let n = consumer.poll(max_per_shard, &mut |item| {
            let Ok(ev) = item.record else { return };
            let h = ev.header();
            if let Some(next) = next_seq.get_mut(item.shard as usize) {
                if next.is_some_and(|n| n != h.seq) {
                    stats.seq_gaps += 1;
                }
                let covered = match &ev {
                    Event::Lost(l) => {
                        stats.lost_records += 1;
                        stats.lost_events += l.body.count;
                        l.body.count
                    }
                    _ => 1,
                };
                *next = Some(h.seq.wrapping_add(covered));
            }
            stats.records += 1;
            fresh.push(h.timestamp, item.shard, item.pos, ev.bytes());
        });
        if n > 0 {
            stats.sweeps += 1;
        }
        n
    }

    /// Delivers what the last sweep made safe (see the module docs): every
    /// held record, and the fresh ones no later than the latest held one, in
    /// `(timestamp, shard, position)` order. The other fresh records are held.
    pub(crate) fn deliver(&mut self, f: &mut dyn FnMut(&Event<'_>)) -> usize {
        let cutoff = self.held.entries.iter().map(|e| e.ts).max();
        self.emit(cutoff, f)
    }

    /// Delivers everything read, in order (nothing new is coming: the ring
    /// is quiet, detached or being drained).
    pub(crate) fn flush(&mut self, f: &mut dyn FnMut(&Event<'_>)) -> usize {
        self.emit(Some(u64::MAX), f)
    }

    fn emit(&mut self, cutoff: Option<u64>, f: &mut dyn FnMut(&Event<'_>)) -> usize {
        self.order.clear();
        for (i, e) in self.held.entries.iter().enumerate() {
            self.order.push((e.ts, e.shard, e.pos, false, i));
        }
        self.spare.clear();
        for (i, e) in self.fresh.entries.iter().enumerate() {
            if cutoff.is_some_and(|c| e.ts <= c) {
                self.order.push((e.ts, e.shard, e.pos, true, i));
            } else {
                self.spare.push(e.ts, e.shard, e.pos, self.fresh.record(e));
            }
        }
        self.order.sort_unstable_by_key(|&(ts, shard, pos, _, _)| (ts, shard, pos));
        for &(_, _, _, fresh, i) in &self.order {
            let batch = if fresh { &self.fresh } else { &self.held };
            let Some(e) = batch.entries.get(i) else { continue };
            // These bytes decoded when they were read; decoding the copy
            // again cannot fail, and a record that somehow did is skipped.
            if let Ok(ev) = decode::decode(batch.record(e)) {
                f(&ev);
            }
        }
        let n = self.order.len();
        self.stats.delivered += n as u64;
        // What was not delivered becomes the held batch.
        std::mem::swap(&mut self.held, &mut self.spare);
        self.fresh.clear();
        self.spare.clear();
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_protocol::encode::{Record, Stamp};
    use vigil_protocol::ring::{NoNotify, Producer, RingLayout, ShardSlot, SharedMemory};
    use vigil_protocol::schema::{FileCreate, ProcessStart};

    fn ring(shards: u32) -> (Producer<Vec<ShardSlot>, NoNotify>, Consumer) {
        let layout = RingLayout::new(shards, 64 * 1024).unwrap();
        let mem = SharedMemory::alloc_for(layout);
        let slots = (0..shards).map(|_| ShardSlot::new()).collect();
        let p = Producer::attach(mem.clone(), layout, slots, NoNotify, 4096).unwrap();
        (p, Consumer::attach(mem).unwrap())
    }

    fn start(ts: u64, pid: u32) -> Record<'static, ProcessStart> {
        Record::new(Stamp { timestamp: ts, pid, tid: 0, process_key: 1 }, ProcessStart::ZERO)
    }

    fn file(ts: u64, pid: u32) -> Record<'static, FileCreate> {
        Record::new(Stamp { timestamp: ts, pid, tid: 0, process_key: 1 }, FileCreate::ZERO)
    }

    fn delivered(m: &mut Merger, flush: bool) -> Vec<u64> {
        let mut out = Vec::new();
        let f = &mut |e: &Event<'_>| out.push(e.header().timestamp);
        if flush {
            m.flush(f)
        } else {
            m.deliver(f)
        };
        out
    }

    #[test]
    fn a_sweep_is_held_until_the_next_one_and_merged_by_time() {
        let (p, mut c) = ring(2);
        let mut m = Merger::default();
        // The race the hold-back exists for: the sweep reads shard 0 before
        // the ProcessStart (t=10) is published there, and shard 1 after the
        // child's file event (t=20) is. Modelled as: the child's event is in
        // sweep 1, its predecessor only in sweep 2.
        p.push(1, &file(20, 8));
        assert_eq!(m.sweep(&mut c, 100), 1);
        assert_eq!(delivered(&mut m, false), Vec::<u64>::new(), "nothing is safe after one sweep");
        p.push(0, &start(10, 8));
        p.push(0, &file(30, 8));
        assert_eq!(m.sweep(&mut c, 100), 2);
        assert_eq!(delivered(&mut m, false), vec![10, 20], "held record plus fresh ones not later than it");
        assert_eq!(m.pending(), 1);
        assert_eq!(m.sweep(&mut c, 100), 0);
        assert_eq!(delivered(&mut m, true), vec![30]);
        assert_eq!(m.pending(), 0);
        assert_eq!(m.stats().seq_gaps, 0);
        assert_eq!(m.stats().delivered, 3);
    }

    #[test]
    fn lost_records_cover_their_gap_and_other_gaps_count() {
        let layout = RingLayout::new(1, 4096).unwrap();
        let mem = SharedMemory::alloc_for(layout);
        let p = Producer::attach(mem.clone(), layout, vec![ShardSlot::new()], NoNotify, 1024).unwrap();
        let mut c = Consumer::attach(mem).unwrap();
        let mut m = Merger::default();
        // Fill the 4 KiB shard, so later pushes drop, then read and push again:
        // a Lost record reports the drops and the sequence continues after it.
        let mut dropped = 0;
        for i in 0..200 {
            if let vigil_protocol::ring::Push::Dropped { .. } = p.push(0, &file(i, 4)) {
                dropped += 1;
            }
        }
        assert!(dropped > 0);
        m.sweep(&mut c, 1000);
        p.push(0, &file(500, 4));
        m.sweep(&mut c, 1000);
        m.flush(&mut |_| {});
        let s = m.stats();
        assert_eq!((s.lost_records, s.lost_events, s.seq_gaps), (1, dropped, 0));

        // A consumer that skips records sees a gap no Lost record explains.
        // Model: another consumer reads and releases seq 1, and the merger's
        // next sweep comes through a consumer attached after that release.
        let mem2 = SharedMemory::alloc_for(layout);
        let p2 = Producer::attach(mem2.clone(), layout, vec![ShardSlot::new()], NoNotify, 1024).unwrap();
        let mut first = Consumer::attach(mem2.clone()).unwrap();
        let mut m2 = Merger::default();
        p2.push(0, &file(1, 4));
        m2.sweep(&mut first, 10);
        p2.push(0, &file(2, 4));
        Consumer::attach(mem2.clone()).unwrap().poll(10, &mut |_| {});
        p2.push(0, &file(3, 4));
        let mut later = Consumer::attach(mem2).unwrap();
        assert_eq!(m2.sweep(&mut later, 10), 1);
        assert_eq!(m2.stats().seq_gaps, 1);
    }
}
