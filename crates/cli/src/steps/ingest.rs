//! Connector runs: GitHub and Jira ingests into a lake, each leaving a run manifest.

use anyhow::{Context, Result};
use chrono::Utc;
use flowlake_github::{Connector, IngestReport, SystemClock};
use flowlake_lake::{Lake, RawSink, RunManifest, new_run_id};

use crate::config::Config;
use crate::progress::IngestBars;

/// What every connector run shares: a run id, the raw sink its files go to, and the manifest
/// it leaves behind.
struct IngestRun {
    manifest: RunManifest,
    sink: RawSink,
}

impl IngestRun {
    /// Checks the lake and opens a run of `command`.
    async fn start(lake: &Lake, command: &str, cfg: &Config) -> Result<Self> {
        lake.check().await?;
        let started = Utc::now();
        let run_id = new_run_id(started);
        let mut manifest = RunManifest::start(&run_id, command, started);
        crate::audit::stamp(&mut manifest, cfg);
        let sink = RawSink::new(lake.clone(), &run_id, started.date_naive());
        Ok(IngestRun { manifest, sink })
    }

    /// Records the files written and the outcome. A run that failed before writing any data
    /// (a bad token, an unknown org or project) leaves nothing behind; every other run, failed
    /// or not, leaves its manifest as the audit record.
    async fn finish<T, E: std::fmt::Display>(
        mut self,
        lake: &Lake,
        result: &std::result::Result<T, E>,
    ) -> Result<RunManifest> {
        self.manifest.rows = self.sink.rows().clone();
        self.manifest.files = self.sink.files().to_vec();
        for source in ["github", "jira"] {
            self.manifest.record_watermarks(lake, source).await?;
        }
        self.manifest
            .finish(Utc::now(), result.as_ref().err().map(|e| format!("{e:#}")));
        if result.is_ok() || !self.manifest.files.is_empty() {
            self.manifest
                .write(lake)
                .await
                .context("writing the run manifest")?;
        }
        Ok(self.manifest)
    }
}

/// Ingest Jira into `lake` and leave a run manifest, whatever the outcome (a run that failed
/// before writing anything leaves nothing).
pub async fn ingest_jira(
    lake: &Lake,
    jira: flowlake_jira::JiraConfig,
    command: &str,
    cfg: &Config,
    quiet: bool,
) -> Result<(flowlake_jira::IngestReport, RunManifest)> {
    let mut run = IngestRun::start(lake, command, cfg).await?;
    let bars = IngestBars::new(quiet);
    let hook = bars.jira_hook();
    let clock = flowlake_jira::SystemClock;
    let connector = flowlake_jira::Connector::new(jira, &clock, &hook)?;
    let result = connector.run(&mut run.sink).await;
    bars.finish();
    run.manifest
        .api_requests
        .insert("jira".into(), connector.spend().requests);
    let manifest = run.finish(lake, &result).await?;
    let report = result.with_context(|| {
        format!(
            "ingesting Jira (run {}; watermarks of the failed project not advanced)",
            manifest.run_id
        )
    })?;
    Ok((report, manifest))
}

/// Ingest GitHub into `lake` and leave a run manifest, whatever the outcome.
pub async fn ingest_github(
    lake: &Lake,
    gh: flowlake_github::GithubConfig,
    command: &str,
    cfg: &Config,
    quiet: bool,
) -> Result<(IngestReport, RunManifest)> {
    let mut run = IngestRun::start(lake, command, cfg).await?;
    let bars = IngestBars::new(quiet);
    let hook = bars.hook();
    let clock = SystemClock;
    let connector = Connector::new(gh, &clock, &hook)?;
    let result = connector.run(&mut run.sink).await;
    bars.finish();
    let spend = connector.spend();
    run.manifest
        .api_requests
        .insert("github".into(), spend.requests);
    run.manifest
        .rate_limit_points
        .insert("github".into(), spend.points);
    let manifest = run.finish(lake, &result).await?;
    let report = result.with_context(|| {
        format!(
            "ingesting GitHub (run {}; watermarks of the failed repo not advanced)",
            manifest.run_id
        )
    })?;
    Ok((report, manifest))
}
