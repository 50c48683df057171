//! The stand-in's threads: the generator (paces the workload and hands each
//! record to its CPU's thread; pushes process starts itself), one pusher per
//! CPU, and a timer (heartbeats and the statistics file).

use super::{ShardReport, SimOptions, SimReport};
use crate::live::clock::now_filetime;
use crate::live::shm::files;
use crate::live::shm::wake::WakeFifo;
use crate::shm::ShmMapping;
use crate::synth::{self, Body, SynthEvent, SynthRecord};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use vigil_protocol::control::{DriverMode, DriverStats, STATS_MAGIC};
use vigil_protocol::encode::{Encode, Record, Stamp};
use vigil_protocol::ring::{Producer, Push, ShardCounters, ShardSlot};
use vigil_protocol::schema::Heartbeat;

/// Records handed to a CPU thread at once.
const BATCH: usize = 64;
/// The generator sleeps only when this far ahead of its schedule.
const MIN_SLEEP: Duration = Duration::from_micros(200);

/// What every thread shares: the producer and the per-shard outcome counts.
pub(super) struct Shared {
    /// Declared before `_map`: dropped first, it points into the mapping.
    producer: Producer<Vec<ShardSlot>, WakeFifo>,
    written: Vec<AtomicU64>,
    dropped: Vec<AtomicU64>,
    started: Instant,
    _map: ShmMapping,
}

impl Shared {
    pub(super) fn new(producer: Producer<Vec<ShardSlot>, WakeFifo>, map: ShmMapping) -> Self {
        let n = producer.layout().shard_count() as usize;
        Self {
            producer,
            written: (0..n).map(|_| AtomicU64::new(0)).collect(),
            dropped: (0..n).map(|_| AtomicU64::new(0)).collect(),
            started: Instant::now(),
            _map: map,
        }
    }

