//! Small deterministic helpers: seeded RNG streams, ids, hex/base64, time arithmetic.

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc, Weekday};
use rand::distr::Distribution;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use statrs::distribution::LogNormal;

/// SplitMix64: mixes a 64-bit value; used to derive independent seeds and ids.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// An RNG stream derived from a seed and a few labels, independent of other streams.
pub(crate) fn rng_for(seed: u64, parts: &[u64]) -> StdRng {
    let mut s = mix(seed);
    for p in parts {
        s = mix(s ^ mix(*p));
    }
    StdRng::seed_from_u64(s)
}

/// A 40-hex-digit git object id derived from a seed and labels.
pub(crate) fn oid(seed: u64, parts: &[u64]) -> String {
    let mut s = mix(seed ^ 0x6f69_6400);
    for p in parts {
        s = mix(s ^ mix(*p));
    }
    let a = s;
    let b = mix(a);
    let c = mix(b);
    format!("{a:016x}{b:016x}{:08x}", (c >> 32) as u32)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            B64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            B64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Decodes standard base64 (padding optional); `None` on any invalid character.
pub(crate) fn b64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        if c == b'=' {
            break;
        }
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// A GitHub-style global node id (`PR_kwDO…`).
pub(crate) fn node_id(prefix: &str, id: u64) -> String {
    let enc = b64_encode(&id.to_be_bytes());
    format!("{prefix}_kwDO{}", enc.trim_end_matches('='))
}

/// Samples a log-normal duration in hours given its median and log-space sigma.
pub(crate) fn lognormal_h(rng: &mut StdRng, median_h: f64, sigma: f64) -> f64 {
    // LogNormal::new only fails for a non-positive sigma or a non-finite location.
    let d = LogNormal::new(median_h.ln(), sigma).expect("valid log-normal parameters");
    d.sample(rng)
}

/// `hours` as a chrono duration (second precision).
pub(crate) fn hours(h: f64) -> Duration {
    Duration::seconds((h * 3600.0).round() as i64)
}

/// Whether `t` falls on a Saturday or Sunday.
pub(crate) fn is_weekend(t: DateTime<Utc>) -> bool {
    matches!(t.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Midnight (UTC) of `t`'s day.
pub(crate) fn midnight(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(t.year(), t.month(), t.day(), 0, 0, 0)
        .single()
        .expect("midnight exists in UTC")
}

/// A time of day in working hours (roughly 08:00–19:00, peaking early afternoon).
pub(crate) fn work_time(rng: &mut StdRng, day: DateTime<Utc>) -> DateTime<Utc> {
    let h = 8.0 + (rng.random::<f64>() + rng.random::<f64>()) * 5.5;
    day + hours(h)
}

/// People rarely act at weekends: with probability `p` a weekend time moves to the next
/// Monday morning.
pub(crate) fn to_workday(rng: &mut StdRng, t: DateTime<Utc>, p: f64) -> DateTime<Utc> {
    if !is_weekend(t) || !rng.random_bool(p) {
        return t;
    }
    let mut day = midnight(t);
    while is_weekend(day) {
        day += Duration::days(1);
    }
    day + hours(8.5 + rng.random::<f64>() * 3.0)
}

/// `t` plus `h` hours of working time: weekend days do not count, as work waits for Monday
/// instead of piling up there (a weekend finish moved to Monday would give every Monday the
/// weekend's completions as well as its own).
pub(crate) fn add_working_hours(t: DateTime<Utc>, h: f64) -> DateTime<Utc> {
    let mut t = t;
    let mut remaining = h.max(0.0);
    loop {
        if is_weekend(t) {
            let mut day = midnight(t);
            while is_weekend(day) {
                day += Duration::days(1);
            }
            t = day;
            continue;
        }
        let day_end = midnight(t) + Duration::days(1);
        let available = (day_end - t).num_seconds() as f64 / 3600.0;
        if remaining <= available {
            return t + hours(remaining);
        }
        remaining -= available;
        t = day_end;
    }
}

/// RFC 3339 with a `Z` suffix and second precision, as GitHub prints times.
pub(crate) fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Parses an RFC 3339 timestamp or a bare `YYYY-MM-DD` date (midnight UTC).
pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let d = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?))
}

/// Microseconds since the epoch, for cursors.
pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// Drops sub-second precision so that JSON and data agree exactly.
pub(crate) fn trunc_secs(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_nanosecond(0).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_hours_skip_weekends() {
        let fri = Utc.with_ymd_and_hms(2026, 10, 30, 20, 0, 0).unwrap();
        // 4 h left on Friday, then Monday.
        assert_eq!(
            add_working_hours(fri, 6.0),
            Utc.with_ymd_and_hms(2026, 11, 2, 2, 0, 0).unwrap()
        );
        assert_eq!(
            add_working_hours(fri, 1.0),
            Utc.with_ymd_and_hms(2026, 10, 30, 21, 0, 0).unwrap()
        );
        let sat = Utc.with_ymd_and_hms(2026, 10, 31, 10, 0, 0).unwrap();
        assert_eq!(
            add_working_hours(sat, 0.0),
            Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn base64_round_trips() {
        for s in ["", "a", "ab", "abc", "abcd", "cursor:v2:1700000000|42"] {
            let e = b64_encode(s.as_bytes());
            assert_eq!(b64_decode(&e).unwrap(), s.as_bytes(), "{s}");
        }
        assert_eq!(b64_encode(b"Man"), "TWFu");
        assert_eq!(b64_encode(b"Ma"), "TWE=");
        assert!(b64_decode("@@@").is_none());
    }

    #[test]
    fn oids_are_40_hex_and_distinct() {
        let a = oid(1, &[1, 2]);
        let b = oid(1, &[1, 3]);
        assert_eq!(a.len(), 40);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_eq!(a, oid(1, &[1, 2]));
    }

    #[test]
    fn weekend_times_move_to_monday() {
        let sat = Utc.with_ymd_and_hms(2026, 10, 31, 12, 0, 0).unwrap();
        let mut rng = rng_for(1, &[]);
        let t = to_workday(&mut rng, sat, 1.0);
        assert_eq!(t.weekday(), Weekday::Mon);
        assert!(t > sat);
    }

    #[test]
    fn parses_dates_and_timestamps() {
        let t = parse_time("2026-01-02T03:04:05Z").unwrap();
        assert_eq!(iso(t), "2026-01-02T03:04:05Z");
        assert_eq!(
            iso(parse_time("2026-01-02").unwrap()),
            "2026-01-02T00:00:00Z"
        );
        assert!(parse_time("yesterday").is_none());
    }
}
