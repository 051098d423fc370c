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
    // An id-only page may hold 1,000 issues; with any other field, or a changelog, 100.
    let path = |fields: &str| {
        format!(
            "/rest/api/2/search?jql={}&maxResults=5000&fields={fields}",
            enc(&jql)
        )
    };
    let ids = get_ok(&h, PAT, &path("id,key")).await;
    assert_eq!(ids["maxResults"], 1000);
    assert_eq!(
        ids["issues"].as_array().unwrap().len(),
        expected.len().min(1000)
    );
    let full = get_ok(&h, PAT, &path("id,key,status")).await;
    assert_eq!(full["maxResults"], 100);
    assert_eq!(full["issues"].as_array().unwrap().len(), 100);
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

/// Every history of an issue: the embedded ones, then the paged endpoint when capped.
async fn full_histories(h: &SimHandle, issue: &Value) -> Vec<Value> {
    let cl = &issue["changelog"];
    let total = cl["total"].as_u64().unwrap() as usize;
    let mut hs: Vec<Value> = cl["histories"].as_array().unwrap().clone();
    if hs.len() < total {
        let id = issue["id"].as_str().unwrap();
        hs.clear();
        loop {
            let v = get_ok(
                h,
                BASIC,
                &format!(
                    "/rest/api/3/issue/{id}/changelog?startAt={}&maxResults=100",
                    hs.len()
                ),
            )
            .await;
            assert_eq!(v["total"].as_u64().unwrap() as usize, total);
            hs.extend(v["values"].as_array().unwrap().iter().cloned());
            if v["isLast"].as_bool().unwrap() {
                break;
            }
        }
    }
    assert_eq!(hs.len(), total);
    hs
}

fn first_last(items: &[ChangelogItem]) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let in_progress = ["3", "10002", "10003", "10004"];
    let first = items
        .iter()
        .filter(|c| c.field == "status" && in_progress.contains(&c.to_value.as_deref().unwrap()))
        .filter_map(|c| c.created_at)
        .min();
    let last_done = items
        .iter()
        .filter(|c| c.field == "status" && c.to_value.as_deref() == Some("10001"))
        .filter_map(|c| c.created_at)
        .max();
    (first, last_done)
}

