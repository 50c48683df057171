//! IRPs sent to the control device.
//!
//! [`Irp`] owns an IRP from dispatch until it is completed (or queued by `lend`). Its
//! buffer accessors only ever return the I/O manager's *system* buffer: for
//! METHOD_BUFFERED the I/O manager has copied the caller's input into it (and copies the
//! output back at completion); METHOD_OUT_DIRECT's output is an MDL the I/O manager
//! has probed and locked (see `lend`). METHOD_NEITHER, whose buffers are raw user
//! pointers, yields empty slices: the driver defines no such IOCTL and never reads one.

use crate::logic::session::ProcessId;
use core::ptr::NonNull;
use wdk_sys::{IO_STACK_LOCATION, IRP, NTSTATUS, PDEVICE_OBJECT, PIRP};

const METHOD_BUFFERED: u32 = 0;
const METHOD_IN_DIRECT: u32 = 1;
const METHOD_OUT_DIRECT: u32 = 2;

/// An IRP the driver owns and must complete once.
pub(crate) struct Irp {
    irp: NonNull<IRP>,
}

// SAFETY: an IRP may be completed from any thread; ownership (and so the obligation to
// complete it) moves with the value.
unsafe impl Send for Irp {}

impl Irp {
    /// # Safety
    /// `irp` is null or an IRP the caller owns (a dispatch routine's argument, or one
    /// removed from the cancel-safe queue), not completed yet.
    pub(crate) unsafe fn from_raw(irp: PIRP) -> Option<Self> {
        NonNull::new(irp).map(|irp| Self { irp })
    }

    pub(crate) fn as_ptr(&self) -> PIRP {
        self.irp.as_ptr()
    }

    /// `IoGetCurrentIrpStackLocation` (wdm.h: `Irp->Tail.Overlay.CurrentStackLocation`).
    fn stack(&self) -> Option<&IO_STACK_LOCATION> {
        // SAFETY: the IRP is owned and valid until completion (type invariant).
        let irp = unsafe { self.irp.as_ref() };
        // SAFETY: for an IRP in dispatch the Overlay member of Tail is the active one.
        let overlay = unsafe { &irp.Tail.Overlay };
        // SAFETY: and within it, CurrentStackLocation (not PacketType) is.
        let location = unsafe { overlay.__bindgen_anon_2.__bindgen_anon_1.CurrentStackLocation };
        // SAFETY: the I/O manager set the current stack location before calling dispatch;
        // it stays valid until completion.
        unsafe { location.as_ref() }
    }

    /// The major function.
    pub(crate) fn major(&self) -> u32 {
        self.stack().map_or(u32::MAX, |s| u32::from(s.MajorFunction))
    }

    /// The IOCTL code (IRP_MJ_DEVICE_CONTROL only; 0 otherwise).
    pub(crate) fn ioctl_code(&self) -> u32 {
        if self.major() != wdk_sys::IRP_MJ_DEVICE_CONTROL {
            return 0;
        }
        // SAFETY: for IRP_MJ_DEVICE_CONTROL the DeviceIoControl member of the parameters
        // union is the active one (plain integers).
        self.stack().map_or(0, |s| unsafe { s.Parameters.DeviceIoControl.IoControlCode })
    }

    fn lengths(&self) -> (usize, usize) {
        if self.major() != wdk_sys::IRP_MJ_DEVICE_CONTROL {
            return (0, 0);
        }
        let Some(s) = self.stack() else { return (0, 0) };
        // SAFETY: as in `ioctl_code`: the DeviceIoControl member is active.
        let p = unsafe { s.Parameters.DeviceIoControl };
        (p.InputBufferLength as usize, p.OutputBufferLength as usize)
    }

    fn system_buffer(&self) -> *mut u8 {
        // SAFETY: the IRP is owned and valid (type invariant).
        let irp = unsafe { self.irp.as_ref() };
        // SAFETY: SystemBuffer is the active member of AssociatedIrp for a buffered or
        // direct IOCTL sent to a device (this is not an associated IRP).
        unsafe { irp.AssociatedIrp.SystemBuffer.cast() }
    }

    /// The input: the system buffer's first InputBufferLength bytes (METHOD_BUFFERED and
    /// the direct methods); empty for METHOD_NEITHER or no input.
    pub(crate) fn input(&self) -> &[u8] {
        let method = self.ioctl_code() & 3;
        let (len, _) = self.lengths();
        let buf = self.system_buffer();
        if !matches!(method, METHOD_BUFFERED | METHOD_IN_DIRECT | METHOD_OUT_DIRECT) || len == 0 || buf.is_null() {
            return &[];
        }
        // SAFETY: 1. for these methods the I/O manager allocated SystemBuffer in non-paged
        // pool with at least InputBufferLength bytes and copied the input into it; 2. it
        // lives until completion, which needs `self` by value, so not while this borrow is.
        unsafe { core::slice::from_raw_parts(buf, len) }
    }

