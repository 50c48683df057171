//! The control requests, as functions from input bytes to replies.
//!
//! The kernel side (`kernel::control`) gets the bytes from the I/O manager's system
//! buffer (METHOD_BUFFERED: the I/O manager has copied the caller's input into kernel
//! memory) and writes the reply back there; it never sees a user pointer. Everything
//! here is checked field by field with the protocol crate's own validation, and bad input
//! gets a distinct NTSTATUS.

use super::status;
use core::mem::{offset_of, size_of};
use vigil_protocol::config::{ConfigError, DriverConfig, ValidConfig};
use vigil_protocol::control::{
    ATTACH_MAGIC, AttachRequest, ConfigReply, DriverMode, DriverStats, HELLO_MAGIC, Hello, HelloReply,
    IOCTL_ATTACH_RING, IOCTL_DETACH_RING, IOCTL_GET_STATS, IOCTL_HELLO, IOCTL_SET_CONFIG, STATS_MAGIC,
};
use vigil_protocol::ring::{MAX_SHARDS, ShardCounters};
use vigil_protocol::{Pod, bytes_of, read_pod};

/// Largest ring buffer the driver maps (system PTEs are a shared resource).
pub const MAX_RING_BYTES: usize = 256 << 20;

/// The driver's build version, `major << 16 | minor << 8 | patch`, from Cargo.toml.
pub const DRIVER_VERSION: u32 = parse_version(env!("CARGO_PKG_VERSION"));

const fn parse_version(v: &str) -> u32 {
    let mut rest = v.as_bytes();
    let (mut major, mut minor, mut patch, mut field) = (0u32, 0u32, 0u32, 0u8);
    while let [c, tail @ ..] = rest {
        rest = tail;
        let digit = c.wrapping_sub(b'0') as u32;
        match (*c, field) {
            (b'.', _) => field += 1,
            (b'0'..=b'9', 0) => major = major.wrapping_mul(10).wrapping_add(digit),
            (b'0'..=b'9', 1) => minor = minor.wrapping_mul(10).wrapping_add(digit),
            (b'0'..=b'9', 2) => patch = patch.wrapping_mul(10).wrapping_add(digit),
            _ => break,
        }
    }
    (major & 0xff) << 16 | (minor & 0xff) << 8 | (patch & 0xff)
}

/// A control request, by IOCTL code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// IOCTL_HELLO.
    Hello,
    /// IOCTL_ATTACH_RING.
    Attach,
    /// IOCTL_SET_CONFIG.
    SetConfig,
    /// IOCTL_GET_STATS.
    GetStats,
    /// IOCTL_DETACH_RING.
    Detach,
}

impl Request {
    /// The request for an IOCTL code; `None` for anything else.
    pub fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            IOCTL_HELLO => Request::Hello,
            IOCTL_ATTACH_RING => Request::Attach,
            IOCTL_SET_CONFIG => Request::SetConfig,
            IOCTL_GET_STATS => Request::GetStats,
            IOCTL_DETACH_RING => Request::Detach,
            _ => return None,
        })
    }

    /// Whether the caller must have completed the handshake.
    pub fn needs_handshake(self) -> bool {
        self != Request::Hello
    }
}

/// Reads exactly one `T` from `input`.
fn exact<T: Pod>(input: &[u8]) -> Result<T, i32> {
    if input.len() != size_of::<T>() {
        return Err(status::INVALID_BUFFER_SIZE);
    }
    read_pod(input).ok_or(status::INVALID_BUFFER_SIZE)
}

/// Writes `value` at the start of `out`; returns the bytes written.
pub fn reply<T: Pod>(out: &mut [u8], value: &T) -> Result<usize, i32> {
    let bytes = bytes_of(value);
    let dst = out.get_mut(..bytes.len()).ok_or(status::BUFFER_TOO_SMALL)?;
    dst.copy_from_slice(bytes);
    Ok(bytes.len())
}

