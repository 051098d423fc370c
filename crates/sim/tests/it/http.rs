//! The server over real TCP: the routes of docs/github-api.md, auth, pagination, snapshot
//! semantics, rate limits and injected faults.

use std::collections::HashSet;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use flowlake_sim::model::PrState;
use flowlake_sim::{Scale, SimConfig, SimHandle, spawn};
use serde_json::{Value, json};

use crate::client::{Client, DEPLOYMENTS_QUERY, HISTORY_QUERY, PR_QUERY, Resp, send};

async fn sim(cfg: SimConfig) -> (SimHandle, Client) {
    let h = spawn(cfg).await.unwrap();
    let c = Client { addr: h.addr() };
    (h, c)
}

fn small() -> SimConfig {
    SimConfig::new(9, Scale::Small)
}

fn vars(repo: &str, page: u64, cursor: Option<&str>) -> Value {
    json!({ "owner": "acme", "name": repo, "pageSize": page, "cursor": cursor })
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

/// Walks every page of the PR connection; returns the nodes and the reported totalCount.
async fn all_prs(c: &Client, repo: &str, page: u64) -> (Vec<Value>, u64) {
    let (mut nodes, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let r = c
            .graphql(PR_QUERY, vars(repo, page, cursor.as_deref()))
            .await;
        assert_eq!(r.status, 200);
        let conn = r.json()["data"]["repository"]["pullRequests"].clone();
        let total = conn["totalCount"].as_u64().unwrap();
        let page_nodes = conn["nodes"].as_array().unwrap().clone();
        assert!(page_nodes.len() as u64 <= page);
        nodes.extend(page_nodes);
        if !conn["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return (nodes, total);
        }
        cursor = Some(conn["pageInfo"]["endCursor"].as_str().unwrap().to_string());
    }
}

#[tokio::test]
async fn auth_is_required_and_bad_tokens_get_401() {
    let (h, c) = sim(small()).await;
    for auth in [None, Some("Bearer wrong"), Some("sim-token")] {
        let r = send(c.addr, "GET", "/orgs/acme/repos", auth, None).await;
        assert_eq!(r.status, 401, "{auth:?}");
        assert_eq!(r.json()["message"], "Bad credentials");
        assert!(r.json()["documentation_url"].is_string());
    }
    let ok = send(
        c.addr,
        "GET",
        "/orgs/acme/repos",
        Some("token sim-token"),
        None,
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(h.stats().requests, 4);
}

#[tokio::test]
async fn unknown_repos_are_not_found_in_rest_and_graphql() {
    let (_h, c) = sim(small()).await;
    for path in [
        "/orgs/other/repos",
        "/repos/acme/nope/releases",
        "/repos/other/payments-service/issues",
        "/nowhere",
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.json()["message"], "Not Found");
    }
    let r = c.graphql(PR_QUERY, vars("nope", 10, None)).await;
    assert_eq!(r.status, 200);
    let body = r.json();
    assert!(body["data"].is_null());
    assert_eq!(body["errors"][0]["type"], "NOT_FOUND");
    assert_eq!(
        body["errors"][0]["message"],
        "Could not resolve to a Repository with the name 'acme/nope'."
    );
}

#[tokio::test]
async fn org_repos_list_every_repo() {
    let (h, c) = sim(small()).await;
    let r = c.get("/orgs/acme/repos?per_page=100&page=1").await;
    let rows = r.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), h.org().repos.len());
    for row in rows {
        for f in [
            "id",
            "node_id",
            "name",
            "full_name",
            "archived",
            "default_branch",
            "created_at",
            "pushed_at",
        ] {
            assert!(!row[f].is_null(), "{f} missing in {row}");
        }
        assert!(row["full_name"].as_str().unwrap().starts_with("acme/"));
        assert!(time(&row["pushed_at"]) <= h.now());
    }
    assert!(r.header("link").is_none(), "one page, no Link header");
    // GitHub Enterprise paths work too.
    assert_eq!(c.get("/api/v3/orgs/acme/repos").await.status, 200);
}

