//! The FltMgr port's session: connect, disconnect, notifications.

use super::ring;
use super::state::{Control, DRIVER};
use crate::ffi::log::klog;
use crate::ffi::port::ClientPort;
use crate::ffi::process;
use crate::logic::status;
use core::sync::atomic::Ordering;
use vigil_protocol::control::{NOTIFY_MAGIC, Notification};

/// A client connected (PASSIVE_LEVEL, in its context). One at a time: FltMgr enforces
/// MaxConnections 1, and the session refuses a second one as well.
pub(crate) fn on_connect(port: ClientPort) -> Result<(), i32> {
    let me = process::current_identity();
    let result = DRIVER.control.lock(move |c| {
        if c.unloading {
            return Err(status::INVALID_DEVICE_STATE);
        }
        c.session.connect(me).map_err(|r| r.status())?;
        c.client_port = Some(port);
        DRIVER.client_pid.store(me.pid, Ordering::Relaxed);
        Ok(())
    });
    let result = result.unwrap_or(Err(status::INVALID_DEVICE_STATE));
    if result.is_ok() {
        klog!(INFO, "vigil: client %u connected\n", me.pid);
    }
    result
}

/// The client disconnected (closed its port handle or exited). PASSIVE_LEVEL.
pub(crate) fn on_disconnect() {
    end_session();
    klog!(INFO, "vigil: client disconnected\n");
}

/// Ends the session, if any: forgets the client, detaches its ring (nobody reads it any
/// more) and closes its port, outside the control mutex (FltMgr may call the disconnect
/// callback, which takes it). PASSIVE_LEVEL. Disconnect and unload both end here.
pub(crate) fn end_session() {
    let port = DRIVER
        .control
        .lock(|c| {
            c.session.disconnect();
            DRIVER.client_pid.store(0, Ordering::Relaxed);
            ring::detach(status::CANCELLED, None);
            c.client_port.take()
        })
        .flatten();
    if let Some(port) = port {
        port.close(&DRIVER.filter);
    }
}

/// Sends a notification to the connected client, if any, without waiting.
pub(crate) fn notify(c: &Control, kind: u32, arg0: u64, arg1: u64) {
    if let Some(port) = c.client_port.as_ref() {
        let n = Notification { magic: NOTIFY_MAGIC, kind, arg0, arg1 };
        let _ = port.send(&DRIVER.filter, &n);
    }
}
