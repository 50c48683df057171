//! The Vigil analyzer as a library: event model, sources, enrichment, the
//! Sigma engine and the content pipeline. The `vigil` binary is a thin CLI
//! over it.

pub mod capture;
pub mod content;
pub mod enrich;
pub mod event;
pub mod input;
pub mod live;
pub mod mapping;
pub mod replay;
#[cfg(target_os = "linux")]
pub mod shm;
pub mod sigma;
#[cfg(target_os = "linux")]
pub mod sim;
pub mod synth;