    /// Pushes `record` from `cpu`, as a driver callback does: never waits.
    fn push<R: Encode + ?Sized>(&self, cpu: u32, record: &R) {
        let shard = self.producer.shard_for(cpu) as usize;
        let counter = match self.producer.push(cpu, record) {
            Push::Written { .. } => &self.written,
            Push::Dropped { .. } => &self.dropped,
        };
        if let Some(c) = counter.get(shard) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Stamps `record` with the current time and pushes it.
    fn commit(&self, cpu: u32, record: &mut SynthRecord) {
        record.stamp.timestamp = now_filetime();
        self.push(cpu, record);
    }

    fn counters(&self) -> Vec<ShardCounters> {
        (0..self.producer.layout().shard_count()).filter_map(|s| self.producer.counters(s)).collect()
    }

    fn heartbeat(&self) {
        let c = self.counters();
        let body = Heartbeat {
            produced: c.iter().map(|c| c.produced).sum(),
            dropped: c.iter().map(ShardCounters::dropped).sum(),
            config_generation: 1,
            mode: DriverMode::Active as u32,
            unclean_starts: 0,
            reserved: 0,
        };
        self.push(0, &Record::new(Stamp { timestamp: now_filetime(), pid: 0, tid: 0, process_key: 0 }, body));
    }

    /// The statistics IOCTL_GET_STATS would return.
    fn driver_stats(&self) -> DriverStats {
        let mut s = DriverStats::ZERO;
        s.magic = STATS_MAGIC;
        s.size = size_of::<DriverStats>() as u32;
        s.mode = DriverMode::Active as u32;
        s.config_generation = 1;
        s.attached = 1;
        s.shard_count = self.producer.layout().shard_count();
        s.uptime_secs = self.started.elapsed().as_secs();
        for (slot, c) in s.shards.iter_mut().zip(self.counters()) {
            *slot = c;
            let t = &mut s.total;
            t.produced += c.produced;
            t.bytes += c.bytes;
            t.dropped_full += c.dropped_full;
            t.dropped_oversize += c.dropped_oversize;
            t.dropped_detached += c.dropped_detached;
            t.lost_records += c.lost_records;
            t.consumer_rejects += c.consumer_rejects;
            t.wakeups += c.wakeups;
        }
        s
    }

    pub(super) fn write_stats(&self, path: &Path) -> std::io::Result<()> {
        files::write_atomic(path, vigil_protocol::bytes_of(&self.driver_stats()))
    }

    fn report(&self) -> Vec<ShardReport> {
        self.counters()
            .into_iter()
            .enumerate()
            .map(|(i, counters)| {
                let written = self.written.get(i).map_or(0, |a| a.load(Ordering::Relaxed));
                let dropped = self.dropped.get(i).map_or(0, |a| a.load(Ordering::Relaxed));
                ShardReport { pushes: written + dropped, written, dropped, counters }
            })
            .collect()
    }
}

/// Runs the workload through the producer; returns when it is done or
/// `stop` is set.
pub(super) fn drive(
    shared: &Shared,
    events: Box<dyn Iterator<Item = SynthEvent> + '_>,
    opts: &SimOptions,
    stats_path: &Path,
    stop: &AtomicBool,
) -> SimReport {
    let done = AtomicBool::new(false);
    let mut report = SimReport::default();
    std::thread::scope(|s| {
        let timer = s.spawn(|| timer(shared, opts.heartbeat, stats_path, &done));
        let mut feeds = Vec::new();
        for cpu in 0..synth::CPUS {
            let (tx, rx) = mpsc::sync_channel::<Vec<SynthEvent>>(64);
            s.spawn(move || {
                for mut batch in rx {
                    for ev in &mut batch {
                        shared.commit(cpu, &mut ev.record);
                    }
                }
            });
            feeds.push((tx, Vec::with_capacity(BATCH)));
        }
        let started = Instant::now();
        let (offered, behind) = generate(shared, events, opts.rate, &mut feeds, stop);
        drop(feeds);
        report.offered = offered;
        report.behind = behind;
        // The pushers finish their queues and exit when their channel closes
        // (the scope joins them); then the timer stops.
        done.store(true, Ordering::Relaxed);
        report.heartbeats = timer.join().unwrap_or(0);
        report.elapsed = started.elapsed();
    });
    report.elapsed = report.elapsed.max(Duration::from_nanos(1));
    report.shards = shared.report();
    report
}

type Feed = (mpsc::SyncSender<Vec<SynthEvent>>, Vec<SynthEvent>);

fn flush(feed: &mut Feed) {
    if !feed.1.is_empty() {
        let batch = std::mem::replace(&mut feed.1, Vec::with_capacity(BATCH));
        let _ = feed.0.send(batch);
    }
}

/// Paces the workload: record `i` is due at `i / rate` seconds. Returns the
/// records offered and how far behind schedule the last one was.
fn generate(
    shared: &Shared,
    events: Box<dyn Iterator<Item = SynthEvent> + '_>,
    rate: f64,
    feeds: &mut [Feed],
    stop: &AtomicBool,
) -> (u64, Duration) {
    let start = Instant::now();
    // Read the clock about every 10 µs of schedule.
    let paced = rate > 0.0 && rate.is_finite();
    let check_every = if paced { (rate / 100_000.0).clamp(1.0, 64.0) as u64 } else { 1024 };
    let mut behind = Duration::ZERO;
    let mut offered = 0u64;
    for mut ev in events {
        if offered.is_multiple_of(check_every) {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            if paced {
                let due = Duration::from_secs_f64(offered as f64 / rate);
                let now = start.elapsed();
                behind = now.saturating_sub(due);
                if due > now + MIN_SLEEP {
                    feeds.iter_mut().for_each(flush);
                    std::thread::sleep(due - now);
                }
            }
        }
        offered += 1;
        if matches!(ev.record.body, Body::ProcessStart(_)) {
            // Synchronous, as the process-notify callback is: the new
            // process does nothing before its start is published.
            shared.commit(ev.cpu, &mut ev.record);
            continue;
        }
        let n = feeds.len().max(1);
        if let Some(feed) = feeds.get_mut(ev.cpu as usize % n) {
            feed.1.push(ev);
            if feed.1.len() >= BATCH {
                flush(feed);
            }
        }
    }
    feeds.iter_mut().for_each(flush);
    (offered, behind)
}

/// Heartbeats every `period`, the statistics file every 250 ms, until
/// `done`. Returns the heartbeats written.
fn timer(shared: &Shared, period: Duration, stats: &Path, done: &AtomicBool) -> u64 {
    let tick = Duration::from_millis(50);
    let mut beats = 0;
    let mut next_beat = Instant::now() + period;
    let mut next_stats = Instant::now();
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(tick);
        let now = Instant::now();
        if !period.is_zero() && now >= next_beat {
            shared.heartbeat();
            beats += 1;
            next_beat += period;
        }
        if now >= next_stats {
            let _ = shared.write_stats(stats);
            next_stats = now + Duration::from_millis(250);
        }
    }
    beats
}
