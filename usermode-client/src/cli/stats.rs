//! `vigil stats`: the producer's statistics. Windows: IOCTL_GET_STATS from
//! vigil.sys (drops per shard, mode, i.e. whether the boot-loop guard has
//! tripped, unclean starts, configuration generation). Linux `shm:` sources:
//! the same `DriverStats` from the stand-in's statistics file, and the
//! informational counters in the ring header.

use super::report::thousands;
use super::run::DEFAULT_SOURCE;
use anyhow::bail;
use std::process::ExitCode;
use vigil_protocol::control::{DriverMode, DriverStats};
use vigil_protocol::ring::ShardCounters;

/// Arguments of `vigil stats`.
#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// Whose statistics: `driver` (Windows) or `shm:<name>` (Linux).
    #[arg(long, default_value = DEFAULT_SOURCE)]
    source: String,
}

impl StatsArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        if let Some(name) = self.source.strip_prefix("shm:") {
            return shm_stats(name);
        }
        if self.source == "driver" {
            return driver_stats();
        }
        bail!("unknown source {:?}: use `driver` (Windows) or `shm:<name>` (Linux)", self.source)
    }
}

/// The name of a `DriverMode` wire value.
pub fn mode_name(mode: u32) -> String {
    match DriverMode::from_u32(mode) {
        Some(DriverMode::Active) => "active".into(),
        Some(DriverMode::Passive) => "PASSIVE (boot-loop guard tripped: not capturing)".into(),
        None => format!("unknown ({mode})"),
    }
}

fn counters_line(c: &ShardCounters) -> String {
    format!(
        "produced {}, dropped {} (full {}, oversize {}, detached {}), Lost records {}, consumer rejects {}, wakeups {}",
        thousands(c.produced),
        thousands(c.dropped()),
        thousands(c.dropped_full),
        thousands(c.dropped_oversize),
        thousands(c.dropped_detached),
        thousands(c.lost_records),
        thousands(c.consumer_rejects),
        thousands(c.wakeups)
    )
}

/// `DriverStats` as lines for people.
pub fn driver_stats_lines(s: &DriverStats) -> Vec<String> {
    let mut l = vec![
        format!(
            "mode {}, unclean starts {} (passive at {}), config generation {}, uptime {} s",
            mode_name(s.mode),
            s.unclean_starts,
            vigil_protocol::control::UNCLEAN_START_LIMIT,
            s.config_generation,
            s.uptime_secs
        ),
        format!(
            "ring {}, {} shards, client pid {}, excluded callbacks {}",
            if s.attached != 0 { "attached" } else { "not attached" },
            s.shard_count,
            s.client_pid,
            thousands(s.excluded)
        ),
        format!("total: {}", counters_line(&s.total)),
    ];
    for (i, c) in s.shards.iter().enumerate() {
        if *c != ShardCounters::ZERO {
            l.push(format!("shard {i}: {}", counters_line(c)));
        }
    }
    l
}

#[cfg(target_os = "linux")]
fn shm_stats(name: &str) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    use vigil::live::shm::files::{ShmNames, read_stats};
    use vigil_protocol::ring::Consumer;

    let names = ShmNames::new(name)?;
    match read_stats(&names.stats) {
        Ok(s) => driver_stats_lines(&s).iter().for_each(|l| println!("{l}")),
        Err(e) => println!("no producer statistics: {}: {e}", names.stats.display()),
    }
    let map = vigil::shm::ShmMapping::open_named(name).with_context(|| format!("{}", names.ring.display()))?;
    // Attaching a consumer only reads the header; it consumes nothing.
    let consumer = Consumer::attach(map.shared_memory()?).with_context(|| format!("{}", names.ring.display()))?;
    let layout = consumer.layout();
    println!("ring header ({} shards of {} KiB, informational):", layout.shard_count(), layout.shard_size() / 1024);
    for shard in 0..layout.shard_count() {
        if let Some((produced, dropped, lost, rejects)) = consumer.producer_counters(shard) {
            println!(
                "  shard {shard}: produced {}, dropped {}, Lost records {}, consumer rejects {}",
                thousands(produced),
                thousands(dropped),
                thousands(lost),
                thousands(rejects)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(target_os = "linux"))]
fn shm_stats(_name: &str) -> anyhow::Result<ExitCode> {
    bail!("`shm:` sources (the stand-in producer) exist on Linux only")
}

#[cfg(windows)]
fn driver_stats() -> anyhow::Result<ExitCode> {
    let s = vigil::live::windows::query_stats()?;
    driver_stats_lines(&s).iter().for_each(|l| println!("{l}"));
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(windows))]
fn driver_stats() -> anyhow::Result<ExitCode> {
    bail!("the `driver` source needs Windows and vigil.sys; on Linux use --source shm:<name>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passive_mode_and_per_shard_drops_are_shown() {
        let mut s = DriverStats::ZERO;
        s.mode = DriverMode::Passive as u32;
        s.unclean_starts = 3;
        s.shards[2].dropped_detached = 1234;
        s.total.dropped_detached = 1234;
        let l = driver_stats_lines(&s);
        assert!(l[0].contains("PASSIVE") && l[0].contains("unclean starts 3"), "{l:?}");
        assert!(l.iter().any(|x| x.starts_with("shard 2:") && x.contains("dropped 1,234")), "{l:?}");
        assert_eq!(l.len(), 4, "only shards with counts are listed");
    }
}
