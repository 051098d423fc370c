//! DevLake's recorded Jira payloads (a Jira Cloud site, Agile API issue search with
//! `expand=changelog`), parsed by `flowlake_model::jira`, checked against DevLake's extraction.
//!
//! Mapping notes:
//! - Story points live in `customfield_10024` on that site; DevLake reads the same field.
//! - DevLake stores times in UTC; the payloads carry `+0800` offsets: compared as instants.
//! - Changelog items: DevLake keys them by (history id, field), so when one history changes a
//!   field twice (two fix versions added at once) it keeps one row and loses the other; we
//!   keep both (with an item index). Every DevLake row must be one of ours, and each of ours
//!   that DevLake lacks must share its (history id, field) with a DevLake row.
//! - Statuses: DevLake keeps 36 of the 53 statuses the site listed; each of those must match.
//! - Sprint membership: DevLake's `_tool_jira_sprint_issues` lists, per sprint, the issues whose
//!   sprint field names it: our `sprint_ids` must list the same sprints.

use std::collections::{BTreeMap, BTreeSet};

use flowlake_model::jira::{ChangelogItem, FieldMap, Issue, Sprint, Status};
use serde_json::Value;

use crate::devlake::{int, opt, raw_rows, read_csv, snapshot_connection, ts};

const JIRA: &str = "jira/e2e";

fn snapshot(table: &str) -> Vec<crate::devlake::Row> {
    read_csv(&format!("{JIRA}/snapshot_tables/{table}.csv"))
}

fn fields() -> FieldMap {
    FieldMap {
        story_points: Some("customfield_10024".into()),
        sprint: Some("customfield_10020".into()),
        epic_link: Some("customfield_10014".into()),
    }
}

fn issues(conn: i64) -> Vec<(Value, Issue)> {
    raw_rows(
        &format!("{JIRA}/raw_tables/_raw_jira_api_issues.csv"),
        conn,
        3,
    )
    .into_iter()
    .map(|(d, _)| {
        let issue = Issue::from_json(&d, &fields()).expect("every recorded issue parses");
        (d, issue)
    })
    .collect()
}

#[test]
fn issues_match_devlake_snapshot() {
    let snap = snapshot("_tool_jira_issues");
    let conn = snapshot_connection(&snap);
    let ours: BTreeMap<String, Issue> = issues(conn)
        .into_iter()
        .map(|(_, i)| (i.issue_id.clone(), i))
        .collect();
    let expected: BTreeSet<String> = snap.iter().map(|r| r["issue_id"].clone()).collect();
    assert_eq!(ours.keys().cloned().collect::<BTreeSet<_>>(), expected);
    let mut with_points = 0;
    let dl_with_points = snap
        .iter()
        .filter(|r| r["story_point"].parse::<f64>().unwrap() != 0.0)
        .count();
    for r in &snap {
        let i = &ours[&r["issue_id"]];
        let id = &r["issue_key"];
        assert_eq!(&i.issue_key, id);
        assert_eq!(
            i.issue_type.as_deref(),
            Some(r["type"].as_str()),
            "{id} type"
        );
        assert_eq!(
            i.status.as_deref(),
            Some(r["status_name"].as_str()),
            "{id} status"
        );
        assert_eq!(i.created_at, ts(&r["created"]), "{id} created");
        assert_eq!(i.updated_at, ts(&r["updated"]), "{id} updated");
        assert_eq!(
            i.resolution_date,
            ts(&r["resolution_date"]),
            "{id} resolution"
        );
        assert_eq!(i.priority, opt(&r["priority_name"]), "{id} priority");
        assert_eq!(
            i.assignee_account_id,
            opt(&r["assignee_account_id"]),
            "{id} assignee"
        );
        assert_eq!(
            i.assignee_name,
            opt(&r["assignee_display_name"]),
            "{id} assignee name"
        );
        // DevLake writes 0 when the field is absent; a recorded value must match exactly.
        let dl_points: f64 = r["story_point"].parse().expect("numeric story_point");
        match i.story_points {
            Some(p) => {
                with_points += 1;
                assert_eq!(p, dl_points, "{id} story points");
            }
            None => assert_eq!(dl_points, 0.0, "{id} story points absent"),
        }
        assert_eq!(i.epic_key, opt(&r["epic_key"]), "{id} epic");
        assert_eq!(i.parent_key, opt(&r["parent_key"]), "{id} parent");
        assert_eq!(
            i.changelog_total,
            Some(int(&r["changelog_total"])),
            "{id} changelog total"
        );
    }
    assert_eq!(
        ours.values()
            .filter(|i| i.story_points.is_some_and(|p| p != 0.0))
            .count(),
        dl_with_points
    );
    assert!(
        with_points >= 2,
        "story points found on {with_points} issues"
    );
}

