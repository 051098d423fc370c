//! Shared fixture: one generated org (seed 7, small) served by as many sims as a test needs,
//! lakes in temporary folders, a fixed clock, reading raw tables back and deduping them the
//! way staging does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arrow::util::display::array_value_to_string;
use chrono::{DateTime, Utc};
use flowlake_github::http::SpendSnapshot;
use flowlake_github::{Clock, Connector, GithubConfig, IngestReport, Progress, RepoState, Secret};
use flowlake_lake::{Lake, RawSink, RunManifest, read_parquet_dir};
use flowlake_model::Entity;
use flowlake_model::time::parse_ts;
use flowlake_sim::{Org, Repo, Scale, SimConfig, SimHandle};

/// Looks like a real PAT so that any leak is unmistakable.
pub const TOKEN: &str = "ghp_FlowlakeIntegrationSecret0123456789";
pub const SEED: u64 = 7;
pub const ORG: &str = "acme";

/// The GitHub entities the connector writes.
pub const ENTITIES: [Entity; 8] = [
    Entity::GithubPullRequests,
    Entity::GithubPullRequestCommits,
    Entity::GithubPullRequestReviews,
    Entity::GithubCommits,
    Entity::GithubDeployments,
    Entity::GithubWorkflowRuns,
    Entity::GithubReleases,
    Entity::GithubIssues,
];

/// The sim config every test starts from: no `retry-after` waits, the test token.
pub fn sim_config() -> SimConfig {
    SimConfig {
        token: TOKEN.into(),
        retry_after_secs: 0,
        ..SimConfig::new(SEED, Scale::Small)
    }
}

/// The org, generated once for the whole binary (faults and rate limits do not change it).
fn org_static() -> &'static Arc<Org> {
    static ORG_CELL: OnceLock<Arc<Org>> = OnceLock::new();
    ORG_CELL.get_or_init(|| Arc::new(Org::generate(&sim_config()).expect("org generates")))
}

pub fn org() -> Arc<Org> {
    org_static().clone()
}

pub async fn spawn(cfg: SimConfig) -> SimHandle {
    flowlake_sim::spawn_with_org(cfg, org())
        .await
        .expect("sim starts")
}

/// The two repos most tests ingest (`owner/name`), to keep the suite fast.
pub fn two_repos() -> Vec<String> {
    org()
        .repos
        .iter()
        .take(2)
        .map(|r| r.full_name.clone())
        .collect()
}

pub fn repo(full_name: &str) -> &'static Repo {
    org_static()
        .repos
        .iter()
        .find(|r| r.full_name == full_name)
        .unwrap_or_else(|| panic!("no repo {full_name}"))
}

/// A connector config for `sim`: fast backoff, the given repos (empty: the org's listing).
pub fn gh_config(sim: &SimHandle, repos: &[String]) -> GithubConfig {
    GithubConfig {
        base_url: sim.base_url(),
        repos: repos.to_vec(),
        backoff: Duration::from_millis(5),
        ..GithubConfig::new(ORG, Secret::new(TOKEN))
    }
}

pub struct TestLake {
    pub dir: tempfile::TempDir,
    pub lake: Lake,
}

