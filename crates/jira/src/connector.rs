//! Incremental ingestion of one Jira site into the raw zone.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use flowlake_lake::RawSink;
use flowlake_model::jira::{Board, ChangelogItem, FieldMap, Issue, Sprint, Status, jql_quote};
use flowlake_model::{Entity, to_batch};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::{info, warn};

use crate::config::{Flavor, JiraConfig};
use crate::error::{Error, Result};
use crate::http::{Client, Reply, SpendSnapshot};

/// What the connector remembers of one scope (a project, or a project's incidents) between
/// runs, at `state/jira/<workspace>/<scope>.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ProjectState {
    /// The newest `updated` seen; the next run searches from it minus the overlap.
    pub watermark: Option<DateTime<Utc>>,
    /// Every issue id the last id scan found, with its key: an id that disappears from the
    /// next scan is looked up and, if gone, tombstoned.
    pub known_issues: BTreeMap<String, String>,
    /// The run that last saved this state.
    pub run_id: Option<String>,
}

/// A source of "now", injected so tests control it.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Progress events for the CLI's bars.
#[derive(Debug, Clone)]
pub enum Progress {
    /// The scopes are known (projects, and incident-only projects).
    Projects(usize),
    /// A page of `entity` for `project` was fetched with `rows` records.
    Page {
        /// Project key.
        project: String,
        /// Entity name.
        entity: &'static str,
        /// Records in the page.
        rows: usize,
    },
    /// A scope is done and its state saved.
    ProjectDone(String),
}

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    /// Scopes ingested (projects, plus incident-only projects).
    pub projects: usize,
    /// Records written per entity name (`issues`, `changelog_items`, …).
    pub rows: BTreeMap<String, u64>,
    /// Tombstones written (issues deleted, or moved out of every configured project).
    pub tombstones: u64,
    /// The custom fields used (configured, else discovered from `/field`).
    pub fields: FieldMap,
    /// Requests spent.
    pub spend: SpendSnapshot,
}

/// One unit of incremental state: a project ingested whole, or only its incidents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scope {
    pub key: String,
    pub incidents_only: bool,
}

impl Scope {
    /// The state file's stem.
    pub fn name(&self) -> String {
        if self.incidents_only {
            format!("{}__incidents", self.key)
        } else {
            self.key.clone()
        }
    }

    /// The JQL condition that selects the scope's issues.
    pub fn filter(&self, cfg: &JiraConfig) -> String {
        let project = format!("project = {}", jql_quote(&self.key));
        if !self.incidents_only {
            return project;
        }
        match &cfg.incidents.jql {
            Some(jql) => format!("{project} AND ({})", jql.trim()),
            None => format!(
                "{project} AND issuetype = {}",
                jql_quote(cfg.incidents.issue_type.trim())
            ),
        }
    }
}

/// The scopes of a config: whole projects first, then incident-only projects that are not
/// already ingested whole.
pub(crate) fn scopes(cfg: &JiraConfig) -> Vec<Scope> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for key in &cfg.projects {
        if seen.insert(key.clone()) {
            out.push(Scope {
                key: key.clone(),
                incidents_only: false,
            });
        }
    }
    for key in &cfg.incidents.projects {
        if seen.insert(key.clone()) {
            out.push(Scope {
                key: key.clone(),
                incidents_only: true,
            });
        }
    }
    out
}

/// `yyyy-MM-dd HH:mm`: JQL's date-time, in minutes (the seconds are dropped, which widens
/// the window).
pub(crate) fn jql_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// The incremental search: `<filter> [AND updated >= "<since>"] ORDER BY updated ASC, key ASC`.
pub(crate) fn search_jql(filter: &str, since: Option<DateTime<Utc>>) -> String {
    match since {
        Some(s) => format!(
            "{filter} AND updated >= {} ORDER BY updated ASC, key ASC",
            jql_quote(&jql_time(s))
        ),
        None => format!("{filter} ORDER BY updated ASC, key ASC"),
    }
}

/// The id scan: every issue of the scope, ids and keys only.
pub(crate) fn scan_jql(filter: &str) -> String {
    format!("{filter} ORDER BY key ASC")
}

/// The fields [`Issue::from_json`] reads, and nothing else: descriptions, comments and
/// attachments would multiply the payload on a real site.
pub(crate) fn issue_fields(custom: &FieldMap) -> String {
    let mut f: Vec<&str> = vec![
        "summary",
        "issuetype",
        "status",
        "priority",
        "project",
        "created",
        "updated",
        "resolutiondate",
        "assignee",
        "reporter",
        "labels",
        "components",
        "fixVersions",
        "parent",
    ];
    for id in [&custom.story_points, &custom.epic_link, &custom.sprint]
        .into_iter()
        .flatten()
    {
        f.push(id);
    }
    f.join(",")
}

