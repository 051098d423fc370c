//! Renders the org, as it stood at `now`, in GitHub's JSON shapes: GraphQL connections with
//! cursor pagination, and REST arrays with page numbers. No HTTP here; see `server.rs`.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::model::{Commit, Deployment, PrCommit, PullRequest};
use crate::org::{Org, Repo};
use crate::util::{b64_decode, b64_encode, iso, micros, node_id, parse_time};

/// Which GraphQL query a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GqlKind {
    PullRequests,
    History,
    Deployments,
}

impl GqlKind {
    /// Dispatches on the query text, as the contract says.
    pub(crate) fn detect(query: &str) -> Option<GqlKind> {
        if query.contains("pullRequests(") {
            Some(GqlKind::PullRequests)
        } else if query.contains("deployments(") {
            Some(GqlKind::Deployments)
        } else if query.contains("history(") {
            Some(GqlKind::History)
        } else {
            None
        }
    }

    pub(crate) fn route(self) -> &'static str {
        match self {
            GqlKind::PullRequests => "graphql:pullRequests",
            GqlKind::History => "graphql:history",
            GqlKind::Deployments => "graphql:deployments",
        }
    }
}

/// GitHub's cost formula: one request for the outer connection plus `pageSize` requests for
/// each nested connection, divided by 100, at least 1.
pub(crate) fn query_cost(query: &str, page_size: u64) -> u32 {
    let connections = query.matches("first:").count().max(1) as u64;
    let requests = 1 + (connections - 1) * page_size;
    ((requests as f64 / 100.0).round() as u32).max(1)
}

/// A GraphQL error (rendered under `errors`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GqlError {
    pub kind: &'static str,
    pub message: String,
    pub path: Option<&'static str>,
}

impl GqlError {
    pub(crate) fn to_json(&self) -> Value {
        let mut e = json!({ "type": self.kind, "message": self.message });
        if let Some(p) = self.path {
            e["path"] = json!([p]);
        }
        e
    }
}

fn var_str<'a>(vars: &'a Value, name: &str) -> Option<&'a str> {
    vars.get(name).and_then(Value::as_str)
}

/// The page size of a request: `variables.pageSize`, capped at 100.
pub(crate) fn page_size(vars: &Value) -> u64 {
    vars.get("pageSize")
        .and_then(Value::as_u64)
        .unwrap_or(100)
        .clamp(1, 100)
}

fn encode_cursor(a: i64, b: u64) -> String {
    b64_encode(format!("cursor:v2:{a}:{b}").as_bytes())
}

fn decode_cursor(c: &str) -> Option<(i64, u64)> {
    let raw = String::from_utf8(b64_decode(c)?).ok()?;
    let rest = raw.strip_prefix("cursor:v2:")?;
    let (a, b) = rest.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// A connection item: its sort key (time in µs, tie-breaker) and the item.
type Keyed<T> = (i64, u64, T);

/// One page of a connection whose items are sorted by key descending, and whether more follow.
fn page<'a, T>(items: &'a [Keyed<T>], vars: &Value) -> Result<(&'a [Keyed<T>], bool), GqlError> {
    let size = page_size(vars) as usize;
    let from = match vars.get("cursor").and_then(Value::as_str) {
        None => 0,
        Some(c) => {
            let key = decode_cursor(c).ok_or_else(|| GqlError {
                kind: "INVALID_CURSOR_ARGUMENTS",
                message: format!("`{c}` does not appear to be a valid cursor."),
                path: None,
            })?;
            items.partition_point(|(a, b, _)| (*a, *b) >= key)
        }
    };
    let to = (from + size).min(items.len());
    Ok((&items[from..to], to < items.len()))
}

fn connection<T>(
    all: &[(i64, u64, T)],
    slice: &[(i64, u64, T)],
    has_next: bool,
    nodes: Vec<Value>,
) -> Value {
    let end = slice.last().map(|(a, b, _)| encode_cursor(*a, *b));
    json!({
        "totalCount": all.len(),
        "pageInfo": { "endCursor": end, "hasNextPage": has_next },
        "nodes": nodes,
    })
}

