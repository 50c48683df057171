//! A checked view of one file-system operation ([`Op`]), the names FltMgr resolves for it
//! ([`FileName`]) and the per-handle state the driver keeps ([`HandleContext`]).

use super::flt::{FilterSlot, HANDLE_CONTEXT_TAG};
use super::flt_params::{CreateParameters, SetFileInformationParameters};
use super::irql;
use super::pool::PoolBox;
use super::process::{self, ProcessPtr};
use super::strings::{is_system_range, kernel_utf16};
use core::ffi::c_void;
use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, Ordering};
use windows_sys::Wdk::Storage::FileSystem::Minifilters as flt;

/// STATUS_FLT_CONTEXT_ALREADY_DEFINED (ntstatus.h).
const FLT_CONTEXT_ALREADY_DEFINED: i32 = 0xC01C_0002u32 as i32;
/// NonPagedPoolNx.
const NON_PAGED_POOL_NX: i32 = 512;

/// What a pre-operation asks FltMgr for.
pub(crate) enum PreOp<T> {
    /// No post-operation callback.
    NoCallback,
    /// A synchronized post-operation callback, which receives this context.
    Synchronize(PoolBox<T>),
}

/// One operation's callback data and related objects, valid for the callback (`'a`).
pub(crate) struct Op<'a> {
    data: NonNull<flt::FLT_CALLBACK_DATA>,
    objects: NonNull<flt::FLT_RELATED_OBJECTS>,
    _callback: PhantomData<&'a ()>,
}

/// The create parameters the driver records.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CreateRequest {
    /// `Parameters.Create.Options` (disposition << 24 | options).
    pub(crate) options: u32,
    /// Share access.
    pub(crate) share_access: u32,
    /// Requested access (`SecurityContext->DesiredAccess`), 0 if unknown.
    pub(crate) desired_access: u32,
}

/// A set-information request.
pub(crate) struct SetInformation<'a> {
    /// FILE_INFORMATION_CLASS.
    pub(crate) class: u32,
    /// The information buffer, in system space, `Length` bytes.
    pub(crate) buffer: &'a [u8],
}

impl<'a> Op<'a> {
    /// # Safety
    /// `data` and `objects` are null or the pointers FltMgr passed to the current
    /// callback, valid until it returns (`'a` must not outlive it).
    pub(crate) unsafe fn from_raw(
        data: *mut flt::FLT_CALLBACK_DATA,
        objects: *const flt::FLT_RELATED_OBJECTS,
    ) -> Option<Self> {
        Some(Self { data: NonNull::new(data)?, objects: NonNull::new(objects.cast_mut())?, _callback: PhantomData })
    }

    fn data(&self) -> &flt::FLT_CALLBACK_DATA {
        // SAFETY: valid for the callback (type invariant).
        unsafe { self.data.as_ref() }
    }

    fn objects(&self) -> &flt::FLT_RELATED_OBJECTS {
        // SAFETY: valid for the callback (type invariant).
        unsafe { self.objects.as_ref() }
    }

    fn iopb(&self) -> Option<&flt::FLT_IO_PARAMETER_BLOCK> {
        // SAFETY: FltMgr's Iopb points to the operation's parameter block for the callback.
        unsafe { self.data().Iopb.as_ref() }
    }

    /// `Iopb->IrpFlags`.
    pub(crate) fn irp_flags(&self) -> u32 {
        self.iopb().map_or(0, |i| i.IrpFlags)
    }

    /// The process that issued the operation (FltGetRequestorProcessId).
    pub(crate) fn requestor_pid(&self) -> u32 {
        // SAFETY: valid callback data; IRQL <= DISPATCH_LEVEL.
        unsafe { flt::FltGetRequestorProcessId(self.data.as_ptr()) }
    }

    /// The issuing process's start key (0 if unknown).
    pub(crate) fn requestor_key(&self) -> u64 {
        // SAFETY: valid callback data; the process is referenced by the I/O for its
        // duration. Returns null if unknown.
        let p = unsafe { flt::FltGetRequestorProcess(self.data.as_ptr()) };
        // SAFETY: null or the requestor's EPROCESS, alive during the callback.
        unsafe { ProcessPtr::from_raw(p as wdk_sys::PEPROCESS) }.map_or(0, |p| p.start_key())
    }

