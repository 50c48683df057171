//! IRQL: reading it, and raising it to DISPATCH_LEVEL around code that needs it.
//!
//! On x64 the WDK's KeGetCurrentIrql / KfRaiseIrql / KeLowerIrql are inline functions
//! (wdm.h) that read and write CR8; these do the same. [`AtDispatch`] is the proof,
//! passed by reference, that the holder runs at DISPATCH_LEVEL or above: the ring's
//! shard locks require it.

use core::marker::PhantomData;

/// PASSIVE_LEVEL.
pub(crate) const PASSIVE_LEVEL: u8 = 0;
/// APC_LEVEL.
pub(crate) const APC_LEVEL: u8 = 1;
/// DISPATCH_LEVEL.
pub(crate) const DISPATCH_LEVEL: u8 = 2;

/// Evidence that the current IRQL is at least DISPATCH_LEVEL. Not `Send`: it is only
/// valid on the CPU and in the scope that made it.
pub(crate) struct AtDispatch {
    _not_send: PhantomData<*const ()>,
}

/// `KeGetCurrentIrql` (wdm.h, AMD64: `__readcr8()`).
pub(crate) fn current() -> u8 {
    let cr8: u64;
    // SAFETY: 1. reading CR8 is allowed at CPL 0, where a driver runs; 2. it has no side
    // effects and touches no memory or stack.
    unsafe { core::arch::asm!("mov {}, cr8", out(reg) cr8, options(nomem, nostack, preserves_flags)) };
    (cr8 & 0xf) as u8
}

/// `WriteCR8` as used by KfRaiseIrql / KeLowerIrql in wdm.h. Not `nomem`: it is a
/// compiler barrier, so no memory access moves across an IRQL change.
fn write_cr8(level: u8) {
    // SAFETY: 1. CPL 0; 2. callers only write DISPATCH_LEVEL when the current level is
    // lower, and only write back the level they found, restoring it in LIFO order (the
    // kernel's own raise/lower contract).
    unsafe { core::arch::asm!("mov cr8, {}", in(reg) u64::from(level), options(nostack, preserves_flags)) };
}

/// Runs `f` at DISPATCH_LEVEL: raises if below and restores afterwards. Callable at
/// any IRQL <= DISPATCH_LEVEL (and above, where it changes nothing).
#[inline]
pub(crate) fn at_dispatch<R>(f: impl FnOnce(&AtDispatch) -> R) -> R {
    let old = current();
    if old < DISPATCH_LEVEL {
        write_cr8(DISPATCH_LEVEL);
    }
    let r = f(&AtDispatch { _not_send: PhantomData });
    if old < DISPATCH_LEVEL {
        write_cr8(old);
    }
    r
}

/// For DPC routines, which the kernel calls at DISPATCH_LEVEL.
pub(crate) fn in_dpc<R>(f: impl FnOnce(&AtDispatch) -> R) -> R {
    at_dispatch(f)
}

/// `KeGetCurrentProcessorNumberEx(NULL)`: the system-wide index of this CPU.
pub(crate) fn processor_index(_: &AtDispatch) -> u32 {
    // SAFETY: 1. NULL is allowed for the optional PROCESSOR_NUMBER out-parameter;
    // 2. callable at any IRQL; at DISPATCH_LEVEL (the token) the thread cannot migrate.
    unsafe { wdk_sys::ntddk::KeGetCurrentProcessorNumberEx(core::ptr::null_mut()) }
}

/// `KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS)`.
pub(crate) fn active_processors() -> u32 {
    // SAFETY: no pointer arguments; callable at any IRQL.
    unsafe { wdk_sys::ntddk::KeQueryActiveProcessorCountEx(wdk_sys::ALL_PROCESSOR_GROUPS as u16) }
}
