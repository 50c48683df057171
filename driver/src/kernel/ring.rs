//! Writing records into the ring, and the attach/detach glue around `ffi::lend`.
//!
//! Never blocks: a record goes to the shard of the CPU it is produced on, at
//! DISPATCH_LEVEL, lock-free when every CPU has its own shard (the default: the client
//! asks for one shard per CPU) and under the shard's spin lock otherwise; with no ring
//! attached or a full shard it is dropped and counted, and the next record that fits is
//! preceded by a Lost record.

use super::state::DRIVER;
use crate::ffi::irql;
use crate::ffi::log::klog;
use crate::ffi::time;
use core::sync::atomic::Ordering;
use vigil_protocol::encode::{Encode, Stamp};

/// A stamp for an event of process `pid`/`key`, thread `tid`, now.
pub(crate) fn stamp(pid: u32, tid: u32, key: u64) -> Stamp {
    Stamp { timestamp: time::system_time(), pid, tid, process_key: key }
}

/// Whether a ring is attached (callbacks skip name lookups when not: the record would
/// only be counted as dropped).
pub(crate) fn is_attached() -> bool {
    irql::at_dispatch(|t| DRIVER.ring.with(t, |_| ())).is_some()
}

/// Writes `record`, or counts it as dropped. IRQL <= DISPATCH_LEVEL.
pub(crate) fn emit<R: Encode + ?Sized>(record: &R) {
    irql::at_dispatch(|t| {
        let cpu = irql::processor_index(t);
        let pushed = DRIVER.ring.with(t, |a| a.push(t, cpu, record));
        if pushed.is_none() {
            let shards = DRIVER.detached_shards.load(Ordering::Relaxed).max(1);
            if let Some(slot) = DRIVER.slots.get((cpu % shards) as usize) {
                slot.drop_detached(record);
            }
        }
    });
}

/// Ends the loan (see `ffi::lend::RingLease::end`). Returns whether a ring was detached.
pub(crate) fn detach(completion: i32, only_file: Option<usize>) -> bool {
    let shards = DRIVER.ring.shard_count();
    let detached = DRIVER.ring.end(completion, only_file);
    if detached && shards != 0 {
        DRIVER.detached_shards.store(shards, Ordering::Relaxed);
    }
    detached
}

/// The client cancelled its attach IOCTL (IRQL <= DISPATCH_LEVEL).
pub(crate) fn on_cancelled() {
    klog!(INFO, "vigil: ring detached (attach request cancelled)\n");
}
