//! `flowlake run PIPELINE.toml`: the steps of a scheduled job, and the events-file import.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use flowlake_lake::{Lake, RawSink, RunManifest, new_run_id};
use flowlake_model::events::{EventDeployment, EventIncident};
use flowlake_model::time::parse_ts;
use flowlake_model::{Entity, to_batch};
use serde::Deserialize;

use crate::cmd::{build, ingest};
use crate::config::Config;
use crate::plan::{self, GithubFlags};

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
            parsed_events.push((path.clone(), parse_events(&path)?));
        }
    }
    for step in &p.steps {
        eprintln!("pipeline {}: {step}", p.name);
        match step.as_str() {
            "ingest-github" => {
                let gh = gh.clone().expect("checked above");
                let (report, m) =
                    ingest::ingest_github(&lake, gh, "run ingest-github", &cfg.hash(), true)
                        .await?;
                println!("{}: {} repos, run {}", step, report.repos, m.run_id);
            }
            "ingest-jira" => {
                let jira = jira.clone().expect("checked above");
                let (report, m) =
                    ingest::ingest_jira(&lake, jira, "run ingest-jira", &cfg.hash(), true).await?;
                println!(
                    "{}: {} projects, {} tombstones, run {}",
                    step, report.projects, report.tombstones, m.run_id
                );
            }
            "ingest-events" => {
                for (path, events) in std::mem::take(&mut parsed_events) {
                    let m = write_events(&lake, events, &p.events_workspace, &cfg.hash()).await?;
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

/// Parsed events of one file.
#[derive(Debug, Default)]
pub struct Events {
    deployments: Vec<EventDeployment>,
    incidents: Vec<EventIncident>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EventRow {
    #[serde(rename = "type")]
    kind: String,
    source: Option<String>,
    id: Option<String>,
    service: Option<String>,
    environment: Option<String>,
    sha: Option<String>,
    status: Option<String>,
    started_at: Option<String>,
    finished_at: Option<String>,
    title: Option<String>,
    opened_at: Option<String>,
    resolved_at: Option<String>,
    severity: Option<String>,
}

fn need(v: &Option<String>, field: &str, at: &str) -> Result<String> {
    match v.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => Ok(s.to_string()),
        _ => bail!("{at}: `{field}` is required"),
    }
}

fn time(v: &Option<String>, field: &str, at: &str) -> Result<Option<DateTime<Utc>>> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => parse_ts(s)
            .map(Some)
            .ok_or_else(|| anyhow::anyhow!("{at}: `{field}` = `{s}` is not a timestamp; use RFC 3339, e.g. 2026-03-01T14:05:00Z")),
    }
}

fn add_row(events: &mut Events, row: EventRow, at: &str) -> Result<()> {
    let source = need(&row.source, "source", at)?;
    let id = need(&row.id, "id", at)?;
    let service = need(&row.service, "service", at)?;
    match row.kind.trim() {
        "deployment" => {
            let status = need(&row.status, "status", at)?.to_lowercase();
            let finished_at = time(&row.finished_at, "finished_at", at)?;
            if finished_at.is_none() {
                bail!("{at}: `finished_at` is required for a deployment");
            }
            events.deployments.push(EventDeployment {
                source,
                deployment_id: id,
                service,
                environment: row.environment.filter(|s| !s.is_empty()),
                sha: row.sha.filter(|s| !s.is_empty()),
                status,
                started_at: time(&row.started_at, "started_at", at)?,
                finished_at,
            });
        }
        "incident" => {
            let opened_at = time(&row.opened_at, "opened_at", at)?;
            let Some(opened) = opened_at else {
                bail!("{at}: `opened_at` is required for an incident");
            };
            let resolved_at = time(&row.resolved_at, "resolved_at", at)?;
            if resolved_at.is_some_and(|r| r < opened) {
                bail!("{at}: `resolved_at` is before `opened_at`");
            }
            events.incidents.push(EventIncident {
                source,
                incident_id: id,
                service,
                title: row.title.filter(|s| !s.is_empty()),
                opened_at,
                resolved_at,
                severity: row.severity.filter(|s| !s.is_empty()),
            });
        }
        other => bail!("{at}: `type` is `{other}`; use `deployment` or `incident`"),
    }
    Ok(())
}

/// Parse and check a whole events file (NDJSON or CSV) before anything is written.
pub fn parse_events(path: &Path) -> Result<Events> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading events file {}", path.display()))?;
    let mut events = Events::default();
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        for (i, rec) in reader.deserialize::<EventRow>().enumerate() {
            let at = format!("{} line {}", path.display(), i + 2);
            let row = rec.map_err(|e| anyhow::anyhow!("{at}: {e}"))?;
            add_row(&mut events, row, &at)?;
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = format!("{} line {}", path.display(), i + 1);
            let row: EventRow =
                serde_json::from_str(line).map_err(|e| anyhow::anyhow!("{at}: {e}"))?;
            add_row(&mut events, row, &at)?;
        }
    }
    if events.deployments.is_empty() && events.incidents.is_empty() {
        bail!("events file {} holds no events", path.display());
    }
    Ok(events)
}

/// Import an events file into `raw/events/`.
pub async fn ingest_events(
    lake: &Lake,
    path: &Path,
    workspace: &str,
    config_hash: &str,
) -> Result<RunManifest> {
    let events = parse_events(path)?;
    lake.check().await?;
    write_events(lake, events, workspace, config_hash).await
}

async fn write_events(
    lake: &Lake,
    events: Events,
    workspace: &str,
    config_hash: &str,
) -> Result<RunManifest> {
    let now = Utc::now();
    let run_id = new_run_id(now);
    let mut manifest = RunManifest::start(&run_id, "ingest events", now);
    manifest.config_hash = Some(config_hash.to_string());
    let mut sink = RawSink::new(lake.clone(), &run_id, now.date_naive());
    let d = to_batch(
        Entity::EventsDeployments,
        &events.deployments,
        workspace,
        &run_id,
        now,
    )?;
    let i = to_batch(
        Entity::EventsIncidents,
        &events.incidents,
        workspace,
        &run_id,
        now,
    )?;
    let result: Result<()> = async {
        sink.write(&Entity::EventsDeployments.dir(), d).await?;
        sink.write(&Entity::EventsIncidents.dir(), i).await?;
        Ok(())
    }
    .await;
    manifest.rows = sink.rows().clone();
    manifest.files = sink.files().to_vec();
    manifest.finish(Utc::now(), result.as_ref().err().map(|e| format!("{e:#}")));
    lake.put_json(&manifest.rel_path(), &manifest).await?;
    result?;
    Ok(manifest)
}
