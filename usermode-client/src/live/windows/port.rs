//! The FltMgr communication port `\VigilPort`: the session, and the driver's
//! notifications.
//!
//! Connecting makes this process the driver's one client (the port admits a
//! single administrator); every IOCTL is accepted only from it. The driver
//! sends a `Notification` with a zero timeout, so one is delivered only if a
//! `FilterGetMessage` is pending: one is kept pending (overlapped) at all
//! times, and its event joins the link's wait.

use super::handle::{Event, owned, raw};
use crate::live::SourceError;
use std::io;
use std::os::windows::io::OwnedHandle;
use vigil_protocol::control::{NOTIFY_MAGIC, Notification, USER_PORT_NAME};
use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::Win32::Storage::InstallableFileSystems::{
    FILTER_MESSAGE_HEADER, FilterConnectCommunicationPort, FilterGetMessage,
};
use windows_sys::Win32::System::IO::{CancelIoEx, GetOverlappedResult, OVERLAPPED};

/// `HRESULT_FROM_WIN32(ERROR_IO_PENDING)`.
const HR_IO_PENDING: i32 = 0x8007_03E5_u32 as i32;
/// `HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)`: no such port (driver not loaded).
const HR_NOT_FOUND: i32 = 0x8007_0002_u32 as i32;
/// `E_ACCESSDENIED`.
const HR_ACCESS_DENIED: i32 = 0x8007_0005_u32 as i32;
/// `HRESULT_FROM_WIN32(ERROR_CONNECTION_COUNT_LIMIT)`: another client is connected.
const HR_COUNT_LIMIT: i32 = 0x8007_04D6_u32 as i32;

/// What `FilterGetMessage` fills: FltMgr's header, then the driver's message.
#[repr(C)]
struct MessageBuffer {
    header: FILTER_MESSAGE_HEADER,
    body: Notification,
}

/// A pending `FilterGetMessage`: buffer and OVERLAPPED at a stable address.
struct Pending {
    ov: OVERLAPPED,
    buf: MessageBuffer,
}

/// A connected port.
pub(super) struct DriverPort {
    /// Declared first: closing the port after the pending request was
    /// cancelled and waited for (see `Drop`).
    handle: OwnedHandle,
    pending: Box<Pending>,
    armed: bool,
    event: Event,
}

impl std::fmt::Debug for DriverPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriverPort").field("armed", &self.armed).finish_non_exhaustive()
    }
}

/// The error for a failed connect, in words a tester can act on.
fn connect_error(hr: i32) -> SourceError {
    match hr {
        HR_NOT_FOUND => SourceError::Unavailable(format!("{USER_PORT_NAME} not found: vigil.sys is not loaded")),
        HR_ACCESS_DENIED => SourceError::Refused(format!("{USER_PORT_NAME}: access denied (run as Administrator)")),
        HR_COUNT_LIMIT => SourceError::Refused(format!(
            "{USER_PORT_NAME}: another client holds the driver's only connection (is `vigil run` or the service running?)"
        )),
        _ => SourceError::os(format!("FilterConnectCommunicationPort({USER_PORT_NAME})"), hresult_error(hr)),
    }
}

/// An HRESULT as an `io::Error` (its Win32 code when it carries one).
fn hresult_error(hr: i32) -> io::Error {
    let u = hr as u32;
    if u >> 16 == 0x8007 {
        io::Error::from_raw_os_error((u & 0xFFFF) as i32)
    } else {
        io::Error::other(format!("HRESULT {u:#010x}"))
    }
}

impl DriverPort {
    /// Connects to `\VigilPort`.
    pub(super) fn connect() -> Result<Self, SourceError> {
        let name: Vec<u16> = USER_PORT_NAME.encode_utf16().chain([0]).collect();
        let mut h: HANDLE = std::ptr::null_mut();
        // SAFETY: 1. `name` is a NUL-terminated UTF-16 string that lives across
        // the call; 2. no connection context (null, size 0) and default
        // security (null); 3. `h` is a valid place for the returned handle.
        let hr =
            unsafe { FilterConnectCommunicationPort(name.as_ptr(), 0, std::ptr::null(), 0, std::ptr::null(), &mut h) };
        if hr < 0 {
            return Err(connect_error(hr));
        }
        let handle = owned(h).map_err(|e| SourceError::os("FilterConnectCommunicationPort", e))?;
        let event = Event::new(true).map_err(|e| SourceError::os("CreateEvent", e))?;
        // SAFETY: both are plain C structs for which all-zero is a valid value.
        let pending: Box<Pending> = Box::new(unsafe { std::mem::zeroed() });
        let mut port = Self { handle, pending, armed: false, event };
        port.arm().map_err(|e| SourceError::os("FilterGetMessage", e))?;
        Ok(port)
    }

    /// The event set when a notification has arrived.
    pub(super) fn event(&self) -> &Event {
        &self.event
    }

    /// Keeps one `FilterGetMessage` pending.
    fn arm(&mut self) -> io::Result<()> {
        if self.armed {
            return Ok(());
        }
        self.event.reset();
        let p = &mut *self.pending;
        // A stale body must not pass for a new notification.
        p.buf.body = Notification::ZERO;
        p.ov = OVERLAPPED { hEvent: self.event.handle(), ..p.ov };
        p.ov.Internal = 0;
        p.ov.InternalHigh = 0;
        // SAFETY: 1. the port handle is open; 2. `p.buf` is valid for writes of
        // its size and `p.ov` is initialized with our event; both are boxed
        // (stable address) and stay alive until the request completes:
        // `take` waits for completion before re-arming, and `Drop` cancels
        // and waits before freeing them.
        let hr = unsafe {
            FilterGetMessage(raw(&self.handle), &raw mut p.buf.header, size_of::<MessageBuffer>() as u32, &raw mut p.ov)
        };
        if hr != HR_IO_PENDING && hr < 0 {
            return Err(hresult_error(hr));
        }
        self.armed = true;
        Ok(())
    }

    /// A notification that has arrived, if any; `Err` when the port broke
    /// (the driver closed it: unloaded or ended the session). Re-arms.
    pub(super) fn take(&mut self) -> io::Result<Option<Notification>> {
        if !self.armed || !self.event.is_set() {
            return Ok(None);
        }
        let mut n = 0u32;
        // SAFETY: the request on `pending.ov` has completed (its event is
        // set); not waiting (FALSE) just reads its outcome.
        let ok = unsafe { GetOverlappedResult(raw(&self.handle), &self.pending.ov, &mut n, 0) };
        self.armed = false;
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        let body = self.pending.buf.body;
        self.arm()?;
        // `n` counts the message (with or without FltMgr's header, depending
        // on how one reads the documentation): require at least the body.
        let complete = n as usize >= size_of::<Notification>();
        Ok((complete && body.magic == NOTIFY_MAGIC).then_some(body))
    }
}

impl Drop for DriverPort {
    fn drop(&mut self) {
        if self.armed {
            let mut n = 0u32;
            // SAFETY: `pending.ov` belongs to a request issued on this handle;
            // cancel it, then wait (TRUE) until it has completed, so the
            // buffer is not freed while FltMgr could still write it.
            unsafe { CancelIoEx(raw(&self.handle), &self.pending.ov) };
            // SAFETY: as above.
            unsafe { GetOverlappedResult(raw(&self.handle), &self.pending.ov, &mut n, 1) };
        }
    }
}
