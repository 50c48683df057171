//! Fallible allocation from non-paged pool, for the one thing the driver allocates: the
//! small context a set-information pre-operation hands to its post-operation.
//!
//! The crate does not link `alloc`: `Box::new`/`vec!` (whose failure path panics) cannot
//! be written. [`PoolBox::try_new`] returns the value back when the pool is exhausted.

use core::ffi::c_void;
use core::ptr::NonNull;

/// A `T` in non-paged pool, freed on drop.
pub(crate) struct PoolBox<T> {
    ptr: NonNull<T>,
    tag: u32,
}

impl<T> PoolBox<T> {
    /// Allocates and moves `value` in; gives it back if the allocation fails.
    /// IRQL <= DISPATCH_LEVEL.
    pub(crate) fn try_new(value: T, tag: u32) -> Result<Self, T> {
        // Pool blocks are 16-byte aligned on x64.
        const { assert!(core::mem::align_of::<T>() <= 16 && core::mem::size_of::<T>() > 0) };
        // SAFETY: 1. non-zero size (asserted); 2. POOL_FLAG_NON_PAGED may be used at
        // IRQL <= DISPATCH_LEVEL; 3. the result is checked for null below.
        let raw = unsafe {
            wdk_sys::ntddk::ExAllocatePool2(wdk_sys::POOL_FLAG_NON_PAGED, core::mem::size_of::<T>() as u64, tag)
        };
        let Some(ptr) = NonNull::new(raw.cast::<T>()) else { return Err(value) };
        // SAFETY: `ptr` is a fresh, 16-byte aligned (>= align_of T) block of size_of T bytes.
        unsafe { ptr.as_ptr().write(value) };
        Ok(Self { ptr, tag })
    }

    /// Gives up ownership, for an opaque context pointer.
    pub(crate) fn into_raw(self) -> *mut c_void {
        let p = self.ptr.as_ptr().cast();
        core::mem::forget(self);
        p
    }

    /// Takes back ownership of what [`Self::into_raw`] returned.
    ///
    /// # Safety
    /// 1. `raw` came from `into_raw` of a `PoolBox<T>` with this `tag`;
    /// 2. it is taken back at most once.
    pub(crate) unsafe fn from_raw(raw: *mut c_void, tag: u32) -> Option<Self> {
        NonNull::new(raw.cast::<T>()).map(|ptr| Self { ptr, tag })
    }
}

impl<T> core::ops::Deref for PoolBox<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `ptr` holds an initialized `T` owned by this box until drop.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> Drop for PoolBox<T> {
    fn drop(&mut self) {
        // SAFETY: 1. `ptr` holds an initialized `T` we own; it is dropped once, here.
        unsafe { core::ptr::drop_in_place(self.ptr.as_ptr()) };
        // SAFETY: 1. the block came from ExAllocatePool2 with `tag`; 2. it is freed once,
        // after its contents were dropped; 3. IRQL <= DISPATCH_LEVEL (where boxes live).
        unsafe { wdk_sys::ntddk::ExFreePoolWithTag(self.ptr.as_ptr().cast(), self.tag) };
    }
}
