//! Kernel configuration: a fixed-size, versioned struct that user mode sends
//! and the driver validates field by field before it changes anything.
//!
//! The driver never parses anything else from user mode. [`DriverConfig::validate`]
//! is the same function in the driver and on the host, where it is fuzzed.

use crate::pod::{read, wire_struct};
use crate::schema::{HEADER_SIZE, Kind, MAX_RECORD_SIZE};

/// `DriverConfig::magic`: "VGCF".
pub const CONFIG_MAGIC: u32 = u32::from_le_bytes(*b"VGCF");
/// Version of the [`DriverConfig`] layout.
pub const CONFIG_VERSION: u16 = 1;
/// Most processes the driver can be told to ignore.
pub const MAX_EXCLUDED_PIDS: usize = 16;

wire_struct! {
    /// What the driver captures.
    pub struct DriverConfig {
        /// [`CONFIG_MAGIC`].
        pub magic: u32,
        /// [`CONFIG_VERSION`].
        pub version: u16,
        /// `size_of::<DriverConfig>()`.
        pub size: u16,
        /// Chosen by user mode, non-zero; echoed in statistics and heartbeats
        /// so the client can tell which configuration is in force.
        pub generation: u32,
        /// Event kinds to capture: bit `1 << kind` ([`Kind::capture_bit`]).
        pub capture_mask: u32,
        /// [`DriverConfig::FLAG_CAPTURE_FAILED_CREATES`] and friends.
        pub flags: u32,
        /// Largest record to write, in `[MIN_RECORD_LIMIT, MAX_RECORD_SIZE]`,
        /// a multiple of 8 (the ring caps it further at a quarter shard).
        pub max_record_size: u32,
        /// Heartbeat period in milliseconds, 0 for none, else
        /// `[MIN_HEARTBEAT_MS, MAX_HEARTBEAT_MS]`.
        pub heartbeat_ms: u32,
        /// Number of used entries in `excluded_pids`.
        pub excluded_pid_count: u32,
        /// Processes whose I/O is not captured (the analyzer's own pid is
        /// always excluded by the driver, whatever this says).
        pub excluded_pids: [u32; MAX_EXCLUDED_PIDS],
        /// Must be zero.
        pub reserved: [u32; 8],
    }
    size = 128;
}

impl DriverConfig {
    /// Also report creates that failed (e.g. STATUS_OBJECT_NAME_NOT_FOUND);
    /// off by default because they are most of all creates.
    pub const FLAG_CAPTURE_FAILED_CREATES: u32 = 1 << 0;
    /// Also report creates that opened directories.
    pub const FLAG_CAPTURE_DIRECTORY_OPENS: u32 = 1 << 1;
    /// Every defined flag bit.
    pub const FLAGS_KNOWN: u32 = Self::FLAG_CAPTURE_FAILED_CREATES | Self::FLAG_CAPTURE_DIRECTORY_OPENS;
    /// Smallest allowed `max_record_size`.
    pub const MIN_RECORD_LIMIT: u32 = 512;
    /// Smallest non-zero heartbeat period.
    pub const MIN_HEARTBEAT_MS: u32 = 100;
    /// Largest heartbeat period (one hour).
    pub const MAX_HEARTBEAT_MS: u32 = 3_600_000;

    /// The configuration the driver starts with: everything captured,
    /// successful creates only, 16 KiB records, a heartbeat every 10 s.
    pub const fn default_config() -> Self {
        let mut c = Self::ZERO;
        c.magic = CONFIG_MAGIC;
        c.version = CONFIG_VERSION;
        c.size = core::mem::size_of::<Self>() as u16;
        c.generation = 1;
        c.capture_mask = Kind::CAPTURE_MASK_ALL;
        c.max_record_size = 16 * 1024;
        c.heartbeat_ms = 10_000;
        c
    }

    /// Reads a configuration from exactly `size_of::<DriverConfig>()` bytes
    /// and validates it.
    pub fn from_bytes(bytes: &[u8]) -> Result<ValidConfig, ConfigError> {
        if bytes.len() != core::mem::size_of::<Self>() {
            return Err(ConfigError::Length { got: bytes.len() });
        }
        let c: Self = read(bytes).ok_or(ConfigError::Length { got: bytes.len() })?;
        c.validate()
    }

