//! The driver as a ring provider: one session (port, device, handshake,
//! configuration, loan) per attachment.

use super::buffer::RingBuffer;
use super::device::{ControlDevice, PendingAttach};
use super::handle::Event;
use super::port::DriverPort;
use crate::enrich::VolumeTable;
use crate::live::HostInfo;
use crate::live::source::{Attachment, RingLink, RingProvider, SourceError};
use std::time::Duration;
use vigil_protocol::config::DriverConfig;
use vigil_protocol::control::{
    ATTACH_MAGIC, AttachRequest, ConfigReply, DriverMode, DriverStats, HELLO_MAGIC, Hello, HelloReply, IOCTL_GET_STATS,
    IOCTL_HELLO, IOCTL_SET_CONFIG, Notification, STATS_MAGIC,
};
use vigil_protocol::ring::{Consumer, MAX_SHARDS, RingLayout};
use vigil_protocol::{bytes_of, read_pod};
use windows_sys::Win32::Foundation::WAIT_FAILED;
use windows_sys::Win32::System::Threading::WaitForMultipleObjects;

/// How to lend the ring.
#[derive(Clone, Copy, Debug)]
pub struct RingOptions {
    /// Bytes per shard (a power of two); one shard per CPU the driver reports.
    pub shard_size: u32,
    /// Heartbeat period asked of the driver, in milliseconds (0: none).
    pub heartbeat_ms: u32,
}

impl Default for RingOptions {
    /// 1 MiB per CPU, a heartbeat every 10 s (the driver's default).
    fn default() -> Self {
        Self { shard_size: 1 << 20, heartbeat_ms: 10_000 }
    }
}

/// Attaches to vigil.sys.
#[derive(Debug)]
pub struct DriverProvider {
    opts: RingOptions,
}

impl DriverProvider {
    /// A provider lending rings as `opts` says.
    pub fn new(opts: RingOptions) -> Self {
        Self { opts }
    }
}

fn os(what: &str) -> impl FnOnce(std::io::Error) -> SourceError + '_ {
    move |e| SourceError::os(what, e)
}

/// IOCTL_HELLO: the version check. Required before any other request.
fn hello(device: &ControlDevice) -> Result<HelloReply, SourceError> {
    let mut out = [0u8; size_of::<HelloReply>()];
    let n = device.call(IOCTL_HELLO, bytes_of(&Hello::CURRENT), &mut out).map_err(|e| {
        SourceError::Refused(format!(
            "IOCTL_HELLO refused ({e}): this analyzer speaks protocol {:#x} / schema {}",
            vigil_protocol::PROTOCOL_VERSION,
            vigil_protocol::schema::SCHEMA_VERSION
        ))
    })?;
    let reply: HelloReply =
        out.get(..n).and_then(read_pod).ok_or_else(|| SourceError::Refused("IOCTL_HELLO: short reply".into()))?;
    let theirs = Hello {
        magic: reply.magic,
        protocol_version: reply.protocol_version,
        schema_version: reply.schema_version,
        flags: 0,
    };
    if reply.magic != HELLO_MAGIC || !theirs.is_compatible() {
        return Err(SourceError::Refused(format!(
            "driver speaks protocol {:#x} / schema {}, this analyzer {:#x} / {}",
            reply.protocol_version,
            reply.schema_version,
            vigil_protocol::PROTOCOL_VERSION,
            vigil_protocol::schema::SCHEMA_VERSION
        )));
    }
    Ok(reply)
}

/// IOCTL_GET_STATS.
fn stats(device: &ControlDevice) -> Result<DriverStats, SourceError> {
    let mut out = vec![0u8; size_of::<DriverStats>()];
    let n = device.call(IOCTL_GET_STATS, &[], &mut out).map_err(os("IOCTL_GET_STATS"))?;
    let s: DriverStats =
        out.get(..n).and_then(read_pod).ok_or_else(|| SourceError::Refused("IOCTL_GET_STATS: short reply".into()))?;
    if s.magic != STATS_MAGIC || s.size as usize != size_of::<DriverStats>() {
        return Err(SourceError::Refused("IOCTL_GET_STATS: not a DriverStats".into()));
    }
    Ok(s)
}

/// IOCTL_SET_CONFIG: the driver's defaults, this process excluded, a new
/// generation. Validated here first with the driver's own function.
fn push_config(device: &ControlDevice, current_generation: u32, heartbeat_ms: u32) -> Result<u32, SourceError> {
    let mut c = DriverConfig::default_config();
    c.generation = current_generation.wrapping_add(1).max(1);
    c.heartbeat_ms = heartbeat_ms;
    c.excluded_pid_count = 1;
    c.excluded_pids[0] = std::process::id();
    c.validate().map_err(|e| SourceError::Refused(format!("configuration: {e}")))?;
    let mut out = [0u8; size_of::<ConfigReply>()];
    let n = device.call(IOCTL_SET_CONFIG, bytes_of(&c), &mut out).map_err(os("IOCTL_SET_CONFIG"))?;
    let reply: ConfigReply =
        out.get(..n).and_then(read_pod).ok_or_else(|| SourceError::Refused("IOCTL_SET_CONFIG: short reply".into()))?;
    if reply.error_code != 0 {
        return Err(SourceError::Refused(format!(
            "the driver refused the configuration: error code {} (vigil_protocol::config::ConfigError::code), generation {} still in force",
            reply.error_code, reply.generation
        )));
    }
    Ok(reply.generation)
}

