//! The Vigil analyzer as a library: event model, sources, enrichment, the
//! Sigma engine and the content pipeline. The `vigil` binary is a thin CLI
//! over it.

pub mod event;
pub mod input;
#[cfg(target_os = "linux")]
pub mod shm;
pub mod sigma;
