//! # vigil-driver
//!
//! The kernel half of Vigil: a file-system minifilter (`vigil.sys`) that captures file,
//! process and image-load events, stamps them and writes them into the shared ring
//! ([`vigil_protocol::ring`]). It never parses content, never blocks I/O (no consumer or
//! a full ring means: drop and count) and takes configuration only as the protocol's
//! fixed-size [`vigil_protocol::config::DriverConfig`], validated field by field.
//!
//! ## Layout
//! - [`logic`]: the decisions (session, control requests, which operations become which
//!   records, the boot-loop guard, token buffers) as plain functions; compiled and unit
//!   tested on any host.
//! - `ffi`: every `unsafe` line of the crate. Small modules that turn kernel pointers into
//!   checked views and kernel calls into safe functions, plus the `extern "C"` shims the
//!   kernel calls. The rest of the crate is `#![deny(unsafe_code)]`.
//! - `kernel`: the driver proper (feature `kernel`): entry and unload, the single global
//!   state, the registration table, callbacks, ring attach, control device, port, boot
//!   guard, timers. Safe Rust over `ffi`.
//!
//! See docs/ARCHITECTURE.md for the kernel/user boundary and the unload sequence.
#![cfg_attr(feature = "kernel", no_std)]
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented,
        clippy::indexing_slicing,
        clippy::panic_in_result_fn,
        clippy::string_slice
    )
)]

#[cfg(all(feature = "kernel", not(feature = "panic-link-check")))]
extern crate wdk_panic;

#[allow(unsafe_code, reason = "the FFI layer: every unsafe block of the driver is in here")]
mod ffi;
#[cfg(feature = "kernel")]
mod kernel;
pub mod logic;
