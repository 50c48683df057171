//! UNICODE_STRINGs: reading the kernel's, and making them from the protocol's names.
//!
//! Rust has no SEH, so the driver must never read user-mode memory. Every UNICODE_STRING
//! the kernel hands the driver (image names, command lines, file names, the registry
//! path) goes through [`kernel_utf16`], which refuses a buffer below
//! `MmSystemRangeStart` (a user address) as well as a malformed string.

use core::ffi::c_void;
use wdk_sys::UNICODE_STRING;

#[link(name = "ntoskrnl")]
unsafe extern "C" {
    /// Lowest system-space address (wdm.h: `extern NTKERNELAPI PVOID MmSystemRangeStart`),
    /// a data export of ntoskrnl.exe.
    static MmSystemRangeStart: *mut c_void;
}

/// `MmSystemRangeStart` as an address.
pub(crate) fn system_range_start() -> usize {
    // SAFETY: 1. a data export of ntoskrnl that the kernel sets at boot and never changes;
    // 2. reading a pointer-sized, aligned variable has no side effects.
    let start = unsafe { MmSystemRangeStart };
    start as usize
}

/// Whether `[addr, addr + len)` lies in system space (and does not wrap).
pub(crate) fn is_system_range(addr: usize, len: usize) -> bool {
    addr >= system_range_start() && addr.checked_add(len).is_some()
}

/// The UTF-16 units of a kernel-owned UNICODE_STRING, or `None` if `s` is null, its
/// `Length` is odd or larger than `MaximumLength`, or its buffer is null (with a non-zero
/// length), misaligned or not in system space.
///
/// # Safety
/// 1. `s` is null or points to a UNICODE_STRING that stays valid, with its buffer, for
///    `'a` (the callback or object that provided it);
/// 2. if the buffer is in system space, it is readable for `Length` bytes (what the
///    kernel promises for the strings it passes to callbacks).
pub(crate) unsafe fn kernel_utf16<'a>(s: *const UNICODE_STRING) -> Option<&'a [u16]> {
    // SAFETY: precondition 1: `s` is null (-> None) or valid for reads for 'a.
    let s = unsafe { s.as_ref() }?;
    let len = usize::from(s.Length);
    if len % 2 != 0 || s.Length > s.MaximumLength {
        return None;
    }
    if len == 0 {
        return Some(&[]);
    }
    let buf = s.Buffer as usize;
    if buf == 0 || !buf.is_multiple_of(2) || !is_system_range(buf, len) {
        return None;
    }
    // SAFETY: 1. `Buffer` is non-null, 2-aligned and in system space (checked above);
    // 2. precondition 2: it is readable for `len` bytes for 'a; 3. u16 has no invalid
    // values.
    Some(unsafe { core::slice::from_raw_parts(s.Buffer.cast_const(), len / 2) })
}

/// A UNICODE_STRING over one of the protocol's NUL-terminated names (DEVICE_NAME, ...),
/// for kernel routines that take a name and do not write it.
pub(crate) fn static_name(name: &'static [u16]) -> UNICODE_STRING {
    let units = name.strip_suffix(&[0]).unwrap_or(name);
    let bytes = u16::try_from(units.len() * 2).unwrap_or(0);
    UNICODE_STRING {
        Length: bytes,
        MaximumLength: bytes,
        // The kernel declares the parameter PUNICODE_STRING but does not write names it
        // is given to open or create objects.
        Buffer: units.as_ptr().cast_mut(),
    }
}
