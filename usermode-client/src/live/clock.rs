//! The record clock.
//!
//! Record timestamps are FILETIME: 100 ns ticks since 1601-01-01 UTC. The
//! driver stamps them with `KeQuerySystemTimePrecise`; user mode reads the
//! same clock with `GetSystemTimePreciseAsFileTime`, which is what
//! `std::time::SystemTime::now` calls on Windows. On Linux the stand-in
//! producer stamps `CLOCK_REALTIME` (`SystemTime::now`) converted the same
//! way: `filetime = unix_ns / 100 + 116_444_736_000_000_000`. Producer and
//! analyzer on one host therefore share a clock, and `now - timestamp` is the
//! time from commit to the moment it is read, at 100 ns resolution. (The
//! wall clock can be stepped; a negative difference is counted, not used.)

use std::time::{SystemTime, UNIX_EPOCH};

/// 1970-01-01 as FILETIME.
pub const UNIX_EPOCH_FILETIME: u64 = 116_444_736_000_000_000;

/// Nanoseconds per FILETIME tick.
pub const NANOS_PER_TICK: u64 = 100;

/// FILETIME for a time since the Unix epoch.
pub fn filetime_from_unix(since_epoch: std::time::Duration) -> u64 {
    UNIX_EPOCH_FILETIME + (since_epoch.as_nanos() / u128::from(NANOS_PER_TICK)) as u64
}

/// Now, as FILETIME.
pub fn now_filetime() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(UNIX_EPOCH_FILETIME, filetime_from_unix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn unix_epoch_and_resolution() {
        assert_eq!(filetime_from_unix(Duration::ZERO), UNIX_EPOCH_FILETIME);
        assert_eq!(filetime_from_unix(Duration::from_nanos(250)), UNIX_EPOCH_FILETIME + 2);
        // 2026-11-23 00:00:00 UTC, the synthetic workload's boot day.
        let day = Duration::from_secs(1_795_392_000);
        assert_eq!(filetime_from_unix(day), UNIX_EPOCH_FILETIME + 1_795_392_000 * 10_000_000);
        let now = now_filetime();
        assert!(now > UNIX_EPOCH_FILETIME + 1_700_000_000 * 10_000_000, "the clock reads a plausible date");
    }
}