#[tokio::test]
async fn payloads_parse_and_changelogs_match_the_work_items() {
    let h = spawn(small()).await.unwrap();
    let org = h.org().clone();
    let now = h.now();
    let p = &org.projects[0];
    let key = p.key.clone();
    let items: HashMap<&str, _> = p.work_items().iter().map(|w| (w.key.as_str(), w)).collect();
    let long: HashSet<String> = p.jira().long_changelogs().map(|i| i.key.clone()).collect();
    assert!(!long.is_empty());

    // Metadata parses and field discovery finds different ids per flavour.
    let cloud_fields = field_map(&h, 3).await;
    let dc_fields = field_map(&h, 2).await;
    assert_eq!(
        cloud_fields.story_points.as_deref(),
        Some("customfield_10024")
    );
    assert_eq!(cloud_fields.sprint.as_deref(), Some("customfield_10020"));
    assert_eq!(cloud_fields.epic_link.as_deref(), Some("customfield_10014"));
    assert_eq!(dc_fields.story_points.as_deref(), Some("customfield_10106"));
    assert_ne!(dc_fields.sprint, cloud_fields.sprint);
    let statuses = get_ok(&h, BASIC, "/rest/api/3/status").await;
    let statuses: Vec<Status> = statuses
        .as_array()
        .unwrap()
        .iter()
        .map(|s| Status::from_json(s).unwrap())
        .collect();
    assert_eq!(statuses.len(), 6);
    assert!(
        statuses
            .iter()
            .any(|s| s.status_id == "3" && s.category_key.as_deref() == Some("indeterminate"))
    );

    let jql = format!(
        "project = \"{key}\" AND updated >= \"2000-01-01 00:00\" ORDER BY updated ASC, key ASC"
    );
    let cloud = cloud_search(&h, &jql, 100, "&fields=*all&expand=changelog").await;
    let dc = dc_search(&h, &jql, 100, "&fields=*all&expand=changelog").await;
    assert_eq!(keys(&cloud), keys(&dc), "same order in both flavours");
    // updated ASC really is ascending.
    let parsed: Vec<Issue> = cloud
        .iter()
        .map(|v| Issue::from_json(v, &cloud_fields).unwrap())
        .collect();
    assert!(
        parsed
            .windows(2)
            .all(|w| w[0].updated_at <= w[1].updated_at)
    );

    let mut checked = 0;
    let mut paged = 0;
    for (cv, dv) in cloud.iter().zip(&dc) {
        let ci = Issue::from_json(cv, &cloud_fields).unwrap();
        let di = Issue::from_json(dv, &dc_fields).unwrap();
        assert_eq!(ci.issue_id, di.issue_id);
        assert_eq!(ci.story_points, di.story_points);
        assert_eq!(ci.epic_key, di.epic_key);
        assert_eq!(ci.sprint_ids, di.sprint_ids);
        assert_eq!(ci.status, di.status);
        assert_eq!(ci.resolution_date, di.resolution_date);
        assert!(
            ci.assignee_account_id.is_none() || ci.assignee_account_id != di.assignee_account_id
        );
        // Data Center embeds everything; Cloud caps at 100.
        let dh = dv["changelog"]["histories"].as_array().unwrap();
        assert_eq!(dh.len() as i64, di.changelog_total.unwrap());
        let ch = cv["changelog"]["histories"].as_array().unwrap();
        assert!(ch.len() <= 100);
        if (ch.len() as i64) < ci.changelog_total.unwrap() {
            paged += 1;
            assert!(long.contains(&ci.issue_key));
        }
        let hs = full_histories(&h, cv).await;
        let all =
            ChangelogItem::from_histories(&ci.issue_id, &ci.issue_key, &Value::Array(hs)).unwrap();
        let dc_all = ChangelogItem::from_histories(
            &di.issue_id,
            &di.issue_key,
            &dv["changelog"]["histories"],
        )
        .unwrap();
        assert_eq!(all.len(), dc_all.len());
        let (first, last) = first_last(&all);
        assert_eq!(
            ci.updated_at,
            all.iter()
                .filter_map(|c| c.created_at)
                .max()
                .or(ci.created_at)
        );
        if let Some(w) = items.get(ci.issue_key.as_str()) {
            // As of the clock: later transitions are not visible yet.
            let started = w.started_at.filter(|t| *t <= now);
            let done = w.done_at.filter(|t| *t <= now);
            assert_eq!(first, started, "{}", ci.issue_key);
            assert_eq!(last, done, "{}", ci.issue_key);
            if w.started_at.is_some() {
                assert_eq!(
                    ci.story_points,
                    w.story_points.map(f64::from),
                    "{}",
                    ci.issue_key
                );
            }
            assert_eq!(ci.issue_type.as_deref(), Some(w.issue_type));
            if done.is_some() {
                assert_eq!(ci.status_category.as_deref(), Some("done"));
                assert_eq!(ci.resolution_date, w.done_at);
            }
            checked += 1;
        }
    }
    assert!(checked > 200, "{checked}");
    assert_eq!(
        paged,
        long.len(),
        "every long changelog needed the paged endpoint"
    );
    assert!(
        parsed
            .iter()
            .any(|i| i.issue_type.as_deref() == Some("Epic"))
    );
    assert!(parsed.iter().any(|i| i.epic_key.is_some()));
    // Identity matching: hidden e-mails on Cloud, and corporate ones that differ from git's.
    assert!(
        parsed
            .iter()
            .any(|i| i.assignee_email.is_none() && i.assignee_account_id.is_some())
    );
    let git: HashSet<&str> = org.people.iter().map(|p| p.email.as_str()).collect();
    assert!(
        parsed
            .iter()
            .any(|i| i.assignee_email.as_deref().is_some_and(|e| git.contains(e)))
    );
    assert!(parsed.iter().any(|i| {
        i.assignee_email
            .as_deref()
            .is_some_and(|e| !git.contains(e))
    }));
    let users: HashMap<String, _> = (0..org.people.len())
        .map(|i| (org.jira_user(i).account_id, org.jira_user(i)))
        .collect();
    for i in &parsed {
        if let Some(a) = &i.assignee_account_id {
            let u = &users[a];
            assert_eq!(i.assignee_email, u.cloud_email);
            assert_eq!(i.assignee_name.as_deref(), Some(u.display_name.as_str()));
        }
    }
}

