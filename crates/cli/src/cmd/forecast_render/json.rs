//! `--format json`: one `#[derive(Serialize)]` struct per output, serialized by serde_json.
//!
//! These shapes are a contract with the programs that read them (`tests/it/json_shapes.rs`
//! pins their keys, `forecast/tests/render.rs` one object of each in full): a field is
//! renamed or dropped only on purpose. An absent answer is `null`, never a missing key, except
//! that a backtest names either its one `history` or its pooled `source` and `sources`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use flowlake_forecast::{
    Backtest, BacktestKind, BulkDay, Calibration, History, HowManyForecast, LevelCoverage, Method,
    Observation, Options, SampleSummary, TargetLikelihood, TrackRecord, Warning, WhenForecast,
    WindowChoice,
};
use serde::Serialize;

use super::{BacktestSection, Meta, method_name};
use crate::cmd::forecast::{CONFIDENCE, overlap_warning};

/// `forecast when`.
#[derive(Serialize)]
struct WhenJson<'a> {
    /// Always `"when"`.
    question: &'static str,
    items: u64,
    start: NaiveDate,
    /// Level → the day done on or before, with that chance.
    percentiles: &'a BTreeMap<u8, NaiveDate>,
    distribution: Vec<DayJson>,
    target: Option<TargetJson>,
    sample: SampleJson<'a>,
    track_record: Option<&'a TrackRecord>,
    calibration: Option<CalibrationJson<'a>>,
    /// The model's own answers when calibration moved them.
    uncalibrated_percentiles: Option<&'a BTreeMap<u8, NaiveDate>>,
    method: MethodJson<'a>,
    history: HistoryJson<'a>,
    warnings: Vec<WarningJson<'a>>,
}

/// `forecast how-many`.
#[derive(Serialize)]
struct HowManyJson<'a> {
    /// Always `"how_many"`.
    question: &'static str,
    start: NaiveDate,
    until: NaiveDate,
    working_days: u32,
    /// Level → at least this many items, with that chance.
    percentiles: &'a BTreeMap<u8, u64>,
    distribution: Vec<CountJson>,
    sample: SampleJson<'a>,
    track_record: Option<&'a TrackRecord>,
    calibration: Option<CalibrationJson<'a>>,
    uncalibrated_percentiles: Option<&'a BTreeMap<u8, u64>>,
    method: MethodJson<'a>,
    history: HistoryJson<'a>,
    warnings: Vec<WarningJson<'a>>,
}

/// `forecast backtest` with one question: one history's backtest, or the pool of several.
#[derive(Serialize)]
struct BacktestJson<'a> {
    /// Always `"backtest"`.
    question: &'static str,
    kind: BacktestKind,
    step_days: u32,
    /// Of the levels' Clopper–Pearson intervals.
    confidence: f64,
    origins: usize,
    skipped: usize,
    /// Per level: `{level, held, total, rate, lower, upper, verdict}`.
    levels: &'a [LevelCoverage],
    observations: Vec<ObservationJson<'a>>,
    #[serde(flatten)]
    histories: HistoriesJson<'a>,
    method: MethodJson<'a>,
    warnings: Vec<BacktestWarningJson>,
}

/// `forecast backtest` with both questions: each as it prints alone.
#[derive(Serialize)]
struct BothQuestionsJson<'a> {
    questions: Vec<BacktestJson<'a>>,
}

/// Which histories a backtest covers.
#[derive(Serialize)]
#[serde(untagged)]
enum HistoriesJson<'a> {
    One {
        history: HistoryJson<'a>,
    },
    /// `"source": "pooled"`, and each history's own backtest.
    Pooled {
        source: &'static str,
        sources: Vec<SourceJson<'a>>,
    },
}

/// One history's backtest inside a pool.
#[derive(Serialize)]
struct SourceJson<'a> {
    source: &'a str,
    first_day: NaiveDate,
    last_day: NaiveDate,
    origins: usize,
    skipped: usize,
    levels: &'a [LevelCoverage],
}

/// How the forecast ran (`method`).
#[derive(Serialize)]
struct MethodJson<'a> {
    /// `"simulate"` or `"exact"`.
    name: &'static str,
    /// `null` for the exact method.
    trials: Option<u32>,
    seed: u64,
    window_days: u32,
    weekdays_only: bool,
    holidays: &'a [NaiveDate],
    rules: Rules,
}

/// Which robustness rules the forecast ran with (`method.rules`).
#[derive(Serialize)]
struct Rules {
    bulk_exclusion: bool,
    change_point: bool,
    weekday_detection: bool,
    auto_window: bool,
    track_record: bool,
    calibration: bool,
}

