//! The stand-in producer (`vigil simulate-driver`): drives the protocol
//! crate's producer exactly as vigil.sys does, on Linux, so the live path can
//! be run and tested end to end without Windows.
//!
//! What is the same as the driver: `Producer::attach` initializes the
//! region, one shard per CPU; every record is built by the protocol's record
//! builders (the synthetic workload's records implement `Encode` through
//! them) and written with `Producer::push(cpu, &record)` from the thread of
//! its CPU, stamped with the current time at the push (KeQuerySystemTimePrecise
//! in the driver, CLOCK_REALTIME as FILETIME here, see
//! [`crate::live::clock`]); nothing ever waits for the consumer, full shards
//! drop and count, a timer thread writes Heartbeat records; statistics are
//! the driver's `DriverStats` struct.
//!
//! What differs: the producer creates the shared region (the driver maps the
//! analyzer's buffer); the wakeup is a FIFO, not an event; there is no
//! configuration channel; and the event stream is the synthetic workload,
//! paced at an offered rate. Process creation is synchronous, as Windows'
//! process-notify callback is: the generator pushes a `ProcessStart` itself,
//! before anything the new process does is handed to a CPU thread, so
//! timestamps and publication are causal as they are on a real machine.

mod threads;

use crate::live::HostInfo;
use crate::live::shm::files::{self, ShmNames};
use crate::live::shm::wake::WakeFifo;
use crate::shm::ShmMapping;
use crate::synth::{self, SynthEvent, Workload};
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use threads::Shared;
use vigil_protocol::ring::{Producer, RingError, RingLayout, ShardCounters, ShardSlot};

/// How to simulate.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Region name under `/dev/shm`.
    pub name: String,
    /// Offered load in records per second; 0 for as fast as possible.
    pub rate: f64,
    /// Records of the workload (about: the boot and attack chains complete).
    pub events: u64,
    /// Workload seed.
    pub seed: u64,
    /// Attack chain runs (default: as `Workload::new` chooses).
    pub attack_runs: Option<usize>,
    /// Shards (the driver: one per CPU).
    pub shards: u32,
    /// Bytes per shard (a power of two).
    pub shard_size: u32,
    /// Heartbeat period (the driver's default configuration: 10 s).
    pub heartbeat: Duration,
    /// Generate the whole workload before starting, so generation does not
    /// limit the offered rate (memory: about 300 bytes per record).
    pub pregenerate: bool,
    /// Leave the region and side files in place at exit.
    pub keep: bool,
    /// Wait this long after publishing the region before producing (so a
    /// consumer can attach first; records are dropped and counted until one
    /// does, as the driver's are).
    pub start_delay: Duration,
}

impl SimOptions {
    /// Defaults for region `name`: 4 shards (the workload's CPUs) of 1 MiB,
    /// heartbeat every second.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            rate: 100_000.0,
            events: 1_000_000,
            seed: 1,
            attack_runs: None,
            shards: synth::CPUS,
            shard_size: 1 << 20,
            heartbeat: Duration::from_secs(1),
            pregenerate: false,
            keep: false,
            start_delay: Duration::ZERO,
        }
    }
}

/// Why the simulation could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A file or mapping operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// The ring could not be laid out or initialized.
    #[error("ring: {0}")]
    Ring(#[from] RingError),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> SimError {
    let what = what.into();
    move |source| SimError::Io { what, source }
}

/// One shard's outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShardReport {
    /// `push` calls (workload records and heartbeats).
    pub pushes: u64,
    /// Pushes that returned `Written`.
    pub written: u64,
    /// Pushes that returned `Dropped`.
    pub dropped: u64,
    /// The producer's private counters.
    pub counters: ShardCounters,
}

/// What a simulation did.
#[derive(Clone, Debug, Default)]
pub struct SimReport {
    /// Workload records offered (pushed, written or dropped).
    pub offered: u64,
    /// Heartbeats pushed.
    pub heartbeats: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// How far behind the pacing schedule the generator finished (0 when it
    /// kept up with the offered rate).
    pub behind: Duration,
    /// Per shard.
    pub shards: Vec<ShardReport>,
}

