//! Access to the shared region: the only module that turns offsets into
//! memory accesses.
//!
//! In normal builds the region is raw memory shared with another address
//! space (the kernel's MDL mapping of the client's buffer, a memfd mapping on
//! Linux). Control fields are atomics placed in that memory; record bytes are
//! copied in and out with bounds-checked raw copies, and no reference to
//! record bytes outlives the consumer callback that receives it.
//!
//! Under `cfg(loom)` the same API is backed by loom atomics and one loom
//! `UnsafeCell<u64>` per 8-byte word of data, so loom reports any access to
//! record bytes that the ring protocol does not order.

use super::layout::{LINE, RingError, RingHeader, RingLayout, ShardControl};
#[cfg(not(loom))]
use core::ptr::NonNull;

/// Memory shared between producer and consumer.
#[cfg(not(loom))]
#[derive(Debug, Clone)]
pub struct SharedMemory {
    base: NonNull<u8>,
    len: usize,
    #[cfg(feature = "alloc")]
    _owner: Option<alloc::sync::Arc<owned::Owned>>,
}

// SAFETY: `SharedMemory` is a pointer to memory that is shared across
// threads and address spaces by design. Control fields are only accessed
// through atomics; record bytes are written only by the producer inside its
// reservation and read only by the consumer below the published position,
// which the ring protocol orders with Release/Acquire pairs.
#[cfg(not(loom))]
unsafe impl Send for SharedMemory {}
// SAFETY: see the `Send` impl: all shared access is atomic or ordered by the
// ring protocol.
#[cfg(not(loom))]
unsafe impl Sync for SharedMemory {}

#[cfg(not(loom))]
impl SharedMemory {
    /// Wraps raw shared memory.
    ///
    /// # Safety
    /// 1. `base` is valid for reads and writes of `len` bytes for as long as
    ///    the returned value, or anything built from it, is alive;
    /// 2. nothing in this address space accesses that memory except through
    ///    this crate's ring types (another address space may do anything to
    ///    it: every value read from it is validated before use).
    pub unsafe fn new(base: *mut u8, len: usize) -> Result<Self, RingError> {
        let base = NonNull::new(base).ok_or(RingError::Misaligned)?;
        if !(base.as_ptr() as usize).is_multiple_of(LINE) {
            return Err(RingError::Misaligned);
        }
        let needed = core::mem::size_of::<RingHeader>();
        if len < needed {
            return Err(RingError::RegionTooSmall { needed, available: len });
        }
        Ok(Self {
            base,
            len,
            #[cfg(feature = "alloc")]
            _owner: None,
        })
    }

    /// Zeroed, page-aligned heap memory for `layout` (tests, benchmarks,
    /// in-process rings).
    #[cfg(feature = "alloc")]
    pub fn alloc_for(layout: RingLayout) -> Self {
        let owned = alloc::sync::Arc::new(owned::Owned::new(layout.total_size()));
        Self { base: owned.ptr, len: owned.len, _owner: Some(owned) }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Pointer to byte `off` of the region. Computing it is safe; using it
    /// requires `off` (plus the access length) to be within `len`.
    #[inline]
    fn ptr_at(&self, off: usize) -> *mut u8 {
        self.base.as_ptr().wrapping_add(off)
    }

    /// Always false: a region holds at least a header.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The ring header at offset 0.
    pub(crate) fn header(&self) -> &RingHeader {
        // SAFETY: 1. `new` checked that the memory holds a `RingHeader` and is
        // LINE-aligned, which is `RingHeader`'s alignment; 2. it contains only
        // atomics (and padding), for which every bit pattern is valid and
        // concurrent writes from elsewhere are permitted; 3. the memory
        // outlives `self` (contract of `new`).
        unsafe { &*self.base.as_ptr().cast::<RingHeader>() }
    }

    /// Zeroes the header and control blocks of `layout` (producer, at attach).
    pub(crate) fn zero_header(&self, layout: &RingLayout) {
        let n = layout.header_size().min(self.len);
        // SAFETY: 1. `base` is valid for writes of `len >= n` bytes (contract
        // of `new`); 2. at attach no consumer has been told about the ring yet,
        // and a peer scribbling concurrently only races on bytes we are about
        // to overwrite anyway: no Rust reference to them exists.
        unsafe { core::ptr::write_bytes(self.base.as_ptr(), 0, n) };
    }
}

#[cfg(all(not(loom), feature = "alloc"))]
mod owned {
    use core::ptr::NonNull;

