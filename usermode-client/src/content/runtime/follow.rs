//! Following where content comes from while the analyzer runs: a content
//! store (the pack `state.json` assigns to this host), one pack file, or
//! bytes given once (an in-memory pack of a rules directory).
//!
//! [`Follower::poll`] is called between batches. At most once per period it
//! looks at the store's `state.json` (its bytes) or the pack file (its
//! length and modification time); only when that changed does it read and
//! install a pack, through [`ContentRuntime::install_from`], so a refused
//! pack is refused once per change, not once per poll. Whatever is refused,
//! the active content stays.

use super::{ActiveContent, ContentAlert, ContentRuntime, PackIdentity};
use crate::content::pack::{TrustPolicy, format, hex, keys};
use crate::content::rollout::{Store, StoreError};
use ed25519_dalek::VerifyingKey;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where the analyzer's content comes from.
#[derive(Debug)]
pub enum PackOrigin {
    /// The pack a content store assigns to `host`.
    Store {
        /// The store.
        store: Store,
        /// This host's id (decides its ring and pins).
        host: String,
        /// Keys to require instead of the store's `trusted_keys`.
        keys: Option<Vec<VerifyingKey>>,
    },
    /// One pack file, installed again whenever it changes.
    File {
        /// The file.
        path: PathBuf,
        /// What it must be signed by.
        policy: TrustPolicy,
    },
    /// Pack bytes given once; never polled.
    Fixed {
        /// What they were made from, for alerts.
        label: String,
        /// The pack.
        bytes: Vec<u8>,
    },
}

/// Why following could not start.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Nothing could be installed and there is no last known good.
    #[error("no content to run: {0}")]
    NoContent(String),
}

/// What following did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FollowStats {
    /// Packs activated after the first.
    pub swaps: u64,
    /// Packs refused.
    pub refusals: u64,
    /// Rules quarantined by the watchdog.
    pub quarantined: u64,
}

/// A [`ContentRuntime`] kept in step with a [`PackOrigin`].
#[derive(Debug)]
pub struct Follower {
    runtime: ContentRuntime,
    origin: PackOrigin,
    every: Duration,
    next: Instant,
    seen: Option<Vec<u8>>,
    started: bool,
    stats: FollowStats,
}

impl Follower {
    /// Installs the origin's pack now and returns the alerts that raised.
    /// Fails only if nothing at all is active afterwards (neither that pack
    /// nor a last known good the runtime restored).
    pub fn start(
        runtime: ContentRuntime,
        origin: PackOrigin,
        every: Duration,
    ) -> Result<(Follower, Vec<ContentAlert>), FollowError> {
        let mut f = Follower {
            runtime,
            origin,
            every,
            next: Instant::now(),
            seen: None,
            started: false,
            stats: Default::default(),
        };
        let alerts = f.check_now();
        f.started = true;
        if f.current().is_none() {
            let why = alerts.iter().rev().find_map(|a| match a {
                ContentAlert::PackRefused { reason, .. } => Some(reason.clone()),
                _ => None,
            });
            let why = why.unwrap_or_else(|| match &f.origin {
                PackOrigin::Store { host, .. } => {
                    format!("the store assigns no pack to host {host} (`vigil content promote` one)")
                }
                _ => "no pack installed".into(),
            });
            return Err(FollowError::NoContent(why));
        }
        Ok((f, alerts))
    }

    /// The active content, for the pipeline's evaluator.
    pub fn active(&self) -> &Arc<ActiveContent> {
        self.runtime.active()
    }

    /// The active pack.
    pub fn current(&self) -> Option<PackIdentity> {
        self.runtime.current()
    }

    /// What following did so far.
    pub fn stats(&self) -> &FollowStats {
        &self.stats
    }

    /// Counts an alert raised elsewhere (the watchdog's quarantines).
    pub fn note(&mut self, a: &ContentAlert) {
        match a {
            ContentAlert::PackActivated { .. } if self.started => self.stats.swaps += 1,
            ContentAlert::PackRefused { .. } => self.stats.refusals += 1,
            ContentAlert::RuleQuarantined { .. } => self.stats.quarantined += 1,
            _ => {}
        }
    }

