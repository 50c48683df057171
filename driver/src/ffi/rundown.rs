//! A value published to many readers and retracted only when none is using it.
//!
//! The attached ring lives in one of these: every push reads it ([`RundownCell::with`])
//! and detach takes it out ([`RundownCell::retract`]) only after the last push that saw it
//! has finished, so nothing writes into the client's buffer after its IRP completes.
//!
//! It is the rundown-protection pattern (`EX_RUNDOWN_REF`) with the wait done by spinning
//! instead of sleeping: readers are pushes at DISPATCH_LEVEL, a few hundred instructions
//! long, and detach must also run from the IRP cancel path at DISPATCH_LEVEL, where
//! `ExWaitForRundownProtectionRelease` cannot be called. Kernel callers hold IRQL >=
//! DISPATCH_LEVEL around every method (the driver's `ring` module does), so a reader can
//! never be preempted by a writer spinning on the same CPU.
//!
//! Pure Rust, so it is compiled and tested on the host as well.

#![cfg_attr(
    not(feature = "kernel"),
    allow(dead_code, reason = "used by the kernel build; the host build compiles it for its tests")
)]

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// `state` bit: a value is published and new readers are admitted.
const OPEN: u32 = 1 << 31;

/// See the module docs.
#[derive(Debug)]
pub struct RundownCell<T> {
    /// `OPEN` plus the number of readers inside [`RundownCell::with`].
    /// Invariant: while the count is non-zero, `value` is not written.
    state: AtomicU32,
    /// Serializes writers (`publish`, `retract`).
    writer: AtomicBool,
    /// Written only by a writer holding `writer`, and only while `state` is 0 (closed and
    /// no readers); read only by readers that hold a count taken while `OPEN` was set.
    value: UnsafeCell<Option<T>>,
}

// SAFETY: readers get `&T` from several threads at once (needs `T: Sync`); `retract`
// moves the `T` to the retracting thread (needs `T: Send`). `value` is only written while
// no reader holds a count (see the field invariants), so there is no data race.
unsafe impl<T: Send + Sync> Sync for RundownCell<T> {}

impl<T> Default for RundownCell<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> RundownCell<T> {
    /// An empty, closed cell.
    pub const fn new() -> Self {
        Self { state: AtomicU32::new(0), writer: AtomicBool::new(false), value: UnsafeCell::new(None) }
    }

    /// Runs `f` with the published value, or returns `None` if there is none (or it is
    /// being retracted). Never waits.
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & OPEN == 0 {
                return None;
            }
            // Acquire pairs with the Release store of OPEN in `publish`: the value written
            // before it is visible to us. The count cannot overflow: one reader per CPU at
            // DISPATCH_LEVEL, far below 2^31.
            match self.state.compare_exchange_weak(s, s + 1, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        // SAFETY: we hold a reader count taken while OPEN was set, so `retract` is spinning
        // (or will spin) until we release it and `publish` cannot run (it requires state 0);
        // hence `value` is not written while this shared reference lives.
        let value = unsafe { &*self.value.get() };
        let result = value.as_ref().map(f);
        // Release pairs with the Acquire load in `retract`'s wait: our reads of the value
        // happen before the writer drops it.
        self.state.fetch_sub(1, Ordering::Release);
        result
    }

    /// Whether a value is published.
    pub fn is_open(&self) -> bool {
        self.state.load(Ordering::Relaxed) & OPEN != 0
    }

