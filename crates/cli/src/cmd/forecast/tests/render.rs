//! Outputs pinned in full over tiny histories whose answers can be worked out by hand: the
//! JSON objects programs read (every key, value type and `null`), and a table's layout.

use super::*;
use flowlake_forecast::{MIN_HISTORY_DAYS, clopper_pearson};

/// `days` days from 2026-01-01 alternating 1 and 2 items: any two days finish at least 3.
fn alternating(days: usize) -> History {
    History::from_counts(
        d("2026-01-01"),
        (0..days).map(|i| 1 + i as u64 % 2).collect(),
    )
    .unwrap()
}

fn small_when(format: &str) -> String {
    let args = [
        "when",
        "--history",
        "small.csv",
        "--items",
        "3",
        "--target",
        "2026-01-10",
        "--exact",
        "--plain",
        "--format",
        format,
    ];
    forecast(&plan(&args).unwrap(), &alternating(8), "small.csv")
        .unwrap()
        .stdout
}

#[test]
fn when_json_is_pinned() {
    let v: Value = serde_json::from_str(&small_when("json")).unwrap();
    // Two days finish 3 items unless both did 1 (a chance of 1/4); three days always do.
    let message = Warning::ShortHistory {
        days: 8,
        minimum: MIN_HISTORY_DAYS,
    }
    .to_string();
    let expected = json!({
        "question": "when",
        "items": 3,
        "start": "2026-01-09",
        "percentiles": {
            "50": "2026-01-10",
            "70": "2026-01-10",
            "85": "2026-01-11",
            "95": "2026-01-11"
        },
        "distribution": [
            {"date": "2026-01-10", "probability": 0.75, "cumulative": 0.75},
            {"date": "2026-01-11", "probability": 0.25, "cumulative": 1.0}
        ],
        "target": {"date": "2026-01-10", "probability": 0.75},
        "sample": {
            "window_start": "2026-01-01",
            "window_end": "2026-01-08",
            "calendar_days": 8,
            "working_days": 8,
            "non_zero_days": 8,
            "mean_per_working_day": 1.5,
            "window_days": 90,
            "window_choice": {"choice": "fixed"},
            "weekdays_detected": false,
            "bulk_days": [],
            "regime_start": null
        },
        "track_record": null,
        "calibration": null,
        "uncalibrated_percentiles": null,
        "method": {
            "name": "exact",
            "trials": null,
            "seed": 0,
            "window_days": 90,
            "weekdays_only": false,
            "holidays": [],
            "rules": {
                "bulk_exclusion": false,
                "change_point": false,
                "weekday_detection": false,
                "auto_window": false,
                "track_record": false,
                "calibration": false
            }
        },
        "history": {
            "source": "small.csv",
            "first_day": "2026-01-01",
            "last_day": "2026-01-08",
            "days": 8
        },
        "warnings": [
            {"kind": "short_history", "days": 8, "minimum": 20, "message": message}
        ]
    });
    assert_eq!(v, expected);
}

#[test]
fn when_table_is_pinned() {
    assert_eq!(
        small_when("table"),
        "When will 3 items be done? Start 2026-01-09 (exact).
History small.csv; sampled 2026-01-01 to 2026-01-08: 8 working days, 8 with items done, \
         1.50 items per working day.
window: fixed, 90 days.

chance  done on or before
   50%  2026-01-10 (Sat)
   70%  2026-01-10 (Sat)
   85%  2026-01-11 (Sun)
   95%  2026-01-11 (Sun)

target 2026-01-10: 75.0% chance of done on or before
"
    );
}

#[test]
fn backtest_json_is_pinned_for_one_history_and_a_pool() {
    let args = [
        "backtest",
        "--history",
        "a.csv",
        "--horizon-days",
        "10",
        "--exact",
        "--plain",
        "--window-days",
        "14",
        "--format",
        "json",
    ];
    let p = plan(&args).unwrap();
    let run = |hs: &[(History, String)]| -> Value {
        serde_json::from_str(&backtests(&p, hs).unwrap().stdout).unwrap()
    };
    let a = (alternating(40), "a.csv".to_string());
    // Ten days always finish 15 items, the model's p50 (and so every level) included: each
    // level held at each of the 3 origins (2026-01-15, -22, -29: 14 days in, a week apart).
    let levels = |n: u64| {
        let (lower, upper) = clopper_pearson(n, n, CONFIDENCE);
        let level = |level: u8| {
            // Held every time: too cautious once the interval's floor is above the level
            // (the pool's p50, 6 of 6).
            let verdict = if lower > f64::from(level) / 100.0 {
                "underconfident"
            } else {
                "calibrated"
            };
            json!({"level": level, "held": n, "total": n, "rate": 1.0, "lower": lower,
                   "upper": upper, "verdict": verdict})
        };
        json!([level(50), level(70), level(85), level(95)])
    };
    let observations = |origins: &[&str]| -> Value {
        let held = json!({"50": true, "70": true, "85": true, "95": true});
        origins
            .iter()
            .map(|o| json!({"origin": o, "held": held}))
            .collect()
    };
    let method = json!({
        "name": "exact",
        "trials": null,
        "seed": 0,
        "window_days": 14,
        "weekdays_only": false,
        "holidays": [],
        "rules": {
            "bulk_exclusion": false,
            "change_point": false,
            "weekday_detection": false,
            "auto_window": false,
            "track_record": false,
            "calibration": false
        }
    });
    let warnings = json!([{
        "kind": "overlapping_origins",
        "message": overlap_warning(7, 10),
    }]);
    let origins = ["2026-01-15", "2026-01-22", "2026-01-29"];
    assert_eq!(
        run(std::slice::from_ref(&a)),
        json!({
            "question": "backtest",
            "kind": {"how_many": {"horizon_days": 10}},
            "step_days": 7,
            "confidence": 0.95,
            "origins": 3,
            "skipped": 0,
            "levels": levels(3),
            "observations": observations(&origins),
            "history": {
                "source": "a.csv",
                "first_day": "2026-01-01",
                "last_day": "2026-02-09",
                "days": 40
            },
            "method": method,
            "warnings": warnings
        })
    );
    // Pooled: `source` and `sources` instead of `history`; the pool's origins are all of
    // theirs.
    let b = (alternating(40), "b.csv".to_string());
    let source = |name: &str| {
        json!({
            "source": name,
            "first_day": "2026-01-01",
            "last_day": "2026-02-09",
            "origins": 3,
            "skipped": 0,
            "levels": levels(3)
        })
    };
    let twice: Vec<&str> = origins.iter().chain(&origins).copied().collect();
    assert_eq!(
        run(&[a, b]),
        json!({
            "question": "backtest",
            "kind": {"how_many": {"horizon_days": 10}},
            "step_days": 7,
            "confidence": 0.95,
            "origins": 6,
            "skipped": 0,
            "levels": levels(6),
            "observations": observations(&twice),
            "source": "pooled",
            "sources": [source("a.csv"), source("b.csv")],
            "method": method,
            "warnings": warnings
        })
    );
}
