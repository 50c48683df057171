//! `content simulate`: a deterministic, in-process fleet. Each of 10,000
//! hosts runs the real pack loader (digest, signature, manifest, compile,
//! schema and example checks, last-known-good) and the real engine under
//! the real watchdog on a small slice of the synthetic workload; the real
//! rollout state machine stages releases over simulated hours.
//!
//! Hosts verify every pack's bytes and signature themselves; compiling
//! identical content is done once per process and shared by content hash
//! ([`crate::content::runtime::CompileCache`]), which is what makes 10,000
//! hosts fit in a test.
//!
//! Scenarios: (a) a good pack reaches every host; (b) a pack that fails on
//! load, or one that is catastrophically slow on some events, stops at the
//! canary ring and is rolled back; (c) a pack that silently stops detecting
//! a whole category is caught by the alert-volume gate and rolled back;
//! (d) a pack corrupted in transit and sent to every host at once is
//! refused by every host, which keeps its last known good.

mod fleet;
mod host;
pub mod packs;
mod pool;

pub use pool::Pool;

use crate::content::check::Budget;
use crate::content::rollout::{Channel, Ring};

/// A scenario of the simulation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scenario {
    /// (a) a good update.
    #[default]
    GoodPack,
    /// (b) an update the analyzer refuses to load (a field its category lacks).
    FailsOnLoad,
    /// (b) an update with a rule that takes ~0.1 s on a 32 KB command line.
    HangsOnSomeEvents,
    /// (c) an update whose process_creation rules never match.
    SilencesCategory,
    /// (d) an update corrupted in transit, sent to every host at once.
    CorruptedInTransit,
}

impl Scenario {
    /// Every scenario, in table order.
    pub const ALL: [Scenario; 5] = [
        Scenario::GoodPack,
        Scenario::FailsOnLoad,
        Scenario::HangsOnSomeEvents,
        Scenario::SilencesCategory,
        Scenario::CorruptedInTransit,
    ];

    /// The label in the table.
    pub fn label(self) -> &'static str {
        match self {
            Scenario::GoodPack => "(a) good pack",
            Scenario::FailsOnLoad => "(b) fails on load",
            Scenario::HangsOnSomeEvents => "(b) hangs on some events",
            Scenario::SilencesCategory => "(c) silences a category",
            Scenario::CorruptedInTransit => "(d) corrupted, sent to all",
        }
    }
}

/// How the fleet is simulated.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Hosts in the fleet.
    pub hosts: usize,
    /// Seed of the workload and the signing key.
    pub seed: u64,
    /// Synthetic records in the shared event pool.
    pub pool_records: u64,
    /// Length of a period, in simulated seconds.
    pub tick_secs: u64,
    /// Periods at most.
    pub max_ticks: u64,
    /// One host-period in this many carries a 32 KB command line (a
    /// PowerShell-sized payload, as admin tools and attackers both produce).
    pub long_cmdline_every: u64,
    /// The channel.
    pub channel: Channel,
    /// Per-rule runtime budget.
    pub budget: Budget,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            hosts: 10_000,
            seed: 1,
            pool_records: 4_000,
            tick_secs: 3_600,
            max_ticks: 48,
            long_cmdline_every: 20,
            channel: sim_channel(),
            budget: Budget::default(),
        }
    }
}

/// The standard channel's gates and rings with short bakes (canary 4 h,
/// early 4 h, broad 2 h), so the simulation stays small, and a canary of
/// 0.5 %: rings are drawn by hash, so a ring's size varies by about
/// √(hosts × share) around its share (±10 hosts at 1 % of 10,000; this
/// fleet happens to put 124 hosts below 1 %). A channel that promises at
/// most 1 % exposure sizes its canary with that headroom.
pub fn sim_channel() -> Channel {
    let mut c = Channel::standard();
    c.name = "simulated".into();
    c.rings = vec![
        Ring { name: "canary".into(), percent: 0.5, bake_minutes: 4 * 60 },
        Ring { name: "early".into(), percent: 10.0, bake_minutes: 4 * 60 },
        Ring { name: "broad".into(), percent: 100.0, bake_minutes: 2 * 60 },
    ];
    c
}

/// What happened in one scenario.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// The scenario.
    pub scenario: Scenario,
    /// Short id of the released pack.
    pub release: String,
    /// Hosts in the fleet.
    pub hosts: usize,
    /// The last ring the release reached.
    pub furthest_ring: String,
    /// Hosts told to run the release.
    pub offered: usize,
    /// Hosts that ran it (the exposure).
    pub exposed: usize,
    /// Refusals (each a host that kept its last known good).
    pub refused: usize,
    /// Rules quarantined by watchdogs.
    pub quarantines: usize,
    /// Simulated seconds from the release to its rollback.
    pub halted_after: Option<u64>,
    /// Simulated seconds from the release to its completion.
    pub completed_after: Option<u64>,
    /// Whether the rollout rolled it back.
    pub rolled_back: bool,
    /// Why.
    pub reason: Option<String>,
    /// Hosts on the pack that was last known good before the release, at the end.
    pub on_lkg_at_end: usize,
    /// Hosts on the release at the end.
    pub on_release_at_end: usize,
    /// The first content alert other than an activation.
    pub first_alert: Option<String>,
}

impl Outcome {
    /// Exposure as a share of the fleet.
    pub fn exposure(&self) -> f64 {
        self.exposed as f64 / self.hosts.max(1) as f64
    }
}

/// Runs one scenario.
pub fn run(scenario: Scenario, cfg: &SimConfig) -> Outcome {
    fleet::run(scenario, cfg)
}

fn hours(s: Option<u64>) -> String {
    s.map_or_else(|| "-".into(), |s| format!("{} h", s / 3_600))
}

/// The table of outcomes.
pub fn table(outcomes: &[Outcome]) -> String {
    let mut s = format!(
        "{:<27} {:<8} {:>8} {:>15} {:>8} {:>11} {:>14} {:>11} {:>13}\n",
        "scenario",
        "ring",
        "offered",
        "hosts exposed",
        "refused",
        "quarantined",
        "time to halt",
        "rolled back",
        "on prior pack"
    );
    for o in outcomes {
        s.push_str(&format!(
            "{:<27} {:<8} {:>8} {:>6} ({:>5.1}%) {:>8} {:>11} {:>14} {:>11} {:>13}\n",
            o.scenario.label(),
            o.furthest_ring,
            o.offered,
            o.exposed,
            o.exposure() * 100.0,
            o.refused,
            o.quarantines,
            if o.rolled_back { hours(o.halted_after) } else { format!("- (done {})", hours(o.completed_after)) },
            if o.rolled_back { "yes" } else { "no" },
            o.on_lkg_at_end
        ));
    }
    s
}
