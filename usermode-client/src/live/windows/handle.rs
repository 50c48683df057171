//! Owned kernel handles and events.

use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use windows_sys::Win32::Foundation::{HANDLE, INVALID_HANDLE_VALUE, WAIT_OBJECT_0};
use windows_sys::Win32::System::Threading::{CreateEventW, ResetEvent, WaitForSingleObject};

/// Takes ownership of `h` as returned by a creating call: null and
/// `INVALID_HANDLE_VALUE` are the call's failure, reported from the last
/// error.
pub(super) fn owned(h: HANDLE) -> io::Result<OwnedHandle> {
    if h.is_null() || h == INVALID_HANDLE_VALUE {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: 1. `h` is a valid handle just returned by a creating call (not
    // null, not INVALID_HANDLE_VALUE); 2. nothing else owns or closes it.
    Ok(unsafe { OwnedHandle::from_raw_handle(h) })
}

/// The raw value of an owned handle (borrowed: valid while `h` lives).
pub(super) fn raw(h: &OwnedHandle) -> HANDLE {
    h.as_raw_handle()
}

/// A Win32 event.
#[derive(Debug)]
pub(super) struct Event(OwnedHandle);

impl Event {
    /// A new, non-signalled event; `manual`: stays signalled until reset.
    pub(super) fn new(manual: bool) -> io::Result<Self> {
        // SAFETY: no security attributes and no name (both null are allowed);
        // the returned handle is checked by `owned`.
        let h = unsafe { CreateEventW(std::ptr::null(), i32::from(manual), 0, std::ptr::null()) };
        owned(h).map(Event)
    }

    /// Its handle (valid while `self` lives).
    pub(super) fn handle(&self) -> HANDLE {
        raw(&self.0)
    }

    /// Whether it is signalled now (an auto-reset event is reset by this).
    pub(super) fn is_set(&self) -> bool {
        // SAFETY: `self.0` is an open event handle; a zero timeout never blocks.
        unsafe { WaitForSingleObject(self.handle(), 0) == WAIT_OBJECT_0 }
    }

    /// Resets it.
    pub(super) fn reset(&self) {
        // SAFETY: `self.0` is an open event handle.
        unsafe { ResetEvent(self.handle()) };
    }
}
