//! Incremental ingestion of one GitHub org into the raw zone.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use flowlake_lake::RawSink;
use flowlake_model::github::{
    Commit, Deployment, Issue, PrCommit, PullRequest, Release, Review, WorkflowRun,
};
use flowlake_model::{Entity, to_batch};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tracing::{info, warn};

use crate::config::GithubConfig;
use crate::error::{Error, Result};
use crate::http::{Client, SpendSnapshot};
use crate::queries;

/// Where each entity of one repo stopped: the newest source timestamp seen.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RepoState {
    /// Watermark per entity name (`pull_requests`, `commits`, …).
    pub watermarks: BTreeMap<String, DateTime<Utc>>,
    /// The run that last advanced them.
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
    /// The repo list is known.
    Repos(usize),
    /// A page of `entity` for `repo` landed with `rows` records.
    Page {
        /// `owner/name`.
        repo: String,
        /// Entity name.
        entity: &'static str,
        /// Records in the page.
        rows: usize,
    },
    /// A repo is done.
    RepoDone(String),
}

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    /// Repos ingested.
    pub repos: usize,
    /// Records fetched per entity.
    pub rows: BTreeMap<String, u64>,
    /// Requests and points spent.
    pub spend: SpendSnapshot,
}

/// The GitHub connector.
pub struct Connector<'a> {
    cfg: GithubConfig,
    client: Client,
    clock: &'a dyn Clock,
    progress: &'a (dyn Fn(Progress) + Send + Sync),
}

struct Run<'s> {
    sink: &'s mut RawSink,
    workspace: String,
    ingested_at: DateTime<Utc>,
    rows: BTreeMap<String, u64>,
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

fn state_path(org: &str, repo: &str) -> String {
    format!("state/github/{org}/{}.json", repo.replace('/', "__"))
}

impl<'a> Connector<'a> {
    /// A connector for `cfg`.
    pub fn new(
        cfg: GithubConfig,
        clock: &'a dyn Clock,
        progress: &'a (dyn Fn(Progress) + Send + Sync),
    ) -> Result<Self> {
        if cfg.org.trim().is_empty() {
            return Err(Error::Config {
                setting: "org",
                reason: "empty; name the GitHub org to ingest".into(),
            });
        }
        if !(1..=100).contains(&cfg.page_size) {
            return Err(Error::Config {
                setting: "page_size",
                reason: format!("{} is out of range; use 1 to 100", cfg.page_size),
            });
        }
        let client = Client::new(&cfg)?;
        Ok(Connector {
            cfg,
            client,
            clock,
            progress,
        })
    }

    /// Requests and points spent so far.
    pub fn spend(&self) -> SpendSnapshot {
        self.client.spend.snapshot()
    }

    /// Ingest every configured repo into `sink`. Each repo's watermarks are saved only after
    /// all of its records are written; on an error the records of the pages fetched so far are
    /// kept (staging deduplicates them) and that repo's watermarks stay where they were.
    pub async fn run(&self, sink: &mut RawSink) -> Result<IngestReport> {
        let repos = self.repos().await?;
        (self.progress)(Progress::Repos(repos.len()));
        let mut run = Run {
            sink,
            workspace: self.cfg.org.clone(),
            ingested_at: self.clock.now(),
            rows: BTreeMap::new(),
        };
        for repo in &repos {
            self.ingest_repo(&mut run, repo).await?;
            (self.progress)(Progress::RepoDone(repo.clone()));
        }
        Ok(IngestReport {
            repos: repos.len(),
            rows: run.rows,
            spend: self.spend(),
        })
    }

