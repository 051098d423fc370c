//! The forecasts: when, how many, and multi-feature plans.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use crate::backtest::BacktestKind;
use crate::error::{Error, Result};
use crate::exact;
use crate::history::History;
use crate::options::{
    FeaturesQuery, HowManyQuery, Method, Options, RiskImpact, WhenQuery, positive_items,
};
use crate::sample::{SampleSummary, Warning, sample, working_offsets};
use crate::simulate::{
    Table, add_hist, bump, chunk_rng, draw_growth, draw_scenario, grow, run_chunks, thread_count,
};
use crate::track::{Calibration, Memo, TrackRecord, assess, past_scores};

/// The percentile levels reported: 50, 70, 85 and 95.
pub const LEVELS: [u8; 4] = [50, 70, 85, 95];

/// Tolerance when comparing cumulative probabilities with a level, so that 8 500 of 10 000
/// trials count as 85 % despite rounding.
const EPS: f64 = 1e-9;

/// The answer to "when will these items be done?".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhenForecast {
    /// Day 1 of the forecast.
    pub start: NaiveDate,
    /// Remaining items as asked (before scope growth and risks).
    pub items: u64,
    /// How it was computed.
    pub method: Method,
    /// Monte Carlo trials (`None` in exact mode).
    pub trials: Option<u32>,
    /// Level → date: an 85 % chance of being done **on or before** `percentiles[&85]`.
    pub percentiles: BTreeMap<u8, NaiveDate>,
    /// Date → probability of finishing on that date (dates with zero probability left out).
    pub distribution: BTreeMap<NaiveDate, f64>,
    /// P(done on or before the query's target date), if one was given.
    pub target: Option<TargetLikelihood>,
    /// What was sampled.
    pub sample: SampleSummary,
    /// Things a person should know.
    pub warnings: Vec<Warning>,
    /// How the same question fared at the history's own past origins.
    pub track_record: Option<TrackRecord>,
    /// The levels calibration reported, when it was asked for and had enough past.
    pub calibration: Option<Calibration>,
    /// The model's own percentiles, when calibration moved them.
    pub uncalibrated: Option<BTreeMap<u8, NaiveDate>>,
}

impl WhenForecast {
    /// P(done on or before `day`).
    pub fn probability_by(&self, day: NaiveDate) -> f64 {
        self.distribution.range(..=day).map(|(_, p)| p).sum()
    }
}

/// The likelihood of making a target date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetLikelihood {
    /// The target date.
    pub date: NaiveDate,
    /// P(done on or before it).
    pub probability: f64,
}

/// The answer to "how many items will be done from start to end?".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HowManyForecast {
    /// First day counted.
    pub start: NaiveDate,
    /// Last day counted.
    pub end: NaiveDate,
    /// Working days from start to end.
    pub working_days: u32,
    /// How it was computed.
    pub method: Method,
    /// Monte Carlo trials (`None` in exact mode).
    pub trials: Option<u32>,
    /// Level → items: an 85 % chance of **at least** `percentiles[&85]` items.
    pub percentiles: BTreeMap<u8, u64>,
    /// Items → probability of exactly that many (zero probabilities left out).
    pub distribution: BTreeMap<u64, f64>,
    /// What was sampled.
    pub sample: SampleSummary,
    /// Things a person should know.
    pub warnings: Vec<Warning>,
    /// How the same question fared at the history's own past origins.
    pub track_record: Option<TrackRecord>,
    /// The levels calibration reported, when it was asked for and had enough past.
    pub calibration: Option<Calibration>,
    /// The model's own percentiles, when calibration moved them.
    pub uncalibrated: Option<BTreeMap<u8, u64>>,
}

impl HowManyForecast {
    /// P(at least `items` done).
    pub fn probability_at_least(&self, items: u64) -> f64 {
        self.distribution.range(items..).map(|(_, p)| p).sum()
    }
}

