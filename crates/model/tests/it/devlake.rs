//! DevLake's recorded payloads, parsed by our parsers, checked against DevLake's own extraction.
//!
//! Raw files hold one API item per row (`data`), its scope (`params`, with a `ConnectionId`) and
//! the parent context (`input`, e.g. `{"Number":41,"GithubId":308859272}` for a PR's children).
//! Each raw file may carry a decoy row from another connection; the valid connection is the one
//! the snapshot table was extracted from, read from the snapshot itself rather than assumed.
//!
//! Where DevLake's semantics differ from ours, the comparison says what it maps:
//! - PR `state`: DevLake keeps GitHub's REST `open`/`closed`; we keep GraphQL's
//!   OPEN/CLOSED/MERGED, so MERGED must be a DevLake `closed` row with a `merged_at`.
//! - PR `merge_commit_sha`: GitHub's REST API fills it for unmerged PRs too (a test merge);
//!   we keep it only for merged PRs, so it is compared there and must be null elsewhere.
//! - PR `additions`/`deletions`: absent from the list endpoint DevLake recorded; DevLake
//!   writes 0, we write null.
//! - Commit `message`: DevLake keeps the whole message (quoted); we keep the first line.
//! - Deployment `state`: we keep the latest status (DevLake's `latest_status_state`), not the
//!   deployment's own ACTIVE/INACTIVE; DevLake's `finished_date` is empty in this snapshot,
//!   so our `finished_at` is checked against the statuses instead.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use flowlake_model::github::{Deployment, Issue, PrCommit, PullRequest, Review, WorkflowRun};
use flowlake_model::time::parse_ts;
use serde_json::Value;

pub(crate) type Row = HashMap<String, String>;

fn root() -> PathBuf {
    std::env::var_os("FLOWLAKE_DEVLAKE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/fixtures/devlake"))
        .join("backend/plugins")
}

