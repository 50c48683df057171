//! DriverEntry and unload.
//!
//! Bring-up order (each step undone by [`teardown`] if a later one fails): the
//! boot-loop guard first (decides the mode and records the start before anything else can
//! fail or crash); kernel objects; control device; work item; FltRegisterFilter (with no operations in passive mode); the port;
//! process and image notify routines (active mode); FltStartFiltering; capture on.
//!
//! Unload ([`filter_unload`], FltMgr's FilterUnloadCallback, PASSIVE_LEVEL) runs the same
//! [`teardown`]: capture off; no new session/attach; timers stopped and their DPCs and
//! work item waited for; notify routines removed (the kernel waits for calls in
//! progress); the port closed and the client's port closed; the ring detached (its IRP
//! completes after the last push); FltUnregisterFilter (waits for file-system callbacks
//! in flight); the callback rundown waited for; the control device deleted; the
//! unclean-start counter reset (clean unload) and the registry key closed.

use super::state::{DRIVER, NOTIFY_IMAGE, NOTIFY_PROCESS};
use super::{boot_guard, port, registration, timers};
use crate::ffi::entry::DriverObject;
use crate::ffi::irql;
use crate::ffi::log::klog;
use crate::ffi::notify;
use crate::ffi::registry::RegistryPath;
use crate::ffi::time;
use crate::logic::{ioctl, status};
use core::sync::atomic::Ordering;
use vigil_protocol::control::{DriverMode, Notification};

/// DriverEntry (PASSIVE_LEVEL).
pub(crate) fn driver_entry(driver: DriverObject, registry: &RegistryPath<'_>) -> i32 {
    match try_driver_entry(driver, registry) {
        Ok(mode) => {
            klog!(INFO, "vigil: loaded, mode %u, protocol %08x\n", mode as u32, vigil_protocol::PROTOCOL_VERSION);
            status::SUCCESS
        }
        Err(s) => {
            klog!(ERROR, "vigil: DriverEntry failed: %08x\n", s);
            teardown(false);
            s
        }
    }
}

fn try_driver_entry(driver: DriverObject, registry: &RegistryPath<'_>) -> Result<DriverMode, i32> {
    klog!(INFO, "vigil: DriverEntry\n");
    DRIVER.control.init();
    // First, before anything that could fail: count this start (the boot-loop guard).
    let decision = boot_guard::at_load(registry);
    DRIVER.mode.store(decision.mode as u32, Ordering::Relaxed);
    DRIVER.unclean_starts.store(decision.unclean_starts, Ordering::Relaxed);

    DRIVER.ring.init()?;
    timers::init();
    DRIVER.loaded_at.store(time::interrupt_time(), Ordering::Relaxed);
    DRIVER.detached_shards.store(ioctl::shard_count(0, irql::active_processors()), Ordering::Relaxed);

    DRIVER.device.create(driver)?;
    DRIVER.health_work.alloc(&DRIVER.device)?;
    DRIVER.filter.register(driver, registration::for_mode(decision.mode))?;
    DRIVER.port.create(&DRIVER.filter)?;
    if decision.mode == DriverMode::Active {
        notify::register_process()?;
        DRIVER.notify_registered.fetch_or(NOTIFY_PROCESS, Ordering::AcqRel);
        notify::register_image()?;
        DRIVER.notify_registered.fetch_or(NOTIFY_IMAGE, Ordering::AcqRel);
    }
    DRIVER.filter.start()?;
    if decision.mode == DriverMode::Active {
        DRIVER.capturing.store(true, Ordering::Release);
        timers::start();
    }
    Ok(decision.mode)
}

/// FltMgr's FilterUnloadCallback. Never refuses (a mandatory unload cannot be refused,
/// and an optional one has no reason to be).
pub(crate) fn filter_unload() -> i32 {
    klog!(INFO, "vigil: unloading\n");
    teardown(true);
    status::SUCCESS
}

/// Undoes whatever DriverEntry set up, in reverse order. `clean`: a regular unload, which
/// resets the unclean-start counter.
fn teardown(clean: bool) {
    DRIVER.capturing.store(false, Ordering::Release);
    let _ = DRIVER.control.lock(|c| {
        c.unloading = true;
        port::notify(c, Notification::UNLOADING, 0, 0);
    });
    timers::stop();
    let registered = DRIVER.notify_registered.swap(0, Ordering::AcqRel);
    if registered & NOTIFY_PROCESS != 0 {
        notify::unregister_process();
    }
    if registered & NOTIFY_IMAGE != 0 {
        notify::unregister_image();
    }
    DRIVER.port.close();
    port::end_session();
    DRIVER.filter.unregister();
    DRIVER.callbacks.wait();
    DRIVER.device.delete();
    if clean {
        boot_guard::reset();
    }
    boot_guard::close();
}
