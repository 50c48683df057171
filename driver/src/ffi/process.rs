//! Processes, threads and tokens.

use crate::logic::session::ProcessId;
use core::ffi::c_void;
use core::marker::PhantomData;
use core::ptr::NonNull;
use wdk_sys::{HANDLE, PEPROCESS};

#[link(name = "ntoskrnl")]
unsafe extern "C" {
    /// The token object type (ntifs.h: `extern POBJECT_TYPE *SeTokenObjectType`).
    static SeTokenObjectType: *mut wdk_sys::POBJECT_TYPE;
}

/// A process/thread id from its HANDLE form (ids are small integers).
pub(crate) fn id(h: HANDLE) -> u32 {
    h as usize as u32
}

/// The current process id.
pub(crate) fn current_pid() -> u32 {
    // SAFETY: no arguments; any IRQL.
    id(unsafe { wdk_sys::ntddk::PsGetCurrentProcessId() })
}

/// The current thread id.
pub(crate) fn current_tid() -> u32 {
    // SAFETY: no arguments; any IRQL.
    id(unsafe { wdk_sys::ntddk::PsGetCurrentThreadId() })
}

/// A process object lent by the kernel for `'a` (a callback's duration).
#[derive(Clone, Copy)]
pub(crate) struct ProcessPtr<'a> {
    p: NonNull<c_void>,
    _lent: PhantomData<&'a ()>,
}

impl<'a> ProcessPtr<'a> {
    /// # Safety
    /// `p` is null or an EPROCESS the caller keeps referenced for `'a`.
    pub(crate) unsafe fn from_raw(p: PEPROCESS) -> Option<Self> {
        NonNull::new(p.cast::<c_void>()).map(|p| Self { p, _lent: PhantomData })
    }

    fn raw(&self) -> PEPROCESS {
        self.p.as_ptr().cast()
    }

    /// PsGetProcessStartKey: boot-unique, unlike the pid.
    pub(crate) fn start_key(&self) -> u64 {
        // SAFETY: a referenced EPROCESS (type invariant); any IRQL.
        unsafe { wdk_sys::ntddk::PsGetProcessStartKey(self.raw()) }
    }

    /// PsGetProcessExitStatus.
    pub(crate) fn exit_status(&self) -> i32 {
        // SAFETY: a referenced EPROCESS (type invariant); PASSIVE_LEVEL (the exit callback).
        unsafe { wdk_sys::ntddk::PsGetProcessExitStatus(self.raw()) }
    }
}

/// The current process, valid while the current thread runs in it.
pub(crate) fn current_process<'a>() -> Option<ProcessPtr<'a>> {
    // SAFETY: no arguments; any IRQL.
    let raw = unsafe { wdk_sys::ntddk::IoGetCurrentProcess() };
    // SAFETY: the current thread's process, which stays referenced while the thread runs.
    unsafe { ProcessPtr::from_raw(raw) }
}

/// The current process's identity.
pub(crate) fn current_identity() -> ProcessId {
    ProcessId { pid: current_pid(), key: current_process().map_or(0, |p| p.start_key()) }
}

/// A process looked up by id, referenced until drop.
pub(crate) struct ProcessRef {
    p: NonNull<c_void>,
}

impl ProcessRef {
    /// PsLookupProcessByProcessId. IRQL <= APC_LEVEL.
    pub(crate) fn lookup(pid: u32) -> Option<Self> {
        if pid == 0 {
            return None;
        }
        let mut p: PEPROCESS = core::ptr::null_mut();
        // SAFETY: 1. `p` is a valid out pointer; 2. a wrong id fails cleanly;
        // 3. IRQL <= APC_LEVEL (the callers are PASSIVE_LEVEL callbacks).
        let status = unsafe { wdk_sys::ntddk::PsLookupProcessByProcessId(pid as usize as HANDLE, &mut p) };
        if status < 0 {
            return None;
        }
        NonNull::new(p.cast::<c_void>()).map(|p| Self { p })
    }

    /// The process, for as long as this reference is held.
    pub(crate) fn get(&self) -> ProcessPtr<'_> {
        ProcessPtr { p: self.p, _lent: PhantomData }
    }
}

impl Drop for ProcessRef {
    fn drop(&mut self) {
        // SAFETY: releases the reference PsLookupProcessByProcessId took, once.
        unsafe { wdk_sys::ntddk::ObfDereferenceObject(self.p.as_ptr()) };
    }
}

