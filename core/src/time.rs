//! Time as the cloud writes it: ISO 8601 UTC with milliseconds and `Z` (protocol.md §1.7).

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, as `2026-01-02T03:04:05.678Z`.
pub fn now_iso() -> String {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    iso_from_ms(ms)
}

/// Milliseconds since the epoch as ISO 8601 UTC.
pub fn iso_from_ms(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_instants() {
        assert_eq!(super::iso_from_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::iso_from_ms(1_445_178_376_000), "2015-10-18T14:26:16.000Z");
        assert_eq!(super::iso_from_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
    }
}