/// The history forecast from (`history`).
#[derive(Serialize)]
struct HistoryJson<'a> {
    source: &'a str,
    first_day: NaiveDate,
    last_day: NaiveDate,
    days: usize,
}

/// The sample: the window, and what the rules did to it.
#[derive(Serialize)]
struct SampleJson<'a> {
    window_start: NaiveDate,
    window_end: NaiveDate,
    calendar_days: usize,
    working_days: usize,
    non_zero_days: usize,
    mean_per_working_day: f64,
    window_days: u32,
    window_choice: &'a WindowChoice,
    weekdays_detected: bool,
    bulk_days: &'a [BulkDay],
    regime_start: Option<NaiveDate>,
}

/// One day `when` may finish on.
#[derive(Serialize)]
struct DayJson {
    date: NaiveDate,
    probability: f64,
    /// Done on or before this day.
    cumulative: f64,
}

/// One count `how-many` may reach.
#[derive(Serialize)]
struct CountJson {
    items: u64,
    probability: f64,
    /// At least this many.
    at_least: f64,
}

/// The chance of done on or before `--target`.
#[derive(Serialize)]
struct TargetJson {
    date: NaiveDate,
    probability: f64,
}

#[derive(Serialize)]
struct CalibrationJson<'a> {
    /// Stated level → the model's level reported for it, as a probability.
    levels: &'a BTreeMap<u8, f64>,
    origins: usize,
    changed: bool,
}

/// A forecast's warning: its kind and details, and the sentence stderr would print.
#[derive(Serialize)]
struct WarningJson<'a> {
    #[serde(flatten)]
    warning: &'a Warning,
    message: String,
}

/// A backtest's warning (only `overlapping_origins` so far).
#[derive(Serialize)]
struct BacktestWarningJson {
    kind: &'static str,
    message: String,
}

#[derive(Serialize)]
struct ObservationJson<'a> {
    origin: NaiveDate,
    /// Level → whether it held at this origin.
    held: &'a BTreeMap<u8, bool>,
}

impl Rules {
    fn of(o: &Options) -> Self {
        Self {
            bulk_exclusion: o.bulk.is_some(),
            change_point: o.change_point.is_some(),
            weekday_detection: o.weekdays.is_some(),
            auto_window: o.auto_window.is_some(),
            track_record: o.track_record.is_some(),
            calibration: o.calibrate,
        }
    }
}

impl<'a> MethodJson<'a> {
    fn of(meta: &Meta<'a>, method: Method, trials: Option<u32>) -> Self {
        Self {
            name: method_name(method),
            trials,
            seed: meta.options.seed,
            window_days: meta.options.window_days,
            weekdays_only: meta.calendar.weekdays_only,
            holidays: &meta.calendar.holidays,
            rules: Rules::of(meta.options),
        }
    }
}

impl<'a> HistoryJson<'a> {
    fn of(source: &'a str, h: &History) -> Self {
        Self {
            source,
            first_day: h.first_day(),
            last_day: h.last_day(),
            days: h.len(),
        }
    }
}

impl<'a> SampleJson<'a> {
    fn of(s: &'a SampleSummary) -> Self {
        Self {
            window_start: s.window_start,
            window_end: s.window_end,
            calendar_days: s.calendar_days,
            working_days: s.working_days,
            non_zero_days: s.non_zero_days,
            mean_per_working_day: s.mean_per_working_day,
            window_days: s.window_days,
            window_choice: &s.window_choice,
            weekdays_detected: s.weekdays_detected,
            bulk_days: &s.bulk_days,
            regime_start: s.regime_start,
        }
    }
}

impl TargetJson {
    fn of(t: &TargetLikelihood) -> Self {
        Self {
            date: t.date,
            probability: t.probability,
        }
    }
}

impl<'a> CalibrationJson<'a> {
    fn of(c: &'a Calibration) -> Self {
        Self {
            levels: &c.levels,
            origins: c.origins,
            changed: c.changed(),
        }
    }
}

fn warnings(ws: &[Warning]) -> Vec<WarningJson<'_>> {
    ws.iter()
        .map(|w| WarningJson {
            warning: w,
            message: w.to_string(),
        })
        .collect()
}

fn observations(os: &[Observation]) -> Vec<ObservationJson<'_>> {
    os.iter()
        .map(|o| ObservationJson {
            origin: o.origin,
            held: &o.held,
        })
        .collect()
}

