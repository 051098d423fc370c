//! Healthy runs: a full run pages through everything the sim shows, within the request budget;
//! incremental runs fetch only what changed and the deduped lake stays equal to the truth.

use std::collections::BTreeSet;

use chrono::Duration as ChronoDuration;
use flowlake_model::Entity;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_run_ingests_exactly_what_the_sim_shows_within_budget() {
    let sim = spawn(sim_config()).await;
    let t = temp_lake();
    let now = sim.now();
    // No repos configured: the org listing decides, and it lists every non-archived repo.
    let out = ingest(&t.lake, &sim, gh_config(&sim, &[]), "run-01").await;
    let report = out.result.expect("a clean run succeeds");
    let expected_repos: Vec<String> = org()
        .repos
        .iter()
        .filter(|r| !r.archived && r.created_at <= now)
        .map(|r| r.full_name.clone())
        .collect();
    assert_eq!(report.repos, expected_repos.len());
    assert!(expected_repos.len() >= 4);

    // Pagination: exactly the sim's PRs, each once, and every entity's count per repo.
    let prs = rows(&t.lake, Entity::GithubPullRequests).await;
    let keys: BTreeSet<(String, String)> = prs
        .iter()
        .map(|r| (r["repo"].clone(), r["number"].clone()))
        .collect();
    assert_eq!(keys.len(), prs.len(), "a full run writes each PR once");
    assert_eq!(
        prs.len(),
        org().pull_requests_visible_at(now),
        "every PR visible at the sim clock"
    );
    for entity in ENTITIES {
        let got = per_repo(rows(&t.lake, entity).await.iter());
        for name in &expected_repos {
            let want = expected_counts(repo(name), now)[entity.name()];
            assert!(
                want > 0,
                "{} of {name}: the fixture should exercise it",
                entity.name()
            );
            assert_eq!(
                got.get(name).copied(),
                Some(want),
                "{} of {name}",
                entity.name()
            );
        }
        assert_eq!(
            report.rows.get(entity.name()).copied(),
            Some(got.values().sum::<usize>() as u64)
        );
    }
    assert_lake_matches_truth(&t.lake, &expected_repos, now).await;

    // Budget: the PR query nests commits and reviews, so a page of 100 PRs is one request.
    let stats = sim.stats();
    let pr_requests = stats.by_route["graphql:pullRequests"];
    let per_1000 = pr_requests as f64 * 1000.0 / prs.len() as f64;
    println!(
        "full run: {} PRs, {pr_requests} pullRequests requests = {per_1000:.1} per 1,000 PRs; {} requests in all",
        prs.len(),
        stats.requests
    );
    assert!(
        per_1000 <= 25.0,
        "{per_1000:.1} GraphQL requests per 1,000 PRs"
    );
    assert_eq!(stats.faults_injected, 0);
    assert_eq!(
        out.spend.requests, stats.requests,
        "the connector counts what the server saw"
    );
    assert_eq!(out.spend.retries, 0);
    assert_eq!(
        stats.by_route.get("rest:repos"),
        Some(&1),
        "one org listing page"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_runs_fetch_only_what_changed() {
    let sim = spawn(sim_config()).await;
    let t = temp_lake();
    let repos = two_repos();
    let cfg = gh_config(&sim, &repos);
    let overlap = ChronoDuration::from_std(cfg.overlap).unwrap();
    let t0 = sim.now();

    let run1 = ingest(&t.lake, &sim, cfg.clone(), "run-01").await;
    run1.result.expect("run 1");
    let run1_prs = rows(&t.lake, Entity::GithubPullRequests).await.len();
    let mut watermarks = Vec::new();
    for r in &repos {
        let st = state(&t.lake, r)
            .await
            .expect("state saved after a good run");
        assert_eq!(st.run_id.as_deref(), Some("run-01"));
        for e in [
            "pull_requests",
            "commits",
            "deployments",
            "workflow_runs",
            "releases",
            "issues",
        ] {
            assert!(st.watermarks.contains_key(e), "{r}: watermark for {e}");
        }
        watermarks.push((r.clone(), st));
    }

    // Run 2, same clock: one request per repo and entity, and only rows inside the overlap.
    sim.reset_stats();
    let run2 = ingest(&t.lake, &sim, cfg.clone(), "run-02").await;
    run2.result.expect("run 2");
    let stats = sim.stats();
    println!(
        "no-change incremental run over {} repos: {} requests {:?}",
        repos.len(),
        stats.requests,
        stats.by_route
    );
    for route in [
        "graphql:pullRequests",
        "graphql:history",
        "graphql:deployments",
        "rest:actions_runs",
        "rest:releases",
        "rest:issues",
    ] {
        let n = stats.by_route.get(route).copied().unwrap_or(0);
        assert!(
            n <= repos.len() as u64,
            "{route}: {n} requests for {} repos",
            repos.len()
        );
    }
    assert!(
        stats.requests <= 6 * repos.len() as u64,
        "{} requests",
        stats.requests
    );
    assert!(
        !stats.by_route.contains_key("rest:repos"),
        "configured repos need no listing"
    );

    for entity in [
        Entity::GithubPullRequests,
        Entity::GithubIssues,
        Entity::GithubCommits,
    ] {
        let (wm_key, col) = match entity {
            Entity::GithubPullRequests => ("pull_requests", "updated_at"),
            Entity::GithubIssues => ("issues", "updated_at"),
            _ => ("commits", "committed_at"),
        };
        for r in rows(&t.lake, entity)
            .await
            .iter()
            .filter(|r| r["_run_id"] == "run-02")
        {
            let st = &watermarks
                .iter()
                .find(|(name, _)| *name == r["repo"])
                .unwrap()
                .1;
            let floor = st.watermarks[wm_key] - overlap;
            let t = ts(r, col).expect(col);
            assert!(
                t >= floor,
                "run 2 re-fetched {} {r:?} from before the overlap window",
                entity.name()
            );
        }
    }
    let run2_prs = rows(&t.lake, Entity::GithubPullRequests).await.len() - run1_prs;
    assert!(
        run2_prs * 10 < run1_prs,
        "run 2 wrote {run2_prs} PR rows against {run1_prs} in run 1"
    );
    // After dedupe the lake is still exactly the truth (no duplicate keys survive).
    assert_lake_matches_truth(&t.lake, &repos, t0).await;

    // Two days later: run 3 fetches the new and changed PRs, and only those (plus the overlap).
    let t1 = sim.advance(48.0);
    let before = rows(&t.lake, Entity::GithubPullRequests).await.len();
    let run3 = ingest(&t.lake, &sim, cfg.clone(), "run-03").await;
    run3.result.expect("run 3");
    let all = rows(&t.lake, Entity::GithubPullRequests).await;
    let run3_rows: Vec<&Row> = all.iter().filter(|r| r["_run_id"] == "run-03").collect();
    assert_eq!(run3_rows.len(), all.len() - before);
    let fetched: BTreeSet<(String, u64)> = run3_rows
        .iter()
        .map(|r| (r["repo"].clone(), r["number"].parse().unwrap()))
        .collect();
    let mut changed = 0;
    let mut visible_t1 = 0;
    for name in &repos {
        for pr in repo(name).pull_requests_visible_at(t1) {
            visible_t1 += 1;
            if !pr.visible_at(t0) || pr.updated_at_at(t0) != pr.updated_at_at(t1) {
                changed += 1;
                assert!(
                    fetched.contains(&(name.clone(), pr.number)),
                    "{name} #{} changed but was not fetched",
                    pr.number
                );
            }
        }
    }
    println!(
        "after 48 h: {changed} PRs changed, run 3 wrote {} PR rows of {visible_t1}",
        run3_rows.len()
    );
    assert!(changed > 0, "48 hours should change something");
    assert!(
        run3_rows.len() < visible_t1 / 2,
        "run 3 wrote {} of {visible_t1}",
        run3_rows.len()
    );
    for r in &run3_rows {
        let pr = repo(&r["repo"])
            .data()
            .pull_requests
            .iter()
            .find(|p| p.number.to_string() == r["number"])
            .unwrap();
        assert_eq!(
            ts(r, "updated_at"),
            Some(pr.updated_at_at(t1)),
            "run 3 wrote the PR as of the new clock"
        );
    }
    for name in &repos {
        let st = state(&t.lake, name).await.unwrap();
        assert_eq!(st.run_id.as_deref(), Some("run-03"));
        let old = &watermarks.iter().find(|(n, _)| n == name).unwrap().1;
        assert!(
            st.watermarks["pull_requests"] >= old.watermarks["pull_requests"],
            "{name}: watermarks never go back"
        );
    }

    // Staging-style dedupe of every raw row is the truth at the final clock.
    assert_lake_matches_truth(&t.lake, &repos, t1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_pages_cross_every_page_boundary() {
    // Page size 7 makes every entity span many pages (GraphQL cursors and REST `Link`
    // headers alike), including the incremental stops in the middle of a page.
    let sim = spawn(sim_config()).await;
    let t = temp_lake();
    let one = two_repos()[1..].to_vec();
    let cfg = flowlake_github::GithubConfig {
        page_size: 7,
        ..gh_config(&sim, &one)
    };
    ingest(&t.lake, &sim, cfg.clone(), "run-01")
        .await
        .result
        .expect("run 1");
    let stats = sim.stats();
    let counts = expected_counts(repo(&one[0]), sim.now());
    for (route, entity) in [
        ("graphql:pullRequests", "pull_requests"),
        ("rest:issues", "issues"),
        ("rest:releases", "releases"),
    ] {
        let pages = counts[entity].div_ceil(7) as u64;
        assert!(
            pages > 1,
            "{entity}: {} rows should need several pages",
            counts[entity]
        );
        assert_eq!(
            stats.by_route.get(route).copied(),
            Some(pages),
            "{route}: one request per page"
        );
    }
    assert_lake_matches_truth(&t.lake, &one, sim.now()).await;

    // Several incremental runs in uneven steps, each leaving the deduped lake exact.
    for (i, hours) in [5.0, 30.0, 0.5, 200.0].into_iter().enumerate() {
        let now = sim.advance(hours);
        let run_id = format!("run-{:02}", i + 2);
        ingest(&t.lake, &sim, cfg.clone(), &run_id)
            .await
            .result
            .expect("incremental run");
        assert_lake_matches_truth(&t.lake, &one, now).await;
    }
}
