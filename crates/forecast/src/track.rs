//! A forecast's track record on its own history, and calibration from it.
//!
//! At past origins a week apart (the latest [`TrackRecordRule::origins`] whose outcome was
//! known before the start date) the same question is asked again, with the same options, and
//! compared with what happened. Each past origin gives one number, its probability integral
//! transform `u`: for "when", `P(done before the actual day)`; for "how many",
//! `P(more than the actual count)`. A level `l` held at that origin exactly when `u < l`, so
//! the `u`s give the hit rate of every level at once.
//!
//! Calibration (split-conformal in the sense of Vovk et al., *Algorithmic Learning in a
//! Random World*, 2005, applied to the `u` scores as in Kuleshov et al., "Accurate
//! Uncertainties for Deep Learning Using Calibrated Regression", ICML 2018) reports, for each
//! stated level `l`, the percentile of the forecast's distribution at the level `l'` that held
//! `⌈(n+1)·l⌉` times out of the `n` past origins: the smallest hit count that, for
//! exchangeable origins, makes the stated level hold at least `l` of the time. A level whose
//! past hit count already lies between that target and `n·(l + tolerance)` is left exactly as
//! it is, so a history that was already calibrated gets the same answer.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use crate::backtest::{BacktestKind, LevelCoverage, coverage_of};
use crate::error::{Error, Result};
use crate::forecast::{LEVELS, how_many_raw, when_raw};
use crate::history::History;
use crate::options::{HowManyQuery, Method, Options, WhenQuery};

/// Confidence of the track record's Clopper–Pearson intervals.
pub const TRACK_CONFIDENCE: f64 = 0.95;

/// How the forecast's levels held at its history's own past origins.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackRecord {
    /// The question asked at each past origin (the forecast's own).
    pub kind: BacktestKind,
    /// Past origins evaluated.
    pub origins: usize,
    /// The earliest of them.
    pub first_origin: NaiveDate,
    /// The latest of them.
    pub last_origin: NaiveDate,
    /// Per level (50, 70, 85, 95): how often it held, with a 95 % Clopper–Pearson interval.
    /// These are the uncalibrated forecasts' hits: calibration is fitted on them.
    pub levels: Vec<LevelCoverage>,
}

impl TrackRecord {
    /// The coverage of one level, if reported.
    pub fn level(&self, level: u8) -> Option<&LevelCoverage> {
        self.levels.iter().find(|l| l.level == level)
    }
}

/// How calibration moved the levels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    /// Stated level → the level of the model's distribution reported for it (equal when
    /// that level already held as stated).
    pub levels: BTreeMap<u8, f64>,
    /// Past origins it was fitted on.
    pub origins: usize,
}

impl Calibration {
    /// Whether any level moved.
    pub fn changed(&self) -> bool {
        self.levels.iter().any(|(&l, &x)| x != f64::from(l) / 100.0)
    }
}

/// One past origin's forecast and what happened, from which its `u` score at any later
/// start date follows.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// "How many": the score, known once the horizon's last day has passed.
    Count { u: f64, known: NaiveDate },
    /// "When": judged once the forecast's p99 date has passed (a rule that looks only at the
    /// forecast, so slow outcomes are not left out); the score is `P(T < done)`, where work
    /// not done by the start date counts as done on it (a lower bound that fails every level).
    Date {
        cdf: BTreeMap<NaiveDate, f64>,
        p99: NaiveDate,
        done: Option<NaiveDate>,
    },
}

impl Outcome {
    /// The `u` score as known on the day before `start`, or `None` if not yet judged.
    fn score(&self, start: NaiveDate) -> Option<f64> {
        match self {
            Outcome::Count { u, known } => (*known < start).then_some(*u),
            Outcome::Date { cdf, p99, done } => {
                if *p99 >= start {
                    return None;
                }
                let seen = done.map_or(start, |d| d.min(start));
                Some(cdf.range(..seen).next_back().map_or(0.0, |(_, c)| *c))
            }
        }
    }
}

