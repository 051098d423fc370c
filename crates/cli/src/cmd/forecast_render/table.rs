//! `--format table`: the sentences a person reads (the question, the history and its window,
//! the track record, calibration) around comfy-table tables of percentiles and levels.

use std::fmt::Write as _;

use chrono::Datelike;
use comfy_table::{CellAlignment, Table, presets::NOTHING};
use flowlake_forecast::{
    Backtest, Calibration, History, HowManyForecast, LevelCoverage, Method, Options, SampleSummary,
    TRACK_CONFIDENCE, TrackRecord, WhenForecast, WindowChoice,
};

use super::{BacktestSection, Meta, method_name, question_text, verdict_name, ymd};
use crate::cmd::forecast::CONFIDENCE;

/// The level the table's track-record line is about: the one a person reads first.
const SHOWN: u8 = 85;

/// A borderless table, columns two spaces apart, the `right` ones right-aligned; its lines
/// carry no trailing whitespace and end in a newline.
fn grid(header: &[&str], rows: Vec<Vec<String>>, right: &[usize]) -> String {
    let mut table = Table::new();
    table.load_preset(NOTHING).set_header(header.to_vec());
    for row in rows {
        table.add_row(row);
    }
    for (i, column) in table.column_iter_mut().enumerate() {
        column.set_padding((0, 2));
        if right.contains(&i) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = table.trim_fmt();
    out.push('\n');
    out
}

fn method_line(method: Method, trials: Option<u32>, seed: u64) -> String {
    match trials {
        Some(t) => format!("{}, {t} trials, seed {seed}", method_name(method)),
        None => method_name(method).to_string(),
    }
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

/// The question, history and window lines that open a forecast's table.
fn preamble(question: &str, meta: &Meta<'_>, sample: &SampleSummary) -> String {
    format!(
        "{question}\nHistory {}; {}.\n{}.\n",
        meta.source,
        sample_line(sample),
        window_line(sample, meta.options)
    )
}

/// A model level as a percentile name: 0.913 → "91.3", 0.85 → "85".
fn level_name(x: f64) -> String {
    let s = format!("{:.1}", 100.0 * x);
    s.strip_suffix(".0").map_or(s.clone(), str::to_string)
}

/// The track-record and calibration lines of a table, after a blank line; nothing when the
/// track record is off (`--plain`). `uncalibrated` is the model's own answer at the shown
/// level, as printed.
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
            "\ntrack record: too few past origins to judge this question yet (needs {})\n",
            rule.min_origins
        );
    };
    let Some(l) = r.level(SHOWN) else {
        return String::new();
    };
    let mut out = format!(
        "\ntrack record: p{SHOWN} held {} of {} times ({:.0} %, {:.0} % CI {:.0}–{:.0} %) over \
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

pub(super) fn when(f: &WhenForecast, meta: &Meta<'_>) -> String {
    let question = format!(
        "When will {} items be done? Start {} ({}).",
        f.items,
        ymd(f.start),
        method_line(f.method, f.trials, meta.options.seed)
    );
    let mut out = preamble(&question, meta, &f.sample);
    let rows = f
        .percentiles
        .iter()
        .map(|(level, day)| {
            vec![
                format!("{level}%"),
                format!("{} ({})", ymd(*day), day.weekday()),
            ]
        })
        .collect();
    out.push('\n');
    out.push_str(&grid(&["chance", "done on or before"], rows, &[0]));
    out.push_str(&track_lines(
        meta.options,
        f.track_record.as_ref(),
        f.calibration.as_ref(),
        f.uncalibrated
            .as_ref()
            .and_then(|u| u.get(&SHOWN))
            .map(|d| ymd(*d)),
    ));
    if let Some(t) = &f.target {
        let _ = writeln!(
            out,
            "\ntarget {}: {:.1}% chance of done on or before",
            ymd(t.date),
            t.probability * 100.0
        );
    }
    out
}

pub(super) fn how_many(f: &HowManyForecast, meta: &Meta<'_>) -> String {
    let question = format!(
        "How many items from {} to {} ({} working days)? ({}).",
        ymd(f.start),
        ymd(f.end),
        f.working_days,
        method_line(f.method, f.trials, meta.options.seed)
    );
    let mut out = preamble(&question, meta, &f.sample);
    let rows = f
        .percentiles
        .iter()
        .map(|(level, n)| vec![format!("{level}%"), n.to_string()])
        .collect();
    out.push('\n');
    out.push_str(&grid(&["chance", "at least"], rows, &[0]));
    out.push_str(&track_lines(
        meta.options,
        f.track_record.as_ref(),
        f.calibration.as_ref(),
        f.uncalibrated
            .as_ref()
            .and_then(|u| u.get(&SHOWN))
            .map(|n| format!("{n} items")),
    ));
    out
}

/// One question as it always printed; several as numbered sections.
pub(super) fn backtests(
    sections: &[BacktestSection],
    histories: &[(History, String)],
    step_days: u32,
    meta: &Meta<'_>,
) -> String {
    if let [section] = sections {
        return section_table(section, histories, step_days, meta, false);
    }
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

/// One question: one history's levels, or a line per history and the pool's levels.
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

/// A row per history: its origins, each level's hit rate (with `intervals`, each rate's
/// Clopper–Pearson interval too) and the days it spans.
fn parts_table(
    parts: &[(String, Backtest)],
    histories: &[(History, String)],
    intervals: bool,
) -> String {
    let cell = |l: Option<&LevelCoverage>| match l {
        None => "-".to_string(),
        Some(l) if intervals => format!(
            "{:.1}% [{:.0}–{:.0}%]",
            l.rate * 100.0,
            l.lower * 100.0,
            l.upper * 100.0
        ),
        Some(l) => format!("{:.1}%", l.rate * 100.0),
    };
    let levels = flowlake_forecast::LEVELS;
    let names: Vec<String> = levels.iter().map(|l| format!("p{l}")).collect();
    let mut header = vec!["history", "origins"];
    header.extend(names.iter().map(String::as_str));
    header.push("span");
    let rows = parts
        .iter()
        .zip(histories)
        .map(|((described, b), (h, _))| {
            let mut row = vec![described.clone(), b.observations.len().to_string()];
            row.extend(
                levels
                    .iter()
                    .map(|&level| cell(b.levels.iter().find(|l| l.level == level))),
            );
            row.push(format!("{} to {}", ymd(h.first_day()), ymd(h.last_day())));
            row
        })
        .collect();
    let right: Vec<usize> = (1..=1 + levels.len()).collect();
    grid(&header, rows, &right)
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
            meta.backtest_trials(),
            meta.options.seed
        )
    );
    let _ = writeln!(out, "{history_line}\n");
    let interval = format!("{:.0}% Clopper-Pearson", CONFIDENCE * 100.0);
    let rows = b
        .levels
        .iter()
        .map(|l| {
            vec![
                format!("p{}", l.level),
                format!("{}/{}", l.held, l.total),
                format!("{:.1}%", l.rate * 100.0),
                format!("[{:.1}%, {:.1}%]", l.lower * 100.0, l.upper * 100.0),
                verdict_name(l.verdict).to_string(),
            ]
        })
        .collect();
    out.push_str(&grid(
        &["level", "held/total", "rate", &interval, "verdict"],
        rows,
        &[1, 2],
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names_drop_a_whole_number_s_decimal() {
        assert_eq!(level_name(0.85), "85");
        assert_eq!(level_name(0.9134), "91.3");
    }

    #[test]
    fn grids_align_columns_without_trailing_whitespace() {
        let rows = vec![
            vec!["50%".to_string(), "3".to_string(), "x".to_string()],
            vec!["100%".to_string(), "12".to_string(), "longer".to_string()],
        ];
        assert_eq!(
            grid(&["chance", "n", "note"], rows, &[0, 1]),
            "chance   n  note\n   50%   3  x\n  100%  12  longer\n"
        );
    }
}
