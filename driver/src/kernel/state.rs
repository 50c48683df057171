//! The driver's global state: one structure, [`DRIVER`], in static memory.
//!
//! There is no `static mut`. Each field is either an atomic, a lock-protected value, or a
//! kernel object wrapper from `ffi` whose methods are safe to call concurrently. Who
//! writes what:
//!
//! | field | written by | read by |
//! |---|---|---|
//! | `filter`, `device`, `port` | DriverEntry, unload | callbacks, control |
//! | `control` (session, client port, registry key) | IOCTLs, port connect/disconnect, unload (PASSIVE, guarded mutex) | same |
//! | `client_pid` | mirror of the session, for the file callbacks' exclusion check | callbacks |
//! | `mode`, `unclean_starts`, `loaded_at` | DriverEntry | everyone |
//! | `capturing` | DriverEntry (on), unload (off first) | every callback, first thing |
//! | `config` | IOCTL_SET_CONFIG (DISPATCH spin lock) | callbacks, timers |
//! | `ring` | attach/detach (`ffi::lend`) | every record write |
//! | `slots` | record writes (per-shard spin locks, in the protocol) | statistics, heartbeat |
//! | `callbacks` | every callback enters it; unload waits for it | unload |

use super::sync::DispatchLock;
use crate::ffi::device::DeviceSlot;
use crate::ffi::flt::FilterSlot;
use crate::ffi::lend::RingLease;
use crate::ffi::port::{ClientPort, ServerPort};
use crate::ffi::registry::RegKey;
use crate::ffi::sync::{PassiveMutex, Rundown};
use crate::ffi::timer::{Timer, WorkItem};
use crate::logic::session::Session;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use vigil_protocol::config::ValidConfig;
use vigil_protocol::control::DriverMode;
use vigil_protocol::ring::{MAX_SHARDS, ShardSlot};

/// State changed at PASSIVE_LEVEL under the control mutex.
pub(crate) struct Control {
    /// Who is connected, and whether the handshake is done.
    pub(crate) session: Session,
    /// The connected client's port, for notifications.
    pub(crate) client_port: Option<ClientPort>,
    /// The service's Parameters key (boot-loop guard).
    pub(crate) params: Option<RegKey>,
    /// Set first thing at unload: no new session, attach or configuration.
    pub(crate) unloading: bool,
}

/// See the module docs.
pub(crate) struct Driver {
    /// FltMgr filter handle.
    pub(crate) filter: FilterSlot,
    /// The control device.
    pub(crate) device: DeviceSlot,
    /// The communication port.
    pub(crate) port: ServerPort,
    /// Session, client port, registry key.
    pub(crate) control: PassiveMutex<Control>,
    /// Pid of the connected client (0: none): its own I/O is not captured.
    pub(crate) client_pid: AtomicU32,
    /// [`DriverMode`] as u32.
    pub(crate) mode: AtomicU32,
    /// Unclean starts counted at load.
    pub(crate) unclean_starts: AtomicU32,
    /// Interrupt time at load (100 ns).
    pub(crate) loaded_at: AtomicU64,
    /// Callbacks produce records only while this is set.
    pub(crate) capturing: AtomicBool,
    /// The configuration in force.
    pub(crate) config: DispatchLock<ValidConfig>,
    /// The ring on loan, if any.
    pub(crate) ring: RingLease,
    /// Producer state per shard; survives detach/attach so sequence numbers never repeat.
    pub(crate) slots: [ShardSlot; MAX_SHARDS],
    /// Shard count used to spread drops while no ring is attached (that of the last
    /// ring, or one per CPU), so the next attach reports them.
    pub(crate) detached_shards: AtomicU32,
    /// Events not captured because of the client's own I/O or the configuration.
    pub(crate) excluded: AtomicU64,
    /// Callbacks in flight.
    pub(crate) callbacks: Rundown,
    /// Which notify routines are registered (`NOTIFY_*` bits).
    pub(crate) notify_registered: AtomicU32,
    /// Heartbeat timer.
    pub(crate) heartbeat: Timer,
    /// Healthy-uptime timer.
    pub(crate) health: Timer,
    /// Its PASSIVE_LEVEL half.
    pub(crate) health_work: WorkItem,
}

/// `notify_registered` bit: the process notify routine.
pub(crate) const NOTIFY_PROCESS: u32 = 1 << 0;
/// `notify_registered` bit: the image notify routine.
pub(crate) const NOTIFY_IMAGE: u32 = 1 << 1;

/// The driver's state.
pub(crate) static DRIVER: Driver = Driver {
    filter: FilterSlot::new(),
    device: DeviceSlot::new(),
    port: ServerPort::new(),
    control: PassiveMutex::new(Control { session: Session::new(), client_port: None, params: None, unloading: false }),
    client_pid: AtomicU32::new(0),
    mode: AtomicU32::new(DriverMode::Passive as u32),
    unclean_starts: AtomicU32::new(0),
    loaded_at: AtomicU64::new(0),
    capturing: AtomicBool::new(false),
    config: DispatchLock::new(ValidConfig::DEFAULT),
    ring: RingLease::new(),
    slots: [const { ShardSlot::new() }; MAX_SHARDS],
    detached_shards: AtomicU32::new(1),
    excluded: AtomicU64::new(0),
    callbacks: Rundown::new(),
    notify_registered: AtomicU32::new(0),
    heartbeat: Timer::new(),
    health: Timer::new(),
    health_work: WorkItem::new(),
};

impl Driver {
    /// The mode.
    pub(crate) fn mode(&self) -> DriverMode {
        DriverMode::from_u32(self.mode.load(Ordering::Relaxed)).unwrap_or(DriverMode::Passive)
    }

    /// A copy of the configuration.
    pub(crate) fn config(&self) -> ValidConfig {
        self.config.with(|c| *c)
    }

    /// Seconds since load.
    pub(crate) fn uptime_secs(&self) -> u64 {
        crate::ffi::time::interrupt_time().saturating_sub(self.loaded_at.load(Ordering::Relaxed))
            / crate::ffi::time::TICKS_PER_SEC
    }
}
