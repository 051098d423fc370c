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

    async fn pull_requests(
        &self,
        run: &mut Run<'_>,
        repo: &str,
        state: &mut RepoState,
    ) -> Result<()> {
        const ENTITY: &str = "pull_requests";
        let cutoff = self.cutoff(state, ENTITY, self.cfg.overlap);
        let (owner, name) = Self::split(repo);
        let mut cursor: Option<String> = None;
        let mut page_no = 0u32;
        let mut newest = state.watermarks.get(ENTITY).copied();
        let (mut prs, mut commits, mut reviews) = (Vec::new(), Vec::new(), Vec::new());
        let endpoint = format!("graphql pullRequests {repo}");
        let outcome: Result<()> = async {
            loop {
                page_no += 1;
                let v = self
                    .client
                    .graphql(&format!("pullRequests {repo}"), queries::PULL_REQUESTS, json!({
                        "owner": owner, "name": name, "pageSize": self.cfg.page_size, "cursor": cursor,
                    }))
                    .await?;
                let conn = v.pointer("/data/repository/pullRequests").ok_or_else(|| Error::NotFound {
                    what: format!("repository {repo}"),
                    endpoint: endpoint.clone(),
                })?;
                let decode = |source| Error::Decode { endpoint: endpoint.clone(), page: page_no, source };
                let mut reached_cutoff = false;
                let mut n = 0;
                for node in conn.get("nodes").and_then(Value::as_array).into_iter().flatten() {
                    let pr = PullRequest::from_graphql(repo, node).map_err(decode)?;
                    if let (Some(c), Some(u)) = (cutoff, pr.updated_at)
                        && u < c
                    {
                        reached_cutoff = true;
                        break;
                    }
                    if pr.commits_total.unwrap_or(0) > 100 || pr.reviews_total.unwrap_or(0) > 100 {
                        warn!(repo, number = pr.number, "PR has more than 100 commits or reviews; the first 100 are kept");
                    }
                    commits.extend(PullRequest::commits_from_graphql(repo, node).map_err(decode)?);
                    reviews.extend(PullRequest::reviews_from_graphql(repo, node).map_err(decode)?);
                    newest = newest.max(pr.updated_at);
                    prs.push(pr);
                    n += 1;
                }
                (self.progress)(Progress::Page { repo: repo.to_string(), entity: ENTITY, rows: n });
                if prs.len() >= self.cfg.flush_rows {
                    self.flush_prs(run, &mut prs, &mut commits, &mut reviews).await?;
                }
                let has_next = conn.pointer("/pageInfo/hasNextPage").and_then(Value::as_bool).unwrap_or(false);
                if reached_cutoff || !has_next {
                    return Ok(());
                }
                cursor = conn.pointer("/pageInfo/endCursor").and_then(Value::as_str).map(str::to_string);
            }
        }
        .await;
        // Pages that arrived whole are kept even when a later page failed: raw is append-only
        // and the watermark below is not advanced, so the next run fetches them again.
        self.flush_prs(run, &mut prs, &mut commits, &mut reviews)
            .await?;
        outcome?;
        if let Some(n) = newest {
            state.watermarks.insert(ENTITY.into(), n);
        }
        Ok(())
    }

    async fn flush_prs(
        &self,
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
        const ENTITY: &str = "commits";
        let since = self.cutoff(state, ENTITY, self.cfg.overlap);
        let (owner, name) = Self::split(repo);
        let endpoint = format!("graphql history {repo}");
        let mut cursor: Option<String> = None;
        let mut page_no = 0;
        let mut newest = state.watermarks.get(ENTITY).copied();
        let mut rows = Vec::new();
        let outcome: Result<()> = async {
            loop {
                page_no += 1;
                let v = self
                    .client
                    .graphql(&format!("history {repo}"), queries::HISTORY, json!({
                        "owner": owner, "name": name, "pageSize": self.cfg.page_size,
                        "cursor": cursor, "since": since.map(|s| s.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                    }))
                    .await?;
                let Some(conn) = v.pointer("/data/repository/defaultBranchRef/target/history") else {
                    // An empty repository has no default branch yet.
                    return Ok(());
                };
                for node in conn.get("nodes").and_then(Value::as_array).into_iter().flatten() {
                    let c = Commit::from_graphql(repo, node)
                        .map_err(|source| Error::Decode { endpoint: endpoint.clone(), page: page_no, source })?;
                    newest = newest.max(c.committed_at);
                    rows.push(c);
                }
                (self.progress)(Progress::Page { repo: repo.to_string(), entity: ENTITY, rows: rows.len() });
                if !conn.pointer("/pageInfo/hasNextPage").and_then(Value::as_bool).unwrap_or(false) {
                    return Ok(());
                }
                cursor = conn.pointer("/pageInfo/endCursor").and_then(Value::as_str).map(str::to_string);
            }
        }
        .await;
        run.write(Entity::GithubCommits, &rows).await?;
        outcome?;
        if let Some(n) = newest {
            state.watermarks.insert(ENTITY.into(), n);
        }
        Ok(())
    }

    async fn deployments(
        &self,
        run: &mut Run<'_>,
        repo: &str,
        state: &mut RepoState,
    ) -> Result<()> {
        const ENTITY: &str = "deployments";
        let cutoff = self.cutoff(state, ENTITY, self.cfg.deployment_overlap);
        let (owner, name) = Self::split(repo);
        let endpoint = format!("graphql deployments {repo}");
        let mut cursor: Option<String> = None;
        let mut page_no = 0;
        let mut newest: Option<DateTime<Utc>> = None;
        let mut oldest_open: Option<DateTime<Utc>> = None;
        let mut rows = Vec::new();
        let outcome: Result<()> = async {
            loop {
                page_no += 1;
                let v = self
                    .client
                    .graphql(&format!("deployments {repo}"), queries::DEPLOYMENTS, json!({
                        "owner": owner, "name": name, "pageSize": self.cfg.page_size, "cursor": cursor,
                    }))
                    .await?;
                let conn = v.pointer("/data/repository/deployments").ok_or_else(|| Error::NotFound {
                    what: format!("repository {repo}"),
                    endpoint: endpoint.clone(),
                })?;
                let mut reached = false;
                for node in conn.get("nodes").and_then(Value::as_array).into_iter().flatten() {
                    let d = Deployment::from_graphql(repo, node)
                        .map_err(|source| Error::Decode { endpoint: endpoint.clone(), page: page_no, source })?;
                    if let (Some(c), Some(t)) = (cutoff, d.created_at)
                        && t < c
                    {
                        reached = true;
                        break;
                    }
                    newest = newest.max(d.created_at);
                    if d.finished_at.is_none() {
                        oldest_open = match (oldest_open, d.created_at) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        };
                    }
                    rows.push(d);
                }
                (self.progress)(Progress::Page { repo: repo.to_string(), entity: ENTITY, rows: rows.len() });
                if reached || !conn.pointer("/pageInfo/hasNextPage").and_then(Value::as_bool).unwrap_or(false) {
                    return Ok(());
                }
                cursor = conn.pointer("/pageInfo/endCursor").and_then(Value::as_str).map(str::to_string);
            }
        }
        .await;
        run.write(Entity::GithubDeployments, &rows).await?;
        outcome?;
        // A deployment still running must be seen again once it finishes.
        if let Some(w) = oldest_open.or(newest) {
            state.watermarks.insert(ENTITY.into(), w);
        }
        Ok(())
    }

    async fn workflow_runs(
        &self,
        run: &mut Run<'_>,
        repo: &str,
        state: &mut RepoState,
    ) -> Result<()> {
        const ENTITY: &str = "workflow_runs";
        let cutoff = self.cutoff(state, ENTITY, self.cfg.deployment_overlap);
        let mut url = Some(match cutoff {
            Some(c) => format!(
                "/repos/{repo}/actions/runs?per_page={}&page=1&created=%3E%3D{}",
                self.cfg.page_size,
                c.format("%Y-%m-%dT%H:%M:%SZ")
            ),
            None => format!(
                "/repos/{repo}/actions/runs?per_page={}&page=1",
                self.cfg.page_size
            ),
        });
        let mut page_no = 0;
        let mut rows = Vec::new();
        let mut newest: Option<DateTime<Utc>> = None;
        let mut oldest_open: Option<DateTime<Utc>> = None;
        let endpoint = format!("/repos/{repo}/actions/runs");
        let outcome: Result<()> = async {
            while let Some(u) = url.take() {
                page_no += 1;
                let page = self
                    .client
                    .rest(&format!("workflow runs {repo}"), &u)
                    .await?;
                for item in page
                    .body
                    .get("workflow_runs")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let r = WorkflowRun::from_rest(repo, item).map_err(|source| Error::Decode {
                        endpoint: endpoint.clone(),
                        page: page_no,
                        source,
                    })?;
                    newest = newest.max(r.created_at);
                    if !r
                        .status
                        .as_deref()
                        .is_some_and(|st| st.eq_ignore_ascii_case("completed"))
                    {
                        oldest_open = match (oldest_open, r.created_at) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        };
                    }
                    rows.push(r);
                }
                (self.progress)(Progress::Page {
                    repo: repo.to_string(),
                    entity: ENTITY,
                    rows: rows.len(),
                });
                url = page.next;
            }
            Ok(())
        }
        .await;
        run.write(Entity::GithubWorkflowRuns, &rows).await?;
        outcome?;
        if let Some(w) = oldest_open.or(newest) {
            state.watermarks.insert(ENTITY.into(), w);
        }
        Ok(())
    }

    async fn releases(&self, run: &mut Run<'_>, repo: &str, state: &mut RepoState) -> Result<()> {
        const ENTITY: &str = "releases";
        let cutoff = self.cutoff(state, ENTITY, self.cfg.overlap);
        let mut url = Some(format!(
            "/repos/{repo}/releases?per_page={}&page=1",
            self.cfg.page_size
        ));
        let endpoint = format!("/repos/{repo}/releases");
        let mut page_no = 0;
        let mut rows = Vec::new();
        let mut newest = state.watermarks.get(ENTITY).copied();
        let outcome: Result<()> = async {
            while let Some(u) = url.take() {
                page_no += 1;
                let page = self.client.rest(&format!("releases {repo}"), &u).await?;
                let mut reached = false;
                for item in page.body.as_array().into_iter().flatten() {
                    let r = Release::from_rest(repo, item).map_err(|source| Error::Decode {
                        endpoint: endpoint.clone(),
                        page: page_no,
                        source,
                    })?;
                    if let (Some(c), Some(t)) = (cutoff, r.created_at)
                        && t < c
                    {
                        reached = true;
                        break;
                    }
                    newest = newest.max(r.created_at);
                    rows.push(r);
                }
                (self.progress)(Progress::Page {
                    repo: repo.to_string(),
                    entity: ENTITY,
                    rows: rows.len(),
                });
                if !reached {
                    url = page.next;
                }
            }
            Ok(())
        }
        .await;
        run.write(Entity::GithubReleases, &rows).await?;
        outcome?;
        if let Some(n) = newest {
            state.watermarks.insert(ENTITY.into(), n);
        }
        Ok(())
    }

    async fn issues(&self, run: &mut Run<'_>, repo: &str, state: &mut RepoState) -> Result<()> {
        const ENTITY: &str = "issues";
        let since = self.cutoff(state, ENTITY, self.cfg.overlap);
        let mut first = format!(
            "/repos/{repo}/issues?labels={}&state=all&sort=updated&direction=asc&per_page={}&page=1",
            self.cfg.incident_label, self.cfg.page_size
        );
        if let Some(s) = since {
            first.push_str(&format!("&since={}", s.format("%Y-%m-%dT%H:%M:%SZ")));
        }
        let endpoint = format!("/repos/{repo}/issues");
        let mut url = Some(first);
        let mut page_no = 0;
        let mut rows = Vec::new();
        let mut newest = state.watermarks.get(ENTITY).copied();
        let outcome: Result<()> = async {
            while let Some(u) = url.take() {
                page_no += 1;
                let page = self.client.rest(&format!("issues {repo}"), &u).await?;
                for item in page.body.as_array().into_iter().flatten() {
                    if Issue::rest_is_pull_request(item) {
                        continue;
                    }
                    let i = Issue::from_rest(repo, item).map_err(|source| Error::Decode {
                        endpoint: endpoint.clone(),
                        page: page_no,
                        source,
                    })?;
                    newest = newest.max(i.updated_at);
                    rows.push(i);
                }
                (self.progress)(Progress::Page {
                    repo: repo.to_string(),
                    entity: ENTITY,
                    rows: rows.len(),
                });
                url = page.next;
            }
            Ok(())
        }
        .await;
        run.write(Entity::GithubIssues, &rows).await?;
        outcome?;
        if let Some(n) = newest {
            state.watermarks.insert(ENTITY.into(), n);
        }
        info!(repo, incidents = rows.len(), "issues done");
        Ok(())
    }
}
