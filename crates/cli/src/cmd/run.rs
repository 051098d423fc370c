//! `flowlake run PIPELINE.toml`: the steps of a scheduled job, and the events-file import.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::cmd::build;
use crate::config::Config;
use crate::plan::{self, GithubFlags};
use crate::steps::{self, events};

/// `flowlake run` flags.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The pipeline file (see pipelines/).
    pipeline: PathBuf,
    /// Lake URL (overrides the pipeline's `lake`).
    #[arg(long)]
    lake: Option<String>,
}

/// A pipeline file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pipeline {
    /// Its name, for logs.
    name: String,
    /// A flowlake.toml, relative to the pipeline file.
    config: Option<PathBuf>,
    /// The lake URL.
    lake: Option<String>,
    /// Steps in order: "ingest-github", "ingest-jira", "ingest-events", "build".
    steps: Vec<String>,
    /// Event files for "ingest-events", relative to the pipeline file.
    #[serde(default)]
    events: Vec<PathBuf>,
    /// The workspace of imported events.
    #[serde(default = "default_events_workspace")]
    events_workspace: String,
}

fn default_events_workspace() -> String {
    "events".into()
}

/// Run a pipeline file.
pub async fn run(args: Args, cfg: &Config) -> Result<()> {
    let text = std::fs::read_to_string(&args.pipeline)
        .with_context(|| format!("reading pipeline file {}", args.pipeline.display()))?;
    let p: Pipeline = toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "pipeline file {} is not valid: {}",
            args.pipeline.display(),
            e.to_string().trim_end()
        )
    })?;
    let base = args.pipeline.parent().unwrap_or(Path::new("."));
    for step in &p.steps {
        if !matches!(
            step.as_str(),
            "ingest-github" | "ingest-jira" | "ingest-events" | "build"
        ) {
            bail!(
                "pipeline {}: unknown step `{step}`; steps are ingest-github, ingest-jira, \
                 ingest-events, build",
                args.pipeline.display()
            );
        }
    }
    let cfg = match &p.config {
        Some(c) => Config::load(&base.join(c))?,
        None => cfg.clone(),
    };
    let lake = plan::lake(args.lake.as_deref().or(p.lake.as_deref()), &cfg)?;
    // Check everything a step needs before the first one writes anything.
    let gh = if p.steps.iter().any(|s| s == "ingest-github") {
        Some(plan::github(&GithubFlags::default(), &cfg)?)
    } else {
        None
    };
    let jira = if p.steps.iter().any(|s| s == "ingest-jira") {
        Some(plan::jira(&plan::JiraFlags::default(), &cfg)?)
    } else {
        None
    };
    let mut parsed_events = Vec::new();
    if p.steps.iter().any(|s| s == "ingest-events") {
        for f in &p.events {
            let path = base.join(f);
            parsed_events.push((path.clone(), events::parse_events(&path)?));
        }
    }
    for step in &p.steps {
        eprintln!("pipeline {}: {step}", p.name);
        match step.as_str() {
            "ingest-github" => {
                let gh = gh.clone().expect("checked above");
                let (report, m) =
                    steps::ingest::ingest_github(&lake, gh, "run ingest-github", &cfg.hash(), true)
                        .await?;
                println!("{}: {} repos, run {}", step, report.repos, m.run_id);
            }
            "ingest-jira" => {
                let jira = jira.clone().expect("checked above");
                let (report, m) =
                    steps::ingest::ingest_jira(&lake, jira, "run ingest-jira", &cfg.hash(), true)
                        .await?;
                println!(
                    "{}: {} projects, {} tombstones, run {}",
                    step, report.projects, report.tombstones, m.run_id
                );
            }
            "ingest-events" => {
                for (path, events) in std::mem::take(&mut parsed_events) {
                    let m = events::write_events(&lake, events, &p.events_workspace, &cfg.hash())
                        .await?;
                    println!("{step}: {} → run {}", path.display(), m.run_id);
                }
            }
            _ => {
                let r = build::build(&lake, &cfg, None, true).await?;
                println!(
                    "build: {} models in {:.1}s",
                    r.models.len(),
                    r.duration.as_secs_f64()
                );
            }
        }
    }
    Ok(())
}
