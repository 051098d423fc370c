//! Time conventions: every timestamp is UTC, stored as microseconds.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Parse the timestamp forms found in API payloads and exported files:
/// RFC 3339 (`2023-04-10T06:51:47Z`, `…+00:00`, fractional seconds), and the naive
/// `2023-04-10 06:51:47` / `2023-4-10 6:51:47` forms DevLake writes (taken as UTC).
pub fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    // Jira writes offsets without a colon: `2020-06-12T08:13:13.360+0800`.
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    None
}

/// Truncate to whole microseconds, the precision the lake stores.
pub fn to_micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_devlake_and_github_forms() {
        let a = parse_ts("2023-04-10T06:51:47Z").unwrap();
        assert_eq!(parse_ts("2023-04-10T06:51:47.000+00:00"), Some(a));
        assert_eq!(parse_ts("2023-4-10 6:51:47"), Some(a));
        assert_eq!(parse_ts("2023-04-10T08:51:47+02:00"), Some(a));
        assert_eq!(parse_ts("2023-04-10T14:51:47.000+0800"), Some(a));
        assert_eq!(parse_ts(""), None);
        assert_eq!(parse_ts("yesterday"), None);
    }
}
