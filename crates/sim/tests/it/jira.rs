//! The Jira site over real TCP: the routes of docs/jira-api.md in both flavours, paging,
//! the changelog cap, snapshots at the clock, deleted and moved issues, auth, and payloads
//! that parse with `flowlake_model::jira`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use flowlake_model::jira::{Board, ChangelogItem, FieldMap, Issue, Sprint, Status};
use flowlake_sim::jira::{Change, JiraStatus};
use flowlake_sim::{Scale, SimConfig, SimHandle, spawn};
use serde_json::Value;

use crate::client::{Resp, send};

/// Basic `sim@acme.test:sim-jira-token`.
const BASIC: &str = "Basic c2ltQGFjbWUudGVzdDpzaW0tamlyYS10b2tlbg==";
const PAT: &str = "Bearer sim-jira-pat";
const OAUTH: &str = "Bearer sim-jira-oauth";

fn small() -> SimConfig {
    SimConfig::new(11, Scale::Small)
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn get(h: &SimHandle, auth: &str, path: &str) -> Resp {
    send(h.addr(), "GET", path, Some(auth), None).await
}

async fn get_ok(h: &SimHandle, auth: &str, path: &str) -> Value {
    let r = get(h, auth, path).await;
    assert_eq!(
        r.status,
        200,
        "{path}: {}",
        String::from_utf8_lossy(&r.body)
    );
    r.json()
}

/// Every issue of a Cloud search, following `nextPageToken`.
async fn cloud_search(h: &SimHandle, jql: &str, page: usize, extra: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut path = format!(
            "/rest/api/3/search/jql?jql={}&maxResults={page}{extra}",
            enc(jql)
        );
        if let Some(t) = &token {
            path.push_str(&format!("&nextPageToken={}", enc(t)));
        }
        let v = get_ok(h, BASIC, &path).await;
        assert!(v.get("total").is_none(), "Cloud search has no total");
        let issues = v["issues"].as_array().unwrap();
        assert!(issues.len() <= page);
        out.extend(issues.iter().cloned());
        if v["isLast"].as_bool().unwrap() {
            assert!(v.get("nextPageToken").is_none());
            return out;
        }
        token = Some(v["nextPageToken"].as_str().unwrap().to_string());
    }
}

/// Every issue of a Data Center search, following `startAt`.
async fn dc_search(h: &SimHandle, jql: &str, page: usize, extra: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let path = format!(
            "/rest/api/2/search?jql={}&startAt={}&maxResults={page}{extra}",
            enc(jql),
            out.len()
        );
        let v = get_ok(h, PAT, &path).await;
        let total = v["total"].as_u64().unwrap() as usize;
        let issues = v["issues"].as_array().unwrap();
        out.extend(issues.iter().cloned());
        if out.len() >= total || issues.is_empty() {
            assert_eq!(out.len(), total);
            return out;
        }
    }
}

fn keys(issues: &[Value]) -> Vec<String> {
    issues
        .iter()
        .map(|i| i["key"].as_str().unwrap().to_string())
        .collect()
}

async fn field_map(h: &SimHandle, v: u8) -> FieldMap {
    let auth = if v == 3 { BASIC } else { PAT };
    let f = get_ok(h, auth, &format!("/rest/api/{v}/field")).await;
    FieldMap::default().discover(&f).unwrap()
}

