//! The ring on loan: the client's buffer, lent through a pending METHOD_OUT_DIRECT IOCTL.
//!
//! The I/O manager probes and locks the caller's output buffer and describes it with
//! `Irp->MdlAddress`; the driver maps it into system space ([`map_mdl`], the WDK's
//! MmGetSystemAddressForMdlSafe) and builds the protocol's [`Producer`] over that mapping.
//! The IRP then waits in a cancel-safe queue (IoCsq, at most one IRP). The mapping and the
//! locked pages are released by the I/O manager when the IRP completes, so the one rule
//! this module enforces is:
//!
//! **The IRP completes only after the producer is gone.** The producer lives in a
//! [`RundownCell`]: every push runs inside [`RingLease::with`], and every way the loan
//! ends (detach IOCTL, cleanup of the attaching handle, client disconnect, unload, and
//! cancellation of the IRP) first retracts the producer, which waits for pushes in
//! flight, and only then completes the IRP. The producer never leaves this module, so no
//! other code can keep a pointer into the mapping.

use super::event::UserEvent;
use super::irp::Irp;
use super::irql::{self, AtDispatch};
use super::rundown::RundownCell;
use crate::ffi::cell::KernelCell;
use crate::logic::status;
use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use vigil_protocol::encode::Encode;
use vigil_protocol::ring::{Producer, RingLayout, ShardSlot, SharedMemory};
use wdk_sys::{IO_CSQ, IRP, KIRQL, KSPIN_LOCK, MDL, NTSTATUS, PIO_CSQ, PIRP, PKIRQL};

/// MdlMappingNoExecute (wdm.h): map the ring non-executable.
const MDL_MAPPING_NO_EXECUTE: u32 = 0x4000_0000;
/// STATUS_DEVICE_BUSY, from CsqInsertIrpEx when an attach IRP is already queued.
const DEVICE_BUSY: NTSTATUS = 0x8000_0011u32 as i32;

/// What is attached: the producer over the mapping, and the handle it came through.
pub(crate) struct Attached {
    /// The ring's producer; signals the client's event.
    producer: Producer<&'static [ShardSlot], UserEvent>,
    /// Every CPU active at attach has a shard of its own (CPU `i` writes shard `i`), so
    /// pushes take no lock. Fixed for the life of the attachment.
    exclusive: bool,
    /// The file object of the attaching handle (identity only), so closing another
    /// handle does not detach.
    pub(crate) file_object: usize,
}

impl Attached {
    /// Writes `record` from CPU `cpu` (the caller's own, read at DISPATCH_LEVEL), or
    /// counts it as dropped. Never waits.
    ///
    /// With a shard per CPU the push is the lock-free [`Producer::push_exclusive`]; a CPU
    /// that came online after the attach (index >= shard count) owns no shard, and its
    /// records are counted as dropped in the shard it would share (reported in that
    /// shard's next Lost record) until the client attaches again. With fewer shards than
    /// CPUs the locked [`Producer::push`] lets CPUs share shards.
    pub(crate) fn push<R: Encode + ?Sized>(&self, _: &AtDispatch, cpu: u32, record: &R) {
        if !self.exclusive {
            self.producer.push(cpu, record);
        } else if cpu >= self.producer.layout().shard_count() {
            self.producer.drop_unowned(cpu, record);
        } else {
            // SAFETY: `push_exclusive`'s contract, no other access to shard `cpu`'s state
            // overlaps this one: 1. `cpu < shard_count`, so the shard is `cpu`, and only
            // CPU `cpu` maps to it (every other CPU has another index: below the shard
            // count it writes its own shard, at or above it takes the branch above);
            // 2. `exclusive` is fixed at attach, so the locked `push` (and `has_room`)
            // never run on this ring; 3. the `AtDispatch` token: IRQL >= DISPATCH_LEVEL
            // on this CPU, so no other thread runs here until we return, and nothing that
            // pushes runs above DISPATCH_LEVEL (callbacks, DPCs and work items; no ISR),
            // so no push nests inside this one; 4. pushes run inside `RingLease::with`,
            // after `Producer::attach` and before the retraction that waits for them, and
            // the rundown's acquire/release orders earlier pushes of this CPU's previous
            // attachments before this one.
            unsafe { self.producer.push_exclusive(cpu, record) };
        }
    }
}

/// What the driver asks of a ring it is lent.
pub(crate) struct LoanTerms {
    /// The client's wakeup event.
    pub(crate) event: UserEvent,
    /// Shards to lay out (fewer if the buffer is too small for them).
    pub(crate) shards: u32,
    /// Largest record to write (capped by the layout).
    pub(crate) max_record: usize,
    /// The producer's shard slots.
    pub(crate) slots: &'static [ShardSlot],
    /// Largest buffer accepted.
    pub(crate) max_bytes: usize,
}

