//! The content the pipeline evaluates with, swapped atomically.
//!
//! The pipeline takes one [`Snapshot`] per batch ([`ActiveContent::load`])
//! and evaluates the whole batch with it. A swap only replaces the pointer:
//! a batch in flight finishes under the snapshot it started with, the next
//! batch sees the new one. Records are never dropped or evaluated twice
//! because of a swap; the `content_swap` integration test holds it to that
//! while events keep flowing.

use crate::content::pack::{Compiled, VerifiedPack};
use crate::sigma::{Engine, RuleId, RuleSet};
use std::sync::{Arc, RwLock};

/// Which pack a snapshot comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackIdentity {
    /// SHA-256 of the pack (its identity in stores and reports).
    pub digest: [u8; 32],
    /// SHA-256 of its content.
    pub content_sha256: [u8; 32],
    /// The operator's version number.
    pub pack_version: u64,
}

impl PackIdentity {
    /// The identity of a verified pack.
    pub fn of(p: &VerifiedPack) -> Self {
        Self { digest: p.digest, content_sha256: p.content_sha256, pack_version: p.manifest.pack_version }
    }

    /// First 12 hex digits of the digest.
    pub fn short_id(&self) -> String {
        crate::content::pack::hex(&self.digest[..6])
    }
}

/// One pack's compiled rules, minus those quarantined.
#[derive(Debug)]
pub struct Snapshot {
    /// Grows by one with every swap; tells evaluators to refresh.
    pub generation: u64,
    /// The pack, `None` before any pack was loaded.
    pub pack: Option<PackIdentity>,
    /// The compiled pack (shared by every snapshot of the same content).
    pub content: Arc<Compiled>,
    /// An engine over the rules not quarantined; evaluators clone it.
    pub engine: Engine,
    /// Rules disabled at run time, ascending.
    pub quarantined: Vec<RuleId>,
}

impl Snapshot {
    /// No rules at all.
    pub fn empty() -> Snapshot {
        let rules = RuleSet::default();
        let engine = Engine::new(&rules);
        Snapshot {
            generation: 0,
            pack: None,
            content: Arc::new(Compiled { engine: engine.clone(), rules }),
            engine,
            quarantined: Vec::new(),
        }
    }

    /// The rule set.
    pub fn rules(&self) -> &RuleSet {
        &self.content.rules
    }

    /// Whether `id` is evaluated.
    pub fn is_active(&self, id: RuleId) -> bool {
        self.quarantined.binary_search(&id).is_err()
    }
}

/// The current snapshot, shared by the pipeline and whoever installs packs.
#[derive(Debug)]
pub struct ActiveContent {
    current: RwLock<Arc<Snapshot>>,
}

impl Default for ActiveContent {
    fn default() -> Self {
        Self { current: RwLock::new(Arc::new(Snapshot::empty())) }
    }
}

impl ActiveContent {
    /// Content that is `rules` and never changes, outside any pack (benches).
    pub fn fixed(rules: RuleSet) -> Self {
        let engine = Engine::new(&rules);
        let snapshot = Snapshot {
            generation: 1,
            pack: None,
            content: Arc::new(Compiled { engine: engine.clone(), rules }),
            engine,
            quarantined: Vec::new(),
        };
        Self { current: RwLock::new(Arc::new(snapshot)) }
    }

    /// The snapshot to evaluate the next batch with.
    pub fn load(&self) -> Arc<Snapshot> {
        // A poisoned lock only means a writer panicked between two whole
        // pointer writes; the pointer itself is always a complete snapshot.
        Arc::clone(&self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Activates `content` of `pack` with nothing quarantined; returns the new snapshot.
    pub fn activate(&self, pack: PackIdentity, content: Arc<Compiled>) -> Arc<Snapshot> {
        let mut cur = self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let next = Arc::new(Snapshot {
            generation: cur.generation + 1,
            pack: Some(pack),
            engine: content.engine.clone(),
            content,
            quarantined: Vec::new(),
        });
        *cur = Arc::clone(&next);
        next
    }

    /// Disables `rules` of the snapshot of generation `generation`; does
    /// nothing (returns `None`) if another swap happened since.
    pub fn quarantine(&self, generation: u64, rules: &[RuleId]) -> Option<Arc<Snapshot>> {
        let mut cur = self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cur.generation != generation {
            return None;
        }
        let mut quarantined = cur.quarantined.clone();
        quarantined.extend_from_slice(rules);
        quarantined.sort_unstable();
        quarantined.dedup();
        let engine = Engine::with_filter(&cur.content.rules, |r| quarantined.binary_search(&r).is_err());
        let next = Arc::new(Snapshot {
            generation: cur.generation + 1,
            pack: cur.pack.clone(),
            content: Arc::clone(&cur.content),
            engine,
            quarantined,
        });
        *cur = Arc::clone(&next);
        Some(next)
    }
}
