//! Host health reports and the gates judged on them.

use super::channel::Gates;
use crate::event::Category;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// What one analyzer reports about a period (JSON in a store's `health/`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostReport {
    /// The host id.
    pub host: String,
    /// Digest (hex) of the pack the host was told to run.
    pub pack: String,
    /// The analyzer refused the pack, crashed or restarted in the period.
    pub failed: bool,
    /// Rules the watchdog quarantined in the period.
    pub quarantined: u32,
    /// Events evaluated with that pack.
    pub events: u64,
    /// Time spent evaluating them, in nanoseconds.
    pub eval_ns: u64,
    /// Alerts raised, by category name.
    pub alerts: BTreeMap<String, u64>,
}

/// Reports added up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Hosts that reported.
    pub hosts: u64,
    /// Of those, hosts that failed.
    pub failed: u64,
    /// Of those, hosts that quarantined a rule.
    pub quarantining: u64,
    /// Events evaluated.
    pub events: u64,
    /// Nanoseconds spent evaluating.
    pub eval_ns: u64,
    /// Alerts per category (index: `Category as usize`).
    pub alerts: [u64; Category::COUNT],
}

impl Tally {
    /// Adds one report.
    pub fn add(&mut self, r: &HostReport) {
        self.hosts += 1;
        self.failed += u64::from(r.failed);
        self.quarantining += u64::from(r.quarantined > 0);
        self.events += r.events;
        self.eval_ns = self.eval_ns.saturating_add(r.eval_ns);
        for (name, n) in &r.alerts {
            if let Some(c) = Category::from_name(name) {
                self.alerts[c as usize] += n;
            }
        }
    }

    /// Alerts per event, per category; `None` without events.
    pub fn rates(&self) -> Option<[f64; Category::COUNT]> {
        (self.events > 0).then(|| self.alerts.map(|a| a as f64 / self.events as f64))
    }
}

/// A gate that failed.
#[derive(Clone, Debug, PartialEq)]
pub enum GateFailure {
    /// Too many analyzers failed to load the pack, crashed or restarted.
    Failures {
        /// Observed share.
        rate: f64,
        /// Allowed share.
        max: f64,
    },
    /// Too many analyzers quarantined a rule.
    RuleErrors {
        /// Observed share.
        rate: f64,
        /// Allowed share.
        max: f64,
    },
    /// Evaluation is too slow.
    Cpu {
        /// Observed mean, ns per event.
        ns_per_event: u64,
        /// Allowed.
        max: u64,
    },
    /// A category's alert volume left its band.
    AlertVolume {
        /// The category.
        category: Category,
        /// Alerts observed.
        observed: u64,
        /// Alerts the control predicts.
        expected: f64,
    },
}

impl fmt::Display for GateFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GateFailure::Failures { rate, max } => {
                write!(f, "analyzer failures on {:.2} % of hosts (gate {:.2} %)", rate * 100.0, max * 100.0)
            }
            GateFailure::RuleErrors { rate, max } => {
                write!(f, "rules quarantined on {:.2} % of hosts (gate {:.2} %)", rate * 100.0, max * 100.0)
            }
            GateFailure::Cpu { ns_per_event, max } => {
                write!(f, "evaluation {ns_per_event} ns per event (gate {max} ns)")
            }
            GateFailure::AlertVolume { category, observed, expected } => {
                let dir = if (*observed as f64) < *expected { "down" } else { "up" };
                write!(f, "{} alert volume {dir}: {observed} observed, {expected:.0} expected", category.name())
            }
        }
    }
}

/// Judges `release` (hosts running the release) against `control_rates`
/// (alerts per event per category on the last known good). Every failing
/// gate comes back; an empty list means healthy so far.
pub fn judge(gates: &Gates, release: &Tally, control_rates: Option<&[f64; Category::COUNT]>) -> Vec<GateFailure> {
    let mut out = Vec::new();
    if release.hosts > 0 {
        let rate = release.failed as f64 / release.hosts as f64;
        if rate > gates.max_failure_rate {
            out.push(GateFailure::Failures { rate, max: gates.max_failure_rate });
        }
        let rate = release.quarantining as f64 / release.hosts as f64;
        if rate > gates.max_rule_error_rate {
            out.push(GateFailure::RuleErrors { rate, max: gates.max_rule_error_rate });
        }
    }
    if let Some(ns) = release.eval_ns.checked_div(release.events)
        && ns > gates.max_cpu_ns_per_event
    {
        out.push(GateFailure::Cpu { ns_per_event: ns, max: gates.max_cpu_ns_per_event });
    }
    let v = &gates.alert_volume;
    if let Some(rates) = control_rates {
        for c in Category::ALL {
            let expected = rates[c as usize] * release.events as f64;
            let observed = release.alerts[c as usize];
            let bad = if expected >= v.min_expected {
                let ratio = observed as f64 / expected;
                ratio < v.min_ratio || ratio > v.max_ratio
            } else {
                observed as f64 > v.min_expected * v.max_ratio
            };
            if bad {
                out.push(GateFailure::AlertVolume { category: c, observed, expected });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::rollout::Channel;

    fn report(failed: bool, events: u64, pc_alerts: u64) -> HostReport {
        HostReport {
            host: "h".into(),
            pack: "p".into(),
            failed,
            quarantined: 0,
            events,
            eval_ns: events * 1_000,
            alerts: [("process_creation".to_string(), pc_alerts)].into(),
        }
    }

    #[test]
    fn gates_catch_failures_silence_and_floods_but_pass_normal_noise() {
        let g = Channel::standard().gates;
        let mut control = Tally::default();
        control.add(&report(false, 10_000, 100));
        let rates = control.rates().unwrap();
        let mut ok = Tally::default();
        (0..10).for_each(|_| ok.add(&report(false, 1_000, 8)));
        assert_eq!(judge(&g, &ok, Some(&rates)), vec![]);
        let mut silent = Tally::default();
        (0..10).for_each(|_| silent.add(&report(false, 1_000, 0)));
        let f = judge(&g, &silent, Some(&rates));
        assert!(matches!(f[..], [GateFailure::AlertVolume { category: Category::ProcessCreation, observed: 0, .. }]));
        assert!(f[0].to_string().contains("process_creation alert volume down"));
        let mut flood = Tally::default();
        (0..10).for_each(|_| flood.add(&report(false, 1_000, 50)));
        assert!(judge(&g, &flood, Some(&rates))[0].to_string().contains("up"));
        let mut failing = ok.clone();
        failing.add(&report(true, 0, 0));
        assert!(matches!(judge(&g, &failing, Some(&rates))[..], [GateFailure::Failures { .. }]));
    }
}
