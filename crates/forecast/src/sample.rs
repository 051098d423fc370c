//! The sampling window: which history days a forecast draws from, and warnings about it.

use std::fmt;

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use crate::calendar::Calendar;
use crate::error::{Error, Result};
use crate::history::History;
use crate::options::Options;

/// Fewer calendar days than this in the window gives a [`Warning::ShortHistory`].
pub const MIN_HISTORY_DAYS: usize = 20;
/// Fewer non-zero working days than this gives a [`Warning::FewNonZeroDays`].
pub const MIN_NON_ZERO_DAYS: usize = 5;

/// Something the forecast can still answer, but a person should know about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Warning {
    /// The sampling window holds fewer than [`MIN_HISTORY_DAYS`] days of history.
    ShortHistory {
        /// Calendar days in the window.
        days: usize,
        /// The threshold.
        minimum: usize,
    },
    /// The sampling window holds fewer than [`MIN_NON_ZERO_DAYS`] days that finished anything.
    FewNonZeroDays {
        /// Working days with at least one item done.
        non_zero_days: usize,
        /// The threshold.
        minimum: usize,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::ShortHistory { days, minimum } => write!(
                f,
                "short history: only {days} days in the sampling window (under {minimum}); \
                 the forecast may not represent the team"
            ),
            Warning::FewNonZeroDays {
                non_zero_days,
                minimum,
            } => write!(
                f,
                "sparse history: only {non_zero_days} days with items done (under {minimum}); \
                 the forecast rests on very few data points"
            ),
        }
    }
}

/// What the forecast sampled from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleSummary {
    /// First day of the window.
    pub window_start: NaiveDate,
    /// Last day of the window (the day before the start date, or the history's last day).
    pub window_end: NaiveDate,
    /// Calendar days in the window.
    pub calendar_days: usize,
    /// Working days in the window (the days sampled from).
    pub working_days: usize,
    /// Working days with at least one item done.
    pub non_zero_days: usize,
    /// Mean items per working day.
    pub mean_per_working_day: f64,
}

/// The empirical daily-throughput sample of one forecast.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub values: Vec<u32>,
    pub summary: SampleSummary,
    pub warnings: Vec<Warning>,
}

/// Draws the window: the last `window_days` calendar days of history that lie before `start`
/// (history on or after the start date is never used: no look-ahead), working days only.
pub(crate) fn sample(history: &History, start: NaiveDate, options: &Options) -> Result<Sample> {
    let before_start = start - Duration::days(1);
    let window_end = history.last_day().min(before_start);
    if window_end < history.first_day() {
        return Err(Error::NoHistoryBeforeStart {
            start,
            history_start: history.first_day(),
        });
    }
    let window_start = history
        .first_day()
        .max(window_end - Duration::days(i64::from(options.window_days) - 1));
    let calendar_days = (window_end - window_start).num_days() as usize + 1;
    let values: Vec<u32> = history
        .iter()
        .skip((window_start - history.first_day()).num_days() as usize)
        .take(calendar_days)
        .filter(|(day, _)| options.calendar.is_working(*day))
        .map(|(_, c)| u32::try_from(c).unwrap_or(u32::MAX))
        .collect();
    if values.is_empty() {
        return Err(Error::NoWorkingDays {
            window_start,
            window_end,
        });
    }
    let non_zero_days = values.iter().filter(|&&v| v > 0).count();
    if non_zero_days == 0 {
        return Err(Error::AllZeroHistory {
            window_start,
            window_end,
        });
    }
    let mut warnings = Vec::new();
    if calendar_days < MIN_HISTORY_DAYS {
        warnings.push(Warning::ShortHistory {
            days: calendar_days,
            minimum: MIN_HISTORY_DAYS,
        });
    }
    if non_zero_days < MIN_NON_ZERO_DAYS {
        warnings.push(Warning::FewNonZeroDays {
            non_zero_days,
            minimum: MIN_NON_ZERO_DAYS,
        });
    }
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / values.len() as f64;
    Ok(Sample {
        summary: SampleSummary {
            window_start,
            window_end,
            calendar_days,
            working_days: values.len(),
            non_zero_days,
            mean_per_working_day: mean,
        },
        values,
        warnings,
    })
}

/// Calendar offset from `start` (0 = `start`) of each working day within `horizon_days`:
/// entry `k - 1` is the offset of the `k`-th working day.
pub(crate) fn working_offsets(
    calendar: &Calendar,
    start: NaiveDate,
    horizon_days: u32,
) -> Vec<u32> {
    (0..horizon_days)
        .filter(|&d| calendar.is_working(start + Duration::days(i64::from(d))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_stops_before_start_and_skips_non_working_days() {
        let first: NaiveDate = "2026-03-02".parse().unwrap(); // Monday
        let h = History::from_counts(first, (1..=14).collect()).unwrap();
        let opts = Options {
            calendar: Calendar::weekdays(),
            window_days: 10,
            ..Options::default()
        };
        // Start on day 13 (Saturday 14th): window is days 3..=12 (2026-03-04 .. 03-13).
        let s = sample(&h, first + Duration::days(12), &opts).unwrap();
        assert_eq!(s.summary.window_start, first + Duration::days(2));
        assert_eq!(s.summary.calendar_days, 10);
        // Counts 3..=12 less the weekend of Sat 7th and Sun 8th (counts 6 and 7).
        assert_eq!(s.values, vec![3, 4, 5, 8, 9, 10, 11, 12]);
        assert_eq!(s.warnings.len(), 1);
    }
}
