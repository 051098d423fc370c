//! Faults and rate limits: retried or waited out, and the lake ends up as if nothing happened;
//! a rate limit that will not clear in time fails the run with `Error::RateLimited`.

use std::time::{Duration, Instant};

use chrono::Duration as ChronoDuration;
use flowlake_github::Error;
use flowlake_sim::SimConfig;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_retried_and_the_lake_matches_a_fault_free_run() {
    let repos = two_repos();
    let clean_sim = spawn(sim_config()).await;
    let faulty_sim = spawn(SimConfig {
        faults: 0.1,
        ..sim_config()
    })
    .await;
    let (clean, faulty) = (temp_lake(), temp_lake());
    let a = ingest(
        &clean.lake,
        &clean_sim,
        gh_config(&clean_sim, &repos),
        "run-01",
    )
    .await;
    a.result.expect("clean run");
    let b = ingest(
        &faulty.lake,
        &faulty_sim,
        gh_config(&faulty_sim, &repos),
        "run-01",
    )
    .await;
    b.result.expect("faults are retried");

    let injected = faulty_sim.stats().faults_injected;
    println!(
        "faults: {injected} injected, {} retries, {} requests (clean run: {})",
        b.spend.retries, b.spend.requests, a.spend.requests
    );
    assert!(injected > 0, "the sim injected faults");
    assert!(b.spend.retries > 0, "the connector retried");
    assert!(b.spend.requests > a.spend.requests, "retries cost requests");
    for entity in ENTITIES {
        let want = dedupe(entity, &rows(&clean.lake, entity).await);
        let got = dedupe(entity, &rows(&faulty.lake, entity).await);
        assert!(!want.is_empty(), "{}", entity.name());
        assert_eq!(got.len(), want.len(), "{} rows", entity.name());
        assert!(
            got == want,
            "{}: the faulty run's lake differs from the clean run's",
            entity.name()
        );
    }
    assert_lake_matches_truth(&faulty.lake, &repos, faulty_sim.now()).await;
    for r in &repos {
        assert_eq!(
            state(&faulty.lake, r).await,
            state(&clean.lake, r).await,
            "{r}: same watermarks"
        );
    }
}

/// A small slice of history so that a run needs only a handful of requests.
fn recent_only(sim: &flowlake_sim::SimHandle) -> flowlake_github::GithubConfig {
    flowlake_github::GithubConfig {
        since: Some(sim.now() - ChronoDuration::days(5)),
        ..gh_config(sim, &two_repos()[..1])
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_rate_limit_is_waited_out() {
    // 4 points per 3 s window: the PR page (cost 3) and one more query fit, the rest waits.
    let sim = spawn(SimConfig {
        rate_limit_per_hour: 4,
        rate_limit_window_secs: 3,
        ..sim_config()
    })
    .await;
    let t = temp_lake();
    let started = Instant::now();
    let out = ingest(&t.lake, &sim, recent_only(&sim), "run-01").await;
    let report = out
        .result
        .expect("the connector waits for the reset and completes");
    println!(
        "rate limited run: {} waits, {} requests, {:?}",
        out.spend.rate_limit_waits,
        out.spend.requests,
        started.elapsed()
    );
    assert!(
        out.spend.rate_limit_waits > 0,
        "it hit the limit and waited"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "a wait takes real time"
    );
    assert!(
        report.rows.get("pull_requests").copied().unwrap_or(0) > 0,
        "{:?}",
        report.rows
    );
    let name = &two_repos()[0];
    let st = state(&t.lake, name).await.expect("state saved");
    // The state is saved only once every entity of the repo finished.
    assert_eq!(st.run_id.as_deref(), Some("run-01"));
    assert!(st.watermarks.contains_key("pull_requests"), "{st:?}");
    let since = sim.now() - ChronoDuration::days(5);
    let want = repo(name)
        .pull_requests_visible_at(sim.now())
        .iter()
        .filter(|p| p.updated_at_at(sim.now()) >= since)
        .count();
    let prs = rows(&t.lake, flowlake_model::Entity::GithubPullRequests).await;
    assert_eq!(
        prs.len(),
        want,
        "every PR updated since `since`, despite the waits"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_longer_than_allowed_wait_fails() {
    let sim = spawn(SimConfig {
        rate_limit_per_hour: 4,
        rate_limit_window_secs: 3600,
        ..sim_config()
    })
    .await;
    let t = temp_lake();
    let cfg = flowlake_github::GithubConfig {
        max_rate_limit_wait: Duration::from_secs(5),
        ..recent_only(&sim)
    };
    let started = Instant::now();
    let out = ingest(&t.lake, &sim, cfg, "run-01").await;
    let err = out
        .result
        .expect_err("an hour-long reset exceeds the allowed wait");
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert!(
        err.to_string().contains("max_rate_limit_wait"),
        "names the setting: {err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "fails without waiting"
    );
    assert_eq!(out.spend.rate_limit_waits, 0);
    assert!(
        state(&t.lake, &two_repos()[0]).await.is_none(),
        "no watermark for the failed repo"
    );
}