/// What the driver reports in the handshake.
#[derive(Clone, Copy, Debug)]
pub struct DriverInfo {
    /// Current mode.
    pub mode: DriverMode,
    /// Active processors.
    pub cpu_count: u32,
}

/// IOCTL_HELLO: checks the client's versions. Success means the handshake is done.
pub fn hello(input: &[u8], info: DriverInfo) -> Result<HelloReply, i32> {
    let h: Hello = exact(input)?;
    if h.magic != HELLO_MAGIC || h.flags != 0 {
        return Err(status::INVALID_PARAMETER);
    }
    if !h.is_compatible() {
        return Err(status::REVISION_MISMATCH);
    }
    Ok(HelloReply {
        magic: HELLO_MAGIC,
        protocol_version: vigil_protocol::PROTOCOL_VERSION,
        schema_version: vigil_protocol::schema::SCHEMA_VERSION,
        mode: info.mode as u32,
        driver_version: DRIVER_VERSION,
        cpu_count: info.cpu_count,
    })
}

/// IOCTL_SET_CONFIG: validates a configuration. The reply always says what happened:
/// `error_code` 0 and the new generation if it is applied, else the field's
/// [`ConfigError::code`] and the generation still in force. (The request completes with
/// STATUS_SUCCESS either way: METHOD_BUFFERED output is not copied back for an NTSTATUS
/// error, and the client needs the code to name the field.)
pub fn set_config(input: &[u8], current_generation: u32) -> (Result<ValidConfig, ConfigError>, ConfigReply) {
    match DriverConfig::from_bytes(input) {
        Ok(valid) => {
            let generation = valid.get().generation;
            (Ok(valid), ConfigReply { error_code: 0, generation })
        }
        Err(e) => (Err(e), ConfigReply { error_code: e.code(), generation: current_generation }),
    }
}

/// IOCTL_ATTACH_RING's input, checked.
pub fn attach_request(input: &[u8]) -> Result<AttachRequest, i32> {
    let r: AttachRequest = exact(input)?;
    if r.magic != ATTACH_MAGIC || r.shard_count as usize > MAX_SHARDS || r.event_handle == 0 {
        return Err(status::INVALID_PARAMETER);
    }
    Ok(r)
}

/// Shards for a ring: the request, or one per CPU if it asks for 0; 1..=MAX_SHARDS.
pub fn shard_count(requested: u32, cpus: u32) -> u32 {
    let n = if requested == 0 { cpus } else { requested };
    n.clamp(1, MAX_SHARDS as u32)
}

/// The fixed part of [`DriverStats`] (everything but the counters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsHeader {
    /// [`DriverMode`] as `u32`.
    pub mode: u32,
    /// Consecutive unclean starts counted at load.
    pub unclean_starts: u32,
    /// Configuration generation in force.
    pub config_generation: u32,
    /// Shards of the attached ring, 0 if none.
    pub shard_count: u32,
    /// Pid of the connected client, 0 if none.
    pub client_pid: u32,
    /// Seconds since load.
    pub uptime_secs: u64,
    /// Callbacks that found their event excluded.
    pub excluded: u64,
}

fn add(a: ShardCounters, b: ShardCounters) -> ShardCounters {
    ShardCounters {
        produced: a.produced.wrapping_add(b.produced),
        bytes: a.bytes.wrapping_add(b.bytes),
        dropped_full: a.dropped_full.wrapping_add(b.dropped_full),
        dropped_oversize: a.dropped_oversize.wrapping_add(b.dropped_oversize),
        dropped_detached: a.dropped_detached.wrapping_add(b.dropped_detached),
        lost_records: a.lost_records.wrapping_add(b.lost_records),
        consumer_rejects: a.consumer_rejects.wrapping_add(b.consumer_rejects),
        wakeups: a.wakeups.wrapping_add(b.wakeups),
    }
}

