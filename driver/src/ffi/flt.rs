//! Filter registration with FltMgr, and the `extern "C"` callbacks FltMgr calls.
//!
//! The tables themselves (which operations, which callbacks) are data in
//! `kernel::registration`; this module provides the `Sync` wrappers that let them be
//! statics, and the shims that turn FltMgr's pointers into [`Op`] views and call
//! `kernel::callbacks::file`.

use super::entry::DriverObject;
use super::flt_data::{HandleState, Op, PreOp};
use super::irql;
use super::pool::PoolBox;
use core::ffi::c_void;
use core::sync::atomic::{AtomicIsize, Ordering};
use windows_sys::Wdk::Storage::FileSystem::Minifilters as flt;
use windows_sys::Win32::Foundation::NTSTATUS;

/// The filter handle from FltRegisterFilter.
pub(crate) struct FilterSlot {
    filter: AtomicIsize,
}

impl FilterSlot {
    /// Not registered.
    pub(crate) const fn new() -> Self {
        Self { filter: AtomicIsize::new(0) }
    }

    /// The handle, if registered.
    pub(crate) fn get(&self) -> Option<flt::PFLT_FILTER> {
        let f = self.filter.load(Ordering::Acquire);
        (f != 0).then_some(f)
    }

    /// FltRegisterFilter with `registration`. PASSIVE_LEVEL (DriverEntry).
    pub(crate) fn register(&self, driver: DriverObject, registration: &'static Registration) -> Result<(), i32> {
        let mut filter: flt::PFLT_FILTER = 0;
        // SAFETY: 1. `driver` is this image's driver object; 2. the registration and the
        // tables it points to are statics; 3. `filter` is a valid out pointer; 4. PASSIVE.
        let status = unsafe { flt::FltRegisterFilter(driver.as_ptr().cast(), &registration.0, &mut filter) };
        if status < 0 {
            return Err(status);
        }
        self.filter.store(filter, Ordering::Release);
        Ok(())
    }

    /// FltStartFiltering.
    pub(crate) fn start(&self) -> Result<(), i32> {
        let filter = self.get().ok_or(crate::logic::status::INVALID_DEVICE_STATE)?;
        // SAFETY: a registered filter handle; PASSIVE_LEVEL.
        let status = unsafe { flt::FltStartFiltering(filter) };
        if status < 0 { Err(status) } else { Ok(()) }
    }

    /// FltUnregisterFilter: detaches every instance and waits for callbacks in flight and
    /// for outstanding contexts. PASSIVE_LEVEL. Does nothing if not registered.
    pub(crate) fn unregister(&self) {
        let filter = self.filter.swap(0, Ordering::AcqRel);
        if filter != 0 {
            // SAFETY: the handle FltRegisterFilter returned, unregistered once (swap).
            unsafe { flt::FltUnregisterFilter(filter) };
        }
    }
}

/// FLT_REGISTRATION as a static.
pub(crate) struct Registration(flt::FLT_REGISTRATION);
// SAFETY: the registration is immutable data (sizes, flags, pointers to other immutable
// statics and to functions); FltMgr only reads it.
unsafe impl Sync for Registration {}

/// A zero-terminated FLT_OPERATION_REGISTRATION table as a static.
pub(crate) struct Operations<const N: usize>(pub(crate) [flt::FLT_OPERATION_REGISTRATION; N]);
// SAFETY: immutable data read by FltMgr, as for Registration.
unsafe impl<const N: usize> Sync for Operations<N> {}

/// A context registration table as a static.
pub(crate) struct Contexts<const N: usize>(pub(crate) [flt::FLT_CONTEXT_REGISTRATION; N]);
// SAFETY: immutable data read by FltMgr, as for Registration.
unsafe impl<const N: usize> Sync for Contexts<N> {}

/// Pool tag of the stream-handle contexts ("VgSh").
pub(crate) const HANDLE_CONTEXT_TAG: u32 = u32::from_le_bytes(*b"VgSh");

/// The contexts the driver uses: one stream-handle context per handle that wrote or was
/// opened delete-on-close.
pub(crate) static CONTEXTS: Contexts<2> = Contexts([
    flt::FLT_CONTEXT_REGISTRATION {
        ContextType: flt::FLT_STREAMHANDLE_CONTEXT as u16,
        Flags: 0,
        ContextCleanupCallback: None,
        Size: core::mem::size_of::<HandleState>(),
        PoolTag: HANDLE_CONTEXT_TAG,
        ContextAllocateCallback: None,
        ContextFreeCallback: None,
        Reserved1: core::ptr::null_mut(),
    },
    flt::FLT_CONTEXT_REGISTRATION {
        ContextType: flt::FLT_CONTEXT_END as u16,
        Flags: 0,
        ContextCleanupCallback: None,
        Size: 0,
        PoolTag: 0,
        ContextAllocateCallback: None,
        ContextFreeCallback: None,
        Reserved1: core::ptr::null_mut(),
    },
]);

