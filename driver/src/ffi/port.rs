//! The FltMgr communication port `\VigilPort`.
//!
//! It admits one client at a time (MaxConnections 1) and only SYSTEM and Administrators
//! (FltBuildDefaultSecurityDescriptor). It carries no requests: a port's message callback
//! receives raw user buffers, which Rust cannot touch without SEH, so no message
//! callback is registered. It ties the session to the client's lifetime (connect and
//! disconnect) and carries kernel-to-user notifications, which FltSendMessage copies into
//! the client's buffer itself.

use super::flt::FilterSlot;
use super::strings::static_name;
use core::ffi::c_void;
use core::sync::atomic::{AtomicIsize, Ordering};
use vigil_protocol::bytes_of;
use vigil_protocol::control::{Notification, PORT_NAME};
use windows_sys::Wdk::Storage::FileSystem::Minifilters as flt;
use windows_sys::Win32::Foundation::NTSTATUS;

/// FLT_PORT_ALL_ACCESS (fltKernel.h).
const FLT_PORT_ALL_ACCESS: u32 = 0x001F_0001;

/// The server port.
pub(crate) struct ServerPort {
    port: AtomicIsize,
}

/// A connected client's port. Closed with [`ClientPort::close`].
pub(crate) struct ClientPort {
    port: flt::PFLT_PORT,
}

impl ServerPort {
    /// No port.
    pub(crate) const fn new() -> Self {
        Self { port: AtomicIsize::new(0) }
    }

    /// Creates `\VigilPort` for `filter`. PASSIVE_LEVEL.
    pub(crate) fn create(&self, filter: &FilterSlot) -> Result<(), i32> {
        let filter = filter.get().ok_or(crate::logic::status::INVALID_DEVICE_STATE)?;
        let mut sd: windows_sys::Win32::Security::PSECURITY_DESCRIPTOR = core::ptr::null_mut();
        // SAFETY: valid out pointer; PASSIVE_LEVEL. FltMgr allocates the descriptor.
        let status = unsafe { flt::FltBuildDefaultSecurityDescriptor(&mut sd, FLT_PORT_ALL_ACCESS) };
        if status < 0 {
            return Err(status);
        }
        let mut name = static_name(PORT_NAME);
        let oa = wdk_sys::OBJECT_ATTRIBUTES {
            Length: core::mem::size_of::<wdk_sys::OBJECT_ATTRIBUTES>() as u32,
            RootDirectory: core::ptr::null_mut(),
            ObjectName: &mut name,
            Attributes: wdk_sys::OBJ_KERNEL_HANDLE | wdk_sys::OBJ_CASE_INSENSITIVE,
            SecurityDescriptor: sd,
            SecurityQualityOfService: core::ptr::null_mut(),
        };
        let mut port: flt::PFLT_PORT = 0;
        // SAFETY: 1. a registered filter; 2. `oa`, the name and the descriptor live across
        // the call; OBJECT_ATTRIBUTES is the same C structure in both crates; 3. the
        // callbacks match FltMgr's contracts; no message callback; 4. PASSIVE_LEVEL.
        let status = unsafe {
            flt::FltCreateCommunicationPort(
                filter,
                &mut port,
                (&oa as *const wdk_sys::OBJECT_ATTRIBUTES).cast(),
                core::ptr::null(),
                Some(connect),
                Some(disconnect),
                None,
                1,
            )
        };
        // SAFETY: the descriptor from FltBuildDefaultSecurityDescriptor, freed once (the
        // port keeps its own copy).
        unsafe { flt::FltFreeSecurityDescriptor(sd) };
        if status < 0 {
            return Err(status);
        }
        self.port.store(port, Ordering::Release);
        Ok(())
    }

    /// Closes the server port (no new connections; an existing one stays until its
    /// client port is closed). PASSIVE_LEVEL.
    pub(crate) fn close(&self) {
        let port = self.port.swap(0, Ordering::AcqRel);
        if port != 0 {
            // SAFETY: the port FltCreateCommunicationPort returned, closed once (swap).
            unsafe { flt::FltCloseCommunicationPort(port) };
        }
    }
}

// SAFETY: a client port handle may be used and closed from any thread; ownership moves
// with the value.
unsafe impl Send for ClientPort {}

impl ClientPort {
    /// Sends `n` without waiting: if the client has no FilterGetMessage pending, the
    /// notification is dropped (STATUS_TIMEOUT). IRQL <= APC_LEVEL.
    pub(crate) fn send(&self, filter: &FilterSlot, n: &Notification) -> i32 {
        let Some(filter) = filter.get() else { return crate::logic::status::INVALID_DEVICE_STATE };
        let zero: i64 = 0;
        let bytes = bytes_of(n);
        // SAFETY: 1. registered filter and a connected client port; 2. `bytes` lives across
        // the call (FltMgr copies it); no reply buffer; 3. a zero timeout: never waits.
        unsafe {
            flt::FltSendMessage(
                filter,
                &self.port,
                bytes.as_ptr().cast::<c_void>(),
                bytes.len() as u32,
                core::ptr::null_mut(),
                core::ptr::null_mut(),
                &zero,
            )
        }
    }

    /// FltCloseClientPort. PASSIVE_LEVEL.
    pub(crate) fn close(mut self, filter: &FilterSlot) {
        if let Some(filter) = filter.get() {
            // SAFETY: the client port from the connect callback, closed once (self by value).
            unsafe { flt::FltCloseClientPort(filter, &mut self.port) };
        }
    }
}

/// ConnectNotifyCallback. PASSIVE_LEVEL, in the connecting process's context. The
/// connection context (the client's lpContext) is not read.
unsafe extern "system" fn connect(
    client_port: flt::PFLT_PORT,
    _server_cookie: *const c_void,
    _context: *const c_void,
    _context_size: u32,
    _connection_cookie: *mut *mut c_void,
) -> NTSTATUS {
    if client_port == 0 {
        return crate::logic::status::INVALID_PARAMETER;
    }
    match crate::kernel::port::on_connect(ClientPort { port: client_port }) {
        Ok(()) => crate::logic::status::SUCCESS,
        Err(status) => status,
    }
}

/// DisconnectNotifyCallback. PASSIVE_LEVEL.
unsafe extern "system" fn disconnect(_connection_cookie: *const c_void) {
    crate::kernel::port::on_disconnect();
}
