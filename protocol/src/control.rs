//! Control plane: names, IOCTL codes and the fixed-size messages that cross
//! between the analyzer and the driver outside the ring.
//!
//! Rust has no structured exception handling, so driver code must never
//! touch a raw user-mode pointer. Every user-to-kernel message therefore
//! travels in a `METHOD_BUFFERED` IOCTL on the control device (the I/O
//! manager probes and copies it into a system buffer), and the ring buffer is
//! lent with a `METHOD_OUT_DIRECT` IOCTL (the I/O manager probes and locks
//! it, the driver maps the MDL). FltMgr's `MessageNotifyCallback` receives
//! raw user buffers, so the communication port carries no requests: it
//! admits one admin client (its security descriptor comes from
//! `FltBuildDefaultSecurityDescriptor`), ties the session to that client's
//! lifetime, and carries kernel-to-user [`Notification`]s, which FltMgr
//! copies into the client's buffer itself.

use crate::pod::wire_struct;
use crate::ring::{MAX_SHARDS, ShardCounters};

/// ASCII string literal as a NUL-terminated UTF-16 array, at compile time.
macro_rules! utf16z {
    ($s:literal) => {{
        const S: &[u8] = $s.as_bytes();
        const N: usize = S.len() + 1;
        #[allow(
            clippy::indexing_slicing,
            clippy::panic,
            reason = "evaluated at compile time: a bad index or non-ASCII input is a build error, not a runtime panic"
        )]
        const A: [u16; N] = {
            let mut a = [0u16; N];
            let mut i = 0;
            while i < S.len() {
                assert!(S[i] < 0x80, "ASCII only");
                a[i] = S[i] as u16;
                i += 1;
            }
            a
        };
        &A
    }};
}

/// NT name of the control device, NUL-terminated UTF-16.
pub const DEVICE_NAME: &[u16] = utf16z!("\\Device\\VigilControl");
/// Symbolic link the driver creates for it, NUL-terminated UTF-16.
pub const DOS_DEVICE_NAME: &[u16] = utf16z!("\\DosDevices\\VigilControl");
/// Path user mode opens (`CreateFileW`).
pub const USER_DEVICE_PATH: &str = r"\\.\VigilControl";
/// Name of the FltMgr communication port, NUL-terminated UTF-16.
pub const PORT_NAME: &[u16] = utf16z!("\\VigilPort");
/// The same name for `FilterConnectCommunicationPort`.
pub const USER_PORT_NAME: &str = r"\VigilPort";
/// Registry value (REG_DWORD, under the service's `Parameters` key) where the
/// boot-loop guard counts unclean starts.
pub const UNCLEAN_STARTS_VALUE: &[u16] = utf16z!("UncleanStarts");
/// After this many consecutive unclean starts the driver loads passive.
pub const UNCLEAN_START_LIMIT: u32 = 3;
/// Seconds of healthy uptime after which the guard counter is reset.
pub const HEALTHY_UPTIME_SECS: u32 = 300;

/// Device type of the control device (the customer range starts at 0x8000).
pub const DEVICE_TYPE: u32 = 0x8A11;

const METHOD_BUFFERED: u32 = 0;
const METHOD_OUT_DIRECT: u32 = 2;
const FILE_READ_WRITE_ACCESS: u32 = 0x0001 | 0x0002;

/// `CTL_CODE` from `devioctl.h`.
pub const fn ctl_code(device_type: u32, function: u32, method: u32, access: u32) -> u32 {
    (device_type << 16) | (access << 14) | (function << 2) | method
}