/// Resolves `variables.owner`/`variables.name` to a repo, or GitHub's NOT_FOUND error.
pub(crate) fn resolve_repo<'a>(org: &'a Org, vars: &Value) -> Result<&'a Repo, GqlError> {
    let owner = var_str(vars, "owner").unwrap_or("");
    let name = var_str(vars, "name").unwrap_or("");
    org.find_repo(owner, name).ok_or_else(|| GqlError {
        kind: "NOT_FOUND",
        message: format!("Could not resolve to a Repository with the name '{owner}/{name}'."),
        path: Some("repository"),
    })
}

fn actor(org: &Org, person: Option<usize>) -> Value {
    match person {
        None => Value::Null,
        Some(p) => {
            let p = &org.people[p];
            json!({ "__typename": p.kind.typename(), "login": p.login })
        }
    }
}

fn git_actor(org: &Org, person: Option<usize>) -> Value {
    match person {
        None => {
            json!({ "name": "Former Member", "email": "former-member@users.noreply.github.com", "user": null })
        }
        Some(p) => {
            let p = &org.people[p];
            json!({ "name": p.name, "email": p.email, "user": { "login": p.login } })
        }
    }
}

fn pr_commit(org: &Org, pr: &PullRequest, c: &PrCommit) -> Value {
    json!({ "commit": {
        "oid": c.oid.to_string(),
        "message": c.message,
        "committedDate": iso(c.authored_at),
        "authoredDate": iso(c.authored_at),
        "additions": c.additions,
        "deletions": c.deletions,
        "author": git_actor(org, pr.author),
    }})
}

/// One PR node as of `now`.
pub(crate) fn pr_node(org: &Org, pr: &PullRequest, now: DateTime<Utc>) -> Value {
    let state = pr.state_at(now).expect("only visible PRs are rendered");
    let commits: Vec<&PrCommit> = pr.commits.iter().filter(|c| c.authored_at <= now).collect();
    let reviews: Vec<_> = pr
        .reviews
        .iter()
        .filter(|r| r.submitted_at <= now)
        .collect();
    let merged = pr.merged_at.filter(|m| *m <= now);
    let closed = merged.or(pr.closed_at.filter(|c| *c <= now));
    json!({
        "id": pr.node_id,
        "databaseId": pr.database_id,
        "number": pr.number,
        "title": pr.title,
        "state": state.as_str(),
        "isDraft": pr.is_draft_at(now),
        "createdAt": iso(pr.created_at),
        "updatedAt": iso(pr.updated_at_at(now)),
        "closedAt": closed.map(iso),
        "mergedAt": merged.map(iso),
        "additions": commits.iter().map(|c| u64::from(c.additions)).sum::<u64>(),
        "deletions": commits.iter().map(|c| u64::from(c.deletions)).sum::<u64>(),
        "changedFiles": pr.changed_files,
        "baseRefName": pr.base_ref,
        "headRefName": pr.head_ref,
        "author": actor(org, pr.author),
        "mergeCommit": merged.and(pr.merge_commit).map(|o| json!({ "oid": o.to_string() })),
        "labels": { "nodes": pr.labels.iter().map(|l| json!({ "name": l })).collect::<Vec<_>>() },
        "commits": {
            "totalCount": commits.len(),
            "nodes": commits.iter().take(100).map(|c| pr_commit(org, pr, c)).collect::<Vec<_>>(),
        },
        "reviews": {
            "totalCount": reviews.len(),
            "nodes": reviews.iter().take(100).map(|r| json!({
                "id": node_id("PRR", r.database_id),
                "state": r.state.as_str(),
                "submittedAt": iso(r.submitted_at),
                "author": actor(org, Some(r.author)),
                "comments": { "totalCount": r.comments },
            })).collect::<Vec<_>>(),
        },
    })
}

/// The `repository.pullRequests` connection, ordered by `updatedAt` descending.
pub(crate) fn pull_requests(
    org: &Org,
    repo: &Repo,
    now: DateTime<Utc>,
    vars: &Value,
) -> Result<Value, GqlError> {
    let mut items: Vec<(i64, u64, &PullRequest)> = repo
        .data()
        .pull_requests
        .iter()
        .filter(|p| p.visible_at(now))
        .map(|p| (micros(p.updated_at_at(now)), p.number, p))
        .collect();
    items.sort_by_key(|x| std::cmp::Reverse((x.0, x.1)));
    let (slice, next) = page(&items, vars)?;
    let nodes = slice.iter().map(|(_, _, p)| pr_node(org, p, now)).collect();
    Ok(json!({ "repository": { "pullRequests": connection(&items, slice, next, nodes) } }))
}