/// Pretty JSON with a final newline.
fn pretty(v: &impl Serialize) -> String {
    // Every map here is keyed by levels, so serializing cannot fail.
    let mut s = serde_json::to_string_pretty(v).expect("forecast JSON serializes");
    s.push('\n');
    s
}

pub(super) fn when(f: &WhenForecast, meta: &Meta<'_>) -> String {
    let mut cumulative = 0.0;
    let distribution = f
        .distribution
        .iter()
        .map(|(&date, &probability)| {
            cumulative += probability;
            DayJson {
                date,
                probability,
                cumulative,
            }
        })
        .collect();
    pretty(&WhenJson {
        question: "when",
        items: f.items,
        start: f.start,
        percentiles: &f.percentiles,
        distribution,
        target: f.target.as_ref().map(TargetJson::of),
        sample: SampleJson::of(&f.sample),
        track_record: f.track_record.as_ref(),
        calibration: f.calibration.as_ref().map(CalibrationJson::of),
        uncalibrated_percentiles: f.uncalibrated.as_ref(),
        method: MethodJson::of(meta, f.method, f.trials),
        history: HistoryJson::of(meta.source, meta.history),
        warnings: warnings(&f.warnings),
    })
}

pub(super) fn how_many(f: &HowManyForecast, meta: &Meta<'_>) -> String {
    let total: f64 = f.distribution.values().sum();
    let mut below = 0.0;
    let distribution = f
        .distribution
        .iter()
        .map(|(&items, &probability)| {
            let at_least = total - below;
            below += probability;
            CountJson {
                items,
                probability,
                at_least,
            }
        })
        .collect();
    pretty(&HowManyJson {
        question: "how_many",
        start: f.start,
        until: f.end,
        working_days: f.working_days,
        percentiles: &f.percentiles,
        distribution,
        sample: SampleJson::of(&f.sample),
        track_record: f.track_record.as_ref(),
        calibration: f.calibration.as_ref().map(CalibrationJson::of),
        uncalibrated_percentiles: f.uncalibrated.as_ref(),
        method: MethodJson::of(meta, f.method, f.trials),
        history: HistoryJson::of(meta.source, meta.history),
        warnings: warnings(&f.warnings),
    })
}

/// One question's object, or `{"questions": [...]}` for several.
pub(super) fn backtests(
    sections: &[BacktestSection],
    histories: &[(History, String)],
    step_days: u32,
    meta: &Meta<'_>,
) -> String {
    let mut questions: Vec<BacktestJson<'_>> = sections
        .iter()
        .map(|s| section(s, histories, step_days, meta))
        .collect();
    match questions.len() {
        1 => pretty(&questions.remove(0)),
        _ => pretty(&BothQuestionsJson { questions }),
    }
}

/// One question: one history's backtest, or the pool with each history's.
fn section<'a>(
    s: &'a BacktestSection,
    histories: &'a [(History, String)],
    step_days: u32,
    meta: &Meta<'a>,
) -> BacktestJson<'a> {
    let (b, histories) = match &s.pooled {
        None => (
            &s.parts[0].1,
            HistoriesJson::One {
                history: HistoryJson::of(meta.source, meta.history),
            },
        ),
        Some(pooled) => (
            pooled,
            HistoriesJson::Pooled {
                source: "pooled",
                sources: s
                    .parts
                    .iter()
                    .zip(histories)
                    .map(|((described, b), (h, _))| SourceJson {
                        source: described,
                        first_day: h.first_day(),
                        last_day: h.last_day(),
                        origins: b.observations.len(),
                        skipped: b.skipped,
                        levels: &b.levels,
                    })
                    .collect(),
            },
        ),
    };
    backtest(b, histories, step_days, meta)
}

fn backtest<'a>(
    b: &'a Backtest,
    histories: HistoriesJson<'a>,
    step_days: u32,
    meta: &Meta<'a>,
) -> BacktestJson<'a> {
    let warnings = match b.kind {
        BacktestKind::HowMany { horizon_days } if step_days < horizon_days => {
            vec![BacktestWarningJson {
                kind: "overlapping_origins",
                message: overlap_warning(step_days, horizon_days),
            }]
        }
        _ => Vec::new(),
    };
    BacktestJson {
        question: "backtest",
        kind: b.kind,
        step_days,
        confidence: CONFIDENCE,
        origins: b.observations.len(),
        skipped: b.skipped,
        levels: &b.levels,
        observations: observations(&b.observations),
        histories,
        method: MethodJson::of(meta, meta.options.method, meta.backtest_trials()),
        warnings,
    }
}