pub fn temp_lake() -> TestLake {
    let dir = tempfile::tempdir().expect("a temp dir");
    let lake = Lake::open(dir.path().to_str().expect("utf-8 path")).expect("lake opens");
    TestLake { dir, lake }
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

struct FixedClock(DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

pub struct Outcome {
    pub result: flowlake_github::Result<IngestReport>,
    pub spend: SpendSnapshot,
    pub files: Vec<String>,
}

/// One ingest run as `flowlake ingest github` does it: a sink named `run_id`, the run, then the
/// run manifest (with the error text when it failed). `_ingested_at` is the sim's clock.
pub async fn ingest(lake: &Lake, sim: &SimHandle, cfg: GithubConfig, run_id: &str) -> Outcome {
    let now = sim.now();
    let clock = FixedClock(now);
    let progress = |_: Progress| {};
    let connector = Connector::new(cfg, &clock, &progress).expect("valid config");
    let mut sink = RawSink::new(lake.clone(), run_id, now.date_naive());
    let result = connector.run(&mut sink).await;
    let spend = connector.spend();
    let mut manifest = RunManifest::start(run_id, "ingest github", now);
    manifest.rows = sink.rows().clone();
    manifest.files = sink.files().to_vec();
    manifest
        .api_requests
        .insert("github".into(), spend.requests);
    manifest
        .rate_limit_points
        .insert("github".into(), spend.points);
    manifest.finish(now, result.as_ref().err().map(error_chain));
    lake.put_json(&manifest.rel_path(), &manifest)
        .await
        .expect("manifest written");
    Outcome {
        result,
        spend,
        files: sink.files().to_vec(),
    }
}

/// `err` with its sources, as `main` prints it.
pub fn error_chain(err: &flowlake_github::Error) -> String {
    let mut s = err.to_string();
    let mut src = std::error::Error::source(err);
    while let Some(e) = src {
        s.push_str(": ");
        s.push_str(&e.to_string());
        src = e.source();
    }
    s
}

pub fn state_path(repo: &str) -> String {
    format!("state/github/{ORG}/{}.json", repo.replace('/', "__"))
}

pub async fn state(lake: &Lake, repo: &str) -> Option<RepoState> {
    lake.get_json(&state_path(repo))
        .await
        .expect("state readable")
}

/// A raw row: column → displayed value (`NULL` for null).
pub type Row = BTreeMap<String, String>;

pub async fn rows(lake: &Lake, entity: Entity) -> Vec<Row> {
    let batches = read_parquet_dir(lake, &entity.dir())
        .await
        .expect("raw readable");
    let mut out = Vec::new();
    for b in &batches {
        let schema = b.schema();
        for i in 0..b.num_rows() {
            let row = schema
                .fields()
                .iter()
                .zip(b.columns())
                .map(|(f, col)| {
                    let v = if col.is_null(i) {
                        "NULL".to_string()
                    } else {
                        array_value_to_string(col, i).expect("displayable")
                    };
                    (f.name().clone(), v)
                })
                .collect();
            out.push(row);
        }
    }
    out
}

pub fn key_columns(entity: Entity) -> &'static [&'static str] {
    match entity {
        Entity::GithubPullRequests | Entity::GithubIssues => &["workspace", "repo", "number"],
        Entity::GithubPullRequestCommits => &["workspace", "repo", "pr_number", "sha"],
        Entity::GithubPullRequestReviews => &["workspace", "repo", "pr_number", "review_id"],
        Entity::GithubCommits => &["workspace", "repo", "sha"],
        Entity::GithubDeployments => &["workspace", "repo", "deployment_id"],
        Entity::GithubWorkflowRuns => &["workspace", "repo", "run_id"],
        Entity::GithubReleases => &["workspace", "repo", "release_id"],
        _ => unreachable!("not a GitHub entity"),
    }
}

pub fn key(entity: Entity, row: &Row) -> Vec<String> {
    key_columns(entity)
        .iter()
        .map(|c| row[*c].clone())
        .collect()
}

pub fn ts(row: &Row, col: &str) -> Option<DateTime<Utc>> {
    match row[col].as_str() {
        "NULL" => None,
        s => Some(parse_ts(s).unwrap_or_else(|| panic!("{col}: unparseable {s:?}"))),
    }
}

/// Staging's dedupe: the latest version per key (`_ingested_at desc, _run_id desc`), without
/// the bookkeeping columns.
pub fn dedupe(entity: Entity, rows: &[Row]) -> BTreeMap<Vec<String>, Row> {
    let mut latest: BTreeMap<Vec<String>, (DateTime<Utc>, String, Row)> = BTreeMap::new();
    for r in rows {
        let order = (
            ts(r, "_ingested_at").expect("_ingested_at"),
            r["_run_id"].clone(),
        );
        let k = key(entity, r);
        if latest
            .get(&k)
            .is_none_or(|(t, id, _)| (*t, id.clone()) <= order)
        {
            latest.insert(k, (order.0, order.1, r.clone()));
        }
    }
    latest
        .into_iter()
        .map(|(k, (_, _, mut r))| {
            for c in ["_run_id", "_ingested_at", "ingest_date"] {
                r.remove(c);
            }
            (k, r)
        })
        .collect()
}

/// Rows per repo.
pub fn per_repo<'a>(rows: impl IntoIterator<Item = &'a Row>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in rows {
        *out.entry(r["repo"].clone()).or_insert(0) += 1;
    }
    out
}

/// What the sim shows of `repo` at `now`, per entity name.
pub fn expected_counts(repo: &Repo, now: DateTime<Utc>) -> BTreeMap<&'static str, usize> {
    let d = repo.data();
    let prs = repo.pull_requests_visible_at(now);
    // The query nests the first 100 commits and reviews of each PR.
    let pr_commits = prs
        .iter()
        .map(|p| {
            p.commits
                .iter()
                .filter(|c| c.authored_at <= now)
                .count()
                .min(100)
        })
        .sum();
    let pr_reviews = prs
        .iter()
        .map(|p| {
            p.reviews
                .iter()
                .filter(|r| r.submitted_at <= now)
                .count()
                .min(100)
        })
        .sum();
    BTreeMap::from([
        ("pull_requests", prs.len()),
        ("pull_request_commits", pr_commits),
        ("pull_request_reviews", pr_reviews),
        (
            "commits",
            d.commits.iter().filter(|c| c.committed_at <= now).count(),
        ),
        (
            "deployments",
            d.deployments.iter().filter(|x| x.created_at <= now).count(),
        ),
        (
            "workflow_runs",
            d.workflow_runs
                .iter()
                .filter(|x| x.created_at <= now)
                .count(),
        ),
        (
            "releases",
            d.releases.iter().filter(|x| x.published_at <= now).count(),
        ),
        (
            "issues",
            d.incidents().filter(|x| x.created_at <= now).count(),
        ),
    ])
}

