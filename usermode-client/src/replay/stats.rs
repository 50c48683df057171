//! What a replay counted.

use crate::event::Category;
use crate::mapping::MapStats;
use std::collections::BTreeMap;
use std::time::Duration;

/// Counters of a whole replay.
#[derive(Clone, Debug, Default)]
pub struct ReplayStats {
    /// Inputs read (fully or partly).
    pub inputs: u64,
    /// Inputs refused whole (unreadable, bad header).
    pub inputs_failed: u64,
    /// Records read from captures, or records of JSON/EVTX inputs.
    pub records: u64,
    /// Events evaluated, by category.
    pub events: [u64; Category::COUNT],
    /// Alerts by rule index.
    pub alerts_by_rule: BTreeMap<u32, u64>,
    /// Records that were malformed or lost to damage (each reported).
    pub records_skipped: u64,
    /// Well-formed records that are not events (other event ids; for
    /// captures see `mapping`).
    pub records_not_events: u64,
    /// Problems reported.
    pub errors: u64,
    /// What the capture mapper saw (records by kind, skips by reason, lost).
    pub mapping: MapStats,
    /// Bytes of input read.
    pub bytes: u64,
    /// Wall time of the replay.
    pub elapsed: Duration,
}

impl ReplayStats {
    /// Events evaluated.
    pub fn total_events(&self) -> u64 {
        self.events.iter().sum()
    }

    /// Alerts raised.
    pub fn total_alerts(&self) -> u64 {
        self.alerts_by_rule.values().sum()
    }

    /// Events evaluated per second of wall time.
    pub fn events_per_second(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 { self.total_events() as f64 / s } else { 0.0 }
    }

    pub(super) fn count_event(&mut self, c: Category) {
        if let Some(n) = self.events.get_mut(c as usize) {
            *n += 1;
        }
    }
}
