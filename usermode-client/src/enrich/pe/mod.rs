//! PE metadata read in user mode from the image file on this machine:
//! version strings and the `Hashes` value Sysmon writes
//! (`MD5=...,SHA256=...,IMPHASH=...`, uppercase hex).
//!
//! [`PeCache`] reads lazily and caches by path, revalidating with the file's
//! size and modification time. A file that is not on this machine (a replay
//! on Linux of a Windows capture) yields no metadata and costs no I/O: a
//! path that is not absolute for this operating system is never opened.

mod imphash;
mod ordinals;
pub mod version_info;

use md5::{Digest, Md5};
use object::LittleEndian as LE;
use object::read::pe::{ImageNtHeaders, PeFile};
use sha2::Sha256;
use std::collections::HashMap;
use std::fmt::Write;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

pub use version_info::VersionStrings;

/// Metadata of one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeInfo {
    /// Version strings; `None` if the file is not a PE or has no version
    /// resource.
    pub version: Option<VersionStrings>,
    /// MD5 of the whole file.
    pub md5: [u8; 16],
    /// SHA-256 of the whole file.
    pub sha256: [u8; 32],
    /// Import hash; `None` if the file is not a PE or imports nothing.
    pub imphash: Option<[u8; 16]>,
}

impl PeInfo {
    /// Reads the metadata of a file's contents.
    pub fn from_bytes(data: &[u8]) -> Self {
        let md5 = Md5::digest(data).into();
        let sha256 = Sha256::digest(data).into();
        let (version, imphash) = match object::FileKind::parse(data) {
            Ok(object::FileKind::Pe32) => pe_parts::<object::pe::ImageNtHeaders32>(data),
            Ok(object::FileKind::Pe64) => pe_parts::<object::pe::ImageNtHeaders64>(data),
            _ => (None, None),
        };
        PeInfo { version, md5, sha256, imphash }
    }

    /// The `Hashes` value: `MD5=<hex>,SHA256=<hex>[,IMPHASH=<hex>]`.
    pub fn hashes(&self) -> String {
        let mut s = String::with_capacity(140);
        s.push_str("MD5=");
        hex_upper(&mut s, &self.md5);
        s.push_str(",SHA256=");
        hex_upper(&mut s, &self.sha256);
        if let Some(h) = &self.imphash {
            s.push_str(",IMPHASH=");
            hex_upper(&mut s, h);
        }
        s
    }
}

fn hex_upper(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        let _ = write!(out, "{b:02X}");
    }
}

fn pe_parts<Pe: ImageNtHeaders>(data: &[u8]) -> (Option<VersionStrings>, Option<[u8; 16]>) {
    let Ok(pe) = PeFile::<Pe, &[u8]>::parse(data) else { return (None, None) };
    (version_resource(&pe, data).and_then(version_info::parse), imphash::imphash(&pe))
}

/// The bytes of the first `RT_VERSION` resource.
fn version_resource<'d, Pe: ImageNtHeaders>(pe: &PeFile<'d, Pe, &'d [u8]>, data: &'d [u8]) -> Option<&'d [u8]> {
    const RT_VERSION: u16 = 16;
    let sections = pe.section_table();
    let dir = pe.data_directories().resource_directory(data, &sections).ok()??;
    let root = dir.root().ok()?;
    let by_type = root.entries.iter().find(|e| e.name_or_id().id() == Some(RT_VERSION))?;
    let names = by_type.data(dir).ok()?.table()?;
    let langs = names.entries.first()?.data(dir).ok()?.table()?;
    let entry = langs.entries.first()?.data(dir).ok()?.data()?;
    let bytes = sections.pe_data_at(data, entry.offset_to_data.get(LE))?;
    bytes.get(..entry.size.get(LE) as usize)
}

/// Files larger than this are not read (hashing them would stall the
/// pipeline); their fields stay absent.
pub const MAX_FILE_SIZE: u64 = 256 * 1024 * 1024;

#[derive(Debug)]
struct CacheEntry {
    size: u64,
    modified: Option<SystemTime>,
    checked: Instant,
    info: Option<PeInfo>,
}

/// Counters for statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeCacheStats {
    /// Lookups answered from the cache without touching the file.
    pub hits: u64,
    /// Files read and parsed.
    pub reads: u64,
    /// Lookups for paths not on this machine (not absolute here, or missing).
    pub unavailable: u64,
}

