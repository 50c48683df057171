//! A content store in a local directory:
//!
//! ```text
//! <store>/state.json                 the Rollout: channel, last known good, release, pins, history
//! <store>/packs/<digest>.vpack       every pack ever promoted, named by its SHA-256; never rewritten
//! <store>/health/<digest>/<host>.json  HostReports of hosts running that pack
//! ```
//!
//! Packs are immutable and content-addressed; the only mutable object is
//! `state.json`, replaced atomically (write, then rename). The same layout
//! maps onto object storage with versioned keys and conditional writes
//! (docs/content-safety.md, "Fleet scale").

use super::channel::Channel;
use super::health::{HostReport, Tally};
use super::state::{PackRef, Rollout};
use crate::content::pack::{self, PackError, TrustPolicy};
use std::path::{Path, PathBuf};

/// A store operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A JSON file does not parse.
    #[error("{}: {reason}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The directory is not a content store.
    #[error("{}: not a content store (no state.json; run `vigil content init`)", .0.display())]
    NotAStore(PathBuf),
    /// A store already exists there.
    #[error("{}: a content store already exists", .0.display())]
    Exists(PathBuf),
    /// The pack was refused by the runtime loader.
    #[error("{}: refused: {source}", path.display())]
    Pack {
        /// The pack file.
        path: PathBuf,
        /// Why.
        source: PackError,
    },
    /// No pack (or more than one) matches an id prefix.
    #[error("no single pack in the store matches '{0}'")]
    NoSuchPack(String),
    /// The channel definition is invalid.
    #[error(transparent)]
    Channel(#[from] super::channel::ChannelError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + use<> {
    let path = path.to_path_buf();
    move |source| StoreError::Io { path, source }
}

/// A content store directory.
#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Creates a store for `channel` at `root`.
    pub fn init(root: &Path, channel: Channel) -> Result<Store, StoreError> {
        channel.validate()?;
        let s = Store { root: root.to_path_buf() };
        if s.state_path().exists() {
            return Err(StoreError::Exists(root.into()));
        }
        for d in [root.join("packs"), root.join("health")] {
            std::fs::create_dir_all(&d).map_err(io(&d))?;
        }
        s.save(&Rollout::new(channel))?;
        Ok(s)
    }

    /// Opens an existing store.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        let s = Store { root: root.to_path_buf() };
        if !s.state_path().is_file() {
            return Err(StoreError::NotAStore(root.into()));
        }
        Ok(s)
    }

    /// Path of `state.json`, the only file of a store that changes.
    pub fn state_path(&self) -> PathBuf {
        self.root.join("state.json")
    }

    /// The rollout state.
    pub fn load(&self) -> Result<Rollout, StoreError> {
        let p = self.state_path();
        let text = std::fs::read(&p).map_err(io(&p))?;
        let r: Rollout =
            serde_json::from_slice(&text).map_err(|e| StoreError::Json { path: p.clone(), reason: e.to_string() })?;
        r.channel.validate()?;
        Ok(r)
    }

    /// Replaces the rollout state atomically.
    pub fn save(&self, r: &Rollout) -> Result<(), StoreError> {
        let p = self.state_path();
        let tmp = self.root.join("state.json.tmp");
        let json =
            serde_json::to_vec_pretty(r).map_err(|e| StoreError::Json { path: p.clone(), reason: e.to_string() })?;
        std::fs::write(&tmp, json).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &p).map_err(io(&p))
    }

    /// Path of the pack with `digest`.
    pub fn pack_path(&self, digest: &str) -> PathBuf {
        self.root.join("packs").join(format!("{digest}.vpack"))
    }

    /// Loads the pack at `path` exactly as an analyzer would (refusing it on
    /// any failure) and adds it to the store.
    pub fn add_pack(&self, path: &Path, policy: &TrustPolicy) -> Result<PackRef, StoreError> {
        let bytes = std::fs::read(path).map_err(io(path))?;
        let (v, _) = pack::load(&bytes, policy).map_err(|source| StoreError::Pack { path: path.into(), source })?;
        let r = PackRef::of(&v);
        let dest = self.pack_path(&r.digest);
        if !dest.exists() {
            let tmp = dest.with_extension("tmp");
            std::fs::write(&tmp, &bytes).map_err(io(&tmp))?;
            std::fs::rename(&tmp, &dest).map_err(io(&dest))?;
        }
        Ok(r)
    }

    /// The bytes of the pack with `digest`.
    pub fn pack_bytes(&self, digest: &str) -> Result<Vec<u8>, StoreError> {
        let p = self.pack_path(digest);
        std::fs::read(&p).map_err(io(&p))
    }

    /// The full digest of the one pack whose digest starts with `prefix`.
    pub fn resolve(&self, prefix: &str) -> Result<String, StoreError> {
        let dir = self.root.join("packs");
        let mut found = Vec::new();
        for e in std::fs::read_dir(&dir).map_err(io(&dir))?.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(d) = name.strip_suffix(".vpack")
                && d.starts_with(prefix)
                && !prefix.is_empty()
            {
                found.push(d.to_owned());
            }
        }
        match found.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(StoreError::NoSuchPack(prefix.into())),
        }
    }

    /// Writes a host's health report for the pack it names.
    pub fn put_report(&self, r: &HostReport) -> Result<(), StoreError> {
        let dir = self.root.join("health").join(&r.pack);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let p = dir.join(format!("{}.json", sanitize(&r.host)));
        let json =
            serde_json::to_vec_pretty(r).map_err(|e| StoreError::Json { path: p.clone(), reason: e.to_string() })?;
        std::fs::write(&p, json).map_err(io(&p))
    }

    /// Every report filed for the pack with `digest`, added up.
    pub fn tally(&self, digest: &str) -> Result<Tally, StoreError> {
        let mut t = Tally::default();
        let dir = self.root.join("health").join(digest);
        let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(t) };
        let mut files: Vec<PathBuf> =
            entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
        files.sort();
        for p in files {
            let bytes = std::fs::read(&p).map_err(io(&p))?;
            let r: HostReport = serde_json::from_slice(&bytes)
                .map_err(|e| StoreError::Json { path: p.clone(), reason: e.to_string() })?;
            t.add(&r);
        }
        Ok(t)
    }
}

fn sanitize(host: &str) -> String {
    host.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' }).collect()
}