/// Handshake: in [`Hello`], out [`HelloReply`]. Must succeed before any other
/// IOCTL on the handle.
pub const IOCTL_HELLO: u32 = ctl_code(DEVICE_TYPE, 0x800, METHOD_BUFFERED, FILE_READ_WRITE_ACCESS);
/// Lend the ring: in [`AttachRequest`] (system buffer), out the ring memory
/// (MDL). Stays pending while the ring is attached; cancelling it (or
/// closing the handle) detaches.
pub const IOCTL_ATTACH_RING: u32 = ctl_code(DEVICE_TYPE, 0x801, METHOD_OUT_DIRECT, FILE_READ_WRITE_ACCESS);
/// Set configuration: in [`crate::config::DriverConfig`], out [`ConfigReply`].
pub const IOCTL_SET_CONFIG: u32 = ctl_code(DEVICE_TYPE, 0x802, METHOD_BUFFERED, FILE_READ_WRITE_ACCESS);
/// Read statistics: out [`DriverStats`].
pub const IOCTL_GET_STATS: u32 = ctl_code(DEVICE_TYPE, 0x803, METHOD_BUFFERED, FILE_READ_WRITE_ACCESS);
/// Detach the ring cleanly (the pending attach IOCTL completes).
pub const IOCTL_DETACH_RING: u32 = ctl_code(DEVICE_TYPE, 0x804, METHOD_BUFFERED, FILE_READ_WRITE_ACCESS);

/// "VGHL"
pub const HELLO_MAGIC: u32 = u32::from_le_bytes(*b"VGHL");
/// "VGAT"
pub const ATTACH_MAGIC: u32 = u32::from_le_bytes(*b"VGAT");
/// "VGST"
pub const STATS_MAGIC: u32 = u32::from_le_bytes(*b"VGST");
/// "VGNT"
pub const NOTIFY_MAGIC: u32 = u32::from_le_bytes(*b"VGNT");

wire_struct! {
    /// Client to driver: who is asking.
    pub struct Hello {
        /// [`HELLO_MAGIC`].
        pub magic: u32,
        /// [`crate::PROTOCOL_VERSION`] of the client.
        pub protocol_version: u32,
        /// [`crate::schema::SCHEMA_VERSION`] of the client.
        pub schema_version: u32,
        /// Must be 0.
        pub flags: u32,
    }
    size = 16;
}

impl Hello {
    /// The hello this build sends.
    pub const CURRENT: Self = Self {
        magic: HELLO_MAGIC,
        protocol_version: crate::PROTOCOL_VERSION,
        schema_version: crate::schema::SCHEMA_VERSION,
        flags: 0,
    };

    /// Whether a driver of this build accepts this hello: same magic, same
    /// protocol major version, same schema version, no flags.
    pub fn is_compatible(&self) -> bool {
        self.magic == HELLO_MAGIC
            && self.protocol_version >> 16 == crate::PROTOCOL_VERSION >> 16
            && self.schema_version == crate::schema::SCHEMA_VERSION
            && self.flags == 0
    }
}

wire_struct! {
    /// Driver to client: what it speaks and what state it is in.
    pub struct HelloReply {
        /// [`HELLO_MAGIC`].
        pub magic: u32,
        /// [`crate::PROTOCOL_VERSION`] of the driver.
        pub protocol_version: u32,
        /// [`crate::schema::SCHEMA_VERSION`] of the driver.
        pub schema_version: u32,
        /// [`DriverMode`] as `u32`.
        pub mode: u32,
        /// Driver build version, `major << 16 | minor << 8 | patch`.
        pub driver_version: u32,
        /// Number of active processors the driver sees.
        pub cpu_count: u32,
    }
    size = 24;
}

wire_struct! {
    /// Client to driver: lend this buffer as the ring.
    pub struct AttachRequest {
        /// [`ATTACH_MAGIC`].
        pub magic: u32,
        /// Shards wanted; 0 means one per active CPU. Capped at
        /// [`MAX_SHARDS`] and at what the buffer holds.
        pub shard_count: u32,
        /// Handle (in the caller's handle table) of an event the driver
        /// signals for wakeups; referenced with `EVENT_MODIFY_STATE` access
        /// from user mode, so a bad handle fails the attach.
        pub event_handle: u64,
    }
    size = 16;
}

