//! The generated org's shapes: sizes, determinism, DORA-plausible rates, and the invariants
//! connectors and marts rely on (merge commits on the default branch, incident linking, …).

use std::collections::HashSet;
use std::time::Instant;

use chrono::Duration;
use flowlake_sim::model::{DeployKind, DeploymentState, PrKind, PrState};
use flowlake_sim::{Org, Scale, SimConfig};

fn small(seed: u64) -> Org {
    let org = Org::generate(&SimConfig::new(seed, Scale::Small)).unwrap();
    org.generate_all();
    org
}

#[test]
fn small_generates_quickly_at_the_target_size() {
    let t0 = Instant::now();
    let org = small(11);
    let elapsed = t0.elapsed();
    // "Well under a second" in debug builds; leave headroom for a loaded CI machine.
    assert!(elapsed.as_secs_f64() < 2.0, "small org took {elapsed:?}");
    assert_eq!(org.repos.len(), 4);
    assert_eq!(org.people.len(), 24);
    let prs = org.pull_requests_visible_at(org.end);
    assert!((2_000..=3_000).contains(&prs), "{prs} PRs");
    assert!(
        org.total_pull_requests() > prs,
        "the future beyond `end` holds more PRs"
    );
}

#[test]
fn same_seed_same_org_other_seed_other_org() {
    let (a, b, c) = (small(5), small(5), small(6));
    for (ra, rb) in a.repos.iter().zip(&b.repos) {
        assert_eq!(ra.name, rb.name);
        assert!(ra.data() == rb.data(), "repo {} differs", ra.name);
    }
    assert_eq!(a.people, b.people);
    assert_eq!(
        a.jira_daily_throughput(&a.projects[0].key),
        b.jira_daily_throughput(&b.projects[0].key)
    );
    assert!(a.repos[0].data() != c.repos[0].data());
}

#[test]
fn pull_request_shapes_are_realistic() {
    let org = small(21);
    let (mut total, mut weekend, mut closed, mut merged, mut drafts, mut long_open) =
        (0, 0, 0, 0, 0, 0);
    let (mut hotfix, mut revert, mut bot, mut ghost) = (0, 0, 0, 0);
    for repo in &org.repos {
        let d = repo.data();
        let mut numbers = HashSet::new();
        for p in d.pull_requests.iter().filter(|p| p.created_at < org.end) {
            total += 1;
            assert!(numbers.insert(p.number), "duplicate number {}", p.number);
            let wd = chrono::Datelike::weekday(&p.created_at).number_from_monday();
            if wd >= 6 {
                weekend += 1;
            }
            assert!(
                (1..=8).contains(&p.commits.len()),
                "{} commits",
                p.commits.len()
            );
            assert!(p.reviews.len() <= 4, "{} reviews", p.reviews.len());
            assert!(
                p.first_commit_at() < p.created_at,
                "first commit before the PR opens"
            );
            if let Some(m) = p.merged_at {
                merged += 1;
                assert!(p.commits.iter().all(|c| c.authored_at < m));
                assert!(p.reviews.iter().all(|r| r.submitted_at <= m));
                assert!(p.closed_at.is_none());
            }
            if p.closed_at.is_some() {
                closed += 1;
            }
            if p.is_draft_at(org.end) {
                drafts += 1;
            }
            if p.state_at(org.end) == Some(PrState::Open)
                && org.end - p.created_at > Duration::days(30)
            {
                long_open += 1;
            }
            match p.kind {
                PrKind::Hotfix => {
                    hotfix += 1;
                    assert!(p.title.starts_with("hotfix:"), "{}", p.title);
                    assert!(p.labels.contains(&"hotfix"));
                    assert!(p.fixes_incident.is_some());
                }
                PrKind::Revert => {
                    revert += 1;
                    assert!(p.title.starts_with("Revert \""), "{}", p.title);
                }
                PrKind::Dependency => {
                    bot += 1;
                    let login = org.login(p.author).unwrap();
                    assert!(login == "dependabot[bot]" || login == "renovate[bot]");
                    assert_eq!(org.people[p.author.unwrap()].kind.typename(), "Bot");
                }
                PrKind::Regular => {}
            }
            if p.author.is_none() {
                ghost += 1;
            }
        }
    }
    let share = |n: usize| n as f64 / total as f64;
    assert!(share(weekend) < 0.15, "weekend share {}", share(weekend));
    assert!(
        (0.05..=0.16).contains(&share(closed)),
        "closed share {}",
        share(closed)
    );
    assert!(share(merged) > 0.75, "merged share {}", share(merged));
    assert!(
        drafts > 0 && long_open > 0,
        "drafts {drafts}, long-open {long_open}"
    );
    assert!(
        hotfix > 10 && revert > 10 && bot > 50,
        "hotfix {hotfix} revert {revert} bot {bot}"
    );
    assert!(ghost < total / 50);
}

