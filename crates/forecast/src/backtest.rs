//! Rolling-origin backtests: how often did past forecasts' percentiles hold?

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use serde::Serialize;
use statrs::distribution::{Beta, ContinuousCDF};

use crate::error::{Error, Result};
use crate::forecast::{LEVELS, how_many_memo, when_memo};
use crate::history::History;
use crate::options::{HowManyQuery, Options, WhenQuery};
use crate::track::Memo;

/// Which question each origin asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BacktestKind {
    /// "How many items from the origin to origin + `horizon_days` − 1?"; a level held when
    /// at least its percentile's count was actually done.
    HowMany {
        /// Days counted, the origin included.
        horizon_days: u32,
    },
    /// "When will the next `items` items be done?"; a level held when they were actually done
    /// on or before its percentile's date.
    When {
        /// Items counted from the origin on.
        items: u64,
    },
}

/// A rolling-origin backtest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestQuery {
    /// The question asked at each origin.
    pub kind: BacktestKind,
    /// Days between origins (≥ 1). Origins closer than the horizon give overlapping, so
    /// correlated, outcomes; the intervals assume independence, so prefer a step ≥ horizon.
    pub step_days: u32,
    /// First origin; `None` starts once a full sampling window of history lies before it.
    pub first_origin: Option<NaiveDate>,
    /// Confidence of the Clopper–Pearson intervals, e.g. 0.95.
    pub confidence: f64,
}

/// How a percentile level fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The nominal level lies within the interval of the observed hit rate.
    Calibrated,
    /// It held less often than it claimed: the forecast is too sure of itself.
    Overconfident,
    /// It held more often than it claimed: the forecast is too cautious.
    Underconfident,
}

/// Coverage of one percentile level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelCoverage {
    /// The level (50, 70, 85, 95).
    pub level: u8,
    /// Origins where it held.
    pub held: usize,
    /// Origins evaluated.
    pub total: usize,
    /// `held / total`.
    pub rate: f64,
    /// Clopper–Pearson interval of the hit rate: lower bound.
    pub lower: f64,
    /// Clopper–Pearson interval of the hit rate: upper bound.
    pub upper: f64,
    /// Whether the level is calibrated.
    pub verdict: Verdict,
}

/// One origin's forecast and outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    /// The as-of date (day 1 of the forecast).
    pub origin: NaiveDate,
    /// Level → whether it held.
    pub held: BTreeMap<u8, bool>,
}

/// A backtest report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Backtest {
    /// The question asked.
    pub kind: BacktestKind,
    /// Per level, ascending.
    pub levels: Vec<LevelCoverage>,
    /// Every evaluated origin.
    pub observations: Vec<Observation>,
    /// Origins skipped: an all-zero window, or (for "when") a p95 date past the history's end,
    /// where the outcome could not be judged. The skip depends only on the forecast, never on
    /// the outcome, so it does not bias the rates.
    pub skipped: usize,
}

/// Runs a rolling-origin backtest of `history` with `options` (its window, calendar, method…).
pub fn backtest(history: &History, query: &BacktestQuery, options: &Options) -> Result<Backtest> {
    options.validate()?;
    if query.step_days == 0 {
        return Err(Error::InvalidOption {
            option: "step_days".into(),
            reason: "must be at least 1".into(),
        });
    }
    if !(query.confidence > 0.0 && query.confidence < 1.0) {
        return Err(Error::InvalidOption {
            option: "confidence".into(),
            reason: format!("must be in (0, 1), got {}", query.confidence),
        });
    }
    let last = history.last_day();
    let mut origin = query
        .first_origin
        .unwrap_or_else(|| history.first_day() + Duration::days(i64::from(options.window_days)));
    let mut observations = Vec::new();
    let mut memo = Memo::default();
    let mut skipped = 0;
    let mut horizon_seen = 0u32;
    while origin <= last {
        let held = match query.kind {
            BacktestKind::HowMany { horizon_days } => {
                horizon_seen = horizon_days;
                let end = origin + Duration::days(i64::from(horizon_days.max(1)) - 1);
                if end > last {
                    break;
                }
                match skip_benign(how_many_memo(
                    history,
                    &HowManyQuery { start: origin, end },
                    options,
                    &mut memo,
                ))? {
                    None => None,
                    Some(f) => {
                        let actual = history.done_between(origin, end);
                        Some(
                            f.percentiles
                                .iter()
                                .map(|(&l, &x)| (l, actual >= x))
                                .collect(),
                        )
                    }
                }
            }
            BacktestKind::When { items } => {
                let q = WhenQuery {
                    start: origin,
                    items: i64::try_from(items).unwrap_or(i64::MAX),
                    target: None,
                };
                match skip_benign(when_memo(history, &q, options, &mut memo))? {
                    Some(f) if f.percentiles[&95] <= last => {
                        horizon_seen =
                            horizon_seen.max((f.percentiles[&95] - origin).num_days() as u32 + 1);
                        Some(
                            f.percentiles
                                .iter()
                                .map(|(&l, &d)| (l, history.done_between(origin, d) >= items))
                                .collect(),
                        )
                    }
                    _ => None,
                }
            }
        };
        match held {
            Some(held) => observations.push(Observation { origin, held }),
            None => skipped += 1,
        }
        origin += Duration::days(i64::from(query.step_days));
    }
    if observations.is_empty() {
        return Err(Error::NoBacktestOrigins {
            history_days: history.len(),
            window_days: options.window_days,
            horizon_days: horizon_seen,
        });
    }
    let levels = coverage(&observations, query.confidence);
    Ok(Backtest {
        kind: query.kind,
        levels,
        observations,
        skipped,
    })
}

