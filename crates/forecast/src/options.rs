//! Queries and the options shared by every forecast.

use chrono::NaiveDate;
use serde::Serialize;

use crate::calendar::Calendar;
use crate::error::{Error, Result};

/// How a forecast is computed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Monte Carlo: `trials` futures, each day's throughput drawn from the sampling window.
    #[default]
    Simulate,
    /// The same distribution computed exactly by convolving the empirical daily-throughput
    /// distribution: no simulation noise. Supports the plain when / how-many with a calendar;
    /// scope growth, risks and multi-feature plans are an [`Error::ExactUnsupported`].
    Exact,
}

/// Scope growth as a split-rate range.
///
/// Each trial multiplies the remaining items by a factor drawn uniformly from
/// `[1 + lo, 1 + hi]` and rounds up: `lo = 0.1, hi = 0.3` means the backlog grows by 10–30 %
/// as items split or new ones are found. Only "when" forecasts are affected (how many items
/// get done by a date does not depend on the backlog).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScopeGrowth {
    /// Lowest growth rate (≥ 0).
    pub lo: f64,
    /// Highest growth rate (≥ `lo`).
    pub hi: f64,
}

/// What a risk does when it happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskImpact {
    /// Adds a uniform whole number of items in `[lo, hi]` to the backlog ("when" only; in a
    /// multi-feature plan the items join the last feature: discovered work queues at the end).
    Items {
        /// Fewest items added.
        lo: u64,
        /// Most items added.
        hi: u64,
    },
    /// Blocks the team for a uniform whole number of **working** days in `[lo, hi]`: those
    /// days complete nothing. Modelled as blocked days at the start, which, days being
    /// independent draws, gives the same distribution as blocking them anywhere before the end.
    DelayDays {
        /// Fewest working days lost.
        lo: u32,
        /// Most working days lost.
        hi: u32,
    },
}

/// A risk: an event that happens with `likelihood` in a trial and then has `impact`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Risk {
    /// A label for reports.
    pub name: String,
    /// Probability in `[0, 1]` that the risk happens in a given future.
    pub likelihood: f64,
    /// What it does.
    pub impact: RiskImpact,
}

/// Options shared by every forecast. `Options::default()` is a 10 000-trial simulation, seed 0,
/// with every robustness rule on (their defaults were chosen by backtests over the simulator's
/// pathological histories: see docs/forecasting.md); [`Options::plain`] turns them all off.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Options {
    /// Simulate or compute exactly.
    pub method: Method,
    /// Sampling window: the last `window_days` calendar days of history before the start date.
    pub window_days: u32,
    /// Working days; non-working days are neither sampled nor productive.
    pub calendar: Calendar,
    /// Backlog growth, if any.
    pub scope_growth: Option<ScopeGrowth>,
    /// Risks, each drawn independently per trial.
    pub risks: Vec<Risk>,
    /// Monte Carlo trials.
    pub trials: u32,
    /// Seed: the same seed gives the same result whatever the thread count.
    pub seed: u64,
    /// Worker threads; `None` uses the available cores.
    pub threads: Option<usize>,
    /// A trial not done within this many calendar days is an [`Error::NotDoneWithinHorizon`].
    pub max_horizon_days: u32,
    /// Bulk clean-up days are left out of the sample (`None` samples every day as it is).
    pub bulk: Option<BulkRule>,
    /// The window starts no earlier than the current regime (`None`: no change-point test).
    pub change_point: Option<ChangePointRule>,
    /// With the every-day calendar, a history of weekday-only work switches to weekdays.
    pub weekdays: Option<WeekdayRule>,
    /// The window is chosen per history by backtest (`None`: always `window_days`).
    pub auto_window: Option<AutoWindow>,
    /// Each forecast reports how its levels held at the history's own past origins.
    pub track_record: Option<TrackRecordRule>,
    /// Percentiles are moved to the levels that held as stated on the history's own past
    /// (needs `track_record`; see [`crate::TrackRecord`]).
    pub calibrate: bool,
}

/// Bulk clean-up days: a day that finished more than `max(min_items, factor × p90)` items,
/// p90 being the 90th percentile of the days that finished anything in the last
/// `lookback_days`, is left out of the sample (and named in a warning).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BulkRule {
    /// Multiple of the p90 day above which a day is a clean-up.
    pub factor: f64,
    /// No day with fewer items than this is a clean-up.
    pub min_items: u64,
}

