//! The memory lent to the driver: committed with `VirtualAlloc` (zeroed and
//! page-aligned, which the ring requires), released with `VirtualFree`.
//!
//! The driver maps these pages while IOCTL_ATTACH_RING is pending. The owner
//! ([`super::provider`]'s link) frees them only after that IRP has
//! completed, i.e. after the driver has retracted its producer.

use std::io;
use std::ptr::NonNull;
use vigil_protocol::ring::{RingError, SharedMemory};
use windows_sys::Win32::System::Memory::{
    MEM_COMMIT, MEM_RELEASE, MEM_RESERVE, PAGE_READWRITE, VirtualAlloc, VirtualFree,
};

/// A committed, zeroed, page-aligned allocation.
#[derive(Debug)]
pub(super) struct RingBuffer {
    ptr: NonNull<u8>,
    len: usize,
}

impl RingBuffer {
    /// Commits `len` bytes.
    pub(super) fn new(len: usize) -> io::Result<Self> {
        // SAFETY: a fresh allocation anywhere in the address space (null
        // address), read-write; failure is a null return, checked below.
        let p = unsafe { VirtualAlloc(std::ptr::null(), len, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE) };
        let ptr = NonNull::new(p.cast::<u8>()).ok_or_else(io::Error::last_os_error)?;
        Ok(Self { ptr, len })
    }

    /// The output buffer of IOCTL_ATTACH_RING.
    pub(super) fn as_mut_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Its length.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The buffer as ring memory for the consumer. The consumer must be
    /// dropped before `self` (the attachment's field order sees to it).
    pub(super) fn shared_memory(&self) -> Result<SharedMemory, RingError> {
        // SAFETY: 1. `ptr` is valid for reads and writes of `len` bytes until
        // `self` is dropped, and the consumer built from it is dropped first;
        // 2. in this process only the ring types access it; the driver writes
        // it from the kernel, and the consumer validates everything it reads.
        unsafe { SharedMemory::new(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for RingBuffer {
    fn drop(&mut self) {
        // SAFETY: `ptr` was returned by VirtualAlloc (MEM_RESERVE) and is
        // released once, here, with size 0 as MEM_RELEASE requires; no IRP
        // still maps it (the owner waited for the attach IRP to complete).
        unsafe { VirtualFree(self.ptr.as_ptr().cast(), 0, MEM_RELEASE) };
    }
}