#[tokio::test]
async fn snapshots_follow_the_clock() {
    let cfg = SimConfig {
        clock_start: Some(flowlake_sim::timeline_end() - Duration::days(20)),
        ..small()
    };
    let h = spawn(cfg).await.unwrap();
    let org = h.org().clone();
    let key = org.projects[0].key.clone();
    let t0 = h.now();
    let jql = format!("project = \"{key}\" ORDER BY key ASC");
    let before = keys(&cloud_search(&h, &jql, 100, "&fields=id,key").await);
    h.advance(24.0 * 10.0);
    let t1 = h.now();
    let after = keys(&cloud_search(&h, &jql, 100, "&fields=id,key").await);
    assert!(
        after.len() > before.len(),
        "{} vs {}",
        after.len(),
        before.len()
    );
    // The incremental query returns exactly the issues changed since t0.
    let since = t0.format("%Y-%m-%d %H:%M").to_string();
    let jql =
        format!("project = \"{key}\" AND updated >= \"{since}\" ORDER BY updated ASC, key ASC");
    let changed = cloud_search(&h, &jql, 50, "&fields=updated,created&expand=changelog").await;
    let mut expected: Vec<String> = org
        .jira_issues_at(&key, t1)
        .into_iter()
        .filter(|(_, s)| s.updated >= t0 - Duration::seconds(59))
        .map(|(_, s)| s.key)
        .collect();
    expected.sort();
    let mut got = keys(&changed);
    got.sort();
    assert_eq!(got, expected);
    for v in &changed {
        let upd = v["fields"]["updated"].as_str().unwrap();
        let upd = flowlake_model::time::parse_ts(upd).unwrap();
        assert!(upd <= t1 && upd >= t0 - Duration::seconds(59));
        // Nothing after the clock is shown.
        for hst in v["changelog"]["histories"].as_array().unwrap() {
            let at = flowlake_model::time::parse_ts(hst["created"].as_str().unwrap()).unwrap();
            assert!(at <= t1);
        }
    }
    let new: Vec<&String> = after.iter().filter(|k| !before.contains(k)).collect();
    assert!(!new.is_empty());
}