/// The loan: the attached producer and the pending IRP that lends the memory.
pub(crate) struct RingLease {
    attached: RundownCell<Attached>,
    /// Serializes `lend` calls (a second concurrent attach is refused).
    lending: AtomicBool,
    csq: KernelCell<IO_CSQ>,
    /// Protects `pending` for the IoCsq callbacks.
    lock: KernelCell<KSPIN_LOCK>,
    /// The queued attach IRP, or null. Written only under `lock`.
    pending: AtomicPtr<IRP>,
    ready: AtomicBool,
}

/// `MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority | MdlMappingNoExecute)`
/// (wdm.h): the MDL's existing system mapping if it has one, else a new one.
fn map_mdl(mdl: *mut MDL) -> Option<(*mut u8, usize)> {
    // SAFETY: `mdl` is the IRP's MdlAddress, non-null (checked by the caller), built and
    // locked by the I/O manager for this METHOD_OUT_DIRECT request; valid until completion.
    let m = unsafe { &*mdl };
    let len = m.ByteCount as usize;
    let mapped =
        i32::from(m.MdlFlags) & (wdk_sys::MDL_MAPPED_TO_SYSTEM_VA | wdk_sys::MDL_SOURCE_IS_NONPAGED_POOL) as i32 != 0;
    let va = if mapped {
        m.MappedSystemVa
    } else {
        // SAFETY: 1. the MDL describes locked pages (probed and locked by the I/O manager);
        // 2. KernelMode mapping, no fixed address, no bugcheck on failure (returns null);
        // 3. IRQL <= DISPATCH_LEVEL. The mapping is released with the MDL at completion.
        unsafe {
            wdk_sys::ntddk::MmMapLockedPagesSpecifyCache(
                mdl,
                wdk_sys::_MODE::KernelMode as i8,
                wdk_sys::_MEMORY_CACHING_TYPE::MmCached,
                core::ptr::null_mut(),
                0,
                (wdk_sys::_MM_PAGE_PRIORITY::NormalPagePriority as u32 | MDL_MAPPING_NO_EXECUTE) as _,
            )
        }
    };
    (!va.is_null()).then_some((va.cast::<u8>(), len))
}

impl RingLease {
    /// Nothing attached; [`Self::init`] must run before the first `lend`.
    pub(crate) const fn new() -> Self {
        Self {
            attached: RundownCell::new(),
            lending: AtomicBool::new(false),
            csq: KernelCell::zeroed(),
            lock: KernelCell::zeroed(),
            pending: AtomicPtr::new(core::ptr::null_mut()),
            ready: AtomicBool::new(false),
        }
    }

    /// Sets up the cancel-safe queue. DriverEntry, PASSIVE_LEVEL.
    pub(crate) fn init(&'static self) -> Result<(), i32> {
        // SAFETY: 1. the IO_CSQ is static storage inside `self`, which the callbacks find
        // again from its address (`from_csq`); 2. the callbacks match IoCsq's contracts;
        // 3. initialized once, before any IRP can arrive (DriverEntry).
        let status = unsafe {
            wdk_sys::ntddk::IoCsqInitializeEx(
                self.csq.as_ptr(),
                Some(csq_insert),
                Some(csq_remove),
                Some(csq_peek),
                Some(csq_acquire),
                Some(csq_release),
                Some(csq_cancelled),
            )
        };
        if status < 0 {
            return Err(status);
        }
        self.ready.store(true, Ordering::Release);
        Ok(())
    }