fn history_node(org: &Org, c: &Commit) -> Value {
    json!({
        "oid": c.oid.to_string(),
        "messageHeadline": c.message,
        "committedDate": iso(c.committed_at),
        "authoredDate": iso(c.authored_at),
        "parents": { "totalCount": c.parents },
        "author": git_actor(org, c.author),
    })
}

/// The default branch's `history` connection, newest first, `since` on the commit date.
pub(crate) fn history(
    org: &Org,
    repo: &Repo,
    now: DateTime<Utc>,
    vars: &Value,
) -> Result<Value, GqlError> {
    let since = match vars.get("since") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_str().and_then(parse_time).ok_or_else(|| GqlError {
            kind: "INVALID_ARGUMENT",
            message: format!("Argument 'since' on Field 'history' has an invalid value ({v})."),
            path: None,
        })?),
    };
    let data = repo.data();
    let visible = data.commits.partition_point(|c| c.committed_at <= now);
    let mut items: Vec<(i64, u64, &Commit)> = data.commits[..visible]
        .iter()
        .enumerate()
        .filter(|(_, c)| since.is_none_or(|s| c.committed_at >= s))
        .map(|(i, c)| (micros(c.committed_at), i as u64, c))
        .collect();
    items.reverse();
    let (slice, next) = page(&items, vars)?;
    let nodes = slice.iter().map(|(_, _, c)| history_node(org, c)).collect();
    Ok(json!({ "repository": { "defaultBranchRef": {
        "name": repo.default_branch,
        "target": { "history": connection(&items, slice, next, nodes) },
    }}}))
}

fn deployment_node(org: &Org, d: &Deployment, now: DateTime<Utc>) -> Value {
    let statuses: Vec<Value> = d
        .statuses
        .iter()
        .filter(|s| s.created_at <= now)
        .rev()
        .take(20)
        .map(|s| json!({ "state": s.state.as_str(), "createdAt": iso(s.created_at) }))
        .collect();
    let latest = d.latest_status_at(now);
    json!({
        "id": d.node_id,
        "databaseId": d.database_id,
        "task": "deploy",
        "environment": d.environment.as_str(),
        "state": latest.map_or("PENDING", |s| s.state.as_str()),
        "commitOid": d.commit_oid.to_string(),
        "createdAt": iso(d.created_at),
        "updatedAt": iso(d.updated_at_at(now)),
        "ref": { "name": "main" },
        "creator": { "login": org.people[d.creator].login },
        "statuses": { "nodes": statuses },
        "latestStatus": latest.map(|s| json!({ "state": s.state.as_str(), "createdAt": iso(s.created_at) })),
    })
}

/// The `repository.deployments` connection, ordered by `createdAt` descending. Statuses are
/// listed newest first.
pub(crate) fn deployments(
    org: &Org,
    repo: &Repo,
    now: DateTime<Utc>,
    vars: &Value,
) -> Result<Value, GqlError> {
    let mut items: Vec<(i64, u64, &Deployment)> = repo
        .data()
        .deployments
        .iter()
        .filter(|d| d.created_at <= now)
        .map(|d| (micros(d.created_at), d.database_id, d))
        .collect();
    items.sort_by_key(|x| std::cmp::Reverse((x.0, x.1)));
    let (slice, next) = page(&items, vars)?;
    let nodes = slice
        .iter()
        .map(|(_, _, d)| deployment_node(org, d, now))
        .collect();
    Ok(json!({ "repository": { "deployments": connection(&items, slice, next, nodes) } }))
}

// ---------------------------------------------------------------------------------------------
// REST

/// A REST filter on a timestamp: `>=T`, `>T`, `<=T`, `<T`, `A..B` or a bare date (that day).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TimeFilter {
    from: Option<(DateTime<Utc>, bool)>,
    to: Option<(DateTime<Utc>, bool)>,
}