    /// Checks every field; the first problem found is returned.
    pub fn validate(&self) -> Result<ValidConfig, ConfigError> {
        if self.magic != CONFIG_MAGIC {
            return Err(ConfigError::Magic { got: self.magic });
        }
        if self.version != CONFIG_VERSION {
            return Err(ConfigError::Version { got: self.version });
        }
        if self.size as usize != core::mem::size_of::<Self>() {
            return Err(ConfigError::Size { got: self.size });
        }
        if self.generation == 0 {
            return Err(ConfigError::Generation);
        }
        if self.capture_mask & !Kind::CAPTURE_MASK_ALL != 0 {
            return Err(ConfigError::CaptureMask { unknown: self.capture_mask & !Kind::CAPTURE_MASK_ALL });
        }
        if self.flags & !Self::FLAGS_KNOWN != 0 {
            return Err(ConfigError::Flags { unknown: self.flags & !Self::FLAGS_KNOWN });
        }
        let m = self.max_record_size;
        if m < Self::MIN_RECORD_LIMIT
            || m as usize > MAX_RECORD_SIZE
            || !m.is_multiple_of(8)
            || (m as usize) < HEADER_SIZE
        {
            return Err(ConfigError::MaxRecordSize { got: m });
        }
        let h = self.heartbeat_ms;
        if h != 0 && !(Self::MIN_HEARTBEAT_MS..=Self::MAX_HEARTBEAT_MS).contains(&h) {
            return Err(ConfigError::Heartbeat { got: h });
        }
        let n = self.excluded_pid_count as usize;
        if n > MAX_EXCLUDED_PIDS {
            return Err(ConfigError::ExcludedPidCount { got: self.excluded_pid_count });
        }
        for (i, &pid) in self.excluded_pids.iter().enumerate() {
            if i < n && (pid == 0 || pid % 4 != 0) {
                return Err(ConfigError::ExcludedPid { index: i as u32, pid });
            }
            if i >= n && pid != 0 {
                return Err(ConfigError::UnusedPidNotZero { index: i as u32 });
            }
        }
        if let Some(i) = self.reserved.iter().position(|&r| r != 0) {
            return Err(ConfigError::Reserved { index: i as u32 });
        }
        Ok(ValidConfig(*self))
    }
}

/// A configuration that passed [`DriverConfig::validate`]; only that function
/// makes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValidConfig(DriverConfig);

impl ValidConfig {
    /// The default configuration (which is valid: a unit test proves it).
    pub const DEFAULT: Self = Self(DriverConfig::default_config());

    /// The fields.
    pub fn get(&self) -> &DriverConfig {
        &self.0
    }

    /// Whether events of `kind` are captured.
    pub fn captures(&self, kind: Kind) -> bool {
        self.0.capture_mask & kind.capture_bit() != 0
    }

    /// Whether `pid` is excluded.
    pub fn excludes(&self, pid: u32) -> bool {
        let n = (self.0.excluded_pid_count as usize).min(MAX_EXCLUDED_PIDS);
        self.0.excluded_pids.iter().take(n).any(|&p| p == pid)
    }
}

/// Why a configuration was refused: the field and the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The buffer is not exactly one `DriverConfig`.
    Length {
        /// Bytes received.
        got: usize,
    },
    /// `magic` is wrong.
    Magic {
        /// Value received.
        got: u32,
    },
    /// `version` is not [`CONFIG_VERSION`].
    Version {
        /// Value received.
        got: u16,
    },
    /// `size` is not the struct size.
    Size {
        /// Value received.
        got: u16,
    },
    /// `generation` is zero.
    Generation,
    /// `capture_mask` names kinds that do not exist or cannot be masked.
    CaptureMask {
        /// The offending bits.
        unknown: u32,
    },
    /// `flags` has undefined bits.
    Flags {
        /// The offending bits.
        unknown: u32,
    },
    /// `max_record_size` is out of range or not a multiple of 8.
    MaxRecordSize {
        /// Value received.
        got: u32,
    },
    /// `heartbeat_ms` is out of range.
    Heartbeat {
        /// Value received.
        got: u32,
    },
    /// `excluded_pid_count` exceeds [`MAX_EXCLUDED_PIDS`].
    ExcludedPidCount {
        /// Value received.
        got: u32,
    },
    /// A used `excluded_pids` entry is 0 or not a multiple of 4 (Windows
    /// process ids are).
    ExcludedPid {
        /// Index of the entry.
        index: u32,
        /// Its value.
        pid: u32,
    },
    /// An unused `excluded_pids` entry is not zero.
    UnusedPidNotZero {
        /// Index of the entry.
        index: u32,
    },
    /// A `reserved` word is not zero.
    Reserved {
        /// Index of the word.
        index: u32,
    },
}

