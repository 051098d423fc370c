//! Monte Carlo forecasting and backtesting of delivery: "when will these N items be done?"
//! and "how many items will be done by date D?", as percentiles and full distributions.
//!
//! # Where it sits
//!
//! `flowlake-forecast` is the pure end of the pipeline: the CLI reads `mart_throughput_daily`
//! (items done per day, zero days present) into a [`History`] and asks this crate. No IO, no
//! async, no DataFusion, no clock: every forecast takes an explicit start date, and a seed.
//!
//! # Model
//!
//! Each future working day completes a number of items drawn uniformly from the working days
//! of the sampling window (the last `window_days` of history before the start date).
//!
//! Real histories are not that kind, so by default (each rule an option, the defaults chosen
//! by backtests over the simulator's pathological histories, see `docs/forecasting.md`):
//! bulk clean-up days are left out of the sample ([`BulkRule`]); the window starts no earlier
//! than the last regime change found by Pettitt's test ([`ChangePointRule`]); weekday-only
//! work is sampled weekdays from weekdays ([`WeekdayRule`]); the window's length is chosen
//! per history by backtest ([`AutoWindow`]); every forecast reports its [`TrackRecord`] (how
//! the same question fared at the history's own past origins) and its percentiles are
//! calibrated on it, split-conformal style ([`Calibration`]). [`Options::plain`] is the model
//! without any of them.
//! Day 1 is the start date. [`Method::Simulate`] runs Monte Carlo trials in deterministic
//! parallel chunks; [`Method::Exact`] computes the same distributions by convolution (no
//! noise) for the plain questions. Options add a working-day [`Calendar`], [`ScopeGrowth`],
//! [`Risk`]s, a multi-feature plan with a team WIP ([`when_features`]), and a target-date
//! likelihood. Randomness comes from [`Options::seed`] rather than a caller's `&mut impl Rng`:
//! each chunk of trials derives its own RNG from `(seed, chunk index)`, which is what lets the
//! chunks run on any number of threads and still give the same answer. [`backtest`] replays the forecast at past origins and reports how often each
//! percentile held, with Clopper–Pearson intervals.
//!
//! # Key types
//!
//! - [`History`]: validated days and counts (also from CSV `day,items_done`).
//! - [`WhenQuery`] → [`when`] → [`WhenForecast`]: `p85` = 85 % chance of being done **on or
//!   before** that date.
//! - [`HowManyQuery`] → [`how_many`] → [`HowManyForecast`]: `p85` = 85 % chance of **at least**
//!   that many items.
//!
//! # Example
//!
//! ```
//! use flowlake_forecast::{History, Method, Options, WhenQuery, HowManyQuery, when, how_many};
//!
//! let history = History::from_csv_str(
//!     "day,items_done\n2026-01-01,2\n2026-01-02,0\n2026-01-03,3\n2026-01-04,1\n",
//! )?;
//! let start = "2026-01-05".parse().unwrap();
//! let options = Options { method: Method::Exact, ..Options::default() };
//!
//! let done = when(&history, &WhenQuery { start, items: 10, target: None }, &options)?;
//! assert!(done.percentiles[&50] <= done.percentiles[&85]);
//! assert_eq!(done.warnings.len(), 2); // 4 days of history, 3 of them non-zero
//!
//! let end = "2026-01-14".parse().unwrap(); // 10 days, both ends included
//! let many = how_many(&history, &HowManyQuery { start, end }, &options)?;
//! assert!(many.percentiles[&85] <= many.percentiles[&50]);
//!
//! // The two questions agree: P(done by a day) = P(at least 10 items by that day).
//! let p = done.probability_by(end);
//! assert!((p - many.probability_at_least(10)).abs() < 1e-9);
//! # Ok::<(), flowlake_forecast::Error>(())
//! ```
#![deny(missing_docs)]

mod backtest;
mod calendar;
mod detect;
mod error;
mod exact;
mod forecast;
mod history;
mod options;
mod sample;
mod simulate;
mod track;

pub use backtest::{
    Backtest, BacktestKind, BacktestQuery, LevelCoverage, Observation, Verdict, backtest,
    clopper_pearson, pool,
};
pub use calendar::Calendar;
pub use error::{Error, Result};
pub use forecast::{
    FeatureForecast, FeaturesForecast, HowManyForecast, LEVELS, TargetLikelihood, WhenForecast,
    how_many, when, when_features,
};
pub use history::History;
pub use options::{
    AutoWindow, BulkRule, ChangePointRule, Feature, FeaturesQuery, HowManyQuery, Method, Options,
    Risk, RiskImpact, ScopeGrowth, TrackRecordRule, WeekdayRule, WhenQuery,
};
pub use sample::{
    BulkDay, MIN_HISTORY_DAYS, MIN_NON_ZERO_DAYS, SampleSummary, Warning, WindowChoice,
};
pub use track::{Calibration, TRACK_CONFIDENCE, TrackRecord};
