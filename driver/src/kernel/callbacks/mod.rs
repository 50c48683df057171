//! Callbacks: events into records. Each starts with [`Subject::enter`], which refuses
//! when capture is off (passive mode, unloading), holds the callback rundown for the
//! callback's duration (unload waits for it), and applies the exclusions.

pub(crate) mod file;
pub(crate) mod image;
pub(crate) mod process;

use crate::ffi::sync::RundownGuard;
use crate::kernel::state::DRIVER;
use core::sync::atomic::Ordering;
use vigil_protocol::config::ValidConfig;

/// A callback admitted to produce a record.
pub(crate) struct Subject {
    /// The process the event is about (file events: the requestor).
    pub(crate) pid: u32,
    /// The configuration in force when the callback started.
    pub(crate) config: ValidConfig,
    _in_flight: RundownGuard<'static>,
}

impl Subject {
    /// For file-system I/O of process `pid`: not the connected analyzer's own I/O, and
    /// not a process the configuration excludes.
    pub(crate) fn enter(pid: u32) -> Option<Self> {
        let s = Self::enter_any(pid)?;
        let client = DRIVER.client_pid.load(Ordering::Relaxed);
        if (client != 0 && pid == client) || s.config.excludes(pid) {
            DRIVER.excluded.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(s)
    }

    /// For process and image events (exclusions apply to I/O only).
    pub(crate) fn enter_any(pid: u32) -> Option<Self> {
        if !DRIVER.capturing.load(Ordering::Acquire) {
            return None;
        }
        let guard = DRIVER.callbacks.enter()?;
        Some(Self { pid, config: DRIVER.config(), _in_flight: guard })
    }
}
