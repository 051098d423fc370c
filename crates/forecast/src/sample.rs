//! The sampling window: which history days a forecast draws from, and warnings about it.

use std::fmt;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::Serialize;

use crate::calendar::Calendar;
use crate::detect;
use crate::error::{Error, Result};
use crate::history::History;
use crate::options::AutoWindow;
use crate::options::Options;

/// Fewer calendar days than this in the window gives a [`Warning::ShortHistory`].
pub const MIN_HISTORY_DAYS: usize = 20;
/// Fewer non-zero working days than this gives a [`Warning::FewNonZeroDays`].
pub const MIN_NON_ZERO_DAYS: usize = 5;

/// A day left out of the sample as a bulk clean-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulkDay {
    /// The day.
    pub day: NaiveDate,
    /// Items done that day.
    pub items: u64,
}

/// Something the forecast can still answer, but a person should know about.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// Bulk clean-up days in the window were left out of the sample.
    BulkDaysExcluded {
        /// The days and their counts.
        days: Vec<BulkDay>,
        /// The count above which a day is a clean-up.
        threshold: u64,
    },
    /// Throughput changed regime: the window starts at the change.
    RegimeChange {
        /// First day of the current regime.
        since: NaiveDate,
        /// The window the forecast would otherwise have sampled, in calendar days.
        window_days: u32,
    },
    /// The history shows weekday-only work: weekends are neither sampled nor productive.
    WeekdaysOnly {
        /// Items done at weekends over the days looked at.
        weekend_items: u64,
        /// Items done over the days looked at.
        items: u64,
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
            Warning::BulkDaysExcluded { days, threshold } => {
                let list: Vec<String> = days
                    .iter()
                    .map(|d| format!("{} ({} items)", d.day, d.items))
                    .collect();
                write!(
                    f,
                    "bulk clean-up days left out of the sample (more than {threshold} items): {}",
                    list.join(", ")
                )
            }
            Warning::RegimeChange { since, window_days } => write!(
                f,
                "throughput changed on {since} (Pettitt test): sampling only from then on, \
                 not the last {window_days} days"
            ),
            Warning::WeekdaysOnly {
                weekend_items,
                items,
            } => write!(
                f,
                "weekday-only work ({weekend_items} of {items} items at weekends): weekends \
                 are neither sampled nor counted as working days"
            ),
        }
    }
}

/// How the window's length was set.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "choice", rename_all = "snake_case")]
pub enum WindowChoice {
    /// `window_days` as given.
    Fixed,
    /// Chosen by backtest: each candidate with its mean CRPS (lower is better).
    Auto {
        /// `(window days, mean CRPS)` per candidate, in the order tried.
        scores: Vec<(u32, f64)>,
        /// Past origins scored.
        origins: usize,
    },
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
    /// Working days in the window (the days sampled from, bulk days excluded).
    pub working_days: usize,
    /// Working days with at least one item done.
    pub non_zero_days: usize,
    /// Mean items per working day.
    pub mean_per_working_day: f64,
    /// The window's length before any regime cut, in calendar days.
    pub window_days: u32,
    /// How that length was set.
    pub window_choice: WindowChoice,
    /// Whether weekends were detected as non-working.
    pub weekdays_detected: bool,
    /// Bulk days left out of the window's sample.
    pub bulk_days: Vec<BulkDay>,
    /// The current regime's first day, when a change was found.
    pub regime_start: Option<NaiveDate>,
}

/// The empirical daily-throughput sample of one forecast.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub values: Vec<u32>,
    pub summary: SampleSummary,
    pub warnings: Vec<Warning>,
    /// The calendar of the future: the options' calendar, or weekdays when detected.
    pub calendar: Calendar,
}

/// The days before the start that detection looks at, as flat arrays.
struct Days {
    first: NaiveDate,
    counts: Vec<u64>,
    working: Vec<bool>,
    bulk: Vec<bool>,
}

impl Days {
    fn index(&self, day: NaiveDate) -> usize {
        (day - self.first).num_days() as usize
    }
    fn day(&self, i: usize) -> NaiveDate {
        self.first + Duration::days(i as i64)
    }
    fn sampled(&self, i: usize) -> bool {
        self.working[i] && !self.bulk[i]
    }
}

