//! How `flowlake forecast` prints its answers: a short table, JSON or CSV for `when`,
//! `how-many` and `backtest`, including what the robustness rules did (the window's choice,
//! the question's track record on the history's own past, calibration).
//!
//! Everything here is a pure function of a forecast (or backtest) and the plan's [`Meta`];
//! `forecast.rs` parses, plans and reads the history.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use flowlake_forecast::{
    Backtest, BacktestKind, Calibration, History, HowManyForecast, LevelCoverage, Method, Options,
    SampleSummary, TRACK_CONFIDENCE, TrackRecord, Verdict, Warning, WhenForecast, WindowChoice,
};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::forecast::{CONFIDENCE, CalendarFlags, Format, overlap_warning};

/// The level the table's track-record line is about: the one a person reads first.
const SHOWN: u8 = 85;

/// Context for rendering: where the history came from and how the forecast ran.
pub(super) struct Meta<'a> {
    pub source: &'a str,
    pub history: &'a History,
    pub options: &'a Options,
    pub calendar: &'a CalendarFlags,
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

fn method_line(method: Method, trials: Option<u32>, seed: u64) -> String {
    match trials {
        Some(t) => format!("{}, {t} trials, seed {seed}", method_name(method)),
        None => method_name(method).to_string(),
    }
}

fn warning_json(w: &Warning) -> Value {
    let mut v = serde_json::to_value(w).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("message".into(), Value::String(w.to_string()));
    }
    v
}

/// Which robustness rules the forecast ran with (`method.rules` in JSON).
#[derive(Serialize)]
struct Rules {
    bulk_exclusion: bool,
    change_point: bool,
    weekday_detection: bool,
    auto_window: bool,
    track_record: bool,
    calibration: bool,
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

fn common_json(meta: &Meta<'_>, method: Method, trials: Option<u32>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "method".into(),
        json!({
            "name": method_name(method),
            "trials": trials,
            "seed": meta.options.seed,
            "window_days": meta.options.window_days,
            "weekdays_only": meta.calendar.weekdays_only,
            "holidays": meta.calendar.holidays.iter().map(|d| ymd(*d)).collect::<Vec<_>>(),
            "rules": Rules::of(meta.options),
        }),
    );
    m.insert(
        "history".into(),
        json!({
            "source": meta.source,
            "first_day": ymd(meta.history.first_day()),
            "last_day": ymd(meta.history.last_day()),
            "days": meta.history.len(),
        }),
    );
    m
}

fn sample_line(s: &SampleSummary) -> String {
    format!(
        "sampled {} to {}: {} working days, {} with items done, {:.2} items per working day",
        ymd(s.window_start),
        ymd(s.window_end),
        s.working_days,
        s.non_zero_days,
        s.mean_per_working_day
    )
}

/// One line on how the sampling window was set: fixed (`--window-days`, or the plain
/// model's default), chosen automatically, or the default because the history was too short
/// to choose.
fn window_line(s: &SampleSummary, options: &Options) -> String {
    let mut line = match &s.window_choice {
        WindowChoice::Auto { scores, origins } => format!(
            "window: chosen automatically: {} days (lowest error of {} candidates backtested at \
             {origins} past origins)",
            s.window_days,
            scores.len()
        ),
        WindowChoice::Fixed if options.auto_window.is_some() => format!(
            "window: {} days (too little history to choose one automatically)",
            s.window_days
        ),
        WindowChoice::Fixed => format!("window: fixed, {} days", s.window_days),
    };
    if let Some(since) = s.regime_start.filter(|d| *d >= s.window_start) {
        let _ = write!(line, "; current regime since {}", ymd(since));
    }
    if s.weekdays_detected {
        line.push_str("; weekday-only work detected");
    }
    line
}

/// A model level as a percentile name: 0.913 → "91.3", 0.85 → "85".
fn level_name(x: f64) -> String {
    let s = format!("{:.1}", 100.0 * x);
    s.strip_suffix(".0").map_or(s.clone(), str::to_string)
}

