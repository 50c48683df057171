//! The boot-loop guard's decisions; the registry access is in `kernel::boot_guard`.
//!
//! A counter (REG_DWORD [`UNCLEAN_STARTS_VALUE`] under the service's `Parameters` key)
//! counts consecutive starts that were not followed by a clean unload or a healthy
//! uptime. Each active start adds one *before* capture begins, so a start that crashes
//! the machine stays counted. After [`UNCLEAN_START_LIMIT`] such starts the driver loads
//! passive: registered (so the analyzer can read statistics) but capturing nothing.
//!
//! - A clean unload writes 0, whatever the mode (an administrator unloading the driver
//!   is the way out of passive mode).
//! - [`HEALTHY_UPTIME_SECS`] of uptime in active mode writes 0.
//! - A passive start leaves the counter as it is: passive mode proves nothing about the
//!   capture path.
//!
//! [`UNCLEAN_STARTS_VALUE`]: vigil_protocol::control::UNCLEAN_STARTS_VALUE

use vigil_protocol::control::{DriverMode, HEALTHY_UPTIME_SECS, UNCLEAN_START_LIMIT};

/// What to do at load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadDecision {
    /// The mode to run in.
    pub mode: DriverMode,
    /// Consecutive unclean starts before this one (reported in statistics).
    pub unclean_starts: u32,
    /// The value to write back now, if any.
    pub store: Option<u32>,
}

/// Decides the mode from the stored counter (`None`: absent or unreadable, which counts
/// as 0: a missing value must never make the driver passive).
pub fn at_load(stored: Option<u32>) -> LoadDecision {
    let n = stored.unwrap_or(0);
    if n >= UNCLEAN_START_LIMIT {
        LoadDecision { mode: DriverMode::Passive, unclean_starts: n, store: None }
    } else {
        LoadDecision { mode: DriverMode::Active, unclean_starts: n, store: Some(n.saturating_add(1)) }
    }
}

/// The value a clean unload writes.
pub const CLEAN: u32 = 0;

/// Whether the healthy-uptime reset applies in `mode`.
pub fn resets_after_uptime(mode: DriverMode) -> bool {
    mode == DriverMode::Active
}

/// Seconds of uptime after which an active start counts as healthy.
pub const HEALTHY_AFTER_SECS: u32 = HEALTHY_UPTIME_SECS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_up_to_the_limit_then_goes_passive() {
        let mut stored = None;
        for expect_before in 0..UNCLEAN_START_LIMIT {
            let d = at_load(stored);
            assert_eq!(d.mode, DriverMode::Active);
            assert_eq!(d.unclean_starts, expect_before);
            assert_eq!(d.store, Some(expect_before + 1));
            // The machine crashes: nothing resets the counter.
            stored = d.store;
        }
        let d = at_load(stored);
        assert_eq!(d, LoadDecision { mode: DriverMode::Passive, unclean_starts: UNCLEAN_START_LIMIT, store: None });
        // Passive starts do not move the counter.
        assert_eq!(at_load(stored), d);
    }

    #[test]
    fn clean_unload_restores_active_mode() {
        assert_eq!(at_load(Some(CLEAN)).mode, DriverMode::Active);
        assert_eq!(at_load(Some(UNCLEAN_START_LIMIT - 1)).mode, DriverMode::Active);
    }

    #[test]
    fn absent_value_is_zero_and_huge_values_saturate() {
        assert_eq!(at_load(None).store, Some(1));
        assert_eq!(at_load(Some(u32::MAX)).mode, DriverMode::Passive);
    }

    #[test]
    fn only_active_mode_resets_after_uptime() {
        assert!(resets_after_uptime(DriverMode::Active));
        assert!(!resets_after_uptime(DriverMode::Passive));
    }
}
