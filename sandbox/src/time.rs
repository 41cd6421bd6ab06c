//! ISO 8601 timestamps (protocol.md §1.7) without a date library: the sandbox only needs
//! UTC formatting and a forgiving parser for query/body inputs.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// `2015-10-18T14:26:16.000Z`: the hydra format (UTC, milliseconds, `Z`).
pub fn iso_ms(ms: i64) -> String {
    let (date, secs, millis) = split(ms);
    format!("{date}T{}.{millis:03}Z", hms(secs))
}

/// `2019-11-01T12:00:00Z`: the meetings API format (seconds, no milliseconds).
pub fn iso_s(ms: i64) -> String {
    let (date, secs, _) = split(ms);
    format!("{date}T{}Z", hms(secs))
}

/// `20191101T120000Z`: the suffix of scheduled-meeting occurrence ids.
pub fn compact(ms: i64) -> String {
    iso_s(ms).replace(['-', ':'], "")
}

fn split(ms: i64) -> (String, i64, i64) {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    (format!("{y:04}-{m:02}-{d:02}"), rem / 1000, rem % 1000)
}

fn hms(secs: i64) -> String {
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// Parses `YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|±HH[:MM]]` into epoch milliseconds.
/// A time without an offset is taken as UTC (the sandbox has no time-zone database).
pub fn parse(input: &str) -> Option<i64> {
    let s = input.trim();
    if !s.is_ascii() {
        return None;
    }
    let (date, rest) = if s.len() > 10 { s.split_at(10) } else { (s, "") };
    let mut dp = date.split('-');
    let y: i64 = num(dp.next()?, 4)?;
    let mo: i64 = num(dp.next()?, 2)?;
    let d: i64 = num(dp.next()?, 2)?;
    if dp.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut ms = days_from_civil(y, mo, d) * 86_400_000;
    if rest.is_empty() {
        return Some(ms);
    }
    let rest = rest.strip_prefix(['T', ' '])?;
    let split_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (time, zone) = rest.split_at(split_at);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut tp = hms.split(':');
    let h: i64 = num(tp.next()?, 2)?;
    let mi: i64 = num(tp.next()?, 2)?;
    let sec: i64 = match tp.next() {
        Some(x) => num(x, 2)?,
        None => 0,
    };
    if tp.next().is_some() || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    if !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let frac_ms: i64 = format!("{frac:0<3}")[..3].parse().ok()?;
    ms += (h * 3600 + mi * 60 + sec) * 1000 + frac_ms;
    Some(ms - zone_offset_ms(zone)?)
}

fn zone_offset_ms(zone: &str) -> Option<i64> {
    if zone.is_empty() || zone.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 2 && digits.len() != 4 {
        return None;
    }
    let h: i64 = num(&digits[..2], 2)?;
    let m: i64 = if digits.len() == 4 { num(&digits[2..], 2)? } else { 0 };
    Some(sign * (h * 60 + m) * 60_000)
}

fn num(s: &str, len: usize) -> Option<i64> {
    if s.len() != len || !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The UTC calendar date (year, month, day) of `ms` since the epoch.
pub fn date(ms: i64) -> (i64, i64, i64) {
    civil_from_days(ms.div_euclid(86_400_000))
}

// Howard Hinnant's civil-calendar algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses() {
        let ms = parse("2015-10-18T14:26:16.000Z").unwrap();
        assert_eq!(iso_ms(ms), "2015-10-18T14:26:16.000Z");
        assert_eq!(parse("2019-11-01T20:00:00+08:00"), parse("2019-11-01T12:00:00Z"));
        assert_eq!(parse("2019-11-01 12:00:00"), parse("2019-11-01T12:00:00Z"));
        assert_eq!(iso_s(parse("2019-11-01").unwrap()), "2019-11-01T00:00:00Z");
        assert_eq!(compact(ms), "20151018T142616Z");
        assert_eq!(parse("garbage"), None);
        assert_eq!(parse("2019-13-01"), None);
        assert_eq!(parse("2019-11-01T12"), None);
    }
}
