//! The driver's two timers and the work item one of them queues.
//!
//! - heartbeat: periodic, its DPC writes a Heartbeat record (DISPATCH_LEVEL is where the
//!   ring is written anyway);
//! - health: one-shot after the healthy uptime; its DPC queues a work item, because the
//!   registry can only be written at PASSIVE_LEVEL.

use super::cell::KernelCell;
use super::device::DeviceSlot;
use super::irql;
use core::ffi::c_void;
use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use wdk_sys::{KDPC, KEVENT, KTIMER, PDEVICE_OBJECT, PKDPC};

/// Which timer (selects the DPC routine).
#[derive(Clone, Copy)]
pub(crate) enum Which {
    /// `kernel::timers::on_heartbeat`.
    Heartbeat,
    /// `kernel::timers::on_healthy`.
    Health,
}

/// A KTIMER with its KDPC, in static memory.
pub(crate) struct Timer {
    timer: KernelCell<KTIMER>,
    dpc: KernelCell<KDPC>,
    ready: AtomicBool,
}

impl Timer {
    /// Uninitialized.
    pub(crate) const fn new() -> Self {
        Self { timer: KernelCell::zeroed(), dpc: KernelCell::zeroed(), ready: AtomicBool::new(false) }
    }

    /// KeInitializeTimerEx + KeInitializeDpc. DriverEntry, once.
    pub(crate) fn init(&self, which: Which) {
        if self.ready.load(Ordering::Acquire) {
            return;
        }
        let routine: wdk_sys::PKDEFERRED_ROUTINE = match which {
            Which::Heartbeat => Some(heartbeat_dpc),
            Which::Health => Some(health_dpc),
        };
        // SAFETY: static storage for a KTIMER, not yet in use (not `ready`).
        unsafe { wdk_sys::ntddk::KeInitializeTimerEx(self.timer.as_ptr(), wdk_sys::_TIMER_TYPE::NotificationTimer) };
        // SAFETY: static storage for a KDPC, not yet queued; the routine is in this image
        // and the timer is cancelled and DPCs flushed before unload (`stop`).
        unsafe { wdk_sys::ntddk::KeInitializeDpc(self.dpc.as_ptr(), routine, core::ptr::null_mut()) };
        self.ready.store(true, Ordering::Release);
    }

    /// (Re)arms the timer: first due in `due_ms`, then every `period_ms` (0: once).
    pub(crate) fn set(&self, due_ms: u32, period_ms: u32) {
        if !self.ready.load(Ordering::Acquire) {
            return;
        }
        // Relative due time: negative, in 100 ns units.
        let due = wdk_sys::LARGE_INTEGER { QuadPart: -(i64::from(due_ms) * 10_000) };
        // SAFETY: initialized timer and DPC; IRQL <= DISPATCH_LEVEL.
        unsafe {
            wdk_sys::ntddk::KeSetTimerEx(
                self.timer.as_ptr(),
                due,
                period_ms.min(i32::MAX as u32) as i32,
                self.dpc.as_ptr(),
            )
        };
    }

    /// Cancels the timer; a DPC already queued may still run (see [`flush_dpcs`]).
    pub(crate) fn cancel(&self) {
        if self.ready.load(Ordering::Acquire) {
            // SAFETY: initialized timer; IRQL <= DISPATCH_LEVEL.
            unsafe { wdk_sys::ntddk::KeCancelTimer(self.timer.as_ptr()) };
        }
    }
}

/// KeFlushQueuedDpcs: returns after every queued DPC has run. PASSIVE_LEVEL.
pub(crate) fn flush_dpcs() {
    if irql::current() == irql::PASSIVE_LEVEL {
        // SAFETY: PASSIVE_LEVEL (checked).
        unsafe { wdk_sys::ntddk::KeFlushQueuedDpcs() };
    }
}

unsafe extern "C" fn heartbeat_dpc(_dpc: PKDPC, _ctx: *mut c_void, _a1: *mut c_void, _a2: *mut c_void) {
    irql::in_dpc(crate::kernel::timers::on_heartbeat);
}

