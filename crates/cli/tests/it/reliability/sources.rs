//! Sources that misbehave: 10 % injected faults leave the same lake; a token revoked in the
//! middle of a run fails that source only (exit 3), the others land and the marts are built.

use std::collections::BTreeSet;
use std::path::Path;

use flowlake_sim::SimConfig;

use super::harness::*;
use crate::util::*;

/// The distinct rows of every raw table, without the run's bookkeeping columns (run id,
/// ingest time and date differ between runs by design).
fn raw_content(lake: &Path) -> Vec<(String, BTreeSet<String>)> {
    let raw = lake.join("raw");
    let mut tables: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for rel in files_under(&raw) {
        let s = rel.to_string_lossy().to_string();
        if !s.ends_with(".parquet") {
            continue;
        }
        let table = s.split("/ingest_date=").next().unwrap().to_string();
        let file = std::fs::File::open(raw.join(&rel)).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let keep: Vec<usize> = batch
                .schema()
                .fields()
                .iter()
                .enumerate()
                .filter(|(_, f)| !matches!(f.name().as_str(), "_run_id" | "_ingested_at"))
                .map(|(i, _)| i)
                .collect();
            let batch = batch.project(&keep).unwrap();
            let mut buf = Vec::new();
            {
                let mut w = arrow::csv::WriterBuilder::new()
                    .with_header(false)
                    .build(&mut buf);
                w.write(&batch).unwrap();
            }
            let set = tables.entry(table.clone()).or_default();
            for line in String::from_utf8(buf).unwrap().lines() {
                set.insert(line.to_string());
            }
        }
    }
    tables.into_iter().collect()
}

#[test]
fn ten_percent_faults_leave_the_same_lake() {
    let calm = Org::start(Org::secret_config());
    let stormy = Org::start(SimConfig {
        faults: 0.10,
        ..Org::secret_config()
    });
    let tmp = tempfile::tempdir().unwrap();
    let steps = ["ingest-github", "ingest-jira", "build"];
    let (a, b) = (tmp.path().join("calm"), tmp.path().join("stormy"));
    let out = calm.run(
        &calm.workdir(&tmp.path().join("w1"), &steps, ""),
        a.to_str().unwrap(),
    );
    assert_eq!(code(&out), 0, "{}", describe(&out));
    let out = stormy.run(
        &stormy.workdir(&tmp.path().join("w2"), &steps, ""),
        b.to_str().unwrap(),
    );
    assert_eq!(code(&out), 0, "{}", describe(&out));
    assert!(
        stormy.sim.stats().faults_injected > 5,
        "{:?}",
        stormy.sim.stats()
    );
    let (ra, rb) = (raw_content(&a), raw_content(&b));
    assert_eq!(
        ra.iter().map(|(t, _)| t).collect::<Vec<_>>(),
        rb.iter().map(|(t, _)| t).collect::<Vec<_>>()
    );
    for ((table, x), (_, y)) in ra.iter().zip(&rb) {
        assert!(
            x == y,
            "raw {table}: {} rows calm, {} with faults",
            x.len(),
            y.len()
        );
    }
    assert_eq!(published_marts(&a), published_marts(&b));
}

#[test]
fn a_token_revoked_mid_run_fails_that_source_only() {
    let org = Org::start(SimConfig {
        revoke_token_after: Some(25),
        ..Org::secret_config()
    });
    let tmp = tempfile::tempdir().unwrap();
    let dir = org.workdir(
        &tmp.path().join("w"),
        &["ingest-github", "ingest-jira", "build"],
        "",
    );
    let lake = tmp.path().join("lake");
    let out = org.run(&dir, lake.to_str().unwrap());
    assert_eq!(code(&out), 3, "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ingest-github") && err.contains("refused the token"),
        "{err}"
    );
    // Jira landed, the marts were built and published from what is there.
    assert!(
        files_under(&lake.join("raw/jira"))
            .iter()
            .any(|p| p.to_string_lossy().ends_with(".parquet"))
    );
    let marts = published_marts(&lake);
    assert!(!marts["fct_work_items"].is_empty());
    // The pipeline's manifest says which step failed and why.
    let run = manifests(&lake)
        .into_iter()
        .find(|m| m["command"] == "run nightly")
        .expect("the pipeline's manifest");
    assert_eq!(run["outcome"], "partial");
    assert_eq!(run["exit_code"], 3);
    let steps: Vec<(String, String)> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().into(),
                s["outcome"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("ingest-github".into(), "failed".into()),
            ("ingest-jira".into(), "succeeded".into()),
            ("build".into(), "succeeded".into())
        ]
    );
}