#[test]
fn merged_prs_land_on_a_linear_default_branch() {
    let org = small(3);
    for repo in &org.repos {
        let d = repo.data();
        let history: std::collections::HashMap<_, _> =
            d.commits.iter().map(|c| (c.oid, c)).collect();
        assert_eq!(history.len(), d.commits.len(), "oids are unique");
        assert_eq!(d.commits[0].parents, 0);
        assert!(d.commits[1..].iter().all(|c| c.parents == 1));
        assert!(
            d.commits
                .windows(2)
                .all(|w| w[0].committed_at <= w[1].committed_at)
        );
        for p in d.pull_requests.iter().filter(|p| p.is_merged()) {
            let c = history[&p.merge_commit.expect("merged PRs have a merge commit")];
            assert_eq!(Some(c.committed_at), p.merged_at);
            assert_eq!(c.message, format!("{} (#{})", p.title, p.number));
        }
        let direct = d
            .commits
            .iter()
            .filter(|c| c.pull_request.is_none())
            .count();
        assert!(direct > 1, "a few direct pushes besides the root commit");
    }
}

#[test]
fn deployments_ship_the_head_and_dora_rates_are_plausible() {
    let org = small(8);
    let (mut prod, mut failed, mut caused) = (0usize, 0usize, 0usize);
    let mut staging = 0;
    for repo in &org.repos {
        let d = repo.data();
        for dep in &d.deployments {
            let states: Vec<_> = dep.statuses.iter().map(|s| s.state).collect();
            assert_eq!(
                &states[..2],
                &[DeploymentState::Queued, DeploymentState::InProgress]
            );
            assert!(states[2].is_terminal());
            assert!(
                dep.statuses
                    .windows(2)
                    .all(|w| w[0].created_at <= w[1].created_at)
            );
            if states.len() > 3 {
                assert_eq!(
                    states[2],
                    DeploymentState::Success,
                    "only successes go inactive"
                );
                assert_eq!(states[3], DeploymentState::Inactive);
            }
            if dep.kind != DeployKind::Rollback && dep.kind != DeployKind::Retry {
                assert_eq!(
                    Some(dep.commit_oid),
                    d.head_at(dep.created_at).map(|c| c.oid)
                );
            }
            if !dep.is_production() {
                staging += 1;
                continue;
            }
            if dep.created_at >= org.end {
                continue;
            }
            prod += 1;
            if !dep.is_success() {
                failed += 1;
            }
            if dep.caused_incident.is_some() {
                caused += 1;
            }
        }
        // The flowlake rule links an incident to the latest production deployment before it
        // opened: check the generator places incidents so that the rule finds the cause.
        for inc in d.incidents() {
            assert!(inc.labels.iter().any(|l| l.starts_with("sev")));
            let latest = d
                .production_deployments()
                .filter(|x| x.created_at <= inc.created_at)
                .max_by_key(|x| x.created_at)
                .unwrap();
            assert_eq!(Some(latest.database_id), inc.caused_by_deployment);
            assert_eq!(latest.caused_incident, Some(inc.number));
            assert!(latest.finished_at().unwrap() < inc.created_at);
            assert!(inc.closed_at.unwrap() > inc.created_at);
        }
    }
    let weeks = (org.end - org.start).num_weeks() as f64;
    let per_week = prod as f64 / weeks / org.repos.len() as f64;
    assert!(
        (2.0..=8.0).contains(&per_week),
        "{per_week} production deployments per repo-week"
    );
    let fail_share = failed as f64 / prod as f64;
    assert!(
        (0.03..=0.15).contains(&fail_share),
        "failed deployments {fail_share}"
    );
    let cfr = caused as f64 / (prod - failed) as f64;
    assert!((0.05..=0.25).contains(&cfr), "change failure rate {cfr}");
    assert!(staging > 0);
}