    /// A zeroed, page-aligned heap allocation.
    #[derive(Debug)]
    pub(crate) struct Owned {
        pub(crate) ptr: NonNull<u8>,
        pub(crate) len: usize,
        layout: alloc::alloc::Layout,
    }

    impl Owned {
        pub(crate) fn new(len: usize) -> Self {
            let Ok(layout) = alloc::alloc::Layout::from_size_align(len.max(1), super::super::layout::PAGE_SIZE) else {
                alloc::alloc::handle_alloc_error(alloc::alloc::Layout::new::<u8>())
            };
            // SAFETY: `layout` has non-zero size.
            let raw = unsafe { alloc::alloc::alloc_zeroed(layout) };
            let Some(ptr) = NonNull::new(raw) else { alloc::alloc::handle_alloc_error(layout) };
            Self { ptr, len, layout }
        }
    }

    // SAFETY: `Owned` is a plain heap allocation with no thread affinity; all
    // access to its bytes goes through `SharedMemory`, whose own `Send`/`Sync`
    // impls state how that access is synchronized.
    unsafe impl Send for Owned {}
    // SAFETY: as above.
    unsafe impl Sync for Owned {}

    impl Drop for Owned {
        fn drop(&mut self) {
            // SAFETY: `ptr` was returned by `alloc_zeroed` with `self.layout`
            // and is freed only here, once.
            unsafe { alloc::alloc::dealloc(self.ptr.as_ptr(), self.layout) }
        }
    }
}

/// Memory shared between producer and consumer (loom model).
#[cfg(loom)]
#[derive(Debug, Clone)]
pub struct SharedMemory {
    inner: std::sync::Arc<loom_mem::Inner>,
}

#[cfg(loom)]
mod loom_mem {
    use super::super::layout::{RingHeader, ShardControl};
    use crate::sync::UnsafeCell;

    #[derive(Debug)]
    pub(crate) struct Inner {
        pub(crate) header: RingHeader,
        pub(crate) controls: Vec<ShardControl>,
        pub(crate) words: Vec<UnsafeCell<u64>>,
        pub(crate) len: usize,
    }
}

#[cfg(loom)]
impl SharedMemory {
    /// Zeroed model memory for `layout`.
    pub fn alloc_for(layout: RingLayout) -> Self {
        let data = layout.shard_count() as usize * layout.shard_size() as usize;
        let inner = loom_mem::Inner {
            header: RingHeader::default(),
            controls: (0..layout.shard_count()).map(|_| ShardControl::default()).collect(),
            words: (0..data / 8).map(|_| crate::sync::UnsafeCell::new(0)).collect(),
            len: layout.total_size(),
        };
        Self { inner: std::sync::Arc::new(inner) }
    }

    /// Length in bytes of the region this models.
    pub fn len(&self) -> usize {
        self.inner.len
    }

    /// Always false.
    pub fn is_empty(&self) -> bool {
        false
    }

    pub(crate) fn header(&self) -> &RingHeader {
        &self.inner.header
    }

    pub(crate) fn zero_header(&self, _layout: &RingLayout) {
        use crate::sync::Ordering::Relaxed;
        let h = &self.inner.header;
        h.ident.0.magic.store(0, Relaxed);
        h.wait.0.waiting.store(0, Relaxed);
        for c in &self.inner.controls {
            c.producer.0.published.store(0, Relaxed);
            c.consumer.0.consumer.store(0, Relaxed);
        }
    }
}

/// A [`SharedMemory`] together with the geometry it was checked against.
#[derive(Debug, Clone)]
pub struct Region {
    mem: SharedMemory,
    layout: RingLayout,
    /// `layout.header_size()`, computed once: where shard 0's data starts.
    data_off: usize,
}

impl Region {
    /// Checks that `mem` is large enough for `layout`.
    pub fn new(mem: SharedMemory, layout: RingLayout) -> Result<Self, RingError> {
        let needed = layout.total_size();
        if mem.len() < needed {
            return Err(RingError::RegionTooSmall { needed, available: mem.len() });
        }
        Ok(Self { mem, layout, data_off: layout.header_size() })
    }

