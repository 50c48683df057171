//! The driver's configuration validation on arbitrary bytes: never panics,
//! and whatever it accepts satisfies every documented bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_protocol::config::{DriverConfig, MAX_EXCLUDED_PIDS};
use vigil_protocol::schema::{Kind, MAX_RECORD_SIZE};

fuzz_target!(|data: &[u8]| {
    let Ok(valid) = DriverConfig::from_bytes(data) else { return };
    let c = valid.get();
    assert_eq!(c.capture_mask & !Kind::CAPTURE_MASK_ALL, 0);
    assert_eq!(c.flags & !DriverConfig::FLAGS_KNOWN, 0);
    assert!((DriverConfig::MIN_RECORD_LIMIT as usize..=MAX_RECORD_SIZE).contains(&(c.max_record_size as usize)));
    assert_eq!(c.max_record_size % 8, 0);
    assert!(c.excluded_pid_count as usize <= MAX_EXCLUDED_PIDS);
    assert!(c.generation != 0);
    assert!(c.reserved.iter().all(|&r| r == 0));
    assert_eq!(valid.get().validate(), Ok(valid), "validation is idempotent");
});
