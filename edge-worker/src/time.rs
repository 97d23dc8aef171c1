//! Keystone timestamps (`2026-11-26T09:03:26.000000Z`) to Unix seconds, without a date crate:
//! the worker only needs to compare an expiry with the clock.

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction][Z|+00:00]` (UTC; other offsets are applied) into
/// Unix seconds. Returns `None` for anything else.
pub fn parse_iso8601(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || (b[10] != b'T' && b[10] != b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(r) = rest.strip_prefix('.') {
        let n = r.bytes().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        rest = &r[n..];
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let o = rest[1..].replace(':', "");
            if o.len() != 4 || !o.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let oh: i64 = o[..2].parse().ok()?;
            let om: i64 = o[2..].parse().ok()?;
            sign * (oh * 3600 + om * 60)
        }
    };
    Some(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset)
}

/// Unix seconds as Keystone writes a timestamp (`2026-11-26T09:03:26Z`, UTC): an application
/// credential's `expires_at`.
pub fn format_iso8601(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// The date of a day count since 1970-01-01 (Howard Hinnant's algorithm, the inverse of
/// [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keystone_timestamps() {
        assert_eq!(parse_iso8601("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso8601("2000-03-01T00:00:00.000000Z"), Some(951_868_800));
        assert_eq!(parse_iso8601("2026-11-26T09:03:26.123456Z"), Some(1_795_683_806));
        assert_eq!(parse_iso8601("2026-11-26T10:03:26+01:00"), Some(1_795_683_806));
        assert_eq!(parse_iso8601("2026-11-26T09:03:26"), Some(1_795_683_806));
    }

    #[test]
    fn formats_what_it_parses() {
        assert_eq!(format_iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_iso8601(951_868_800), "2000-03-01T00:00:00Z");
        assert_eq!(format_iso8601(1_795_683_806), "2026-11-26T09:03:26Z");
        for secs in [-86_401, 68_169_600, 1_709_164_799, 4_102_444_800] {
            assert_eq!(parse_iso8601(&format_iso8601(secs)), Some(secs), "{secs}");
        }
    }

    #[test]
    fn refuses_garbage() {
        for s in [
            "",
            "2026-11-26",
            "2026-13-26T09:03:26Z",
            "2026-11-26T09:03:26.Z",
            "2026-11-26T09:03:26+0x:00",
            "abcd-ef-ghTij:kl:mnZ",
        ] {
            assert_eq!(parse_iso8601(s), None, "{s}");
        }
    }
}
