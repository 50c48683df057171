//! The analyzer side of content: installing packs atomically with a
//! last-known-good fallback, and evaluating under a watchdog.
//!
//! [`ContentRuntime::install`] verifies and compiles a pack completely
//! before it touches what is running. If any check fails, the pack is
//! refused, the active content (the last known good) stays, and a
//! [`ContentAlert::PackRefused`] says why. With a state directory, the last
//! pack accepted is kept on disk and restored at start-up.

pub mod active;
pub mod follow;
pub mod watchdog;

pub use active::{ActiveContent, PackIdentity, Snapshot};
pub use follow::{FollowError, FollowStats, Follower, PackOrigin};
pub use watchdog::{BatchOutcome, Evaluator};

use super::pack::{self, Compiled, PackError, TrustPolicy, VerifiedPack};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Something about content the operator must hear.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContentAlert {
    /// A pack was refused; the active content did not change.
    PackRefused {
        /// Short id of the refused pack, when it could be read that far.
        pack: Option<String>,
        /// Why.
        reason: String,
        /// Short id of the pack still active (the last known good), if any.
        kept: Option<String>,
    },
    /// A pack became active.
    PackActivated {
        /// Its short id.
        pack: String,
        /// Its version.
        pack_version: u64,
        /// Its number of rules.
        rules: usize,
    },
    /// The active pack could not be saved as last known good (it is active
    /// now, but a restart would not find it).
    StateNotSaved {
        /// Why.
        reason: String,
    },
    /// A rule went over its budget at run time and was disabled.
    RuleQuarantined {
        /// Short id of its pack.
        pack: String,
        /// Its Sigma id.
        rule_id: String,
        /// Its title.
        title: String,
        /// What it cost on the worst event, in nanoseconds.
        cost_ns: u64,
        /// The budget, in nanoseconds.
        budget_ns: u64,
    },
}

impl std::fmt::Display for ContentAlert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContentAlert::PackRefused { pack, reason, kept } => write!(
                f,
                "content pack {} refused: {reason}; keeping {}",
                pack.as_deref().unwrap_or("(unreadable)"),
                kept.as_deref().unwrap_or("no content")
            ),
            ContentAlert::PackActivated { pack, pack_version, rules } => {
                write!(f, "content pack {pack} (version {pack_version}, {rules} rules) active")
            }
            ContentAlert::StateNotSaved { reason } => f.write_str(reason),
            ContentAlert::RuleQuarantined { pack, rule_id, title, cost_ns, budget_ns } => write!(
                f,
                "rule {rule_id} ({title}) of pack {pack} quarantined: {} on one event, budget {}",
                crate::content::check::ns(*cost_ns),
                crate::content::check::ns(*budget_ns)
            ),
        }
    }
}

/// Parsed and compiled packs shared by every runtime of a process, keyed by
/// the pack's digest. Each runtime still checks the framing, the digest and
/// the signature of the bytes it received itself ([`pack::format::open`]);
/// what is shared is only the deterministic rest (manifest, split, compile,
/// static checks) of bytes already proven identical. (The fleet simulation
/// runs 10,000 runtimes in one process.)
#[derive(Debug, Default)]
pub struct CompileCache {
    loaded: Mutex<HashMap<[u8; 32], Loaded>>,
}

type Loaded = (Arc<VerifiedPack>, Arc<Compiled>);

impl CompileCache {
    fn get_or_load(&self, sealed: &pack::format::Sealed<'_>) -> Result<Loaded, PackError> {
        let lock = || self.loaded.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((v, c)) = lock().get(&sealed.digest) {
            return Ok((Arc::clone(v), Arc::clone(c)));
        }
        let v = Arc::new(pack::parse(sealed)?);
        let c = Arc::new(pack::compile(&v)?);
        lock().insert(sealed.digest, (Arc::clone(&v), Arc::clone(&c)));
        Ok((v, c))
    }
}

/// One analyzer's content: what is active, what it trusts, what it said.
#[derive(Debug)]
pub struct ContentRuntime {
    policy: TrustPolicy,
    active: Arc<ActiveContent>,
    cache: Arc<CompileCache>,
    state_dir: Option<PathBuf>,
    alerts: Vec<ContentAlert>,
}

