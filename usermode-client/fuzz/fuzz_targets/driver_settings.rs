//! A channel's driver settings, built from arbitrary bytes, through
//! `DriverSettings::to_config`: never panics, and whatever it returns is
//! accepted by the driver's own `DriverConfig::from_bytes` unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil::content::driver_config::DriverSettings;
use vigil_protocol::config::DriverConfig;
use vigil_protocol::schema::Kind;

fn u32_at(d: &[u8], i: usize) -> u32 {
    let mut b = [0u8; 4];
    for (k, x) in b.iter_mut().enumerate() {
        *x = d.get(i + k).copied().unwrap_or(0);
    }
    u32::from_le_bytes(b)
}

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else { return };
    let names: Vec<String> = Kind::ALL.iter().map(|k| k.name().to_owned()).chain(["bogus".to_owned()]).collect();
    let n_capture = (head & 0x0f) as usize;
    let capture = rest.iter().take(n_capture).map(|b| names[*b as usize % names.len()].clone()).collect();
    let rest = rest.get(n_capture..).unwrap_or(&[]);
    let n_pids = (head >> 4) as usize + usize::from(head & 0x80 != 0) * 3;
    let excluded_pids = (0..n_pids).map(|i| u32_at(rest, 4 * i)).collect();
    let tail = rest.get(4 * n_pids..).unwrap_or(&[]);
    let flags = tail.first().copied().unwrap_or(0);
    let s = DriverSettings {
        capture,
        excluded_pids,
        capture_failed_creates: flags & 1 != 0,
        capture_directory_opens: flags & 2 != 0,
        max_record_size: (flags & 4 != 0).then(|| u32_at(tail, 1)),
        heartbeat_ms: (flags & 8 != 0).then(|| u32_at(tail, 5)),
    };
    let generation = u32_at(tail, 9);
    if let Ok(v) = s.to_config(generation) {
        assert_eq!(DriverConfig::from_bytes(vigil_protocol::bytes_of(v.get())), Ok(v));
        assert_eq!(v.get().generation, generation);
    }
});