    /// The lease whose `csq` field is at `csq`.
    ///
    /// # Safety
    /// `csq` is the address of the `csq` field of a `RingLease` in static memory (only
    /// `init` hands that address to IoCsq).
    unsafe fn from_csq(csq: PIO_CSQ) -> &'static RingLease {
        let offset = core::mem::offset_of!(RingLease, csq);
        // SAFETY: by the precondition, the field lives `offset` bytes into a RingLease, so
        // stepping back stays inside that allocation.
        let lease = unsafe { csq.cast::<u8>().sub(offset) }.cast::<RingLease>();
        // SAFETY: `lease` is the address of a static RingLease (precondition).
        unsafe { &*lease }
    }

    /// Attaches the ring lent by `irp` (IOCTL_ATTACH_RING, whose input the caller has
    /// validated): maps its MDL, lays out the shards over it (refusing more than
    /// `terms.max_bytes`), initializes the ring and publishes its producer, then queues the IRP.
    /// Returns the status for the dispatch routine: STATUS_PENDING when attached (the IRP
    /// is queued, or already completed by a racing cancel), else an error with the IRP
    /// completed.
    pub(crate) fn lend(&'static self, irp: Irp, terms: LoanTerms) -> NTSTATUS {
        if !self.ready.load(Ordering::Acquire) {
            irp.complete(status::INVALID_DEVICE_STATE, 0);
            return status::INVALID_DEVICE_STATE;
        }
        if self.lending.swap(true, Ordering::Acquire) {
            irp.complete(status::DEVICE_ALREADY_ATTACHED, 0);
            return status::DEVICE_ALREADY_ATTACHED;
        }
        let result = self.lend_locked(irp, terms);
        self.lending.store(false, Ordering::Release);
        result
    }

    fn lend_locked(&'static self, irp: Irp, terms: LoanTerms) -> NTSTATUS {
        let LoanTerms { event, shards, max_record, slots, max_bytes } = terms;
        // Attaching resets the shard slots' positions: never while another ring uses them.
        if self.attached.is_open() || !self.pending.load(Ordering::Acquire).is_null() {
            irp.complete(status::DEVICE_ALREADY_ATTACHED, 0);
            return status::DEVICE_ALREADY_ATTACHED;
        }
        // SAFETY: the IRP is owned and valid; MdlAddress is a plain field.
        let mdl = unsafe { (*irp.as_ptr()).MdlAddress };
        let Some((base, len)) = (!mdl.is_null()).then(|| map_mdl(mdl)).flatten() else {
            irp.complete(status::INVALID_PARAMETER, 0);
            return status::INVALID_PARAMETER;
        };
        if len > max_bytes {
            irp.complete(status::INVALID_PARAMETER, 0);
            return status::INVALID_PARAMETER;
        }
        // SAFETY: 1. `base` maps `len` bytes of pages the I/O manager keeps locked until the
        // IRP completes, and the IRP completes only after this producer is dropped (the
        // module invariant: `end` and `cancelled` retract first); 2. in this address space
        // only the producer below touches the mapping.
        let memory = match unsafe { SharedMemory::new(base, len) } {
            Ok(m) => m,
            Err(_) => {
                irp.complete(status::INVALID_PARAMETER, 0);
                return status::INVALID_PARAMETER;
            }
        };
        let producer = match RingLayout::fit(len, shards)
            .and_then(|layout| Producer::attach(memory, layout, slots, event, max_record))
        {
            Ok(p) => p,
            Err(_) => {
                irp.complete(status::INVALID_PARAMETER, 0);
                return status::INVALID_PARAMETER;
            }
        };
        // A shard per active CPU: pushes take no lock (see `Attached::push`).
        let exclusive = irql::active_processors() <= producer.layout().shard_count();
        let attached = Attached { producer, exclusive, file_object: irp.file_object_id() };
        if let Err(refused) = irql::at_dispatch(|_| self.attached.publish(attached)) {
            drop(refused);
            irp.complete(status::DEVICE_ALREADY_ATTACHED, 0);
            return status::DEVICE_ALREADY_ATTACHED;
        }
        let raw = irp.into_raw();
        // SAFETY: 1. the queue was initialized (`ready`); 2. `raw` is an IRP we own and
        // have not completed; the queue takes it over (marks it pending and may complete a
        // cancelled one through `csq_cancelled`, which retracts first).
        let inserted = unsafe {
            wdk_sys::ntddk::IoCsqInsertIrpEx(self.csq.as_ptr(), raw, core::ptr::null_mut(), core::ptr::null_mut())
        };
        if inserted < 0 || inserted == DEVICE_BUSY {
            // Not queued: the IRP is still ours. Retract (waits for pushes) before it completes.
            drop(irql::at_dispatch(|_| self.attached.retract()));
            // SAFETY: `raw` was not taken over by the queue (the insert callback refused it).
            if let Some(irp) = unsafe { Irp::from_raw(raw) } {
                irp.complete(status::DEVICE_ALREADY_ATTACHED, 0);
            }
            return status::DEVICE_ALREADY_ATTACHED;
        }
        status::PENDING
    }

    /// Runs `f` with the attached ring; `None` if none is attached. Never waits.
    pub(crate) fn with<R>(&self, _: &AtDispatch, f: impl FnOnce(&Attached) -> R) -> Option<R> {
        self.attached.with(f)
    }

    /// Ends the loan: retracts the producer (waiting for pushes in flight), then completes
    /// the attach IRP with `completion`. With `only_file`, does nothing unless the ring was
    /// attached through that file object. IRQL <= DISPATCH_LEVEL. Returns whether a ring
    /// was detached.
    pub(crate) fn end(&self, completion: NTSTATUS, only_file: Option<usize>) -> bool {
        let detached = irql::at_dispatch(|_| {
            let taken = match only_file {
                Some(f) => self.attached.retract_if(|a| a.file_object == f),
                None => self.attached.retract(),
            };
            // Dropping the producer dereferences the event (allowed at DISPATCH_LEVEL).
            taken.is_some()
        });
        if detached && self.ready.load(Ordering::Acquire) {
            // SAFETY: initialized queue; a null peek context matches the one IRP.
            let raw = unsafe { wdk_sys::ntddk::IoCsqRemoveNextIrp(self.csq.as_ptr(), core::ptr::null_mut()) };
            // SAFETY: an IRP removed from the queue is ours to complete (null: a cancel
            // took it, and `csq_cancelled` completes it after its own retract).
            if let Some(irp) = unsafe { Irp::from_raw(raw) } {
                irp.complete(completion, 0);
            }
        }
        detached
    }

    /// Shards of the attached ring, 0 if none.
    pub(crate) fn shard_count(&self) -> u32 {
        irql::at_dispatch(|t| self.with(t, |a| a.producer.layout().shard_count())).unwrap_or(0)
    }
}

