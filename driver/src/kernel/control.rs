//! The control device's requests.
//!
//! Every user-to-kernel request is an IOCTL on `\\.\VigilControl` (see
//! docs/ARCHITECTURE.md, "Kernel/user boundary"). Each is accepted only from the process
//! that holds the port connection and, except IOCTL_HELLO, only after a successful
//! handshake. The request bytes are the I/O manager's system buffer; the logic that
//! checks them is `logic::ioctl`.

use super::ring;
use super::state::{Control, DRIVER};
use super::{port, timers};
use crate::ffi::event::UserEvent;
use crate::ffi::irp::Irp;
use crate::ffi::irql;
use crate::ffi::lend::LoanTerms;
use crate::ffi::log::klog;
use crate::logic::ioctl::{self, DriverInfo, Request, StatsHeader};
use crate::logic::status;
use core::sync::atomic::Ordering;
use vigil_protocol::control::{DriverMode, Notification};
use vigil_protocol::ring::ShardCounters;

/// Dispatch for IRP_MJ_CREATE, CLOSE, CLEANUP and DEVICE_CONTROL (PASSIVE_LEVEL, caller's
/// context). Completes the IRP (or queues it: attach) and returns its status.
pub(crate) fn dispatch(irp: Irp) -> i32 {
    match irp.major() {
        wdk_sys::IRP_MJ_CREATE => {
            let unloading = DRIVER.control.lock(|c| c.unloading).unwrap_or(true);
            finish(irp, if unloading { Err(wdk_sys::STATUS_DELETE_PENDING) } else { Ok(0) })
        }
        wdk_sys::IRP_MJ_CLOSE => finish(irp, Ok(0)),
        wdk_sys::IRP_MJ_CLEANUP => {
            // The handle is closing: if the ring was attached through it, detach (under the
            // control mutex, so not in the middle of an attach).
            let file = irp.file_object_id();
            let _ = DRIVER.control.lock(|c| {
                if ring::detach(status::CANCELLED, Some(file)) {
                    port::notify(c, Notification::RING_DETACHED, status::CANCELLED as u32 as u64, 0);
                }
            });
            finish(irp, Ok(0))
        }
        wdk_sys::IRP_MJ_DEVICE_CONTROL => device_control(irp),
        _ => finish(irp, Err(status::INVALID_DEVICE_REQUEST)),
    }
}

/// Completes `irp` with a success (bytes of output) or an error status.
fn finish(irp: Irp, result: Result<usize, i32>) -> i32 {
    let (s, n) = match result {
        Ok(n) => (status::SUCCESS, n),
        Err(s) => (s, 0),
    };
    irp.complete(s, n);
    s
}

fn device_control(irp: Irp) -> i32 {
    let Some(request) = Request::from_code(irp.ioctl_code()) else {
        return finish(irp, Err(status::INVALID_DEVICE_REQUEST));
    };
    if !irp.is_user_mode() {
        return finish(irp, Err(status::ACCESS_DENIED));
    }
    let caller = irp.requestor();
    // `irp` moves into the closure; if the mutex is unavailable the closure is dropped
    // and the IRP with it, which completes it (see `Irp`'s Drop).
    DRIVER
        .control
        .lock(move |c| {
            if c.unloading {
                return finish(irp, Err(wdk_sys::STATUS_DELETE_PENDING));
            }
            let authorized = if request.needs_handshake() {
                c.session.authorize(caller).map(|_| ())
            } else if c.session.is_client(caller) {
                Ok(())
            } else {
                Err(crate::logic::session::Refused::NotClient)
            };
            if let Err(refused) = authorized {
                return finish(irp, Err(refused.status()));
            }
            match request {
                Request::Hello => hello(c, irp, caller),
                Request::Attach => attach(irp),
                Request::SetConfig => set_config(c, irp),
                Request::GetStats => get_stats(irp),
                Request::Detach => {
                    if ring::detach(status::SUCCESS, None) {
                        port::notify(c, Notification::RING_DETACHED, 0, 0);
                    }
                    finish(irp, Ok(0))
                }
            }
        })
        .unwrap_or(status::INVALID_DEVICE_STATE)
}

fn hello(c: &mut Control, mut irp: Irp, caller: crate::logic::session::ProcessId) -> i32 {
    let info = DriverInfo { mode: DRIVER.mode(), cpu_count: irql::active_processors() };
    let result = ioctl::hello(irp.input(), info).and_then(|reply| {
        let n = ioctl::reply(irp.output(), &reply)?;
        c.session.complete_handshake(caller).map_err(|r| r.status())?;
        Ok(n)
    });
    finish(irp, result)
}

fn attach(irp: Irp) -> i32 {
    if DRIVER.mode() != DriverMode::Active {
        return finish(irp, Err(status::INVALID_DEVICE_STATE));
    }
    let request = match ioctl::attach_request(irp.input()) {
        Ok(r) => r,
        Err(s) => return finish(irp, Err(s)),
    };
    // In the caller's context (dispatch runs in the requesting thread), as a user-mode
    // reference: a handle the caller does not own, or not an event, fails here.
    let event = match UserEvent::from_user_handle(request.event_handle) {
        Ok(e) => e,
        Err(s) => return finish(irp, Err(s)),
    };
    let shards = ioctl::shard_count(request.shard_count, irql::active_processors());
    let max_record = DRIVER.config.with(|c| c.get().max_record_size) as usize;
    let terms = LoanTerms { event, shards, max_record, slots: &DRIVER.slots, max_bytes: ioctl::MAX_RING_BYTES };
    let result = DRIVER.ring.lend(irp, terms);
    if result == status::PENDING {
        let attached = DRIVER.ring.shard_count();
        if attached != 0 {
            DRIVER.detached_shards.store(attached, Ordering::Relaxed);
        }
        klog!(INFO, "vigil: ring attached, %u shards\n", attached);
    }
    result
}

fn set_config(c: &mut Control, mut irp: Irp) -> i32 {
    let current = DRIVER.config.with(|cfg| cfg.get().generation);
    let (outcome, reply) = ioctl::set_config(irp.input(), current);
    let written = match ioctl::reply(irp.output(), &reply) {
        Ok(n) => n,
        // Nothing is applied when the client cannot be told the outcome.
        Err(s) => return finish(irp, Err(s)),
    };
    if let Ok(valid) = outcome {
        DRIVER.config.with(|cfg| *cfg = valid);
        timers::apply_config(&valid);
        port::notify(c, Notification::CONFIG_APPLIED, u64::from(valid.get().generation), 0);
    }
    finish(irp, Ok(written))
}

fn get_stats(mut irp: Irp) -> i32 {
    let header = StatsHeader {
        mode: DRIVER.mode() as u32,
        unclean_starts: DRIVER.unclean_starts.load(Ordering::Relaxed),
        config_generation: DRIVER.config.with(|c| c.get().generation),
        shard_count: DRIVER.ring.shard_count(),
        client_pid: DRIVER.client_pid.load(Ordering::Relaxed),
        uptime_secs: DRIVER.uptime_secs(),
        excluded: DRIVER.excluded.load(Ordering::Relaxed),
    };
    let result = ioctl::write_stats(irp.output(), &header, |i| {
        DRIVER.slots.get(i).map_or(ShardCounters::ZERO, |s| irql::at_dispatch(|_| s.counters()))
    });
    finish(irp, result)
}
