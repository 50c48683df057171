//! One scenario over the whole fleet, in simulated time.
//!
//! Every period (one simulated hour) each host asks the rollout which pack
//! it should run ([`Rollout::assigned`], the same function the store CLI
//! uses) and installs it if it changed; the hosts running the release, and
//! as many hosts still on the last known good as a control, evaluate their
//! events and report; the rollout judges the reports ([`Rollout::step`]).
//! Hosts that nothing reads in a period are not evaluated in it (their
//! content does not change, and no gate looks at them).

use super::host::Host;
use super::packs::{self, Content};
use super::pool::Pool;
use super::{Outcome, Scenario, SimConfig};
use crate::content::pack::{self, TrustPolicy};
use crate::content::rollout::{Channel, Decision, PackRef, Ring, Rollout, Tally};
use crate::content::runtime::{CompileCache, ContentAlert};
use ed25519_dalek::SigningKey;
use std::collections::HashMap;
use std::sync::Arc;

/// Largest control group.
const MAX_CONTROL: usize = 1_000;

fn reference(bytes: &[u8]) -> PackRef {
    // The simulation's own packs; they verify or the simulation is wrong.
    let v = pack::verify(bytes, &TrustPolicy::AllowUnsigned).unwrap_or_else(|e| panic!("simulation pack: {e}"));
    PackRef::of(&v)
}

/// What reaches host `i` when the distribution corrupts `bytes`: cut in
/// half, one bit flipped, or the last byte missing.
fn corrupted(bytes: &[u8], i: usize) -> Vec<u8> {
    match i % 3 {
        0 => bytes[..bytes.len() / 2].to_vec(),
        1 => {
            let mut b = bytes.to_vec();
            let at = (i * 7_919) % b.len();
            b[at] ^= 1 << (i % 8);
            b
        }
        _ => bytes[..bytes.len() - 1].to_vec(),
    }
}

/// A channel that sends content to every host at once.
fn unstaged(c: &Channel) -> Channel {
    let mut c = c.clone();
    c.name = "unstaged".into();
    c.rings = vec![Ring { name: "everyone".into(), percent: 100.0, bake_minutes: 60 }];
    c
}

/// Runs `scenario`.
pub fn run(scenario: Scenario, cfg: &SimConfig) -> Outcome {
    let key = SigningKey::from_bytes(&[cfg.seed as u8 ^ 0x5a; 32]);
    let trust = TrustPolicy::Keys(vec![key.verifying_key()]);
    let content = match scenario {
        Scenario::GoodPack | Scenario::CorruptedInTransit => Content::Good,
        Scenario::FailsOnLoad => Content::FieldNotInSchema,
        Scenario::HangsOnSomeEvents => Content::CatastrophicRegex,
        Scenario::SilencesCategory => Content::SilentProcessCreation,
    };
    let baseline = packs::pack(Content::Baseline, 1, &key);
    let update = packs::pack(content, 2, &key);
    let (lkg, rel) = (reference(&baseline), reference(&update));
    let store: HashMap<String, Vec<u8>> = [(lkg.digest.clone(), baseline), (rel.digest.clone(), update)].into();
    let corrupt = scenario == Scenario::CorruptedInTransit;
    let fetch = |digest: &str, i: usize| {
        let b = &store[digest];
        if corrupt && digest == rel.digest { corrupted(b, i) } else { b.clone() }
    };

    let channel = if corrupt { unstaged(&cfg.channel) } else { cfg.channel.clone() };
    let mut rollout = Rollout::new(channel);
    let cache = Arc::new(CompileCache::default());
    let pool = Pool::new(cfg.seed, cfg.pool_records);
    let mut hosts: Vec<Host> =
        (0..cfg.hosts).map(|i| Host::new(i, trust.clone(), Arc::clone(&cache), cfg.budget)).collect();
    // Nothing known good yet: the first pack goes to everyone.
    rollout.start(lkg.clone(), 0).unwrap_or_else(|e| panic!("simulation: {e}"));
    for h in &mut hosts {
        let i = h.index;
        h.sync(&lkg.digest, || fetch(&lkg.digest, i));
        h.take_alerts();
    }
    rollout.start(rel.clone(), 0).unwrap_or_else(|e| panic!("simulation: {e}"));

    let mut out = Outcome { scenario, hosts: cfg.hosts, ..Outcome::default() };
    let mut offered = vec![false; cfg.hosts];
    let (mut release_tally, mut control_tally) = (Tally::default(), Tally::default());
    let mut alerts: Vec<ContentAlert> = Vec::new();
    for tick in 1..=cfg.max_ticks {
        let now = tick * cfg.tick_secs;
        let mut on_release = Vec::new();
        let mut on_lkg = Vec::new();
        for h in &mut hosts {
            let Some(d) = rollout.assigned(&h.id).map(str::to_owned) else { continue };
            let i = h.index;
            h.sync(&d, || fetch(&d, i));
            alerts.extend(h.take_alerts());
            if d == rel.digest {
                offered[h.index] = true;
                on_release.push(h.index);
            } else {
                on_lkg.push(h.index);
            }
        }
        let control: Vec<usize> = on_lkg.iter().copied().take(on_release.len().clamp(100, MAX_CONTROL)).collect();
        for &i in &on_release {
            let r = hosts[i].tick(&pool, tick, cfg.long_cmdline_every);
            release_tally.add(&r);
            alerts.extend(hosts[i].take_alerts());
        }
        if !on_release.is_empty() {
            for &i in &control {
                control_tally.add(&hosts[i].tick(&pool, tick, cfg.long_cmdline_every));
            }
        }
        let decision = rollout.step(now, &release_tally, &control_tally, on_release.len() as u64);
        let ring_name = rollout.release.as_ref().map(|r| rollout.channel.rings[r.ring].name.clone());
        out.furthest_ring = ring_name.unwrap_or_default();
        match decision {
            Decision::Advanced { .. } => {
                release_tally = Tally::default();
                control_tally = Tally::default();
            }
            Decision::Completed => {
                out.completed_after = Some(now);
                break;
            }
            Decision::RolledBack(_) => {
                out.halted_after = Some(now);
                out.rolled_back = true;
                out.reason = rollout.release.as_ref().and_then(|r| r.reason.clone());
                // Hosts follow the store at their next poll.
                for h in &mut hosts {
                    if let Some(d) = rollout.assigned(&h.id).map(str::to_owned) {
                        let i = h.index;
                        h.sync(&d, || fetch(&d, i));
                        alerts.extend(h.take_alerts());
                    }
                }
                break;
            }
            Decision::Wait | Decision::Idle => {}
        }
    }
    out.offered = offered.iter().filter(|&&o| o).count();
    out.exposed = hosts.iter().filter(|h| h.ran.contains(&rel.digest)).count();
    out.refused = alerts.iter().filter(|a| matches!(a, ContentAlert::PackRefused { .. })).count();
    out.quarantines = alerts.iter().filter(|a| matches!(a, ContentAlert::RuleQuarantined { .. })).count();
    out.on_lkg_at_end = hosts.iter().filter(|h| h.active().as_deref() == Some(lkg.digest.as_str())).count();
    out.on_release_at_end = hosts.iter().filter(|h| h.active().as_deref() == Some(rel.digest.as_str())).count();
    out.first_alert = alerts.iter().find(|a| !matches!(a, ContentAlert::PackActivated { .. })).map(ToString::to_string);
    out.release = rel.short().to_owned();
    out
}