/// The answer for a multi-feature plan: one date distribution per feature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeaturesForecast {
    /// Per feature, in priority order.
    pub features: Vec<FeatureForecast>,
    /// Monte Carlo trials.
    pub trials: u32,
    /// What was sampled.
    pub sample: SampleSummary,
    /// Things a person should know.
    pub warnings: Vec<Warning>,
}

/// One feature's completion dates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureForecast {
    /// The feature's label.
    pub name: String,
    /// Remaining items as asked.
    pub items: u64,
    /// Level → date, as in [`WhenForecast::percentiles`].
    pub percentiles: BTreeMap<u8, NaiveDate>,
    /// Date → probability of finishing on that date.
    pub distribution: BTreeMap<NaiveDate, f64>,
    /// P(done on or before the query's target date), if one was given.
    pub target: Option<TargetLikelihood>,
}

/// Forecasts when `query.items` will be done, by simulation or exactly (`options.method`),
/// with the history's track record and, if asked, calibrated percentiles.
pub fn when(history: &History, query: &WhenQuery, options: &Options) -> Result<WhenForecast> {
    when_memo(history, query, options, &mut Memo::default())
}

/// [`when`] with past outcomes shared through `memo` (backtests reuse them across origins).
pub(crate) fn when_memo(
    history: &History,
    query: &WhenQuery,
    options: &Options,
    memo: &mut Memo,
) -> Result<WhenForecast> {
    let mut f = when_raw(history, query, options)?;
    let kind = BacktestKind::When { items: f.items };
    let scores = past_scores(history, query.start, kind, options, memo)?;
    let (record, calibration) = assess(&scores, kind, options);
    if let Some(c) = &calibration
        && c.changed()
    {
        f.uncalibrated = Some(f.percentiles.clone());
        f.percentiles = date_percentiles_at(&f.distribution, &c.levels);
    }
    f.track_record = record;
    f.calibration = calibration;
    Ok(f)
}

/// The model's forecast alone: no track record, no calibration.
pub(crate) fn when_raw(
    history: &History,
    query: &WhenQuery,
    options: &Options,
) -> Result<WhenForecast> {
    options.validate()?;
    let items = positive_items("items", query.items)?;
    check_not_before("target", query.start, query.target)?;
    let s = sample(history, query.start, options)?;
    let offsets = working_offsets(&s.calendar, query.start, options.max_horizon_days);
    let max_days = offsets.len() as u32;
    let not_done = || Error::NotDoneWithinHorizon {
        start: query.start,
        horizon_days: options.max_horizon_days,
    };
    let (pmf, trials) = match options.method {
        Method::Exact => {
            options.require_exact_basic()?;
            let pmf = exact::when(&s.values, items, max_days).ok_or_else(not_done)?;
            (pmf, None)
        }
        Method::Simulate => {
            let table = Table::new(&s.values);
            let hist = run_chunks(
                options.trials,
                thread_count(options),
                Vec::new,
                |hist: &mut Vec<u64>, chunk, n| {
                    let mut rng = chunk_rng(options.seed, chunk, 0);
                    let mut scen_rng = chunk_rng(options.seed, chunk, 1);
                    let plain = options.scope_growth.is_none() && options.risks.is_empty();
                    for _ in 0..n {
                        let (need, delay) = if plain {
                            (items, 0)
                        } else {
                            let sc = draw_scenario(options, &mut scen_rng);
                            (
                                grow(items, sc.growth_factor) + sc.added_items,
                                sc.delay_days,
                            )
                        };
                        let budget = max_days.checked_sub(delay).ok_or_else(not_done)?;
                        let days = table
                            .days_to_reach(&mut rng, need, budget)
                            .ok_or_else(not_done)?;
                        bump(hist, (days + delay) as usize);
                    }
                    Ok(())
                },
                |a, b| add_hist(a, &b),
            )?;
            (normalise(&hist, options.trials), Some(options.trials))
        }
    };
    let distribution = to_dates(&pmf, &offsets, query.start);
    Ok(WhenForecast {
        start: query.start,
        items,
        method: options.method,
        trials,
        percentiles: date_percentiles(&distribution),
        target: query.target.map(|date| TargetLikelihood {
            date,
            probability: distribution.range(..=date).map(|(_, p)| p).sum(),
        }),
        distribution,
        sample: s.summary,
        warnings: s.warnings,
        track_record: None,
        calibration: None,
        uncalibrated: None,
    })
}

