//! The control device, `\Device\VigilControl` (`\\.\VigilControl`).
//!
//! Every request from the analyzer arrives here as an IOCTL (see `irp`). The device's
//! DACL admits only SYSTEM and Administrators (the descriptor FltBuildDefaultSecurity
//! Descriptor builds, applied with ZwSetSecurityObject), and FILE_DEVICE_SECURE_OPEN makes
//! it apply to every name under the device.

use super::entry::DriverObject;
use super::strings::static_name;
use core::ffi::c_void;
use core::sync::atomic::{AtomicPtr, Ordering};
use vigil_protocol::control::{DEVICE_NAME, DEVICE_TYPE, DOS_DEVICE_NAME};
use wdk_sys::{DEVICE_OBJECT, HANDLE};

/// Holds the control device object once created.
pub(crate) struct DeviceSlot {
    device: AtomicPtr<DEVICE_OBJECT>,
}

impl DeviceSlot {
    /// Empty.
    pub(crate) const fn new() -> Self {
        Self { device: AtomicPtr::new(core::ptr::null_mut()) }
    }

    /// The device, if created.
    pub(crate) fn raw(&self) -> Option<*mut DEVICE_OBJECT> {
        let d = self.device.load(Ordering::Acquire);
        (!d.is_null()).then_some(d)
    }

    /// Creates the device and its symbolic link, restricts its DACL and routes its IRPs
    /// to [`super::irp::dispatch`]. DriverEntry only (PASSIVE_LEVEL).
    pub(crate) fn create(&self, driver: DriverObject) -> Result<(), i32> {
        let mut name = static_name(DEVICE_NAME);
        let mut device: *mut DEVICE_OBJECT = core::ptr::null_mut();
        // SAFETY: 1. `driver` is this image's driver object; 2. `name` (a static buffer)
        // and `device` live across the call; 3. PASSIVE_LEVEL.
        let status = unsafe {
            wdk_sys::ntddk::IoCreateDevice(
                driver.as_ptr(),
                0,
                &mut name,
                DEVICE_TYPE,
                wdk_sys::FILE_DEVICE_SECURE_OPEN,
                0,
                &mut device,
            )
        };
        if status < 0 || device.is_null() {
            return Err(status.min(crate::logic::status::INSUFFICIENT_RESOURCES));
        }
        if let Err(e) = restrict_dacl(device) {
            // SAFETY: the device was created above and nothing else has seen it.
            unsafe { wdk_sys::ntddk::IoDeleteDevice(device) };
            return Err(e);
        }
        let mut link = static_name(DOS_DEVICE_NAME);
        // SAFETY: both names are static buffers that live across the call; PASSIVE_LEVEL.
        let status = unsafe { wdk_sys::ntddk::IoCreateSymbolicLink(&mut link, &mut name) };
        if status < 0 {
            // SAFETY: as above.
            unsafe { wdk_sys::ntddk::IoDeleteDevice(device) };
            return Err(status);
        }
        let d = driver.as_ptr();
        for major in
            [wdk_sys::IRP_MJ_CREATE, wdk_sys::IRP_MJ_CLOSE, wdk_sys::IRP_MJ_CLEANUP, wdk_sys::IRP_MJ_DEVICE_CONTROL]
        {
            // SAFETY: 1. DriverEntry owns the driver object's dispatch table until it
            // returns (no IRP can arrive before); 2. `major` < IRP_MJ_MAXIMUM_FUNCTION + 1
            // (the array's length), so the index is in bounds.
            unsafe {
                if let Some(slot) = (*d).MajorFunction.get_mut(major as usize) {
                    *slot = Some(super::irp::dispatch);
                }
            }
        }
        // SAFETY: the device is ours; clearing DO_DEVICE_INITIALIZING lets opens through.
        unsafe { (*device).Flags &= !wdk_sys::DO_DEVICE_INITIALIZING };
        self.device.store(device, Ordering::Release);
        Ok(())
    }

    /// Deletes the symbolic link and the device. PASSIVE_LEVEL. Handles still open keep
    /// the device object (and so this image) alive until they close; their requests are
    /// refused by the dispatch routine once the driver is unloading.
    pub(crate) fn delete(&self) {
        let device = self.device.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if device.is_null() {
            return;
        }
        let mut link = static_name(DOS_DEVICE_NAME);
        // SAFETY: static name buffer; PASSIVE_LEVEL. Failure (no link) is harmless.
        let _ = unsafe { wdk_sys::ntddk::IoDeleteSymbolicLink(&mut link) };
        // SAFETY: the device was created by `create` and is deleted once (swap above).
        unsafe { wdk_sys::ntddk::IoDeleteDevice(device) };
    }
}

/// Replaces the device's DACL with SYSTEM and Administrators: FILE_ALL_ACCESS.
fn restrict_dacl(device: *mut DEVICE_OBJECT) -> Result<(), i32> {
    let mut sd: windows_sys::Win32::Security::PSECURITY_DESCRIPTOR = core::ptr::null_mut();
    // SAFETY: `sd` is a valid out pointer; PASSIVE_LEVEL. FltMgr allocates the descriptor.
    let status = unsafe {
        windows_sys::Wdk::Storage::FileSystem::Minifilters::FltBuildDefaultSecurityDescriptor(
            &mut sd,
            wdk_sys::FILE_ALL_ACCESS,
        )
    };
    if status < 0 {
        return Err(status);
    }
    let mut handle: HANDLE = core::ptr::null_mut();
    // SAFETY: 1. `device` is a device object we created; 2. `handle` is a valid out pointer;
    // 3. kernel handle, KernelMode: no user handle table involved; 4. PASSIVE_LEVEL.
    let mut status = unsafe {
        wdk_sys::ntddk::ObOpenObjectByPointer(
            device.cast::<c_void>(),
            wdk_sys::OBJ_KERNEL_HANDLE,
            core::ptr::null_mut(),
            wdk_sys::WRITE_DAC,
            core::ptr::null_mut(),
            wdk_sys::_MODE::KernelMode as i8,
            &mut handle,
        )
    };
    if status >= 0 {
        // SAFETY: open kernel handle with WRITE_DAC; `sd` is a valid self-relative
        // descriptor from FltMgr; PASSIVE_LEVEL.
        status = unsafe { wdk_sys::ntddk::ZwSetSecurityObject(handle, wdk_sys::DACL_SECURITY_INFORMATION, sd) };
        // SAFETY: the handle opened above, closed once.
        let _ = unsafe { wdk_sys::ntddk::ZwClose(handle) };
    }
    // SAFETY: the descriptor FltBuildDefaultSecurityDescriptor returned, freed once.
    unsafe { windows_sys::Wdk::Storage::FileSystem::Minifilters::FltFreeSecurityDescriptor(sd) };
    if status < 0 { Err(status) } else { Ok(()) }
}
