//! GitHub records and their parsers.
//!
//! Each record has a `from_graphql` parser for the shapes the connector asks for
//! (`docs/github-api.md`) and, where GitHub also serves it over REST, a `from_rest` parser for
//! the REST shape — the one in DevLake's recorded payloads, which the tests parse.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::time::parse_ts;

/// A pull request (`raw/github/pull_requests`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PullRequest {
    /// `owner/name`.
    pub repo: String,
    /// GraphQL node id.
    pub pr_id: String,
    /// PR number within the repo.
    pub number: i64,
    /// Title.
    pub title: String,
    /// OPEN, CLOSED or MERGED.
    pub state: String,
    /// Draft flag.
    pub is_draft: bool,
    /// Author login; `None` for a deleted account.
    pub author_login: Option<String>,
    /// `User` or `Bot`.
    pub author_type: Option<String>,
    /// Opened.
    pub created_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: Option<DateTime<Utc>>,
    /// Closed (merged PRs are closed too).
    pub closed_at: Option<DateTime<Utc>>,
    /// Merged.
    pub merged_at: Option<DateTime<Utc>>,
    /// The commit the merge produced on the base branch.
    pub merge_commit_sha: Option<String>,
    /// Base branch.
    pub base_ref: Option<String>,
    /// Head branch.
    pub head_ref: Option<String>,
    /// Lines added.
    pub additions: Option<i64>,
    /// Lines deleted.
    pub deletions: Option<i64>,
    /// Files changed.
    pub changed_files: Option<i64>,
    /// Comma-separated lower-case label names.
    pub labels: String,
    /// Commits the API reports.
    pub commits_total: Option<i64>,
    /// Reviews the API reports.
    pub reviews_total: Option<i64>,
    /// Tombstone.
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A commit of a pull request (`raw/github/pull_request_commits`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PrCommit {
    /// `owner/name`.
    pub repo: String,
    /// The PR's number.
    pub pr_number: i64,
    /// Commit sha.
    pub sha: String,
    /// Author date.
    pub authored_at: Option<DateTime<Utc>>,
    /// Committer date.
    pub committed_at: Option<DateTime<Utc>>,
    /// Git author name.
    pub author_name: Option<String>,
    /// Git author email.
    pub author_email: Option<String>,
    /// GitHub login of the author, when GitHub knows the email.
    pub author_login: Option<String>,
    /// First line of the message.
    pub message: Option<String>,
    /// Lines added.
    pub additions: Option<i64>,
    /// Lines deleted.
    pub deletions: Option<i64>,
}

/// A review of a pull request (`raw/github/pull_request_reviews`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Review {
    /// `owner/name`.
    pub repo: String,
    /// The PR's number.
    pub pr_number: i64,
    /// Review id (GraphQL node id, or the REST id as text).
    pub review_id: String,
    /// Reviewer login.
    pub reviewer_login: Option<String>,
    /// `User` or `Bot`.
    pub reviewer_type: Option<String>,
    /// APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING.
    pub state: String,
    /// Submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Review comments in the review.
    pub comments_total: Option<i64>,
}

/// A commit of the default branch (`raw/github/commits`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Commit {
    /// `owner/name`.
    pub repo: String,
    /// Commit sha.
    pub sha: String,
    /// Committer date (orders the default branch).
    pub committed_at: Option<DateTime<Utc>>,
    /// Author date.
    pub authored_at: Option<DateTime<Utc>>,
    /// Git author name.
    pub author_name: Option<String>,
    /// Git author email.
    pub author_email: Option<String>,
    /// GitHub login of the author.
    pub author_login: Option<String>,
    /// First line of the message.
    pub message: Option<String>,
    /// Number of parents.
    pub parents: Option<i64>,
}

/// A GitHub Deployment with its latest status (`raw/github/deployments`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Deployment {
    /// `owner/name`.
    pub repo: String,
    /// GraphQL node id.
    pub deployment_id: String,
    /// REST id.
    pub database_id: Option<i64>,
    /// The deployed commit.
    pub sha: Option<String>,
    /// Environment name.
    pub environment: Option<String>,
    /// Task (`deploy`).
    pub task: Option<String>,
    /// The deployed ref.
    pub ref_name: Option<String>,
    /// Created.
    pub created_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: Option<DateTime<Utc>>,
    /// Latest status, upper case.
    pub state: Option<String>,
    /// First terminal (SUCCESS, FAILURE, ERROR) status time.
    pub finished_at: Option<DateTime<Utc>>,
    /// Who created it.
    pub creator_login: Option<String>,
}