    fn lock_writer(&self) {
        while self.writer.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            core::hint::spin_loop();
        }
    }

    fn unlock_writer(&self) {
        self.writer.store(false, Ordering::Release);
    }

    /// Publishes `value`; gives it back if a value is already published.
    pub fn publish(&self, value: T) -> Result<(), T> {
        self.lock_writer();
        if self.state.load(Ordering::Acquire) != 0 {
            self.unlock_writer();
            return Err(value);
        }
        // SAFETY: we hold the writer lock and state is 0: closed, so no reader can take a
        // count (they need OPEN) and none holds one; nobody else accesses `value`.
        unsafe { *self.value.get() = Some(value) };
        // Release pairs with the Acquire in `with`.
        self.state.store(OPEN, Ordering::Release);
        self.unlock_writer();
        Ok(())
    }

    /// Closes the cell to new readers, waits until the current ones have left, and takes
    /// the value out. `None` if nothing was published.
    pub fn retract(&self) -> Option<T> {
        self.lock_writer();
        let value = self.retract_locked();
        self.unlock_writer();
        value
    }

    /// As [`Self::retract`], but only if the published value satisfies `pred`.
    pub fn retract_if(&self, pred: impl FnOnce(&T) -> bool) -> Option<T> {
        self.lock_writer();
        // SAFETY: we hold the writer lock, so no writer changes `value`; readers only hold
        // shared references, so a shared read here does not conflict with them.
        let matches = unsafe { (*self.value.get()).as_ref() }.is_some_and(pred);
        let value = if matches { self.retract_locked() } else { None };
        self.unlock_writer();
        value
    }

    /// The body of `retract`; the caller holds the writer lock.
    fn retract_locked(&self) -> Option<T> {
        self.state.fetch_and(!OPEN, Ordering::Relaxed);
        // Acquire pairs with the readers' Release decrement.
        while self.state.load(Ordering::Acquire) != 0 {
            core::hint::spin_loop();
        }
        // SAFETY: OPEN is clear and the count is 0, so no reader holds or can take a
        // reference; the caller holds the writer lock, so no other writer touches `value`.
        unsafe { (*self.value.get()).take() }
    }
}

#[cfg(test)]
mod tests {
    use super::RundownCell;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    /// A value that records whether it was dropped while a reader used it.
    struct Probe {
        alive: Arc<AtomicBool>,
    }

    impl Drop for Probe {
        fn drop(&mut self) {
            self.alive.store(false, Ordering::SeqCst);
        }
    }

    #[test]
    fn empty_cell_has_no_readers() {
        let c: RundownCell<u32> = RundownCell::new();
        assert_eq!(c.with(|v| *v), None);
        assert_eq!(c.retract(), None);
        assert!(!c.is_open());
    }

    #[test]
    fn publish_read_retract() {
        let c = RundownCell::new();
        assert_eq!(c.publish(7u32), Ok(()));
        assert_eq!(c.publish(8), Err(8), "a second publish is refused");
        assert_eq!(c.with(|v| *v + 1), Some(8));
        assert_eq!(c.retract(), Some(7));
        assert_eq!(c.with(|v| *v), None);
        assert_eq!(c.publish(9), Ok(()), "the cell is reusable after retract");
        assert_eq!(c.with(|v| *v), Some(9));
        assert_eq!(c.retract_if(|v| *v == 8), None, "predicate false: stays published");
        assert_eq!(c.with(|v| *v), Some(9));
        assert_eq!(c.retract_if(|v| *v == 9), Some(9));
        assert!(!c.is_open());
    }

    #[test]
    fn retract_waits_for_readers_and_no_reader_sees_a_dropped_value() {
        let cell = Arc::new(RundownCell::new());
        let stop = Arc::new(AtomicBool::new(false));
        let reads = Arc::new(AtomicU64::new(0));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (cell, stop, reads) = (cell.clone(), stop.clone(), reads.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        cell.with(|p: &Probe| {
                            // Stay inside long enough for retract to overlap.
                            for _ in 0..50 {
                                assert!(p.alive.load(Ordering::SeqCst), "reader saw a dropped value");
                                std::hint::spin_loop();
                            }
                            reads.fetch_add(1, Ordering::Relaxed);
                        });
                    }
                })
            })
            .collect();
        for _ in 0..300 {
            let alive = Arc::new(AtomicBool::new(true));
            assert!(cell.publish(Probe { alive: alive.clone() }).is_ok());
            std::thread::yield_now();
            let probe = cell.retract();
            assert!(probe.is_some(), "the published value comes back");
            drop(probe);
            assert!(!alive.load(Ordering::SeqCst));
        }
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            assert!(r.join().is_ok(), "reader thread");
        }
        assert!(reads.load(Ordering::Relaxed) > 0, "readers overlapped with the publish/retract cycles");
    }
}
