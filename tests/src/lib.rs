//! Shared helpers for Vigil's integration tests.
//!
//! - [`pe`]: the kernel-driver image checks (`vigil.sys`) and a PE writer for their tests.
//! - [`inf`]: the lint for `inf/vigil.inf`.

pub mod inf;
pub mod pe;
