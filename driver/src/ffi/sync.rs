//! Kernel synchronization for state used below DISPATCH_LEVEL.
//!
//! - [`PassiveMutex`]: a guarded mutex around a value, for the control state (session,
//!   client port, registry key) that IOCTLs, port callbacks and unload change at
//!   PASSIVE_LEVEL.
//! - [`Rundown`]: `EX_RUNDOWN_REF`, counting callbacks in flight so unload can wait for
//!   the last one to return.
//!
//! State touched at DISPATCH_LEVEL uses the protocol's spin lock instead
//! (`kernel::sync::DispatchLock`).

use super::cell::KernelCell;
use super::irql;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU8, Ordering};
use wdk_sys::{EX_RUNDOWN_REF, KGUARDED_MUTEX};

const UNINIT: u8 = 0;
const INITIALIZING: u8 = 1;
const READY: u8 = 2;

/// A value behind a KGUARDED_MUTEX. Usable at IRQL <= APC_LEVEL, after [`Self::init`].
pub(crate) struct PassiveMutex<T> {
    mutex: KernelCell<KGUARDED_MUTEX>,
    state: AtomicU8,
    /// Only accessed by the holder of `mutex`.
    value: UnsafeCell<T>,
}

// SAFETY: `value` is only accessed inside `lock`, while the guarded mutex is held, so at
// most one thread has the `&mut T` at a time; moving that access between threads needs
// `T: Send`.
unsafe impl<T: Send> Sync for PassiveMutex<T> {}

impl<T> PassiveMutex<T> {
    /// A mutex that must be [`init`](Self::init)ialized before use.
    pub(crate) const fn new(value: T) -> Self {
        Self { mutex: KernelCell::zeroed(), state: AtomicU8::new(UNINIT), value: UnsafeCell::new(value) }
    }

    /// Initializes the kernel mutex (once; later calls do nothing).
    pub(crate) fn init(&self) {
        if self.state.compare_exchange(UNINIT, INITIALIZING, Ordering::Acquire, Ordering::Relaxed).is_ok() {
            // SAFETY: 1. the pointer is to static storage for a KGUARDED_MUTEX; 2. the state
            // machine above admits one initializer, and no `lock` uses the mutex before
            // READY is published below.
            unsafe { wdk_sys::ntddk::KeInitializeGuardedMutex(self.mutex.as_ptr()) };
            // Release pairs with the Acquire load in `lock`.
            self.state.store(READY, Ordering::Release);
        }
    }

    /// Runs `f` with the value, holding the mutex. `None` (and `f` is not run) if the
    /// mutex is not initialized or IRQL is above APC_LEVEL. Not reentrant: `f` must not
    /// lock the same mutex.
    pub(crate) fn lock<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        if self.state.load(Ordering::Acquire) != READY || irql::current() > irql::APC_LEVEL {
            return None;
        }
        // SAFETY: 1. the mutex was initialized (READY); 2. IRQL <= APC_LEVEL (checked).
        unsafe { wdk_sys::ntddk::KeAcquireGuardedMutex(self.mutex.as_ptr()) };
        // SAFETY: we hold the mutex, so no other `&mut T` exists until we release it
        // after `f` returns.
        let r = f(unsafe { &mut *self.value.get() });
        // SAFETY: we acquired the mutex above on this thread.
        unsafe { wdk_sys::ntddk::KeReleaseGuardedMutex(self.mutex.as_ptr()) };
        Some(r)
    }
}

/// `EX_RUNDOWN_REF`: protection against a resource going away while in use.
pub(crate) struct Rundown {
    r: KernelCell<EX_RUNDOWN_REF>,
}

/// Held while inside the protected region.
pub(crate) struct RundownGuard<'a> {
    r: &'a Rundown,
}

impl Rundown {
    /// Active: an all-zero EX_RUNDOWN_REF is what ExInitializeRundownProtection makes.
    pub(crate) const fn new() -> Self {
        Self { r: KernelCell::zeroed() }
    }

    /// Enters the region; `None` once [`Self::wait`] has begun. IRQL <= DISPATCH_LEVEL.
    pub(crate) fn enter(&self) -> Option<RundownGuard<'_>> {
        // SAFETY: 1. the EX_RUNDOWN_REF is static and initialized (zero); 2. callable at
        // IRQL <= DISPATCH_LEVEL.
        let ok = unsafe { wdk_sys::ntddk::ExAcquireRundownProtection(self.r.as_ptr()) };
        (ok != 0).then_some(RundownGuard { r: self })
    }

    /// Refuses new entries and waits until every guard is dropped. IRQL < DISPATCH_LEVEL.
    /// Returns false (without waiting) if called at DISPATCH_LEVEL or above.
    pub(crate) fn wait(&self) -> bool {
        if irql::current() >= irql::DISPATCH_LEVEL {
            return false;
        }
        // SAFETY: 1. static, initialized EX_RUNDOWN_REF; 2. IRQL < DISPATCH_LEVEL (checked).
        unsafe { wdk_sys::ntddk::ExWaitForRundownProtectionRelease(self.r.as_ptr()) };
        true
    }
}

impl Drop for RundownGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: this guard was made by a successful ExAcquireRundownProtection on the
        // same EX_RUNDOWN_REF, and is dropped once.
        unsafe { wdk_sys::ntddk::ExReleaseRundownProtection(self.r.r.as_ptr()) };
    }
}