pub(crate) fn read_csv(rel: &str) -> Vec<Row> {
    let path = root().join(rel);
    let mut r = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = r.headers().expect("a header row").clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            headers
                .iter()
                .map(str::to_string)
                .zip(rec.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

pub(crate) fn connection_of(params: &str) -> Option<i64> {
    serde_json::from_str::<Value>(params)
        .ok()?
        .get("ConnectionId")?
        .as_i64()
}

/// The connection the snapshot was extracted from (one for the whole table).
pub(crate) fn snapshot_connection(snapshot: &[Row]) -> i64 {
    let ids: BTreeSet<i64> = snapshot
        .iter()
        .map(|r| r["connection_id"].parse().expect("numeric connection_id"))
        .collect();
    assert_eq!(ids.len(), 1, "one connection per snapshot: {ids:?}");
    *ids.first().unwrap()
}

/// `(data, input)` of the raw rows of `connection`, asserting that exactly the decoys (another
/// or no connection) were left out.
pub(crate) fn raw_rows(rel: &str, connection: i64, max_decoys: usize) -> Vec<(Value, Value)> {
    let all = read_csv(rel);
    let kept: Vec<(Value, Value)> = all
        .iter()
        .filter(|r| connection_of(&r["params"]) == Some(connection))
        .map(|r| {
            let data = serde_json::from_str(&r["data"]).expect("data is JSON");
            let input = serde_json::from_str(&r["input"]).unwrap_or(Value::Null);
            (data, input)
        })
        .collect();
    assert!(
        all.len() - kept.len() <= max_decoys,
        "{rel}: {} rows dropped, at most {max_decoys} decoys expected",
        all.len() - kept.len()
    );
    kept
}

pub(crate) fn ts(s: &str) -> Option<DateTime<Utc>> {
    if s.trim().is_empty() {
        return None;
    }
    Some(parse_ts(s).unwrap_or_else(|| panic!("unparseable DevLake timestamp {s:?}")))
}

pub(crate) fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

pub(crate) fn int(s: &str) -> i64 {
    s.parse()
        .unwrap_or_else(|_| panic!("not an integer: {s:?}"))
}

const REPO: &str = "panjf2000/ants";
const GH: &str = "github/e2e";

fn pr_snapshot() -> Vec<Row> {
    read_csv(&format!(
        "{GH}/snapshot_tables/_tool_github_pull_requests.csv"
    ))
}

/// DevLake's PR `github_id` → PR number, to check which PR our children landed on.
fn pr_numbers_by_github_id() -> HashMap<String, i64> {
    pr_snapshot()
        .iter()
        .map(|r| (r["github_id"].clone(), int(&r["number"])))
        .collect()
}

#[test]
fn pull_requests_match_devlake_snapshot() {
    let snap = pr_snapshot();
    let conn = snapshot_connection(&snap);
    let ours: BTreeMap<i64, PullRequest> = raw_rows(
        &format!("{GH}/raw_tables/_raw_github_api_pull_requests.csv"),
        conn,
        1,
    )
    .iter()
    .map(|(d, _)| {
        let pr = PullRequest::from_rest(REPO, d).expect("every recorded PR parses");
        (pr.number, pr)
    })
    .collect();
    let expected: BTreeSet<i64> = snap.iter().map(|r| int(&r["number"])).collect();
    assert_eq!(
        ours.keys().copied().collect::<BTreeSet<_>>(),
        expected,
        "the decoy PR row must be ignored"
    );
    assert_eq!(snap.len(), 49);

    let mut merged = 0;
    for row in &snap {
        let n = int(&row["number"]);
        let pr = &ours[&n];
        let ctx = format!("PR #{n}");
        assert_eq!(pr.title, row["title"], "{ctx} title");
        let dl_merged_at = ts(&row["merged_at"]);
        assert_eq!(pr.merged_at, dl_merged_at, "{ctx} merged_at");
        if dl_merged_at.is_some() {
            merged += 1;
            assert_eq!(row["state"], "closed", "{ctx}");
            assert_eq!(pr.state, "MERGED", "{ctx} state");
            assert_eq!(
                pr.merge_commit_sha,
                opt(&row["merge_commit_sha"]),
                "{ctx} merge sha"
            );
        } else {
            assert_eq!(pr.state, row["state"].to_uppercase(), "{ctx} state");
            assert_eq!(
                pr.merge_commit_sha, None,
                "{ctx}: no merge sha unless merged"
            );
        }
        assert_eq!(pr.author_login, opt(&row["author_name"]), "{ctx} author");
        assert_eq!(
            pr.created_at,
            ts(&row["github_created_at"]),
            "{ctx} created_at"
        );
        assert_eq!(
            pr.updated_at,
            ts(&row["github_updated_at"]),
            "{ctx} updated_at"
        );
        assert_eq!(pr.closed_at, ts(&row["closed_at"]), "{ctx} closed_at");
        assert_eq!(
            pr.additions.unwrap_or(0),
            int(&row["additions"]),
            "{ctx} additions"
        );
        assert_eq!(
            pr.deletions.unwrap_or(0),
            int(&row["deletions"]),
            "{ctx} deletions"
        );
        assert_eq!(pr.head_ref, opt(&row["head_ref"]), "{ctx} head_ref");
        assert_eq!(pr.base_ref, opt(&row["base_ref"]), "{ctx} base_ref");
        assert_eq!(pr.is_draft, row["is_draft"] == "1", "{ctx} is_draft");
        assert!(!pr.pr_id.is_empty(), "{ctx}: node id kept");
    }
    assert_eq!(merged, 26, "the snapshot's merged PRs");
}

#[test]
fn reviews_match_devlake_snapshot() {
    let snap = read_csv(&format!(
        "{GH}/snapshot_tables/_tool_github_pull_request_reviews.csv"
    ));
    let conn = snapshot_connection(&snap);
    let by_github_id = pr_numbers_by_github_id();
    let ours: BTreeMap<String, Review> = raw_rows(
        &format!("{GH}/raw_tables/_raw_github_api_pull_request_reviews.csv"),
        conn,
        1,
    )
    .iter()
    .map(|(d, input)| {
        let number = input["Number"].as_i64().expect("input names the PR");
        let r = Review::from_rest(REPO, number, d).expect("every recorded review parses");
        (r.review_id.clone(), r)
    })
    .collect();
    assert_eq!(
        ours.len(),
        snap.len(),
        "the decoy review row must be ignored"
    );
    assert_eq!(snap.len(), 30);
    for row in &snap {
        let r = ours
            .get(&row["github_id"])
            .unwrap_or_else(|| panic!("review {} missing", row["github_id"]));
        let ctx = format!("review {}", row["github_id"]);
        assert_eq!(
            Some(r.pr_number),
            by_github_id.get(&row["pull_request_id"]).copied(),
            "{ctx} PR"
        );
        assert_eq!(
            r.reviewer_login,
            opt(&row["author_username"]),
            "{ctx} reviewer"
        );
        assert_eq!(r.state, row["state"], "{ctx} state");
        assert_eq!(
            r.submitted_at,
            ts(&row["github_submit_at"]),
            "{ctx} submitted_at"
        );
        assert_eq!(
            r.reviewer_type.as_deref(),
            Some("User"),
            "{ctx} reviewer type"
        );
    }

    // DevLake's reviewers table: every (PR, reviewer) it lists is a review we parsed.
    let reviewers = read_csv(&format!("{GH}/snapshot_tables/_tool_github_reviewers.csv"));
    assert!(!reviewers.is_empty());
    let pairs: BTreeSet<(i64, String)> = ours
        .values()
        .filter_map(|r| Some((r.pr_number, r.reviewer_login.clone()?)))
        .collect();
    for row in &reviewers {
        let n = by_github_id[&row["pull_request_id"]];
        assert!(
            pairs.contains(&(n, row["username"].clone())),
            "reviewer {} of PR #{n}",
            row["username"]
        );
    }
}

#[test]
fn pr_commits_match_devlake_snapshot() {
    let links = read_csv(&format!(
        "{GH}/snapshot_tables/_tool_github_pull_request_commits.csv"
    ));
    let commits: HashMap<String, Row> =
        read_csv(&format!("{GH}/snapshot_tables/_tool_github_commits.csv"))
            .into_iter()
            .map(|r| (r["sha"].clone(), r))
            .collect();
    let conn = snapshot_connection(&links);
    let by_github_id = pr_numbers_by_github_id();
    let ours: BTreeMap<(i64, String), PrCommit> = raw_rows(
        &format!("{GH}/raw_tables/_raw_github_api_pull_request_commits.csv"),
        conn,
        1,
    )
    .iter()
    .map(|(d, input)| {
        let number = input["Number"].as_i64().expect("input names the PR");
        let c = PrCommit::from_rest(REPO, number, d).expect("every recorded commit parses");
        ((c.pr_number, c.sha.clone()), c)
    })
    .collect();
    assert_eq!(
        ours.len(),
        links.len(),
        "the decoy commit row must be ignored"
    );
    assert_eq!(links.len(), 90);
    for link in &links {
        let n = by_github_id[&link["pull_request_id"]];
        let sha = &link["commit_sha"];
        let c = ours
            .get(&(n, sha.clone()))
            .unwrap_or_else(|| panic!("commit {sha} of PR #{n} missing"));
        let ctx = format!("commit {sha} of PR #{n}");
        assert_eq!(
            c.author_name,
            opt(&link["commit_author_name"]),
            "{ctx} author name"
        );
        assert_eq!(
            c.author_email,
            opt(&link["commit_author_email"]),
            "{ctx} author email"
        );
        assert_eq!(
            c.authored_at,
            ts(&link["commit_authored_date"]),
            "{ctx} authored_at"
        );
        let full = &commits[sha];
        assert_eq!(
            c.author_name,
            opt(&full["author_name"]),
            "{ctx} author name (commits)"
        );
        assert_eq!(
            c.authored_at,
            ts(&full["authored_date"]),
            "{ctx} authored_at (commits)"
        );
        assert_eq!(
            c.committed_at,
            ts(&full["committed_date"]),
            "{ctx} committed_at"
        );
        // DevLake keeps the whole message, wrapped in quotes; we keep its first line.
        let dl_message = full["message"].trim_matches('"');
        let first = c.message.as_deref().expect("a message");
        assert!(
            !first.is_empty() && !first.contains('\n'),
            "{ctx}: first line only, got {first:?}"
        );
        assert!(
            dl_message.starts_with(first),
            "{ctx}: {first:?} vs {dl_message:?}"
        );
    }
}

#[test]
fn workflow_runs_match_devlake_snapshot() {
    let snap = read_csv(&format!("{GH}/snapshot_tables/_tool_github_runs.csv"));
    let conn = snapshot_connection(&snap);
    let ours: BTreeMap<i64, WorkflowRun> = raw_rows(
        &format!("{GH}/raw_tables/_raw_github_api_runs.csv"),
        conn,
        1,
    )
    .iter()
    .map(|(d, _)| {
        let r = WorkflowRun::from_rest(REPO, d).expect("every recorded run parses");
        (r.run_id, r)
    })
    .collect();
    assert_eq!(ours.len(), snap.len());
    assert_eq!(snap.len(), 35);
    for row in &snap {
        let id = int(&row["id"]);
        let r = &ours[&id];
        let ctx = format!("run {id}");
        assert_eq!(r.name, opt(&row["name"]), "{ctx} name");
        assert_eq!(r.head_sha, opt(&row["head_sha"]), "{ctx} head_sha");
        assert_eq!(r.head_branch, opt(&row["head_branch"]), "{ctx} head_branch");
        assert_eq!(r.status, opt(&row["status"]), "{ctx} status");
        assert_eq!(r.conclusion, opt(&row["conclusion"]), "{ctx} conclusion");
        assert_eq!(r.path, opt(&row["path"]), "{ctx} path");
        assert_eq!(r.event, opt(&row["event"]), "{ctx} event");
        assert_eq!(
            r.workflow_id,
            Some(int(&row["workflow_id"])),
            "{ctx} workflow_id"
        );
        assert_eq!(
            r.run_number,
            Some(int(&row["run_number"])),
            "{ctx} run_number"
        );
        assert_eq!(
            r.run_attempt,
            Some(int(&row["run_attempt"])),
            "{ctx} run_attempt"
        );
        assert_eq!(
            r.created_at,
            ts(&row["github_created_at"]),
            "{ctx} created_at"
        );
        assert_eq!(
            r.updated_at,
            ts(&row["github_updated_at"]),
            "{ctx} updated_at"
        );
        assert_eq!(
            r.run_started_at,
            ts(&row["run_started_at"]),
            "{ctx} run_started_at"
        );
    }
}

#[test]
fn issues_match_devlake_snapshot() {
    let snap = read_csv(&format!("{GH}/snapshot_tables/_tool_github_issues.csv"));
    let conn = snapshot_connection(&snap);
    let raw = raw_rows(
        &format!("{GH}/raw_tables/_raw_github_api_issues.csv"),
        conn,
        1,
    );
    // The REST issues endpoint lists PRs too; DevLake drops them, and so do we.
    let ours: BTreeMap<i64, Issue> = raw
        .iter()
        .filter(|(d, _)| !Issue::rest_is_pull_request(d))
        .map(|(d, _)| {
            let i = Issue::from_rest(REPO, d).expect("every recorded issue parses");
            (i.number, i)
        })
        .collect();
    assert!(raw.len() > ours.len(), "some recorded items are PRs");
    assert_eq!(
        ours.keys().copied().collect::<BTreeSet<_>>(),
        snap.iter()
            .map(|r| int(&r["number"]))
            .collect::<BTreeSet<_>>()
    );
    assert_eq!(snap.len(), 26);
    for row in &snap {
        let n = int(&row["number"]);
        let i = &ours[&n];
        let ctx = format!("issue #{n}");
        assert_eq!(i.issue_id, int(&row["github_id"]), "{ctx} id");
        assert_eq!(i.title, row["title"], "{ctx} title");
        assert_eq!(i.state, row["state"], "{ctx} state");
        assert_eq!(i.author_login, opt(&row["author_name"]), "{ctx} author");
        assert_eq!(
            i.created_at,
            ts(&row["github_created_at"]),
            "{ctx} created_at"
        );
        assert_eq!(
            i.updated_at,
            ts(&row["github_updated_at"]),
            "{ctx} updated_at"
        );
        assert_eq!(i.closed_at, ts(&row["closed_at"]), "{ctx} closed_at");
    }
}

#[test]
fn graphql_deployments_match_devlake_snapshot() {
    const GQL: &str = "github_graphql/e2e";
    let snap = read_csv(&format!(
        "{GQL}/snapshot_tables/_tool_github_deployments.csv"
    ));
    let conn = snapshot_connection(&snap);
    let raw = raw_rows(
        &format!("{GQL}/raw_tables/_raw_github_graphql_deployment.csv"),
        conn,
        1,
    );
    let ours: BTreeMap<String, Deployment> = raw
        .iter()
        .map(|(d, _)| {
            let dep = Deployment::from_devlake_graphql("facebook/OpenBIC", d)
                .expect("every recorded deployment parses");
            (dep.deployment_id.clone(), dep)
        })
        .collect();
    assert_eq!(ours.len(), snap.len());
    assert_eq!(snap.len(), 7);
    for row in &snap {
        let id = &row["id"];
        let d = ours
            .get(id)
            .unwrap_or_else(|| panic!("deployment {id} missing"));
        let ctx = format!("deployment {id}");
        assert_eq!(
            d.database_id,
            Some(int(&row["database_id"])),
            "{ctx} database_id"
        );
        assert_eq!(d.environment, opt(&row["environment"]), "{ctx} environment");
        assert_eq!(d.sha, opt(&row["commit_oid"]), "{ctx} commit oid");
        assert_eq!(d.ref_name, opt(&row["ref_name"]), "{ctx} ref");
        assert_eq!(d.created_at, ts(&row["created_date"]), "{ctx} created_at");
        assert_eq!(d.updated_at, ts(&row["updated_date"]), "{ctx} updated_at");
        assert_eq!(
            d.state,
            opt(&row["latest_status_state"]),
            "{ctx} latest state"
        );
        assert_eq!(d.task.as_deref(), Some("deploy"), "{ctx} task");
    }
    // Our finish time is the first terminal status, which DevLake does not extract: check it
    // against the recorded statuses (newest first, `updatedAt`); when DevLake did not record
    // the statuses, a terminal latest status is the best we know.
    let terminal = |s: &Value, key: &str| {
        matches!(s[key].as_str(), Some("SUCCESS" | "FAILURE" | "ERROR"))
            .then(|| parse_ts(s["updatedAt"].as_str().unwrap()).unwrap())
    };
    for (data, _) in &raw {
        let id = data["Id"].as_str().unwrap();
        let from_statuses = data["Statuses"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| terminal(s, "state"))
            .min();
        let expected = from_statuses.or_else(|| terminal(&data["LatestStatus"], "State"));
        assert_eq!(
            ours[id].finished_at, expected,
            "deployment {id} finished_at"
        );
    }
    assert!(
        ours.values().any(|d| d.finished_at.is_some()),
        "some recorded deployment finished"
    );
}

// Regression: `WorkflowRun::from_rest` kept the `"conclusion": ""` of an in-progress run
// (DevLake's recorded run 2559400728) as `Some("")`, so staging's `conclusion is null` test
// for running runs missed it. An empty conclusion is no conclusion.
#[test]
fn in_progress_run_with_empty_conclusion_has_none() {
    let raw = raw_rows(&format!("{GH}/raw_tables/_raw_github_api_runs.csv"), 1, 1);
    let (data, _) = raw
        .iter()
        .find(|(d, _)| d["id"].as_i64() == Some(2_559_400_728))
        .expect("the recorded in-progress run");
    assert_eq!(
        data["conclusion"], "",
        "the payload really holds an empty string"
    );
    let run = WorkflowRun::from_rest(REPO, data).unwrap();
    // GitHub writes `in_progress`; DevLake's fixture has it upper case.
    assert!(
        run.status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("in_progress"))
    );
    assert_eq!(run.conclusion, None);
}