/// Checks the deduped lake against the sim's ground truth at `now` for `repos`: counts per
/// entity and repo, and the fields of every PR, deployment, run and incident that change over
/// time.
pub async fn assert_lake_matches_truth(lake: &Lake, repos: &[String], now: DateTime<Utc>) {
    for entity in ENTITIES {
        let all = rows(lake, entity).await;
        let deduped = dedupe(entity, &all);
        let got = per_repo(deduped.values());
        for name in repos {
            let want = expected_counts(repo(name), now)[entity.name()];
            assert_eq!(
                got.get(name).copied().unwrap_or(0),
                want,
                "{} of {name} at {now}",
                entity.name()
            );
        }
        assert_eq!(
            got.len(),
            repos.len(),
            "{}: only the ingested repos",
            entity.name()
        );
        for r in deduped.values() {
            assert_eq!(r["workspace"], ORG);
            check_row(entity, r, now);
        }
    }
}

fn check_row(entity: Entity, r: &Row, now: DateTime<Utc>) {
    let d = repo(&r["repo"]).data();
    let num = |c: &str| {
        r[c].parse::<u64>()
            .unwrap_or_else(|_| panic!("{c}: {}", r[c]))
    };
    match entity {
        Entity::GithubPullRequests => {
            let n = num("number");
            let pr = d
                .pull_requests
                .iter()
                .find(|p| p.number == n)
                .expect("a real PR");
            let ctx = format!("{} #{n}", r["repo"]);
            assert_eq!(
                r["state"],
                pr.state_at(now).expect("visible").as_str(),
                "{ctx} state"
            );
            assert_eq!(
                ts(r, "updated_at"),
                Some(pr.updated_at_at(now)),
                "{ctx} updated_at"
            );
            assert_eq!(
                ts(r, "merged_at"),
                pr.merged_at.filter(|m| *m <= now),
                "{ctx} merged_at"
            );
            assert_eq!(
                r["is_draft"],
                pr.is_draft_at(now).to_string(),
                "{ctx} is_draft"
            );
            let commits = pr.commits.iter().filter(|c| c.authored_at <= now).count();
            assert_eq!(
                num("commits_total") as usize,
                commits,
                "{ctx} commits_total"
            );
            let reviews = pr.reviews.iter().filter(|x| x.submitted_at <= now).count();
            assert_eq!(
                num("reviews_total") as usize,
                reviews,
                "{ctx} reviews_total"
            );
        }
        Entity::GithubDeployments => {
            let id = num("database_id");
            let dep = d
                .deployments
                .iter()
                .find(|x| x.database_id == id)
                .expect("a real deployment");
            let latest = dep.latest_status_at(now).map(|s| s.state.as_str());
            assert_eq!(
                r["state"].as_str(),
                latest.unwrap_or("NULL"),
                "deployment {id} state"
            );
            assert_eq!(
                ts(r, "finished_at"),
                dep.finished_at().filter(|f| *f <= now),
                "deployment {id} finished_at"
            );
        }
        Entity::GithubWorkflowRuns => {
            let id = num("run_id");
            let run = d
                .workflow_runs
                .iter()
                .find(|x| x.id == id)
                .expect("a real run");
            let done = run.completed_at <= now;
            assert_eq!(
                r["status"],
                if done { "completed" } else { "in_progress" },
                "run {id} status"
            );
            assert_eq!(
                r["conclusion"],
                if done { run.conclusion } else { "NULL" },
                "run {id} conclusion"
            );
        }
        Entity::GithubIssues => {
            let n = num("number");
            let i = d
                .issues
                .iter()
                .find(|x| x.number == n)
                .expect("a real issue");
            assert!(i.is_incident(), "issue #{n} is an incident");
            assert_eq!(r["state"], i.state_at(now), "issue #{n} state");
            assert_eq!(
                ts(r, "updated_at"),
                Some(i.updated_at_at(now)),
                "issue #{n} updated_at"
            );
        }
        _ => {}
    }
}
