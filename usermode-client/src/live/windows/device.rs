//! The control device `\\.\VigilControl`: METHOD_BUFFERED requests, and the
//! pending IOCTL_ATTACH_RING that lends the ring.
//!
//! The handle is opened for overlapped I/O, because the attach request must
//! stay pending while other requests (GET_STATS, DETACH_RING) go through.
//! Buffered requests are issued overlapped too and waited for at once.

use super::buffer::RingBuffer;
use super::handle::{Event, owned, raw};
use std::io;
use std::os::windows::io::OwnedHandle;
use vigil_protocol::control::{AttachRequest, IOCTL_ATTACH_RING, IOCTL_DETACH_RING, USER_DEVICE_PATH};
use windows_sys::Win32::Foundation::{ERROR_IO_PENDING, GENERIC_READ, GENERIC_WRITE, GetLastError};
use windows_sys::Win32::Storage::FileSystem::{CreateFileW, FILE_FLAG_OVERLAPPED, OPEN_EXISTING};
use windows_sys::Win32::System::IO::{CancelIoEx, DeviceIoControl, GetOverlappedResult, OVERLAPPED};

/// An open control device.
#[derive(Debug)]
pub(super) struct ControlDevice {
    handle: OwnedHandle,
}

/// Whether a failed overlapped call is merely pending.
fn pending_or_error(ok: i32) -> io::Result<bool> {
    if ok != 0 {
        return Ok(false);
    }
    // SAFETY: reads this thread's last-error value; no preconditions.
    let e = unsafe { GetLastError() };
    if e == ERROR_IO_PENDING { Ok(true) } else { Err(io::Error::from_raw_os_error(e as i32)) }
}

impl ControlDevice {
    /// Opens `\\.\VigilControl` (Administrators and SYSTEM only).
    pub(super) fn open() -> io::Result<Self> {
        let path: Vec<u16> = USER_DEVICE_PATH.encode_utf16().chain([0]).collect();
        // SAFETY: 1. `path` is a NUL-terminated UTF-16 string that lives across
        // the call; 2. no security attributes or template (null); the result
        // is checked by `owned`.
        let h = unsafe {
            CreateFileW(
                path.as_ptr(),
                GENERIC_READ | GENERIC_WRITE,
                0,
                std::ptr::null(),
                OPEN_EXISTING,
                FILE_FLAG_OVERLAPPED,
                std::ptr::null_mut(),
            )
        };
        Ok(Self { handle: owned(h)? })
    }

    /// A METHOD_BUFFERED request; returns the bytes of output.
    pub(super) fn call(&self, code: u32, input: &[u8], output: &mut [u8]) -> io::Result<usize> {
        let event = Event::new(true)?;
        // SAFETY: OVERLAPPED is a plain C struct; all-zero is its documented
        // initial state.
        let mut ov: OVERLAPPED = unsafe { std::mem::zeroed() };
        ov.hEvent = event.handle();
        let mut n = 0u32;
        let in_len = u32::try_from(input.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
        let out_len = u32::try_from(output.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
        // SAFETY: 1. the handle is open; 2. `input` and `output` are valid for
        // their lengths and, like `ov` and `event`, live until the request has
        // completed, which this function waits for below before returning;
        // 3. empty buffers are passed as null with length 0.
        let ok = unsafe {
            DeviceIoControl(
                raw(&self.handle),
                code,
                if input.is_empty() { std::ptr::null() } else { input.as_ptr().cast() },
                in_len,
                if output.is_empty() { std::ptr::null_mut() } else { output.as_mut_ptr().cast() },
                out_len,
                &mut n,
                &mut ov,
            )
        };
        if pending_or_error(ok)? {
            // SAFETY: `ov` is the OVERLAPPED of the request just issued on this
            // handle; waiting (TRUE) returns only once it has completed.
            let ok = unsafe { GetOverlappedResult(raw(&self.handle), &ov, &mut n, 1) };
            if ok == 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(n as usize)
    }

    /// Lends `buffer` to the driver: IOCTL_ATTACH_RING, left pending. The
    /// driver has initialized the ring header by the time this returns.
    pub(super) fn lend(&self, request: &AttachRequest, buffer: &RingBuffer) -> io::Result<PendingAttach> {
        let event = Event::new(true)?;
        // SAFETY: all-zero is OVERLAPPED's initial state.
        let mut ov: Box<OVERLAPPED> = Box::new(unsafe { std::mem::zeroed() });
        ov.hEvent = event.handle();
        let input = vigil_protocol::bytes_of(request);
        let len = u32::try_from(buffer.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
        let mut n = 0u32;
        // SAFETY: 1. the handle is open; 2. `input` is copied by the I/O
        // manager before the call returns (the input of METHOD_OUT_DIRECT is
        // buffered); 3. the output is the ring buffer, probed and locked by the
        // I/O manager, which the caller keeps allocated until this request has
        // completed (`PendingAttach::end`); 4. `ov` is boxed, so its address is
        // stable, and it and `event` live in the returned `PendingAttach`
        // until completion.
        let ok = unsafe {
            DeviceIoControl(
                raw(&self.handle),
                IOCTL_ATTACH_RING,
                input.as_ptr().cast(),
                input.len() as u32,
                buffer.as_mut_ptr().cast(),
                len,
                &mut n,
                &mut *ov,
            )
        };
        if !pending_or_error(ok)? {
            // The driver completes the attach at once only to refuse it.
            return Err(io::Error::other("the driver completed IOCTL_ATTACH_RING at once: the loan was refused"));
        }
        Ok(PendingAttach { ov, event, done: false })
    }

    /// IOCTL_DETACH_RING: the driver retracts its producer and completes the
    /// pending attach.
    pub(super) fn detach(&self) -> io::Result<()> {
        self.call(IOCTL_DETACH_RING, &[], &mut []).map(drop)
    }
}

/// The pending IOCTL_ATTACH_RING: the loan lasts while it does.
pub(super) struct PendingAttach {
    ov: Box<OVERLAPPED>,
    event: Event,
    done: bool,
}

impl std::fmt::Debug for PendingAttach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingAttach").field("done", &self.done).finish_non_exhaustive()
    }
}

impl PendingAttach {
    /// The event set when the request completes (the loan ended).
    pub(super) fn completion_event(&self) -> &Event {
        &self.event
    }

    /// Whether the request has completed.
    pub(super) fn completed(&self) -> bool {
        self.done || self.event.is_set()
    }

    /// Ends the loan and waits until the request has completed, after which
    /// the driver no longer maps the buffer. Asks nicely (DETACH_RING) and
    /// cancels the request if that did not end it.
    pub(super) fn end(&mut self, device: &ControlDevice) {
        if self.done {
            return;
        }
        if !self.completed() && device.detach().is_err() {
            // SAFETY: `ov` identifies a request issued on this handle that has
            // not been waited for; cancelling a completed one is harmless.
            unsafe { CancelIoEx(raw(&device.handle), &*self.ov) };
        }
        if !self.event.is_set() {
            // SAFETY: as above; the driver completes the request after detach
            // or cancellation (it retracts the producer first).
            unsafe { CancelIoEx(raw(&device.handle), &*self.ov) };
        }
        let mut n = 0u32;
        // SAFETY: `ov` is this request's OVERLAPPED, at a stable address;
        // waiting (TRUE) returns once the request has completed, whatever its
        // status (cancelled is fine).
        unsafe { GetOverlappedResult(raw(&device.handle), &*self.ov, &mut n, 1) };
        self.done = true;
    }
}