/// CsqInsertIrpEx: takes the IRP if none is queued.
unsafe extern "C" fn csq_insert(csq: *mut IO_CSQ, irp: PIRP, _ctx: *mut core::ffi::c_void) -> NTSTATUS {
    // SAFETY: IoCsq passes the IO_CSQ registered in `init`.
    let lease = unsafe { RingLease::from_csq(csq) };
    // Called with `lock` held (IoCsq acquires it around insert/remove/peek).
    if !lease.pending.load(Ordering::Relaxed).is_null() {
        return DEVICE_BUSY;
    }
    lease.pending.store(irp, Ordering::Release);
    status::SUCCESS
}

/// CsqRemoveIrp.
unsafe extern "C" fn csq_remove(csq: *mut IO_CSQ, irp: PIRP) {
    // SAFETY: as in `csq_insert`.
    let lease = unsafe { RingLease::from_csq(csq) };
    let _ = lease.pending.compare_exchange(irp, core::ptr::null_mut(), Ordering::AcqRel, Ordering::Relaxed);
}

/// CsqPeekNextIrp: the one queued IRP when asked for the first (`irp` null).
unsafe extern "C" fn csq_peek(csq: *mut IO_CSQ, irp: PIRP, _peek: *mut core::ffi::c_void) -> PIRP {
    // SAFETY: as in `csq_insert`.
    let lease = unsafe { RingLease::from_csq(csq) };
    if irp.is_null() { lease.pending.load(Ordering::Acquire) } else { core::ptr::null_mut() }
}

/// CsqAcquireLock.
unsafe extern "C" fn csq_acquire(csq: *mut IO_CSQ, irql: PKIRQL) {
    // SAFETY: as in `csq_insert`.
    let lease = unsafe { RingLease::from_csq(csq) };
    // SAFETY: 1. static, zero-initialized (released) spin lock; 2. IRQL <= DISPATCH_LEVEL.
    let old: KIRQL = unsafe { wdk_sys::ntddk::KeAcquireSpinLockRaiseToDpc(lease.lock.as_ptr()) };
    // SAFETY: IoCsq passes a valid KIRQL out pointer.
    unsafe { *irql = old };
}

/// CsqReleaseLock.
unsafe extern "C" fn csq_release(csq: *mut IO_CSQ, irql: KIRQL) {
    // SAFETY: as in `csq_insert`.
    let lease = unsafe { RingLease::from_csq(csq) };
    // SAFETY: the lock was acquired by `csq_acquire`, which returned `irql`.
    unsafe { wdk_sys::ntddk::KeReleaseSpinLock(lease.lock.as_ptr(), irql) };
}

/// CsqCompleteCanceledIrp: the client cancelled the attach IRP (CancelIo, thread exit).
/// Retract first, then complete. IRQL <= DISPATCH_LEVEL.
unsafe extern "C" fn csq_cancelled(csq: *mut IO_CSQ, irp: PIRP) {
    // SAFETY: as in `csq_insert`.
    let lease = unsafe { RingLease::from_csq(csq) };
    drop(irql::at_dispatch(|_| lease.attached.retract()));
    // SAFETY: IoCsq has removed the cancelled IRP from the queue and hands it to us to
    // complete.
    if let Some(irp) = unsafe { Irp::from_raw(irp) } {
        irp.complete(status::CANCELLED, 0);
    }
    crate::kernel::ring::on_cancelled();
}