/// Where the search starts: the watermark minus the overlap, else `since`, else everything.
pub(crate) fn search_from(
    state: &ProjectState,
    since: Option<DateTime<Utc>>,
    overlap: std::time::Duration,
) -> Option<DateTime<Utc>> {
    let overlap = ChronoDuration::from_std(overlap).unwrap_or_else(|_| ChronoDuration::minutes(10));
    match state.watermark {
        Some(w) => Some(w - overlap),
        None => since,
    }
}

/// Where the next page of a listing starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cursor {
    /// The first page.
    Start,
    /// Cloud search: `nextPageToken`.
    Token(String),
    /// Data Center search and the Agile API: `startAt`.
    Offset(u64),
    /// No more pages.
    Done,
}

/// The cursor after a search page of `n` issues that started at `start` (Data Center).
pub(crate) fn next_search_cursor(flavor: Flavor, body: &Value, start: u64, n: usize) -> Cursor {
    match flavor {
        Flavor::Cloud => {
            if body.get("isLast").and_then(Value::as_bool) == Some(true) {
                return Cursor::Done;
            }
            match body.get("nextPageToken").and_then(Value::as_str) {
                Some(t) if !t.is_empty() => Cursor::Token(t.to_string()),
                _ => Cursor::Done,
            }
        }
        Flavor::DataCenter => {
            let start = body.get("startAt").and_then(Value::as_u64).unwrap_or(start);
            let next = start + n as u64;
            let total = body.get("total").and_then(Value::as_u64).unwrap_or(0);
            if n == 0 || next >= total {
                Cursor::Done
            } else {
                Cursor::Offset(next)
            }
        }
    }
}

/// The cursor after an Agile API or changelog page of `n` values that started at `start`.
pub(crate) fn next_offset_cursor(body: &Value, start: u64, n: usize, page_size: u32) -> Cursor {
    let start = body.get("startAt").and_then(Value::as_u64).unwrap_or(start);
    let next = start + n as u64;
    if n == 0 {
        return Cursor::Done;
    }
    match (
        body.get("isLast").and_then(Value::as_bool),
        body.get("total").and_then(Value::as_u64),
    ) {
        (Some(true), _) => Cursor::Done,
        (_, Some(total)) if next >= total => Cursor::Done,
        (Some(false), _) | (_, Some(_)) => Cursor::Offset(next),
        (None, None) if n < page_size as usize => Cursor::Done,
        (None, None) => Cursor::Offset(next),
    }
}

/// What to do about an issue that disappeared from its scope's id scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Missing {
    /// 404: write a `deleted` tombstone.
    Deleted,
    /// Out of every configured scope: write a `moved_out_of_scope` tombstone.
    OutOfScope,
    /// Still visible in a configured project: that project's search writes it.
    Elsewhere,
}

/// Decide about a missing issue from its look-up: `None` for a 404, else its project now.
pub(crate) fn classify_missing(scope: &Scope, now_in: Option<&str>, cfg: &JiraConfig) -> Missing {
    let Some(project) = now_in else {
        return Missing::Deleted;
    };
    if project == scope.key {
        // Still in the project: a whole-project scope will see it again; an incident scope
        // lost it because it is no longer an incident.
        return if scope.incidents_only {
            Missing::OutOfScope
        } else {
            Missing::Elsewhere
        };
    }
    let configured = cfg
        .projects
        .iter()
        .chain(&cfg.incidents.projects)
        .any(|p| p == project);
    if configured {
        Missing::Elsewhere
    } else {
        Missing::OutOfScope
    }
}

/// The Jira connector.
pub struct Connector<'a> {
    cfg: JiraConfig,
    client: Client,
    clock: &'a dyn Clock,
    progress: &'a (dyn Fn(Progress) + Send + Sync),
}

struct Run<'s> {
    sink: &'s mut RawSink,
    workspace: String,
    ingested_at: DateTime<Utc>,
    rows: BTreeMap<String, u64>,
    tombstones: u64,
    /// Boards whose sprints this run already fetched (a board can span projects).
    boards_seen: HashSet<i64>,
}

impl Run<'_> {
    async fn write<T: Serialize>(&mut self, entity: Entity, records: &[T]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let batch = to_batch(
            entity,
            records,
            &self.workspace,
            self.sink.run_id(),
            self.ingested_at,
        )?;
        self.sink.write(&entity.dir(), batch).await?;
        *self.rows.entry(entity.name().to_string()).or_insert(0) += records.len() as u64;
        Ok(())
    }
}