    /// The output: the system buffer's first OutputBufferLength bytes (METHOD_BUFFERED
    /// only; it is the same buffer as the input, which the borrow rules keep from being
    /// used at the same time). Empty otherwise.
    pub(crate) fn output(&mut self) -> &mut [u8] {
        let method = self.ioctl_code() & 3;
        let (_, len) = self.lengths();
        let buf = self.system_buffer();
        if method != METHOD_BUFFERED || len == 0 || buf.is_null() {
            return &mut [];
        }
        // SAFETY: 1. for METHOD_BUFFERED SystemBuffer holds max(in, out) bytes, so at least
        // OutputBufferLength; 2. `&mut self` makes this the only borrow of it; 3. it lives
        // until completion, which takes `self`.
        unsafe { core::slice::from_raw_parts_mut(buf, len) }
    }

    /// The file object the request came through, as an identity (never dereferenced).
    pub(crate) fn file_object_id(&self) -> usize {
        self.stack().map_or(0, |s| s.FileObject as usize)
    }

    /// The process that sent the request.
    pub(crate) fn requestor(&self) -> ProcessId {
        // SAFETY: valid IRP; any IRQL <= DISPATCH_LEVEL.
        let pid = unsafe { wdk_sys::ntddk::IoGetRequestorProcessId(self.irp.as_ptr()) };
        // SAFETY: valid IRP; any IRQL <= DISPATCH_LEVEL.
        let raw = unsafe { wdk_sys::ntddk::IoGetRequestorProcess(self.irp.as_ptr()) };
        // SAFETY: the requestor process is referenced by the IRP's thread for the IRP's
        // lifetime, and only used for the start key right here.
        let process = unsafe { super::process::ProcessPtr::from_raw(raw) };
        ProcessId { pid, key: process.map_or(0, |p| p.start_key()) }
    }

    /// Whether the request came from user mode.
    pub(crate) fn is_user_mode(&self) -> bool {
        // SAFETY: valid IRP; RequestorMode is a plain field.
        unsafe { self.irp.as_ref().RequestorMode == wdk_sys::_MODE::UserMode as i8 }
    }

    /// `IoCompleteRequest` with `status` and `information` (bytes of output).
    pub(crate) fn complete(self, status: NTSTATUS, information: usize) {
        let irp = self.irp.as_ptr();
        core::mem::forget(self);
        complete_raw(irp, status, information);
    }

    /// Gives up ownership without completing (the IRP is now in the cancel-safe queue).
    pub(crate) fn into_raw(self) -> PIRP {
        let irp = self.irp.as_ptr();
        core::mem::forget(self);
        irp
    }
}

fn complete_raw(irp: PIRP, status: NTSTATUS, information: usize) {
    // SAFETY: `irp` is owned by the caller (an `Irp` given up just before) and valid.
    let iosb = unsafe { &mut (*irp).IoStatus };
    iosb.__bindgen_anon_1.Status = status;
    iosb.Information = information as u64;
    // SAFETY: 1. the IRP is owned and its status set; 2. it is completed exactly once,
    // here; 3. IRQL <= DISPATCH_LEVEL.
    unsafe { wdk_sys::ntddk::IofCompleteRequest(irp, wdk_sys::IO_NO_INCREMENT as i8) };
}

impl Drop for Irp {
    /// An IRP dropped without completion would hang its caller forever; complete it.
    fn drop(&mut self) {
        complete_raw(self.irp.as_ptr(), crate::logic::status::INVALID_DEVICE_STATE, 0);
    }
}

/// The control device's dispatch routine for IRP_MJ_CREATE, CLOSE, CLEANUP and
/// DEVICE_CONTROL. PASSIVE_LEVEL, in the requesting thread's context.
pub(crate) unsafe extern "C" fn dispatch(_device: PDEVICE_OBJECT, irp: PIRP) -> NTSTATUS {
    // SAFETY: the I/O manager hands dispatch an IRP it now owns until completion.
    match unsafe { Irp::from_raw(irp) } {
        Some(irp) => crate::kernel::control::dispatch(irp),
        None => crate::logic::status::INVALID_PARAMETER,
    }
}
