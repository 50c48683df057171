//! The driver proper: safe Rust over `crate::ffi`.
//!
//! - `entry`: DriverEntry and unload (the one teardown sequence, also used when
//!   DriverEntry fails half-way).
//! - `state`: the single global structure ([`state::DRIVER`]).
//! - `registration`: the FltMgr operation table, as data.
//! - `callbacks::{file, process, image}`: events into records.
//! - `ring`: writing records; attach and detach of the lent ring.
//! - `control`: the control device's IRPs (the IOCTLs).
//! - `port`: the FltMgr port's connect and disconnect.
//! - `boot_guard`: the unclean-start counter in the registry.
//! - `timers`: heartbeat records and the healthy-uptime reset.
//! - `sync`: the DISPATCH_LEVEL lock.

pub(crate) mod boot_guard;
pub(crate) mod callbacks;
pub(crate) mod control;
pub(crate) mod entry;
pub(crate) mod port;
pub(crate) mod registration;
pub(crate) mod ring;
pub(crate) mod state;
pub(crate) mod sync;
pub(crate) mod timers;

/// Any Rust allocation would come from non-paged pool (tag "rust"). The driver allocates
/// nothing through it: the crate does not link `alloc`, so `Box`/`Vec` cannot be used;
/// its one allocation is `ffi::pool::PoolBox`, which is fallible.
#[global_allocator]
static ALLOCATOR: wdk_alloc::WdkAllocator = wdk_alloc::WdkAllocator;

/// The logic's NTSTATUS values are the WDK's.
const _: () = {
    use crate::logic::status as s;
    assert!(s::SUCCESS == wdk_sys::STATUS_SUCCESS);
    assert!(s::PENDING == wdk_sys::STATUS_PENDING);
    assert!(s::REPARSE == wdk_sys::STATUS_REPARSE);
    assert!(s::INVALID_PARAMETER == wdk_sys::STATUS_INVALID_PARAMETER);
    assert!(s::INVALID_DEVICE_REQUEST == wdk_sys::STATUS_INVALID_DEVICE_REQUEST);
    assert!(s::ACCESS_DENIED == wdk_sys::STATUS_ACCESS_DENIED);
    assert!(s::BUFFER_TOO_SMALL == wdk_sys::STATUS_BUFFER_TOO_SMALL);
    assert!(s::DEVICE_ALREADY_ATTACHED == wdk_sys::STATUS_DEVICE_ALREADY_ATTACHED);
    assert!(s::REVISION_MISMATCH == wdk_sys::STATUS_REVISION_MISMATCH);
    assert!(s::INSUFFICIENT_RESOURCES == wdk_sys::STATUS_INSUFFICIENT_RESOURCES);
    assert!(s::CANCELLED == wdk_sys::STATUS_CANCELLED);
    assert!(s::INVALID_DEVICE_STATE == wdk_sys::STATUS_INVALID_DEVICE_STATE);
    assert!(s::INVALID_BUFFER_SIZE == wdk_sys::STATUS_INVALID_BUFFER_SIZE);
};
