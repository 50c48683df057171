//! The lock for state read at DISPATCH_LEVEL (the configuration): the protocol's spin
//! lock, always taken at DISPATCH_LEVEL as its contract requires.

use crate::ffi::irql;
use vigil_protocol::ring::SpinLock;

/// A value behind a spin lock held at DISPATCH_LEVEL.
pub(crate) struct DispatchLock<T>(SpinLock<T>);

impl<T> DispatchLock<T> {
    /// A new, unlocked lock.
    pub(crate) const fn new(value: T) -> Self {
        Self(SpinLock::new(value))
    }

    /// Runs `f` with the value, at DISPATCH_LEVEL. Keep `f` short: it spins other CPUs.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        irql::at_dispatch(|_| self.0.with(f))
    }
}