#[tokio::test]
async fn both_paging_flavours_return_every_visible_issue_once() {
    let h = spawn(small()).await.unwrap();
    let org = h.org().clone();
    let key = org.projects[0].key.clone();
    let now = h.now();
    let mut expected: Vec<String> = org
        .jira_issues_at(&key, now)
        .into_iter()
        .map(|(_, s)| s.key)
        .collect();
    expected.sort();
    assert!(expected.len() > 200, "{}", expected.len());
    let jql = format!("project = \"{key}\" ORDER BY key ASC");
    let cloud = cloud_search(&h, &jql, 100, "&fields=id,key").await;
    let dc = dc_search(&h, &jql, 37, "&fields=id,key").await;
    for got in [keys(&cloud), keys(&dc)] {
        let set: HashSet<&String> = got.iter().collect();
        assert_eq!(set.len(), got.len(), "no duplicates");
        let mut sorted = got.clone();
        sorted.sort();
        assert_eq!(sorted, expected);
    }
    // ORDER BY key ASC is numeric within a project.
    let nums: Vec<u64> = keys(&cloud)
        .iter()
        .filter(|k| k.starts_with(&format!("{key}-")))
        .map(|k| k.rsplit_once('-').unwrap().1.parse().unwrap())
        .collect();
    assert!(nums.windows(2).all(|w| w[0] < w[1]));
    // fields=id,key leaves the fields object empty.
    assert_eq!(cloud[0]["fields"], serde_json::json!({}));
    assert!(h.stats().jira_requests >= 2);
    assert_eq!(h.stats().requests, 0, "GitHub counters stay apart");
}

#[tokio::test]
async fn auth_kinds_and_errors() {
    let h = spawn(small()).await.unwrap();
    for good in [BASIC, PAT, OAUTH] {
        let r = get(&h, good, "/rest/api/3/myself").await;
        assert_eq!(r.status, 200, "{good}");
    }
    let me = get_ok(&h, BASIC, "/rest/api/3/myself").await;
    assert_eq!(me["emailAddress"], "sim@acme.test");
    assert!(me["accountId"].is_string());
    let me = get_ok(&h, PAT, "/rest/api/2/myself").await;
    assert!(me["key"].is_string());
    // Wrong Basic, wrong PAT, wrong OAuth token, the GitHub token, nothing.
    let wrong_basic = "Basic c2ltQGFjbWUudGVzdDp3cm9uZw=="; // sim@acme.test:wrong
    for bad in [
        wrong_basic,
        "Bearer wrong-pat",
        "Bearer wrong-oauth",
        "Bearer sim-token",
    ] {
        let r = get(&h, bad, "/rest/api/3/myself").await;
        assert_eq!(r.status, 401, "{bad}");
        assert_eq!(
            r.json()["errorMessages"][0],
            "You are not authenticated. Authentication required to perform this operation."
        );
    }
    let r = send(h.addr(), "GET", "/rest/api/2/myself", None, None).await;
    assert_eq!(r.status, 401);
    // Unknown project: 404 on /project, 400 in JQL; bad JQL: 400 with a message.
    let r = get(&h, BASIC, "/rest/api/3/project/XYZ").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json()["errorMessages"][0],
        "No project could be found with key 'XYZ'."
    );
    let key = &h.org().projects[0].key;
    let p = get_ok(&h, BASIC, &format!("/rest/api/3/project/{key}")).await;
    assert_eq!(p["key"], key.as_str());
    assert!(p["id"].as_str().unwrap().parse::<u64>().is_ok());
    for path in [
        format!("/rest/api/3/search/jql?jql={}", enc("project = \"XYZ\"")),
        format!("/rest/api/2/search?jql={}", enc("project in (\"XYZ\")")),
    ] {
        let r = get(&h, if path.contains("/3/") { OAUTH } else { PAT }, &path).await;
        assert_eq!(r.status, 400);
        assert_eq!(
            r.json()["errorMessages"][0],
            "The value 'XYZ' does not exist for the field 'project'."
        );
    }
    let r = get(
        &h,
        BASIC,
        &format!("/rest/api/3/search/jql?jql={}", enc("project = \"PAY")),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.json()["errorMessages"][0].as_str().unwrap().len() > 10);
    // The OAuth base URL serves the same routes.
    let r = get(&h, OAUTH, "/ex/jira/abc-123/rest/api/3/myself").await;
    assert_eq!(r.status, 200);
}
