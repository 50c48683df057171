//! The boot-loop guard's registry side (the decisions are in `logic::boot_guard`).

use super::state::DRIVER;
use crate::ffi::log::klog;
use crate::ffi::registry::{RegKey, RegistryPath};
use crate::logic::boot_guard::{self, LoadDecision};
use vigil_protocol::control::UNCLEAN_STARTS_VALUE;

/// Reads the counter, decides the mode and writes the new count (flushed to disk before
/// capture starts). Keeps the key open for the resets. PASSIVE_LEVEL (DriverEntry).
pub(crate) fn at_load(registry: &RegistryPath<'_>) -> LoadDecision {
    let key = match RegKey::open_parameters(registry) {
        Ok(k) => k,
        Err(status) => {
            // Without the key the guard cannot count; capture anyway (never passive on a
            // missing value) and say so.
            klog!(ERROR, "vigil: Parameters key unavailable (%08x): boot-loop guard off\n", status);
            return boot_guard::at_load(None);
        }
    };
    let decision = boot_guard::at_load(key.read_dword(UNCLEAN_STARTS_VALUE));
    if let Some(n) = decision.store
        && let Err(status) = key.write_dword(UNCLEAN_STARTS_VALUE, n)
    {
        klog!(ERROR, "vigil: cannot record the start (%08x)\n", status);
    }
    if decision.mode == vigil_protocol::control::DriverMode::Passive {
        klog!(ERROR, "vigil: %u unclean starts: loading passive (no capture)\n", decision.unclean_starts);
    }
    let _ = DRIVER.control.lock(move |c| c.params = Some(key));
    decision
}

/// Resets the counter (clean unload, healthy uptime). PASSIVE_LEVEL; takes the control
/// mutex, so never call it with the mutex held.
pub(crate) fn reset() {
    let written =
        DRIVER.control.lock(|c| c.params.as_ref().map(|k| k.write_dword(UNCLEAN_STARTS_VALUE, boot_guard::CLEAN)));
    if let Some(Some(Err(status))) = written {
        klog!(ERROR, "vigil: cannot reset the unclean-start counter (%08x)\n", status);
    }
}

/// Closes the key (unload).
pub(crate) fn close() {
    let _ = DRIVER.control.lock(|c| c.params = None);
}
