//! The rollout state machine: one release at a time goes ring by ring,
//! baking in each and passing its health gates, or is rolled back to the
//! last known good the moment a gate fails. Operators can pause it, roll it
//! back, and pin hosts or rings to a pack. The CLI persists it in a content
//! store; the fleet simulation drives the very same code with simulated time.

use super::assign::ring_of;
use super::channel::Channel;
use super::health::{GateFailure, Tally, judge};
use crate::content::pack::{VerifiedPack, hex};
use crate::event::Category;
use serde::{Deserialize, Serialize};

/// A pack as the rollout knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackRef {
    /// SHA-256 of the pack file's body (hex): its name in the store.
    pub digest: String,
    /// The operator's version number.
    pub pack_version: u64,
    /// Rules in it.
    pub rules: u32,
}

impl PackRef {
    /// The reference of a verified pack.
    pub fn of(p: &VerifiedPack) -> Self {
        Self { digest: hex(&p.digest), pack_version: p.manifest.pack_version, rules: p.manifest.rule_count }
    }

    /// First 12 hex digits of the digest.
    pub fn short(&self) -> &str {
        self.digest.get(..12).unwrap_or(&self.digest)
    }
}

/// Where a release stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Exposed up to its current ring, baking.
    Baking,
    /// Held at its current ring by an operator.
    Paused,
    /// Withdrawn: every host runs the last known good again.
    RolledBack,
    /// Reached every ring; it is the last known good now.
    Complete,
}

/// The release in progress or the last one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    /// The pack.
    pub pack: PackRef,
    /// Index of the last ring exposed.
    pub ring: usize,
    /// When the release started (seconds).
    pub started: u64,
    /// When its current ring was reached (seconds).
    pub ring_started: u64,
    /// Where it stands.
    pub phase: Phase,
    /// When it was rolled back or completed.
    pub ended: Option<u64>,
    /// Why it was rolled back.
    pub reason: Option<String>,
    /// Alerts per event per category on the last known good, as last seen
    /// on control hosts (kept for rings that leave no control).
    pub baseline: Option<[f64; Category::COUNT]>,
}

/// What a pin applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PinTarget {
    /// One host.
    Host(String),
    /// Every host of a ring, by ring name.
    Ring(String),
}

impl std::fmt::Display for PinTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PinTarget::Host(h) => write!(f, "host {h}"),
            PinTarget::Ring(r) => write!(f, "ring {r}"),
        }
    }
}

/// A host or ring held on a pack whatever the rollout does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    /// Who.
    pub target: PinTarget,
    /// Digest (hex) of the pack they stay on.
    pub pack: String,
}

/// One line of the rollout's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogEntry {
    /// When (seconds).
    pub at: u64,
    /// What happened.
    pub what: String,
}

/// What [`Rollout::step`] decided.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// No release is baking.
    Idle,
    /// Still baking (or not enough hosts reported).
    Wait,
    /// The release moved on to ring `ring`.
    Advanced {
        /// The new ring's index.
        ring: usize,
    },
    /// The release reached every ring.
    Completed,
    /// A gate failed; every host goes back to the last known good.
    RolledBack(Vec<GateFailure>),
}

/// An operation the rollout's state does not allow.
#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    /// A release is still baking or paused.
    #[error("release {0} is still in progress: roll it back or let it complete first")]
    InProgress(String),
    /// The pack is not newer than the last known good.
    #[error("pack version {got} is not newer than the last known good's {lkg}")]
    NotNewer {
        /// The new pack's version.
        got: u64,
        /// The last known good's.
        lkg: u64,
    },
    /// There is no release to act on.
    #[error("no release in progress")]
    NoRelease,
    /// A ring name the channel does not have.
    #[error("channel has no ring '{0}'")]
    NoSuchRing(String),
}

/// The whole rollout state of a channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollout {
    /// The channel.
    pub channel: Channel,
    /// What every host runs outside a release.
    pub last_known_good: Option<PackRef>,
    /// The current or last release.
    pub release: Option<Release>,
    /// Hosts and rings held on a pack.
    pub pins: Vec<Pin>,
    /// History, oldest first.
    pub log: Vec<LogEntry>,
    /// Public keys (hex) a pack must be signed by to be promoted; none:
    /// unsigned packs are accepted (their digest is still verified).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_keys: Vec<String>,
}

impl Rollout {
    /// A channel with no content yet.
    pub fn new(channel: Channel) -> Self {
        Self {
            channel,
            last_known_good: None,
            release: None,
            pins: Vec::new(),
            log: Vec::new(),
            trusted_keys: Vec::new(),
        }
    }

    fn note(&mut self, at: u64, what: String) {
        self.log.push(LogEntry { at, what });
    }

    fn in_progress(&self) -> Option<&Release> {
        self.release.as_ref().filter(|r| matches!(r.phase, Phase::Baking | Phase::Paused))
    }

