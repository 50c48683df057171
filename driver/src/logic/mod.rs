//! The driver's decisions, as plain functions over plain data: no FFI, no unsafe, no
//! allocation. They compile on any host, where `cargo test --workspace` runs their unit
//! tests; the kernel modules call them with what the kernel hands the driver.

pub mod boot_guard;
pub mod file_events;
pub mod ioctl;
pub mod log_format;
pub mod records;
pub mod session;
pub mod status;
pub mod token;
