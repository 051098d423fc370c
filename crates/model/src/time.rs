//! Time conventions: every timestamp is UTC, stored as microseconds.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};

/// Parse the timestamp forms found in API payloads and exported files:
/// RFC 3339 (`2023-04-10T06:51:47Z`, `…+00:00`, fractional seconds), and the naive
/// `2023-04-10 06:51:47` / `2023-4-10 6:51:47` forms DevLake writes (taken as UTC).
///
/// Instants outside the years 0000 to 9999 in UTC are rejected: the lake writes timestamps
/// through Arrow's parser, which reads four-digit years only, so such a record would decode
/// and then fail its whole batch at write time.
pub fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    parse_forms(s).filter(|t| (0..=9999).contains(&t.year()))
}

fn parse_forms(s: &str) -> Option<DateTime<Utc>> {
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

    /// Whether the lake can write `t` (Arrow's JSON decoder parses the timestamp text).
    fn writable(t: DateTime<Utc>) -> bool {
        let rel = crate::github::Release {
            published_at: Some(t),
            ..Default::default()
        };
        crate::to_batch(
            crate::Entity::GithubReleases,
            &[rel],
            "ws",
            "run",
            DateTime::UNIX_EPOCH,
        )
        .is_ok()
    }

    #[test]
    fn years_outside_0000_to_9999_are_rejected() {
        // Regression (found by `make fuzz`, target github_decoders): `-0001-01-01` parsed as
        // the year 1 BC and decoded, then failed its whole Arrow batch at write time ("error
        // parsing date"); so did a late-9999 local time whose offset puts it in 10000 UTC.
        for text in [
            "-0001-01-01",
            "+10000-01-01T00:00:00Z",
            "9999-12-31T23:59:59-23:59",
            "262143-12-31",
        ] {
            assert_eq!(parse_ts(text), None, "{text}");
        }
        for text in ["0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999+00:00"] {
            assert!(writable(parse_ts(text).expect(text)), "{text}");
        }
        // The reason for the range: Arrow reads four-digit years only. When this fails, it
        // reads more and the range check in `parse_ts` can go.
        let year = |y| {
            NaiveDate::from_ymd_opt(y, 1, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .unwrap()
                .and_utc()
        };
        assert!(!writable(year(-1)) && !writable(year(10000)));
    }
}