/// Issues and changelog items fetched but not yet written.
#[derive(Default)]
struct Buffer {
    issues: Vec<Issue>,
    items: Vec<ChangelogItem>,
}

impl Buffer {
    fn len(&self) -> usize {
        self.issues.len() + self.items.len()
    }

    async fn flush(&mut self, run: &mut Run<'_>) -> Result<()> {
        run.write(Entity::JiraIssues, &self.issues).await?;
        run.write(Entity::JiraChangelogItems, &self.items).await?;
        self.issues.clear();
        self.items.clear();
        Ok(())
    }
}

pub(crate) fn state_path(workspace: &str, scope: &str) -> String {
    format!("state/jira/{workspace}/{scope}.json")
}

impl<'a> Connector<'a> {
    /// A connector for `cfg`, which is validated here (before any request).
    pub fn new(
        cfg: JiraConfig,
        clock: &'a dyn Clock,
        progress: &'a (dyn Fn(Progress) + Send + Sync),
    ) -> Result<Self> {
        cfg.validate()?;
        let client = Client::new(&cfg)?;
        Ok(Connector {
            cfg,
            client,
            clock,
            progress,
        })
    }

    /// Requests spent so far.
    pub fn spend(&self) -> SpendSnapshot {
        self.client.spend.snapshot()
    }

    fn api(&self, path: &str) -> String {
        format!("{}{path}", self.cfg.flavor.rest_prefix())
    }

    /// Ingest every configured project into `sink`.
    ///
    /// The credentials, the site and every project key are checked before anything is
    /// written. Each scope's state (watermark, known issue ids) is saved only after all of its
    /// records are written; on an error the pages fetched so far are kept (raw is append-only
    /// and staging deduplicates) and that scope's state stays where it was.
    pub async fn run(&self, sink: &mut RawSink) -> Result<IngestReport> {
        self.check_site().await?;
        let scopes = scopes(&self.cfg);
        for scope in &scopes {
            self.check_project(scope).await?;
        }
        (self.progress)(Progress::Projects(scopes.len()));
        let fields = self
            .cfg
            .fields
            .clone()
            .discover(
                &self
                    .client
                    .get_json("GET /field", &self.api("/field"))
                    .await?,
            )
            .map_err(|source| Error::Decode {
                endpoint: "GET /field".into(),
                page: 1,
                source,
            })?;
        info!(?fields, "Jira custom fields");
        let mut run = Run {
            sink,
            workspace: self.cfg.workspace.clone(),
            ingested_at: self.clock.now(),
            rows: BTreeMap::new(),
            tombstones: 0,
            boards_seen: HashSet::new(),
        };
        self.statuses(&mut run).await?;
        for scope in &scopes {
            self.ingest_scope(&mut run, scope, &fields).await?;
            (self.progress)(Progress::ProjectDone(scope.key.clone()));
        }
        Ok(IngestReport {
            projects: scopes.len(),
            rows: run.rows,
            tombstones: run.tombstones,
            fields,
            spend: self.spend(),
        })
    }

    /// `GET /myself`: a wrong token or a wrong URL fails here, before anything is written.
    async fn check_site(&self) -> Result<()> {
        let path = self.api("/myself");
        let label = format!("GET {path}");
        let site = |detail: String| Error::Site {
            base_url: self.client.site().to_string(),
            flavor: self.cfg.flavor.as_str(),
            detail,
        };
        let retries = self.cfg.max_retries.min(2);
        match self
            .client
            .get_with_retries(&label, &path, &[404], retries)
            .await
        {
            Ok(Reply::Json(v))
                if ["accountId", "key", "name"]
                    .iter()
                    .any(|k| v.get(k).is_some()) =>
            {
                Ok(())
            }
            Ok(Reply::Json(_)) => Err(site(format!(
                "{label} answered JSON that is not a Jira user"
            ))),
            Ok(Reply::Status(status, message)) => {
                Err(site(format!("{status} at {path}: {message}")))
            }
            Err(Error::Exhausted { last, attempts, .. }) => {
                Err(site(format!("{last} (after {attempts} attempts)")))
            }
            Err(Error::Protocol { detail, .. }) => Err(site(format!("{path}: {detail}"))),
            Err(Error::Status {
                status, message, ..
            }) => Err(site(format!("{status} at {path}: {message}"))),
            Err(e) => Err(e),
        }
    }

    /// `GET /project/{key}`: an unknown key fails before anything is written.
    async fn check_project(&self, scope: &Scope) -> Result<()> {
        // The key is validated (letters, digits, `_`), so it is safe in a path.
        let path = self.api(&format!("/project/{}", scope.key));
        match self
            .client
            .get(&format!("GET {path}"), &path, &[404])
            .await?
        {
            Reply::Json(_) => Ok(()),
            Reply::Status(..) => Err(Error::UnknownProject {
                key: scope.key.clone(),
                base_url: self.client.site().to_string(),
                setting: if scope.incidents_only {
                    "incident_projects"
                } else {
                    "projects"
                },
            }),
        }
    }

