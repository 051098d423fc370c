//! Injected faults (429 with `Retry-After`, 502, 503, slow and truncated bodies) and rate
//! limits: the run retries and the lake ends up exactly as after a fault-free run.

use std::time::Duration;

use flowlake_jira::Flavor;

use crate::common::*;

/// Small pages, so a run makes enough requests (about 70) for a 10 % fault rate to bite.
const PAGE: u32 = 20;

async fn clean_snapshot(
    flavor: Flavor,
) -> std::collections::BTreeMap<&'static str, std::collections::BTreeMap<Vec<String>, Row>> {
    let sim = spawn(sim_config()).await;
    let t = temp_lake();
    let mut cfg = config(&sim, flavor, &["PAY"]);
    cfg.incidents.projects = vec!["OPS".into()];
    cfg.page_size = PAGE;
    ingest(&t.lake, &sim, cfg, "run-1").await.report();
    sim.shutdown().await.unwrap();
    snapshot(&t.lake).await
}

#[tokio::test]
async fn faults_end_with_the_same_lake_on_both_flavours() {
    for flavor in [Flavor::Cloud, Flavor::DataCenter] {
        let want = clean_snapshot(flavor).await;
        let sim = spawn(SimConfig {
            faults: 0.1,
            ..sim_config()
        })
        .await;
        let t = temp_lake();
        let mut cfg = config(&sim, flavor, &["PAY"]);
        cfg.incidents.projects = vec!["OPS".into()];
        cfg.max_retries = 8;
        cfg.page_size = PAGE;
        let out = ingest(&t.lake, &sim, cfg, "run-1").await;
        out.report();
        let stats = sim.stats();
        assert!(stats.faults_injected >= 1, "{stats:?}");
        assert!(out.spend.retries + out.spend.rate_limit_waits >= stats.faults_injected / 2);
        assert_eq!(
            out.spend.requests, stats.jira_requests,
            "every request counted"
        );
        let got = snapshot(&t.lake).await;
        for (entity, rows) in &want {
            assert_eq!(rows.len(), got[entity].len(), "{flavor:?} {entity}");
            assert!(rows == &got[entity], "{flavor:?} {entity} differs");
        }
        assert_issues_match_truth(&t.lake, &["PAY"], &["OPS"], t0()).await;
        sim.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn rate_limits_wait_for_retry_after() {
    // A budget of 5 requests per 1-second window: the run must wait several times.
    let sim = spawn(SimConfig {
        rate_limit_per_hour: 5,
        rate_limit_window_secs: 1,
        ..sim_config()
    })
    .await;
    let t = temp_lake();
    let mut cfg = config(&sim, Flavor::Cloud, &[]);
    cfg.incidents.projects = vec!["OPS".into()];
    cfg.page_size = 5;
    let out = ingest(&t.lake, &sim, cfg, "run-1").await;
    out.report();
    assert!(out.spend.rate_limit_waits >= 1, "{:?}", out.spend);
    assert_issues_match_truth(&t.lake, &[], &["OPS"], t0()).await;
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_retry_after_beyond_the_allowed_wait_is_a_clear_error() {
    let sim = spawn(SimConfig {
        rate_limit_per_hour: 3,
        rate_limit_window_secs: 3600,
        ..sim_config()
    })
    .await;
    let t = temp_lake();
    let mut cfg = config(&sim, Flavor::Cloud, &["PAY"]);
    cfg.max_rate_limit_wait = Duration::from_secs(30);
    let out = ingest(&t.lake, &sim, cfg, "run-1").await;
    let err = out.error();
    assert!(err.contains("Jira rate limit on"), "{err}");
    assert!(err.contains("max_rate_limit_wait"), "{err}");
    assert!(out.files.is_empty());
    assert!(state(&t.lake, "PAY").await.is_none());
    sim.shutdown().await.unwrap();
}

use flowlake_sim::SimConfig;