/// Name of the last-known-good pack in the state directory.
pub const LKG_FILE: &str = "last-known-good.vpack";

impl ContentRuntime {
    /// A runtime with no content yet.
    pub fn new(policy: TrustPolicy) -> Self {
        Self::with_cache(policy, Arc::default())
    }

    /// A runtime sharing compiled content through `cache`.
    pub fn with_cache(policy: TrustPolicy, cache: Arc<CompileCache>) -> Self {
        Self { policy, active: Arc::default(), cache, state_dir: None, alerts: Vec::new() }
    }

    /// Keeps the last pack accepted in `dir` and loads it now if there is
    /// one (it is verified again, like any pack).
    pub fn with_state_dir(mut self, dir: PathBuf) -> Self {
        let lkg = dir.join(LKG_FILE);
        self.state_dir = Some(dir);
        if let Ok(bytes) = std::fs::read(&lkg) {
            let _ = self.install(&bytes);
        }
        self
    }

    /// The active content, for the pipeline.
    pub fn active(&self) -> &Arc<ActiveContent> {
        &self.active
    }

    /// The active pack, if any.
    pub fn current(&self) -> Option<PackIdentity> {
        self.active.load().pack.clone()
    }

    /// Alerts raised since the last call.
    pub fn take_alerts(&mut self) -> Vec<ContentAlert> {
        std::mem::take(&mut self.alerts)
    }

    /// Records an alert raised elsewhere (e.g. by an [`Evaluator`]).
    pub fn alert(&mut self, a: ContentAlert) {
        self.alerts.push(a);
    }

    /// Replaces the trust policy packs installed from now on are checked against.
    pub fn set_policy(&mut self, policy: TrustPolicy) {
        self.policy = policy;
    }

    /// Raises a [`ContentAlert::PackRefused`] for a pack refused before it
    /// reached the loader (unreadable, not the pack it was named for).
    pub fn refuse(&mut self, pack: Option<String>, reason: String) {
        let kept = self.current().map(|p| p.short_id());
        self.alerts.push(ContentAlert::PackRefused { pack, reason, kept });
    }

    /// Verifies, compiles and checks `bytes`, then swaps it in. On any
    /// failure nothing changes and a [`ContentAlert::PackRefused`] is raised.
    pub fn install(&mut self, bytes: &[u8]) -> Result<PackIdentity, PackError> {
        self.install_from(None, bytes)
    }

    /// [`ContentRuntime::install`] of bytes read from `origin` (a file):
    /// a refusal names the file and the check that failed.
    pub fn install_from(&mut self, origin: Option<&str>, bytes: &[u8]) -> Result<PackIdentity, PackError> {
        let result = pack::format::open(bytes, &self.policy).and_then(|sealed| self.cache.get_or_load(&sealed));
        match result {
            Ok((v, compiled)) => {
                let id = PackIdentity::of(&v);
                if self.current().is_some_and(|c| c.digest == id.digest) {
                    return Ok(id);
                }
                let rules = compiled.rules.len();
                self.active.activate(id.clone(), compiled);
                self.persist(bytes);
                self.alerts.push(ContentAlert::PackActivated {
                    pack: id.short_id(),
                    pack_version: id.pack_version,
                    rules,
                });
                Ok(id)
            }
            Err(e) => {
                let pack = pack::format::open(bytes, &TrustPolicy::AllowUnsigned).ok().map(|s| hex_short(&s.digest));
                let reason = match origin {
                    Some(o) => format!("{o}: {} check failed: {e}", e.check()),
                    None => e.to_string(),
                };
                self.refuse(pack, reason);
                Err(e)
            }
        }
    }

    fn persist(&mut self, bytes: &[u8]) {
        let Some(dir) = &self.state_dir else { return };
        let tmp = dir.join(format!("{LKG_FILE}.tmp"));
        let done = std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&tmp, bytes))
            .and_then(|()| std::fs::rename(&tmp, dir.join(LKG_FILE)));
        if let Err(e) = done {
            let reason = format!("{}: cannot keep the pack as last known good: {e}", dir.display());
            self.alerts.push(ContentAlert::StateNotSaved { reason });
        }
    }
}

fn hex_short(d: &[u8; 32]) -> String {
    pack::hex(&d[..6])
}