    /// Between batches: looks at the origin if a period has passed since
    /// the last look, and installs its pack if it changed.
    pub fn poll(&mut self, now: Instant) -> Vec<ContentAlert> {
        if now < self.next {
            return Vec::new();
        }
        self.next = now + self.every;
        self.check_now()
    }

    /// Looks at the origin now.
    pub fn check_now(&mut self) -> Vec<ContentAlert> {
        let print = self.fingerprint();
        if self.seen.as_ref() != Some(&print) {
            self.seen = Some(print);
            self.load();
        }
        let alerts = self.runtime.take_alerts();
        for a in &alerts {
            self.note(a);
        }
        alerts
    }

    /// What changes when the origin does.
    fn fingerprint(&self) -> Vec<u8> {
        match &self.origin {
            PackOrigin::Store { store, .. } => {
                std::fs::read(store.state_path()).unwrap_or_else(|e| e.to_string().into())
            }
            PackOrigin::File { path, .. } => match std::fs::metadata(path) {
                Ok(m) => format!("{} {:?}", m.len(), m.modified().ok()).into_bytes(),
                Err(e) => e.to_string().into_bytes(),
            },
            PackOrigin::Fixed { .. } => Vec::new(),
        }
    }

    fn load(&mut self) {
        match &self.origin {
            PackOrigin::Fixed { label, bytes } => {
                let _ = self.runtime.install_from(Some(label), bytes);
            }
            PackOrigin::File { path, policy } => {
                let origin = path.display().to_string();
                match std::fs::read(path) {
                    Ok(bytes) => {
                        self.runtime.set_policy(policy.clone());
                        let _ = self.runtime.install_from(Some(&origin), &bytes);
                    }
                    Err(e) => self.runtime.refuse(None, format!("{origin}: cannot read: {e}")),
                }
            }
            PackOrigin::Store { store, host, keys } => {
                let (store, host, keys) = (store.clone(), host.clone(), keys.clone());
                self.load_from_store(&store, &host, keys);
            }
        }
    }

    fn load_from_store(&mut self, store: &Store, host: &str, keys: Option<Vec<VerifyingKey>>) {
        let rollout = match store.load() {
            Ok(r) => r,
            Err(e) => return self.runtime.refuse(None, e.to_string()),
        };
        let Some(digest) = rollout.assigned(host) else { return };
        if self.current().is_some_and(|c| hex(&c.digest) == digest) {
            return;
        }
        let short = Some(digest.get(..12).unwrap_or(digest).to_owned());
        let policy = match keys {
            Some(k) => TrustPolicy::Keys(k),
            None => match trusted(&rollout.trusted_keys) {
                Ok(k) if k.is_empty() => TrustPolicy::AllowUnsigned,
                Ok(k) => TrustPolicy::Keys(k),
                Err(reason) => {
                    let state = store.state_path();
                    return self
                        .runtime
                        .refuse(short, format!("{}: signature check failed: {reason}", state.display()));
                }
            },
        };
        let path = store.pack_path(digest);
        let origin = path.display().to_string();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => return self.runtime.refuse(short, format!("{origin}: cannot read: {e}")),
        };
        // A well-formed pack stored under another pack's name is refused too.
        if let Ok(sealed) = format::open(&bytes, &TrustPolicy::AllowUnsigned)
            && hex(&sealed.digest) != digest
        {
            let holds = hex(&sealed.digest[..6]);
            let reason =
                format!("{origin}: digest check failed: the file holds pack {holds}, not the one it is named for");
            return self.runtime.refuse(short, reason);
        }
        self.runtime.set_policy(policy);
        let _ = self.runtime.install_from(Some(&origin), &bytes);
    }
}

/// The store's trusted keys, parsed.
fn trusted(hexes: &[String]) -> Result<Vec<VerifyingKey>, String> {
    hexes
        .iter()
        .map(|h| {
            let bytes = keys::unhex::<32>(h).ok_or_else(|| format!("trusted key {h:?} is not 64 hex digits"))?;
            VerifyingKey::from_bytes(&bytes).map_err(|_| format!("trusted key {h} is not an ed25519 key"))
        })
        .collect()
}