#[test]
fn runs_releases_and_issues_exist_with_github_shapes() {
    let org = small(4);
    let d = org.repos[0].data();
    let deploy_runs: Vec<_> = d
        .workflow_runs
        .iter()
        .filter(|r| r.name == "deploy")
        .collect();
    assert_eq!(deploy_runs.len(), d.production_deployments().count());
    assert!(deploy_runs.iter().all(|r| r.event == "push"
        && r.head_branch == "main"
        && r.path == ".github/workflows/deploy.yml"));
    assert!(
        deploy_runs
            .windows(2)
            .all(|w| w[0].run_number + 1 == w[1].run_number)
    );
    let ci = d.workflow_runs.iter().filter(|r| r.name == "ci").count();
    assert!(ci >= d.pull_requests.len(), "a ci run per PR at least");
    let weeks = (org.generated_until - org.start).num_weeks();
    assert!(
        (weeks / 3..=weeks * 2 / 3).contains(&(d.releases.len() as i64)),
        "{} releases",
        d.releases.len()
    );
    assert!(
        d.releases
            .iter()
            .all(|r| r.tag_name.starts_with('v') && r.tag_name.matches('.').count() == 2)
    );
    let tags: HashSet<_> = d.releases.iter().map(|r| &r.tag_name).collect();
    assert_eq!(tags.len(), d.releases.len());
    assert!(
        d.issues.iter().any(|i| !i.is_incident()),
        "non-incident issues for label filters"
    );
}

#[test]
fn snapshots_grow_with_time() {
    let org = small(2);
    let a = org.pull_requests_visible_at(org.end - Duration::days(30));
    let b = org.pull_requests_visible_at(org.end);
    let c = org.pull_requests_visible_at(org.end + Duration::days(7));
    assert!(a < b && b < c, "{a} {b} {c}");
    let repo = &org.repos[0];
    let later = org.end + Duration::days(3);
    let changed = repo
        .data()
        .pull_requests
        .iter()
        .filter(|p| p.visible_at(org.end) && p.state_at(org.end) != p.state_at(later))
        .count();
    assert!(changed > 0, "some open PRs merge or close after `end`");
}

#[test]
fn large_org_is_lazy_and_one_repo_is_fast() {
    // Repos are generated lazily: the skeleton plus one repo stays cheap.
    let t0 = Instant::now();
    let org = Org::generate(&SimConfig::new(1, Scale::Large)).unwrap();
    let prs = org.repos[0].data().pull_requests.len();
    assert!(t0.elapsed().as_secs_f64() < 3.0, "{:?}", t0.elapsed());
    assert!(
        (2_500..=9_000).contains(&prs),
        "{prs} PRs in one large repo"
    );
    assert_eq!(org.repos.iter().filter(|r| r.is_generated()).count(), 1);
}

/// Sizes and generation times of the medium and large scales (slow in debug builds: run with
/// `cargo test -p flowlake-sim --test it -- --ignored --nocapture`).
#[test]
#[ignore = "generates 1M PRs; minutes of CPU in debug builds"]
fn medium_and_large_scales_reach_their_sizes() {
    for (scale, lo, hi) in [
        (Scale::Medium, 40_000, 62_000),
        (Scale::Large, 800_000, 1_250_000),
    ] {
        let t0 = Instant::now();
        let org = Org::generate(&SimConfig::new(1, scale)).unwrap();
        org.generate_all();
        let prs = org.pull_requests_visible_at(org.end);
        eprintln!(
            "{scale}: {} repos, {} people, {prs} PRs in {:?}",
            org.repos.len(),
            org.people.len(),
            t0.elapsed()
        );
        assert!((lo..=hi).contains(&prs), "{scale}: {prs} PRs");
    }
}
