//! `flowlake ingest github|jira|events`.

use std::path::PathBuf;

use anyhow::Result;
use chrono::NaiveDate;
use clap::Subcommand;
use flowlake_github::IngestReport;
use flowlake_lake::RunManifest;

use crate::config::Config;
use crate::exit;
use crate::plan::{self, GithubFlags};
use crate::steps::ingest as steps;
use crate::steps::lock::{LockFlags, with_lock};

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
        #[command(flatten)]
        lock: LockFlags,
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
        #[command(flatten)]
        lock: LockFlags,
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
        #[command(flatten)]
        lock: LockFlags,
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
            lock,
        } => {
            let lake = plan::lake(lake.as_deref(), cfg).map_err(exit::usage)?;
            let gh = plan::github(
                &GithubFlags {
                    org,
                    base_url,
                    repos,
                    since,
                },
                cfg,
            )
            .map_err(exit::usage)?;
            let (report, manifest) = with_lock(&lake, "ingest github", &lock, cfg, async |_| {
                steps::ingest_github(&lake, gh, "ingest github", cfg, json).await
            })
            .await?;
            print_report(&report, &manifest, json)
        }
        IngestCommand::Jira {
            lake,
            base_url,
            projects,
            since,
            json,
            lock,
        } => {
            let lake = plan::lake(lake.as_deref(), cfg).map_err(exit::usage)?;
            let jira = plan::jira(
                &plan::JiraFlags {
                    base_url,
                    projects,
                    since,
                },
                cfg,
            )
            .map_err(exit::usage)?;
            let (report, manifest) = with_lock(&lake, "ingest jira", &lock, cfg, async |_| {
                steps::ingest_jira(&lake, jira, "ingest jira", cfg, json).await
            })
            .await?;
            print_jira_report(&report, &manifest, json)
        }
        IngestCommand::Events {
            file,
            lake,
            workspace,
            json,
            lock,
        } => {
            let lake = plan::lake(lake.as_deref(), cfg).map_err(exit::usage)?;
            // A bad file is a usage error found before the lake is touched.
            let events = crate::steps::events::parse_events(&file).map_err(exit::usage)?;
            let manifest = with_lock(&lake, "ingest events", &lock, cfg, async |_| {
                crate::steps::events::write_events(&lake, events, &workspace, cfg).await
            })
            .await?;
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