/// Past origins' outcomes, by origin, for one history, question and options: a backtest
/// shares it across its origins, so each past forecast is computed once.
#[derive(Debug, Default)]
pub(crate) struct Memo(HashMap<NaiveDate, Option<Outcome>>);

/// The options of the past forecasts: the same sampling, computed exactly, with no risks,
/// scope growth or calibration (what is judged is the throughput model).
fn past_options(options: &Options) -> Options {
    Options {
        method: Method::Exact,
        risks: Vec::new(),
        scope_growth: None,
        track_record: None,
        calibrate: false,
        ..options.clone()
    }
}

/// The outcome at `origin`, or `None` when it cannot be judged (nothing to sample, never
/// done in the history).
fn outcome(
    history: &History,
    origin: NaiveDate,
    kind: BacktestKind,
    options: &Options,
) -> Result<Option<Outcome>> {
    let r = match kind {
        BacktestKind::HowMany { horizon_days } => {
            let end = origin + Duration::days(i64::from(horizon_days.max(1)) - 1);
            if end > history.last_day() {
                return Ok(None);
            }
            let actual = history.done_between(origin, end);
            how_many_raw(history, &HowManyQuery { start: origin, end }, options).map(|f| {
                Outcome::Count {
                    u: f.distribution.range(actual + 1..).map(|(_, p)| p).sum(),
                    known: end,
                }
            })
        }
        BacktestKind::When { items } => {
            let mut total = 0;
            let done = origin
                .iter_days()
                .take_while(|d| *d <= history.last_day())
                .find(|d| {
                    total += history.on(*d);
                    total >= items
                });
            let q = WhenQuery {
                start: origin,
                items: i64::try_from(items).unwrap_or(i64::MAX),
                target: None,
            };
            when_raw(history, &q, options).map(|f| {
                let mut cum = 0.0;
                let cdf: BTreeMap<NaiveDate, f64> = f
                    .distribution
                    .iter()
                    .map(|(&d, &p)| {
                        cum += p;
                        (d, cum)
                    })
                    .collect();
                let p99 = cdf
                    .iter()
                    .find(|(_, c)| **c >= 0.99 - 1e-9)
                    .or_else(|| cdf.iter().next_back())
                    .map(|(d, _)| *d)
                    .expect("a distribution has a date");
                Outcome::Date { cdf, p99, done }
            })
        }
    };
    match r {
        Ok(o) => Ok(Some(o)),
        Err(
            Error::AllZeroHistory { .. }
            | Error::NoWorkingDays { .. }
            | Error::NotDoneWithinHorizon { .. }
            | Error::NoHistoryBeforeStart { .. },
        ) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The `u` scores of the latest past origins (`start − step`, `start − 2·step`, …) whose
/// outcome was known before `start`, newest first, with their origins.
pub(crate) fn past_scores(
    history: &History,
    start: NaiveDate,
    kind: BacktestKind,
    options: &Options,
    memo: &mut Memo,
) -> Result<Vec<(NaiveDate, f64)>> {
    let Some(rule) = options.track_record else {
        return Ok(Vec::new());
    };
    let past = past_options(options);
    let mut out = Vec::new();
    let mut origin = start;
    while out.len() < rule.origins as usize {
        origin -= Duration::days(i64::from(rule.step_days));
        if origin <= history.first_day() {
            break;
        }
        let o = match memo.0.entry(origin) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(outcome(history, origin, kind, &past)?)
            }
        };
        if let Some(u) = o.as_ref().and_then(|o| o.score(start)) {
            out.push((origin, u));
        }
    }
    Ok(out)
}

