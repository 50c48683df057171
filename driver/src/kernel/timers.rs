//! Heartbeat records and the healthy-uptime reset of the boot-loop guard.

use super::boot_guard;
use super::ring;
use super::state::DRIVER;
use crate::ffi::irql::AtDispatch;
use crate::ffi::log::klog;
use crate::ffi::timer::{self, Which};
use crate::logic::boot_guard::{HEALTHY_AFTER_SECS, resets_after_uptime};
use core::sync::atomic::Ordering;
use vigil_protocol::config::ValidConfig;
use vigil_protocol::encode::Record;
use vigil_protocol::schema::Heartbeat;

/// Initializes both timers (DriverEntry).
pub(crate) fn init() {
    DRIVER.heartbeat.init(Which::Heartbeat);
    DRIVER.health.init(Which::Health);
}

/// Starts them for the current mode and configuration.
pub(crate) fn start() {
    apply_config(&DRIVER.config());
    if resets_after_uptime(DRIVER.mode()) {
        DRIVER.health.set(HEALTHY_AFTER_SECS.saturating_mul(1000), 0);
    }
}

/// Re-arms the heartbeat for a new configuration (0: off).
pub(crate) fn apply_config(config: &ValidConfig) {
    match config.get().heartbeat_ms {
        0 => DRIVER.heartbeat.cancel(),
        ms => DRIVER.heartbeat.set(ms, ms),
    }
}

/// Stops both timers and waits for their DPCs and the work item. PASSIVE_LEVEL, without
/// the control mutex (the work item takes it).
pub(crate) fn stop() {
    DRIVER.heartbeat.cancel();
    DRIVER.health.cancel();
    timer::flush_dpcs();
    DRIVER.health_work.free();
}

/// Heartbeat DPC: a record with the totals, while a ring is attached.
pub(crate) fn on_heartbeat(t: &AtDispatch) {
    if !DRIVER.capturing.load(Ordering::Acquire) || DRIVER.ring.with(t, |_| ()).is_none() {
        return;
    }
    let (mut produced, mut dropped) = (0u64, 0u64);
    for slot in &DRIVER.slots {
        let c = slot.counters();
        produced = produced.wrapping_add(c.produced);
        dropped = dropped.wrapping_add(c.dropped());
    }
    let body = Heartbeat {
        produced,
        dropped,
        config_generation: DRIVER.config.with(|c| c.get().generation),
        mode: DRIVER.mode() as u32,
        unclean_starts: DRIVER.unclean_starts.load(Ordering::Relaxed),
        reserved: 0,
    };
    ring::emit(&Record::new(ring::stamp(0, 0, 0), body));
}

/// Health DPC: the uptime is healthy; reset the counter at PASSIVE_LEVEL.
pub(crate) fn on_healthy(_: &AtDispatch) {
    DRIVER.health_work.queue();
}

/// The work item (PASSIVE_LEVEL, system worker thread).
pub(crate) fn on_health_work() {
    if DRIVER.capturing.load(Ordering::Acquire) {
        boot_guard::reset();
        klog!(INFO, "vigil: healthy uptime: unclean-start counter reset\n");
    }
}
