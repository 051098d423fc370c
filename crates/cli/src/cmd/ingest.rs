//! `flowlake ingest github|jira|events`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{NaiveDate, Utc};
use clap::Subcommand;
use flowlake_github::{Connector, IngestReport, SystemClock};
use flowlake_lake::{Lake, RawSink, RunManifest, new_run_id};

use crate::config::Config;
use crate::plan::{self, GithubFlags};
use crate::progress::IngestBars;

/// What to ingest.
#[derive(Debug, Subcommand)]
pub enum IngestCommand {
    /// GitHub: PRs with reviews and commits, history, deployments, runs, releases, incidents.
    Github {
        /// Lake URL: folder, file://, s3://bucket/prefix or memory://.
        #[arg(long)]
        lake: Option<String>,
        /// The org (overrides [github] org).
        #[arg(long)]
        org: Option<String>,
        /// REST base URL, e.g. https://HOST/api/v3 for GitHub Enterprise.
        #[arg(long)]
        base_url: Option<String>,
        /// Only these repos (repeatable).
        #[arg(long = "repo")]
        repos: Vec<String>,
        /// First-run start date, YYYY-MM-DD.
        #[arg(long)]
        since: Option<NaiveDate>,
        /// Print the run report as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Jira: issues with full changelogs, sprints, boards, statuses; incidents by type or JQL.
    Jira {
        /// Lake URL: folder, file://, s3://bucket/prefix or memory://.
        #[arg(long)]
        lake: Option<String>,
        /// The site (overrides [jira] base_url).
        #[arg(long)]
        base_url: Option<String>,
        /// Only these project keys (repeatable; overrides [jira] projects).
        #[arg(long = "project")]
        projects: Vec<String>,
        /// First-run start date, YYYY-MM-DD.
        #[arg(long)]
        since: Option<NaiveDate>,
        /// Print the run report as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Deployments and incidents from any other tool: NDJSON or CSV (see docs/events.md).
    Events {
        /// The file (.ndjson, .jsonl or .csv).
        file: PathBuf,
        /// Lake URL.
        #[arg(long)]
        lake: Option<String>,
        /// Workspace the rows belong to.
        #[arg(long, default_value = "events")]
        workspace: String,
        /// Print the run report as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// Run an ingest command.
pub async fn run(cmd: IngestCommand, cfg: &Config) -> Result<()> {
    match cmd {
        IngestCommand::Github {
            lake,
            org,
            base_url,
            repos,
            since,
            json,
        } => {
            let lake = plan::lake(lake.as_deref(), cfg)?;
            let gh = plan::github(
                &GithubFlags {
                    org,
                    base_url,
                    repos,
                    since,
                },
                cfg,
            )?;
            let (report, manifest) =
                ingest_github(&lake, gh, "ingest github", &cfg.hash(), json).await?;
            print_report(&report, &manifest, json)
        }
        IngestCommand::Jira {
            lake,
            base_url,
            projects,
            since,
            json,
        } => {
            let lake = plan::lake(lake.as_deref(), cfg)?;
            let jira = plan::jira(
                &plan::JiraFlags {
                    base_url,
                    projects,
                    since,
                },
                cfg,
            )?;
            let (report, manifest) =
                ingest_jira(&lake, jira, "ingest jira", &cfg.hash(), json).await?;
            print_jira_report(&report, &manifest, json)
        }
        IngestCommand::Events {
            file,
            lake,
            workspace,
            json,
        } => {
            let lake = plan::lake(lake.as_deref(), cfg)?;
            let manifest =
                crate::cmd::run::ingest_events(&lake, &file, &workspace, &cfg.hash()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&manifest)?);
            } else {
                for (entity, rows) in &manifest.rows {
                    println!("{entity}: {rows} rows");
                }
                println!("run {} written to {}", manifest.run_id, lake.url());
            }
            Ok(())
        }
    }
}

fn print_report(report: &IngestReport, manifest: &RunManifest, json: bool) -> Result<()> {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "run_id": manifest.run_id, "report": report,
            }))?
        );
    } else {
        println!("ingested {} repos in run {}", report.repos, manifest.run_id);
        for (entity, rows) in &report.rows {
            println!("  {entity:<22} {rows:>9} rows");
        }
        println!(
            "  {} requests ({} GraphQL, {} retries, {} rate-limit waits), {} rate-limit points",
            report.spend.requests,
            report.spend.graphql_requests,
            report.spend.retries,
            report.spend.rate_limit_waits,
            report.spend.points
        );
    }
    Ok(())
}

fn print_jira_report(
    report: &flowlake_jira::IngestReport,
    manifest: &RunManifest,
    json: bool,
) -> Result<()> {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "run_id": manifest.run_id, "report": report,
            }))?
        );
    } else {
        println!(
            "ingested {} Jira projects in run {}",
            report.projects, manifest.run_id
        );
        for (entity, rows) in &report.rows {
            println!("  {entity:<22} {rows:>9} rows");
        }
        println!(
            "  {} tombstones (deleted or moved out of scope); {} requests ({} search pages, \
             {} changelog pages, {} retries, {} rate-limit waits)",
            report.tombstones,
            report.spend.requests,
            report.spend.search_pages,
            report.spend.changelog_pages,
            report.spend.retries,
            report.spend.rate_limit_waits
        );
    }
    Ok(())
}

/// What every connector run shares: a run id, the raw sink its files go to, and the manifest
/// it leaves behind.
struct IngestRun {
    manifest: RunManifest,
    sink: RawSink,
}

impl IngestRun {
    /// Checks the lake and opens a run of `command`.
    async fn start(lake: &Lake, command: &str, config_hash: &str) -> Result<Self> {
        lake.check().await?;
        let started = Utc::now();
        let run_id = new_run_id(started);
        let mut manifest = RunManifest::start(&run_id, command, started);
        manifest.config_hash = Some(config_hash.to_string());
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
        self.manifest
            .finish(Utc::now(), result.as_ref().err().map(|e| format!("{e}")));
        if result.is_ok() || !self.manifest.files.is_empty() {
            lake.put_json(&self.manifest.rel_path(), &self.manifest)
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
    config_hash: &str,
    quiet: bool,
) -> Result<(flowlake_jira::IngestReport, RunManifest)> {
    let mut run = IngestRun::start(lake, command, config_hash).await?;
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
    config_hash: &str,
    quiet: bool,
) -> Result<(IngestReport, RunManifest)> {
    let mut run = IngestRun::start(lake, command, config_hash).await?;
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
