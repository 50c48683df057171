//! The shared-memory ring: per-CPU shards, each a single-producer,
//! single-consumer byte ring with variable-size records.
//!
//! # Design
//! - **Multi-producer through sharding.** Kernel callbacks run on every CPU.
//!   Each CPU writes to its own shard (`cpu % shard_count`). Within a shard
//!   it is the SPSC scheme of the Linux BPF ring buffer and of rtrb:
//!   monotonic 64-bit byte positions, `offset = pos & (size - 1)`.
//! - **No locked instruction on the fast path.** A shard's private state is
//!   written by one writer at a time: the driver's CPU-owned shards
//!   ([`Producer::push_exclusive`]), a user-mode [`ShardWriter`] that holds
//!   the shard's [`SpinLock`] for its life, or [`Producer::push`], which takes
//!   the lock per record for CPUs that share a shard. A push is then plain
//!   loads and stores: publish with a Release store, read the wait flag.
//! - **Producer state is private.** Reserve, commit and sequence numbers live
//!   in [`ShardSlot`]s in producer memory. The shared region exposes only the
//!   published position (written by the producer), the consumer position and
//!   the consumer's wait flag (written by the consumer). The producer reads
//!   the consumer position only when its cached copy leaves too little room,
//!   and validates it (aligned, not behind the last valid value, not past its
//!   own frontier: the lesson of CVE-2024-41009 in the BPF ring buffer); any
//!   non-zero wait flag just means "signal".
//! - **Records never wrap.** A record that does not fit before the end of
//!   the buffer is preceded by a `Pad` marker filling the rest of the lap.
//! - **Full means drop.** The producer never waits for space: it drops the
//!   record, counts it, and writes a `Lost` record carrying the count (and the
//!   sequence numbers it covers) as soon as there is room again.
//! - **Batched wakeups.** The consumer announces that it is about to sleep
//!   ([`Consumer::prepare_wait`]: flag, fence, re-check); a producer that
//!   finds the flag after publishing takes it and signals ([`Notify`]), so a
//!   burst costs one signal for the whole ring. The producer has no fence, so
//!   a push racing with the announcement can go unsignalled: the consumer's
//!   first sleep is bounded ([`FIRST_SLEEP_MS`], [`Consumer::sleep`]).
//!
//! # Memory orderings (each pair is named at both ends in the code)
//! | writer                         | store     | reader                     | load    |
//! |--------------------------------|-----------|----------------------------|---------|
//! | producer `published`           | Release   | consumer `walk_shard`, `has_pending` | Acquire |
//! | consumer `consumer`            | Release   | producer `push_slow`, `room_in` (when it needs room) | Acquire |
//! | producer `magic` (attach)      | Release   | consumer `attach`          | Acquire |
//! | consumer `waiting`, then SeqCst fence | Relaxed | producer `take_wake` (no fence) | Relaxed |
//! | any thread `drop_detached`     | Release RMW | writer `fold_detached`    | Acquire RMW |
//!
//! # What is not provided
//! No blocking push, no global order across shards, no way for the producer
//! to learn anything from the consumer beyond how much space it freed.

mod consumer;
mod layout;
mod lock;
mod producer;
mod region;
mod slot;

pub use consumer::{Consumer, ConsumerStats, FIRST_SLEEP_MS, RawItem, ShardItem};
pub use layout::{
    ConsumerWait, LINE, Line, MAX_SHARDS, PAGE_SIZE, RING_MAGIC, RingError, RingHeader, RingIdent, RingLayout,
    ShardConsumerSide, ShardControl, ShardProducerSide,
};
pub use lock::{Held, SpinLock};
pub use producer::{DropReason, NoNotify, Notify, Producer, Push, ShardWriter};
pub use region::{Region, SharedMemory};
pub use slot::{ShardCounters, ShardSlot, ShardState};
