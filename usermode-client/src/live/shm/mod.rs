//! Linux: the ring of the stand-in producer (`vigil simulate-driver`), found
//! by name under `/dev/shm` (`vigil run --source shm:<name>`).
//!
//! Where Windows lends the analyzer's buffer to the driver, here the
//! producer creates the region: it initializes a fresh file with
//! `Producer::attach` and only then renames it to `<name>`, so whoever opens
//! the name finds a complete header. The loan "ends" when the name stops
//! pointing at the mapped file: the producer exited (it removes its names)
//! or restarted (a new region renamed over the old one). The consumer then
//! drains its mapping, which stays valid, and attaches to the new one.

pub mod files;
pub mod wake;

use super::HostInfo;
use super::source::{Attachment, RingLink, RingProvider, SourceError};
use crate::shm::ShmMapping;
use files::ShmNames;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::time::Duration;
use vigil_protocol::control::DriverStats;
use vigil_protocol::ring::{Consumer, RingError};
use wake::WakeFifo;

/// Attaches to the stand-in producer's region `<name>`.
#[derive(Debug)]
pub struct ShmProvider {
    names: ShmNames,
}

impl ShmProvider {
    /// A provider for `/dev/shm/<name>`.
    pub fn new(name: &str) -> io::Result<Self> {
        Ok(Self { names: ShmNames::new(name)? })
    }
}

fn unavailable_or(what: String, e: io::Error) -> SourceError {
    if e.kind() == io::ErrorKind::NotFound {
        SourceError::Unavailable(format!("{what}: no such region (is the producer running?)"))
    } else {
        SourceError::os(what, e)
    }
}

impl RingProvider for ShmProvider {
    fn describe(&self) -> String {
        format!("shm:{}", self.names.name)
    }

    fn attach(&mut self) -> Result<Attachment, SourceError> {
        let what = self.names.ring.display().to_string();
        let map = ShmMapping::open_named(&self.names.name).map_err(|e| unavailable_or(what.clone(), e))?;
        let ino = map.file().metadata().map_err(|e| SourceError::os(what.clone(), e))?.ino();
        let wake =
            WakeFifo::open(&self.names.wake).map_err(|e| unavailable_or(self.names.wake.display().to_string(), e))?;
        let mem = map.shared_memory().map_err(|source| SourceError::Ring { what: what.clone(), source })?;
        let consumer = Consumer::attach(mem).map_err(|source| match source {
            RingError::BadMagic { .. } => SourceError::Unavailable(format!("{what}: not initialized yet")),
            source => SourceError::Ring { what, source },
        })?;
        let link = ShmLink { wake, ino, names: self.names.clone(), _map: map };
        Ok(Attachment { consumer, link: Box::new(link) })
    }

    fn host(&mut self) -> HostInfo {
        files::read_host(&self.names.host).unwrap_or_default()
    }
}

/// One attachment to a stand-in region.
#[derive(Debug)]
struct ShmLink {
    wake: WakeFifo,
    /// Inode of the mapped file: the loan lasts while the name points at it.
    ino: u64,
    names: ShmNames,
    /// The mapping the consumer reads (kept alive, never read directly).
    _map: ShmMapping,
}

impl RingLink for ShmLink {
    fn wait(&mut self, timeout: Duration) {
        self.wake.wait(timeout);
    }

    fn ended(&mut self) -> Option<String> {
        match std::fs::metadata(&self.names.ring) {
            Ok(m) if m.ino() == self.ino => None,
            Ok(_) => Some("the producer replaced its region (it restarted)".into()),
            Err(_) => Some("the producer removed its region (it exited)".into()),
        }
    }

    fn detach(&mut self) {
        // The stand-in lends nothing: there is no loan to end. It goes on
        // writing; whatever it writes after the drain is dropped and counted
        // by the producer once the ring is full.
    }

    fn driver_stats(&mut self) -> Option<DriverStats> {
        files::read_stats(&self.names.stats).ok()
    }
}
