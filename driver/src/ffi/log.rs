//! Panic-free logging to the kernel debugger.
//!
//! `wdk::println!` formats with `core::fmt`, whose code carries panic paths (and so would
//! bring wdk-panic's KeBugCheckEx into the image: the no-panic check would fail). This is
//! `DbgPrintEx` with a static format string instead; [`klog!`] checks at compile time
//! that the format has exactly one integer conversion per argument (and no `%s`, `%p` or
//! `%wZ`: nothing that dereferences an argument).

/// DPFLTR_ERROR_LEVEL: shown by default.
pub(crate) const ERROR: u32 = wdk_sys::DPFLTR_ERROR_LEVEL;
/// DPFLTR_INFO_LEVEL: shown when the IHVDRIVER component's info mask is enabled.
pub(crate) const INFO: u32 = wdk_sys::DPFLTR_INFO_LEVEL;

use crate::logic::log_format::format_ok;

/// `DbgPrintEx(DPFLTR_IHVDRIVER_ID, level, fmt, args...)`. Use [`klog!`], which checks
/// `fmt`.
pub(crate) fn print(level: u32, fmt: &'static [u8], args: [u32; 4]) {
    if !format_ok(fmt, 0) && !format_ok(fmt, 1) && !format_ok(fmt, 2) && !format_ok(fmt, 3) && !format_ok(fmt, 4) {
        return;
    }
    let [a, b, c, d] = args;
    // SAFETY: 1. `fmt` is NUL-terminated (format_ok checked) and 'static; 2. its
    // conversions are integer ones only, at most 4, and 4 u32 arguments are passed
    // (surplus variadic arguments are ignored by C); 3. DbgPrintEx is callable at any IRQL.
    unsafe {
        wdk_sys::ntddk::DbgPrintEx(
            wdk_sys::_DPFLTR_TYPE::DPFLTR_IHVDRIVER_ID as u32,
            level,
            fmt.as_ptr().cast(),
            a,
            b,
            c,
            d,
        )
    };
}

/// `klog!(ERROR, "vigil: x failed %08x\n", status)`: a debugger line, format checked at
/// compile time.
macro_rules! klog {
    ($level:ident, $fmt:literal $(, $arg:expr)* $(,)?) => {{
        const FMT: &[u8] = concat!($fmt, "\0").as_bytes();
        const _: () = assert!(
            $crate::logic::log_format::format_ok(FMT, <[&str]>::len(&[$(stringify!($arg)),*])),
            "klog!: one %d/%u/%x per argument, nothing else"
        );
        $crate::ffi::log::print($crate::ffi::log::$level, FMT, $crate::ffi::log::pack(&[$(($arg) as u32),*]));
    }};
}
pub(crate) use klog;

/// The first four arguments, zero-padded.
pub(crate) fn pack(args: &[u32]) -> [u32; 4] {
    let mut out = [0u32; 4];
    for (o, a) in out.iter_mut().zip(args) {
        *o = *a;
    }
    out
}