/// Forecasts how many items will be done from `query.start` to `query.end` (inclusive),
/// with the history's track record and, if asked, calibrated percentiles.
///
/// Scope growth and item risks don't change how many items get done, so only delay risks
/// matter here.
pub fn how_many(
    history: &History,
    query: &HowManyQuery,
    options: &Options,
) -> Result<HowManyForecast> {
    how_many_memo(history, query, options, &mut Memo::default())
}

/// [`how_many`] with past outcomes shared through `memo`.
pub(crate) fn how_many_memo(
    history: &History,
    query: &HowManyQuery,
    options: &Options,
    memo: &mut Memo,
) -> Result<HowManyForecast> {
    let mut f = how_many_raw(history, query, options)?;
    let horizon_days = ((query.end - query.start).num_days() + 1) as u32;
    let kind = BacktestKind::HowMany { horizon_days };
    let scores = past_scores(history, query.start, kind, options, memo)?;
    let (record, calibration) = assess(&scores, kind, options);
    if let Some(c) = &calibration
        && c.changed()
    {
        f.uncalibrated = Some(f.percentiles.clone());
        f.percentiles = count_percentiles_at(&f.distribution, &c.levels);
    }
    f.track_record = record;
    f.calibration = calibration;
    Ok(f)
}

/// The model's forecast alone: no track record, no calibration.
pub(crate) fn how_many_raw(
    history: &History,
    query: &HowManyQuery,
    options: &Options,
) -> Result<HowManyForecast> {
    options.validate()?;
    check_not_before("end", query.start, Some(query.end))?;
    let span = (query.end - query.start).num_days() + 1;
    if span > i64::from(options.max_horizon_days) {
        return Err(Error::InvalidOption {
            option: "end".into(),
            reason: format!(
                "{span} days from the start is beyond max_horizon_days ({})",
                options.max_horizon_days
            ),
        });
    }
    let s = sample(history, query.start, options)?;
    let working_days = working_offsets(&s.calendar, query.start, span as u32).len() as u32;
    let (pmf, trials) = match options.method {
        Method::Exact => {
            options.require_exact_basic()?;
            (exact::how_many(&s.values, working_days), None)
        }
        Method::Simulate => {
            let table = Table::new(&s.values);
            let delays = options
                .risks
                .iter()
                .any(|r| matches!(r.impact, RiskImpact::DelayDays { .. }));
            let hist = run_chunks(
                options.trials,
                thread_count(options),
                Vec::new,
                |hist: &mut Vec<u64>, chunk, n| {
                    let mut rng = chunk_rng(options.seed, chunk, 0);
                    let mut scen_rng = chunk_rng(options.seed, chunk, 1);
                    for _ in 0..n {
                        let delay = if delays {
                            draw_scenario(options, &mut scen_rng).delay_days
                        } else {
                            0
                        };
                        let total = table.sum_of_days(&mut rng, working_days.saturating_sub(delay));
                        bump(hist, total as usize);
                    }
                    Ok(())
                },
                |a, b| add_hist(a, &b),
            )?;
            (normalise(&hist, options.trials), Some(options.trials))
        }
    };
    let distribution: BTreeMap<u64, f64> = pmf
        .iter()
        .enumerate()
        .filter(|(_, p)| **p > 0.0)
        .map(|(x, &p)| (x as u64, p))
        .collect();
    Ok(HowManyForecast {
        start: query.start,
        end: query.end,
        working_days,
        method: options.method,
        trials,
        percentiles: count_percentiles(&distribution),
        distribution,
        sample: s.summary,
        warnings: s.warnings,
        track_record: None,
        calibration: None,
        uncalibrated: None,
    })
}

