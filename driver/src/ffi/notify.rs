//! Process and image-load notifications (PsSetCreateProcessNotifyRoutineEx,
//! PsSetLoadImageNotifyRoutine): registration, and the shims that turn the kernel's
//! arguments into checked views for `kernel::callbacks::{process, image}`.
//!
//! PsSetCreateProcessNotifyRoutineEx refuses images linked without /INTEGRITYCHECK
//! (IMAGE_DLLCHARACTERISTICS_FORCE_INTEGRITY); the PE check in tests/ verifies that flag.

use super::process::{self, ProcessPtr};
use super::strings::kernel_utf16;
use core::marker::PhantomData;
use wdk_sys::{HANDLE, PEPROCESS, PIMAGE_INFO, PPS_CREATE_NOTIFY_INFO, PS_CREATE_NOTIFY_INFO, PUNICODE_STRING};

/// Registers the process notify routine. PASSIVE_LEVEL.
pub(crate) fn register_process() -> Result<(), i32> {
    // SAFETY: the routine is a function of this image; it is removed at unload
    // (`unregister_process`) before the image goes away.
    let status = unsafe { wdk_sys::ntddk::PsSetCreateProcessNotifyRoutineEx(Some(process_notify), 0) };
    if status < 0 { Err(status) } else { Ok(()) }
}

/// Removes it; the kernel waits for calls in progress. PASSIVE_LEVEL.
pub(crate) fn unregister_process() {
    // SAFETY: removes the routine registered above (a no-op failure if it was not).
    let _ = unsafe { wdk_sys::ntddk::PsSetCreateProcessNotifyRoutineEx(Some(process_notify), 1) };
}

/// Registers the image-load notify routine. PASSIVE_LEVEL.
pub(crate) fn register_image() -> Result<(), i32> {
    // SAFETY: as for `register_process`; removed by `unregister_image`.
    let status = unsafe { wdk_sys::ntddk::PsSetLoadImageNotifyRoutine(Some(image_notify)) };
    if status < 0 { Err(status) } else { Ok(()) }
}

/// Removes it. PASSIVE_LEVEL.
pub(crate) fn unregister_image() {
    // SAFETY: removes the routine registered above (fails cleanly if it was not).
    let _ = unsafe { wdk_sys::ntddk::PsRemoveLoadImageNotifyRoutine(Some(image_notify)) };
}

/// A process start, as the kernel describes it (PS_CREATE_NOTIFY_INFO).
pub(crate) struct ProcessStartView<'a> {
    /// The new process.
    pub(crate) process: ProcessPtr<'a>,
    /// Its id.
    pub(crate) pid: u32,
    info: &'a PS_CREATE_NOTIFY_INFO,
}

impl<'a> ProcessStartView<'a> {
    /// ParentProcessId.
    pub(crate) fn parent_pid(&self) -> u32 {
        process::id(self.info.ParentProcessId)
    }

    /// CreatingThreadId: (process, thread).
    pub(crate) fn creator(&self) -> (u32, u32) {
        (process::id(self.info.CreatingThreadId.UniqueProcess), process::id(self.info.CreatingThreadId.UniqueThread))
    }

    /// The flags word (`logic::records::create_info` bits).
    pub(crate) fn flags(&self) -> u32 {
        // SAFETY: the union's Flags member covers the whole word; all bit patterns valid.
        unsafe { self.info.__bindgen_anon_1.Flags }
    }

    /// ImageFileName, if present and a kernel string.
    pub(crate) fn image_name(&self) -> Option<&'a [u16]> {
        // SAFETY: null or the kernel's UNICODE_STRING, valid during the callback ('a).
        unsafe { kernel_utf16(self.info.ImageFileName) }
    }

    /// CommandLine, if present and a kernel string.
    pub(crate) fn command_line(&self) -> Option<&'a [u16]> {
        // SAFETY: as for `image_name`.
        unsafe { kernel_utf16(self.info.CommandLine) }
    }
}

/// A process notification.
pub(crate) enum ProcessEvent<'a> {
    /// Creation.
    Start(ProcessStartView<'a>),
    /// Exit.
    Exit {
        /// The exiting process.
        process: ProcessPtr<'a>,
        /// Its id.
        pid: u32,
    },
}

/// An image mapping (IMAGE_INFO).
pub(crate) struct ImageView<'a> {
    /// FullImageName, if present and a kernel string.
    pub(crate) name: Option<&'a [u16]>,
    /// The process the image is mapped into (0 for a driver).
    pub(crate) pid: u32,
    /// ImageBase.
    pub(crate) base: u64,
    /// ImageSize.
    pub(crate) size: u64,
    /// The Properties bitfield.
    pub(crate) properties: u32,
    _callback: PhantomData<&'a ()>,
}

/// CREATE_PROCESS_NOTIFY_ROUTINE_EX. PASSIVE_LEVEL, in the creating (or exiting) thread.
unsafe extern "C" fn process_notify(process: PEPROCESS, pid: HANDLE, info: PPS_CREATE_NOTIFY_INFO) {
    // SAFETY: the kernel keeps the process referenced for the callback.
    let Some(process) = (unsafe { ProcessPtr::from_raw(process) }) else { return };
    let pid = process::id(pid);
    // SAFETY: `info` is null (exit) or the kernel's PS_CREATE_NOTIFY_INFO for the callback.
    let event = match unsafe { info.as_ref() } {
        Some(info) => ProcessEvent::Start(ProcessStartView { process, pid, info }),
        None => ProcessEvent::Exit { process, pid },
    };
    crate::kernel::callbacks::process::on_process(&event);
}

/// LOAD_IMAGE_NOTIFY_ROUTINE. PASSIVE_LEVEL.
unsafe extern "C" fn image_notify(name: PUNICODE_STRING, pid: HANDLE, info: PIMAGE_INFO) {
    // SAFETY: the kernel passes IMAGE_INFO for the callback (or null, handled).
    let Some(info) = (unsafe { info.as_ref() }) else { return };
    let view = ImageView {
        // SAFETY: null or the kernel's image name, valid during the callback.
        name: unsafe { kernel_utf16(name) },
        pid: process::id(pid),
        base: info.ImageBase as u64,
        size: info.ImageSize,
        // SAFETY: the Properties member covers the whole bitfield word.
        properties: unsafe { info.__bindgen_anon_1.Properties },
        _callback: PhantomData,
    };
    crate::kernel::callbacks::image::on_image(&view);
}