impl Default for BulkRule {
    fn default() -> Self {
        Self {
            factor: 5.0,
            min_items: 20,
        }
    }
}

/// Regime changes: Pettitt's test over the last `lookback_days` of working days, applied
/// again after each significant change; the window starts at the last change found.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChangePointRule {
    /// Significance level of each test (the false-alarm rate on a stationary history).
    pub alpha: f64,
    /// Calendar days of history searched for a change.
    pub lookback_days: u32,
    /// A change is only accepted with at least this many working days after it.
    pub min_regime_days: u32,
}

impl Default for ChangePointRule {
    fn default() -> Self {
        Self {
            alpha: 0.01,
            lookback_days: 365,
            min_regime_days: 20,
        }
    }
}

/// Weekday-only work: over the last `lookback_days`, at least `min_items` items and at most
/// `max_weekend_share` of them on Saturdays and Sundays. Weekends are then neither sampled nor
/// productive (weekdays are sampled from weekdays).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WeekdayRule {
    /// Largest share of items done at weekends that still counts as weekday-only.
    pub max_weekend_share: f64,
    /// Fewest items over the lookback to decide at all.
    pub min_items: u64,
    /// Calendar days looked at.
    pub lookback_days: u32,
}

impl Default for WeekdayRule {
    fn default() -> Self {
        Self {
            max_weekend_share: 0.02,
            min_items: 20,
            lookback_days: 91,
        }
    }
}

/// The window chosen by backtest: at `origins` past origins a week apart, each candidate's
/// forecast of the next `horizon_days` is scored against what happened with the continuous
/// ranked probability score (CRPS) of its normal approximation, and the candidate with the
/// lowest mean score is used. Too little history for `min_origins` keeps `window_days`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AutoWindow {
    /// Windows tried, in calendar days.
    pub candidates: Vec<u32>,
    /// Past origins scored.
    pub origins: u32,
    /// Days forecast at each origin.
    pub horizon_days: u32,
    /// Fewest scorable origins to choose at all.
    pub min_origins: u32,
}

impl Default for AutoWindow {
    fn default() -> Self {
        Self {
            candidates: vec![30, 60, 90, 180, 365],
            origins: 26,
            horizon_days: 14,
            min_origins: 6,
        }
    }
}

/// The track record: the same question asked at past origins `step_days` apart (the latest
/// `origins` whose outcome was known before the start date), with what happened.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrackRecordRule {
    /// Most past origins evaluated.
    pub origins: u32,
    /// Days between origins.
    pub step_days: u32,
    /// Fewest evaluated origins to report (and calibrate) at all.
    pub min_origins: u32,
    /// Calibration leaves a level alone while its past hit count lies between the conformal
    /// target `⌈(n+1)·level⌉` and `n·(level + tolerance)`.
    pub tolerance: f64,
}

impl Default for TrackRecordRule {
    fn default() -> Self {
        Self {
            origins: 52,
            step_days: 7,
            min_origins: 6,
            tolerance: 0.05,
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            method: Method::Simulate,
            window_days: 90,
            calendar: Calendar::every_day(),
            scope_growth: None,
            risks: Vec::new(),
            trials: 10_000,
            seed: 0,
            threads: None,
            max_horizon_days: 3653,
            bulk: Some(BulkRule::default()),
            change_point: Some(ChangePointRule::default()),
            weekdays: Some(WeekdayRule::default()),
            auto_window: Some(AutoWindow::default()),
            track_record: Some(TrackRecordRule::default()),
            calibrate: true,
        }
    }
}

