//! The client's wakeup event: referenced from the handle in AttachRequest, signalled by
//! the ring producer (the protocol's [`Notify`]).

use core::ffi::c_void;
use core::ptr::NonNull;
use vigil_protocol::ring::Notify;

#[link(name = "ntoskrnl")]
unsafe extern "C" {
    /// The event object type (wdm.h: `extern POBJECT_TYPE NTSYSAPI *ExEventObjectType`).
    static ExEventObjectType: *mut wdk_sys::POBJECT_TYPE;
}

/// A referenced KEVENT from a user handle. Dereferenced on drop.
pub(crate) struct UserEvent {
    event: NonNull<c_void>,
}

// SAFETY: a referenced kernel event may be signalled from any thread and CPU (KeSetEvent
// synchronizes internally); the reference is only released once, on drop.
unsafe impl Send for UserEvent {}
// SAFETY: see Send; `&UserEvent` only allows KeSetEvent.
unsafe impl Sync for UserEvent {}

impl UserEvent {
    /// References the event behind `handle` in the *current* process's handle table,
    /// checked as a user-mode access for EVENT_MODIFY_STATE. Call it in the requesting
    /// process's context (an IOCTL dispatch routine), at PASSIVE_LEVEL.
    pub(crate) fn from_user_handle(handle: u64) -> Result<Self, i32> {
        let mut object: *mut c_void = core::ptr::null_mut();
        // SAFETY: 1. reading the data export set at boot; 2. aligned pointer-size read.
        let event_type = unsafe { *ExEventObjectType };
        // SAFETY: 1. the handle is only looked up, with UserMode access checks, in the
        // current process's handle table (a bad or foreign handle fails cleanly); 2.
        // `object` is a valid out pointer; 3. PASSIVE_LEVEL (the caller's contract, and
        // the only IRQL IOCTL dispatch runs at).
        let status = unsafe {
            wdk_sys::ntddk::ObReferenceObjectByHandle(
                handle as usize as wdk_sys::HANDLE,
                wdk_sys::EVENT_MODIFY_STATE,
                event_type,
                wdk_sys::_MODE::UserMode as i8,
                &mut object,
                core::ptr::null_mut(),
            )
        };
        if status < 0 {
            return Err(status);
        }
        NonNull::new(object).map(|event| Self { event }).ok_or(crate::logic::status::INVALID_PARAMETER)
    }
}

impl Notify for UserEvent {
    fn notify(&self) {
        // SAFETY: 1. `event` is a referenced KEVENT (type checked by
        // ObReferenceObjectByHandle) alive until drop; 2. Wait = FALSE, so callable at
        // IRQL <= DISPATCH_LEVEL.
        unsafe { wdk_sys::ntddk::KeSetEvent(self.event.as_ptr().cast(), 0, 0) };
    }
}

impl Drop for UserEvent {
    fn drop(&mut self) {
        // SAFETY: 1. releases the one reference taken in `from_user_handle`; 2. callable
        // at IRQL <= DISPATCH_LEVEL (deletion, if any, is deferred by the object manager).
        unsafe { wdk_sys::ntddk::ObfDereferenceObject(self.event.as_ptr()) };
    }
}