unsafe extern "C" fn health_dpc(_dpc: PKDPC, _ctx: *mut c_void, _a1: *mut c_void, _a2: *mut c_void) {
    irql::in_dpc(crate::kernel::timers::on_healthy);
}

/// An IO_WORKITEM for the health reset, with an event that is signalled whenever it is
/// not queued, so unload can wait for it.
pub(crate) struct WorkItem {
    item: AtomicPtr<c_void>,
    queued: AtomicBool,
    idle: KernelCell<KEVENT>,
}

impl WorkItem {
    /// Unallocated.
    pub(crate) const fn new() -> Self {
        Self { item: AtomicPtr::new(core::ptr::null_mut()), queued: AtomicBool::new(false), idle: KernelCell::zeroed() }
    }

    /// IoAllocateWorkItem on the control device. PASSIVE_LEVEL (DriverEntry).
    pub(crate) fn alloc(&self, device: &DeviceSlot) -> Result<(), i32> {
        let device = device.raw().ok_or(crate::logic::status::INVALID_DEVICE_STATE)?;
        // SAFETY: static KEVENT storage, not yet in use; a notification event, signalled.
        unsafe { wdk_sys::ntddk::KeInitializeEvent(self.idle.as_ptr(), wdk_sys::_EVENT_TYPE::NotificationEvent, 1) };
        // SAFETY: `device` is our control device; PASSIVE_LEVEL.
        let item = unsafe { wdk_sys::ntddk::IoAllocateWorkItem(device) };
        if item.is_null() {
            return Err(crate::logic::status::INSUFFICIENT_RESOURCES);
        }
        self.item.store(item.cast(), Ordering::Release);
        Ok(())
    }

    /// Queues the item (delayed work queue) unless it is already queued. IRQL <=
    /// DISPATCH_LEVEL.
    pub(crate) fn queue(&self) {
        let item = self.item.load(Ordering::Acquire);
        if item.is_null() || self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        // SAFETY: initialized event (allocated in `alloc`); IRQL <= DISPATCH_LEVEL.
        unsafe { wdk_sys::ntddk::KeClearEvent(self.idle.as_ptr()) };
        // SAFETY: 1. an allocated work item, not queued (the flag above); 2. the routine is
        // in this image, which the work item's device reference keeps loaded until it
        // returns; 3. IRQL <= DISPATCH_LEVEL.
        unsafe {
            wdk_sys::ntddk::IoQueueWorkItem(
                item.cast(),
                Some(health_work),
                wdk_sys::_WORK_QUEUE_TYPE::DelayedWorkQueue,
                (self as *const WorkItem).cast_mut().cast(),
            )
        };
    }

    /// Waits until the item is not queued, then frees it. PASSIVE_LEVEL (unload).
    pub(crate) fn free(&self) {
        let item = self.item.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if item.is_null() {
            return;
        }
        if irql::current() == irql::PASSIVE_LEVEL {
            // SAFETY: initialized event; PASSIVE_LEVEL; no timeout (the routine is short).
            let _ = unsafe {
                wdk_sys::ntddk::KeWaitForSingleObject(
                    self.idle.as_ptr().cast(),
                    wdk_sys::_KWAIT_REASON::Executive,
                    wdk_sys::_MODE::KernelMode as i8,
                    0,
                    core::ptr::null_mut(),
                )
            };
        }
        // SAFETY: allocated by IoAllocateWorkItem, no longer queued (idle), freed once.
        unsafe { wdk_sys::ntddk::IoFreeWorkItem(item.cast()) };
    }
}

/// IO_WORKITEM_ROUTINE. PASSIVE_LEVEL, in a system worker thread.
unsafe extern "C" fn health_work(_device: PDEVICE_OBJECT, context: *mut c_void) {
    // SAFETY: `context` is the static WorkItem that queued this item.
    let Some(work) = (unsafe { context.cast::<WorkItem>().as_ref() }) else { return };
    crate::kernel::timers::on_health_work();
    work.queued.store(false, Ordering::Release);
    // SAFETY: initialized event; PASSIVE_LEVEL. The last access to `work`; the I/O
    // manager keeps the image loaded until this routine returns.
    unsafe { wdk_sys::ntddk::KeSetEvent(work.idle.as_ptr(), 0, 0) };
}
