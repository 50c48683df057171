//! The live path: records from a producer's ring, through the analyzer, as
//! they happen.
//!
//! ```text
//! RingProvider ──attach──▶ Attachment { Consumer, RingLink }      (platform: how the ring is shared)
//!        ▲                         │ sweep every shard
//! RingSource (EventSource) ── Merger: per-batch timestamp merge, sequence check
//!        │ decoded records, in timestamp order
//! pipeline::run ── Mapper ── Engine ── alerts, capture (--record), latency
//! ```
//!
//! Everything above the [`RingProvider`] is platform-independent and runs the
//! protocol crate's [`vigil_protocol::ring::Consumer`]. Two providers:
//! - Windows ([`windows`]): the analyzer lends a buffer to vigil.sys through
//!   a pending IOCTL_ATTACH_RING and sleeps on an event the driver signals;
//! - Linux ([`shm`]): the stand-in producer (`vigil simulate-driver`) shares
//!   a named `/dev/shm` region and wakes the consumer through a FIFO.
//!
//! Both end the same way: the loan ends (the driver completes the attach
//! IOCTL, or the stand-in's region is replaced or removed), the consumer
//! drains what is left and the source attaches again with backoff.

pub mod clock;
pub mod latency;
mod merge;
pub mod pipeline;
pub mod source;
pub mod stop;

#[cfg(target_os = "linux")]
pub mod shm;
#[cfg(windows)]
pub mod windows;

pub use merge::MergeStats;
pub use pipeline::{Callbacks, LiveOptions, LiveStats, Notice, RuleAlerts, run};
pub use source::{Attachment, EventSource, RingLink, RingProvider, RingSource, SourceError, SourceEvent, SourceStats};

use crate::enrich::volumes::Volume;

/// What the producer's host says about itself: what a capture header
/// records and what mapping needs to turn NT paths and SIDs into names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostInfo {
    /// Computer name (the `Computer` field of every event).
    pub name: String,
    /// NT device → drive letter.
    pub volumes: Vec<Volume>,
    /// SID → account names known up front (Windows looks names up as it goes).
    pub accounts: Vec<(Vec<u8>, String)>,
}
