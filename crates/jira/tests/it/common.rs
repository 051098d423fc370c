//! Shared fixture: one generated org (seed 7, small) served by as many sims as a test needs,
//! at chosen clocks; lakes in temporary folders; a fixed clock; reading raw tables back and
//! deduping them the way staging does; the site's truth at an instant.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arrow::util::display::array_value_to_string;
use chrono::{DateTime, TimeZone, Utc};
use flowlake_jira::http::SpendSnapshot;
use flowlake_jira::{
    Auth, Clock, Connector, Flavor, IngestReport, JiraConfig, Progress, ProjectState, Secret,
};
use flowlake_lake::{Lake, RawSink, RunManifest, read_parquet_dir};
use flowlake_model::Entity;
use flowlake_model::time::parse_ts;
use flowlake_sim::{Org, Scale, SimConfig, SimHandle};

pub const SEED: u64 = 7;
pub const SITE: &str = "acme";
/// Credentials that look real, so that any leak is unmistakable.
pub const EMAIL: &str = "bot@acme.test";
pub const API_TOKEN: &str = "ATATT3xFfGF0FlowlakeJiraSecret0123456789";
pub const PAT: &str = "NjQ5FlowlakeJiraPersonalAccessToken0123";

/// Before PAY-1019 is deleted (2026-06-20) and PAY-1199 moves to PLAT (2026-08-08); after
/// PAY-202 collected its 145 histories.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 18, 12, 0, 0).unwrap()
}

/// Hours from [`t0`] to 2026-08-17 12:00: past the deletion and the move.
pub const TO_T1_HOURS: f64 = 60.0 * 24.0;

/// The sim config every test starts from: no `Retry-After` waits, the test credentials, the
/// clock at [`t0`].
pub fn sim_config() -> SimConfig {
    SimConfig {
        retry_after_secs: 0,
        jira_email: EMAIL.into(),
        jira_api_token: API_TOKEN.into(),
        jira_pat: PAT.into(),
        clock_start: Some(t0()),
        ..SimConfig::new(SEED, Scale::Small)
    }
}

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

/// A connector config for `sim`: fast backoff, the flavour's credentials, `projects`.
pub fn config(sim: &SimHandle, flavor: Flavor, projects: &[&str]) -> JiraConfig {
    let auth = match flavor {
        Flavor::Cloud => Auth::ApiToken {
            email: EMAIL.into(),
            token: Secret::new(API_TOKEN),
        },
        Flavor::DataCenter => Auth::PersonalAccessToken(Secret::new(PAT)),
    };
    let mut c = JiraConfig::new(SITE, sim.base_url(), flavor, auth);
    c.projects = projects.iter().map(|p| p.to_string()).collect();
    c.backoff = Duration::from_millis(2);
    c
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

/// Every written file and `text` are free of the test secrets (raw, and as Basic auth).
pub fn assert_no_secret(dir: &Path, text: &str) {
    use std::fmt::Write;
    let basic = {
        // base64 of "email:token", spelled out to need no dependency.
        let input = format!("{EMAIL}:{API_TOKEN}");
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = String::new();
        for chunk in input.as_bytes().chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    let _ = write!(s, "{}", T[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    s.push('=');
                }
            }
        }
        s
    };
    let secrets = [API_TOKEN, PAT, basic.as_str()];
    for s in secrets {
        assert!(!text.contains(s), "a secret in {text:?}");
    }
    for f in files_under(dir) {
        let bytes = std::fs::read(&f).expect("readable");
        for s in secrets {
            let found = bytes.windows(s.len()).any(|w| w == s.as_bytes());
            assert!(!found, "a secret in {}", f.display());
        }
    }
}

