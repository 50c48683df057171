//! # vigil-protocol
//!
//! The one contract between the Vigil minifilter (`vigil.sys`) and the
//! user-mode analyzer (`vigil`). Both compile from this crate; nothing here
//! is written twice.
//!
//! - [`schema`]: event record layouts (`#[repr(C)]`, fixed-width, explicit
//!   padding, compile-time layout assertions).
//! - [`encode`]: the record builders the driver (and the Linux stand-in
//!   producer) use; no allocation, no panics.
//! - [`decode`]: zero-copy typed views over untrusted bytes.
//! - [`ring`]: the shared-memory ring (per-CPU shards of SPSC byte rings).
//! - [`config`]: the kernel configuration struct and its validation.
//! - [`control`]: device and port names, IOCTL codes, control messages.
//!
//! `#![no_std]` with no allocator needed; the `alloc` and `std` features add
//! user-mode conveniences (heap-backed regions, `Vec` encoding, `Error`
//! impls). Under `--cfg loom` the ring's atomics come from loom.
#![cfg_attr(not(any(test, loom)), no_std)]
#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::unreachable)
)]
#![deny(missing_docs)]

#[cfg(any(feature = "alloc", test))]
extern crate alloc;

pub mod config;
pub mod control;
pub mod decode;
pub mod encode;
mod pod;
pub mod ring;
pub mod schema;
mod sync;

pub use pod::{Pod, bytes_of, read as read_pod, utf16_bytes};

/// Version of the ring and control protocol: `major << 16 | minor`. A
/// different major version is incompatible; minor versions only add.
///
/// 2: the consumer's wait flag moved from bit 0 of each shard's `published`
/// to its own header line (the header grew from 128 to 256 bytes), and
/// `published` is written with a plain store.
pub const PROTOCOL_VERSION: u32 = 2 << 16;