/// The track-record and calibration lines of a table; nothing when the track record is off
/// (`--plain`). `uncalibrated` is the model's own answer at the shown level, as printed.
fn track_lines(
    options: &Options,
    record: Option<&TrackRecord>,
    calibration: Option<&Calibration>,
    uncalibrated: Option<String>,
) -> String {
    let Some(rule) = options.track_record else {
        return String::new();
    };
    let Some(r) = record else {
        return format!(
            "track record: too few past origins to judge this question yet (needs {})\n",
            rule.min_origins
        );
    };
    let Some(l) = r.level(SHOWN) else {
        return String::new();
    };
    let mut out = format!(
        "track record: p{SHOWN} held {} of {} times ({:.0} %, {:.0} % CI {:.0}–{:.0} %) over \
         past origins {}..{}\n",
        l.held,
        l.total,
        100.0 * l.rate,
        100.0 * TRACK_CONFIDENCE,
        100.0 * l.lower,
        100.0 * l.upper,
        ymd(r.first_origin),
        ymd(r.last_origin)
    );
    let Some(c) = calibration.filter(|c| c.changed()) else {
        return out;
    };
    let moved: Vec<(u8, f64)> = c
        .levels
        .iter()
        .filter(|&(&l, &x)| x != f64::from(l) / 100.0)
        .map(|(&l, &x)| (l, x))
        .collect();
    match (moved.iter().find(|(l, _)| *l == SHOWN), uncalibrated) {
        (Some((_, x)), Some(raw)) => {
            let _ = writeln!(
                out,
                "calibrated: p{SHOWN} reported at the model's p{} (uncalibrated p{SHOWN}: {raw})",
                level_name(*x)
            );
        }
        _ => {
            let list: Vec<String> = moved
                .iter()
                .map(|(l, x)| format!("p{l} at the model's p{}", level_name(*x)))
                .collect();
            let _ = writeln!(out, "calibrated: {} (p{SHOWN} as is)", list.join(", "));
        }
    }
    out
}

/// `track_record`, `calibration` and `uncalibrated_percentiles` for JSON (null when absent).
fn track_json<T: Serialize>(
    record: Option<&TrackRecord>,
    calibration: Option<&Calibration>,
    uncalibrated: Option<&BTreeMap<u8, T>>,
) -> [(String, Value); 3] {
    #[derive(Serialize)]
    struct CalibrationJson {
        /// Stated level → the model's level reported for it, as a probability.
        levels: BTreeMap<String, f64>,
        origins: usize,
        changed: bool,
    }
    let to_value = |v: Option<Value>| v.unwrap_or(Value::Null);
    [
        (
            "track_record".into(),
            to_value(record.and_then(|r| serde_json::to_value(r).ok())),
        ),
        (
            "calibration".into(),
            to_value(calibration.and_then(|c| {
                serde_json::to_value(CalibrationJson {
                    levels: c.levels.iter().map(|(l, x)| (l.to_string(), *x)).collect(),
                    origins: c.origins,
                    changed: c.changed(),
                })
                .ok()
            })),
        ),
        (
            "uncalibrated_percentiles".into(),
            to_value(uncalibrated.and_then(|u| {
                let keyed: BTreeMap<String, &T> =
                    u.iter().map(|(l, x)| (l.to_string(), x)).collect();
                serde_json::to_value(keyed).ok()
            })),
        ),
    ]
}

