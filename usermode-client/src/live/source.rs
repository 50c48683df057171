//! Event sources: where live records come from, and the one that reads a
//! producer's ring ([`RingSource`]), the same on every platform.
//!
//! A platform supplies a [`RingProvider`]: how to get hold of a ring (lend a
//! buffer to the driver; open the stand-in's shared memory) and a
//! [`RingLink`] for the attachment (sleep until signalled, notice the end of
//! the loan, detach). Everything else, reading the shards with the protocol
//! crate's [`Consumer`], merging them, reattaching with backoff, draining on
//! stop, is here.

use super::HostInfo;
use super::merge::{MergeStats, Merger};
use std::time::{Duration, Instant};
use vigil_protocol::control::DriverStats;
use vigil_protocol::decode::Event;
use vigil_protocol::ring::{Consumer, ConsumerStats, RingError};

/// Records read from one shard per sweep, at most: bounds the merge buffer
/// (and how long one batch keeps the analyzer from the next wakeup check).
const PER_SHARD: usize = 4096;

/// Why a ring could not be attached or a request failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The producer is not there (yet): driver not loaded, region absent.
    #[error("{0}")]
    Unavailable(String),
    /// An operating-system call failed.
    #[error("{what}: {source}")]
    Os {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// The ring's header was refused.
    #[error("{what}: {source}")]
    Ring {
        /// Which ring.
        what: String,
        /// Why.
        source: RingError,
    },
    /// The producer refused the session or a request.
    #[error("{0}")]
    Refused(String),
}

impl SourceError {
    /// An OS error with what was being done.
    pub fn os(what: impl Into<String>, source: std::io::Error) -> Self {
        SourceError::Os { what: what.into(), source }
    }
}

/// A platform's side of one attached ring.
pub trait RingLink {
    /// Sleeps until the producer signals, the loan ends, or `timeout`
    /// passes. Called after `Consumer::prepare_wait` said the consumer may
    /// sleep.
    fn wait(&mut self, timeout: Duration);
    /// Whether the loan is over (nothing more will be published in this
    /// ring), and why.
    fn ended(&mut self) -> Option<String>;
    /// Ends the loan from this side. Afterwards nothing more is published
    /// (Windows) or the producer may go on (Linux: it never learns), and
    /// what is in the ring can still be read.
    fn detach(&mut self);
    /// The producer's statistics, if it can be asked now.
    fn driver_stats(&mut self) -> Option<DriverStats>;
}

/// An attached ring.
pub struct Attachment {
    /// The consumer. Declared before `link`, so it is dropped first: the
    /// link owns the memory the consumer reads.
    pub consumer: Consumer,
    /// The platform's side.
    pub link: Box<dyn RingLink>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment").field("layout", self.consumer.layout()).finish_non_exhaustive()
    }
}

/// How to get hold of a producer's ring.
pub trait RingProvider {
    /// What this is, for messages (`driver`, `shm:<name>`).
    fn describe(&self) -> String;
    /// Attaches to the producer's ring. An error means "not now": the
    /// source retries with backoff.
    fn attach(&mut self) -> Result<Attachment, SourceError>;
    /// What the producer's host says about itself.
    fn host(&mut self) -> HostInfo;
}

/// What one call to [`EventSource::next`] did.
#[derive(Debug)]
pub enum SourceEvent {
    /// Records were delivered (possibly 0: held for the merge).
    Delivered(usize),
    /// Nothing arrived before the timeout.
    Idle,
    /// A ring was attached.
    Attached {
        /// Its shards.
        shards: u32,
        /// Bytes per shard.
        shard_size: u32,
    },
    /// The loan ended; what was left in the ring was delivered.
    Detached {
        /// Why it ended.
        reason: String,
        /// Records delivered while draining.
        drained: usize,
    },
    /// Attaching failed; the next try is after `after`.
    Retry {
        /// Why.
        error: SourceError,
        /// The delay before the next try.
        after: Duration,
    },
}

/// Counters of a source, over all its attachments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// Rings attached.
    pub attaches: u64,
    /// Loans that ended (by the producer or on stop).
    pub detaches: u64,
    /// Failed attach attempts.
    pub attach_failures: u64,
    /// The consumers' counters (records, decode errors, resyncs).
    pub consumer: ConsumerStats,
    /// Merge and sequence counters (Lost records and counts, gaps).
    pub merge: MergeStats,
}