impl Options {
    /// The plain model: the last `window_days` days sampled as they are, no detection, no
    /// track record, no calibration.
    pub fn plain() -> Self {
        Self {
            bulk: None,
            change_point: None,
            weekdays: None,
            auto_window: None,
            track_record: None,
            calibrate: false,
            ..Self::default()
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |option: String, reason: String| Err(Error::InvalidOption { option, reason });
        if self.window_days == 0 {
            return bad("window_days".into(), "must be at least 1".into());
        }
        if self.trials == 0 {
            return bad("trials".into(), "must be at least 1".into());
        }
        if self.threads == Some(0) {
            return bad("threads".into(), "must be at least 1".into());
        }
        if self.max_horizon_days == 0 {
            return bad("max_horizon_days".into(), "must be at least 1".into());
        }
        if let Some(g) = self.scope_growth
            && !(g.lo.is_finite() && g.hi.is_finite() && 0.0 <= g.lo && g.lo <= g.hi)
        {
            return bad(
                "scope_growth".into(),
                format!("need 0 <= lo <= hi, got lo={} hi={}", g.lo, g.hi),
            );
        }
        if let Some(b) = self.bulk
            && !(b.factor.is_finite() && b.factor >= 1.0)
        {
            return bad(
                "bulk.factor".into(),
                format!("must be at least 1, got {}", b.factor),
            );
        }
        if let Some(c) = self.change_point {
            if !(c.alpha > 0.0 && c.alpha < 1.0) {
                return bad(
                    "change_point.alpha".into(),
                    format!("must be in (0, 1), got {}", c.alpha),
                );
            }
            if c.min_regime_days == 0 || c.lookback_days == 0 {
                return bad(
                    "change_point".into(),
                    "lookback_days and min_regime_days must be at least 1".into(),
                );
            }
        }
        if let Some(w) = self.weekdays
            && !(0.0..1.0).contains(&w.max_weekend_share)
        {
            return bad(
                "weekdays.max_weekend_share".into(),
                format!("must be in [0, 1), got {}", w.max_weekend_share),
            );
        }
        if let Some(a) = &self.auto_window
            && (a.candidates.is_empty()
                || a.candidates.contains(&0)
                || a.horizon_days == 0
                || a.origins == 0)
        {
            return bad(
                "auto_window".into(),
                "needs candidates (each at least 1 day), origins and horizon_days".into(),
            );
        }
        if let Some(t) = self.track_record
            && (t.origins == 0 || t.step_days == 0 || !(0.0..1.0).contains(&t.tolerance))
        {
            return bad(
                "track_record".into(),
                "origins and step_days must be at least 1, tolerance in [0, 1)".into(),
            );
        }
        if self.calibrate && self.track_record.is_none() {
            return bad(
                "calibrate".into(),
                "calibration needs a track record (track_record)".into(),
            );
        }
        for (i, r) in self.risks.iter().enumerate() {
            if !(0.0..=1.0).contains(&r.likelihood) {
                return bad(
                    format!("risks[{i}].likelihood"),
                    format!("must be in [0, 1], got {}", r.likelihood),
                );
            }
            let ordered = match r.impact {
                RiskImpact::Items { lo, hi } => lo <= hi,
                RiskImpact::DelayDays { lo, hi } => lo <= hi,
            };
            if !ordered {
                return bad(format!("risks[{i}].impact"), "need lo <= hi".into());
            }
        }
        Ok(())
    }

    pub(crate) fn require_exact_basic(&self) -> Result<()> {
        if self.scope_growth.is_some() {
            return Err(Error::ExactUnsupported {
                option: "scope_growth",
            });
        }
        if !self.risks.is_empty() {
            return Err(Error::ExactUnsupported { option: "risks" });
        }
        Ok(())
    }
}

/// "When will these items be done?"
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhenQuery {
    /// Day 1 of the forecast (usually the day after the history's last day).
    pub start: NaiveDate,
    /// Remaining items (≥ 1).
    pub items: i64,
    /// A target date whose likelihood (P(done on or before it)) is reported.
    pub target: Option<NaiveDate>,
}

/// "How many items will be done from `start` to `end`, both days inclusive?"
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HowManyQuery {
    /// First day counted.
    pub start: NaiveDate,
    /// Last day counted (≥ `start`).
    pub end: NaiveDate,
}

/// One feature of a multi-feature plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Feature {
    /// A label for reports.
    pub name: String,
    /// Remaining items (≥ 1).
    pub items: i64,
}

/// "When will each of these features be done?" — features in priority order, `wip` at a
/// time. The team's daily throughput is dealt out one item at a time, round-robin over the
/// active features in priority order; when a feature is done the next waiting one starts
/// the same day and takes any throughput left over. `wip = 1` is strictly sequential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeaturesQuery {
    /// Day 1 of the forecast.
    pub start: NaiveDate,
    /// Features, highest priority first.
    pub features: Vec<Feature>,
    /// How many features the team works on in parallel (≥ 1).
    pub wip: u32,
    /// A target date whose likelihood is reported per feature.
    pub target: Option<NaiveDate>,
}

pub(crate) fn positive_items(field: impl Into<String>, items: i64) -> Result<u64> {
    if items <= 0 {
        return Err(Error::InvalidItems {
            field: field.into(),
            items,
        });
    }
    Ok(items as u64)
}