/// Draws the window: the last `window_days` calendar days of history that lie before `start`
/// (history on or after the start date is never used: no look-ahead), working days only,
/// adapted by the options' rules in this order: weekday detection (which days are working),
/// bulk days (left out), the window's length (fixed or chosen by backtest) and the current
/// regime (the window starts no earlier than the last change).
pub(crate) fn sample(history: &History, start: NaiveDate, options: &Options) -> Result<Sample> {
    let before_start = start - Duration::days(1);
    let window_end = history.last_day().min(before_start);
    if window_end < history.first_day() {
        return Err(Error::NoHistoryBeforeStart {
            start,
            history_start: history.first_day(),
        });
    }
    let mut warnings = Vec::new();
    // Everything any rule looks at: the longest lookback before the start.
    let lookback = [
        options.window_days,
        options.change_point.map_or(0, |c| c.lookback_days),
        options.weekdays.map_or(0, |w| w.lookback_days),
        options.auto_window.as_ref().map_or(0, |a| {
            a.candidates.iter().copied().max().unwrap_or(0) + a.origins * 7 + a.horizon_days
        }),
    ]
    .into_iter()
    .max()
    .unwrap_or(1);
    let first = history
        .first_day()
        .max(window_end - Duration::days(i64::from(lookback) - 1));
    let counts: Vec<u64> = history
        .iter()
        .skip((first - history.first_day()).num_days() as usize)
        .take((window_end - first).num_days() as usize + 1)
        .map(|(_, c)| c)
        .collect();
    let mut calendar = options.calendar.clone();
    let mut weekdays_detected = false;
    if let Some(rule) = options.weekdays
        && calendar.is_every_day()
    {
        let from = counts.len().saturating_sub(rule.lookback_days as usize);
        let days = counts[from..].iter().enumerate().map(|(i, &c)| {
            let wd = (first + Duration::days((from + i) as i64)).weekday();
            (matches!(wd, Weekday::Sat | Weekday::Sun), c)
        });
        if detect::weekday_only(days.clone(), rule.max_weekend_share, rule.min_items) {
            let (weekend_items, items) = days.fold((0, 0), |(w, t), (is_we, c)| {
                (w + if is_we { c } else { 0 }, t + c)
            });
            calendar = Calendar::weekdays();
            weekdays_detected = true;
            warnings.push(Warning::WeekdaysOnly {
                weekend_items,
                items,
            });
        }
    }
    let working: Vec<bool> = (0..counts.len())
        .map(|i| calendar.is_working(first + Duration::days(i as i64)))
        .collect();
    let mut days = Days {
        first,
        bulk: vec![false; counts.len()],
        counts,
        working,
    };
    let mut threshold = 0;
    if let Some(rule) = options.bulk {
        let working_counts: Vec<u64> = (0..days.counts.len())
            .filter(|&i| days.working[i])
            .map(|i| days.counts[i])
            .collect();
        threshold = detect::bulk_threshold(&working_counts, rule.factor, rule.min_items);
        for i in 0..days.counts.len() {
            days.bulk[i] = days.working[i] && days.counts[i] > threshold;
        }
    }
    let (window_days, window_choice) = match &options.auto_window {
        Some(auto) => choose_window(&days, options.window_days, auto),
        None => (options.window_days, WindowChoice::Fixed),
    };
    let mut window_start = history
        .first_day()
        .max(window_end - Duration::days(i64::from(window_days) - 1));
    let mut regime_start = None;
    if let Some(rule) = options.change_point {
        let from = days
            .counts
            .len()
            .saturating_sub(rule.lookback_days as usize);
        let idx: Vec<usize> = (from..days.counts.len())
            .filter(|&i| days.sampled(i))
            .collect();
        let xs: Vec<f64> = idx.iter().map(|&i| days.counts[i] as f64).collect();
        if let Some(k) =
            detect::current_regime_start(&xs, rule.alpha, rule.min_regime_days as usize)
        {
            let since = days.day(idx[k]);
            regime_start = Some(since);
            if since > window_start {
                warnings.push(Warning::RegimeChange { since, window_days });
                window_start = since;
            }
        }
    }
    let calendar_days = (window_end - window_start).num_days() as usize + 1;
    let lo = days.index(window_start);
    let values: Vec<u32> = (lo..days.counts.len())
        .filter(|&i| days.sampled(i))
        .map(|i| u32::try_from(days.counts[i]).unwrap_or(u32::MAX))
        .collect();
    let bulk_days: Vec<BulkDay> = (lo..days.counts.len())
        .filter(|&i| days.bulk[i])
        .map(|i| BulkDay {
            day: days.day(i),
            items: days.counts[i],
        })
        .collect();
    if !bulk_days.is_empty() {
        warnings.insert(
            0,
            Warning::BulkDaysExcluded {
                days: bulk_days.clone(),
                threshold,
            },
        );
    }
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
    if calendar_days < MIN_HISTORY_DAYS {
        warnings.insert(
            0,
            Warning::ShortHistory {
                days: calendar_days,
                minimum: MIN_HISTORY_DAYS,
            },
        );
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
            window_days,
            window_choice,
            weekdays_detected,
            bulk_days,
            regime_start,
        },
        values,
        warnings,
        calendar,
    })
}

