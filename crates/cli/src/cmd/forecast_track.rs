//! How `flowlake forecast` states what the robustness rules did: the window's choice, the
//! track record of the question on the history's own past, and calibration.

use std::collections::BTreeMap;
use std::fmt::Display;

use flowlake_forecast::{Calibration, SampleSummary, TrackRecord, WindowChoice};
use serde_json::{Value, json};

/// The level a person reads first.
const SHOWN: u8 = 85;

/// One line on how the sampling window was set.
pub(crate) fn window_line(s: &SampleSummary) -> String {
    let mut line = match &s.window_choice {
        WindowChoice::Fixed => format!("window: fixed, {} days", s.window_days),
        WindowChoice::Auto { origins, .. } => format!(
            "window: {} days, chosen by backtest at {origins} past origins",
            s.window_days
        ),
    };
    if let Some(since) = s.regime_start.filter(|d| *d >= s.window_start) {
        line.push_str(&format!("; current regime since {since}"));
    }
    if s.weekdays_detected {
        line.push_str("; weekday-only work detected");
    }
    line
}

/// The track-record and calibration lines of a table, or nothing without a record.
pub(crate) fn track_lines<T: Display>(
    record: Option<&TrackRecord>,
    calibration: Option<&Calibration>,
    uncalibrated: Option<&BTreeMap<u8, T>>,
) -> String {
    let Some(r) = record else {
        return "track record: not enough past origins to judge this question yet\n".into();
    };
    let Some(l) = r.level(SHOWN) else {
        return String::new();
    };
    let mut out = format!(
        "track record: p{SHOWN} held {} of {} times ({:.0} %, 95 % CI {:.0}–{:.0} %) over past \
         origins {}..{}\n",
        l.held,
        l.total,
        100.0 * l.rate,
        100.0 * l.lower,
        100.0 * l.upper,
        r.first_origin,
        r.last_origin
    );
    if let (Some(c), Some(u)) = (calibration.filter(|c| c.changed()), uncalibrated)
        && let (Some(level), Some(raw)) = (c.levels.get(&SHOWN), u.get(&SHOWN))
    {
        out.push_str(&format!(
            "calibrated: p{SHOWN} reported at the model's p{:.1} (uncalibrated p{SHOWN}: {raw})\n",
            100.0 * level
        ));
    }
    out
}

/// `track_record`, `calibration` and `uncalibrated_percentiles` for JSON (null when absent).
pub(crate) fn track_json<T: serde::Serialize>(
    record: Option<&TrackRecord>,
    calibration: Option<&Calibration>,
    uncalibrated: Option<&BTreeMap<u8, T>>,
) -> [(String, Value); 3] {
    let levels = |c: &Calibration| -> Value {
        c.levels
            .iter()
            .map(|(l, x)| (l.to_string(), json!(x)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    [
        (
            "track_record".into(),
            record.map_or(Value::Null, |r| serde_json::to_value(r).unwrap_or_default()),
        ),
        (
            "calibration".into(),
            calibration.map_or(
                Value::Null,
                |c| json!({"levels": levels(c), "origins": c.origins, "changed": c.changed()}),
            ),
        ),
        (
            "uncalibrated_percentiles".into(),
            uncalibrated.map_or(Value::Null, |u| {
                u.iter()
                    .map(|(l, x)| (l.to_string(), json!(x)))
                    .collect::<serde_json::Map<_, _>>()
                    .into()
            }),
        ),
    ]
}

/// The sample's window choice, bulk days and regime for JSON.
pub(crate) fn sample_extra(s: &SampleSummary) -> [(String, Value); 5] {
    [
        ("window_days".into(), json!(s.window_days)),
        (
            "window_choice".into(),
            serde_json::to_value(&s.window_choice).unwrap_or_default(),
        ),
        ("weekdays_detected".into(), json!(s.weekdays_detected)),
        (
            "bulk_days".into(),
            serde_json::to_value(&s.bulk_days).unwrap_or_default(),
        ),
        ("regime_start".into(), json!(s.regime_start)),
    ]
}