/// Writes a [`DriverStats`] into `out` field by field (it is 4 KiB: no copy of it on
/// the kernel stack). `shard(i)` gives slot `i`'s counters. Returns the bytes written.
pub fn write_stats(out: &mut [u8], h: &StatsHeader, shard: impl Fn(usize) -> ShardCounters) -> Result<usize, i32> {
    let size = size_of::<DriverStats>();
    let out = out.get_mut(..size).ok_or(status::BUFFER_TOO_SMALL)?;
    let mut put = |at: usize, bytes: &[u8]| {
        if let Some(dst) = out.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    };
    put(offset_of!(DriverStats, magic), &STATS_MAGIC.to_le_bytes());
    put(offset_of!(DriverStats, size), &(size as u32).to_le_bytes());
    put(offset_of!(DriverStats, mode), &h.mode.to_le_bytes());
    put(offset_of!(DriverStats, unclean_starts), &h.unclean_starts.to_le_bytes());
    put(offset_of!(DriverStats, config_generation), &h.config_generation.to_le_bytes());
    put(offset_of!(DriverStats, attached), &u32::from(h.shard_count != 0).to_le_bytes());
    put(offset_of!(DriverStats, shard_count), &h.shard_count.to_le_bytes());
    put(offset_of!(DriverStats, client_pid), &h.client_pid.to_le_bytes());
    put(offset_of!(DriverStats, uptime_secs), &h.uptime_secs.to_le_bytes());
    put(offset_of!(DriverStats, excluded), &h.excluded.to_le_bytes());
    let mut total = ShardCounters::ZERO;
    for i in 0..MAX_SHARDS {
        let c = shard(i);
        total = add(total, c);
        put(offset_of!(DriverStats, shards) + i * size_of::<ShardCounters>(), bytes_of(&c));
    }
    put(offset_of!(DriverStats, total), bytes_of(&total));
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_protocol::control::IOCTL_HELLO;

    fn info() -> DriverInfo {
        DriverInfo { mode: DriverMode::Active, cpu_count: 8 }
    }

    #[test]
    fn version_comes_from_cargo() {
        assert_eq!(parse_version("0.1.0"), 0x00_01_00);
        assert_eq!(parse_version("1.22.3"), 0x01_16_03);
        assert_eq!(DRIVER_VERSION, parse_version(env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn codes_classify() {
        assert_eq!(Request::from_code(IOCTL_HELLO), Some(Request::Hello));
        assert_eq!(Request::from_code(IOCTL_GET_STATS), Some(Request::GetStats));
        assert_eq!(Request::from_code(IOCTL_HELLO + 4), None);
        assert!(!Request::Hello.needs_handshake());
        assert!(Request::Attach.needs_handshake());
    }

    #[test]
    fn hello_checks_size_magic_flags_and_versions() {
        let ok = Hello::CURRENT;
        let r = hello(bytes_of(&ok), info()).map(|r| (r.magic, r.mode, r.cpu_count));
        assert_eq!(r, Ok((HELLO_MAGIC, DriverMode::Active as u32, 8)));
        assert_eq!(hello(&bytes_of(&ok)[..15], info()), Err(status::INVALID_BUFFER_SIZE));
        let mut long = [0u8; 17];
        long[..16].copy_from_slice(bytes_of(&ok));
        assert_eq!(hello(&long, info()), Err(status::INVALID_BUFFER_SIZE));
        let bad_magic = Hello { magic: 0, ..ok };
        assert_eq!(hello(bytes_of(&bad_magic), info()), Err(status::INVALID_PARAMETER));
        let flags = Hello { flags: 1, ..ok };
        assert_eq!(hello(bytes_of(&flags), info()), Err(status::INVALID_PARAMETER));
        let newer = Hello { protocol_version: ok.protocol_version + (1 << 16), ..ok };
        assert_eq!(hello(bytes_of(&newer), info()), Err(status::REVISION_MISMATCH));
        let schema = Hello { schema_version: ok.schema_version + 1, ..ok };
        assert_eq!(hello(bytes_of(&schema), info()), Err(status::REVISION_MISMATCH));
    }

    #[test]
    fn set_config_reports_the_field() {
        let mut c = DriverConfig::default_config();
        c.generation = 5;
        let (r, reply) = set_config(bytes_of(&c), 1);
        assert!(r.is_ok());
        assert_eq!(reply, ConfigReply { error_code: 0, generation: 5 });

        c.heartbeat_ms = 3;
        let (r, reply) = set_config(bytes_of(&c), 1);
        let e = r.unwrap_err();
        assert_eq!(e.field(), "heartbeat_ms");
        assert_eq!(reply, ConfigReply { error_code: e.code(), generation: 1 });

        let (r, reply) = set_config(&[0u8; 12], 4);
        assert_eq!(r.unwrap_err().field(), "(length)");
        assert_eq!(reply.generation, 4);
    }

    #[test]
    fn attach_request_is_checked() {
        let ok = AttachRequest { magic: ATTACH_MAGIC, shard_count: 0, event_handle: 0x1234 };
        assert_eq!(attach_request(bytes_of(&ok)), Ok(ok));
        for bad in [
            AttachRequest { magic: 1, ..ok },
            AttachRequest { shard_count: MAX_SHARDS as u32 + 1, ..ok },
            AttachRequest { event_handle: 0, ..ok },
        ] {
            assert_eq!(attach_request(bytes_of(&bad)), Err(status::INVALID_PARAMETER), "{bad:?}");
        }
        assert_eq!(attach_request(&[0u8; 8]), Err(status::INVALID_BUFFER_SIZE));
    }

    #[test]
    fn shard_count_defaults_to_cpus_and_is_capped() {
        assert_eq!(shard_count(0, 12), 12);
        assert_eq!(shard_count(3, 12), 3);
        assert_eq!(shard_count(0, 500), MAX_SHARDS as u32);
        assert_eq!(shard_count(0, 0), 1);
    }

    #[test]
    fn reply_needs_room() {
        let r = ConfigReply { error_code: 0, generation: 2 };
        let mut small = [0u8; 7];
        assert_eq!(reply(&mut small, &r), Err(status::BUFFER_TOO_SMALL));
        let mut big = [0xffu8; 16];
        assert_eq!(reply(&mut big, &r), Ok(8));
        assert_eq!(read_pod::<ConfigReply>(&big), Some(r));
    }

    #[test]
    fn stats_round_trip_with_totals() -> Result<(), &'static str> {
        let mut out = vec![0xAAu8; size_of::<DriverStats>() + 3];
        let h = StatsHeader {
            mode: 2,
            unclean_starts: 3,
            config_generation: 9,
            shard_count: 4,
            client_pid: 1234,
            uptime_secs: 77,
            excluded: 5,
        };
        let n =
            write_stats(&mut out, &h, |i| ShardCounters { produced: i as u64, dropped_full: 1, ..ShardCounters::ZERO })
                .map_err(|_| "write_stats failed")?;
        assert_eq!(n, size_of::<DriverStats>());
        let s: DriverStats = read_pod(&out).ok_or("DriverStats does not read back")?;
        assert_eq!((s.magic, s.size as usize, s.mode, s.unclean_starts), (STATS_MAGIC, n, 2, 3));
        assert_eq!((s.config_generation, s.attached, s.shard_count, s.client_pid), (9, 1, 4, 1234));
        assert_eq!((s.uptime_secs, s.excluded), (77, 5));
        assert_eq!(s.shards[10].produced, 10);
        assert_eq!(s.total.produced, (0..MAX_SHARDS as u64).sum::<u64>());
        assert_eq!(s.total.dropped_full, MAX_SHARDS as u64);
        assert_eq!(write_stats(&mut [0u8; 100], &h, |_| ShardCounters::ZERO), Err(status::BUFFER_TOO_SMALL));
        Ok(())
    }
}