struct FixedClock(DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

pub struct Outcome {
    pub result: flowlake_jira::Result<IngestReport>,
    pub spend: SpendSnapshot,
    pub files: Vec<String>,
    /// Progress pages reported.
    pub pages: usize,
}

impl Outcome {
    pub fn report(&self) -> &IngestReport {
        match &self.result {
            Ok(r) => r,
            Err(e) => panic!("run failed: {}", error_chain(e)),
        }
    }

    pub fn error(&self) -> String {
        match &self.result {
            Ok(_) => panic!("the run should have failed"),
            Err(e) => error_chain(e),
        }
    }
}

/// One ingest run as `flowlake ingest jira` does it: a sink named `run_id`, the run, then the
/// run manifest (with the error text when it failed). `_ingested_at` is the sim's clock.
pub async fn ingest(lake: &Lake, sim: &SimHandle, cfg: JiraConfig, run_id: &str) -> Outcome {
    let now = sim.now();
    let clock = FixedClock(now);
    let pages = std::sync::atomic::AtomicUsize::new(0);
    let progress = |p: Progress| {
        if let Progress::Page { .. } = p {
            pages.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    };
    let connector = Connector::new(cfg, &clock, &progress).expect("valid config");
    let mut sink = RawSink::new(lake.clone(), run_id, now.date_naive());
    let result = connector.run(&mut sink).await;
    let spend = connector.spend();
    let mut manifest = RunManifest::start(run_id, "ingest jira", now);
    manifest.rows = sink.rows().clone();
    manifest.files = sink.files().to_vec();
    manifest.api_requests.insert("jira".into(), spend.requests);
    manifest.finish(now, result.as_ref().err().map(error_chain));
    if !manifest.files.is_empty() {
        lake.put_json(&manifest.rel_path(), &manifest)
            .await
            .expect("manifest written");
    }
    Outcome {
        result,
        spend,
        files: sink.files().to_vec(),
        pages: pages.into_inner(),
    }
}

/// `err` with its sources, as `main` prints it.
pub fn error_chain(err: &flowlake_jira::Error) -> String {
    let mut s = err.to_string();
    let mut src = std::error::Error::source(err);
    while let Some(e) = src {
        s.push_str(": ");
        s.push_str(&e.to_string());
        src = e.source();
    }
    s
}

pub async fn state(lake: &Lake, scope: &str) -> Option<ProjectState> {
    lake.get_json(&format!("state/jira/{SITE}/{scope}.json"))
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
        Entity::JiraIssues => &["workspace", "issue_id"],
        Entity::JiraChangelogItems => &["workspace", "issue_id", "changelog_id", "item_index"],
        Entity::JiraSprints => &["workspace", "board_id", "sprint_id"],
        Entity::JiraBoards => &["workspace", "board_id", "project_key"],
        Entity::JiraStatuses => &["workspace", "status_id"],
        _ => unreachable!("not a Jira entity"),
    }
}

pub const ENTITIES: [Entity; 5] = [
    Entity::JiraIssues,
    Entity::JiraChangelogItems,
    Entity::JiraSprints,
    Entity::JiraBoards,
    Entity::JiraStatuses,
];

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
        let k: Vec<String> = key_columns(entity).iter().map(|c| r[*c].clone()).collect();
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

/// The deduped lake, entity by entity.
pub async fn snapshot(lake: &Lake) -> BTreeMap<&'static str, BTreeMap<Vec<String>, Row>> {
    let mut out = BTreeMap::new();
    for e in ENTITIES {
        out.insert(e.name(), dedupe(e, &rows(lake, e).await));
    }
    out
}

/// Deduped issues by id.
pub async fn issues(lake: &Lake) -> BTreeMap<String, Row> {
    dedupe(Entity::JiraIssues, &rows(lake, Entity::JiraIssues).await)
        .into_values()
        .map(|r| (r["issue_id"].clone(), r))
        .collect()
}

/// Distinct changelog entries per issue id.
pub async fn histories(lake: &Lake) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in rows(lake, Entity::JiraChangelogItems).await {
        out.entry(r["issue_id"].clone())
            .or_default()
            .insert(r["changelog_id"].clone());
    }
    out
}

/// Checks the live (not tombstoned) issues of the lake against the site at `now` for
/// `projects` (whole) and `incident_projects` (incidents only): ids, keys, projects, status,
/// `updated`, and every changelog entry.
pub async fn assert_issues_match_truth(
    lake: &Lake,
    projects: &[&str],
    incident_projects: &[&str],
    now: DateTime<Utc>,
) {
    let org = org();
    let got = issues(lake).await;
    let hist = histories(lake).await;
    let live: BTreeMap<&String, &Row> = got
        .iter()
        .filter(|(_, r)| r["deleted_at"] == "NULL")
        .collect();
    let mut want = BTreeMap::new();
    for p in projects.iter().chain(incident_projects) {
        for (i, st) in org.jira_issues_at(p, now) {
            if incident_projects.contains(p) && i.issue_type != "Incident" {
                continue;
            }
            want.insert(i.id.to_string(), (i, st));
        }
    }
    let got_ids: BTreeSet<&String> = live.keys().copied().collect();
    let want_ids: BTreeSet<&String> = want.keys().collect();
    assert_eq!(
        got_ids.len(),
        want_ids.len(),
        "live issues at {now}: only in lake {:?}, only at the site {:?}",
        got_ids.difference(&want_ids).take(5).collect::<Vec<_>>(),
        want_ids.difference(&got_ids).take(5).collect::<Vec<_>>()
    );
    assert_eq!(got_ids, want_ids);
    for (id, (issue, st)) in &want {
        let r = live[id];
        let ctx = format!("issue {id} ({}) at {now}", st.key);
        assert_eq!(r["workspace"], SITE, "{ctx}");
        assert_eq!(r["issue_key"], st.key, "{ctx} key");
        assert_eq!(r["project_key"], st.project, "{ctx} project");
        assert_eq!(r["issue_type"], issue.issue_type, "{ctx} type");
        assert_eq!(r["status"], st.status.name(), "{ctx} status");
        assert_eq!(
            ts(r, "updated_at").map(|t| t.timestamp()),
            Some(st.updated.timestamp()),
            "{ctx} updated_at"
        );
        let entries = hist.get(id).map_or(0, BTreeSet::len);
        assert_eq!(entries, st.histories, "{ctx} changelog entries");
        assert_eq!(
            r["changelog_total"],
            st.histories.to_string(),
            "{ctx} total"
        );
    }
}
