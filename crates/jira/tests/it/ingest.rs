//! Healthy runs on Cloud and Data Center: a full run, then an incremental one after the
//! simulated clock moved on (issues updated, one deleted, one moved), checked against the
//! site's truth.

use flowlake_jira::Flavor;
use flowlake_model::Entity;

use crate::common::*;

/// The issue of PAY with 145 changelog histories (more than Cloud embeds in a search).
const LONG: &str = "100202";
/// Deleted on 2026-06-20.
const DELETED: &str = "101019";
/// Created after t0, moves from PAY to PLAT on 2026-08-08.
const MOVED: &str = "101199";

#[tokio::test]
async fn cloud_full_then_incremental_with_tombstones() {
    let sim = spawn(sim_config()).await;
    let t = temp_lake();
    let mut cfg = config(&sim, Flavor::Cloud, &["PAY"]);
    cfg.incidents.projects = vec!["OPS".into()];

    let first = ingest(&t.lake, &sim, cfg.clone(), "run-1").await;
    let report = first.report();
    assert_eq!(report.projects, 2);
    assert_eq!(report.tombstones, 0);
    assert_issues_match_truth(&t.lake, &["PAY"], &["OPS"], t0()).await;
    // Cloud: story points and sprints sit in the site's own custom fields.
    assert_eq!(
        report.fields.story_points.as_deref(),
        Some("customfield_10024")
    );
    assert_eq!(report.fields.sprint.as_deref(), Some("customfield_10020"));

    // The long changelog is complete: its status changes lie past the first 100 entries.
    let hist = histories(&t.lake).await;
    assert_eq!(hist[LONG].len(), 145, "every history of PAY-202");
    assert!(first.spend.changelog_pages >= 1);
    let org = org();
    let long_statuses = rows(&t.lake, Entity::JiraChangelogItems)
        .await
        .into_iter()
        .filter(|r| r["issue_id"] == LONG && r["field"] == "status")
        .count();
    let truth = org
        .jira_issue_by_id(LONG.parse().unwrap())
        .unwrap()
        .histories
        .iter()
        .flat_map(|h| &h.changes)
        .filter(|c| matches!(c, flowlake_sim::jira::Change::Status { .. }))
        .count();
    assert!(truth > 0);
    assert_eq!(long_statuses, truth, "status items of PAY-202");

    // Full-run cost: about one search page per 100 issues, plus the id scan.
    let n_pay = org.jira_issues_at("PAY", t0()).len() as u64;
    let pages_pay = n_pay.div_ceil(100);
    assert!(
        first.spend.search_pages <= 2 * pages_pay + 4,
        "{} search pages for {n_pay} issues",
        first.spend.search_pages
    );

    assert!(
        first.pages as u64 >= pages_pay,
        "progress reported per page"
    );

    // State: the watermark is the newest `updated` and every known id is there.
    let st = state(&t.lake, "PAY").await.expect("PAY state");
    assert_eq!(st.run_id.as_deref(), Some("run-1"));
    assert_eq!(st.known_issues.len() as u64, n_pay);
    let newest = org
        .jira_issues_at("PAY", t0())
        .iter()
        .map(|(_, s)| s.updated)
        .max()
        .unwrap();
    assert_eq!(
        st.watermark.map(|w| w.timestamp()),
        Some(newest.timestamp())
    );
    let ops_state = state(&t.lake, "OPS__incidents").await.expect("OPS state");
    assert_eq!(
        st.known_issues.get(DELETED).map(String::as_str),
        Some("PAY-1019")
    );

    // Boards, sprints (closed, active and future ones visible at t0) and statuses.
    let snap = snapshot(&t.lake).await;
    let boards: Vec<_> = snap["boards"].values().collect();
    assert_eq!(boards.len(), 1);
    assert_eq!(boards[0]["board_type"], "scrum");
    let pay = org.jira_data("PAY").unwrap();
    let sprints_visible = pay.sprints.iter().filter(|s| s.visible_at(t0())).count();
    assert_eq!(snap["sprints"].len(), sprints_visible);
    assert!(snap["statuses"].len() >= 3);

    // Just before PAY-1199 moves (and after PAY-1019 was deleted): an incremental run
    // fetches only what changed, and tombstones the deleted issue.
    let moved = org.jira_issue_by_id(MOVED.parse().unwrap()).unwrap();
    let move_at = moved.moved.as_ref().unwrap().at;
    let t_mid = move_at - chrono::Duration::days(1);
    assert!(moved.created_at < t_mid && t0() < t_mid);
    let t_mid = sim.advance((t_mid - t0()).num_seconds() as f64 / 3600.0);
    let second = ingest(&t.lake, &sim, cfg.clone(), "run-2").await;
    let report = second.report();
    assert_issues_match_truth(&t.lake, &["PAY"], &["OPS"], t_mid).await;
    // JQL's `updated >= "yyyy-MM-dd HH:mm"`: the watermark minus 10 minutes, floored to the
    // minute.
    let from = |w: chrono::DateTime<chrono::Utc>| {
        let f = w - chrono::Duration::minutes(10);
        f - chrono::Duration::seconds(f.timestamp().rem_euclid(60))
    };
    let ops_watermark = ops_state.watermark.unwrap();
    let changed_ops = org
        .jira_issues_at("OPS", t_mid)
        .iter()
        .filter(|(_, s)| s.updated >= from(ops_watermark))
        .count() as u64;
    let changed = org
        .jira_issues_at("PAY", t_mid)
        .iter()
        .filter(|(_, s)| s.updated >= from(newest))
        .count() as u64;
    assert!(changed < n_pay / 2, "{changed} of {n_pay} changed");
    let got = report.rows["issues"];
    assert_eq!(
        got,
        changed + changed_ops + 1,
        "the incremental run writes the issues updated since the watermark (minus the overlap) and one tombstone"
    );
    assert_eq!(report.tombstones, 1);
    let all = issues(&t.lake).await;
    let d = &all[DELETED];
    assert_eq!(d["deleted_reason"], "deleted");
    assert_eq!(ts(d, "deleted_at"), Some(t_mid));
    assert_eq!(d["issue_key"], "PAY-1019");
    assert_eq!(d["project_key"], "PAY");
    assert_eq!(all[MOVED]["deleted_at"], "NULL");
    let st = state(&t.lake, "PAY").await.unwrap();
    assert!(!st.known_issues.contains_key(DELETED));
    assert!(st.known_issues.contains_key(MOVED));

    // After the move to PLAT (not configured): a `moved_out_of_scope` tombstone.
    let t1 = sim.advance(48.0);
    assert!(t1 > move_at);
    let third = ingest(&t.lake, &sim, cfg.clone(), "run-3").await;
    assert_eq!(third.report().tombstones, 1);
    assert_eq!(third.spend.issue_lookups, 1);
    assert_issues_match_truth(&t.lake, &["PAY"], &["OPS"], t1).await;
    let all = issues(&t.lake).await;
    let m = &all[MOVED];
    assert_eq!(m["deleted_reason"], "moved_out_of_scope");
    assert_eq!(m["issue_key"], "PAY-1199");
    assert_eq!(ts(m, "deleted_at"), Some(t1));
    let st = state(&t.lake, "PAY").await.unwrap();
    assert!(!st.known_issues.contains_key(MOVED));
    assert_eq!(st.run_id.as_deref(), Some("run-3"));

    // A third run with nothing new: a handful of requests and no new tombstone.
    let fourth = ingest(&t.lake, &sim, cfg, "run-4").await;
    assert_eq!(fourth.report().tombstones, 0);
    assert_eq!(fourth.spend.issue_lookups, 0);
    // One search page per scope, and the id scans (100 ids a page).
    let scan_pages = (org.jira_issues_at("PAY", t1).len() as u64).div_ceil(100) + 1;
    assert!(
        fourth.spend.search_pages <= 2 + scan_pages,
        "{:?}",
        fourth.spend
    );
    assert_issues_match_truth(&t.lake, &["PAY"], &["OPS"], t1).await;
    assert_no_secret(t.dir.path(), "");
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn data_center_full_then_incremental_follows_moves() {
    let sim = spawn(sim_config()).await;
    let t = temp_lake();
    let mut cfg = config(&sim, Flavor::DataCenter, &["PAY", "PLAT"]);
    cfg.page_size = 50;

    let first = ingest(&t.lake, &sim, cfg.clone(), "run-1").await;
    let report = first.report();
    assert_issues_match_truth(&t.lake, &["PAY", "PLAT"], &[], t0()).await;
    assert_eq!(
        report.fields.story_points.as_deref(),
        Some("customfield_10106")
    );
    // Data Center returns whole changelogs in the search.
    assert_eq!(first.spend.changelog_pages, 0);
    assert_eq!(histories(&t.lake).await[LONG].len(), 145);
    // Sprint strings parse into sprint ids.
    let all = issues(&t.lake).await;
    assert!(all.values().any(|r| r["sprint_id"] != "NULL"));
    assert_eq!(snapshot(&t.lake).await["boards"].len(), 2);

    let t1 = sim.advance(TO_T1_HOURS);
    let second = ingest(&t.lake, &sim, cfg, "run-2").await;
    assert_issues_match_truth(&t.lake, &["PAY", "PLAT"], &[], t1).await;
    // The move stays in scope: no tombstone, the issue lives on under its new key.
    assert_eq!(second.report().tombstones, 1);
    let all = issues(&t.lake).await;
    assert_eq!(all[DELETED]["deleted_reason"], "deleted");
    assert_eq!(all[MOVED]["deleted_at"], "NULL");
    assert_eq!(all[MOVED]["issue_key"], "PLAT-51199");
    assert_eq!(all[MOVED]["project_key"], "PLAT");
    let pay = state(&t.lake, "PAY").await.unwrap();
    let plat = state(&t.lake, "PLAT").await.unwrap();
    assert!(!pay.known_issues.contains_key(MOVED));
    assert_eq!(
        plat.known_issues.get(MOVED).map(String::as_str),
        Some("PLAT-51199")
    );
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn oauth_bearer_under_the_ex_jira_base_url() {
    let sim = spawn(sim_config()).await;
    let t = temp_lake();
    let mut cfg = config(&sim, Flavor::Cloud, &[]);
    cfg.base_url = format!(
        "{}/ex/jira/11223344-a1b2-3b33-c444-def123456789",
        sim.base_url()
    );
    cfg.auth = flowlake_jira::Auth::OAuth(flowlake_jira::Secret::new(
        sim.config().jira_oauth_token.clone(),
    ));
    cfg.incidents.projects = vec!["OPS".into()];
    let out = ingest(&t.lake, &sim, cfg, "run-1").await;
    out.report();
    assert_issues_match_truth(&t.lake, &[], &["OPS"], t0()).await;
    // An incident-only project brings its incidents, not its boards.
    assert_eq!(out.spend.agile_pages, 0);
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn flush_rows_bound_the_buffer_without_changing_the_lake() {
    let sim = spawn(sim_config()).await;
    let whole = temp_lake();
    let out = ingest(
        &whole.lake,
        &sim,
        config(&sim, Flavor::Cloud, &["PAY"]),
        "run-1",
    )
    .await;
    out.report();
    let issue_files = |files: &[String]| {
        files
            .iter()
            .filter(|f| f.starts_with("raw/jira/issues/"))
            .cloned()
            .collect::<Vec<_>>()
    };
    // With the default 20,000 rows the search fits one file (tombstones would add one).
    assert_eq!(issue_files(&out.files).len(), 1);

    let small = temp_lake();
    let mut cfg = config(&sim, Flavor::Cloud, &["PAY"]);
    cfg.flush_rows = 500;
    let out = ingest(&small.lake, &sim, cfg, "run-1").await;
    out.report();
    let files = issue_files(&out.files);
    assert!(files.len() >= 5, "{} issue files", files.len());
    for f in &files {
        let n: usize = small
            .lake
            .read_parquet(f)
            .await
            .unwrap()
            .iter()
            .map(|b| b.num_rows())
            .sum();
        // At most one page of 100 issues past the threshold.
        assert!(n <= 500 + 100, "{f}: {n} rows");
    }
    assert!(snapshot(&whole.lake).await == snapshot(&small.lake).await);
    sim.shutdown().await.unwrap();
}