/// Pools backtests of several histories (projects, teams) that asked the same question into
/// one report: the observations are concatenated, in the order given, and every level's
/// coverage and interval is computed over all of them. Different projects' outcomes are
/// independent, so pooling narrows the intervals honestly; it is how a portfolio's calibration
/// is judged when each project alone has only a few dozen origins.
pub fn pool(parts: &[Backtest], confidence: f64) -> Result<Backtest> {
    let first = parts.first().ok_or_else(|| Error::InvalidOption {
        option: "backtests".into(),
        reason: "nothing to pool".into(),
    })?;
    if let Some(other) = parts.iter().find(|b| b.kind != first.kind) {
        return Err(Error::InvalidOption {
            option: "backtests".into(),
            reason: format!(
                "cannot pool different questions: {:?} and {:?}",
                first.kind, other.kind
            ),
        });
    }
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(Error::InvalidOption {
            option: "confidence".into(),
            reason: format!("must be in (0, 1), got {confidence}"),
        });
    }
    let observations: Vec<Observation> = parts
        .iter()
        .flat_map(|b| b.observations.iter().cloned())
        .collect();
    Ok(Backtest {
        kind: first.kind,
        levels: coverage(&observations, confidence),
        observations,
        skipped: parts.iter().map(|b| b.skipped).sum(),
    })
}

/// Per level: how often it held over `observations`, its interval and verdict.
fn coverage(observations: &[Observation], confidence: f64) -> Vec<LevelCoverage> {
    let held: Vec<BTreeMap<u8, bool>> = observations.iter().map(|o| o.held.clone()).collect();
    coverage_of(&held, confidence)
}

/// Per level: how often it held over `held` (one map per origin), its interval and verdict.
pub(crate) fn coverage_of(
    observations: &[BTreeMap<u8, bool>],
    confidence: f64,
) -> Vec<LevelCoverage> {
    LEVELS
        .iter()
        .map(|&level| {
            let total = observations.len();
            let held = observations.iter().filter(|o| o[&level]).count();
            let (lower, upper) = clopper_pearson(held as u64, total as u64, confidence);
            let nominal = f64::from(level) / 100.0;
            let verdict = if upper < nominal {
                Verdict::Overconfident
            } else if lower > nominal {
                Verdict::Underconfident
            } else {
                Verdict::Calibrated
            };
            LevelCoverage {
                level,
                held,
                total,
                rate: held as f64 / total as f64,
                lower,
                upper,
                verdict,
            }
        })
        .collect()
}

/// Windows with nothing done, or futures that never finish, are skipped, not fatal.
fn skip_benign<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(x) => Ok(Some(x)),
        Err(
            Error::AllZeroHistory { .. }
            | Error::NoWorkingDays { .. }
            | Error::NotDoneWithinHorizon { .. },
        ) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The exact (Clopper–Pearson) two-sided interval for a binomial proportion `k / n`.
pub fn clopper_pearson(k: u64, n: u64, confidence: f64) -> (f64, f64) {
    assert!(k <= n && n > 0, "need 0 <= k <= n and n > 0");
    let alpha = 1.0 - confidence;
    let (k, n) = (k as f64, n as f64);
    let lower = if k == 0.0 {
        0.0
    } else {
        Beta::new(k, n - k + 1.0)
            .expect("positive shapes")
            .inverse_cdf(alpha / 2.0)
    };
    let upper = if k == n {
        1.0
    } else {
        Beta::new(k + 1.0, n - k)
            .expect("positive shapes")
            .inverse_cdf(1.0 - alpha / 2.0)
    };
    (lower, upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clopper_pearson_known_values() {
        // Reference values from R's binom.test(85, 100)$conf.int.
        let (lo, hi) = clopper_pearson(85, 100, 0.95);
        assert!((lo - 0.7647).abs() < 1e-3, "{lo}");
        assert!((hi - 0.9135).abs() < 1e-3, "{hi}");
        assert_eq!(clopper_pearson(0, 10, 0.95).0, 0.0);
        assert_eq!(clopper_pearson(10, 10, 0.95).1, 1.0);
    }
}