/// Picks the candidate window whose forecasts of the next `horizon_days` scored best (lowest
/// mean CRPS) at past origins a week apart. Each forecast is the normal approximation of the
/// sum of the horizon's working days (mean and variance of the window's sampled days), so a
/// candidate costs O(1) per origin with prefix sums; bulk days are left out of both the
/// windows and the outcomes, as they are left out of the forecast.
fn choose_window(days: &Days, fallback: u32, auto: &AutoWindow) -> (u32, WindowChoice) {
    let n = days.counts.len();
    // Prefix sums over sampled days: count, sum, sum of squares.
    let mut pre = vec![(0.0f64, 0.0f64, 0.0f64); n + 1];
    for i in 0..n {
        let (c, s, q) = pre[i];
        pre[i + 1] = if days.sampled(i) {
            let x = days.counts[i] as f64;
            (c + 1.0, s + x, q + x * x)
        } else {
            (c, s, q)
        };
    }
    let range = |a: usize, b: usize| {
        let (c1, s1, q1) = pre[b];
        let (c0, s0, q0) = pre[a];
        (c1 - c0, s1 - s0, q1 - q0)
    };
    let h = auto.horizon_days as usize;
    // Origins (indices) a week apart whose whole horizon lies before the start.
    let origins: Vec<usize> = (0..auto.origins as usize)
        .filter_map(|j| n.checked_sub(h + 7 * j))
        .collect();
    let mut scores = Vec::new();
    for &w in &auto.candidates {
        let w = w as usize;
        let mut total = 0.0;
        let mut used = 0usize;
        for &o in &origins {
            if o < w.min(30) {
                continue; // not even a short window before this origin
            }
            let (c, s, q) = range(o.saturating_sub(w), o);
            if c < 2.0 {
                continue;
            }
            let mean = s / c;
            let var = (q / c - mean * mean).max(0.0);
            let (k, actual, _) = range(o, o + h);
            total += crps_normal(k * mean, (k * var).sqrt(), actual);
            used += 1;
        }
        if used >= auto.min_origins as usize && used * 2 >= origins.len() {
            scores.push((w as u32, total / used as f64));
        }
    }
    let Some(&(best, _)) = scores
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
    else {
        return (fallback, WindowChoice::Fixed);
    };
    (
        best,
        WindowChoice::Auto {
            scores,
            origins: origins.len(),
        },
    )
}

/// CRPS of a normal forecast N(mu, sigma²) for the outcome `x` (Gneiting et al. 2005);
/// `|x − mu|` for a point forecast.
fn crps_normal(mu: f64, sigma: f64, x: f64) -> f64 {
    if sigma <= 1e-12 {
        return (x - mu).abs();
    }
    let z = (x - mu) / sigma;
    let normal = statrs::distribution::Normal::standard();
    use statrs::distribution::{Continuous, ContinuousCDF};
    sigma
        * (z * (2.0 * normal.cdf(z) - 1.0) + 2.0 * normal.pdf(z)
            - 1.0 / std::f64::consts::PI.sqrt())
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
            ..Options::plain()
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