impl TimeFilter {
    pub(crate) fn parse(text: &str) -> Option<TimeFilter> {
        let t = text.trim();
        let f = if let Some(x) = t.strip_prefix(">=") {
            TimeFilter {
                from: Some((parse_time(x)?, true)),
                to: None,
            }
        } else if let Some(x) = t.strip_prefix('>') {
            TimeFilter {
                from: Some((parse_time(x)?, false)),
                to: None,
            }
        } else if let Some(x) = t.strip_prefix("<=") {
            TimeFilter {
                from: None,
                to: Some((parse_time(x)?, true)),
            }
        } else if let Some(x) = t.strip_prefix('<') {
            TimeFilter {
                from: None,
                to: Some((parse_time(x)?, false)),
            }
        } else if let Some((a, b)) = t.split_once("..") {
            let from = (a != "*").then(|| parse_time(a).map(|x| (x, true)));
            let to = (b != "*").then(|| parse_time(b).map(|x| (x, true)));
            TimeFilter {
                from: from.flatten(),
                to: to.flatten(),
            }
        } else {
            let day = parse_time(t)?;
            let end = if t.len() == 10 {
                day + chrono::Duration::days(1)
            } else {
                day + chrono::Duration::seconds(1)
            };
            TimeFilter {
                from: Some((day, true)),
                to: Some((end, false)),
            }
        };
        Some(f)
    }

    pub(crate) fn matches(&self, t: DateTime<Utc>) -> bool {
        let lo = self
            .from
            .is_none_or(|(x, incl)| if incl { t >= x } else { t > x });
        let hi = self
            .to
            .is_none_or(|(x, incl)| if incl { t <= x } else { t < x });
        lo && hi
    }
}

/// `GET /orgs/{org}/repos` rows, newest repository first.
pub(crate) fn repos(org: &Org, now: DateTime<Utc>) -> Vec<Value> {
    let mut repos: Vec<&Repo> = org.repos.iter().filter(|r| r.created_at <= now).collect();
    repos.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    repos
        .into_iter()
        .map(|r| {
            let pushed = r.pushed_at(now);
            json!({
                "id": r.id,
                "node_id": r.node_id,
                "name": r.name,
                "full_name": r.full_name,
                "private": true,
                "owner": { "login": org.name, "type": "Organization" },
                "html_url": format!("https://github.com/{}", r.full_name),
                "description": format!("{} owned by team {}", r.name, org.teams[r.team].name),
                "fork": false,
                "archived": r.archived,
                "disabled": false,
                "visibility": "private",
                "default_branch": r.default_branch,
                "created_at": iso(r.created_at),
                "updated_at": iso(pushed),
                "pushed_at": iso(pushed),
            })
        })
        .collect()
}

/// `GET /repos/{o}/{r}/actions/runs` rows, newest first, filtered on `created`.
pub(crate) fn workflow_runs(
    repo: &Repo,
    now: DateTime<Utc>,
    created: Option<&TimeFilter>,
) -> Vec<Value> {
    repo.data()
        .workflow_runs
        .iter()
        .rev()
        .filter(|r| r.created_at <= now && created.is_none_or(|f| f.matches(r.created_at)))
        .map(|r| {
            let done = r.completed_at <= now;
            json!({
                "id": r.id,
                "name": r.name,
                "node_id": node_id("WFR", r.id),
                "head_branch": r.head_branch,
                "head_sha": r.head_sha.to_string(),
                "path": r.path,
                "display_title": r.name,
                "run_number": r.run_number,
                "event": r.event,
                "status": if done { "completed" } else { "in_progress" },
                "conclusion": if done { Value::from(r.conclusion) } else { Value::Null },
                "workflow_id": r.workflow_id,
                "url": format!("https://api.github.com/repos/{}/actions/runs/{}", repo.full_name, r.id),
                "html_url": format!("https://github.com/{}/actions/runs/{}", repo.full_name, r.id),
                "created_at": iso(r.created_at),
                "updated_at": iso(if done { r.completed_at } else { r.run_started_at.min(now) }),
                "run_attempt": r.run_attempt,
                "run_started_at": iso(r.run_started_at.min(now)),
            })
        })
        .collect()
}

/// `GET /repos/{o}/{r}/releases` rows, newest first.
pub(crate) fn releases(org: &Org, repo: &Repo, now: DateTime<Utc>) -> Vec<Value> {
    repo.data()
        .releases
        .iter()
        .rev()
        .filter(|r| r.published_at <= now)
        .map(|r| {
            let author = &org.people[r.author];
            json!({
                "id": r.id,
                "node_id": node_id("RE", r.id),
                "tag_name": r.tag_name,
                "name": r.name,
                "draft": r.draft,
                "prerelease": r.prerelease,
                "target_commitish": r.target_commitish,
                "created_at": iso(r.created_at),
                "published_at": iso(r.published_at),
                "html_url": format!("https://github.com/{}/releases/tag/{}", repo.full_name, r.tag_name),
                "author": { "login": author.login, "id": author.id, "type": author.kind.typename() },
            })
        })
        .collect()
}