/// The pre-operation callbacks the driver defines.
#[derive(Clone, Copy)]
pub(crate) enum Pre {
    /// IRP_MJ_WRITE.
    Write,
    /// IRP_MJ_SET_INFORMATION.
    SetInformation,
    /// IRP_MJ_CLEANUP.
    Cleanup,
}

/// The post-operation callbacks the driver defines.
#[derive(Clone, Copy)]
pub(crate) enum Post {
    /// IRP_MJ_CREATE.
    Create,
    /// IRP_MJ_SET_INFORMATION.
    SetInformation,
}

/// One operation table entry. `skip_paging_io` asks FltMgr not to call the callbacks for
/// paging I/O at all (FLTFL_OPERATION_REGISTRATION_SKIP_PAGING_IO).
pub(crate) const fn operation(
    major: u32,
    skip_paging_io: bool,
    pre: Option<Pre>,
    post: Option<Post>,
) -> flt::FLT_OPERATION_REGISTRATION {
    flt::FLT_OPERATION_REGISTRATION {
        MajorFunction: major as u8,
        Flags: if skip_paging_io { flt::FLTFL_OPERATION_REGISTRATION_SKIP_PAGING_IO } else { 0 },
        PreOperation: match pre {
            Some(Pre::Write) => Some(pre_write),
            Some(Pre::SetInformation) => Some(pre_set_information),
            Some(Pre::Cleanup) => Some(pre_cleanup),
            None => None,
        },
        PostOperation: match post {
            Some(Post::Create) => Some(post_create),
            Some(Post::SetInformation) => Some(post_set_information),
            None => None,
        },
        Reserved1: core::ptr::null_mut(),
    }
}

/// The terminating entry (IRP_MJ_OPERATION_END).
pub(crate) const OPERATION_END: flt::FLT_OPERATION_REGISTRATION = flt::FLT_OPERATION_REGISTRATION {
    MajorFunction: flt::IRP_MJ_OPERATION_END as u8,
    Flags: 0,
    PreOperation: None,
    PostOperation: None,
    Reserved1: core::ptr::null_mut(),
};

impl Registration {
    /// FLT_REGISTRATION (version 0x0203) over `operations` (zero-terminated, may be just
    /// the terminator) and `contexts`, with the unload and instance callbacks.
    pub(crate) const fn new<const N: usize, const C: usize>(
        operations: &'static Operations<N>,
        contexts: &'static Contexts<C>,
    ) -> Self {
        Self(flt::FLT_REGISTRATION {
            Size: core::mem::size_of::<flt::FLT_REGISTRATION>() as u16,
            Version: flt::FLT_REGISTRATION_VERSION as u16,
            Flags: 0,
            ContextRegistration: contexts.0.as_ptr(),
            OperationRegistration: operations.0.as_ptr(),
            FilterUnloadCallback: Some(filter_unload),
            InstanceSetupCallback: Some(instance_setup),
            InstanceQueryTeardownCallback: Some(instance_query_teardown),
            InstanceTeardownStartCallback: None,
            InstanceTeardownCompleteCallback: None,
            GenerateFileNameCallback: None,
            NormalizeNameComponentCallback: None,
            NormalizeContextCleanupCallback: None,
            TransactionNotificationCallback: None,
            NormalizeNameComponentExCallback: None,
            SectionNotificationCallback: None,
        })
    }
}

/// FilterUnloadCallback. PASSIVE_LEVEL.
unsafe extern "system" fn filter_unload(_flags: u32) -> NTSTATUS {
    crate::kernel::entry::filter_unload()
}

/// InstanceSetupCallback: attach to every volume (activity monitoring wants them all).
unsafe extern "system" fn instance_setup(
    _objects: *const flt::FLT_RELATED_OBJECTS,
    _flags: u32,
    _device_type: u32,
    _fs_type: windows_sys::Win32::Storage::InstallableFileSystems::FLT_FILESYSTEM_TYPE,
) -> NTSTATUS {
    crate::logic::status::SUCCESS
}

/// InstanceQueryTeardownCallback: allow `fltmc detach`.
unsafe extern "system" fn instance_query_teardown(_objects: *const flt::FLT_RELATED_OBJECTS, _flags: u32) -> NTSTATUS {
    crate::logic::status::SUCCESS
}

