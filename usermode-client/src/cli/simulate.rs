//! `vigil simulate-driver` (Linux): the stand-in producer. Creates
//! `/dev/shm/<name>`, drives the protocol's producer as vigil.sys does with a
//! synthetic workstation's records at an offered rate, and prints what it
//! did as one JSON object when the workload is done (or on Ctrl-C/SIGTERM).

use anyhow::Context;
use std::process::ExitCode;
use std::time::Duration;
use vigil::sim::{self, SimOptions};

/// Arguments of `vigil simulate-driver`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Region name: `/dev/shm/<name>` (read it with `vigil run --source shm:<name>`).
    #[arg(long)]
    shm: String,
    /// Offered load, records per second (0: as fast as possible).
    #[arg(long, default_value_t = 100_000.0)]
    rate: f64,
    /// Records to produce (about: the boot and attack chains complete).
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Workload seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Attack chain runs (default: one per 500,000 records, at least one).
    #[arg(long)]
    attack_runs: Option<usize>,
    /// Shards (the driver uses one per CPU).
    #[arg(long, default_value_t = vigil::synth::CPUS)]
    shards: u32,
    /// KiB per shard (a power of two, at least 4).
    #[arg(long, default_value_t = 1024)]
    shard_kib: u32,
    /// Heartbeat period in milliseconds (0: none).
    #[arg(long, default_value_t = 1000)]
    heartbeat_ms: u64,
    /// Generate the whole workload first, so generation does not limit the
    /// offered rate (about 300 bytes of memory per record).
    #[arg(long)]
    pregenerate: bool,
    /// Leave the region and its side files in place at exit.
    #[arg(long)]
    keep: bool,
    /// Milliseconds to wait after publishing the region before producing.
    #[arg(long, default_value_t = 0)]
    start_delay_ms: u64,
}

impl SimulateArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        vigil::live::stop::install_handlers().context("cannot install the stop handler")?;
        let opts = SimOptions {
            name: self.shm.clone(),
            rate: self.rate,
            events: self.events,
            seed: self.seed,
            attack_runs: self.attack_runs,
            shards: self.shards,
            shard_size: self.shard_kib.saturating_mul(1024),
            heartbeat: Duration::from_millis(self.heartbeat_ms),
            pregenerate: self.pregenerate,
            keep: self.keep,
            start_delay: Duration::from_millis(self.start_delay_ms),
        };
        let report = sim::run(&opts, vigil::live::stop::flag(), &mut || {
            eprintln!("ready: /dev/shm/{} ({} shards of {} KiB)", self.shm, self.shards, self.shard_kib);
        })?;
        println!("{}", report.to_json());
        Ok(ExitCode::SUCCESS)
    }
}