/// The sample in JSON: the window, and what the rules did to it.
fn sample_json(s: &SampleSummary) -> Value {
    json!({
        "window_start": ymd(s.window_start),
        "window_end": ymd(s.window_end),
        "calendar_days": s.calendar_days,
        "working_days": s.working_days,
        "non_zero_days": s.non_zero_days,
        "mean_per_working_day": s.mean_per_working_day,
        "window_days": s.window_days,
        "window_choice": s.window_choice,
        "weekdays_detected": s.weekdays_detected,
        "bulk_days": s.bulk_days,
        "regime_start": s.regime_start.map(ymd),
    })
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// `forecast when` in `format`. CSV is `percentile,value` rows only: the track record and
/// calibration are in the table and the JSON.
pub(super) fn render_when(f: &WhenForecast, meta: &Meta<'_>, format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::Table => {
            let _ = writeln!(
                out,
                "When will {} items be done? Start {} ({}).",
                f.items,
                ymd(f.start),
                method_line(f.method, f.trials, meta.options.seed)
            );
            let _ = writeln!(out, "History {}; {}.", meta.source, sample_line(&f.sample));
            let _ = writeln!(out, "{}.", window_line(&f.sample, meta.options));
            let _ = writeln!(out, "\nchance  done on or before");
            for (level, day) in &f.percentiles {
                let _ = writeln!(out, "{:>5}%  {} ({})", level, ymd(*day), day.weekday());
            }
            let track = track_lines(
                meta.options,
                f.track_record.as_ref(),
                f.calibration.as_ref(),
                f.uncalibrated
                    .as_ref()
                    .and_then(|u| u.get(&SHOWN))
                    .map(|d| ymd(*d)),
            );
            if !track.is_empty() {
                out.push('\n');
                out.push_str(&track);
            }
            if let Some(t) = &f.target {
                let _ = writeln!(
                    out,
                    "\ntarget {}: {:.1}% chance of done on or before",
                    ymd(t.date),
                    t.probability * 100.0
                );
            }
        }
        Format::Csv => {
            out.push_str("percentile,value\n");
            for (level, day) in &f.percentiles {
                let _ = writeln!(out, "{level},{}", ymd(*day));
            }
        }
        Format::Json => {
            let mut m = common_json(meta, f.method, f.trials);
            m.insert("question".into(), json!("when"));
            m.insert("items".into(), json!(f.items));
            m.insert("start".into(), json!(ymd(f.start)));
            m.insert(
                "percentiles".into(),
                Value::Object(
                    f.percentiles
                        .iter()
                        .map(|(l, d)| (l.to_string(), json!(ymd(*d))))
                        .collect(),
                ),
            );
            let mut cum = 0.0;
            let dist: Vec<Value> = f
                .distribution
                .iter()
                .map(|(d, p)| {
                    cum += p;
                    json!({"date": ymd(*d), "probability": p, "cumulative": cum})
                })
                .collect();
            m.insert("distribution".into(), Value::Array(dist));
            m.insert(
                "target".into(),
                f.target.as_ref().map_or(
                    Value::Null,
                    |t| json!({"date": ymd(t.date), "probability": t.probability}),
                ),
            );
            m.insert("sample".into(), sample_json(&f.sample));
            m.insert(
                "warnings".into(),
                Value::Array(f.warnings.iter().map(warning_json).collect()),
            );
            m.extend(track_json(
                f.track_record.as_ref(),
                f.calibration.as_ref(),
                f.uncalibrated.as_ref(),
            ));
            out = pretty(&Value::Object(m));
        }
    }
    out
}

/// `forecast how-many` in `format` (CSV as for [`render_when`]).
pub(super) fn render_how_many(f: &HowManyForecast, meta: &Meta<'_>, format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::Table => {
            let _ = writeln!(
                out,
                "How many items from {} to {} ({} working days)? ({}).",
                ymd(f.start),
                ymd(f.end),
                f.working_days,
                method_line(f.method, f.trials, meta.options.seed)
            );
            let _ = writeln!(out, "History {}; {}.", meta.source, sample_line(&f.sample));
            let _ = writeln!(out, "{}.", window_line(&f.sample, meta.options));
            let _ = writeln!(out, "\nchance  at least");
            for (level, n) in &f.percentiles {
                let _ = writeln!(out, "{level:>5}%  {n}");
            }
            let track = track_lines(
                meta.options,
                f.track_record.as_ref(),
                f.calibration.as_ref(),
                f.uncalibrated
                    .as_ref()
                    .and_then(|u| u.get(&SHOWN))
                    .map(|n| format!("{n} items")),
            );
            if !track.is_empty() {
                out.push('\n');
                out.push_str(&track);
            }
        }
        Format::Csv => {
            out.push_str("percentile,value\n");
            for (level, n) in &f.percentiles {
                let _ = writeln!(out, "{level},{n}");
            }
        }
        Format::Json => {
            let mut m = common_json(meta, f.method, f.trials);
            m.insert("question".into(), json!("how_many"));
            m.insert("start".into(), json!(ymd(f.start)));
            m.insert("until".into(), json!(ymd(f.end)));
            m.insert("working_days".into(), json!(f.working_days));
            m.insert(
                "percentiles".into(),
                Value::Object(
                    f.percentiles
                        .iter()
                        .map(|(l, n)| (l.to_string(), json!(n)))
                        .collect(),
                ),
            );
            let total: f64 = f.distribution.values().sum();
            let mut below = 0.0;
            let dist: Vec<Value> = f
                .distribution
                .iter()
                .map(|(n, p)| {
                    let at_least = total - below;
                    below += p;
                    json!({"items": n, "probability": p, "at_least": at_least})
                })
                .collect();
            m.insert("distribution".into(), Value::Array(dist));
            m.insert("sample".into(), sample_json(&f.sample));
            m.insert(
                "warnings".into(),
                Value::Array(f.warnings.iter().map(warning_json).collect()),
            );
            m.extend(track_json(
                f.track_record.as_ref(),
                f.calibration.as_ref(),
                f.uncalibrated.as_ref(),
            ));
            out = pretty(&Value::Object(m));
        }
    }
    out
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
    if let [section] = sections {
        return match format {
            Format::Table => section_table(section, histories, step_days, meta, false),
            Format::Csv => section_csv(section, None),
            Format::Json => pretty(&Value::Object(section_json(
                section, histories, step_days, meta,
            ))),
        };
    }
    match format {
        Format::Table => {
            let mut out = String::new();
            for (i, s) in sections.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                let _ = writeln!(
                    out,
                    "Question {} of {}: {}?\n",
                    i + 1,
                    sections.len(),
                    question_text(s.kind)
                );
                out.push_str(&section_table(s, histories, step_days, meta, true));
            }
            out
        }
        Format::Csv => {
            let mut out = String::new();
            for (i, s) in sections.iter().enumerate() {
                let csv = section_csv(s, Some(s.kind));
                // One header for all sections.
                out.extend(
                    csv.lines()
                        .skip(usize::from(i > 0))
                        .map(|l| format!("{l}\n")),
                );
            }
            out
        }
        Format::Json => {
            #[derive(Serialize)]
            struct Questions {
                questions: Vec<Value>,
            }
            let questions = sections
                .iter()
                .map(|s| Value::Object(section_json(s, histories, step_days, meta)))
                .collect();
            pretty(&serde_json::to_value(Questions { questions }).unwrap_or_default())
        }
    }
}

