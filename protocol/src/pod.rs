//! Plain-old-data wire structs: how fixed-layout records are declared, read
//! from untrusted bytes and written out.
//!
//! Every wire struct is `#[repr(C)]`, built only from fixed-width integers
//! (and arrays of them), and has no implicit padding: the [`wire_struct!`]
//! macro proves at compile time that the sum of the field sizes equals the
//! struct size. That makes any byte pattern a valid value, so reading one from
//! shared memory or a file with `read_unaligned` is sound.

/// Types for which every bit pattern is a valid value and which have no
/// padding bytes.
///
/// # Safety
/// Implementors must be `#[repr(C)]` (or a primitive integer / array of
/// `Pod`), contain only `Pod` fields, and have no implicit padding.
pub unsafe trait Pod: Copy + 'static {}

// SAFETY: primitive integers have no padding and every bit pattern is valid.
unsafe impl Pod for u8 {}
// SAFETY: as above.
unsafe impl Pod for u16 {}
// SAFETY: as above.
unsafe impl Pod for u32 {}
// SAFETY: as above.
unsafe impl Pod for u64 {}
// SAFETY: as above.
unsafe impl Pod for i32 {}
// SAFETY: as above.
unsafe impl Pod for i64 {}
// SAFETY: an array of `Pod` has the element's layout repeated with no padding.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}

/// Reads a `T` from the start of `bytes`; `None` if `bytes` is too short.
/// Alignment is not required.
#[inline]
pub fn read<T: Pod>(bytes: &[u8]) -> Option<T> {
    let src = bytes.get(..core::mem::size_of::<T>())?;
    // SAFETY: 1. `src` is valid for `size_of::<T>()` bytes (the `get` above);
    // 2. `read_unaligned` has no alignment requirement; 3. `T: Pod`, so any
    // bit pattern is a valid `T`.
    Some(unsafe { core::ptr::read_unaligned(src.as_ptr().cast::<T>()) })
}

/// Reads a `T` at byte offset `at` of `bytes`; `None` if out of range.
#[inline]
pub fn read_at<T: Pod>(bytes: &[u8], at: usize) -> Option<T> {
    read(bytes.get(at..)?)
}

/// The bytes of a `Pod` value.
#[inline]
pub fn bytes_of<T: Pod>(value: &T) -> &[u8] {
    // SAFETY: 1. `value` is a valid reference, so the pointer is non-null and
    // valid for `size_of::<T>()` bytes for the borrow's lifetime; 2. `T: Pod`
    // has no padding, so every byte is initialized; 3. `u8` has alignment 1.
    unsafe { core::slice::from_raw_parts((value as *const T).cast::<u8>(), core::mem::size_of::<T>()) }
}

/// The bytes of a UTF-16 slice, in the machine's (little-endian) order.
#[inline]
pub fn utf16_bytes(units: &[u16]) -> &[u8] {
    // SAFETY: 1. `units` is valid for `2 * len` bytes for its lifetime;
    // 2. `u16` has no padding; 3. `u8` has alignment 1.
    unsafe { core::slice::from_raw_parts(units.as_ptr().cast::<u8>(), units.len() * 2) }
}

/// Declares a `#[repr(C)]` wire struct and proves its layout at compile time:
/// total size, no implicit padding, alignment at most 8.
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
        size = $size:expr;
    ) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty ),*
        }
        const _: () = {
            assert!(core::mem::size_of::<$name>() == $size, "wire struct size changed");
            assert!(0 $(+ core::mem::size_of::<$ty>())* == $size, "wire struct has implicit padding");
            assert!(core::mem::align_of::<$name>() <= 8);
        };
        // SAFETY: `#[repr(C)]`, every field is `Pod`, and the assertion above
        // proves there is no implicit padding.
        unsafe impl $crate::pod::Pod for $name {}
        impl $name {
            /// All fields zero.
            pub const ZERO: Self = {
                // SAFETY: `Self: Pod`, so the all-zero bit pattern is valid.
                unsafe { core::mem::zeroed() }
            };
        }
        impl Default for $name {
            fn default() -> Self {
                Self::ZERO
            }
        }
    };
}
pub(crate) use wire_struct;
