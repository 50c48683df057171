//! The shard lock: a test-and-test-and-set spin lock.
//!
//! Producers pick the shard of the CPU they run on, so the lock is almost
//! never contended; it exists for machines with more CPUs than shards and
//! for preemption. **Kernel callers must hold IRQL >= DISPATCH_LEVEL while
//! they hold it** (the driver raises IRQL before calling
//! [`super::Producer::push`]), so a holder can never be preempted by a thread
//! that then spins on the same CPU.

use crate::sync::{AtomicBool, Ordering, UnsafeCell, spin_hint};

/// A spin lock guarding a `T`; the critical section is a closure, so the
/// lock cannot be left held by a forgotten guard.
#[derive(Debug)]
pub struct SpinLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out `&mut T` to one thread at a time (the
// `compare_exchange` in `with` succeeds for one caller until the Release store
// that ends the critical section), so sharing the lock only moves `T` between
// threads, which `T: Send` allows.
unsafe impl<T: Send> Sync for SpinLock<T> {}

impl<T> SpinLock<T> {
    /// A new, unlocked lock.
    #[cfg(not(loom))]
    pub const fn new(value: T) -> Self {
        Self { locked: AtomicBool::new(false), value: UnsafeCell::new(value) }
    }

    /// A new, unlocked lock.
    #[cfg(loom)]
    pub fn new(value: T) -> Self {
        Self { locked: AtomicBool::new(false), value: UnsafeCell::new(value) }
    }

    /// Runs `f` with exclusive access to the value.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // Acquire pairs with the Release store below in the previous holder:
        // everything it wrote to the value is visible to us.
        while self.locked.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            while self.locked.load(Ordering::Relaxed) {
                spin_hint();
            }
        }
        let result = self.value.with_mut(|ptr| {
            // SAFETY: 1. `ptr` comes from the lock's own cell, so it is
            // non-null, aligned and points to an initialized `T`; 2. we hold
            // the lock (the loop above), so no other `&mut T` exists until we
            // release it below, after `f` has returned.
            f(unsafe { &mut *ptr })
        });
        // Release pairs with the Acquire above in the next holder.
        self.locked.store(false, Ordering::Release);
        result
    }
}