    /// The issuing thread's id (the current thread's when FltMgr has none).
    pub(crate) fn thread_id(&self) -> u32 {
        let thread = self.data().Thread;
        if thread == 0 {
            return process::current_tid();
        }
        // SAFETY: a non-null Thread in callback data is the issuing ETHREAD, referenced for
        // the operation's duration.
        process::id(unsafe { wdk_sys::ntddk::PsGetThreadId(thread as wdk_sys::PETHREAD) })
    }

    /// Final status (post-operation).
    pub(crate) fn status(&self) -> i32 {
        // SAFETY: Status is the IO_STATUS_BLOCK member FltMgr fills for a completed
        // operation; the union is plain integer/pointer data either way.
        unsafe { self.data().IoStatus.Anonymous.Status }
    }

    /// IoStatus.Information (post-operation).
    pub(crate) fn information(&self) -> u64 {
        self.data().IoStatus.Information as u64
    }

    /// IRP_MJ_CREATE's parameters.
    pub(crate) fn create(&self) -> Option<CreateRequest> {
        let iopb = self.iopb()?;
        if u32::from(iopb.MajorFunction) != wdk_sys::IRP_MJ_CREATE {
            return None;
        }
        let params = (&iopb.Parameters as *const flt::FLT_PARAMETERS).cast::<CreateParameters>();
        // SAFETY: 1. for IRP_MJ_CREATE the Create member of the union is active; 2.
        // CreateParameters is its x64 layout (flt_params asserts it fits the union) and
        // the union is 8-aligned; 3. all fields are integers or pointers.
        let p = unsafe { &*params };
        // SAFETY: SecurityContext is null or FltMgr's IO_SECURITY_CONTEXT for the create,
        // in kernel memory for the operation's duration.
        let desired_access = unsafe { p.security_context.as_ref() }.map_or(0, |s| s.DesiredAccess);
        Some(CreateRequest { options: p.options, share_access: u32::from(p.share_access), desired_access })
    }