    async fn statuses(&self, run: &mut Run<'_>) -> Result<()> {
        let label = "GET /status";
        let v = self.client.get_json(label, &self.api("/status")).await?;
        let list = v.as_array().ok_or_else(|| Error::Protocol {
            endpoint: label.into(),
            detail: "not a list of statuses".into(),
        })?;
        let rows = list
            .iter()
            .map(Status::from_json)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|source| Error::Decode {
                endpoint: label.into(),
                page: 1,
                source,
            })?;
        run.write(Entity::JiraStatuses, &rows).await
    }

    async fn ingest_scope(
        &self,
        run: &mut Run<'_>,
        scope: &Scope,
        fields: &FieldMap,
    ) -> Result<()> {
        let lake = run.sink.lake().clone();
        let path = state_path(&self.cfg.workspace, &scope.name());
        let mut state: ProjectState = lake.get_json(&path).await?.unwrap_or_default();
        let result = async {
            state.watermark = self.issues(run, scope, &state, fields).await?;
            state.known_issues = self.deletions(run, scope, &state).await?;
            if !scope.incidents_only {
                self.boards(run, &scope.key).await?;
            }
            Ok::<_, Error>(())
        }
        .await;
        match result {
            Ok(()) => {
                state.run_id = Some(run.sink.run_id().to_string());
                lake.put_json(&path, &state).await?;
                Ok(())
            }
            Err(e) => {
                warn!(project = scope.key, error = %e, "project failed; its state stays where it was");
                Err(e)
            }
        }
    }

    fn page_done(&self, project: &str, entity: Entity, rows: usize) {
        (self.progress)(Progress::Page {
            project: project.to_string(),
            entity: entity.name(),
            rows,
        });
    }

    /// The incremental search; returns the new watermark. Pages are written every
    /// `flush_rows` rows, and whatever whole pages were fetched before an error are written
    /// before it is returned.
    async fn issues(
        &self,
        run: &mut Run<'_>,
        scope: &Scope,
        state: &ProjectState,
        fields: &FieldMap,
    ) -> Result<Option<DateTime<Utc>>> {
        let from = search_from(state, self.cfg.since, self.cfg.overlap);
        let jql = search_jql(&scope.filter(&self.cfg), from);
        info!(project = scope.key, jql, "searching issues");
        let mut pager = self.search(scope, jql, issue_fields(fields), true);
        let mut newest = state.watermark;
        let mut buf = Buffer::default();
        let outcome: Result<()> = async {
            while let Some(page) = pager.next().await? {
                // A page counts only once all of it (changelogs included) is in hand.
                let mut got = Buffer::default();
                let mut page_newest = newest;
                for v in &page {
                    let issue = Issue::from_json(v, fields).map_err(|e| pager.decode(e))?;
                    let histories = self.histories(&issue, v).await?;
                    got.items.extend(
                        ChangelogItem::from_histories(
                            &issue.issue_id,
                            &issue.issue_key,
                            &Value::Array(histories),
                        )
                        .map_err(|e| pager.decode(e))?,
                    );
                    page_newest = page_newest.max(issue.updated_at);
                    got.issues.push(issue);
                }
                newest = page_newest;
                self.page_done(&scope.key, Entity::JiraIssues, got.issues.len());
                buf.issues.append(&mut got.issues);
                buf.items.append(&mut got.items);
                if buf.len() >= self.cfg.flush_rows {
                    buf.flush(run).await?;
                }
            }
            Ok(())
        }
        .await;
        buf.flush(run).await?;
        outcome?;
        Ok(newest)
    }

    /// An issue's whole changelog: the embedded histories, completed through the paged
    /// changelog endpoint when the search embedded fewer than `total` (Cloud caps it at 100).
    async fn histories(&self, issue: &Issue, v: &Value) -> Result<Vec<Value>> {
        let embedded = v
            .pointer("/changelog/histories")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let total = issue.changelog_total.unwrap_or(0).max(0) as usize;
        if total <= embedded.len() {
            return Ok(embedded);
        }
        if self.cfg.flavor == Flavor::DataCenter {
            warn!(
                issue = issue.issue_key,
                total,
                embedded = embedded.len(),
                "Data Center returned a partial changelog; keeping what it sent"
            );
            return Ok(embedded);
        }
        // Page from the start rather than from `embedded.len()`: which histories a search
        // embeds is Jira's choice, and merging by id keeps every one exactly once.
        let mut seen: HashSet<String> = HashSet::new();
        let mut out = Vec::with_capacity(total);
        let id_of = |h: &Value| match h.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        for h in embedded {
            if seen.insert(id_of(&h)) {
                out.push(h);
            }
        }
        let base = self.api(&format!("/issue/{}/changelog", issue.issue_id));
        let label = format!("GET {base}");
        let mut cursor = Cursor::Start;
        while cursor != Cursor::Done {
            let start = match cursor {
                Cursor::Offset(s) => s,
                _ => 0,
            };
            self.client.spend.add(&self.client.spend.changelog_pages, 1);
            let body = self
                .client
                .get_json(&label, &format!("{base}?startAt={start}&maxResults=100"))
                .await?;
            let values = body
                .get("values")
                .and_then(Value::as_array)
                .ok_or_else(|| Error::Protocol {
                    endpoint: label.clone(),
                    detail: "no `values` list".into(),
                })?;
            cursor = next_offset_cursor(&body, start, values.len(), 100);
            for h in values {
                if seen.insert(id_of(h)) {
                    out.push(h.clone());
                }
            }
        }
        if out.len() < total {
            warn!(
                issue = issue.issue_key,
                total,
                got = out.len(),
                "Jira listed fewer changelog entries than its total"
            );
        }
        Ok(out)
    }

    /// The id scan: every id of the scope now. Ids known from the last run that are missing
    /// are looked up and tombstoned when deleted or out of scope. Returns the new known set.
    async fn deletions(
        &self,
        run: &mut Run<'_>,
        scope: &Scope,
        state: &ProjectState,
    ) -> Result<BTreeMap<String, String>> {
        let mut pager = self.search(
            scope,
            scan_jql(&scope.filter(&self.cfg)),
            "id,key".into(),
            false,
        );
        let mut now = BTreeMap::new();
        while let Some(page) = pager.next().await? {
            for v in &page {
                let id = match v.get("id") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => {
                        return Err(Error::Protocol {
                            endpoint: pager.label.clone(),
                            detail: "an issue without an id".into(),
                        });
                    }
                };
                let key = v.get("key").and_then(Value::as_str).unwrap_or_default();
                now.insert(id, key.to_string());
            }
        }
        let mut tombstones = Vec::new();
        for (id, key) in &state.known_issues {
            if now.contains_key(id) {
                continue;
            }
            let path = self.api(&format!("/issue/{id}"));
            self.client.spend.add(&self.client.spend.issue_lookups, 1);
            let reply = self
                .client
                .get(
                    &format!("GET {path}"),
                    &format!("{path}?fields=id,key,project"),
                    &[404],
                )
                .await?;
            let project = match &reply {
                Reply::Json(v) => Some(
                    v.pointer("/fields/project/key")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .or_else(|| {
                            v.get("key")
                                .and_then(Value::as_str)
                                .and_then(|k| k.rsplit_once('-'))
                                .map(|(p, _)| p.to_string())
                        })
                        .unwrap_or_default(),
                ),
                Reply::Status(..) => None,
            };
            match classify_missing(scope, project.as_deref(), &self.cfg) {
                Missing::Deleted => {
                    info!(issue = key, "issue deleted: writing a tombstone");
                    tombstones.push(Issue::tombstone(
                        id,
                        key,
                        &scope.key,
                        run.ingested_at,
                        "deleted",
                    ));
                }
                Missing::OutOfScope => {
                    info!(
                        issue = key,
                        now_in = project.as_deref().unwrap_or(""),
                        "issue left the scope: writing a tombstone"
                    );
                    tombstones.push(Issue::tombstone(
                        id,
                        key,
                        &scope.key,
                        run.ingested_at,
                        "moved_out_of_scope",
                    ));
                }
                Missing::Elsewhere if project.as_deref() == Some(scope.key.as_str()) => {
                    // Still here but not in the scan (it raced the scan): check it next run.
                    now.insert(id.clone(), key.clone());
                }
                Missing::Elsewhere => {}
            }
        }
        run.tombstones += tombstones.len() as u64;
        run.write(Entity::JiraIssues, &tombstones).await?;
        Ok(now)
    }

    /// The project's boards, and the sprints of each board not seen yet this run.
    async fn boards(&self, run: &mut Run<'_>, project: &str) -> Result<()> {
        let base = "/rest/agile/1.0/board";
        let label = format!("GET {base}?projectKeyOrId={project}");
        let mut boards = Vec::new();
        let mut cursor = Cursor::Start;
        let mut page = 0;
        while cursor != Cursor::Done {
            let start = match cursor {
                Cursor::Offset(s) => s,
                _ => 0,
            };
            page += 1;
            self.client.spend.add(&self.client.spend.agile_pages, 1);
            let body = self
                .client
                .get_json(
                    &label,
                    &format!("{base}?projectKeyOrId={project}&startAt={start}&maxResults=50"),
                )
                .await?;
            let values = values(&label, &body)?;
            cursor = next_offset_cursor(&body, start, values.len(), 50);
            for v in values {
                boards.push(
                    Board::from_json(project, v).map_err(|source| Error::Decode {
                        endpoint: label.clone(),
                        page,
                        source,
                    })?,
                );
            }
        }
        self.page_done(project, Entity::JiraBoards, boards.len());
        let mut sprints = Vec::new();
        for b in &boards {
            if b.board_type.as_deref() == Some("kanban") || !run.boards_seen.insert(b.board_id) {
                continue;
            }
            sprints.extend(self.sprints(b.board_id).await?);
        }
        self.page_done(project, Entity::JiraSprints, sprints.len());
        run.write(Entity::JiraBoards, &boards).await?;
        run.write(Entity::JiraSprints, &sprints).await
    }

    async fn sprints(&self, board: i64) -> Result<Vec<Sprint>> {
        let base = format!("/rest/agile/1.0/board/{board}/sprint");
        let label = format!("GET {base}");
        let mut out = Vec::new();
        let mut cursor = Cursor::Start;
        let mut page = 0;
        while cursor != Cursor::Done {
            let start = match cursor {
                Cursor::Offset(s) => s,
                _ => 0,
            };
            page += 1;
            self.client.spend.add(&self.client.spend.agile_pages, 1);
            let body = match self
                .client
                .get(
                    &label,
                    &format!("{base}?startAt={start}&maxResults=50"),
                    &[400],
                )
                .await?
            {
                Reply::Json(v) => v,
                // "The board does not support sprints": a kanban board not typed as such.
                Reply::Status(..) => return Ok(out),
            };
            let values = values(&label, &body)?;
            cursor = next_offset_cursor(&body, start, values.len(), 50);
            for v in values {
                out.push(Sprint::from_json(board, v).map_err(|source| Error::Decode {
                    endpoint: label.clone(),
                    page,
                    source,
                })?);
            }
        }
        Ok(out)
    }

    fn search(
        &self,
        scope: &Scope,
        jql: String,
        fields: String,
        changelog: bool,
    ) -> SearchPager<'_> {
        SearchPager {
            client: &self.client,
            label: format!(
                "GET {} ({}{})",
                self.cfg.flavor.search_path(),
                scope.name(),
                if changelog { "" } else { " id scan" }
            ),
            flavor: self.cfg.flavor,
            jql,
            fields,
            changelog,
            // An id scan asks for the largest page Jira serves for `id,key` only (1,000);
            // the site may answer with fewer, and paging follows what it returned.
            page_size: if changelog {
                self.cfg.page_size
            } else {
                ID_SCAN_PAGE_SIZE
            },
            cursor: Cursor::Start,
            page: 0,
        }
    }
}

