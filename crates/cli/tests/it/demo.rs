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
    // A run manifest for the ingest and one for the build.
    let runs: Vec<_> = files_under(&lake.join("runs"));
    assert_eq!(runs.len(), 2, "{runs:?}");

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