/// A session: port, device, handshake.
fn session() -> Result<(DriverPort, ControlDevice, HelloReply), SourceError> {
    let port = DriverPort::connect()?;
    let device = ControlDevice::open().map_err(os(vigil_protocol::control::USER_DEVICE_PATH))?;
    let reply = hello(&device)?;
    Ok((port, device, reply))
}

/// The driver's statistics (`vigil stats`): a short session of its own, so
/// it fails while another client (`vigil run`, the service) is connected.
pub fn query_stats() -> Result<DriverStats, SourceError> {
    let (_port, device, _) = session()?;
    stats(&device)
}

impl RingProvider for DriverProvider {
    fn describe(&self) -> String {
        "driver".into()
    }

    fn attach(&mut self) -> Result<Attachment, SourceError> {
        let (port, device, hello) = session()?;
        let current = stats(&device)?;
        if hello.mode != DriverMode::Active as u32 {
            return Err(SourceError::Refused(format!(
                "vigil.sys is passive: its boot-loop guard counted {} unclean starts and it captures nothing until a clean unload",
                current.unclean_starts
            )));
        }
        push_config(&device, current.config_generation, self.opts.heartbeat_ms)?;
        let shards = hello.cpu_count.clamp(1, MAX_SHARDS as u32);
        let layout = RingLayout::new(shards, self.opts.shard_size)
            .map_err(|source| SourceError::Ring { what: "ring layout".into(), source })?;
        let buffer = RingBuffer::new(layout.total_size()).map_err(os("VirtualAlloc"))?;
        let wakeup = Event::new(false).map_err(os("CreateEvent"))?;
        let request =
            AttachRequest { magic: ATTACH_MAGIC, shard_count: shards, event_handle: wakeup.handle() as usize as u64 };
        let attach = device.lend(&request, &buffer).map_err(os("IOCTL_ATTACH_RING"))?;
        // From here on the link owns the loan: if anything below fails,
        // dropping it ends the loan before the buffer is freed.
        let link = DriverLink { device, port, wakeup, attach, ended: None, buffer };
        let consumer = Consumer::attach(
            link.buffer.shared_memory().map_err(|source| SourceError::Ring { what: "ring buffer".into(), source })?,
        )
        .map_err(|source| SourceError::Ring { what: "ring header written by the driver".into(), source })?;
        Ok(Attachment { consumer, link: Box::new(link) })
    }

    fn host(&mut self) -> HostInfo {
        HostInfo {
            name: std::env::var("COMPUTERNAME").unwrap_or_default(),
            volumes: VolumeTable::from_host().volumes().collect(),
            accounts: Vec::new(),
        }
    }
}

/// One loan.
struct DriverLink {
    device: ControlDevice,
    port: DriverPort,
    /// The event the driver signals; referenced by the driver while lent.
    wakeup: Event,
    attach: PendingAttach,
    ended: Option<String>,
    /// Last: freed after `Drop` has ended the loan.
    buffer: RingBuffer,
}

impl DriverLink {
    fn note_notifications(&mut self) {
        match self.port.take() {
            Ok(Some(n)) if n.kind == Notification::UNLOADING => {
                self.ended.get_or_insert_with(|| "vigil.sys is unloading".into());
            }
            Ok(Some(n)) if n.kind == Notification::RING_DETACHED => {
                self.ended
                    .get_or_insert_with(|| format!("the driver detached the ring (status {:#010x})", n.arg0 as u32));
            }
            Ok(_) => {}
            Err(e) => {
                self.ended.get_or_insert_with(|| format!("the driver closed the port ({e})"));
            }
        }
    }
}

impl RingLink for DriverLink {
    fn wait(&mut self, timeout: Duration) {
        let handles = [self.wakeup.handle(), self.attach.completion_event().handle(), self.port.event().handle()];
        let ms = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX - 1);
        // SAFETY: 1. the three handles are open events owned by `self`, alive
        // across the call; 2. the count matches the array; wait for any.
        let r = unsafe { WaitForMultipleObjects(handles.len() as u32, handles.as_ptr(), 0, ms) };
        if r == WAIT_FAILED {
            std::thread::sleep(timeout.min(Duration::from_millis(10)));
        }
    }

    fn ended(&mut self) -> Option<String> {
        self.note_notifications();
        if self.ended.is_none() && self.attach.completed() {
            self.ended = Some("the driver completed the ring loan".into());
        }
        self.ended.clone()
    }

    fn detach(&mut self) {
        self.attach.end(&self.device);
    }

    fn driver_stats(&mut self) -> Option<DriverStats> {
        stats(&self.device).ok()
    }
}

impl Drop for DriverLink {
    fn drop(&mut self) {
        // The IRP must complete before `buffer` is freed (field drop order).
        self.attach.end(&self.device);
    }
}