fn values<'v>(label: &str, body: &'v Value) -> Result<&'v Vec<Value>> {
    body.get("values")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::Protocol {
            endpoint: label.to_string(),
            detail: "no `values` list".into(),
        })
}

/// The page size an id scan (`fields=id,key`) asks for.
pub(crate) const ID_SCAN_PAGE_SIZE: u32 = 1000;

/// Pages of one issue search, token-paged on Cloud and offset-paged on Data Center.
struct SearchPager<'c> {
    client: &'c Client,
    label: String,
    flavor: Flavor,
    jql: String,
    fields: String,
    changelog: bool,
    page_size: u32,
    cursor: Cursor,
    page: u32,
}

impl SearchPager<'_> {
    /// The path and query of the next page.
    fn url(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("jql", &self.jql);
        if let (Flavor::DataCenter, Cursor::Offset(s)) = (self.flavor, &self.cursor) {
            q.append_pair("startAt", &s.to_string());
        } else if self.flavor == Flavor::DataCenter {
            q.append_pair("startAt", "0");
        }
        q.append_pair("maxResults", &self.page_size.to_string());
        q.append_pair("fields", &self.fields);
        if self.changelog {
            q.append_pair("expand", "changelog");
        }
        if let Cursor::Token(t) = &self.cursor {
            q.append_pair("nextPageToken", t);
        }
        format!("{}?{}", self.flavor.search_path(), q.finish())
    }

    async fn next(&mut self) -> Result<Option<Vec<Value>>> {
        if self.cursor == Cursor::Done {
            return Ok(None);
        }
        self.page += 1;
        self.client.spend.add(&self.client.spend.search_pages, 1);
        let body = self.client.get_json(&self.label, &self.url()).await?;
        let issues = body
            .get("issues")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| Error::Protocol {
                endpoint: self.label.clone(),
                detail: format!("page {} has no `issues` list", self.page),
            })?;
        let start = match self.cursor {
            Cursor::Offset(s) => s,
            _ => 0,
        };
        let next = next_search_cursor(self.flavor, &body, start, issues.len());
        if next == self.cursor {
            return Err(Error::Protocol {
                endpoint: self.label.clone(),
                detail: format!("page {} points at itself as the next page", self.page),
            });
        }
        self.cursor = next;
        Ok(Some(issues))
    }

    fn decode(&self, source: flowlake_model::Error) -> Error {
        Error::Decode {
            endpoint: self.label.clone(),
            page: self.page,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Auth, Secret};
    use chrono::TimeZone;
    use serde_json::json;
    use std::time::Duration;

    fn cfg() -> JiraConfig {
        let mut c = JiraConfig::new(
            "acme",
            "https://jira.acme.test",
            Flavor::DataCenter,
            Auth::PersonalAccessToken(Secret::new("pat")),
        );
        c.projects = vec!["PAY".into(), "WEB".into()];
        c.incidents.projects = vec!["OPS".into(), "PAY".into()];
        c
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn jql_incremental_and_full() {
        let pay = Scope {
            key: "PAY".into(),
            incidents_only: false,
        };
        let c = cfg();
        assert_eq!(
            search_jql(&pay.filter(&c), Some(t("2024-03-01T09:30:59Z"))),
            r#"project = "PAY" AND updated >= "2024-03-01 09:30" ORDER BY updated ASC, key ASC"#
        );
        assert_eq!(
            search_jql(&pay.filter(&c), None),
            r#"project = "PAY" ORDER BY updated ASC, key ASC"#
        );
        assert_eq!(
            scan_jql(&pay.filter(&c)),
            r#"project = "PAY" ORDER BY key ASC"#
        );
        let ops = Scope {
            key: "OPS".into(),
            incidents_only: true,
        };
        assert_eq!(
            ops.filter(&c),
            r#"project = "OPS" AND issuetype = "Incident""#
        );
        assert_eq!(ops.name(), "OPS__incidents");
        let mut c2 = c.clone();
        c2.incidents.jql = Some("labels = incident ".into());
        assert_eq!(
            ops.filter(&c2),
            r#"project = "OPS" AND (labels = incident)"#
        );
    }

    #[test]
    fn scopes_skip_incident_projects_ingested_whole() {
        let s = scopes(&cfg());
        let names: Vec<String> = s.iter().map(Scope::name).collect();
        assert_eq!(names, ["PAY", "WEB", "OPS__incidents"]);
    }

    #[test]
    fn search_starts_at_watermark_minus_overlap_else_since() {
        let since = Some(t("2024-01-01T00:00:00Z"));
        let overlap = Duration::from_secs(600);
        assert_eq!(search_from(&ProjectState::default(), since, overlap), since);
        assert_eq!(search_from(&ProjectState::default(), None, overlap), None);
        let st = ProjectState {
            watermark: Some(t("2024-03-01T09:40:30Z")),
            ..Default::default()
        };
        assert_eq!(
            search_from(&st, since, overlap),
            Some(t("2024-03-01T09:30:30Z"))
        );
        // Minute precision rounds down, so the window only widens.
        assert_eq!(jql_time(t("2024-03-01T09:30:30Z")), "2024-03-01 09:30");
    }

    #[test]
    fn cloud_paging_follows_tokens_until_is_last() {
        let f = Flavor::Cloud;
        assert_eq!(
            next_search_cursor(
                f,
                &json!({"issues": [], "nextPageToken": "T2", "isLast": false}),
                0,
                100
            ),
            Cursor::Token("T2".into())
        );
        assert_eq!(
            next_search_cursor(f, &json!({"isLast": true, "nextPageToken": "T3"}), 0, 5),
            Cursor::Done
        );
        assert_eq!(
            next_search_cursor(f, &json!({"issues": []}), 0, 0),
            Cursor::Done
        );
    }

    #[test]
    fn data_center_paging_counts_to_total() {
        let f = Flavor::DataCenter;
        let page =
            |start: u64, total: u64| json!({"startAt": start, "maxResults": 100, "total": total});
        assert_eq!(
            next_search_cursor(f, &page(0, 250), 0, 100),
            Cursor::Offset(100)
        );
        assert_eq!(
            next_search_cursor(f, &page(200, 250), 200, 50),
            Cursor::Done
        );
        assert_eq!(next_search_cursor(f, &page(0, 100), 0, 100), Cursor::Done);
        // A site that shrinks its page size below maxResults is followed, not skipped.
        assert_eq!(
            next_search_cursor(f, &page(0, 250), 0, 50),
            Cursor::Offset(50)
        );
        // An empty page ends the listing even if `total` says otherwise.
        assert_eq!(next_search_cursor(f, &page(300, 400), 300, 0), Cursor::Done);
    }

    #[test]
    fn agile_and_changelog_paging() {
        let b = json!({"startAt": 0, "maxResults": 50, "isLast": false, "values": []});
        assert_eq!(next_offset_cursor(&b, 0, 50, 50), Cursor::Offset(50));
        let b = json!({"startAt": 50, "isLast": true});
        assert_eq!(next_offset_cursor(&b, 50, 3, 50), Cursor::Done);
        let b = json!({"startAt": 100, "total": 250});
        assert_eq!(next_offset_cursor(&b, 100, 100, 100), Cursor::Offset(200));
        let b = json!({"startAt": 200, "total": 250});
        assert_eq!(next_offset_cursor(&b, 200, 50, 100), Cursor::Done);
        assert_eq!(next_offset_cursor(&json!({}), 0, 20, 50), Cursor::Done);
        assert_eq!(
            next_offset_cursor(&json!({}), 0, 50, 50),
            Cursor::Offset(50)
        );
        assert_eq!(
            next_offset_cursor(&json!({"isLast": false}), 0, 0, 50),
            Cursor::Done
        );
    }

    #[test]
    fn search_urls_encode_jql_and_cursor() {
        let c = cfg();
        let client = Client::new(&c).unwrap();
        let mut p = SearchPager {
            client: &client,
            label: "x".into(),
            flavor: Flavor::DataCenter,
            jql: r#"project = "PAY" ORDER BY key ASC"#.into(),
            fields: "id,key".into(),
            changelog: false,
            page_size: 100,
            cursor: Cursor::Start,
            page: 0,
        };
        assert_eq!(
            p.url(),
            "/rest/api/2/search?jql=project+%3D+%22PAY%22+ORDER+BY+key+ASC&startAt=0&maxResults=100&fields=id%2Ckey"
        );
        p.cursor = Cursor::Offset(200);
        assert!(p.url().contains("&startAt=200&"));
        p.flavor = Flavor::Cloud;
        p.changelog = true;
        p.fields = "*navigable".into();
        p.cursor = Cursor::Token("a+b/=".into());
        assert_eq!(
            p.url(),
            "/rest/api/3/search/jql?jql=project+%3D+%22PAY%22+ORDER+BY+key+ASC&maxResults=100&fields=*navigable&expand=changelog&nextPageToken=a%2Bb%2F%3D"
        );
    }

    #[test]
    fn searches_ask_for_the_fields_the_parser_reads() {
        let f = FieldMap {
            story_points: Some("customfield_10024".into()),
            sprint: Some("customfield_10020".into()),
            epic_link: None,
        };
        let list = issue_fields(&f);
        assert!(list.starts_with("summary,issuetype,status,"));
        assert!(list.ends_with(",parent,customfield_10024,customfield_10020"));
        assert!(!list.contains("description"));
    }

    #[test]
    fn missing_issues_are_classified() {
        let c = cfg();
        let pay = Scope {
            key: "PAY".into(),
            incidents_only: false,
        };
        let ops = Scope {
            key: "OPS".into(),
            incidents_only: true,
        };
        assert_eq!(classify_missing(&pay, None, &c), Missing::Deleted);
        assert_eq!(classify_missing(&pay, Some("WEB"), &c), Missing::Elsewhere);
        assert_eq!(classify_missing(&pay, Some("OPS"), &c), Missing::Elsewhere);
        assert_eq!(
            classify_missing(&pay, Some("SECRET"), &c),
            Missing::OutOfScope
        );
        assert_eq!(classify_missing(&pay, Some("PAY"), &c), Missing::Elsewhere);
        // No longer an incident, still in OPS: out of the incident scope.
        assert_eq!(classify_missing(&ops, Some("OPS"), &c), Missing::OutOfScope);
    }

    #[test]
    fn state_round_trips_and_has_a_stable_path() {
        let st = ProjectState {
            watermark: Some(Utc.with_ymd_and_hms(2024, 3, 1, 9, 30, 0).unwrap()),
            known_issues: BTreeMap::from([("10063".into(), "PAY-1".into())]),
            run_id: Some("r1".into()),
        };
        let text = serde_json::to_string(&st).unwrap();
        assert_eq!(serde_json::from_str::<ProjectState>(&text).unwrap(), st);
        assert_eq!(state_path("acme", "PAY"), "state/jira/acme/PAY.json");
    }
}