/// Lazy, cached PE metadata by path.
#[derive(Debug)]
pub struct PeCache {
    map: HashMap<String, CacheEntry>,
    revalidate_after: Duration,
    capacity: usize,
    stats: PeCacheStats,
}

impl Default for PeCache {
    fn default() -> Self {
        Self::new(4096, Duration::from_secs(60))
    }
}

impl PeCache {
    /// A cache of at most `capacity` files that trusts an entry for
    /// `revalidate_after` before it checks the file's size and time again.
    pub fn new(capacity: usize, revalidate_after: Duration) -> Self {
        Self { map: HashMap::new(), revalidate_after, capacity: capacity.max(1), stats: PeCacheStats::default() }
    }

    /// Counters.
    pub fn stats(&self) -> PeCacheStats {
        self.stats
    }

    /// The metadata of the file at `path` (a path of this machine), or
    /// `None` if it cannot be read here.
    pub fn lookup(&mut self, path: &str) -> Option<&PeInfo> {
        if !Path::new(path).is_absolute() {
            self.stats.unavailable += 1;
            return None;
        }
        let now = Instant::now();
        let fresh = self.map.get(path).is_some_and(|e| now.duration_since(e.checked) < self.revalidate_after);
        if fresh {
            self.stats.hits += 1;
        } else {
            self.refresh(path, now);
        }
        self.map.get(path).and_then(|e| e.info.as_ref())
    }

    fn refresh(&mut self, path: &str, now: Instant) {
        let meta = std::fs::metadata(path).ok().filter(|m| m.is_file());
        let (size, modified) = meta.as_ref().map_or((0, None), |m| (m.len(), m.modified().ok()));
        if let Some(e) = self.map.get_mut(path)
            && e.size == size
            && e.modified == modified
        {
            e.checked = now;
            self.stats.hits += 1;
            return;
        }
        let info = match meta {
            Some(m) if m.len() <= MAX_FILE_SIZE => std::fs::read(path).ok().map(|d| PeInfo::from_bytes(&d)),
            _ => None,
        };
        if info.is_some() {
            self.stats.reads += 1;
        } else {
            self.stats.unavailable += 1;
        }
        if self.map.len() >= self.capacity && !self.map.contains_key(path) {
            self.map.clear();
        }
        self.map.insert(path.to_owned(), CacheEntry { size, modified, checked: now, info });
    }
}

#[cfg(test)]
pub(crate) mod testpe;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_format_matches_sysmon() {
        let info = PeInfo::from_bytes(b"hello");
        assert_eq!(
            info.hashes(),
            "MD5=5D41402ABC4B2A76B9719D911017C592,\
             SHA256=2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824"
        );
        assert_eq!(info.version, None);
    }

    #[test]
    fn synthetic_pe_gives_version_and_imphash() {
        let bytes = testpe::build();
        let info = PeInfo::from_bytes(&bytes);
        let v = info.version.as_ref().expect("version resource");
        assert_eq!(v.original_file_name.as_deref(), Some("vigiltest.exe"));
        assert_eq!(v.company.as_deref(), Some("Vigil project"));
        // pefile 2024.8.26 `get_imphash()` over the same bytes (see testpe.rs).
        assert!(info.hashes().ends_with(&format!(",IMPHASH={}", testpe::EXPECTED_IMPHASH)), "{}", info.hashes());
    }

    #[test]
    fn cache_skips_foreign_paths_and_rereads_changed_files() {
        let mut c = PeCache::new(8, Duration::ZERO);
        assert!(c.lookup(r"C:\Windows\System32\cmd.exe").is_none() || cfg!(windows));
        let dir = std::env::temp_dir().join(format!("vigil-pe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.bin");
        std::fs::write(&p, b"hello").unwrap();
        let ps = p.to_str().unwrap();
        let md5 = c.lookup(ps).unwrap().md5;
        assert_eq!(c.stats().reads, 1);
        let _ = c.lookup(ps);
        assert_eq!(c.stats().reads, 1, "unchanged file is not read again");
        std::fs::write(&p, b"hello, longer").unwrap();
        assert_ne!(c.lookup(ps).unwrap().md5, md5);
        assert_eq!(c.stats().reads, 2);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(c.lookup(ps).is_none());
    }
}
