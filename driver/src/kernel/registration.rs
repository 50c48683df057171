//! What the driver registers with FltMgr, as data (the minispy RegistrationData.c idea):
//! the operations it watches, the stream-handle context it keeps, and a registration
//! with no operations for passive mode.

use crate::ffi::flt::{self, CONTEXTS, Operations, Post, Pre, Registration};
use vigil_protocol::control::DriverMode;
use wdk_sys::{IRP_MJ_CLEANUP, IRP_MJ_CREATE, IRP_MJ_SET_INFORMATION, IRP_MJ_WRITE};

/// The operations Vigil watches. Paging I/O is skipped by FltMgr for write and set-info
/// (and checked again in the callbacks).
static OPERATIONS: Operations<5> = Operations([
    // Post: the final status, information and directory flag are known.
    flt::operation(IRP_MJ_CREATE, false, None, Some(Post::Create)),
    // Pre: the first write per stream handle; no post-operation needed.
    flt::operation(IRP_MJ_WRITE, true, Some(Pre::Write), None),
    // Pre resolves the names, a synchronized post records the outcome.
    flt::operation(IRP_MJ_SET_INFORMATION, true, Some(Pre::SetInformation), Some(Post::SetInformation)),
    // Pre: the handle's state (written, delete-on-close) before it goes away.
    flt::operation(IRP_MJ_CLEANUP, false, Some(Pre::Cleanup), None),
    flt::OPERATION_END,
]);

/// Passive mode: registered (for the port and statistics) but watching nothing.
static NO_OPERATIONS: Operations<1> = Operations([flt::OPERATION_END]);

static ACTIVE: Registration = Registration::new(&OPERATIONS, &CONTEXTS);
static PASSIVE: Registration = Registration::new(&NO_OPERATIONS, &CONTEXTS);

/// The registration for `mode`.
pub(crate) fn for_mode(mode: DriverMode) -> &'static Registration {
    match mode {
        DriverMode::Active => &ACTIVE,
        DriverMode::Passive => &PASSIVE,
    }
}