#[tokio::test]
async fn pr_pagination_walks_every_pr_exactly_once() {
    let (h, c) = sim(small()).await;
    let repo = &h.org().repos[1];
    let expected = repo.pull_requests_visible_at(h.now()).len();
    let (nodes, total) = all_prs(&c, &repo.name, 37).await;
    assert_eq!(total as usize, expected);
    assert_eq!(nodes.len(), expected);
    let numbers: HashSet<u64> = nodes
        .iter()
        .map(|n| n["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers.len(), expected, "no PR twice");
    let updated: Vec<DateTime<Utc>> = nodes.iter().map(|n| time(&n["updatedAt"])).collect();
    assert!(updated.windows(2).all(|w| w[0] >= w[1]), "UPDATED_AT DESC");
    // The GraphQL shapes the connector reads.
    let merged = nodes.iter().find(|n| n["state"] == "MERGED").unwrap();
    assert!(merged["mergeCommit"]["oid"].as_str().unwrap().len() == 40);
    assert!(merged["author"]["__typename"].is_string());
    assert!(merged["commits"]["totalCount"].as_u64().unwrap() >= 1);
    let commit = &merged["commits"]["nodes"][0]["commit"];
    assert!(commit["authoredDate"].is_string() && commit["author"]["email"].is_string());
    assert!(time(&commit["authoredDate"]) < time(&merged["createdAt"]));
    assert!(nodes.iter().any(|n| n["author"]["__typename"] == "Bot"));
    assert!(
        nodes
            .iter()
            .any(|n| n["reviews"]["nodes"][0]["state"] == "APPROVED")
    );
    let open = nodes.iter().find(|n| n["state"] == "OPEN").unwrap();
    assert!(open["mergedAt"].is_null() && open["mergeCommit"].is_null());
}

#[tokio::test]
async fn bad_cursors_are_graphql_errors() {
    let (_h, c) = sim(small()).await;
    let r = c
        .graphql(PR_QUERY, vars("payments-service", 5, Some("garbage")))
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("cursor")
    );
}

#[tokio::test]
async fn history_and_deployments_paginate_with_filters() {
    let (h, c) = sim(small()).await;
    let repo = &h.org().repos[0];
    let since = h.now() - Duration::days(30);
    let mut v = vars(&repo.name, 100, None);
    v["since"] = json!(since.to_rfc3339());
    let (mut seen, mut cursor) = (Vec::new(), None::<String>);
    loop {
        v["cursor"] = json!(cursor);
        let body = c.graphql(HISTORY_QUERY, v.clone()).await.json();
        let hist = &body["data"]["repository"]["defaultBranchRef"]["target"]["history"];
        seen.extend(
            hist["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| time(&n["committedDate"])),
        );
        if !hist["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            assert_eq!(hist["totalCount"].as_u64().unwrap() as usize, seen.len());
            break;
        }
        cursor = hist["pageInfo"]["endCursor"].as_str().map(str::to_string);
    }
    let expected = repo
        .data()
        .commits
        .iter()
        .filter(|x| x.committed_at >= since && x.committed_at <= h.now())
        .count();
    assert_eq!(seen.len(), expected);
    assert!(seen.windows(2).all(|w| w[0] >= w[1]), "newest first");

    let body = c
        .graphql(DEPLOYMENTS_QUERY, vars(&repo.name, 100, None))
        .await
        .json();
    let deps = &body["data"]["repository"]["deployments"];
    let visible = repo
        .data()
        .deployments
        .iter()
        .filter(|d| d.created_at <= h.now())
        .count();
    assert_eq!(deps["totalCount"].as_u64().unwrap() as usize, visible);
    let node = &deps["nodes"][0];
    assert!(["production", "staging"].contains(&node["environment"].as_str().unwrap()));
    assert_eq!(
        node["latestStatus"]["state"],
        node["statuses"]["nodes"][0]["state"]
    );
    assert_eq!(body["data"]["rateLimit"]["cost"], 1);
}

#[tokio::test]
async fn advancing_the_clock_reveals_new_and_changed_prs() {
    let (h, c) = sim(small()).await;
    let t0 = h.now();
    let t1 = t0 + Duration::hours(120);
    let (repo, merges_later) = h
        .org()
        .repos
        .iter()
        .find_map(|r| {
            let p = r.data().pull_requests.iter().find(|p| {
                p.state_at(t0) == Some(PrState::Open) && p.state_at(t1) == Some(PrState::Merged)
            })?;
            Some((r, p))
        })
        .expect("some open PR merges within five days");
    let before = c
        .graphql(PR_QUERY, vars(&repo.name, 100, None))
        .await
        .json();
    let before_total = before["data"]["repository"]["pullRequests"]["totalCount"]
        .as_u64()
        .unwrap();
    let (nodes, _) = all_prs(&c, &repo.name, 100).await;
    let node = nodes
        .iter()
        .find(|n| n["number"] == merges_later.number)
        .unwrap();
    assert_eq!(node["state"], "OPEN");
    assert!(node["mergedAt"].is_null());
    assert!(time(&node["updatedAt"]) <= t0);

    let r = c.post("/_sim/advance?hours=120").await;
    assert_eq!(r.status, 200);
    assert_eq!(time(&r.json()["now"]), t1);
    assert_eq!(time(&c.get("/_sim/now").await.json()["now"]), t1);

    let (after, total) = all_prs(&c, &repo.name, 100).await;
    assert!(
        total > before_total,
        "new PRs appear: {before_total} -> {total}"
    );
    let node = after
        .iter()
        .find(|n| n["number"] == merges_later.number)
        .unwrap();
    assert_eq!(node["state"], "MERGED");
    assert_eq!(time(&node["mergedAt"]), merges_later.merged_at.unwrap());
    // An incremental run stops at the watermark: the PRs updated after t0 are exactly those
    // with an event in (t0, t1].
    let changed: HashSet<u64> = after
        .iter()
        .filter(|n| time(&n["updatedAt"]) > t0)
        .map(|n| n["number"].as_u64().unwrap())
        .collect();
    let expected: HashSet<u64> = repo
        .data()
        .pull_requests
        .iter()
        .filter(|p| p.visible_at(t1) && p.updated_at_at(t1) > t0)
        .map(|p| p.number)
        .collect();
    assert_eq!(changed, expected);
    assert!(changed.contains(&merges_later.number));
    assert_eq!(c.post("/_sim/advance?hours=-1").await.status, 400);
}

#[tokio::test]
async fn same_seed_serves_identical_json() {
    let (_a, ca) = sim(small()).await;
    let (_b, cb) = sim(small()).await;
    let strip = |mut v: Value| {
        // rateLimit.resetAt depends on the wall clock.
        v["data"]["rateLimit"] = Value::Null;
        v
    };
    for q in [PR_QUERY, HISTORY_QUERY, DEPLOYMENTS_QUERY] {
        let a = strip(
            ca.graphql(q, vars("payments-service", 50, None))
                .await
                .json(),
        );
        let b = strip(
            cb.graphql(q, vars("payments-service", 50, None))
                .await
                .json(),
        );
        assert_eq!(a, b);
    }
    let path = "/repos/acme/payments-service/actions/runs?per_page=100";
    assert_eq!(ca.get(path).await.body, cb.get(path).await.body);
}

#[tokio::test]
async fn rest_pagination_follows_link_headers() {
    let (h, c) = sim(small()).await;
    let repo = &h.org().repos[2];
    let since = h.now() - Duration::days(60);
    let mut path = format!(
        "/repos/acme/{}/actions/runs?per_page=50&page=1&created=%3E%3D{}",
        repo.name,
        since.format("%Y-%m-%dT%H:%M:%SZ")
    );
    let (mut ids, mut pages) = (HashSet::new(), 0);
    let mut total: u64;
    loop {
        let r = c.get(&path).await;
        assert_eq!(r.status, 200, "{path}");
        let body = r.json();
        total = body["total_count"].as_u64().unwrap();
        for run in body["workflow_runs"].as_array().unwrap() {
            assert!(time(&run["created_at"]) >= since);
            assert!(ids.insert(run["id"].as_u64().unwrap()));
        }
        pages += 1;
        match r.next_link() {
            Some(next) => {
                assert!(r.header("link").unwrap().contains("rel=\"last\""));
                assert!(next.contains("created=%3E%3D"), "filters survive: {next}");
                path = next;
            }
            None => break,
        }
    }
    assert!(pages > 1);
    assert_eq!(ids.len() as u64, total);
    let expected = repo
        .data()
        .workflow_runs
        .iter()
        .filter(|r| r.created_at >= since && r.created_at <= h.now())
        .count();
    assert_eq!(total as usize, expected);
}

#[tokio::test]
async fn incident_issues_filter_by_label_state_and_since() {
    let (h, c) = sim(small()).await;
    let repo = &h.org().repos[0];
    let r = c
        .get(&format!("/repos/acme/{}/issues?labels=incident&state=all&sort=updated&direction=asc&per_page=100", repo.name))
        .await;
    let rows = r.json();
    let rows = rows.as_array().unwrap();
    let expected = repo
        .data()
        .incidents()
        .filter(|i| i.created_at <= h.now())
        .count();
    assert_eq!(rows.len(), expected);
    assert!(rows.iter().all(|i| {
        i["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["name"] == "incident")
    }));
    let updated: Vec<_> = rows.iter().map(|i| time(&i["updated_at"])).collect();
    assert!(
        updated.windows(2).all(|w| w[0] <= w[1]),
        "ascending by updated_at"
    );
    let since = h.now() - Duration::days(90);
    let recent = c
        .get(&format!(
            "/repos/acme/{}/issues?labels=incident&state=all&since={}&per_page=100",
            repo.name,
            since.format("%Y-%m-%dT%H:%M:%SZ")
        ))
        .await
        .json();
    let recent = recent.as_array().unwrap();
    assert!(recent.len() < rows.len() && recent.iter().all(|i| time(&i["updated_at"]) >= since));
    let all = c
        .get(&format!(
            "/repos/acme/{}/issues?state=all&per_page=100",
            repo.name
        ))
        .await;
    assert!(
        all.json().as_array().unwrap().len() > rows.len().min(100) || all.next_link().is_some()
    );
    let releases = c
        .get(&format!("/repos/acme/{}/releases?per_page=5", repo.name))
        .await;
    assert_eq!(releases.json().as_array().unwrap().len(), 5);
    assert!(releases.next_link().unwrap().contains("page=2"));
}

#[tokio::test]
async fn rate_limit_headers_count_down_per_resource() {
    let (h, c) = sim(small()).await;
    let a = c.get("/orgs/acme/repos").await;
    let b = c.get("/orgs/acme/repos").await;
    assert_eq!(a.header("x-ratelimit-resource"), Some("core"));
    assert_eq!(a.header_u64("x-ratelimit-limit"), 5_000);
    assert_eq!(
        a.header_u64("x-ratelimit-remaining") - 1,
        b.header_u64("x-ratelimit-remaining")
    );
    assert_eq!(b.header_u64("x-ratelimit-used"), 2);
    assert!(b.header_u64("x-ratelimit-reset") > 1_700_000_000);
    let g = c
        .graphql(PR_QUERY, vars("payments-service", 100, None))
        .await;
    assert_eq!(g.header("x-ratelimit-resource"), Some("graphql"));
    assert_eq!(g.header_u64("x-ratelimit-remaining"), 5_000 - 3);
    let rl = &g.json()["data"]["rateLimit"];
    assert_eq!(rl["cost"], 3);
    assert_eq!(rl["remaining"], 4_997);
    assert!(rl["resetAt"].as_str().unwrap().ends_with('Z'));
    let small_page = c
        .graphql(PR_QUERY, vars("payments-service", 10, None))
        .await;
    assert_eq!(small_page.json()["data"]["rateLimit"]["cost"], 1);
    let stats = h.stats();
    assert_eq!(stats.points_spent, 2 + 3 + 1);
    assert_eq!((stats.rest_requests, stats.graphql_requests), (2, 2));
    assert_eq!(stats.by_route["graphql:pullRequests"], 2);
    assert_eq!(stats.by_route["rest:repos"], 2);
}

#[tokio::test]
async fn an_exhausted_budget_answers_403_until_the_window_resets() {
    let cfg = SimConfig {
        rate_limit_per_hour: 3,
        rate_limit_window_secs: 2,
        ..small()
    };
    let (_h, c) = sim(cfg).await;
    for _ in 0..3 {
        assert_eq!(c.get("/orgs/acme/repos").await.status, 200);
    }
    let r = c.get("/orgs/acme/repos").await;
    assert_eq!(r.status, 403);
    assert_eq!(r.header_u64("x-ratelimit-remaining"), 0);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("API rate limit exceeded")
    );
    // GraphQL has its own budget.
    assert_eq!(
        c.graphql(HISTORY_QUERY, vars("payments-service", 5, None))
            .await
            .status,
        200
    );
    let reset = r.header_u64("x-ratelimit-reset");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    tokio::time::sleep(StdDuration::from_millis(
        (reset.saturating_sub(now) * 1000) + 200,
    ))
    .await;
    let again = c.get("/orgs/acme/repos").await;
    assert_eq!(again.status, 200);
    assert_eq!(again.header_u64("x-ratelimit-remaining"), 2);
}

#[tokio::test]
async fn faults_come_at_the_configured_rate_and_never_on_control_routes() {
    let cfg = SimConfig {
        faults: 0.3,
        retry_after_secs: 7,
        ..small()
    };
    let (h, c) = sim(cfg).await;
    let n = 300;
    let mut kinds = HashSet::new();
    let mut bad = 0;
    for _ in 0..n {
        let r: Resp = c
            .get("/repos/acme/payments-service/releases?per_page=3")
            .await;
        let parsed = serde_json::from_slice::<Value>(&r.body).ok();
        let ok = r.status == 200 && parsed.as_ref().is_some_and(Value::is_array);
        if !ok {
            bad += 1;
            kinds.insert(r.status);
            if r.status == 429 || r.status == 403 {
                assert_eq!(r.header("retry-after"), Some("7"));
                assert!(
                    r.json()["message"]
                        .as_str()
                        .unwrap()
                        .contains("secondary rate limit")
                );
            }
        }
        assert_eq!(c.get("/_sim/now").await.status, 200);
    }
    let injected = h.stats().faults_injected;
    assert!(
        (50..=130).contains(&injected),
        "{injected} faults in {n} requests at p=0.3"
    );
    // Slow responses are correct answers; the other five kinds are visible failures.
    assert!(bad < injected && bad > 30, "bad {bad}, injected {injected}");
    for status in [200, 403, 429, 502, 503] {
        assert!(kinds.contains(&status), "{status} among {kinds:?}");
    }
    let stats = c.get("/_sim/stats").await.json();
    assert_eq!(stats["requests"], n);
    assert_eq!(stats["faults_injected"], injected);
    assert_eq!(c.post("/_sim/reset-stats").await.status, 204);
    assert_eq!(h.stats().requests, 0);
}

#[tokio::test]
async fn graphql_is_served_on_the_enterprise_path_and_shuts_down() {
    let (h, c) = sim(small()).await;
    let body = json!({ "query": HISTORY_QUERY, "variables": vars("payments-service", 1, None) })
        .to_string();
    let r = send(
        c.addr,
        "POST",
        "/api/graphql",
        Some("Bearer sim-token"),
        Some(&body),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["data"]["repository"]["defaultBranchRef"]["name"],
        "main"
    );
    let bad = send(
        c.addr,
        "POST",
        "/graphql",
        Some("Bearer sim-token"),
        Some("{not json"),
    )
    .await;
    assert_eq!(bad.status, 400);
    let addr = h.addr();
    h.shutdown().await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