    /// IRP_MJ_SET_INFORMATION's class and buffer. `None` for another operation or a buffer
    /// that is null or not in system space.
    pub(crate) fn set_information(&self) -> Option<SetInformation<'a>> {
        let iopb = self.iopb()?;
        if u32::from(iopb.MajorFunction) != wdk_sys::IRP_MJ_SET_INFORMATION {
            return None;
        }
        let params = (&iopb.Parameters as *const flt::FLT_PARAMETERS).cast::<SetFileInformationParameters>();
        // SAFETY: as in `create`, for the SetFileInformation member.
        let p = unsafe { &*params };
        let len = p.length as usize;
        let addr = p.info_buffer as usize;
        if addr == 0 || !is_system_range(addr, len) {
            return None;
        }
        // SAFETY: 1. InfoBuffer is the I/O manager's (or a kernel caller's) system buffer
        // of `Length` bytes, in system space (checked), valid for the operation (`'a`);
        // 2. the driver only reads it.
        let buffer = unsafe { core::slice::from_raw_parts(p.info_buffer.cast::<u8>(), len) };
        Some(SetInformation { class: p.information_class, buffer })
    }

    /// FltIsDirectory (successful creates). IRQL <= APC_LEVEL.
    pub(crate) fn is_directory(&self) -> Option<bool> {
        let o = self.objects();
        let mut dir = false;
        // SAFETY: 1. the related objects' file object and instance are valid for the
        // callback; 2. `dir` is a valid out pointer; 3. IRQL <= APC_LEVEL.
        let status = unsafe { flt::FltIsDirectory(o.FileObject, o.Instance, &mut dir) };
        (status >= 0).then_some(dir)
    }

    /// The file's name (FltGetFileNameInformation): normalized if FltMgr can, else the
    /// opened name (`.1 == true`). IRQL <= APC_LEVEL.
    pub(crate) fn file_name(&self) -> Option<(FileName, bool)> {
        self.query_name(&[
            (flt::FLT_FILE_NAME_NORMALIZED | flt::FLT_FILE_NAME_QUERY_DEFAULT, false),
            (flt::FLT_FILE_NAME_OPENED | flt::FLT_FILE_NAME_QUERY_DEFAULT, true),
        ])
    }

    /// Only the name the caller opened, which FltMgr builds without asking the file
    /// system: for creates that failed, whose file object was never opened.
    pub(crate) fn opened_name(&self) -> Option<FileName> {
        self.query_name(&[(flt::FLT_FILE_NAME_OPENED | flt::FLT_FILE_NAME_QUERY_DEFAULT, true)]).map(|(n, _)| n)
    }

    fn query_name(&self, attempts: &[(u32, bool)]) -> Option<(FileName, bool)> {
        if irql::current() > irql::APC_LEVEL {
            return None;
        }
        for &(options, opened) in attempts {
            let mut info: *mut flt::FLT_FILE_NAME_INFORMATION = core::ptr::null_mut();
            // SAFETY: 1. valid callback data; 2. `info` is a valid out pointer;
            // 3. IRQL <= APC_LEVEL (checked).
            let status = unsafe { flt::FltGetFileNameInformation(self.data.as_ptr(), options, &mut info) };
            if status >= 0
                && let Some(info) = NonNull::new(info)
            {
                return Some((FileName { info }, opened));
            }
        }
        None
    }

    /// The destination of a rename or hard link (FltGetDestinationFileNameInformation),
    /// from the request's RootDirectory handle and the FileName bytes `name`, which must
    /// lie inside this operation's information buffer. IRQL <= APC_LEVEL.
    pub(crate) fn destination_name(&self, root_directory: u64, name: &[u8]) -> Option<FileName> {
        if irql::current() > irql::APC_LEVEL
            || !name.len().is_multiple_of(2)
            || !is_system_range(name.as_ptr() as usize, name.len())
        {
            return None;
        }
        let o = self.objects();
        let mut info: *mut flt::FLT_FILE_NAME_INFORMATION = core::ptr::null_mut();
        // SAFETY: 1. instance and file object are valid for the callback; 2. `name` is a
        // kernel buffer (checked) of `name.len()` bytes; the root handle is passed through
        // to FltMgr, which resolves it in the requestor's context as the file system
        // would; 3. `info` is a valid out pointer; 4. IRQL <= APC_LEVEL (checked).
        let status = unsafe {
            flt::FltGetDestinationFileNameInformation(
                o.Instance,
                o.FileObject,
                root_directory as usize as windows_sys::Win32::Foundation::HANDLE,
                name.as_ptr().cast(),
                name.len() as u32,
                flt::FLT_FILE_NAME_NORMALIZED | flt::FLT_FILE_NAME_QUERY_DEFAULT,
                &mut info,
            )
        };
        if status < 0 {
            return None;
        }
        NonNull::new(info).map(|info| FileName { info })
    }

    /// The handle's stream-handle context, if it has one. IRQL <= APC_LEVEL.
    pub(crate) fn handle_context(&self) -> Option<HandleContext> {
        let o = self.objects();
        let mut ctx: flt::PFLT_CONTEXT = core::ptr::null_mut();
        // SAFETY: 1. instance and file object valid for the callback; 2. valid out pointer.
        let status = unsafe { flt::FltGetStreamHandleContext(o.Instance, o.FileObject, &mut ctx) };
        if status < 0 {
            return None;
        }
        NonNull::new(ctx.cast::<HandleState>()).map(|ctx| HandleContext { ctx })
    }

    /// The handle's context, created (zeroed state) if it has none. `None` if the pool is
    /// exhausted or FltMgr refuses (the caller drops the event and counts it).
    pub(crate) fn handle_context_or_new(&self, filter: &FilterSlot) -> Option<HandleContext> {
        if let Some(existing) = self.handle_context() {
            return Some(existing);
        }
        let filter = filter.get()?;
        let mut ctx: flt::PFLT_CONTEXT = core::ptr::null_mut();
        // SAFETY: 1. a registered filter; 2. the context type and size are the ones
        // registered in flt::CONTEXTS; 3. valid out pointer; IRQL <= APC_LEVEL.
        let status = unsafe {
            flt::FltAllocateContext(
                filter,
                flt::FLT_STREAMHANDLE_CONTEXT as u16,
                core::mem::size_of::<HandleState>(),
                NON_PAGED_POOL_NX,
                &mut ctx,
            )
        };
        let new = NonNull::new(ctx.cast::<HandleState>()).filter(|_| status >= 0)?;
        // SAFETY: FltAllocateContext returned an uninitialized block of size_of HandleState
        // bytes, pool-aligned; initialize it before anyone can see it.
        unsafe { new.as_ptr().write(HandleState { flags: AtomicU32::new(0) }) };
        let new = HandleContext { ctx: new };
        let o = self.objects();
        let mut old: flt::PFLT_CONTEXT = core::ptr::null_mut();
        // SAFETY: 1. instance/file object valid; 2. `new` is an initialized context of the
        // registered type; 3. `old` is a valid out pointer; IRQL <= APC_LEVEL.
        let status = unsafe {
            flt::FltSetStreamHandleContext(
                o.Instance,
                o.FileObject,
                flt::FLT_SET_CONTEXT_KEEP_IF_EXISTS,
                new.ctx.as_ptr().cast(),
                &mut old,
            )
        };
        if status >= 0 {
            // Setting added FltMgr's own reference; ours is released when `new` drops.
            return Some(new);
        }
        if status == FLT_CONTEXT_ALREADY_DEFINED {
            // Lost a race with another thread on the same handle: use its context.
            return NonNull::new(old.cast::<HandleState>()).map(|ctx| HandleContext { ctx });
        }
        None
    }
}