    /// Starts releasing `pack` at the first ring. The first pack of a
    /// channel (nothing known good yet) goes straight to every host: with
    /// nothing to compare with, there is nothing to stage against.
    pub fn start(&mut self, pack: PackRef, now: u64) -> Result<(), RolloutError> {
        if let Some(r) = self.in_progress() {
            return Err(RolloutError::InProgress(r.pack.short().to_owned()));
        }
        let Some(lkg) = &self.last_known_good else {
            self.note(
                now,
                format!("{} (version {}) is the first pack: last known good", pack.short(), pack.pack_version),
            );
            self.last_known_good = Some(pack);
            return Ok(());
        };
        if pack.pack_version <= lkg.pack_version {
            return Err(RolloutError::NotNewer { got: pack.pack_version, lkg: lkg.pack_version });
        }
        let ring = &self.channel.rings[0];
        let what = format!(
            "release {} (version {}) started on {} ({} %)",
            pack.short(),
            pack.pack_version,
            ring.name,
            ring.percent
        );
        self.note(now, what);
        self.release = Some(Release {
            pack,
            ring: 0,
            started: now,
            ring_started: now,
            phase: Phase::Baking,
            ended: None,
            reason: None,
            baseline: None,
        });
        Ok(())
    }

    /// Judges the release's health since its ring started: `release` are
    /// reports of hosts running it, `control` of hosts on the last known
    /// good. Rolls back on any failing gate; moves on once the ring has
    /// baked and enough of it reported.
    pub fn step(&mut self, now: u64, release: &Tally, control: &Tally, ring_hosts: u64) -> Decision {
        let gates = self.channel.gates.clone();
        let Some(r) = self.release.as_mut().filter(|r| r.phase == Phase::Baking) else { return Decision::Idle };
        if let Some(rates) = control.rates() {
            r.baseline = Some(rates);
        }
        let failures = judge(&gates, release, r.baseline.as_ref());
        if !failures.is_empty() {
            let reason = failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
            self.roll_back_now(now, format!("health gate: {reason}"));
            return Decision::RolledBack(failures);
        }
        let bake = self.channel.rings[r.ring].bake_minutes * 60;
        let reported = ring_hosts == 0 || release.hosts as f64 >= gates.min_reporting * ring_hosts as f64;
        if now < r.ring_started + bake || !reported {
            return Decision::Wait;
        }
        self.next_ring(now)
    }

    /// Moves the baking release to its next ring, or completes it.
    fn next_ring(&mut self, now: u64) -> Decision {
        let Some(r) = self.release.as_mut() else { return Decision::Idle };
        if r.ring + 1 == self.channel.rings.len() {
            r.phase = Phase::Complete;
            r.ended = Some(now);
            let pack = r.pack.clone();
            self.note(now, format!("release {} complete: last known good", pack.short()));
            self.last_known_good = Some(pack);
            return Decision::Completed;
        }
        r.ring += 1;
        r.ring_started = now;
        let (ring, name, pct) = (r.ring, self.channel.rings[r.ring].name.clone(), self.channel.rings[r.ring].percent);
        let short = r.pack.short().to_owned();
        self.note(now, format!("release {short} promoted to {name} ({pct} %)"));
        Decision::Advanced { ring }
    }

    /// Moves the release to its next ring now, without waiting for the bake
    /// (an operator's decision, recorded as such).
    pub fn force_advance(&mut self, now: u64) -> Result<Decision, RolloutError> {
        if !self.release.as_ref().is_some_and(|r| r.phase == Phase::Baking) {
            return Err(RolloutError::NoRelease);
        }
        self.note(now, "(bake skipped by operator)".into());
        Ok(self.next_ring(now))
    }

    fn roll_back_now(&mut self, now: u64, reason: String) {
        if let Some(r) = self.release.as_mut() {
            r.phase = Phase::RolledBack;
            r.ended = Some(now);
            r.reason = Some(reason.clone());
            let short = r.pack.short().to_owned();
            self.note(now, format!("release {short} rolled back: {reason}"));
        }
    }

    /// Withdraws the release in progress.
    pub fn rollback(&mut self, now: u64, reason: &str) -> Result<(), RolloutError> {
        if self.in_progress().is_none() {
            return Err(RolloutError::NoRelease);
        }
        self.roll_back_now(now, format!("operator: {reason}"));
        Ok(())
    }

    /// Holds the release at its current ring (`pause = false` resumes).
    pub fn pause(&mut self, now: u64, pause: bool) -> Result<(), RolloutError> {
        let r = self.release.as_mut().filter(|r| matches!(r.phase, Phase::Baking | Phase::Paused));
        let Some(r) = r else { return Err(RolloutError::NoRelease) };
        r.phase = if pause { Phase::Paused } else { Phase::Baking };
        let short = r.pack.short().to_owned();
        self.note(now, format!("release {short} {}", if pause { "paused" } else { "resumed" }));
        Ok(())
    }

