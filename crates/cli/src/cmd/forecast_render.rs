//! How `flowlake forecast` prints its answers: a short table, JSON or CSV for `when`,
//! `how-many` and `backtest`, including what the robustness rules did (the window's choice,
//! the question's track record on the history's own past, calibration).
//!
//! Everything here is a pure function of a forecast (or backtest) and the plan's [`Meta`];
//! `forecast/mod.rs` parses, plans and reads the history. One child module per format:
//! `json` (`#[derive(Serialize)]` structs: the shapes programs rely on), `table` (sentences
//! around comfy-table tables) and `csv` (the csv crate).

mod csv;
mod json;
mod table;

use chrono::NaiveDate;
use flowlake_forecast::{
    Backtest, BacktestKind, History, HowManyForecast, Method, Options, Verdict, WhenForecast,
};

use super::forecast::{CalendarFlags, Format};

/// Context for rendering: where the history came from and how the forecast ran.
pub(super) struct Meta<'a> {
    pub source: &'a str,
    pub history: &'a History,
    pub options: &'a Options,
    pub calendar: &'a CalendarFlags,
}

impl Meta<'_> {
    /// The backtest's trials: only a simulation has any.
    fn backtest_trials(&self) -> Option<u32> {
        (self.options.method == Method::Simulate).then_some(self.options.trials)
    }
}

/// One backtested question: each history's backtest, and their pool when there are several.
pub(super) struct BacktestSection {
    pub kind: BacktestKind,
    /// Per history: its description and backtest.
    pub parts: Vec<(String, Backtest)>,
    /// The pooled backtest (several histories only).
    pub pooled: Option<Backtest>,
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn method_name(m: Method) -> &'static str {
    match m {
        Method::Simulate => "simulate",
        Method::Exact => "exact",
    }
}

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Calibrated => "calibrated",
        Verdict::Overconfident => "overconfident",
        Verdict::Underconfident => "underconfident",
    }
}

/// The question a backtest asked, in words.
pub(super) fn question_text(kind: BacktestKind) -> String {
    match kind {
        BacktestKind::HowMany { horizon_days } => {
            format!("how many items in the next {horizon_days} days")
        }
        BacktestKind::When { items } => format!("when will the next {items} items be done"),
    }
}

/// `forecast when` in `format`. CSV is `percentile,value` rows only: the track record and
/// calibration are in the table and the JSON.
pub(super) fn render_when(f: &WhenForecast, meta: &Meta<'_>, format: Format) -> String {
    match format {
        Format::Table => table::when(f, meta),
        Format::Json => json::when(f, meta),
        Format::Csv => csv::percentiles(&f.percentiles),
    }
}

/// `forecast how-many` in `format` (CSV as for [`render_when`]).
pub(super) fn render_how_many(f: &HowManyForecast, meta: &Meta<'_>, format: Format) -> String {
    match format {
        Format::Table => table::how_many(f, meta),
        Format::Json => json::how_many(f, meta),
        Format::Csv => csv::percentiles(&f.percentiles),
    }
}

/// Every question's backtests in `format`. One question prints as it always has (one
/// history: its levels; several: a line per history, then the pool); both questions print a
/// section each (JSON: `{"questions": [<one question's object>, …]}`; CSV: the same rows with
/// the question in front).
pub(super) fn render_backtests(
    sections: &[BacktestSection],
    histories: &[(History, String)],
    step_days: u32,
    meta: &Meta<'_>,
    format: Format,
) -> String {
    match format {
        Format::Table => table::backtests(sections, histories, step_days, meta),
        Format::Json => json::backtests(sections, histories, step_days, meta),
        Format::Csv => csv::backtests(sections),
    }
}