/// A GitHub Actions workflow run (`raw/github/workflow_runs`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WorkflowRun {
    /// `owner/name`.
    pub repo: String,
    /// Run id.
    pub run_id: i64,
    /// Workflow id.
    pub workflow_id: Option<i64>,
    /// Workflow name.
    pub name: Option<String>,
    /// Workflow file.
    pub path: Option<String>,
    /// Triggering event.
    pub event: Option<String>,
    /// Branch.
    pub head_branch: Option<String>,
    /// Commit.
    pub head_sha: Option<String>,
    /// queued, in_progress, completed.
    pub status: Option<String>,
    /// success, failure, cancelled, …
    pub conclusion: Option<String>,
    /// Attempt.
    pub run_attempt: Option<i64>,
    /// Run number.
    pub run_number: Option<i64>,
    /// Created.
    pub created_at: Option<DateTime<Utc>>,
    /// Last change (the finish time of a completed run).
    pub updated_at: Option<DateTime<Utc>>,
    /// Started.
    pub run_started_at: Option<DateTime<Utc>>,
}

/// A release (`raw/github/releases`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Release {
    /// `owner/name`.
    pub repo: String,
    /// Release id.
    pub release_id: i64,
    /// Tag.
    pub tag_name: String,
    /// Title.
    pub name: Option<String>,
    /// Branch or commit the tag points at.
    pub target_commitish: Option<String>,
    /// Draft.
    pub is_draft: bool,
    /// Pre-release.
    pub is_prerelease: bool,
    /// Created.
    pub created_at: Option<DateTime<Utc>>,
    /// Published.
    pub published_at: Option<DateTime<Utc>>,
    /// Author login.
    pub author_login: Option<String>,
}

/// An issue, kept when it carries an incident label (`raw/github/issues`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Issue {
    /// `owner/name`.
    pub repo: String,
    /// REST id.
    pub issue_id: i64,
    /// Number.
    pub number: i64,
    /// Title.
    pub title: String,
    /// open / closed.
    pub state: String,
    /// Comma-separated lower-case labels.
    pub labels: String,
    /// Author login.
    pub author_login: Option<String>,
    /// Opened.
    pub created_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: Option<DateTime<Utc>>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
}

// ---- JSON helpers -------------------------------------------------------------------------

fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for key in path.split('.') {
        cur = cur.get(key)?;
    }
    if cur.is_null() { None } else { Some(cur) }
}

fn s(v: &Value, path: &str) -> Option<String> {
    at(v, path).and_then(|x| match x {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn i(v: &Value, path: &str) -> Option<i64> {
    at(v, path).and_then(Value::as_i64)
}

fn b(v: &Value, path: &str) -> bool {
    at(v, path).and_then(Value::as_bool).unwrap_or(false)
}

fn req_s(v: &Value, path: &str, entity: &'static str) -> Result<String> {
    s(v, path).ok_or_else(|| Error::Field {
        entity,
        field: path.into(),
    })
}

fn req_i(v: &Value, path: &str, entity: &'static str) -> Result<i64> {
    i(v, path).ok_or_else(|| Error::Field {
        entity,
        field: path.into(),
    })
}

fn ts(v: &Value, path: &str, entity: &'static str) -> Result<Option<DateTime<Utc>>> {
    match s(v, path) {
        None => Ok(None),
        Some(text) if text.is_empty() => Ok(None),
        Some(text) => parse_ts(&text).map(Some).ok_or(Error::Timestamp {
            entity,
            field: path.into(),
            value: text,
        }),
    }
}

fn first_line(s: Option<String>) -> Option<String> {
    s.map(|m| m.lines().next().unwrap_or("").to_string())
}

fn label_list<'a>(labels: impl Iterator<Item = &'a Value>) -> String {
    let mut names: Vec<String> = labels
        .filter_map(|l| l.get("name").and_then(Value::as_str))
        .map(str::to_lowercase)
        .collect();
    names.sort();
    names.join(",")
}

fn nodes<'a>(v: &'a Value, path: &str) -> impl Iterator<Item = &'a Value> {
    at(v, path)
        .and_then(Value::as_array)
        .map(|a| a.iter())
        .into_iter()
        .flatten()
}

// ---- pull requests ------------------------------------------------------------------------