    /// The geometry.
    pub fn layout(&self) -> &RingLayout {
        &self.layout
    }

    /// The memory.
    pub fn memory(&self) -> &SharedMemory {
        &self.mem
    }

    pub(crate) fn header(&self) -> &RingHeader {
        self.mem.header()
    }

    /// Offset of `[at, at + len)` of `shard`'s data within the region's data
    /// area, or `None` if any part is outside that shard.
    #[inline]
    fn data_range(&self, shard: u32, at: usize, len: usize) -> Option<usize> {
        let size = self.layout.shard_size() as usize;
        if shard >= self.layout.shard_count() || at > size || len > size - at {
            return None;
        }
        Some(shard as usize * size + at)
    }
}

#[cfg(not(loom))]
impl Region {
    /// The control block of `shard`.
    #[inline]
    pub(crate) fn control(&self, shard: u32) -> Option<&ShardControl> {
        if shard >= self.layout.shard_count() {
            return None;
        }
        let off = core::mem::size_of::<RingHeader>() + shard as usize * core::mem::size_of::<ShardControl>();
        // SAFETY: 1. `Region::new` checked `mem.len() >= total_size()`, which
        // includes every control block of `shard < shard_count` at `off`;
        // 2. `off` is a multiple of LINE and the base is LINE-aligned, so the
        // pointer is aligned for `ShardControl`; 3. `ShardControl` holds only
        // atomics, valid for any bit pattern and any concurrent writer;
        // 4. the memory outlives `self`.
        Some(unsafe { &*self.mem.ptr_at(off).cast::<ShardControl>() })
    }

    /// Copies `bytes` to offset `at` of `shard`'s data. Out-of-range writes
    /// are ignored (callers never make them).
    ///
    /// # Safety
    /// `[at, at + bytes.len())` is inside the caller's reservation: the
    /// consumer has released it and the producer has not yet published it.
    #[inline]
    pub(crate) unsafe fn write_data(&self, shard: u32, at: usize, bytes: &[u8]) {
        let Some(off) = self.data_range(shard, at, bytes.len()) else {
            return;
        };
        let dst = self.data_off + off;
        // SAFETY: 1. `data_range` and `Region::new` put `[dst, dst + len)`
        // inside the region, which is valid for writes (contract of
        // `SharedMemory::new`); 2. `bytes` is a separate Rust allocation, so
        // the ranges do not overlap; 3. by this function's contract no one in
        // this address space reads or writes those bytes concurrently.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), self.mem.ptr_at(dst), bytes.len()) }
    }

    /// A writer for the reserved range `[at, at + len)` of `shard`'s data,
    /// bounds-checked once here; `None` if the range is outside the shard.
    ///
    /// # Safety
    /// The range is the caller's reservation, as for [`Region::write_data`],
    /// for as long as the writer lives.
    #[inline]
    pub(crate) unsafe fn writer(&self, shard: u32, at: usize, len: usize) -> Option<DataWriter<'_>> {
        let off = self.data_range(shard, at, len)?;
        let ptr = self.mem.ptr_at(self.data_off + off);
        Some(DataWriter { ptr, len, _region: core::marker::PhantomData })
    }

