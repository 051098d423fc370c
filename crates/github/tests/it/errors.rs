//! Runs that fail: a refused token, a missing repo, a failure after good pages. Each must fail
//! with the right error, advance no watermark it should not, keep what it fetched, and leave no
//! token in any file it wrote.

use flowlake_github::{Error, GithubConfig, Secret};
use flowlake_model::Entity;

use crate::common::*;

fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<std::path::PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| {
            let bytes = std::fs::read(p).expect("readable");
            bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        })
        .collect()
}

fn rel_files(t: &TestLake, prefix: &str) -> Vec<String> {
    files_under(t.dir.path())
        .iter()
        .map(|p| {
            p.strip_prefix(t.dir.path())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|p| p.starts_with(prefix))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_token_fails_with_auth_and_writes_nothing() {
    const WRONG: &str = "ghp_ThisIsNotTheRightToken987654321";
    let sim = spawn(sim_config()).await;
    let t = temp_lake();
    let cfg = GithubConfig {
        auth: flowlake_github::Auth::Token(Secret::new(WRONG)),
        ..gh_config(&sim, &two_repos())
    };
    let out = ingest(&t.lake, &sim, cfg, "run-01").await;
    let err = out.result.expect_err("a wrong token fails");
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    let msg = error_chain(&err);
    assert!(
        msg.contains("GITHUB_TOKEN"),
        "the message names the fix: {msg}"
    );
    assert!(
        !msg.contains(WRONG) && !format!("{err:?}").contains(WRONG),
        "no token in {msg}"
    );
    assert_eq!(out.spend.requests, 1, "a 401 is not retried");
    assert!(rel_files(&t, "raw").is_empty(), "nothing in raw");
    assert!(rel_files(&t, "state").is_empty(), "no state file");
    assert_eq!(
        rel_files(&t, "runs").len(),
        1,
        "only the failed run's manifest"
    );
    assert!(
        files_containing(t.dir.path(), WRONG).is_empty(),
        "the manifest holds no token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_repo_fails_with_not_found_and_no_watermark() {
    let sim = spawn(sim_config()).await;
    let t = temp_lake();
    let out = ingest(
        &t.lake,
        &sim,
        gh_config(&sim, &["acme/nope".into()]),
        "run-01",
    )
    .await;
    let err = out.result.expect_err("a missing repo fails");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("acme/nope") && msg.contains("[github]"),
        "names the repo and the setting: {msg}"
    );
    assert_eq!(out.spend.requests, 1, "a 404 is not retried");
    assert!(
        state(&t.lake, "acme/nope").await.is_none(),
        "no watermark for a missing repo"
    );
    assert!(rel_files(&t, "raw").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_after_good_pages_keeps_the_good_repo() {
    let sim = spawn(sim_config()).await;
    let t = temp_lake();
    let good = two_repos()[0].clone();
    let out = ingest(
        &t.lake,
        &sim,
        gh_config(&sim, &[good.clone(), "acme/nope".into()]),
        "run-01",
    )
    .await;
    let err = out.result.expect_err("the second repo is missing");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");

    let st = state(&t.lake, &good)
        .await
        .expect("the first repo's state is saved");
    assert_eq!(st.run_id.as_deref(), Some("run-01"));
    assert!(st.watermarks.contains_key("pull_requests"));
    assert!(
        state(&t.lake, "acme/nope").await.is_none(),
        "the second repo's is not"
    );
    assert!(!out.files.is_empty());
    assert_lake_matches_truth(&t.lake, std::slice::from_ref(&good), sim.now()).await;

    // The next run, with the typo fixed, resumes incrementally from the saved watermark.
    sim.reset_stats();
    let again = ingest(
        &t.lake,
        &sim,
        gh_config(&sim, std::slice::from_ref(&good)),
        "run-02",
    )
    .await;
    again.result.expect("the good repo alone succeeds");
    assert!(
        sim.stats().by_route["graphql:pullRequests"] <= 1,
        "incremental from the saved state"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_never_reaches_the_lake() {
    let sim = spawn(sim_config()).await;
    let t = temp_lake();
    let repos = two_repos();
    // A good run, an incremental one, and a failing one, each leaving raw data, state and a
    // run manifest (with the error text for the failure).
    ingest(&t.lake, &sim, gh_config(&sim, &repos), "run-01")
        .await
        .result
        .expect("run 1");
    sim.advance(24.0);
    ingest(&t.lake, &sim, gh_config(&sim, &repos), "run-02")
        .await
        .result
        .expect("run 2");
    let failing = [repos[0].clone(), "acme/nope".into()];
    let err = ingest(&t.lake, &sim, gh_config(&sim, &failing), "run-03")
        .await
        .result
        .expect_err("run 3 fails");
    assert!(!error_chain(&err).contains(TOKEN));

    let written = files_under(t.dir.path());
    let kinds = |p: &str| rel_files(&t, p).len();
    assert!(
        kinds("raw/github") >= 8 && kinds("state") == 2 && kinds("runs") == 3,
        "{written:?}"
    );
    let parquet_rows = rows(&t.lake, Entity::GithubPullRequests).await.len();
    assert!(parquet_rows > 0);
    assert_eq!(
        files_containing(t.dir.path(), TOKEN),
        Vec::<std::path::PathBuf>::new(),
        "files holding the token"
    );
    // The search itself works: the token's text is findable when it is there.
    std::fs::write(t.dir.path().join("canary.txt"), format!("x{TOKEN}x")).unwrap();
    assert_eq!(files_containing(t.dir.path(), TOKEN).len(), 1);
}
