//! One simulated host: a real [`ContentRuntime`] (verify, compile through
//! the shared cache, last-known-good) and a real [`Evaluator`] (engine and
//! watchdog), fed a small deterministic slice of the synthetic workload.

use super::pool::Pool;
use crate::content::check::Budget;
use crate::content::pack::{TrustPolicy, hex};
use crate::content::rollout::HostReport;
use crate::content::runtime::{CompileCache, ContentAlert, ContentRuntime, Evaluator};
use crate::event::Event;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A simulated analyzer.
#[derive(Debug)]
pub struct Host {
    /// Its id.
    pub id: String,
    /// Its index in the fleet.
    pub index: usize,
    runtime: ContentRuntime,
    evaluator: Evaluator,
    /// The digest it was last told to run and whether it could.
    wanted: Option<(String, bool)>,
    /// Every pack digest it ever activated.
    pub ran: Vec<String>,
}

impl Host {
    /// A host with no content.
    pub fn new(index: usize, trust: TrustPolicy, cache: Arc<CompileCache>, budget: Budget) -> Host {
        let runtime = ContentRuntime::with_cache(trust, cache);
        let evaluator = Evaluator::new(Arc::clone(runtime.active()), budget);
        Host { id: format!("host-{index:05}"), index, runtime, evaluator, wanted: None, ran: Vec::new() }
    }

    /// The digest of the active pack.
    pub fn active(&self) -> Option<String> {
        self.runtime.current().map(|p| hex(&p.digest))
    }

    /// Follows the store: installs `digest` (its bytes from `fetch`) unless
    /// it already runs it or already refused it.
    pub fn sync(&mut self, digest: &str, fetch: impl FnOnce() -> Vec<u8>) {
        if self.wanted.as_ref().is_some_and(|(d, _)| d == digest) {
            return;
        }
        let ok = self.runtime.install(&fetch()).is_ok();
        if ok && self.ran.last().is_none_or(|d| d != digest) {
            self.ran.push(digest.to_owned());
        }
        self.wanted = Some((digest.to_owned(), ok));
    }

    /// Alerts the runtime raised since the last call.
    pub fn take_alerts(&mut self) -> Vec<ContentAlert> {
        self.runtime.take_alerts()
    }

    /// Runs one period's events and reports on it.
    pub fn tick(&mut self, pool: &Pool, tick: u64, long_every: u64) -> HostReport {
        let events: Vec<&Event> = pool.batch(self.index, tick, long_every);
        let out = self.evaluator.run(&events);
        let snapshot = self.runtime.active().load();
        let mut alerts: BTreeMap<String, u64> = BTreeMap::new();
        for (_, rule) in &out.hits {
            *alerts.entry(snapshot.rules().category(*rule).name().to_owned()).or_default() += 1;
        }
        let quarantined = out.alerts.len() as u32;
        for a in out.alerts {
            self.runtime.alert(a);
        }
        let (pack, failed) = self.wanted.clone().map_or((String::new(), false), |(d, ok)| (d, !ok));
        HostReport {
            host: self.id.clone(),
            pack,
            failed,
            quarantined,
            events: if failed { 0 } else { events.len() as u64 },
            eval_ns: if failed { 0 } else { out.eval_ns },
            alerts: if failed { BTreeMap::new() } else { alerts },
        }
    }
}
