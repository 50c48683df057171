//! A channel: the rings content goes through, how long it bakes in each,
//! and the health gates it must pass.

use crate::content::driver_config::DriverSettings;
use serde::{Deserialize, Serialize};

/// A distribution channel (`channel.json` in a content store).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    /// Its name (e.g. `stable`).
    pub name: String,
    /// Rings in rollout order; each includes the ones before it.
    pub rings: Vec<Ring>,
    /// What a ring's health must look like for the release to go on.
    pub gates: Gates,
    /// Kernel capture settings analyzers on this channel apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<DriverSettings>,
}

/// One ring.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ring {
    /// Its name (e.g. `canary`).
    pub name: String,
    /// Share of the fleet that has the release once this ring is reached
    /// (cumulative, in percent; the last ring is 100).
    pub percent: f64,
    /// How long the release bakes in this ring before the next, in minutes.
    pub bake_minutes: u64,
}

/// Health gates, judged on the hosts of the ring being baked against the
/// hosts still on the last known good (the control).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gates {
    /// Largest share of reporting hosts whose analyzer failed to load the
    /// pack, crashed or restarted.
    pub max_failure_rate: f64,
    /// Largest share of reporting hosts that quarantined a rule.
    pub max_rule_error_rate: f64,
    /// Largest mean evaluation time per event, in nanoseconds.
    pub max_cpu_ns_per_event: u64,
    /// Alert volume per category against the control, both directions.
    pub alert_volume: VolumeGate,
    /// Share of the ring's hosts that must have reported before the ring
    /// can pass.
    pub min_reporting: f64,
}

/// Alert volume must stay within `[min_ratio, max_ratio]` of what the
/// control's rate predicts, per category, once the prediction is at least
/// `min_expected` alerts. A category that falls silent is as much a failure
/// as one that floods.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeGate {
    /// Lowest acceptable observed/expected ratio.
    pub min_ratio: f64,
    /// Highest acceptable observed/expected ratio.
    pub max_ratio: f64,
    /// Alerts the control must predict before the ratio is judged.
    pub min_expected: f64,
}

/// A channel definition that cannot work.
#[derive(Debug, thiserror::Error)]
#[error("channel {field}: {reason}")]
pub struct ChannelError {
    /// The field.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

fn bad(field: impl Into<String>, reason: impl Into<String>) -> ChannelError {
    ChannelError { field: field.into(), reason: reason.into() }
}

impl Channel {
    /// canary 1 % for 4 h, early 10 % for 8 h, broad 100 % for 24 h; gates:
    /// no load failure or quarantine on more than 0.5 % of hosts, 1 ms per
    /// event at most, alert volume within 0.5–2x of the control.
    pub fn standard() -> Channel {
        Channel {
            name: "stable".into(),
            rings: vec![
                Ring { name: "canary".into(), percent: 1.0, bake_minutes: 4 * 60 },
                Ring { name: "early".into(), percent: 10.0, bake_minutes: 8 * 60 },
                Ring { name: "broad".into(), percent: 100.0, bake_minutes: 24 * 60 },
            ],
            gates: Gates {
                max_failure_rate: 0.005,
                max_rule_error_rate: 0.005,
                max_cpu_ns_per_event: 1_000_000,
                alert_volume: VolumeGate { min_ratio: 0.5, max_ratio: 2.0, min_expected: 20.0 },
                min_reporting: 0.5,
            },
            driver: None,
        }
    }

    /// Checks that the channel can work: rings grow to 100 %, rates are
    /// fractions, ratios are ordered, driver settings are valid.
    pub fn validate(&self) -> Result<(), ChannelError> {
        if self.rings.is_empty() {
            return Err(bad("rings", "at least one ring is needed"));
        }
        let mut prev = 0.0;
        for (i, r) in self.rings.iter().enumerate() {
            if !(r.percent > prev && r.percent <= 100.0) {
                return Err(bad(
                    format!("rings[{i}].percent"),
                    format!("{} must grow and stay within (0, 100]", r.percent),
                ));
            }
            prev = r.percent;
        }
        if prev != 100.0 {
            return Err(bad("rings", "the last ring must reach 100 percent"));
        }
        let g = &self.gates;
        for (name, v) in [
            ("max_failure_rate", g.max_failure_rate),
            ("max_rule_error_rate", g.max_rule_error_rate),
            ("min_reporting", g.min_reporting),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(bad(format!("gates.{name}"), format!("{v} is not a fraction in [0, 1]")));
            }
        }
        let v = &g.alert_volume;
        if !(v.min_ratio >= 0.0 && v.min_ratio < 1.0 && v.max_ratio > 1.0 && v.min_expected >= 1.0) {
            return Err(bad("gates.alert_volume", "needs 0 <= min_ratio < 1 < max_ratio and min_expected >= 1"));
        }
        if let Some(d) = &self.driver {
            d.to_config(1).map_err(|e| bad("driver", e.to_string()))?;
        }
        Ok(())
    }

    /// Share of the fleet (basis points, 0..=10,000) ring `i` reaches.
    pub fn reach_bp(&self, i: usize) -> u32 {
        self.rings.get(i).map_or(0, |r| (r.percent * 100.0).round() as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_is_valid_and_bad_channels_name_the_field() {
        let c = Channel::standard();
        c.validate().unwrap();
        assert_eq!((c.reach_bp(0), c.reach_bp(2)), (100, 10_000));
        let mut shrinking = c.clone();
        shrinking.rings[1].percent = 0.5;
        assert_eq!(shrinking.validate().unwrap_err().field, "rings[1].percent");
        let mut short = c.clone();
        short.rings.pop();
        assert_eq!(short.validate().unwrap_err().field, "rings");
        let mut rate = c.clone();
        rate.gates.max_failure_rate = 5.0;
        assert_eq!(rate.validate().unwrap_err().field, "gates.max_failure_rate");
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Channel>(&json).unwrap(), c);
        assert!(serde_json::from_str::<Channel>(&json.replace("\"name\":\"stable\"", "\"nam\":\"x\"")).is_err());
    }
}