/// Post-create. PASSIVE_LEVEL (FltMgr calls post-create at PASSIVE).
unsafe extern "system" fn post_create(
    data: *mut flt::FLT_CALLBACK_DATA,
    objects: *const flt::FLT_RELATED_OBJECTS,
    _context: *const c_void,
    flags: u32,
) -> flt::FLT_POSTOP_CALLBACK_STATUS {
    if flags & flt::FLTFL_POST_OPERATION_DRAINING == 0 {
        // SAFETY: FltMgr passes valid callback data and related objects for the callback.
        if let Some(op) = unsafe { Op::from_raw(data, objects) } {
            crate::kernel::callbacks::file::post_create(&op);
        }
    }
    flt::FLT_POSTOP_FINISHED_PROCESSING
}

/// Pre-write. IRQL <= APC_LEVEL (paging I/O is skipped).
unsafe extern "system" fn pre_write(
    data: *mut flt::FLT_CALLBACK_DATA,
    objects: *const flt::FLT_RELATED_OBJECTS,
    _context: *mut *mut c_void,
) -> flt::FLT_PREOP_CALLBACK_STATUS {
    // SAFETY: as in `post_create`.
    if let Some(op) = unsafe { Op::from_raw(data, objects) } {
        crate::kernel::callbacks::file::pre_write(&op);
    }
    flt::FLT_PREOP_SUCCESS_NO_CALLBACK
}

/// Pool tag of the set-information completion contexts ("VgSi").
pub(crate) const SET_INFO_TAG: u32 = u32::from_le_bytes(*b"VgSi");

/// Pre-set-information: captures the names a post-operation record needs and asks for a
/// synchronized post-operation (same thread, IRQL <= APC_LEVEL).
unsafe extern "system" fn pre_set_information(
    data: *mut flt::FLT_CALLBACK_DATA,
    objects: *const flt::FLT_RELATED_OBJECTS,
    context: *mut *mut c_void,
) -> flt::FLT_PREOP_CALLBACK_STATUS {
    // SAFETY: as in `post_create`.
    let Some(op) = (unsafe { Op::from_raw(data, objects) }) else {
        return flt::FLT_PREOP_SUCCESS_NO_CALLBACK;
    };
    match crate::kernel::callbacks::file::pre_set_information(&op) {
        PreOp::NoCallback => flt::FLT_PREOP_SUCCESS_NO_CALLBACK,
        PreOp::Synchronize(pending) => {
            // SAFETY: FltMgr passes a valid out pointer for the completion context.
            unsafe { *context = pending.into_raw() };
            flt::FLT_PREOP_SYNCHRONIZE
        }
    }
}

/// Post-set-information (synchronized: same thread as the pre-operation).
unsafe extern "system" fn post_set_information(
    data: *mut flt::FLT_CALLBACK_DATA,
    objects: *const flt::FLT_RELATED_OBJECTS,
    context: *const c_void,
    flags: u32,
) -> flt::FLT_POSTOP_CALLBACK_STATUS {
    // SAFETY: `context` is what `pre_set_information` stored: a PoolBox of the pending
    // record with SET_INFO_TAG, handed back once, here.
    let pending = unsafe {
        PoolBox::<crate::kernel::callbacks::file::SetInfoPending>::from_raw(context.cast_mut(), SET_INFO_TAG)
    };
    let Some(pending) = pending else {
        return flt::FLT_POSTOP_FINISHED_PROCESSING;
    };
    if flags & flt::FLTFL_POST_OPERATION_DRAINING == 0 && irql::current() <= irql::APC_LEVEL {
        // SAFETY: as in `post_create`.
        if let Some(op) = unsafe { Op::from_raw(data, objects) } {
            crate::kernel::callbacks::file::post_set_information(&op, &pending);
        }
    }
    drop(pending);
    flt::FLT_POSTOP_FINISHED_PROCESSING
}

/// Pre-cleanup. PASSIVE_LEVEL.
unsafe extern "system" fn pre_cleanup(
    data: *mut flt::FLT_CALLBACK_DATA,
    objects: *const flt::FLT_RELATED_OBJECTS,
    _context: *mut *mut c_void,
) -> flt::FLT_PREOP_CALLBACK_STATUS {
    // SAFETY: as in `post_create`.
    if let Some(op) = unsafe { Op::from_raw(data, objects) } {
        crate::kernel::callbacks::file::pre_cleanup(&op);
    }
    flt::FLT_PREOP_SUCCESS_NO_CALLBACK
}