/// TOKEN_INFORMATION_CLASS values used by the driver.
pub(crate) mod token_class {
    /// TOKEN_USER.
    pub(crate) const USER: i32 = wdk_sys::_TOKEN_INFORMATION_CLASS::TokenUser;
    /// ULONG session id.
    pub(crate) const SESSION_ID: i32 = wdk_sys::_TOKEN_INFORMATION_CLASS::TokenSessionId;
    /// TOKEN_ELEVATION_TYPE.
    pub(crate) const ELEVATION_TYPE: i32 = wdk_sys::_TOKEN_INFORMATION_CLASS::TokenElevationType;
    /// TOKEN_ELEVATION.
    pub(crate) const ELEVATION: i32 = wdk_sys::_TOKEN_INFORMATION_CLASS::TokenElevation;
    /// TOKEN_MANDATORY_LABEL.
    pub(crate) const INTEGRITY_LEVEL: i32 = wdk_sys::_TOKEN_INFORMATION_CLASS::TokenIntegrityLevel;
}

/// A process's primary token opened for TOKEN_QUERY through a kernel handle, so it can
/// be queried into the caller's own buffers (ZwQueryInformationToken) with no pool
/// allocation. Closed and dereferenced on drop.
pub(crate) struct Token {
    token: NonNull<c_void>,
    handle: HANDLE,
}

/// A buffer for one token query, aligned for the structures the kernel writes into it.
#[repr(C, align(8))]
pub(crate) struct TokenBuffer(pub(crate) [u8; 128]);

impl Token {
    /// Opens `process`'s primary token. PASSIVE_LEVEL.
    pub(crate) fn open(process: ProcessPtr<'_>) -> Option<Self> {
        // SAFETY: a referenced EPROCESS; PASSIVE_LEVEL. Returns a referenced token or null.
        let token = NonNull::new(unsafe { wdk_sys::ntddk::PsReferencePrimaryToken(process.raw()) })?;
        let token = TokenRef(token);
        // SAFETY: data export set at boot; aligned pointer-size read.
        let token_type = unsafe { *SeTokenObjectType };
        let mut handle: HANDLE = core::ptr::null_mut();
        // SAFETY: 1. `token.0` is a referenced token object of type `token_type`;
        // 2. `handle` is a valid out pointer; 3. a kernel handle with KernelMode access:
        // no user handle table is touched; 4. PASSIVE_LEVEL.
        let status = unsafe {
            wdk_sys::ntddk::ObOpenObjectByPointer(
                token.0.as_ptr(),
                wdk_sys::OBJ_KERNEL_HANDLE,
                core::ptr::null_mut(),
                wdk_sys::TOKEN_QUERY,
                token_type,
                wdk_sys::_MODE::KernelMode as i8,
                &mut handle,
            )
        };
        if status < 0 {
            return None;
        }
        let raw = token.0;
        // The reference now belongs to the returned Token (released in its Drop).
        core::mem::forget(token);
        Some(Self { token: raw, handle })
    }

    /// ZwQueryInformationToken into `buf`; the bytes written.
    pub(crate) fn query<'b>(&self, class: i32, buf: &'b mut TokenBuffer) -> Option<&'b [u8]> {
        let mut returned = 0u32;
        // SAFETY: 1. open kernel handle with TOKEN_QUERY; 2. `buf` is writable and 8-aligned
        // for the length passed; 3. `returned` is a valid out pointer; 4. PASSIVE_LEVEL.
        let status = unsafe {
            wdk_sys::ntddk::ZwQueryInformationToken(
                self.handle,
                class,
                buf.0.as_mut_ptr().cast::<c_void>(),
                buf.0.len() as u32,
                &mut returned,
            )
        };
        if status < 0 {
            return None;
        }
        buf.0.get(..returned as usize)
    }
}

/// A token reference that is released if `Token::open` fails half-way.
struct TokenRef(NonNull<c_void>);

impl Drop for TokenRef {
    fn drop(&mut self) {
        // SAFETY: releases the reference PsReferencePrimaryToken took, once.
        unsafe { wdk_sys::ntddk::PsDereferencePrimaryToken(self.0.as_ptr()) };
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        // SAFETY: the kernel handle opened in `open`, closed once.
        let _ = unsafe { wdk_sys::ntddk::ZwClose(self.handle) };
        drop(TokenRef(self.token));
    }
}
