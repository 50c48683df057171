//! The shard lock: a test-and-test-and-set spin lock.
//!
//! Producers pick the shard of the CPU they run on, so the lock is almost
//! never contended; it exists for machines with more CPUs than shards and
//! for preemption. **Kernel callers must hold IRQL >= DISPATCH_LEVEL while
//! they hold it** (the driver raises IRQL before calling
//! [`super::Producer::push`]), so a holder can never be preempted by a thread
//! that then spins on the same CPU.
//!
//! Two ways around the per-push lock, both for a shard that one writer owns:
//! [`SpinLock::hold`] takes it once for as long as a guard lives (user-mode
//! [`super::ShardWriter`]s), and [`SpinLock::with_unlocked`] skips it where
//! the platform guarantees exclusion (the driver: one CPU per shard at
//! DISPATCH_LEVEL).

use crate::sync::{AtomicBool, Ordering, UnsafeCell, spin_hint};

/// A spin lock guarding a `T`; the critical section is a closure, so the
/// lock cannot be left held by a forgotten guard.
#[derive(Debug)]
pub struct SpinLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out `&mut T` to one thread at a time (the
// `compare_exchange` in `with` and `hold` succeeds for one caller until the
// Release store that ends the critical section or drops the guard, and
// `with_unlocked`'s callers promise exclusion), so sharing the lock only
// moves `T` between threads, which `T: Send` allows.
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
        // Acquire pairs with the Release store below (or in `Held::drop`) in
        // the previous holder: everything it wrote to the value is visible.
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

    /// Takes the lock if it is free and keeps it until the guard is dropped.
    /// `None` if someone holds it now. While the guard lives, [`Self::with`]
    /// on another thread spins.
    pub fn hold(&self) -> Option<Held<'_, T>> {
        // Acquire: as in `with`.
        self.locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
            .then_some(Held { lock: self })
    }

    /// Runs `f` with the value without touching the lock: no locked
    /// instruction, no wait.
    ///
    /// # Safety
    /// Until `f` returns, no other thread accesses the value (through
    /// [`Self::with`], [`Self::hold`] or this function), and every earlier
    /// access from another thread happens-before this call.
    #[inline]
    pub unsafe fn with_unlocked<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        self.value.with_mut(|ptr| {
            // SAFETY: 1. `ptr` comes from the lock's own cell: non-null,
            // aligned, initialized; 2. the caller guarantees that no other
            // reference to the value exists while `f` runs.
            f(unsafe { &mut *ptr })
        })
    }
}

/// The lock of a [`SpinLock`], held until dropped.
#[derive(Debug)]
pub struct Held<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> Held<'_, T> {
    /// Runs `f` with the value.
    #[inline]
    pub fn with<R>(&mut self, f: impl FnOnce(&mut T) -> R) -> R {
        self.lock.value.with_mut(|ptr| {
            // SAFETY: 1. `ptr` comes from the lock's own cell: non-null,
            // aligned, initialized; 2. this guard holds the lock (`hold`), and
            // `&mut self` makes this the only access through the guard.
            f(unsafe { &mut *ptr })
        })
    }
}

impl<T> Drop for Held<'_, T> {
    fn drop(&mut self) {
        // Release pairs with the Acquire of the next `with` or `hold`.
        self.lock.locked.store(false, Ordering::Release);
    }
}