/// Filters of `GET /repos/{o}/{r}/issues`.
#[derive(Debug, Clone, Default)]
pub(crate) struct IssueQuery {
    pub labels: Vec<String>,
    pub state: String,
    pub since: Option<DateTime<Utc>>,
    pub sort_updated: bool,
    pub ascending: bool,
}

/// `GET /repos/{o}/{r}/issues` rows.
pub(crate) fn issues(org: &Org, repo: &Repo, now: DateTime<Utc>, q: &IssueQuery) -> Vec<Value> {
    let mut rows: Vec<_> = repo
        .data()
        .issues
        .iter()
        .filter(|i| i.created_at <= now)
        .filter(|i| q.state == "all" || i.state_at(now) == q.state)
        .filter(|i| {
            q.labels
                .iter()
                .all(|l| i.labels.iter().any(|x| x.eq_ignore_ascii_case(l)))
        })
        .filter(|i| q.since.is_none_or(|s| i.updated_at_at(now) >= s))
        .collect();
    let key = |i: &&crate::model::Issue| {
        let t = if q.sort_updated {
            i.updated_at_at(now)
        } else {
            i.created_at
        };
        (t, i.number)
    };
    rows.sort_by_key(key);
    if !q.ascending {
        rows.reverse();
    }
    rows.into_iter()
        .map(|i| {
            let user = &org.people[i.author];
            let closed = i.closed_at.filter(|c| *c <= now);
            json!({
                "id": i.id,
                "node_id": node_id("I", i.id),
                "number": i.number,
                "title": i.title,
                "state": i.state_at(now),
                "labels": i.labels.iter().map(|l| json!({ "name": l })).collect::<Vec<_>>(),
                "user": { "login": user.login, "id": user.id, "type": user.kind.typename() },
                "comments": 0,
                "html_url": format!("https://github.com/{}/issues/{}", repo.full_name, i.number),
                "created_at": iso(i.created_at),
                "updated_at": iso(i.updated_at_at(now)),
                "closed_at": closed.map(iso),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_follows_githubs_formula() {
        let pr =
            "pullRequests(first:$pageSize) labels(first:20) commits(first:100) reviews(first:100)";
        assert_eq!(query_cost(pr, 100), 3);
        assert_eq!(query_cost(pr, 10), 1);
        assert_eq!(query_cost("history(first:$pageSize)", 100), 1);
        assert_eq!(
            query_cost("deployments(first:$pageSize) statuses(first:20)", 100),
            1
        );
        assert_eq!(query_cost("x", 100), 1);
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = encode_cursor(1_700_000_000_000_000, 42);
        assert_eq!(decode_cursor(&c), Some((1_700_000_000_000_000, 42)));
        assert_eq!(decode_cursor("bm9wZQ=="), None);
        assert_eq!(decode_cursor("!!"), None);
    }

    #[test]
    fn dispatches_on_query_text() {
        assert_eq!(
            GqlKind::detect("{ repository { pullRequests(first:1) } }"),
            Some(GqlKind::PullRequests)
        );
        assert_eq!(GqlKind::detect("history(first:1)"), Some(GqlKind::History));
        assert_eq!(
            GqlKind::detect("deployments(first:1)"),
            Some(GqlKind::Deployments)
        );
        assert_eq!(GqlKind::detect("viewer { login }"), None);
    }

    #[test]
    fn time_filters() {
        let t = parse_time("2026-05-05T12:00:00Z").unwrap();
        assert!(
            TimeFilter::parse(">=2026-05-05T12:00:00Z")
                .unwrap()
                .matches(t)
        );
        assert!(
            !TimeFilter::parse(">2026-05-05T12:00:00Z")
                .unwrap()
                .matches(t)
        );
        assert!(TimeFilter::parse("2026-05-05").unwrap().matches(t));
        assert!(!TimeFilter::parse("2026-05-06").unwrap().matches(t));
        assert!(
            TimeFilter::parse("2026-05-01..2026-05-10")
                .unwrap()
                .matches(t)
        );
        assert!(TimeFilter::parse("<2026-05-01").is_some_and(|f| !f.matches(t)));
        assert!(TimeFilter::parse("soon").is_none());
    }
}