    /// Calls `f` with bytes `[at, at + len)` of `shard`'s data; `None` if the
    /// range is outside the shard.
    ///
    /// # Safety
    /// The range is published (an Acquire load of `published` covered it) and
    /// not yet released by the consumer, so the producer does not write it
    /// while `f` runs.
    #[inline]
    pub(crate) unsafe fn read_data<R>(
        &self,
        shard: u32,
        at: usize,
        len: usize,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Option<R> {
        let off = self.data_range(shard, at, len)?;
        let src = self.data_off + off;
        // SAFETY: 1. `[src, src + len)` is inside the region (as in
        // `write_data`), valid for reads; 2. by this function's contract the
        // producer does not write it until the consumer releases it, which
        // happens after `f` returns; the slice does not escape `f`.
        let bytes = unsafe { core::slice::from_raw_parts(self.mem.ptr_at(src), len) };
        Some(f(bytes))
    }
}

/// Writes into one reserved record (see [`Region::writer`]).
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct DataWriter<'r> {
    ptr: *mut u8,
    len: usize,
    _region: core::marker::PhantomData<&'r Region>,
}

#[cfg(not(loom))]
impl DataWriter<'_> {
    /// Copies `bytes` to offset `at` of the reservation; ignores anything
    /// that would not fit (callers never ask for that).
    #[inline]
    pub(crate) fn put(&mut self, at: usize, bytes: &[u8]) {
        if at.checked_add(bytes.len()).is_some_and(|end| end <= self.len) {
            // SAFETY: 1. `[ptr, ptr + len)` is inside the region (checked by
            // `Region::writer`) and `at + bytes.len() <= len` (checked above);
            // 2. it is the producer's unpublished reservation (contract of
            // `Region::writer`), so no one else reads or writes it now;
            // 3. `bytes` is a separate Rust allocation, no overlap.
            unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), self.ptr.wrapping_add(at), bytes.len()) }
        }
    }
}

#[cfg(loom)]
impl Region {
    pub(crate) fn control(&self, shard: u32) -> Option<&ShardControl> {
        if shard >= self.layout.shard_count() {
            return None;
        }
        self.mem.inner.controls.get(shard as usize)
    }

    pub(crate) unsafe fn writer(&self, shard: u32, at: usize, len: usize) -> Option<DataWriter<'_>> {
        self.data_range(shard, at, len)?;
        Some(DataWriter { region: self, shard, base: at, len })
    }

    /// Word-granular model of a byte copy: every 8-byte word touched is one
    /// tracked access, so loom reports a write the consumer may observe.
    pub(crate) unsafe fn write_data(&self, shard: u32, at: usize, bytes: &[u8]) {
        let Some(off) = self.data_range(shard, at, bytes.len()) else { return };
        let mut i = 0;
        while i < bytes.len() {
            let pos = off + i;
            let (word, lane) = (pos / 8, pos % 8);
            let n = (8 - lane).min(bytes.len() - i);
            let Some(cell) = self.mem.inner.words.get(word) else { return };
            cell.with_mut(|w| {
                // SAFETY: loom checks that this access does not race.
                let mut v = unsafe { *w }.to_le_bytes();
                v[lane..lane + n].copy_from_slice(&bytes[i..i + n]);
                // SAFETY: as above.
                unsafe { *w = u64::from_le_bytes(v) };
            });
            i += n;
        }
    }

    pub(crate) unsafe fn read_data<R>(
        &self,
        shard: u32,
        at: usize,
        len: usize,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Option<R> {
        let off = self.data_range(shard, at, len)?;
        let mut copy = std::vec::Vec::with_capacity(len + 16);
        let first = off / 8;
        let last = (off + len).div_ceil(8);
        for word in first..last {
            let cell = self.mem.inner.words.get(word)?;
            // SAFETY: loom checks that this access does not race.
            copy.extend_from_slice(&cell.with(|w| unsafe { *w }).to_le_bytes());
        }
        let skip = off - first * 8;
        Some(f(&copy[skip..skip + len]))
    }
}

/// Writes into one reserved record (loom model: word cells).
#[cfg(loom)]
#[derive(Debug)]
pub(crate) struct DataWriter<'r> {
    region: &'r Region,
    shard: u32,
    base: usize,
    len: usize,
}

#[cfg(loom)]
impl DataWriter<'_> {
    pub(crate) fn put(&mut self, at: usize, bytes: &[u8]) {
        if at.checked_add(bytes.len()).is_some_and(|end| end <= self.len) {
            // SAFETY: the reservation is the producer's (loom checks it).
            unsafe { self.region.write_data(self.shard, self.base + at, bytes) }
        }
    }
}
