//! The JSON each command prints is a contract for the programs that read it: one test pins
//! the keys of every command's `--json` / `--format json` output over one demo lake, so a
//! refactor that renames or drops a key fails here, not in a user's script.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::util::*;

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn json(args: &[&str]) -> Value {
    let out = run_ok(flowlake().args(args));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn every_command_keeps_its_json_shape() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let lake = lake.to_str().unwrap();

    let demo = json(&["demo", "--lake", lake, "--json"]);
    assert_eq!(
        keys(&demo),
        set(&[
            "active_sprints",
            "cycle_time_breakdown_90d",
            "dora_recent_months",
            "flow_last_12_weeks",
            "ingest",
            "jira",
            "lake",
            "marts",
            "open_epics",
            "run_id",
            "stale_items",
        ])
    );
    assert_eq!(keys(&demo["ingest"]), set(&["repos", "rows", "spend"]));
    assert!(
        demo["marts"]["mart_forecasts"].as_u64().is_some(),
        "{}",
        demo["marts"]
    );

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let events = root.join("fixtures/events/sample.ndjson");
    let manifest = json(&[
        "ingest",
        "events",
        events.to_str().unwrap(),
        "--lake",
        lake,
        "--workspace",
        "acme",
        "--json",
    ]);
    assert_eq!(
        keys(&manifest),
        set(&[
            "api_requests",
            "build_id",
            "command",
            "config",
            "config_hash",
            "duration_s",
            "error",
            "exit_code",
            "files",
            "finished_at",
            "host",
            "outcome",
            "rate_limit_points",
            "rows",
            "run_id",
            "started_at",
            "steps",
            "user",
            "version",
            "watermarks",
        ])
    );

    let rows = json(&[
        "sql",
        "--lake",
        lake,
        "--format",
        "json",
        "-e",
        "select 1 as a",
    ]);
    assert_eq!(rows, serde_json::json!([{"a": 1}]));

    let project = json(&[
        "sql",
        "--lake",
        lake,
        "--format",
        "json",
        "-e",
        "select min(project) as p from mart_throughput_daily",
    ])[0]["p"]
        .as_str()
        .unwrap()
        .to_string();
    let common = [
        "calibration",
        "distribution",
        "history",
        "method",
        "percentiles",
        "question",
        "sample",
        "start",
        "track_record",
        "uncalibrated_percentiles",
        "warnings",
    ];
    let when = json(&[
        "forecast",
        "when",
        "--lake",
        lake,
        "--project",
        &project,
        "--items",
        "10",
        "--exact",
        "--format",
        "json",
    ]);
    let mut expected = set(&common);
    expected.extend(set(&["items", "target"]));
    assert_eq!(keys(&when), expected);
    assert_eq!(
        keys(&when["sample"]),
        set(&[
            "bulk_days",
            "calendar_days",
            "mean_per_working_day",
            "non_zero_days",
            "regime_start",
            "weekdays_detected",
            "window_choice",
            "window_days",
            "window_end",
            "window_start",
            "working_days",
        ])
    );
    let how_many = json(&[
        "forecast",
        "how-many",
        "--lake",
        lake,
        "--project",
        &project,
        "--until",
        "2027-01-31",
        "--exact",
        "--format",
        "json",
    ]);
    let mut expected = set(&common);
    expected.extend(set(&["until", "working_days"]));
    assert_eq!(keys(&how_many), expected);
    let backtest = json(&[
        "forecast", "backtest", "--lake", lake, "--exact", "--format", "json",
    ]);
    assert_eq!(keys(&backtest), set(&["questions"]));
    let one = &backtest["questions"][0];
    assert_eq!(
        keys(one),
        set(&[
            "confidence",
            "kind",
            "levels",
            "method",
            "observations",
            "origins",
            "question",
            "skipped",
            "source",
            "sources",
            "step_days",
            "warnings",
        ])
    );
    // One question asked: exactly the object the both-question run lists first.
    let single = json(&[
        "forecast",
        "backtest",
        "--lake",
        lake,
        "--exact",
        "--horizon-days",
        "14",
        "--format",
        "json",
    ]);
    assert_eq!(&single, one);
}
