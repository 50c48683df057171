//! The stand-in's names and side files under `/dev/shm`.
//!
//! | name | what | written by |
//! |---|---|---|
//! | `<name>` | the ring (a fully initialized region appears under this name by rename) | producer |
//! | `<name>.wake` | wakeup FIFO ([`super::wake`]) | producer creates |
//! | `<name>.host` | host name, volume and account tables (what Windows asks the OS) | producer |
//! | `<name>.stats` | `DriverStats`, byte for byte what IOCTL_GET_STATS returns | producer, every 250 ms |
//!
//! Side files are replaced atomically (write a temporary, rename), so a
//! reader sees an old or a new version, never half of one. Readers treat
//! them as untrusted input.

use super::super::HostInfo;
use crate::enrich::volumes::Volume;
use crate::shm::ShmMapping;
use std::io;
use std::path::{Path, PathBuf};
use vigil_protocol::control::{DriverStats, STATS_MAGIC};

/// The paths of one stand-in producer.
#[derive(Clone, Debug)]
pub struct ShmNames {
    /// The name given (`vigil run --source shm:<name>`).
    pub name: String,
    /// The ring.
    pub ring: PathBuf,
    /// The wakeup FIFO.
    pub wake: PathBuf,
    /// The host description.
    pub host: PathBuf,
    /// The statistics.
    pub stats: PathBuf,
}

impl ShmNames {
    /// The paths for `name`.
    pub fn new(name: &str) -> io::Result<Self> {
        let ring = ShmMapping::path_of(name)?;
        let side = |ext: &str| ShmMapping::path_of(&format!("{name}.{ext}"));
        Ok(Self { name: name.to_owned(), ring, wake: side("wake")?, host: side("host")?, stats: side("stats")? })
    }

    /// Every path, for clean-up.
    pub fn all(&self) -> [&Path; 4] {
        [&self.ring, &self.wake, &self.host, &self.stats]
    }
}

/// Replaces `path` with `bytes` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

const HOST_HEADER: &str = "vigil-host 1";

/// The host description as text: a header line, then `name`, `volume` and
/// `account` lines with tab-separated fields (SIDs in hex).
pub fn host_to_text(h: &HostInfo) -> String {
    let mut s = format!("{HOST_HEADER}\nname\t{}\n", h.name);
    for v in &h.volumes {
        s += &format!("volume\t{}\t{}\n", v.device, v.dos);
    }
    for (sid, name) in &h.accounts {
        let hex: String = sid.iter().map(|b| format!("{b:02x}")).collect();
        s += &format!("account\t{hex}\t{name}\n");
    }
    s
}

/// Parses [`host_to_text`]'s format; unknown or malformed lines are skipped.
pub fn host_from_text(text: &str) -> Option<HostInfo> {
    let mut lines = text.lines();
    if lines.next()? != HOST_HEADER {
        return None;
    }
    let mut h = HostInfo::default();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["name", n] => h.name = (*n).to_owned(),
            ["volume", device, dos] => h.volumes.push(Volume { device: (*device).into(), dos: (*dos).into() }),
            ["account", hex, name] => {
                let sid: Option<Vec<u8>> = (0..hex.len() / 2)
                    .map(|i| hex.get(2 * i..2 * i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
                    .collect();
                if let Some(sid) = sid.filter(|s| s.len() * 2 == hex.len()) {
                    h.accounts.push((sid, (*name).into()));
                }
            }
            _ => {}
        }
    }
    Some(h)
}

/// Reads the host description.
pub fn read_host(path: &Path) -> io::Result<HostInfo> {
    let text = std::fs::read_to_string(path)?;
    host_from_text(&text).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not a vigil host file"))
}

/// Reads the statistics file: exactly one `DriverStats` with the right magic
/// and size.
pub fn read_stats(path: &Path) -> io::Result<DriverStats> {
    let bytes = std::fs::read(path)?;
    let bad = || io::Error::new(io::ErrorKind::InvalidData, format!("{}: not a DriverStats", path.display()));
    if bytes.len() != size_of::<DriverStats>() {
        return Err(bad());
    }
    let s: DriverStats = vigil_protocol::read_pod(&bytes).ok_or_else(bad)?;
    if s.magic != STATS_MAGIC || s.size as usize != size_of::<DriverStats>() {
        return Err(bad());
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_text_round_trips_and_rejects_junk() {
        let h = HostInfo {
            name: "WS-0042".into(),
            volumes: vec![Volume { device: r"\Device\HarddiskVolume3".into(), dos: "C:".into() }],
            accounts: vec![(vec![1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0], r"NT AUTHORITY\SYSTEM".into())],
        };
        assert_eq!(host_from_text(&host_to_text(&h)), Some(h));
        assert_eq!(host_from_text("something else\n"), None);
        let partial = host_from_text("vigil-host 1\naccount\tzz\tX\nvolume\tonly-one-field\nname\tA\n").unwrap();
        assert_eq!((partial.name.as_str(), partial.volumes.len(), partial.accounts.len()), ("A", 0, 0));
    }

    #[test]
    fn stats_file_is_checked() {
        let dir = std::env::temp_dir().join(format!("vigil-stats-{}", std::process::id()));
        let mut s = DriverStats::ZERO;
        s.magic = STATS_MAGIC;
        s.size = size_of::<DriverStats>() as u32;
        s.shard_count = 3;
        write_atomic(&dir, vigil_protocol::bytes_of(&s)).unwrap();
        assert_eq!(read_stats(&dir).unwrap().shard_count, 3);
        s.magic = 0;
        write_atomic(&dir, vigil_protocol::bytes_of(&s)).unwrap();
        assert!(read_stats(&dir).is_err());
        std::fs::write(&dir, b"short").unwrap();
        assert!(read_stats(&dir).is_err());
        std::fs::remove_file(&dir).unwrap();
    }
}
