//! Static storage for kernel objects (timers, DPCs, spin locks, events, the cancel-safe
//! queue): memory the kernel reads and writes itself, which Rust only ever addresses
//! through raw pointers.

use core::cell::UnsafeCell;

/// A C structure for which all-zero bytes are a valid (not yet initialized) value.
///
/// # Safety
/// Implementors are plain C structures of integers, pointers and arrays of them, which
/// the kernel initializes in place (Ke*Initialize*) before use.
pub(crate) unsafe trait ZeroInit {}

// SAFETY: a plain C structure from the WDK headers (integers, pointers and nested
// structures of those); KeInitializeTimerEx writes every field before use. The same holds
// for each impl below with its initializer.
unsafe impl ZeroInit for wdk_sys::KTIMER {}
// SAFETY: see above.
unsafe impl ZeroInit for wdk_sys::KDPC {}
// SAFETY: see above.
unsafe impl ZeroInit for wdk_sys::KEVENT {}
// SAFETY: see above.
unsafe impl ZeroInit for wdk_sys::KGUARDED_MUTEX {}
// SAFETY: see above.
unsafe impl ZeroInit for wdk_sys::IO_CSQ {}
// SAFETY: see above.
unsafe impl ZeroInit for wdk_sys::EX_RUNDOWN_REF {}
// SAFETY: a KSPIN_LOCK is a ULONG_PTR; 0 is the released state (KeInitializeSpinLock
// stores 0).
unsafe impl ZeroInit for wdk_sys::KSPIN_LOCK {}

/// A kernel object in static memory. The driver never creates a Rust reference to the
/// inner value: it hands [`KernelCell::as_ptr`] to the kernel, which synchronizes access
/// to its own objects.
#[repr(transparent)]
pub(crate) struct KernelCell<T>(UnsafeCell<T>);

// SAFETY: Rust code only takes raw pointers to the inner value and passes them to kernel
// routines, which are designed to be called concurrently on the same object (that is
// what timers, locks and events are for); no `&T`/`&mut T` is ever formed.
unsafe impl<T> Sync for KernelCell<T> {}

impl<T: ZeroInit> KernelCell<T> {
    /// All-zero storage, initialized later by the kernel's initializer.
    pub(crate) const fn zeroed() -> Self {
        // SAFETY: `T: ZeroInit` promises all-zero bytes are a valid `T`.
        Self(UnsafeCell::new(unsafe { core::mem::zeroed() }))
    }
}

impl<T> KernelCell<T> {
    /// The object's address, for kernel routines.
    pub(crate) const fn as_ptr(&self) -> *mut T {
        self.0.get()
    }
}
