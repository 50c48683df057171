//! The panic handler of the `panic-link-check` verification build.
//!
//! Release builds use wdk-panic, which turns a panic into KeBugCheckEx (a blue screen).
//! This build instead makes the panic handler call a symbol that does not exist. With fat
//! LTO the handler is only kept if some panic path survives optimization, so the link
//! fails, naming `vigil_panic_path_survived_lto`, exactly when the release image would
//! import KeBugCheckEx.

#[cfg(feature = "panic-link-check")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    unsafe extern "C" {
        /// Deliberately undefined: see the module docs.
        fn vigil_panic_path_survived_lto() -> !;
    }
    // SAFETY: never runs: if it is reachable, the image does not link.
    unsafe { vigil_panic_path_survived_lto() }
}