    async fn repos(&self) -> Result<Vec<String>> {
        if !self.cfg.repos.is_empty() {
            return Ok(self
                .cfg
                .repos
                .iter()
                .map(|r| {
                    if r.contains('/') {
                        r.clone()
                    } else {
                        format!("{}/{r}", self.cfg.org)
                    }
                })
                .collect());
        }
        let mut out = Vec::new();
        let mut url = Some(format!(
            "/orgs/{}/repos?per_page={}&page=1",
            self.cfg.org, self.cfg.page_size
        ));
        while let Some(u) = url {
            let page = self.client.rest("org repos", &u).await?;
            for r in page.body.as_array().into_iter().flatten() {
                if r.get("archived").and_then(Value::as_bool).unwrap_or(false) {
                    continue;
                }
                if let Some(name) = r.get("full_name").and_then(Value::as_str) {
                    out.push(name.to_string());
                }
            }
            url = page.next;
        }
        out.sort();
        Ok(out)
    }

    async fn ingest_repo(&self, run: &mut Run<'_>, repo: &str) -> Result<()> {
        let lake = run.sink.lake().clone();
        let path = state_path(&self.cfg.org, repo);
        let mut state: RepoState = lake.get_json(&path).await?.unwrap_or_default();
        let result = async {
            self.pull_requests(run, repo, &mut state).await?;
            self.history(run, repo, &mut state).await?;
            self.deployments(run, repo, &mut state).await?;
            self.workflow_runs(run, repo, &mut state).await?;
            self.releases(run, repo, &mut state).await?;
            self.issues(run, repo, &mut state).await
        }
        .await;
        match result {
            Ok(()) => {
                state.run_id = Some(run.sink.run_id().to_string());
                lake.put_json(&path, &state).await?;
                Ok(())
            }
            Err(e) => {
                warn!(repo, error = %e, "repo failed; its watermarks stay where they were");
                Err(e)
            }
        }
    }

    fn cutoff(
        &self,
        state: &RepoState,
        entity: &str,
        overlap: std::time::Duration,
    ) -> Option<DateTime<Utc>> {
        let overlap =
            ChronoDuration::from_std(overlap).unwrap_or_else(|_| ChronoDuration::hours(1));
        match state.watermarks.get(entity) {
            Some(w) => Some(*w - overlap),
            None => self.cfg.since,
        }
    }

    fn split(repo: &str) -> (&str, &str) {
        repo.split_once('/').unwrap_or(("", repo))
    }