wire_struct! {
    /// Driver to client: the outcome of a configuration change.
    pub struct ConfigReply {
        /// 0 if applied, else [`crate::config::ConfigError::code`].
        pub error_code: u32,
        /// Generation in force after the call.
        pub generation: u32,
    }
    size = 8;
}

/// What the driver is doing.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriverMode {
    /// Capturing (records are dropped and counted while no ring is attached).
    Active = 1,
    /// Loaded but not capturing: the boot-loop guard tripped after
    /// [`UNCLEAN_START_LIMIT`] unclean starts.
    Passive = 2,
}

impl DriverMode {
    /// The mode with this wire value.
    pub const fn from_u32(v: u32) -> Option<Self> {
        match v {
            1 => Some(DriverMode::Active),
            2 => Some(DriverMode::Passive),
            _ => None,
        }
    }
}

wire_struct! {
    /// Driver statistics (IOCTL_GET_STATS).
    pub struct DriverStats {
        /// [`STATS_MAGIC`].
        pub magic: u32,
        /// `size_of::<DriverStats>()`.
        pub size: u32,
        /// [`DriverMode`] as `u32`.
        pub mode: u32,
        /// Consecutive unclean starts counted at load.
        pub unclean_starts: u32,
        /// Generation of the configuration in force.
        pub config_generation: u32,
        /// 1 if a ring is attached.
        pub attached: u32,
        /// Shards of the attached ring (0 if none).
        pub shard_count: u32,
        /// Pid of the connected client (0 if none).
        pub client_pid: u32,
        /// Seconds since the driver loaded.
        pub uptime_secs: u64,
        /// Callbacks that found their event excluded (analyzer's own I/O,
        /// paging I/O, configuration).
        pub excluded: u64,
        /// Sum of `shards`.
        pub total: ShardCounters,
        /// Per-shard producer counters (slot i is CPU i modulo the shard count).
        pub shards: [ShardCounters; MAX_SHARDS],
    }
    size = 48 + 64 + 64 * MAX_SHARDS;
}

wire_struct! {
    /// Driver to client over the communication port.
    pub struct Notification {
        /// [`NOTIFY_MAGIC`].
        pub magic: u32,
        /// [`Notification::RING_DETACHED`] or another kind.
        pub kind: u32,
        /// Kind-specific.
        pub arg0: u64,
        /// Kind-specific.
        pub arg1: u64,
    }
    size = 24;
}

impl Notification {
    /// The ring was detached (arg0: NTSTATUS the attach IOCTL completed with).
    pub const RING_DETACHED: u32 = 1;
    /// A configuration was applied (arg0: generation).
    pub const CONFIG_APPLIED: u32 = 2;
    /// The driver is about to unload.
    pub const UNLOADING: u32 = 3;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_codes_match_ctl_code() {
        // CTL_CODE(0x8A11, 0x800, METHOD_BUFFERED, FILE_READ_DATA | FILE_WRITE_DATA)
        assert_eq!(IOCTL_HELLO, 0x8A11_E000);
        assert_eq!(IOCTL_ATTACH_RING, 0x8A11_E006);
        assert_eq!(IOCTL_ATTACH_RING & 3, METHOD_OUT_DIRECT);
    }

    #[test]
    fn names_are_nul_terminated_utf16() {
        assert_eq!(DEVICE_NAME.last(), Some(&0));
        let s: alloc::string::String =
            char::decode_utf16(PORT_NAME.iter().copied().take_while(|&u| u != 0)).map(|c| c.unwrap()).collect();
        assert_eq!(s, USER_PORT_NAME);
    }

    #[test]
    fn hello_compatibility() {
        assert!(Hello::CURRENT.is_compatible());
        let mut h = Hello::CURRENT;
        h.protocol_version += 1 << 16;
        assert!(!h.is_compatible());
        h = Hello::CURRENT;
        h.schema_version += 1;
        assert!(!h.is_compatible());
    }
}