#[tokio::test]
async fn deleted_issues_404_and_moved_issues_answer_with_the_new_key() {
    let cfg = SimConfig {
        clock_start: Some(flowlake_sim::timeline_end() - Duration::days(400)),
        ..small()
    };
    let h = spawn(cfg).await.unwrap();
    let org = h.org().clone();
    let data = org.projects[0].jira();
    let del = data
        .deleted()
        .min_by_key(|i| i.deleted_at)
        .expect("a deleted issue");
    let mv = data
        .moved()
        .min_by_key(|i| i.moved.as_ref().map(|m| m.at))
        .expect("a moved issue");
    let m = mv.moved.clone().unwrap();

    // Walk the clock: before creation 404, while alive 200, after deletion 404.
    let at = |t: DateTime<Utc>| (t - h.now()).num_seconds() as f64 / 3600.0;
    let path = format!("/rest/api/3/issue/{}?fields=id,key,project", del.key);
    assert_eq!(get(&h, BASIC, &path).await.status, 404);
    h.advance(at(del.created_at + Duration::seconds(1)));
    let v = get_ok(&h, BASIC, &path).await;
    assert_eq!(v["key"], del.key.as_str());
    assert_eq!(v["id"], del.id.to_string());
    h.advance(at(del.deleted_at.unwrap()));
    let r = get(&h, PAT, &path.replace("/3/", "/2/")).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json()["errorMessages"][0],
        "Issue does not exist or you do not have permission to see it."
    );
    let by_id = get(&h, BASIC, &format!("/rest/api/3/issue/{}", del.id)).await;
    assert_eq!(by_id.status, 404);

    // A move: the old key answers with the new key; search finds it in the new project.
    if h.now() < mv.created_at {
        h.advance(at(mv.created_at + Duration::seconds(1)));
    }
    if h.now() < m.at {
        let v = get_ok(&h, BASIC, &format!("/rest/api/3/issue/{}", mv.key)).await;
        assert_eq!(v["key"], mv.key.as_str());
        assert_eq!(
            get(&h, BASIC, &format!("/rest/api/3/issue/{}", m.to_key))
                .await
                .status,
            404
        );
        h.advance(at(m.at));
    }
    let cf = field_map(&h, 3).await;
    for id in [mv.key.clone(), mv.id.to_string(), m.to_key.clone()] {
        let v = get_ok(
            &h,
            BASIC,
            &format!("/rest/api/3/issue/{id}?fields=id,key,project&expand=changelog"),
        )
        .await;
        let i = Issue::from_json(&v, &cf).unwrap();
        assert_eq!(i.issue_key, m.to_key);
        assert_eq!(i.project_key, m.to_project);
        assert_eq!(i.issue_id, mv.id.to_string());
        let items =
            ChangelogItem::from_histories(&i.issue_id, &i.issue_key, &v["changelog"]["histories"])
                .unwrap();
        assert!(items.iter().any(|c| c.field == "Key"
            && c.from_string.as_deref() == Some(mv.key.as_str())
            && c.to_string.as_deref() == Some(m.to_key.as_str())));
        assert!(items.iter().any(|c| c.field == "project"));
    }
    let old_project = keys(
        &cloud_search(
            &h,
            &format!("project = \"{}\"", mv.project),
            100,
            "&fields=id,key",
        )
        .await,
    );
    let new_project = keys(
        &cloud_search(
            &h,
            &format!("project = \"{}\"", m.to_project),
            100,
            "&fields=id,key",
        )
        .await,
    );
    assert!(!old_project.contains(&mv.key));
    assert!(new_project.contains(&m.to_key));
}