/// A source of live records, delivered one merged batch at a time.
pub trait EventSource {
    /// What this is, for messages.
    fn describe(&self) -> String;
    /// What the producer's host says about itself (refreshed on attach).
    fn host(&mut self) -> HostInfo;
    /// Waits up to `timeout` for records and delivers one batch in
    /// timestamp order, or attaches, or reports the end of a loan.
    fn next(&mut self, timeout: Duration, f: &mut dyn FnMut(&Event<'_>)) -> SourceEvent;
    /// Stops: detaches, delivers everything still in the ring, and returns
    /// how many records that was.
    fn stop(&mut self, f: &mut dyn FnMut(&Event<'_>)) -> usize;
    /// Counters so far.
    fn stats(&self) -> SourceStats;
    /// The producer's statistics, if attached and it can be asked.
    fn driver_stats(&mut self) -> Option<DriverStats>;
}

/// Backoff between attach attempts: doubles from `min` to `max`.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// First delay.
    pub min: Duration,
    /// Largest delay.
    pub max: Duration,
}

/// An [`EventSource`] over a [`RingProvider`]'s rings.
#[derive(Debug)]
pub struct RingSource<P: RingProvider> {
    provider: P,
    current: Option<Attachment>,
    merger: Merger,
    backoff: Backoff,
    delay: Duration,
    retry_at: Option<Instant>,
    /// Consumer counters of finished attachments.
    past: ConsumerStats,
    stats: SourceStats,
}

impl<P: RingProvider> RingSource<P> {
    /// A source that attaches through `provider`, retrying with `backoff`.
    pub fn new(provider: P, backoff: Backoff) -> Self {
        Self {
            provider,
            current: None,
            merger: Merger::default(),
            backoff,
            delay: backoff.min,
            retry_at: None,
            past: ConsumerStats::default(),
            stats: SourceStats::default(),
        }
    }

    /// The provider.
    pub fn provider(&mut self) -> &mut P {
        &mut self.provider
    }

    fn try_attach(&mut self, timeout: Duration) -> SourceEvent {
        if let Some(at) = self.retry_at {
            let now = Instant::now();
            if now < at {
                std::thread::sleep((at - now).min(timeout));
                return SourceEvent::Idle;
            }
        }
        match self.provider.attach() {
            Ok(att) => {
                let layout = *att.consumer.layout();
                self.merger.reset_sequences();
                self.current = Some(att);
                self.stats.attaches += 1;
                self.delay = self.backoff.min;
                self.retry_at = None;
                SourceEvent::Attached { shards: layout.shard_count(), shard_size: layout.shard_size() }
            }
            Err(error) => {
                self.stats.attach_failures += 1;
                let after = self.delay;
                self.retry_at = Some(Instant::now() + after);
                self.delay = (self.delay * 2).min(self.backoff.max);
                SourceEvent::Retry { error, after }
            }
        }
    }

    /// Reads everything readable now and delivers it; bounded, because a
    /// producer that goes on writing (Linux) could keep it busy forever.
    fn drain(&mut self, f: &mut dyn FnMut(&Event<'_>)) -> usize {
        let Some(att) = self.current.as_mut() else { return 0 };
        let shards = att.consumer.layout().shard_count() as usize;
        let ring_records = att.consumer.layout().shard_size() as usize / vigil_protocol::schema::HEADER_SIZE;
        let mut read = 0;
        while read <= 2 * shards * ring_records {
            let n = self.merger.sweep(&mut att.consumer, PER_SHARD);
            if n == 0 {
                break;
            }
            read += n;
            self.merger.deliver(f);
        }
        self.merger.flush(f);
        read
    }

    fn end_attachment(&mut self) {
        if let Some(att) = self.current.take() {
            let c = att.consumer.stats();
            self.past.records += c.records;
            self.past.decode_errors += c.decode_errors;
            self.past.resyncs += c.resyncs;
            self.past.resync_bytes += c.resync_bytes;
            self.stats.detaches += 1;
        }
    }
}

impl<P: RingProvider> EventSource for RingSource<P> {
    fn describe(&self) -> String {
        self.provider.describe()
    }

    fn host(&mut self) -> HostInfo {
        self.provider.host()
    }

    fn next(&mut self, timeout: Duration, f: &mut dyn FnMut(&Event<'_>)) -> SourceEvent {
        let Some(att) = self.current.as_mut() else { return self.try_attach(timeout) };
        if self.merger.sweep(&mut att.consumer, PER_SHARD) > 0 {
            return SourceEvent::Delivered(self.merger.deliver(f));
        }
        if self.merger.pending() > 0 {
            return SourceEvent::Delivered(self.merger.flush(f));
        }
        if let Some(reason) = att.link.ended() {
            let drained = self.drain(f);
            self.end_attachment();
            return SourceEvent::Detached { reason, drained };
        }
        // The consumer's wake protocol: a short first sleep, a re-check, then
        // the rest of the timeout (see `vigil_protocol::ring::FIRST_SLEEP_MS`).
        let ms = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
        let link = &mut att.link;
        att.consumer.sleep(ms, &mut |ms| link.wait(Duration::from_millis(u64::from(ms))));
        SourceEvent::Idle
    }

    fn stop(&mut self, f: &mut dyn FnMut(&Event<'_>)) -> usize {
        let Some(att) = self.current.as_mut() else { return 0 };
        att.link.detach();
        let n = self.drain(f);
        self.end_attachment();
        n
    }

    fn stats(&self) -> SourceStats {
        let mut s = self.stats;
        s.consumer = self.past;
        if let Some(att) = &self.current {
            let c = att.consumer.stats();
            s.consumer.records += c.records;
            s.consumer.decode_errors += c.decode_errors;
            s.consumer.resyncs += c.resyncs;
            s.consumer.resync_bytes += c.resync_bytes;
        }
        s.merge = self.merger.stats();
        s
    }

    fn driver_stats(&mut self) -> Option<DriverStats> {
        self.current.as_mut()?.link.driver_stats()
    }
}

#[cfg(test)]
mod tests;