/// Forecasts a multi-feature plan (simulation only; see [`FeaturesQuery`] for the model).
pub fn when_features(
    history: &History,
    query: &FeaturesQuery,
    options: &Options,
) -> Result<FeaturesForecast> {
    options.validate()?;
    if options.method == Method::Exact {
        return Err(Error::ExactUnsupported {
            option: "multi-feature plans",
        });
    }
    if query.features.is_empty() {
        return Err(Error::NoFeatures);
    }
    if query.wip == 0 {
        return Err(Error::InvalidOption {
            option: "wip".into(),
            reason: "must be at least 1".into(),
        });
    }
    let items: Vec<u64> = query
        .features
        .iter()
        .enumerate()
        .map(|(i, f)| positive_items(format!("features[{i}].items"), f.items))
        .collect::<Result<_>>()?;
    check_not_before("target", query.start, query.target)?;
    let s = sample(history, query.start, options)?;
    let offsets = working_offsets(&s.calendar, query.start, options.max_horizon_days);
    let max_days = offsets.len() as u32;
    let not_done = || Error::NotDoneWithinHorizon {
        start: query.start,
        horizon_days: options.max_horizon_days,
    };
    let table = Table::new(&s.values);
    let nf = items.len();
    let wip = (query.wip as usize).min(nf);
    let hists = run_chunks(
        options.trials,
        thread_count(options),
        || vec![Vec::new(); nf],
        |hists: &mut Vec<Vec<u64>>, chunk, n| {
            let mut rng = chunk_rng(options.seed, chunk, 0);
            let mut scen_rng = chunk_rng(options.seed, chunk, 1);
            let mut left = vec![0u64; nf];
            let mut active: Vec<usize> = Vec::with_capacity(wip);
            for _ in 0..n {
                // Each feature grows by its own factor; the plan's risks are drawn once.
                let sc = draw_scenario(options, &mut scen_rng);
                for (l, &it) in left.iter_mut().zip(&items) {
                    *l = grow(it, sc.growth_factor);
                }
                for (l, &it) in left.iter_mut().zip(&items).skip(1) {
                    *l = grow(it, draw_growth(options, &mut scen_rng));
                }
                left[nf - 1] += sc.added_items;
                active.clear();
                active.extend(0..wip);
                let mut next = wip;
                let mut day = sc.delay_days;
                while !active.is_empty() {
                    day += 1;
                    if day > max_days {
                        return Err(not_done());
                    }
                    let mut pool = table.one_day(&mut rng);
                    while pool > 0 && !active.is_empty() {
                        let a = active.len() as u64;
                        let (per, rem) = (pool / a, pool % a);
                        let mut j = 0;
                        while j < active.len() {
                            let f = active[j];
                            let give = per + u64::from((j as u64) < rem);
                            let take = give.min(left[f]).min(pool);
                            left[f] -= take;
                            pool -= take;
                            if left[f] == 0 {
                                bump(&mut hists[f], day as usize);
                                active.remove(j);
                                if next < nf {
                                    active.push(next);
                                    next += 1;
                                }
                            } else {
                                j += 1;
                            }
                        }
                    }
                }
            }
            Ok(())
        },
        |a, b| {
            for (x, y) in a.iter_mut().zip(&b) {
                add_hist(x, y);
            }
        },
    )?;
    let features = query
        .features
        .iter()
        .zip(&items)
        .zip(&hists)
        .map(|((f, &it), hist)| {
            let distribution = to_dates(&normalise(hist, options.trials), &offsets, query.start);
            FeatureForecast {
                name: f.name.clone(),
                items: it,
                percentiles: date_percentiles(&distribution),
                target: query.target.map(|date| TargetLikelihood {
                    date,
                    probability: distribution.range(..=date).map(|(_, p)| p).sum(),
                }),
                distribution,
            }
        })
        .collect();
    Ok(FeaturesForecast {
        features,
        trials: options.trials,
        sample: s.summary,
        warnings: s.warnings,
    })
}

fn check_not_before(field: &'static str, start: NaiveDate, date: Option<NaiveDate>) -> Result<()> {
    match date {
        Some(target) if target < start => Err(Error::TargetBeforeStart {
            field,
            start,
            target,
        }),
        _ => Ok(()),
    }
}