#[tokio::test]
async fn sprints_and_boards_are_consistent_with_the_issues() {
    let h = spawn(small()).await.unwrap();
    let org = h.org().clone();
    let p = &org.projects[0];
    let now = h.now();
    let boards = get_ok(
        &h,
        BASIC,
        &format!("/rest/agile/1.0/board?projectKeyOrId={}", p.key),
    )
    .await;
    assert_eq!(boards["total"], 1);
    let board = Board::from_json(&p.key, &boards["values"][0]).unwrap();
    assert_eq!(board.board_type.as_deref(), Some("scrum"));
    // Small pages: every sprint exactly once.
    let mut sprints = Vec::new();
    loop {
        let v = get_ok(
            &h,
            PAT,
            &format!(
                "/rest/agile/1.0/board/{}/sprint?startAt={}&maxResults=7",
                board.board_id,
                sprints.len()
            ),
        )
        .await;
        for s in v["values"].as_array().unwrap() {
            sprints.push(Sprint::from_json(board.board_id, s).unwrap());
        }
        if v["isLast"].as_bool().unwrap() {
            break;
        }
    }
    let expected = p
        .jira()
        .sprints
        .iter()
        .filter(|s| s.visible_at(now))
        .count();
    assert_eq!(sprints.len(), expected);
    assert!(sprints.len() > 20);
    assert_eq!(
        sprints
            .iter()
            .filter(|s| s.state.as_deref() == Some("active"))
            .count(),
        1
    );
    assert!(
        sprints
            .iter()
            .filter(|s| s.state.as_deref() == Some("closed"))
            .all(|s| s.complete_date.is_some())
    );
    let ids: HashSet<i64> = sprints.iter().map(|s| s.sprint_id).collect();

    // Scope changes recorded in the changelog: committed, added mid-sprint, removed, carried.
    let by_id: HashMap<u64, _> = p.jira().sprints.iter().map(|s| (s.id, s)).collect();
    let (mut committed, mut added, mut removed, mut carried) = (0, 0, 0, 0);
    for i in &p.jira().issues {
        for hst in i.histories_at(now) {
            for c in &hst.changes {
                if let Change::Sprint { from, to } = c {
                    assert!(to.iter().chain(from).all(|id| ids.contains(&(*id as i64))));
                    if to.len() > from.len() {
                        let new = by_id[to.last().unwrap()];
                        if from.is_empty() && hst.at == new.start {
                            committed += 1;
                        } else if from.is_empty() {
                            assert!(hst.at > new.start && hst.at < new.complete);
                            added += 1;
                        } else {
                            assert_eq!(hst.at, by_id[from.last().unwrap()].complete);
                            carried += 1;
                        }
                    } else {
                        let gone = by_id[from.last().unwrap()];
                        assert!(hst.at > gone.start && hst.at < gone.end);
                        removed += 1;
                    }
                }
            }
        }
    }
    assert!(
        committed > 50 && added > 10 && removed > 0 && carried > 10,
        "{committed} {added} {removed} {carried}"
    );
    // The issue's sprint field lists the sprints of its last Sprint change.
    let cf = field_map(&h, 3).await;
    let v = cloud_search(&h, &format!("project = \"{}\"", p.key), 100, "&fields=*all").await;
    let with_sprints = v
        .iter()
        .map(|x| Issue::from_json(x, &cf).unwrap())
        .filter(|i| i.sprint_ids.is_some())
        .count();
    assert!(with_sprints > 100);
    // The incident project's board is kanban.
    let ops = get_ok(&h, BASIC, "/rest/agile/1.0/board?projectKeyOrId=OPS").await;
    let ops_id = ops["values"][0]["id"].as_u64().unwrap();
    assert_eq!(ops["values"][0]["type"], "kanban");
    let r = get(&h, BASIC, &format!("/rest/agile/1.0/board/{ops_id}/sprint")).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn incidents_mirror_the_github_incidents() {
    let h = spawn(small()).await.unwrap();
    let org = h.org().clone();
    let now = h.now();
    let cf = field_map(&h, 3).await;
    let jql = "project = \"OPS\" AND issuetype = \"Incident\" AND updated >= \"2000-01-01 00:00\" ORDER BY updated ASC, key ASC";
    let v = cloud_search(&h, jql, 100, "&fields=*all").await;
    let incidents: Vec<Issue> = v
        .iter()
        .map(|x| Issue::from_json(x, &cf).unwrap())
        .collect();
    let github: usize = org
        .repos
        .iter()
        .map(|r| r.data().incidents().filter(|i| i.created_at <= now).count())
        .sum();
    assert!(github > 0);
    assert_eq!(incidents.len(), github);
    let repos: HashSet<&str> = org.repos.iter().map(|r| r.name.as_str()).collect();
    for i in &incidents {
        assert_eq!(i.issue_type.as_deref(), Some("Incident"));
        assert!(repos.contains(i.components.as_deref().unwrap()));
        assert!(i.priority.is_some());
    }
    assert!(incidents.iter().any(|i| i.resolution_date.is_some()));
    let _ = JiraStatus::Done;
}

#[tokio::test]
async fn faults_and_rate_limits_apply_to_jira() {
    let h = spawn(SimConfig {
        faults: 1.0,
        retry_after_secs: 2,
        ..small()
    })
    .await
    .unwrap();
    let mut seen = HashSet::new();
    for _ in 0..40 {
        let r = get(&h, BASIC, "/rest/api/3/status").await;
        if r.status == 429 {
            assert_eq!(r.header("retry-after"), Some("2"));
        }
        seen.insert(r.status);
    }
    assert!(
        seen.contains(&429) && (seen.contains(&502) || seen.contains(&503)),
        "{seen:?}"
    );
    let s = h.stats();
    assert_eq!(s.faults_injected, 40);
    assert_eq!(s.jira_requests, 40);
    assert_eq!(s.by_route.get("jira:status"), Some(&40));

    let h = spawn(SimConfig {
        rate_limit_per_hour: 3,
        ..small()
    })
    .await
    .unwrap();
    for _ in 0..3 {
        assert_eq!(get(&h, PAT, "/rest/api/2/myself").await.status, 200);
    }
    let r = get(&h, PAT, "/rest/api/2/myself").await;
    assert_eq!(r.status, 429);
    assert!(r.header_u64("retry-after") >= 1);
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
}
