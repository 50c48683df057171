//! `DriverEntry`, the image's entry point (/ENTRY:DriverEntry, set by wdk-build).

use super::registry::RegistryPath;
use core::ptr::NonNull;
use wdk_sys::{DRIVER_OBJECT, NTSTATUS, PCUNICODE_STRING, PDRIVER_OBJECT};

/// The driver object the I/O manager created for this image. Valid for as long as the
/// image is loaded.
#[derive(Clone, Copy)]
pub(crate) struct DriverObject {
    raw: NonNull<DRIVER_OBJECT>,
}

// SAFETY: the driver object is a kernel object alive for the image's lifetime; Rust only
// passes its address to kernel routines and, during DriverEntry, fills its dispatch table.
unsafe impl Send for DriverObject {}
// SAFETY: see Send.
unsafe impl Sync for DriverObject {}

impl DriverObject {
    pub(crate) fn as_ptr(&self) -> *mut DRIVER_OBJECT {
        self.raw.as_ptr()
    }
}

/// Called by the I/O manager at PASSIVE_LEVEL, once, when the image is loaded.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DriverEntry(driver: PDRIVER_OBJECT, registry_path: PCUNICODE_STRING) -> NTSTATUS {
    let Some(raw) = NonNull::new(driver) else {
        return crate::logic::status::INVALID_PARAMETER;
    };
    // SAFETY: the I/O manager passes the service key's path, a kernel UNICODE_STRING valid
    // for the duration of DriverEntry (or null, handled).
    let Some(path) = (unsafe { registry_path.as_ref() }) else {
        return crate::logic::status::INVALID_PARAMETER;
    };
    crate::kernel::entry::driver_entry(DriverObject { raw }, &RegistryPath { path })
}