impl PullRequest {
    /// Parse one node of the connector's `pullRequests` GraphQL query.
    pub fn from_graphql(repo: &str, n: &Value) -> Result<Self> {
        const E: &str = "pull_requests";
        Ok(PullRequest {
            repo: repo.to_string(),
            pr_id: req_s(n, "id", E)?,
            number: req_i(n, "number", E)?,
            title: s(n, "title").unwrap_or_default(),
            state: req_s(n, "state", E)?,
            is_draft: b(n, "isDraft"),
            author_login: s(n, "author.login"),
            author_type: s(n, "author.__typename"),
            created_at: ts(n, "createdAt", E)?,
            updated_at: ts(n, "updatedAt", E)?,
            closed_at: ts(n, "closedAt", E)?,
            merged_at: ts(n, "mergedAt", E)?,
            merge_commit_sha: s(n, "mergeCommit.oid"),
            base_ref: s(n, "baseRefName"),
            head_ref: s(n, "headRefName"),
            additions: i(n, "additions"),
            deletions: i(n, "deletions"),
            changed_files: i(n, "changedFiles"),
            labels: label_list(nodes(n, "labels.nodes")),
            commits_total: i(n, "commits.totalCount"),
            reviews_total: i(n, "reviews.totalCount"),
            deleted_at: None,
        })
    }

    /// Parse a REST `GET /repos/{o}/{r}/pulls` item.
    pub fn from_rest(repo: &str, v: &Value) -> Result<Self> {
        const E: &str = "pull_requests";
        let merged_at = ts(v, "merged_at", E)?;
        let state = match (s(v, "state").as_deref(), merged_at.is_some()) {
            (_, true) => "MERGED".to_string(),
            (Some(st), false) => st.to_uppercase(),
            (None, false) => {
                return Err(Error::Field {
                    entity: E,
                    field: "state".into(),
                });
            }
        };
        let user_type = s(v, "user.type");
        Ok(PullRequest {
            repo: repo.to_string(),
            pr_id: req_s(v, "node_id", E)?,
            number: req_i(v, "number", E)?,
            title: s(v, "title").unwrap_or_default(),
            state,
            is_draft: b(v, "draft"),
            author_login: s(v, "user.login"),
            author_type: user_type,
            created_at: ts(v, "created_at", E)?,
            updated_at: ts(v, "updated_at", E)?,
            closed_at: ts(v, "closed_at", E)?,
            merged_at,
            merge_commit_sha: if merged_at.is_some() {
                s(v, "merge_commit_sha")
            } else {
                None
            },
            base_ref: s(v, "base.ref"),
            head_ref: s(v, "head.ref"),
            additions: i(v, "additions"),
            deletions: i(v, "deletions"),
            changed_files: i(v, "changed_files"),
            labels: label_list(nodes(v, "labels")),
            commits_total: i(v, "commits"),
            reviews_total: None,
            deleted_at: None,
        })
    }

    /// The commits nested in a `pullRequests` node.
    pub fn commits_from_graphql(repo: &str, n: &Value) -> Result<Vec<PrCommit>> {
        let number = req_i(n, "number", "pull_request_commits")?;
        nodes(n, "commits.nodes")
            .map(|c| PrCommit::from_graphql(repo, number, c))
            .collect()
    }

    /// The reviews nested in a `pullRequests` node.
    pub fn reviews_from_graphql(repo: &str, n: &Value) -> Result<Vec<Review>> {
        let number = req_i(n, "number", "pull_request_reviews")?;
        nodes(n, "reviews.nodes")
            .map(|r| Review::from_graphql(repo, number, r))
            .collect()
    }
}

impl PrCommit {
    /// Parse a `commits.nodes[]` item (`{commit{…}}`) of the PR query.
    pub fn from_graphql(repo: &str, pr_number: i64, node: &Value) -> Result<Self> {
        const E: &str = "pull_request_commits";
        let c = node.get("commit").unwrap_or(node);
        Ok(PrCommit {
            repo: repo.to_string(),
            pr_number,
            sha: req_s(c, "oid", E)?,
            authored_at: ts(c, "authoredDate", E)?,
            committed_at: ts(c, "committedDate", E)?,
            author_name: s(c, "author.name"),
            author_email: s(c, "author.email"),
            author_login: s(c, "author.user.login"),
            message: first_line(s(c, "message")),
            additions: i(c, "additions"),
            deletions: i(c, "deletions"),
        })
    }

