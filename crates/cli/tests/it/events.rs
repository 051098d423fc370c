//! Deployments and incidents from other tools, and the pipeline runner.

use crate::util::*;

#[test]
fn events_files_land_in_raw_and_reach_the_marts() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for f in [
        "fixtures/events/sample.ndjson",
        "fixtures/events/sample.csv",
    ] {
        let out = run_ok(flowlake().args([
            "ingest",
            "events",
            root.join(f).to_str().unwrap(),
            "--lake",
            lake.to_str().unwrap(),
            "--workspace",
            "acme",
            "--json",
        ]));
        let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            m["rows"]["events/deployments"].as_u64().unwrap() >= 1,
            "{m}"
        );
        assert!(m["rows"]["events/incidents"].as_u64().unwrap() >= 1, "{m}");
    }
    run_ok(flowlake().args(["build", "--lake", lake.to_str().unwrap()]));
    let out = run_ok(flowlake().args([
        "sql",
        "--lake",
        lake.to_str().unwrap(),
        "--format",
        "json",
        "-e",
        "select count(*) as n from fct_deployments where status = 'success'",
    ]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // sample.ndjson has two successful production deployments, sample.csv one.
    assert_eq!(v[0]["n"], 3, "{v}");
    let out = run_ok(flowlake().args([
        "sql",
        "--lake",
        lake.to_str().unwrap(),
        "--format",
        "json",
        "-e",
        "select count(*) as n from fct_incidents",
    ]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["n"], 2, "{v}");
}

#[test]
fn pipeline_file_checks_every_step_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let p = dir.path().join("p.toml");
    let events = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/events/sample.ndjson");
    std::fs::write(
        &p,
        format!(
            "name = \"t\"\nsteps = [\"ingest-events\", \"build\"]\nevents = [{:?}]\n",
            events.to_str().unwrap()
        ),
    )
    .unwrap();
    run_ok(flowlake().args(["run", p.to_str().unwrap(), "--lake", lake.to_str().unwrap()]));
    assert!(lake.join("marts/fct_deployments/data.parquet").is_file());

    // A pipeline that needs GitHub but has no token fails before the events step writes.
    let lake2 = dir.path().join("lake2");
    std::fs::write(
        &p,
        format!(
            "name = \"t\"\nsteps = [\"ingest-events\", \"ingest-github\"]\nevents = [{:?}]\n",
            events.to_str().unwrap()
        ),
    )
    .unwrap();
    let cfg = dir.path().join("f.toml");
    std::fs::write(&cfg, "[github]\norg = \"acme\"\n").unwrap();
    let err = run_err(flowlake().args([
        "--config",
        cfg.to_str().unwrap(),
        "run",
        p.to_str().unwrap(),
        "--lake",
        lake2.to_str().unwrap(),
    ]));
    assert!(err.contains("GITHUB_TOKEN"), "{err}");
    assert!(!lake2.exists());

    std::fs::write(&p, "name = \"t\"\nsteps = [\"ingest-everything\"]\n").unwrap();
    let err = run_err(flowlake().args([
        "run",
        p.to_str().unwrap(),
        "--lake",
        lake2.to_str().unwrap(),
    ]));
    assert!(err.contains("unknown step `ingest-everything`"), "{err}");
}