/// One question as a table: one history's levels, or a line per history and the pool's levels.
fn section_table(
    s: &BacktestSection,
    histories: &[(History, String)],
    step_days: u32,
    meta: &Meta<'_>,
    intervals: bool,
) -> String {
    match (&s.pooled, s.parts.as_slice()) {
        (None, [(_, b)]) => {
            let line = format!(
                "History {} ({} to {}).",
                meta.source,
                ymd(meta.history.first_day()),
                ymd(meta.history.last_day())
            );
            levels_table(b, step_days, meta, &line)
        }
        (pooled, parts) => {
            let mut out = parts_table(parts, histories, intervals);
            out.push('\n');
            let line = format!("Pooled over {} histories:", parts.len());
            if let Some(p) = pooled {
                out.push_str(&levels_table(p, step_days, meta, &line));
            }
            out
        }
    }
}

/// A line per history: its origins and each level's hit rate (with `intervals`, each rate's
/// Clopper–Pearson interval too), and its days.
fn parts_table(
    parts: &[(String, Backtest)],
    histories: &[(History, String)],
    intervals: bool,
) -> String {
    let mut out = String::new();
    let width = parts.iter().map(|(d, _)| d.len()).max().unwrap_or(6).max(6);
    let cell = |l: Option<&LevelCoverage>| match l {
        None => format!("{:>7}", "-"),
        Some(l) if intervals => format!(
            "{:>6.1}% [{:>3.0}–{:>3.0}%]",
            l.rate * 100.0,
            l.lower * 100.0,
            l.upper * 100.0
        ),
        Some(l) => format!("{:>6.1}%", l.rate * 100.0),
    };
    let cw = if intervals { 18 } else { 7 };
    let _ = write!(out, "{:<width$}  {:>10}", "history", "origins");
    for level in flowlake_forecast::LEVELS {
        let _ = write!(out, "  {:>cw$}", format!("p{level}"));
    }
    out.push('\n');
    for ((described, b), (h, _)) in parts.iter().zip(histories) {
        let _ = write!(out, "{described:<width$}  {:>10}", b.observations.len());
        for level in flowlake_forecast::LEVELS {
            let _ = write!(
                out,
                "  {}",
                cell(b.levels.iter().find(|l| l.level == level))
            );
        }
        let _ = writeln!(out, "   ({} to {})", ymd(h.first_day()), ymd(h.last_day()));
    }
    out
}

/// A backtest's levels with their intervals and verdicts, under a heading and `history_line`.
fn levels_table(b: &Backtest, step_days: u32, meta: &Meta<'_>, history_line: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Backtest: \"{}?\" at {} origins every {step_days} days ({} skipped); {}.",
        question_text(b.kind),
        b.observations.len(),
        b.skipped,
        method_line(
            meta.options.method,
            (meta.options.method == Method::Simulate).then_some(meta.options.trials),
            meta.options.seed
        )
    );
    let _ = writeln!(out, "{history_line}");
    let _ = writeln!(
        out,
        "\nlevel  held/total    rate  {:<19}  verdict",
        format!("{:.0}% Clopper-Pearson", CONFIDENCE * 100.0)
    );
    for l in &b.levels {
        let _ = writeln!(
            out,
            "p{:<4}  {:>10}  {:>5.1}%  {:<19}  {}",
            l.level,
            format!("{}/{}", l.held, l.total),
            l.rate * 100.0,
            format!("[{:.1}%, {:.1}%]", l.lower * 100.0, l.upper * 100.0),
            verdict_name(l.verdict)
        );
    }
    out
}

