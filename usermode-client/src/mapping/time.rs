//! FILETIME → Sysmon's `UtcTime` text (`2026-11-23 08:00:00.123`).

/// Days from 1601-01-01 to 1970-01-01.
const DAYS_1601_TO_1970: i64 = 134_774;

/// Formats FILETIME `ft` (100 ns ticks since 1601-01-01 UTC) into `buf` as
/// `YYYY-MM-DD HH:MM:SS.mmm` and returns the text. No allocation.
pub fn format_utc_time(ft: u64, buf: &mut [u8; 23]) -> &str {
    let ms_total = ft / 10_000;
    let ms = ms_total % 1000;
    let secs = ms_total / 1000;
    let days = (secs / 86_400) as i64 - DAYS_1601_TO_1970;
    let sod = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let fields: [(usize, u64, usize); 7] = [
        (0, y as u64, 4),
        (5, u64::from(m), 2),
        (8, u64::from(d), 2),
        (11, sod / 3600, 2),
        (14, sod / 60 % 60, 2),
        (17, sod % 60, 2),
        (20, ms, 3),
    ];
    *buf = *b"0000-00-00 00:00:00.000";
    for (at, mut v, width) in fields {
        for i in (0..width).rev() {
            if let Some(b) = buf.get_mut(at + i) {
                *b = b'0' + (v % 10) as u8;
            }
            v /= 10;
        }
    }
    std::str::from_utf8(buf).unwrap_or("")
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 → (y, m, d).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::format_utc_time;

    #[test]
    fn known_instants() {
        let mut b = [0u8; 23];
        assert_eq!(format_utc_time(0, &mut b), "1601-01-01 00:00:00.000");
        // 1970-01-01 00:00:00 UTC.
        assert_eq!(format_utc_time(116_444_736_000_000_000, &mut b), "1970-01-01 00:00:00.000");
        // 2026-11-23 08:00:00.123 UTC = unix 1795420800.123.
        let ft = 116_444_736_000_000_000 + 1_795_420_800_123 * 10_000;
        assert_eq!(format_utc_time(ft, &mut b), "2026-11-23 08:00:00.123");
        // 2024-02-29 23:59:59.999 (leap day), unix 1709251199.999.
        let ft = 116_444_736_000_000_000 + 1_709_251_199_999 * 10_000;
        assert_eq!(format_utc_time(ft, &mut b), "2024-02-29 23:59:59.999");
    }
}