    /// A GraphQL connection of `repo`, page by page.
    fn gql<'c>(
        &'c self,
        repo: &str,
        kind: &'static str,
        query: &'static str,
        extra: Value,
    ) -> GqlPager<'c> {
        let (owner, name) = Self::split(repo);
        let mut vars =
            json!({"owner": owner, "name": name, "pageSize": self.cfg.page_size, "cursor": null});
        if let (Some(v), Value::Object(extra)) = (vars.as_object_mut(), extra) {
            v.extend(extra);
        }
        GqlPager {
            client: &self.client,
            label: format!("{kind} {repo}"),
            repo: repo.to_string(),
            query,
            vars,
            path: match kind {
                "pullRequests" => "/data/repository/pullRequests",
                "history" => "/data/repository/defaultBranchRef/target/history",
                _ => "/data/repository/deployments",
            },
            // An empty repository has no default branch, hence no history connection.
            missing_ok: kind == "history",
            page: 0,
            done: false,
        }
    }

    /// A REST listing, page by page along `Link: rel="next"`.
    fn rest<'c>(
        &'c self,
        repo: &str,
        kind: &'static str,
        first: String,
        items_at: Option<&'static str>,
    ) -> RestPager<'c> {
        RestPager {
            client: &self.client,
            label: format!("{kind} {repo}"),
            next: Some(first),
            items_at,
            page: 0,
        }
    }

    fn page_done(&self, repo: &str, entity: Entity, rows: usize) {
        (self.progress)(Progress::Page {
            repo: repo.to_string(),
            entity: entity.name(),
            rows,
        });
    }

    /// Write what was fetched — also when a later page failed: raw is append-only and the
    /// watermark is not advanced then, so the next run fetches those records again — and only
    /// on success move the entity's watermark to `watermark`.
    async fn land<T: Serialize>(
        run: &mut Run<'_>,
        entity: Entity,
        rows: &[T],
        outcome: Result<()>,
        state: &mut RepoState,
        watermark: Option<DateTime<Utc>>,
    ) -> Result<()> {
        run.write(entity, rows).await?;
        outcome?;
        if let Some(w) = watermark {
            state.watermarks.insert(entity.name().into(), w);
        }
        Ok(())
    }

    async fn pull_requests(
        &self,
        run: &mut Run<'_>,
        repo: &str,
        state: &mut RepoState,
    ) -> Result<()> {
        let entity = Entity::GithubPullRequests;
        let cutoff = self.cutoff(state, entity.name(), self.cfg.overlap);
        let mut newest = state.watermarks.get(entity.name()).copied();
        let (mut prs, mut commits, mut reviews) = (Vec::new(), Vec::new(), Vec::new());
        let mut pager = self.gql(repo, "pullRequests", queries::PULL_REQUESTS, json!({}));
        let outcome: Result<()> = async {
            while let Some(nodes) = pager.next().await? {
                let mut n = 0;
                for node in &nodes {
                    let pr = PullRequest::from_graphql(repo, node).map_err(|e| pager.decode(e))?;
                    // Newest update first: the rest of the list is older than the watermark.
                    if let (Some(c), Some(u)) = (cutoff, pr.updated_at)
                        && u < c
                    {
                        pager.stop();
                        break;
                    }
                    if pr.commits_total.unwrap_or(0) > 100 || pr.reviews_total.unwrap_or(0) > 100 {
                        warn!(
                            repo,
                            number = pr.number,
                            "PR has more than 100 commits or reviews; the first 100 are kept"
                        );
                    }
                    commits.extend(
                        PullRequest::commits_from_graphql(repo, node)
                            .map_err(|e| pager.decode(e))?,
                    );
                    reviews.extend(
                        PullRequest::reviews_from_graphql(repo, node)
                            .map_err(|e| pager.decode(e))?,
                    );
                    newest = newest.max(pr.updated_at);
                    prs.push(pr);
                    n += 1;
                }
                self.page_done(repo, entity, n);
                // Bound memory on very large repos; these files are whole pages too.
                if prs.len() >= self.cfg.flush_rows {
                    Self::flush_prs(run, &mut prs, &mut commits, &mut reviews).await?;
                }
            }
            Ok(())
        }
        .await;
        Self::flush_prs(run, &mut prs, &mut commits, &mut reviews).await?;
        Self::land::<PullRequest>(run, entity, &[], outcome, state, newest).await
    }

    async fn flush_prs(
        run: &mut Run<'_>,
        prs: &mut Vec<PullRequest>,
        commits: &mut Vec<PrCommit>,
        reviews: &mut Vec<Review>,
    ) -> Result<()> {
        run.write(Entity::GithubPullRequests, prs).await?;
        run.write(Entity::GithubPullRequestCommits, commits).await?;
        run.write(Entity::GithubPullRequestReviews, reviews).await?;
        prs.clear();
        commits.clear();
        reviews.clear();
        Ok(())
    }

    async fn history(&self, run: &mut Run<'_>, repo: &str, state: &mut RepoState) -> Result<()> {
        let entity = Entity::GithubCommits;
        let since = self.cutoff(state, entity.name(), self.cfg.overlap);
        let mut newest = state.watermarks.get(entity.name()).copied();
        let mut rows = Vec::new();
        let since = since.map(|s| s.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let mut pager = self.gql(repo, "history", queries::HISTORY, json!({ "since": since }));
        let outcome: Result<()> = async {
            while let Some(nodes) = pager.next().await? {
                for node in &nodes {
                    let c = Commit::from_graphql(repo, node).map_err(|e| pager.decode(e))?;
                    newest = newest.max(c.committed_at);
                    rows.push(c);
                }
                self.page_done(repo, entity, rows.len());
            }
            Ok(())
        }
        .await;
        Self::land(run, entity, &rows, outcome, state, newest).await
    }

    async fn deployments(
        &self,
        run: &mut Run<'_>,
        repo: &str,
        state: &mut RepoState,
    ) -> Result<()> {
        let entity = Entity::GithubDeployments;
        let cutoff = self.cutoff(state, entity.name(), self.cfg.deployment_overlap);
        let mut newest: Option<DateTime<Utc>> = None;
        let mut oldest_open: Option<DateTime<Utc>> = None;
        let mut rows = Vec::new();
        let mut pager = self.gql(repo, "deployments", queries::DEPLOYMENTS, json!({}));
        let outcome: Result<()> = async {
            while let Some(nodes) = pager.next().await? {
                for node in &nodes {
                    let d = Deployment::from_graphql(repo, node).map_err(|e| pager.decode(e))?;
                    if let (Some(c), Some(t)) = (cutoff, d.created_at)
                        && t < c
                    {
                        pager.stop();
                        break;
                    }
                    newest = newest.max(d.created_at);
                    if d.finished_at.is_none() {
                        oldest_open = earliest(oldest_open, d.created_at);
                    }
                    rows.push(d);
                }
                self.page_done(repo, entity, rows.len());
            }
            Ok(())
        }
        .await;
        // A deployment still running must be seen again once it finishes.
        Self::land(run, entity, &rows, outcome, state, oldest_open.or(newest)).await
    }

    async fn workflow_runs(
        &self,
        run: &mut Run<'_>,
        repo: &str,
        state: &mut RepoState,
    ) -> Result<()> {
        let entity = Entity::GithubWorkflowRuns;
        let cutoff = self.cutoff(state, entity.name(), self.cfg.deployment_overlap);
        let mut first = format!(
            "/repos/{repo}/actions/runs?per_page={}&page=1",
            self.cfg.page_size
        );
        if let Some(c) = cutoff {
            first.push_str(&format!(
                "&created=%3E%3D{}",
                c.format("%Y-%m-%dT%H:%M:%SZ")
            ));
        }
        let mut rows = Vec::new();
        let mut newest: Option<DateTime<Utc>> = None;
        let mut oldest_open: Option<DateTime<Utc>> = None;
        let mut pager = self.rest(repo, "workflow runs", first, Some("workflow_runs"));
        let outcome: Result<()> = async {
            while let Some(items) = pager.next().await? {
                for item in &items {
                    let r = WorkflowRun::from_rest(repo, item).map_err(|e| pager.decode(e))?;
                    newest = newest.max(r.created_at);
                    if !r
                        .status
                        .as_deref()
                        .is_some_and(|st| st.eq_ignore_ascii_case("completed"))
                    {
                        oldest_open = earliest(oldest_open, r.created_at);
                    }
                    rows.push(r);
                }
                self.page_done(repo, entity, rows.len());
            }
            Ok(())
        }
        .await;
        Self::land(run, entity, &rows, outcome, state, oldest_open.or(newest)).await
    }

    async fn releases(&self, run: &mut Run<'_>, repo: &str, state: &mut RepoState) -> Result<()> {
        let entity = Entity::GithubReleases;
        let cutoff = self.cutoff(state, entity.name(), self.cfg.overlap);
        let first = format!(
            "/repos/{repo}/releases?per_page={}&page=1",
            self.cfg.page_size
        );
        let mut rows = Vec::new();
        let mut newest = state.watermarks.get(entity.name()).copied();
        let mut pager = self.rest(repo, "releases", first, None);
        let outcome: Result<()> = async {
            while let Some(items) = pager.next().await? {
                for item in &items {
                    let r = Release::from_rest(repo, item).map_err(|e| pager.decode(e))?;
                    if let (Some(c), Some(t)) = (cutoff, r.created_at)
                        && t < c
                    {
                        pager.stop();
                        break;
                    }
                    newest = newest.max(r.created_at);
                    rows.push(r);
                }
                self.page_done(repo, entity, rows.len());
            }
            Ok(())
        }
        .await;
        Self::land(run, entity, &rows, outcome, state, newest).await
    }

    async fn issues(&self, run: &mut Run<'_>, repo: &str, state: &mut RepoState) -> Result<()> {
        let entity = Entity::GithubIssues;
        let since = self.cutoff(state, entity.name(), self.cfg.overlap);
        let mut first = format!(
            "/repos/{repo}/issues?labels={}&state=all&sort=updated&direction=asc&per_page={}&page=1",
            self.cfg.incident_label, self.cfg.page_size
        );
        if let Some(s) = since {
            first.push_str(&format!("&since={}", s.format("%Y-%m-%dT%H:%M:%SZ")));
        }
        let mut rows = Vec::new();
        let mut newest = state.watermarks.get(entity.name()).copied();
        let mut pager = self.rest(repo, "issues", first, None);
        let outcome: Result<()> = async {
            while let Some(items) = pager.next().await? {
                // The issues endpoint lists pull requests too.
                for item in items.iter().filter(|i| !Issue::rest_is_pull_request(i)) {
                    let i = Issue::from_rest(repo, item).map_err(|e| pager.decode(e))?;
                    newest = newest.max(i.updated_at);
                    rows.push(i);
                }
                self.page_done(repo, entity, rows.len());
            }
            Ok(())
        }
        .await;
        info!(repo, incidents = rows.len(), "issues fetched");
        Self::land(run, entity, &rows, outcome, state, newest).await
    }
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Pages of one GraphQL connection: cursors, `hasNextPage` and a missing connection (an
/// unknown repo) handled in one place.
struct GqlPager<'c> {
    client: &'c Client,
    label: String,
    repo: String,
    query: &'static str,
    vars: Value,
    path: &'static str,
    missing_ok: bool,
    page: u32,
    done: bool,
}

impl GqlPager<'_> {
    async fn next(&mut self) -> Result<Option<Vec<Value>>> {
        if self.done {
            return Ok(None);
        }
        self.page += 1;
        let v = self
            .client
            .graphql(&self.label, self.query, self.vars.clone())
            .await?;
        let Some(conn) = v.pointer(self.path) else {
            self.done = true;
            if self.missing_ok {
                return Ok(None);
            }
            return Err(Error::NotFound {
                what: format!("repository {}", self.repo),
                endpoint: format!("graphql {}", self.label),
            });
        };
        let has_next = conn
            .pointer("/pageInfo/hasNextPage")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        match conn.pointer("/pageInfo/endCursor").and_then(Value::as_str) {
            Some(c) if has_next => self.vars["cursor"] = Value::String(c.to_string()),
            _ => self.done = true,
        }
        Ok(Some(
            conn.get("nodes")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        ))
    }

    /// Fetch no further page (the rest is older than the watermark).
    fn stop(&mut self) {
        self.done = true;
    }

    fn decode(&self, source: flowlake_model::Error) -> Error {
        Error::Decode {
            endpoint: format!("graphql {}", self.label),
            page: self.page,
            source,
        }
    }
}

/// Pages of one REST listing along `Link: rel="next"`.
struct RestPager<'c> {
    client: &'c Client,
    label: String,
    next: Option<String>,
    items_at: Option<&'static str>,
    page: u32,
}

impl RestPager<'_> {
    async fn next(&mut self) -> Result<Option<Vec<Value>>> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        self.page += 1;
        let page = self.client.rest(&self.label, &url).await?;
        self.next = page.next;
        let items = match self.items_at {
            Some(key) => page.body.get(key),
            None => Some(&page.body),
        };
        Ok(Some(
            items.and_then(Value::as_array).cloned().unwrap_or_default(),
        ))
    }

    /// Fetch no further page.
    fn stop(&mut self) {
        self.next = None;
    }

    fn decode(&self, source: flowlake_model::Error) -> Error {
        Error::Decode {
            endpoint: self.label.clone(),
            page: self.page,
            source,
        }
    }
}