    /// Holds `target` on `pack` (a digest), or releases it (`None`).
    pub fn pin(&mut self, now: u64, target: PinTarget, pack: Option<String>) -> Result<(), RolloutError> {
        if let PinTarget::Ring(name) = &target
            && !self.channel.rings.iter().any(|r| &r.name == name)
        {
            return Err(RolloutError::NoSuchRing(name.clone()));
        }
        self.pins.retain(|p| p.target != target);
        let what = match &pack {
            Some(p) => format!("{target} pinned to {}", p.get(..12).unwrap_or(p)),
            None => format!("{target} unpinned"),
        };
        if let Some(pack) = pack {
            self.pins.push(Pin { target, pack });
        }
        self.note(now, what);
        Ok(())
    }

    /// The digest of the pack `host_id` should run now.
    pub fn assigned(&self, host_id: &str) -> Option<&str> {
        let ring = ring_of(&self.channel, host_id);
        let ring_name = self.channel.rings.get(ring).map(|r| r.name.as_str());
        let pinned = self.pins.iter().find(|p| match &p.target {
            PinTarget::Host(h) => h == host_id,
            PinTarget::Ring(n) => Some(n.as_str()) == ring_name,
        });
        if let Some(p) = pinned {
            return Some(&p.pack);
        }
        if let Some(r) = self.in_progress()
            && ring <= r.ring
        {
            return Some(&r.pack.digest);
        }
        self.last_known_good.as_ref().map(|p| p.digest.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack(v: u64) -> PackRef {
        PackRef { digest: format!("{v:064x}"), pack_version: v, rules: 1 }
    }

    fn in_ring(r: &Rollout, ring: usize) -> String {
        (0..).map(|i| format!("h{i}")).find(|h| ring_of(&r.channel, h) == ring).unwrap()
    }

    #[test]
    fn releases_move_ring_by_ring_and_pins_win() {
        let mut r = Rollout::new(Channel::standard());
        r.start(pack(1), 0).unwrap();
        assert_eq!(r.last_known_good, Some(pack(1)));
        r.start(pack(2), 10).unwrap();
        assert!(matches!(r.start(pack(3), 10), Err(RolloutError::InProgress(_))));
        let (canary, broad) = (in_ring(&r, 0), in_ring(&r, 2));
        assert_eq!(r.assigned(&canary), Some(pack(2).digest.as_str()));
        assert_eq!(r.assigned(&broad), Some(pack(1).digest.as_str()));

        let quiet = Tally::default();
        assert_eq!(r.step(10 + 3_600, &quiet, &quiet, 0), Decision::Wait, "canary bakes 4 h");
        r.pause(20, true).unwrap();
        assert_eq!(r.step(10 + 5 * 3_600, &quiet, &quiet, 0), Decision::Idle, "paused releases do not move");
        assert_eq!(r.assigned(&canary), Some(pack(2).digest.as_str()), "a pause keeps exposure where it is");
        r.pause(30, false).unwrap();
        assert_eq!(r.step(10 + 5 * 3_600, &quiet, &quiet, 0), Decision::Advanced { ring: 1 });
        r.pin(40, PinTarget::Host(canary.clone()), Some(pack(1).digest)).unwrap();
        assert_eq!(r.assigned(&canary), Some(pack(1).digest.as_str()), "a host pin beats the release");
        assert!(matches!(r.pin(40, PinTarget::Ring("nope".into()), None), Err(RolloutError::NoSuchRing(_))));
        assert_eq!(r.force_advance(50).unwrap(), Decision::Advanced { ring: 2 });
        assert_eq!(r.assigned(&broad), Some(pack(2).digest.as_str()));
        assert_eq!(r.force_advance(60).unwrap(), Decision::Completed);
        assert_eq!(r.last_known_good, Some(pack(2)));
        assert!(matches!(r.start(pack(2), 70), Err(RolloutError::NotNewer { got: 2, lkg: 2 })));
    }

    #[test]
    fn a_failing_gate_rolls_back_and_every_host_returns_to_the_last_known_good() {
        let mut r = Rollout::new(Channel::standard());
        r.start(pack(1), 0).unwrap();
        r.start(pack(2), 0).unwrap();
        let canary = in_ring(&r, 0);
        let failing = Tally { hosts: 10, failed: 10, ..Tally::default() };
        assert!(matches!(r.step(3_600, &failing, &Tally::default(), 10), Decision::RolledBack(_)));
        assert_eq!(r.assigned(&canary), Some(pack(1).digest.as_str()));
        let rel = r.release.as_ref().unwrap();
        assert_eq!((rel.phase, rel.ended), (Phase::RolledBack, Some(3_600)));
        assert!(rel.reason.as_deref().unwrap().contains("analyzer failures on 100.00 % of hosts"));
        assert!(matches!(r.rollback(3_700, "again"), Err(RolloutError::NoRelease)));
    }
}