#[test]
fn embedded_changelogs_match_devlake_items() {
    let snap = snapshot("_tool_jira_issue_changelog_items");
    let conn = snapshot_connection(&snap);
    type Item = (String, String, String, String, String, String, String);
    let key = |c: &str, f: &str, fid: &str, fv: &str, fs: &str, tv: &str, ts: &str| -> Item {
        (
            c.into(),
            f.into(),
            fid.into(),
            fv.into(),
            fs.into(),
            tv.into(),
            ts.into(),
        )
    };
    let mut ours: Vec<Item> = Vec::new();
    let mut statuses = 0;
    for (d, issue) in issues(conn) {
        let histories = d
            .pointer("/changelog/histories")
            .expect("embedded changelog");
        let items = ChangelogItem::from_histories(&issue.issue_id, &issue.issue_key, histories)
            .expect("every recorded changelog parses");
        for it in items {
            statuses += usize::from(it.field == "status");
            assert!(it.created_at.is_some(), "{} has a time", it.changelog_id);
            let o = |v: &Option<String>| v.clone().unwrap_or_default();
            ours.push(key(
                &it.changelog_id,
                &it.field,
                &o(&it.field_id),
                &o(&it.from_value),
                &o(&it.from_string),
                &o(&it.to_value),
                &o(&it.to_string),
            ));
        }
    }
    let mut expected: Vec<Item> = snap
        .iter()
        .map(|r| {
            key(
                &r["changelog_id"],
                &r["field"],
                &r["field_id"],
                &r["from_value"],
                &r["from_string"],
                &r["to_value"],
                &r["to_string"],
            )
        })
        .collect();
    ours.sort();
    expected.sort();
    let mut remaining = ours.clone();
    for e in &expected {
        let at = remaining
            .iter()
            .position(|o| o == e)
            .unwrap_or_else(|| panic!("DevLake row {e:?} is not among ours"));
        remaining.remove(at);
    }
    let dl_keys: BTreeSet<(String, String)> = expected
        .iter()
        .map(|e| (e.0.clone(), e.1.clone()))
        .collect();
    for extra in &remaining {
        assert!(
            dl_keys.contains(&(extra.0.clone(), extra.1.clone())),
            "{extra:?}: an item DevLake has no row for"
        );
    }
    assert_eq!(
        remaining.len(),
        20,
        "the fix-version pairs DevLake's key collapses"
    );
    assert!(statuses > 10, "{statuses} status transitions");
}

#[test]
fn changelog_times_and_authors_match_devlake() {
    let snap = snapshot("_tool_jira_issue_changelogs");
    let conn = snapshot_connection(&snap);
    let mut ours = BTreeMap::new();
    for (d, issue) in issues(conn) {
        let histories = d.pointer("/changelog/histories").unwrap();
        for it in
            ChangelogItem::from_histories(&issue.issue_id, &issue.issue_key, histories).unwrap()
        {
            ours.insert(it.changelog_id.clone(), (it.issue_id, it.created_at));
        }
    }
    let mut checked = 0;
    for r in &snap {
        if let Some((issue_id, created)) = ours.get(&r["changelog_id"]) {
            assert_eq!(issue_id, &r["issue_id"], "changelog {}", r["changelog_id"]);
            assert_eq!(
                *created,
                ts(&r["created"]),
                "changelog {}",
                r["changelog_id"]
            );
            checked += 1;
        }
    }
    // Histories without a field DevLake keeps still have a changelog row: every one of ours
    // with items is in the snapshot.
    assert!(
        checked >= ours.len().min(snap.len()) * 9 / 10,
        "{checked} of {}",
        ours.len()
    );
}

#[test]
fn sprints_and_membership_match_devlake() {
    let snap = snapshot("_tool_jira_sprints");
    let conn = snapshot_connection(&snap);
    let ours: BTreeMap<i64, Sprint> = raw_rows(
        &format!("{JIRA}/raw_tables/_raw_jira_api_sprints.csv"),
        conn,
        3,
    )
    .iter()
    .map(|(d, _)| {
        let s = Sprint::from_json(8, d).expect("every recorded sprint parses");
        (s.sprint_id, s)
    })
    .collect();
    assert_eq!(ours.len(), snap.len());
    for r in &snap {
        let s = &ours[&int(&r["sprint_id"])];
        assert_eq!(s.name, opt(&r["name"]));
        assert_eq!(s.state, opt(&r["state"]));
        assert_eq!(s.start_date, ts(&r["start_date"]));
        assert_eq!(s.end_date, ts(&r["end_date"]));
        assert_eq!(s.complete_date, ts(&r["complete_date"]));
        assert_eq!(s.origin_board_id, Some(int(&r["origin_board_id"])));
    }
    let members = snapshot("_tool_jira_sprint_issues");
    let conn = snapshot_connection(&members);
    let expected: BTreeSet<(i64, String)> = members
        .iter()
        .map(|r| (int(&r["sprint_id"]), r["issue_id"].clone()))
        .collect();
    let ours: BTreeSet<(i64, String)> = issues(conn)
        .into_iter()
        .flat_map(|(_, i)| {
            let id = i.issue_id.clone();
            i.sprint_ids
                .unwrap_or_default()
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| (s.parse::<i64>().unwrap(), id.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(ours, expected);
}

#[test]
fn statuses_parse_with_their_category() {
    let snap = snapshot("_tool_jira_statuses");
    let conn = snapshot_connection(&snap);
    let ours: BTreeMap<String, Status> = raw_rows(
        &format!("{JIRA}/raw_tables/_raw_jira_api_status.csv"),
        conn,
        3,
    )
    .iter()
    .map(|(d, _)| {
        let s = Status::from_json(d).expect("every recorded status parses");
        (s.status_id.clone(), s)
    })
    .collect();
    assert_eq!(ours.len(), 53);
    for r in &snap {
        let s = &ours[&r["id"]];
        assert_eq!(s.name, opt(&r["name"]));
        assert_eq!(
            s.category_key.as_deref(),
            Some(r["status_category"].as_str()).map(|c| match c {
                "TO-DO" | "new" => "new",
                "IN-PROGRESS" | "indeterminate" => "indeterminate",
                "DONE" | "done" => "done",
                other => other,
            })
        );
    }
}