impl SimReport {
    /// Records dropped on all shards.
    pub fn dropped(&self) -> u64 {
        self.shards.iter().map(|s| s.counters.dropped()).sum()
    }

    /// The report as JSON (one object).
    pub fn to_json(&self) -> serde_json::Value {
        let shards: Vec<_> = self
            .shards
            .iter()
            .map(|s| {
                let c = &s.counters;
                serde_json::json!({
                    "pushes": s.pushes, "written": s.written, "dropped": s.dropped,
                    "produced": c.produced, "bytes": c.bytes, "dropped_full": c.dropped_full,
                    "dropped_oversize": c.dropped_oversize, "lost_records": c.lost_records,
                    "consumer_rejects": c.consumer_rejects, "wakeups": c.wakeups,
                })
            })
            .collect();
        serde_json::json!({
            "offered": self.offered,
            "heartbeats": self.heartbeats,
            "elapsed_s": self.elapsed.as_secs_f64(),
            "offered_per_s": self.offered as f64 / self.elapsed.as_secs_f64().max(1e-9),
            "behind_s": self.behind.as_secs_f64(),
            "dropped": self.dropped(),
            "shards": shards,
        })
    }
}

/// The synthetic machine's self-description (what Windows would be asked).
pub fn host_info() -> HostInfo {
    HostInfo {
        name: synth::catalog::HOST.to_owned(),
        volumes: Workload::volumes(),
        accounts: synth::catalog::Account::table(),
    }
}

/// Creates the region, runs the workload at the offered rate until it is
/// done or `stop` is set, and reports. `on_ready` is called once the region
/// is published under its name.
pub fn run(opts: &SimOptions, stop: &AtomicBool, on_ready: &mut dyn FnMut()) -> Result<SimReport, SimError> {
    let names = ShmNames::new(&opts.name).map_err(io(format!("shm name {:?}", opts.name)))?;
    let layout = RingLayout::new(opts.shards, opts.shard_size)?;
    // Initialize under a temporary name, then rename: a consumer opening the
    // name always finds a complete header, and one still mapping the
    // previous region sees the name move (a restart).
    let tmp = format!("{}.new{}", opts.name, std::process::id());
    let map = ShmMapping::create_named(&tmp, layout.total_size()).map_err(io(format!("create /dev/shm/{tmp}")))?;
    let wake = WakeFifo::create(&names.wake).map_err(io(names.wake.display().to_string()))?;
    let slots: Vec<ShardSlot> = (0..layout.shard_count()).map(|_| ShardSlot::new()).collect();
    let mem = map.shared_memory()?;
    let max_record = vigil_protocol::config::DriverConfig::default_config().max_record_size as usize;
    let producer = Producer::attach(mem, layout, slots, wake, max_record)?;
    let shared = Shared::new(producer, map);
    files::write_atomic(&names.host, files::host_to_text(&host_info()).as_bytes())
        .map_err(io(names.host.display().to_string()))?;
    shared.write_stats(&names.stats).map_err(io(names.stats.display().to_string()))?;
    std::fs::rename(ShmMapping::path_of(&tmp).map_err(io("shm name"))?, &names.ring)
        .map_err(io(format!("publish {}", names.ring.display())))?;
    on_ready();

    let workload = match opts.attack_runs {
        Some(runs) => Workload::with_attack_runs(opts.seed, opts.events, runs),
        None => Workload::new(opts.seed, opts.events),
    };
    let events: Box<dyn Iterator<Item = SynthEvent>> =
        if opts.pregenerate { Box::new(workload.collect::<Vec<_>>().into_iter()) } else { Box::new(workload) };
    std::thread::sleep(opts.start_delay);
    let report = threads::drive(&shared, events, opts, &names.stats, stop);
    let _ = shared.write_stats(&names.stats);
    if !opts.keep {
        for p in names.all() {
            let _ = std::fs::remove_file(p);
        }
    }
    Ok(report)
}
