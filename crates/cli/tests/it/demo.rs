//! The whole pipeline on a local folder, and SQL over what it left.

use crate::util::*;

#[test]
fn demo_builds_marts_and_sql_answers() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let out = run_ok(flowlake().args(["demo", "--lake", lake.to_str().unwrap(), "--json"]));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(summary["ingest"]["rows"]["pull_requests"].as_u64().unwrap() > 1000);
    assert!(summary["marts"]["mart_dora"].as_u64().unwrap() > 0);
    assert_eq!(summary["dora_recent_months"].as_array().unwrap().len(), 3);
    for m in MARTS {
        assert!(
            lake.join(format!("marts/{m}/data.parquet")).is_file(),
            "{m} on disk"
        );
    }
    // The Jira side: issues with changelogs, flow metrics per project and the stale items.
    assert!(summary["jira"]["rows"]["issues"].as_u64().unwrap() > 1000);
    assert!(summary["jira"]["rows"]["changelog_items"].as_u64().unwrap() > 5000);
    let flow = summary["flow_last_12_weeks"].as_array().unwrap();
    assert!(flow.len() >= 2, "{flow:?}");
    for p in flow {
        assert!(p["done"].as_i64().unwrap() > 0, "{p}");
        let eff = p["flow_efficiency"].as_f64().unwrap();
        assert!(eff > 0.0 && eff <= 1.0, "{p}");
        assert!(
            p["cycle_p85_d"].as_f64() >= p["cycle_p50_d"].as_f64(),
            "{p}"
        );
    }
    let stale = summary["stale_items"].as_array().unwrap();
    assert!(!stale.is_empty(), "the simulated org has stale items");
    for s in stale {
        assert!(
            s["age_d"].as_f64().unwrap() > s["p85_cycle_d"].as_f64().unwrap(),
            "{s}"
        );
    }
    assert!(summary["marts"]["mart_forecasts"].as_u64().unwrap() > 0);
    // A run manifest per ingest (GitHub, Jira) and one for the build.
    let runs: Vec<_> = files_under(&lake.join("runs"));
    assert_eq!(runs.len(), 3, "{runs:?}");

    // Forecasts read the lake's mart_throughput_daily.
    let out = run_ok(flowlake().args([
        "forecast",
        "when",
        "--lake",
        lake.to_str().unwrap(),
        "--project",
        "PAY",
        "--items",
        "30",
        "--format",
        "json",
    ]));
    let when: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (p50, p95) = (
        when["percentiles"]["50"].as_str().unwrap(),
        when["percentiles"]["95"].as_str().unwrap(),
    );
    assert!(p50 <= p95 && p50 > "2026-11-01", "{when}");
    // An epic's remaining items come from fct_work_items.
    let epic = &summary["open_epics"][0];
    let out = run_ok(flowlake().args([
        "forecast",
        "when",
        "--lake",
        lake.to_str().unwrap(),
        "--project",
        epic["project"].as_str().unwrap(),
        "--epic",
        epic["epic_key"].as_str().unwrap(),
        "--format",
        "json",
    ]));
    let when: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(when["items"], epic["remaining"], "{when}");
    let out = run_ok(flowlake().args([
        "forecast",
        "backtest",
        "--lake",
        lake.to_str().unwrap(),
        "--format",
        "json",
    ]));
    let bt: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Both questions by default: how many in the next 14 days, when will 20 items be done.
    let questions = bt["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 2, "{bt}");
    assert_eq!(questions[1]["kind"]["when"]["items"], 20);
    for q in questions {
        assert!(
            q["sources"].as_array().unwrap().len() >= 2,
            "every project, pooled"
        );
        let p85 = &q["levels"][2];
        assert_eq!(p85["level"], 85);
        assert!(p85["total"].as_u64().unwrap() > 50, "{p85}");
    }

    let out = run_ok(flowlake().args([
        "sql",
        "--lake",
        lake.to_str().unwrap(),
        "--format",
        "json",
        "-e",
        "select * from mart_dora limit 5",
    ]));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 5);
    assert!(rows[0].get("deployment_frequency_band").is_some());

    // Staging and raw tables are queryable too, and CSV has a header.
    let out = run_ok(flowlake().args([
        "sql",
        "--lake",
        lake.to_str().unwrap(),
        "--format",
        "csv",
        "-e",
        "select count(*) as n from raw_github_pull_requests",
    ]));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("n\n"), "{text}");

    // A closed pipe is not an error (`flowlake sql … | head -1`).
    let mut child = flowlake()
        .args([
            "sql",
            "--lake",
            lake.to_str().unwrap(),
            "--format",
            "csv",
            "-e",
            "select * from fct_pull_requests",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    assert!(child.wait().unwrap().success());

    // Re-running the ingest over the same lake duplicates nothing in the marts.
    let before = sorted_rows(&lake.join("marts/fct_pull_requests/data.parquet"));
    run_ok(flowlake().args(["demo", "--lake", lake.to_str().unwrap(), "--json"]));
    let after = sorted_rows(&lake.join("marts/fct_pull_requests/data.parquet"));
    assert_eq!(before, after);
}