/// One question's CSV: `level,…` rows for one history, `history,level,…` for several (each
/// history, then `pooled`); with `question`, prefixed by `question,horizon_days,items`.
fn section_csv(s: &BacktestSection, question: Option<BacktestKind>) -> String {
    let prefix = match question {
        None => String::new(),
        Some(BacktestKind::HowMany { horizon_days }) => format!("how_many,{horizon_days},,"),
        Some(BacktestKind::When { items }) => format!("when,,{items},"),
    };
    let mut out = String::new();
    if question.is_some() {
        out.push_str("question,horizon_days,items,");
    }
    let rows: Vec<(Option<&str>, &Backtest)> = match &s.pooled {
        None => s.parts.iter().map(|(_, b)| (None, b)).collect(),
        Some(pooled) => s
            .parts
            .iter()
            .map(|(d, b)| (Some(d.as_str()), b))
            .chain(std::iter::once((Some("pooled"), pooled)))
            .collect(),
    };
    if s.pooled.is_some() {
        out.push_str("history,");
    }
    out.push_str("level,held,total,rate,lower,upper,verdict\n");
    for (described, b) in rows {
        for l in &b.levels {
            out.push_str(&prefix);
            if let Some(d) = described {
                let _ = write!(out, "{},", csv_field(d));
            }
            let _ = writeln!(
                out,
                "{},{},{},{:.4},{:.4},{:.4},{}",
                l.level,
                l.held,
                l.total,
                l.rate,
                l.lower,
                l.upper,
                verdict_name(l.verdict)
            );
        }
    }
    out
}

/// One question's JSON object: one history's backtest, or the pool with `sources`.
fn section_json(
    s: &BacktestSection,
    histories: &[(History, String)],
    step_days: u32,
    meta: &Meta<'_>,
) -> Map<String, Value> {
    let Some(pooled) = &s.pooled else {
        let (_, b) = &s.parts[0];
        return backtest_json(b, step_days, meta);
    };
    let mut m = backtest_json(pooled, step_days, meta);
    let sources: Vec<Value> = s
        .parts
        .iter()
        .zip(histories)
        .map(|((described, b), (h, _))| {
            json!({
                "source": described,
                "first_day": ymd(h.first_day()),
                "last_day": ymd(h.last_day()),
                "origins": b.observations.len(),
                "skipped": b.skipped,
                "levels": b.levels,
            })
        })
        .collect();
    m.insert("source".into(), json!("pooled"));
    m.remove("history");
    m.insert("sources".into(), Value::Array(sources));
    m
}

/// One backtest's JSON object.
fn backtest_json(b: &Backtest, step_days: u32, meta: &Meta<'_>) -> Map<String, Value> {
    let method = meta.options.method;
    let trials = (method == Method::Simulate).then_some(meta.options.trials);
    let mut m = common_json(meta, method, trials);
    m.insert("question".into(), json!("backtest"));
    m.insert(
        "kind".into(),
        serde_json::to_value(b.kind).unwrap_or(Value::Null),
    );
    m.insert("step_days".into(), json!(step_days));
    m.insert("confidence".into(), json!(CONFIDENCE));
    m.insert("origins".into(), json!(b.observations.len()));
    m.insert("skipped".into(), json!(b.skipped));
    // LevelCoverage serializes as {level, held, total, rate, lower, upper, verdict}.
    m.insert(
        "levels".into(),
        serde_json::to_value(&b.levels).unwrap_or_default(),
    );
    let obs: Vec<Value> = b
        .observations
        .iter()
        .map(|o| {
            let held: BTreeMap<String, bool> =
                o.held.iter().map(|(l, h)| (l.to_string(), *h)).collect();
            json!({"origin": ymd(o.origin), "held": held})
        })
        .collect();
    m.insert("observations".into(), Value::Array(obs));
    let mut warnings = Vec::new();
    if let BacktestKind::HowMany { horizon_days } = b.kind
        && step_days < horizon_days
    {
        warnings.push(json!({
            "kind": "overlapping_origins",
            "message": overlap_warning(step_days, horizon_days),
        }));
    }
    m.insert("warnings".into(), Value::Array(warnings));
    m
}

/// Quote a CSV field when it holds a comma or a quote.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names_drop_a_whole_number_s_decimal() {
        assert_eq!(level_name(0.85), "85");
        assert_eq!(level_name(0.9134), "91.3");
    }
}
