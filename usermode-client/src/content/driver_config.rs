//! Kernel capture settings of a channel → the protocol's fixed-size,
//! versioned [`DriverConfig`], accepted only through
//! [`DriverConfig::validate`]: the very function the driver runs on what it
//! receives (fuzzed on the host by `protocol/fuzz` `config_validate`). The
//! analyzer never sends a configuration the driver would refuse, and the
//! driver never has to trust that it does not.

use serde::{Deserialize, Serialize};
use vigil_protocol::config::{ConfigError, DriverConfig, MAX_EXCLUDED_PIDS, ValidConfig};
use vigil_protocol::schema::Kind;

/// What a channel asks the driver to capture (`driver` in `channel.json`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriverSettings {
    /// Record kinds to capture by name (`process_start`, `file_create`, ...);
    /// empty means every kind.
    #[serde(default)]
    pub capture: Vec<String>,
    /// Processes whose I/O is not captured.
    #[serde(default)]
    pub excluded_pids: Vec<u32>,
    /// Also report failed creates.
    #[serde(default)]
    pub capture_failed_creates: bool,
    /// Also report directory opens.
    #[serde(default)]
    pub capture_directory_opens: bool,
    /// Largest record, in bytes (default 16 KiB).
    #[serde(default)]
    pub max_record_size: Option<u32>,
    /// Heartbeat period in milliseconds (default 10 s; 0 for none).
    #[serde(default)]
    pub heartbeat_ms: Option<u32>,
}

/// Why settings do not make a configuration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// A capture name that is no capturable record kind.
    #[error("capture: '{0}' is not a capturable record kind")]
    UnknownKind(String),
    /// More exclusions than the struct holds.
    #[error("excluded_pids: {0} entries, at most {MAX_EXCLUDED_PIDS}")]
    TooManyExclusions(usize),
    /// The driver's validation refused the result.
    #[error("driver validation refused {field}: {err}", field = .0.field(), err = .0)]
    Invalid(ConfigError),
}

impl DriverSettings {
    /// The configuration of generation `generation`, validated by the driver's own function.
    pub fn to_config(&self, generation: u32) -> Result<ValidConfig, SettingsError> {
        let mut c = DriverConfig::default_config();
        c.generation = generation;
        if !self.capture.is_empty() {
            c.capture_mask = 0;
            for name in &self.capture {
                let bit = Kind::ALL.iter().find(|k| k.name() == name).map_or(0, |k| k.capture_bit());
                if bit == 0 {
                    return Err(SettingsError::UnknownKind(name.clone()));
                }
                c.capture_mask |= bit;
            }
        }
        if self.excluded_pids.len() > MAX_EXCLUDED_PIDS {
            return Err(SettingsError::TooManyExclusions(self.excluded_pids.len()));
        }
        c.excluded_pid_count = self.excluded_pids.len() as u32;
        c.excluded_pids[..self.excluded_pids.len()].copy_from_slice(&self.excluded_pids);
        if self.capture_failed_creates {
            c.flags |= DriverConfig::FLAG_CAPTURE_FAILED_CREATES;
        }
        if self.capture_directory_opens {
            c.flags |= DriverConfig::FLAG_CAPTURE_DIRECTORY_OPENS;
        }
        if let Some(m) = self.max_record_size {
            c.max_record_size = m;
        }
        if let Some(h) = self.heartbeat_ms {
            c.heartbeat_ms = h;
        }
        c.validate().map_err(SettingsError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_become_what_the_driver_accepts_or_name_the_field() {
        let s = DriverSettings {
            capture: vec!["process_start".into(), "file_create".into()],
            excluded_pids: vec![4, 1200],
            ..DriverSettings::default()
        };
        let v = s.to_config(7).unwrap();
        assert!(v.captures(Kind::FileCreate) && !v.captures(Kind::FileWrite));
        assert!(v.excludes(1200));
        let bytes = vigil_protocol::bytes_of(v.get());
        assert_eq!(DriverConfig::from_bytes(bytes), Ok(v), "the driver's own parse accepts it");

        let unknown = DriverSettings { capture: vec!["heartbeat".into()], ..DriverSettings::default() };
        assert_eq!(unknown.to_config(1), Err(SettingsError::UnknownKind("heartbeat".into())));
        let odd_pid = DriverSettings { excluded_pids: vec![3], ..DriverSettings::default() };
        let Err(SettingsError::Invalid(e)) = odd_pid.to_config(1) else { panic!("accepted pid 3") };
        assert_eq!(e.field(), "excluded_pids");
        let many = DriverSettings { excluded_pids: vec![4; 17], ..DriverSettings::default() };
        assert_eq!(many.to_config(1), Err(SettingsError::TooManyExclusions(17)));
        let big = DriverSettings { max_record_size: Some(1 << 30), ..DriverSettings::default() };
        assert!(matches!(big.to_config(1), Err(SettingsError::Invalid(ConfigError::MaxRecordSize { .. }))));
        assert!(matches!(DriverSettings::default().to_config(0), Err(SettingsError::Invalid(ConfigError::Generation))));
    }
}
