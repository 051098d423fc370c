//! Daily throughput history: validated days and counts, and its CSV form.

use std::io::BufRead;

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use crate::error::{Error, Result};

/// Items done per day, one entry per calendar day from [`History::first_day`] on.
///
/// Built from `(day, items_done)` pairs that must be strictly increasing by day and
/// non-negative. A day missing between two listed days completed nothing and is stored as 0,
/// so the history is always dense (as `mart_throughput_daily` is: zero days present).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct History {
    first_day: NaiveDate,
    counts: Vec<u64>,
}

impl History {
    /// Validates `(day, items_done)` pairs: non-empty, days strictly increasing, counts ≥ 0.
    pub fn new(days: impl IntoIterator<Item = (NaiveDate, i64)>) -> Result<Self> {
        let mut builder = Builder::default();
        for (day, count) in days {
            if count < 0 {
                return Err(Error::NegativeCount { day, count });
            }
            builder.push(day, count as u64).map_err(|e| match e {
                Order::Duplicate => Error::DuplicateDate { day },
                Order::Before(previous) => Error::DateOutOfOrder { day, previous },
            })?;
        }
        builder.finish().ok_or(Error::EmptyHistory)
    }

    /// A dense history starting on `first_day`, one count per consecutive day.
    pub fn from_counts(first_day: NaiveDate, counts: Vec<u64>) -> Result<Self> {
        if counts.is_empty() {
            return Err(Error::EmptyHistory);
        }
        Ok(Self { first_day, counts })
    }

    /// Parses CSV with the header `day,items_done` and one `YYYY-MM-DD,count` per line.
    ///
    /// Blank lines and surrounding whitespace are ignored. Errors name the 1-based line number
    /// and the problem (malformed line, bad date, bad or negative count, date out of order).
    pub fn from_csv(reader: impl BufRead) -> Result<Self> {
        let mut builder = Builder::default();
        let mut saw_header = false;
        for (i, line) in reader.lines().enumerate() {
            let line_no = i + 1;
            let line = line.map_err(|source| Error::CsvRead {
                line: line_no,
                source,
            })?;
            let trimmed = line.trim();
            if !saw_header {
                let header: Vec<&str> = trimmed.split(',').map(str::trim).collect();
                if header != ["day", "items_done"] {
                    return Err(Error::CsvHeader {
                        found: trimmed.to_string(),
                    });
                }
                saw_header = true;
                continue;
            }
            if trimmed.is_empty() {
                continue;
            }
            let fields: Vec<&str> = trimmed.split(',').map(str::trim).collect();
            let [day_s, count_s] = fields[..] else {
                return Err(Error::CsvMalformed {
                    line: line_no,
                    content: trimmed.to_string(),
                });
            };
            let day = NaiveDate::parse_from_str(day_s, "%Y-%m-%d").map_err(|source| {
                Error::CsvBadDate {
                    line: line_no,
                    value: day_s.to_string(),
                    source,
                }
            })?;
            let count: i64 = count_s.parse().map_err(|_| Error::CsvBadCount {
                line: line_no,
                value: count_s.to_string(),
            })?;
            if count < 0 {
                return Err(Error::CsvNegativeCount {
                    line: line_no,
                    count,
                });
            }
            builder.push(day, count as u64).map_err(|e| match e {
                Order::Duplicate => Error::CsvDuplicateDate { line: line_no, day },
                Order::Before(previous) => Error::CsvDateOutOfOrder {
                    line: line_no,
                    day,
                    previous,
                },
            })?;
        }
        if !saw_header {
            return Err(Error::CsvHeader {
                found: String::new(),
            });
        }
        builder.finish().ok_or(Error::CsvEmpty)
    }

    /// [`History::from_csv`] over a string.
    pub fn from_csv_str(csv: &str) -> Result<Self> {
        Self::from_csv(csv.as_bytes())
    }

    /// The first day of the history.
    pub fn first_day(&self) -> NaiveDate {
        self.first_day
    }

    /// The last day of the history.
    pub fn last_day(&self) -> NaiveDate {
        self.first_day + Duration::days(self.counts.len() as i64 - 1)
    }

    /// Number of calendar days covered.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Always false: a history has at least one day.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Items done per day, first day first.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Items done on `day` (0 outside the history).
    pub fn on(&self, day: NaiveDate) -> u64 {
        let i = (day - self.first_day).num_days();
        usize::try_from(i)
            .ok()
            .and_then(|i| self.counts.get(i).copied())
            .unwrap_or(0)
    }

    /// Items done from `from` to `to`, both included (days outside the history count 0).
    pub fn done_between(&self, from: NaiveDate, to: NaiveDate) -> u64 {
        let index = |d: NaiveDate| {
            ((d - self.first_day).num_days()).clamp(0, self.counts.len() as i64) as usize
        };
        let (lo, hi) = (index(from), index(to + Duration::days(1)));
        self.counts[lo..hi.max(lo)].iter().sum()
    }

    /// `(day, items_done)` for every day.
    pub fn iter(&self) -> impl Iterator<Item = (NaiveDate, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .map(|(i, &c)| (self.first_day + Duration::days(i as i64), c))
    }
}

enum Order {
    Duplicate,
    Before(NaiveDate),
}

#[derive(Default)]
struct Builder {
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
    counts: Vec<u64>,
}

impl Builder {
    fn push(&mut self, day: NaiveDate, count: u64) -> Result<(), Order> {
        if let Some(last) = self.last {
            if day == last {
                return Err(Order::Duplicate);
            }
            if day < last {
                return Err(Order::Before(last));
            }
            let gap = (day - last).num_days() as usize - 1;
            self.counts.extend(std::iter::repeat_n(0, gap));
        } else {
            self.first = Some(day);
        }
        self.last = Some(day);
        self.counts.push(count);
        Ok(())
    }

    fn finish(self) -> Option<History> {
        Some(History {
            first_day: self.first?,
            counts: self.counts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn gaps_are_zero_days() {
        let h = History::new([(d("2026-01-01"), 3), (d("2026-01-04"), 2)]).unwrap();
        assert_eq!(h.counts(), &[3, 0, 0, 2]);
        assert_eq!(h.last_day(), d("2026-01-04"));
        assert_eq!(h.on(d("2026-01-04")), 2);
        assert_eq!(h.on(d("2025-12-31")), 0);
        assert_eq!(h.done_between(d("2026-01-01"), d("2026-01-04")), 5);
        assert_eq!(h.done_between(d("2025-12-01"), d("2026-01-02")), 3);
        assert_eq!(h.done_between(d("2026-01-02"), d("2026-02-01")), 2);
        assert_eq!(h.done_between(d("2026-01-03"), d("2026-01-02")), 0);
    }

    #[test]
    fn csv_round_trip_with_blank_lines_and_spaces() {
        let h = History::from_csv_str("day,items_done\n2026-01-01, 1\n\n2026-01-02,0\n").unwrap();
        assert_eq!(h.counts(), &[1, 0]);
    }

    #[test]
    fn csv_header_is_required() {
        let err = History::from_csv_str("2026-01-01,1\n").unwrap_err();
        assert!(matches!(err, Error::CsvHeader { .. }), "{err}");
    }
}
