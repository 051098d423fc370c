//! The events-file import: deployments and incidents from other tools (NDJSON or CSV), checked
//! row by row and written to the raw zone with a run manifest.

use std::path::Path;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use flowlake_lake::{Lake, RawSink, RunManifest, new_run_id};

use crate::config::Config;
use flowlake_model::events::{EventDeployment, EventIncident};
use flowlake_model::time::parse_ts;
use flowlake_model::{Entity, to_batch};
use serde::Deserialize;

/// Parsed events of one file.
#[derive(Debug, Default, Clone)]
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

pub async fn write_events(
    lake: &Lake,
    events: Events,
    workspace: &str,
    cfg: &Config,
) -> Result<RunManifest> {
    let now = Utc::now();
    let run_id = new_run_id(now);
    let mut manifest = RunManifest::start(&run_id, "ingest events", now);
    crate::audit::stamp(&mut manifest, cfg);
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
    manifest.write(lake).await?;
    result?;
    Ok(manifest)
}