/// The track record and, when asked for, the calibration, from the past scores.
pub(crate) fn assess(
    scores: &[(NaiveDate, f64)],
    kind: BacktestKind,
    options: &Options,
) -> (Option<TrackRecord>, Option<Calibration>) {
    let Some(rule) = options.track_record else {
        return (None, None);
    };
    if scores.len() < rule.min_origins.max(1) as usize {
        return (None, None);
    }
    let us: Vec<f64> = scores.iter().map(|(_, u)| *u).collect();
    let held: Vec<BTreeMap<u8, bool>> = us
        .iter()
        .map(|&u| LEVELS.iter().map(|&l| (l, u < level(l))).collect())
        .collect();
    let record = TrackRecord {
        kind,
        origins: us.len(),
        first_origin: scores.iter().map(|s| s.0).min().expect("non-empty"),
        last_origin: scores.iter().map(|s| s.0).max().expect("non-empty"),
        levels: coverage_of(&held, TRACK_CONFIDENCE),
    };
    let calibration = options.calibrate.then(|| Calibration {
        levels: calibrated_levels(&us, rule.tolerance),
        origins: us.len(),
    });
    (Some(record), calibration)
}

fn level(l: u8) -> f64 {
    f64::from(l) / 100.0
}

/// Per stated level, the model level to report (see the module docs).
pub(crate) fn calibrated_levels(us: &[f64], tolerance: f64) -> BTreeMap<u8, f64> {
    let mut sorted = us.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let held = |x: f64| sorted.iter().filter(|&&u| u < x).count();
    let mut out = BTreeMap::new();
    let mut floor = 0.0f64;
    for &l in &LEVELS {
        let tau = level(l);
        let lo = (((n + 1) as f64 * tau).ceil() as usize).min(n);
        let hi = ((n as f64 * (tau + tolerance)).floor() as usize).clamp(lo, n);
        let h = held(tau);
        let mut x = if (lo..=hi).contains(&h) {
            tau
        } else if h < lo {
            // Just above the lo-th smallest score: exactly the origins up to it hold.
            next_up(sorted[lo - 1])
        } else {
            // Narrow to the hi+1-th smallest score (it holds for those below), but never
            // below the conformal target.
            let x = sorted[hi.min(n - 1)];
            if held(x) >= lo {
                x
            } else {
                next_up(sorted[lo - 1])
            }
        };
        x = x.clamp(floor, 1.0);
        floor = x;
        out.insert(l, x);
    }
    out
}

/// The next level above `x` (a hair more than any rounding), capped at 1.
fn next_up(x: f64) -> f64 {
    (x + 1e-9).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_calibrated_past_changes_nothing() {
        // 40 origins, u = i/41: level l holds ⌈41·l⌉ times, the conformal target.
        let us: Vec<f64> = (0..40).map(|i| f64::from(i) / 41.0).collect();
        for (&l, &x) in &calibrated_levels(&us, 0.05) {
            assert_eq!(x, level(l), "p{l}");
        }
    }

    #[test]
    fn an_overconfident_past_widens_and_an_underconfident_one_narrows() {
        // The model's p85 held only 60 % of the time: u is skewed high.
        let us: Vec<f64> = (0..40)
            .map(|i| ((f64::from(i) + 0.5) / 40.0).sqrt())
            .collect();
        let c = calibrated_levels(&us, 0.05);
        assert!(c[&85] > 0.85, "{c:?}");
        let held = us.iter().filter(|&&u| u < c[&85]).count();
        assert!(held >= 35, "{held}"); // ⌈41 × 0.85⌉ = 35
        // Held always: narrowed, but never below the conformal target.
        let us: Vec<f64> = (0..40).map(|i| f64::from(i) / 400.0).collect();
        let c = calibrated_levels(&us, 0.05);
        assert!(c[&85] < 0.85, "{c:?}");
        assert!(us.iter().filter(|&&u| u < c[&85]).count() >= 35);
        assert!(c[&50] <= c[&70] && c[&70] <= c[&85] && c[&85] <= c[&95]);
    }
}
