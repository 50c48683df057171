//! The shared-memory ring: per-CPU shards, each a single-producer,
//! single-consumer byte ring with variable-size records.
//!
//! # Design
//! - **Multi-producer through sharding.** Kernel callbacks run on every CPU.
//!   Each CPU writes to its own shard (`cpu % shard_count`) under that
//!   shard's [`SpinLock`], which is uncontended unless CPUs outnumber shards.
//!   Within a shard it is the SPSC scheme of the Linux BPF ring buffer and of
//!   rtrb: monotonic 64-bit byte positions, `offset = pos & (size - 1)`.
//! - **Producer state is private.** Reserve, commit and sequence numbers live
//!   in [`ShardSlot`]s in producer memory. The shared region exposes only the
//!   published position (written by the producer) and the consumer position
//!   (written by the consumer). The producer reads exactly two shared
//!   things: the consumer position, only when its cached copy leaves too
//!   little room, and validated (aligned, not behind the last valid value,
//!   not past its own frontier: the lesson of CVE-2024-41009 in the BPF ring
//!   buffer); and the wait bit that its own publishing swap returns.
//! - **Records never wrap.** A record that does not fit before the end of
//!   the buffer is preceded by a `Pad` marker filling the rest of the lap.
//! - **Full means drop.** The producer never waits for space: it drops the
//!   record, counts it, and writes a `Lost` record carrying the count (and the
//!   sequence numbers it covers) as soon as there is room again.
//! - **Batched wakeups.** The consumer announces that it is about to sleep
//!   ([`Consumer::prepare_wait`]) by setting [`WAIT_BIT`] in each shard's
//!   `published` word; a producer signals ([`Notify`]) only when its
//!   publishing swap finds that bit, so a burst costs one signal per shard.
//!
//! # Memory orderings (each pair is named at both ends in the code)
//! | writer                         | store     | reader                     | load    |
//! |--------------------------------|-----------|----------------------------|---------|
//! | producer `published` (swap)    | Release   | consumer `poll_shard`      | Acquire |
//! | consumer `consumer`            | Release   | producer `push` (when it needs room) | Acquire |
//! | producer `magic` (attach)      | Release   | consumer `attach`          | Acquire |
//! | wait handshake                 | RMWs on one word: producer `swap`, consumer `fetch_or` ||
//!
//! # What is not provided
//! No blocking push, no global order across shards, no way for the producer
//! to learn anything from the consumer beyond how much space it freed.

mod consumer;
mod layout;
mod lock;
mod producer;
mod region;

pub use consumer::{Consumer, ConsumerStats, RawItem, ShardItem};
pub use layout::{
    LINE, Line, MAX_SHARDS, PAGE_SIZE, RING_MAGIC, RingError, RingHeader, RingIdent, RingLayout, ShardConsumerSide,
    ShardControl, ShardProducerSide, WAIT_BIT,
};
pub use lock::SpinLock;
pub use producer::{DropReason, NoNotify, Notify, Producer, Push, ShardCounters, ShardSlot, ShardState};
pub use region::{Region, SharedMemory};