    /// Parse a REST `GET /repos/{o}/{r}/pulls/{n}/commits` item.
    pub fn from_rest(repo: &str, pr_number: i64, v: &Value) -> Result<Self> {
        const E: &str = "pull_request_commits";
        Ok(PrCommit {
            repo: repo.to_string(),
            pr_number,
            sha: req_s(v, "sha", E)?,
            authored_at: ts(v, "commit.author.date", E)?,
            committed_at: ts(v, "commit.committer.date", E)?,
            author_name: s(v, "commit.author.name"),
            author_email: s(v, "commit.author.email"),
            author_login: s(v, "author.login"),
            message: first_line(s(v, "commit.message")),
            additions: i(v, "stats.additions"),
            deletions: i(v, "stats.deletions"),
        })
    }
}

impl Review {
    /// Parse a `reviews.nodes[]` item of the PR query.
    pub fn from_graphql(repo: &str, pr_number: i64, n: &Value) -> Result<Self> {
        const E: &str = "pull_request_reviews";
        Ok(Review {
            repo: repo.to_string(),
            pr_number,
            review_id: req_s(n, "id", E)?,
            reviewer_login: s(n, "author.login"),
            reviewer_type: s(n, "author.__typename"),
            state: req_s(n, "state", E)?,
            submitted_at: ts(n, "submittedAt", E)?,
            comments_total: i(n, "comments.totalCount"),
        })
    }

    /// Parse a REST `GET /repos/{o}/{r}/pulls/{n}/reviews` item.
    pub fn from_rest(repo: &str, pr_number: i64, v: &Value) -> Result<Self> {
        const E: &str = "pull_request_reviews";
        Ok(Review {
            repo: repo.to_string(),
            pr_number,
            review_id: req_s(v, "id", E)?,
            reviewer_login: s(v, "user.login"),
            reviewer_type: s(v, "user.type"),
            state: req_s(v, "state", E)?,
            submitted_at: ts(v, "submitted_at", E)?,
            comments_total: None,
        })
    }
}

impl Commit {
    /// Parse a `history.nodes[]` item of the default-branch query.
    pub fn from_graphql(repo: &str, n: &Value) -> Result<Self> {
        const E: &str = "commits";
        Ok(Commit {
            repo: repo.to_string(),
            sha: req_s(n, "oid", E)?,
            committed_at: ts(n, "committedDate", E)?,
            authored_at: ts(n, "authoredDate", E)?,
            author_name: s(n, "author.name"),
            author_email: s(n, "author.email"),
            author_login: s(n, "author.user.login"),
            message: first_line(s(n, "messageHeadline").or_else(|| s(n, "message"))),
            parents: i(n, "parents.totalCount"),
        })
    }
}

fn is_terminal(state: &str) -> bool {
    matches!(state, "SUCCESS" | "FAILURE" | "ERROR")
}

impl Deployment {
    /// Parse a `deployments.nodes[]` item of the connector's query.
    pub fn from_graphql(repo: &str, n: &Value) -> Result<Self> {
        const E: &str = "deployments";
        let latest = s(n, "latestStatus.state").map(|x| x.to_uppercase());
        // Statuses come newest first; the finish is the oldest terminal one, so a later
        // INACTIVE (superseded) status never moves it.
        let mut finished_at = None;
        for st in nodes(n, "statuses.nodes") {
            let state = s(st, "state").unwrap_or_default().to_uppercase();
            if is_terminal(&state) {
                let t = ts(st, "createdAt", E)?.or(ts(st, "updatedAt", E)?);
                if t.is_some() && (finished_at.is_none() || t < finished_at) {
                    finished_at = t;
                }
            }
        }
        if finished_at.is_none() && latest.as_deref().is_some_and(is_terminal) {
            finished_at =
                ts(n, "latestStatus.createdAt", E)?.or(ts(n, "latestStatus.updatedAt", E)?);
        }
        Ok(Deployment {
            repo: repo.to_string(),
            deployment_id: req_s(n, "id", E)?,
            database_id: i(n, "databaseId"),
            sha: s(n, "commitOid").or_else(|| s(n, "commit.oid")),
            environment: s(n, "environment"),
            task: s(n, "task"),
            ref_name: s(n, "ref.name"),
            created_at: ts(n, "createdAt", E)?,
            updated_at: ts(n, "updatedAt", E)?,
            state: latest.or_else(|| s(n, "state")),
            finished_at,
            creator_login: s(n, "creator.login"),
        })
    }
}

