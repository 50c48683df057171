//! Windows: the ring lent to vigil.sys from this process's memory.
//!
//! The session follows the driver's design (docs/ARCHITECTURE.md, "Kernel/user
//! boundary" and "The ring on loan"):
//! 1. connect to the FltMgr port `\VigilPort` ([`port`]): admin only, one
//!    client at a time; it binds the session to this process and carries the
//!    driver's notifications (ring detached, configuration applied,
//!    unloading), read with an overlapped `FilterGetMessage`;
//! 2. open `\\.\VigilControl` ([`device`]) and send METHOD_BUFFERED IOCTLs:
//!    HELLO (versions), SET_CONFIG (this process's pid excluded), GET_STATS;
//! 3. lend a zeroed, page-aligned `VirtualAlloc` buffer ([`buffer`]) with
//!    IOCTL_ATTACH_RING (METHOD_OUT_DIRECT), issued overlapped and left
//!    pending: the driver initializes the ring header and signals the event
//!    named in `AttachRequest` when the consumer asks to be woken;
//! 4. read it with the protocol's `Consumer` (the platform-independent
//!    [`super::RingSource`]); the loan ends when the IRP completes (detach,
//!    cancel, unload), after which the memory is ours again and is drained.
//!
//! The issue asked for requests as port messages (`FilterSendMessage`); the
//! driver deliberately takes them as IOCTLs, because a port's message
//! callback gets raw user buffers that Rust code cannot touch safely.
//!
//! Compile-checked on Linux (`cargo clippy --target x86_64-pc-windows-msvc`);
//! not yet run against the driver (docs/windows-testing.md, step 3).

mod buffer;
mod device;
mod handle;
mod port;
mod provider;

pub use provider::{DriverProvider, RingOptions, query_stats};