/// FltMgr's name information for a file, released on drop.
pub(crate) struct FileName {
    info: NonNull<flt::FLT_FILE_NAME_INFORMATION>,
}

impl FileName {
    /// The full name (for a normalized name: `\Device\HarddiskVolume3\dir\file.txt`).
    pub(crate) fn name(&self) -> &[u16] {
        // SAFETY: the name information stays referenced until drop.
        let info = unsafe { self.info.as_ref() };
        let name =
            (&info.Name as *const windows_sys::Win32::Foundation::UNICODE_STRING).cast::<wdk_sys::UNICODE_STRING>();
        // SAFETY: 1. same C structure in both crates (asserted in flt_params); 2. FltMgr's
        // buffer, in pool, lives as long as the referenced name information (`self`).
        unsafe { kernel_utf16(name) }.unwrap_or(&[])
    }
}

impl Drop for FileName {
    fn drop(&mut self) {
        // FltReleaseFileNameInformation requires IRQL <= APC_LEVEL; every caller that makes
        // a FileName runs there, so this never leaks in practice.
        if irql::current() <= irql::APC_LEVEL {
            // SAFETY: releases the reference FltGet*FileNameInformation returned, once.
            unsafe { flt::FltReleaseFileNameInformation(self.info.as_ptr()) };
        }
    }
}

/// The state of one handle, in FltMgr's stream-handle context.
#[repr(C)]
pub(crate) struct HandleState {
    /// `logic::file_events::handle` bits.
    pub(crate) flags: AtomicU32,
}

/// A referenced stream-handle context, released on drop.
pub(crate) struct HandleContext {
    ctx: NonNull<HandleState>,
}

impl HandleContext {
    /// The handle's state.
    pub(crate) fn flags(&self) -> &AtomicU32 {
        // SAFETY: the context is initialized (by `handle_context_or_new`, before it was
        // published) and referenced until drop.
        unsafe { &self.ctx.as_ref().flags }
    }

    /// Sets `bits`, returning the previous state.
    pub(crate) fn set(&self, bits: u32) -> u32 {
        self.flags().fetch_or(bits, Ordering::AcqRel)
    }
}

impl Drop for HandleContext {
    fn drop(&mut self) {
        // SAFETY: releases the reference FltGet/FltAllocate returned, once; callable at
        // IRQL <= DISPATCH_LEVEL.
        unsafe { flt::FltReleaseContext(self.ctx.as_ptr().cast::<c_void>()) };
    }
}

const _: () = assert!(HANDLE_CONTEXT_TAG != 0);