impl Deployment {
    /// Parse a deployment node as DevLake stores it in `_raw_github_graphql_deployment`: the
    /// same GraphQL node serialised from Go structs, so object keys are PascalCase (`Id`,
    /// `CommitOid`, `LatestStatus.State`) while some nested ones keep GitHub's camelCase.
    pub fn from_devlake_graphql(repo: &str, n: &Value) -> Result<Self> {
        Self::from_graphql(repo, &camel_keys(n))
    }
}

/// Lower-cases the first letter of every object key (`CommitOid` → `commitOid`), recursively.
fn camel_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let mut c = k.chars();
                    let key = match c.next() {
                        Some(f) => f.to_lowercase().chain(c).collect(),
                        None => String::new(),
                    };
                    (key, camel_keys(v))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(camel_keys).collect()),
        other => other.clone(),
    }
}

impl WorkflowRun {
    /// Parse a REST `GET /repos/{o}/{r}/actions/runs` item.
    pub fn from_rest(repo: &str, v: &Value) -> Result<Self> {
        const E: &str = "workflow_runs";
        Ok(WorkflowRun {
            repo: repo.to_string(),
            run_id: req_i(v, "id", E)?,
            workflow_id: i(v, "workflow_id"),
            name: s(v, "name"),
            path: s(v, "path"),
            event: s(v, "event"),
            head_branch: s(v, "head_branch"),
            head_sha: s(v, "head_sha"),
            status: s(v, "status"),
            // A run still in progress has no conclusion; recorded payloads sometimes hold `""`
            // for it, which must read as null like GitHub's own `null`.
            conclusion: s(v, "conclusion").filter(|c| !c.is_empty()),
            run_attempt: i(v, "run_attempt"),
            run_number: i(v, "run_number"),
            created_at: ts(v, "created_at", E)?,
            updated_at: ts(v, "updated_at", E)?,
            run_started_at: ts(v, "run_started_at", E)?,
        })
    }
}

impl Release {
    /// Parse a REST `GET /repos/{o}/{r}/releases` item.
    pub fn from_rest(repo: &str, v: &Value) -> Result<Self> {
        const E: &str = "releases";
        Ok(Release {
            repo: repo.to_string(),
            release_id: req_i(v, "id", E)?,
            tag_name: req_s(v, "tag_name", E)?,
            name: s(v, "name"),
            target_commitish: s(v, "target_commitish"),
            is_draft: b(v, "draft"),
            is_prerelease: b(v, "prerelease"),
            created_at: ts(v, "created_at", E)?,
            published_at: ts(v, "published_at", E)?,
            author_login: s(v, "author.login"),
        })
    }
}

impl Issue {
    /// Parse a REST `GET /repos/{o}/{r}/issues` item.
    pub fn from_rest(repo: &str, v: &Value) -> Result<Self> {
        const E: &str = "issues";
        Ok(Issue {
            repo: repo.to_string(),
            issue_id: req_i(v, "id", E)?,
            number: req_i(v, "number", E)?,
            title: s(v, "title").unwrap_or_default(),
            state: req_s(v, "state", E)?,
            labels: label_list(nodes(v, "labels")),
            author_login: s(v, "user.login"),
            created_at: ts(v, "created_at", E)?,
            updated_at: ts(v, "updated_at", E)?,
            closed_at: ts(v, "closed_at", E)?,
        })
    }

    /// Whether the issue is a pull request (the REST issues endpoint lists both).
    pub fn rest_is_pull_request(v: &Value) -> bool {
        v.get("pull_request").is_some_and(|p| !p.is_null())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deployment_finish_is_first_terminal_status() {
        let n = json!({"id":"D1","commitOid":"abc","environment":"production",
            "createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-03T00:00:00Z",
            "statuses":{"nodes":[
                {"state":"INACTIVE","createdAt":"2026-01-03T00:00:00Z"},
                {"state":"SUCCESS","createdAt":"2026-01-01T00:10:00Z"},
                {"state":"IN_PROGRESS","createdAt":"2026-01-01T00:01:00Z"}]},
            "latestStatus":{"state":"INACTIVE","createdAt":"2026-01-03T00:00:00Z"}});
        let d = Deployment::from_graphql("o/r", &n).unwrap();
        assert_eq!(d.state.as_deref(), Some("INACTIVE"));
        assert_eq!(d.finished_at, parse_ts("2026-01-01T00:10:00Z"));
    }

    #[test]
    fn missing_key_names_the_field() {
        let err = PullRequest::from_graphql("o/r", &json!({"id":"x","state":"OPEN"})).unwrap_err();
        assert!(err.to_string().contains("`number`"), "{err}");
    }
}