impl ConfigError {
    /// The field this error is about, as named in [`DriverConfig`].
    pub const fn field(&self) -> &'static str {
        match self {
            ConfigError::Length { .. } => "(length)",
            ConfigError::Magic { .. } => "magic",
            ConfigError::Version { .. } => "version",
            ConfigError::Size { .. } => "size",
            ConfigError::Generation => "generation",
            ConfigError::CaptureMask { .. } => "capture_mask",
            ConfigError::Flags { .. } => "flags",
            ConfigError::MaxRecordSize { .. } => "max_record_size",
            ConfigError::Heartbeat { .. } => "heartbeat_ms",
            ConfigError::ExcludedPidCount { .. } => "excluded_pid_count",
            ConfigError::ExcludedPid { .. } | ConfigError::UnusedPidNotZero { .. } => "excluded_pids",
            ConfigError::Reserved { .. } => "reserved",
        }
    }

    /// A stable code the driver returns in the IOCTL's output (one per
    /// field), so user mode can name the field without a second copy of this
    /// enum.
    pub const fn code(&self) -> u32 {
        match self {
            ConfigError::Length { .. } => 1,
            ConfigError::Magic { .. } => 2,
            ConfigError::Version { .. } => 3,
            ConfigError::Size { .. } => 4,
            ConfigError::Generation => 5,
            ConfigError::CaptureMask { .. } => 6,
            ConfigError::Flags { .. } => 7,
            ConfigError::MaxRecordSize { .. } => 8,
            ConfigError::Heartbeat { .. } => 9,
            ConfigError::ExcludedPidCount { .. } => 10,
            ConfigError::ExcludedPid { .. } => 11,
            ConfigError::UnusedPidNotZero { .. } => 12,
            ConfigError::Reserved { .. } => 13,
        }
    }
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ConfigError::Length { got } => {
                write!(f, "configuration is {got} bytes, expected {}", core::mem::size_of::<DriverConfig>())
            }
            ConfigError::Magic { got } => {
                write!(f, "magic: {got:#010x} is not {CONFIG_MAGIC:#010x}")
            }
            ConfigError::Version { got } => write!(f, "version: {got} is not {CONFIG_VERSION}"),
            ConfigError::Size { got } => write!(f, "size: {got} is not {}", core::mem::size_of::<DriverConfig>()),
            ConfigError::Generation => f.write_str("generation: must not be 0"),
            ConfigError::CaptureMask { unknown } => {
                write!(f, "capture_mask: unknown bits {unknown:#010x}")
            }
            ConfigError::Flags { unknown } => write!(f, "flags: unknown bits {unknown:#010x}"),
            ConfigError::MaxRecordSize { got } => write!(
                f,
                "max_record_size: {got} is not a multiple of 8 in {}..={MAX_RECORD_SIZE}",
                DriverConfig::MIN_RECORD_LIMIT
            ),
            ConfigError::Heartbeat { got } => write!(
                f,
                "heartbeat_ms: {got} is not 0 or in {}..={}",
                DriverConfig::MIN_HEARTBEAT_MS,
                DriverConfig::MAX_HEARTBEAT_MS
            ),
            ConfigError::ExcludedPidCount { got } => {
                write!(f, "excluded_pid_count: {got} exceeds {MAX_EXCLUDED_PIDS}")
            }
            ConfigError::ExcludedPid { index, pid } => {
                write!(f, "excluded_pids[{index}]: {pid} is not a valid process id")
            }
            ConfigError::UnusedPidNotZero { index } => {
                write!(f, "excluded_pids[{index}]: unused entry is not 0")
            }
            ConfigError::Reserved { index } => write!(f, "reserved[{index}]: must be 0"),
        }
    }
}

impl core::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pod::bytes_of;

    #[test]
    fn default_is_valid() {
        assert_eq!(DriverConfig::default_config().validate(), Ok(ValidConfig::DEFAULT));
        assert!(ValidConfig::DEFAULT.captures(Kind::FileCreate));
    }

    #[test]
    fn each_field_is_checked() {
        let ok = DriverConfig::default_config();
        type Case = (fn(&mut DriverConfig), &'static str);
        let cases: [Case; 12] = [
            (|c| c.magic = 0, "magic"),
            (|c| c.version = 2, "version"),
            (|c| c.size = 64, "size"),
            (|c| c.generation = 0, "generation"),
            (|c| c.capture_mask |= 1 << 4, "capture_mask"),
            (|c| c.flags = 1 << 31, "flags"),
            (|c| c.max_record_size = 513, "max_record_size"),
            (|c| c.heartbeat_ms = 5, "heartbeat_ms"),
            (|c| c.excluded_pid_count = 17, "excluded_pid_count"),
            (
                |c| {
                    c.excluded_pid_count = 1;
                    c.excluded_pids[0] = 3
                },
                "excluded_pids",
            ),
            (|c| c.excluded_pids[5] = 8, "excluded_pids"),
            (|c| c.reserved[7] = 1, "reserved"),
        ];
        for (mutate, field) in cases {
            let mut c = ok;
            mutate(&mut c);
            assert_eq!(c.validate().unwrap_err().field(), field);
        }
    }

    #[test]
    fn from_bytes_requires_exact_length() {
        let c = DriverConfig::default_config();
        let bytes = bytes_of(&c);
        assert!(DriverConfig::from_bytes(bytes).is_ok());
        assert_eq!(DriverConfig::from_bytes(&bytes[..127]), Err(ConfigError::Length { got: 127 }));
    }

    #[test]
    fn exclusions() {
        let mut c = DriverConfig::default_config();
        c.excluded_pid_count = 2;
        c.excluded_pids[0] = 4;
        c.excluded_pids[1] = 1234 * 4;
        let v = c.validate().unwrap();
        assert!(v.excludes(4) && v.excludes(4936) && !v.excludes(8));
    }
}
