//! Clocks.

/// `KeQuerySystemTimePrecise`: 100 ns ticks since 1601-01-01 UTC (the record timestamp).
pub(crate) fn system_time() -> u64 {
    let mut t = wdk_sys::LARGE_INTEGER { QuadPart: 0 };
    // SAFETY: 1. `t` is a valid, writable LARGE_INTEGER for the duration of the call;
    // 2. callable at any IRQL <= HIGH_LEVEL.
    unsafe { wdk_sys::ntddk::KeQuerySystemTimePrecise(&mut t) };
    // SAFETY: every field of the LARGE_INTEGER union is plain integer data, and the kernel
    // has written the whole 8 bytes.
    let ticks = unsafe { t.QuadPart };
    ticks as u64
}

/// `KeQueryUnbiasedInterruptTime`: 100 ns ticks since boot, excluding sleep; does not
/// jump when the clock is set (uptime).
pub(crate) fn interrupt_time() -> u64 {
    // SAFETY: no arguments; callable at any IRQL.
    unsafe { wdk_sys::ntddk::KeQueryUnbiasedInterruptTime() }
}

/// 100 ns ticks per second.
pub(crate) const TICKS_PER_SEC: u64 = 10_000_000;
