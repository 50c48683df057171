//! Every `unsafe` line of the driver.
//!
//! Each module wraps one kernel facility in a safe API: raw pointers the kernel hands the
//! driver become checked views, kernel calls become functions that return `Result`, and
//! the `extern "C"` entry points the kernel calls are thin shims into `crate::kernel`.
//! Each `unsafe` block states its preconditions as a numbered list (`// SAFETY:`).
//!
//! Bindings come from two places: `wdk-sys` (bindgen over the WDK headers: ntddk.h,
//! ntifs.h, wdm.h) for the kernel, and `windows-sys` (`Wdk::Storage::FileSystem::
//! Minifilters`, generated from Microsoft's metadata) for FltMgr, which wdk-sys does not
//! cover yet. Where windows-sys gets a layout wrong ([`flt_params`]) the module says so
//! and asserts the right one.

pub(crate) mod rundown;

#[cfg(feature = "kernel")]
pub(crate) mod cell;
#[cfg(feature = "kernel")]
pub(crate) mod device;
#[cfg(feature = "kernel")]
pub(crate) mod entry;
#[cfg(feature = "kernel")]
pub(crate) mod event;
#[cfg(feature = "kernel")]
pub(crate) mod flt;
#[cfg(feature = "kernel")]
pub(crate) mod flt_data;
#[cfg(feature = "kernel")]
pub(crate) mod flt_params;
#[cfg(feature = "kernel")]
pub(crate) mod irp;
#[cfg(feature = "kernel")]
pub(crate) mod irql;
#[cfg(feature = "kernel")]
pub(crate) mod layout;
#[cfg(feature = "kernel")]
pub(crate) mod lend;
#[cfg(feature = "kernel")]
pub(crate) mod log;
#[cfg(feature = "kernel")]
pub(crate) mod notify;
#[cfg(feature = "kernel")]
pub(crate) mod panic;
#[cfg(feature = "kernel")]
pub(crate) mod pool;
#[cfg(feature = "kernel")]
pub(crate) mod port;
#[cfg(feature = "kernel")]
pub(crate) mod process;
#[cfg(feature = "kernel")]
pub(crate) mod registry;
#[cfg(feature = "kernel")]
pub(crate) mod strings;
#[cfg(feature = "kernel")]
pub(crate) mod sync;
#[cfg(feature = "kernel")]
pub(crate) mod time;
#[cfg(feature = "kernel")]
pub(crate) mod timer;
