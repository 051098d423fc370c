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

/// Options shared by every forecast. `Options::default()` is a plain 10 000-trial simulation
/// over the last 90 days, every day a working day, seed 0.
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
        }
    }
}

impl Options {
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