fn normalise(hist: &[u64], trials: u32) -> Vec<f64> {
    hist.iter().map(|&c| c as f64 / f64::from(trials)).collect()
}

/// Working-day pmf (entry k = done on the k-th working day) to a date distribution.
fn to_dates(pmf: &[f64], offsets: &[u32], start: NaiveDate) -> BTreeMap<NaiveDate, f64> {
    pmf.iter()
        .enumerate()
        .skip(1)
        .filter(|(_, p)| **p > 0.0)
        .map(|(k, &p)| (start + Duration::days(i64::from(offsets[k - 1])), p))
        .collect()
}

/// The earliest date by which the cumulative probability reaches each level.
pub(crate) fn date_percentiles(dist: &BTreeMap<NaiveDate, f64>) -> BTreeMap<u8, NaiveDate> {
    date_percentiles_at(dist, &nominal())
}

/// The count reached with at least each level's probability.
pub(crate) fn count_percentiles(dist: &BTreeMap<u64, f64>) -> BTreeMap<u8, u64> {
    count_percentiles_at(dist, &nominal())
}

/// Each reported level at its own probability.
fn nominal() -> BTreeMap<u8, f64> {
    LEVELS.iter().map(|&l| (l, f64::from(l) / 100.0)).collect()
}

/// Per reported level, the earliest date by which the cumulative probability reaches the
/// probability given for it (ascending with the level).
pub(crate) fn date_percentiles_at(
    dist: &BTreeMap<NaiveDate, f64>,
    levels: &BTreeMap<u8, f64>,
) -> BTreeMap<u8, NaiveDate> {
    let mut out = BTreeMap::new();
    let mut cum = 0.0;
    let mut levels = levels.iter().peekable();
    let last = dist.keys().next_back().copied();
    for (&day, &p) in dist {
        cum += p;
        while let Some(&(&l, &x)) = levels.peek() {
            if cum >= x - EPS {
                out.insert(l, day);
                levels.next();
            } else {
                break;
            }
        }
    }
    // Rounding can leave the top level a hair short of the total: it is the last date.
    for (l, _) in levels {
        out.insert(*l, last.expect("a distribution has at least one date"));
    }
    out
}

/// Per reported level, the largest count reached with at least the probability given for it.
pub(crate) fn count_percentiles_at(
    dist: &BTreeMap<u64, f64>,
    levels: &BTreeMap<u8, f64>,
) -> BTreeMap<u8, u64> {
    let mut out = BTreeMap::new();
    let mut surv = 0.0;
    let mut levels = levels.iter().peekable();
    let first = dist.keys().next().copied();
    for (&x, &p) in dist.iter().rev() {
        surv += p;
        while let Some(&(&l, &lv)) = levels.peek() {
            if surv >= lv - EPS {
                out.insert(l, x);
                levels.next();
            } else {
                break;
            }
        }
    }
    for (l, _) in levels {
        out.insert(*l, first.expect("a distribution has at least one count"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn date_percentiles_are_on_or_before() {
        let dist: BTreeMap<_, _> = [
            (d("2026-01-01"), 0.5),
            (d("2026-01-02"), 0.35),
            (d("2026-01-05"), 0.15),
        ]
        .into_iter()
        .collect();
        let p = date_percentiles(&dist);
        assert_eq!(p[&50], d("2026-01-01"));
        assert_eq!(p[&70], d("2026-01-02"));
        assert_eq!(p[&85], d("2026-01-02"));
        assert_eq!(p[&95], d("2026-01-05"));
    }

    #[test]
    fn count_percentiles_are_at_least() {
        let dist: BTreeMap<u64, f64> = [(3, 0.15), (4, 0.35), (5, 0.5)].into_iter().collect();
        let p = count_percentiles(&dist);
        assert_eq!(p[&50], 5);
        assert_eq!(p[&70], 4);
        assert_eq!(p[&85], 4);
        assert_eq!(p[&95], 3);
    }
}
