//! `flowlake run PIPELINE.toml [--dry-run]`: a scheduled job.
//!
//! The whole pipeline is checked first (configs, tokens, events files: exit 2 and nothing
//! ran), its plan printed, then it runs under one lake lock (exit 4 if another run holds it).
//! A source step that fails does not stop the others: the build still runs on what landed and
//! the run exits 3. A lake failure (exit 5) or a lost lock stops at once. Every run leaves its
//! manifest `runs/<run_id>.json` (the steps', too) and, when `[notify]` asks, a webhook message.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use chrono::Utc;
use flowlake_lake::{Lake, LakeLock, RunManifest, RunOutcome, StepRecord, new_run_id};

use crate::cmd::build;
use crate::exit::{self, Code, SourcesFailed};
use crate::notify::{self, RunSummary};
use crate::pipeline::{self, Plan, Step};
use crate::steps::{self, lock::LockFlags};

/// `flowlake run` flags.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The pipeline file (see pipelines/).
    pipeline: PathBuf,
    /// Lake URL (overrides the pipeline's `lake`).
    #[arg(long)]
    lake: Option<String>,
    /// Print the plan and stop: no request, no write, not even to the lake.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    lock: LockFlags,
}

/// Run a pipeline file.
pub async fn run(args: Args, cfg: &crate::config::Config) -> Result<()> {
    let plan = pipeline::load(&args.pipeline, args.lake.as_deref(), cfg).map_err(exit::usage)?;
    let described = plan.describe();
    if args.dry_run {
        for line in described {
            println!("{line}");
        }
        println!("dry run: nothing was run");
        return Ok(());
    }
    for line in &described {
        eprintln!("{line}");
    }
    let started = Instant::now();
    let run_id = new_run_id(Utc::now());
    let result = run_locked(&plan, &run_id, &args.lock).await;
    let code = match &result {
        Ok(()) => Code::Success,
        Err(e) => exit::classify(e),
    };
    if let Some(section) = &plan.notify {
        let failed_steps = match &result {
            Err(e) => match e.downcast_ref::<SourcesFailed>() {
                Some(s) => s.failed.clone(),
                None => vec![("run".into(), format!("{e:#}"))],
            },
            Ok(()) => Vec::new(),
        };
        let summary = RunSummary {
            pipeline: plan.name.clone(),
            run_id: run_id.clone(),
            outcome: match code {
                Code::Success => "succeeded",
                Code::Source => "partial",
                _ => "failed",
            }
            .into(),
            exit_code: code as u8,
            lake: plan.lake.url().to_string(),
            host: flowlake_lake::host_name(),
            duration_s: started.elapsed().as_secs_f64(),
            failed_steps,
        };
        notify::send(section, &summary, &crate::plan::known_secrets(&plan.cfg)).await;
    }
    result
}

/// Take the lock, run the steps, write the pipeline's manifest, release the lock.
async fn run_locked(plan: &Plan, run_id: &str, flags: &LockFlags) -> Result<()> {
    let lake = &plan.lake;
    lake.check().await?;
    let command = format!("run {}", plan.name);
    let lock = steps::lock::take(lake, run_id, &command, flags, &plan.cfg).await?;
    let mut manifest = RunManifest::start(run_id, &command, Utc::now());
    crate::audit::stamp(&mut manifest, &plan.cfg);
    let result = run_steps(plan, lake, &lock, &mut manifest).await;
    manifest.finish(Utc::now(), result.as_ref().err().map(|e| format!("{e:#}")));
    if let Err(e) = &result {
        manifest.exit_code = Some(exit::classify(e) as u8);
        if e.is::<SourcesFailed>() {
            manifest.mark_partial();
        }
    } else {
        manifest.exit_code = Some(0);
    }
    // The manifest is the audit record: try to leave it even after a failure (the lake may be
    // what failed, in which case the run's error says so and this one is only logged).
    if let Err(e) = manifest.write(lake).await {
        tracing::warn!(error = %e, "could not write the pipeline's run manifest");
        if result.is_ok() {
            return Err(e.into());
        }
    }
    let released = lock.release().await;
    result?;
    released?;
    Ok(())
}

async fn run_steps(
    plan: &Plan,
    lake: &Lake,
    lock: &LakeLock,
    manifest: &mut RunManifest,
) -> Result<()> {
    let mut failed: Vec<(String, String)> = Vec::new();
    for step in &plan.steps {
        let name = step.name();
        eprintln!("pipeline {}: {name}", plan.name);
        let t = Instant::now();
        let outcome = run_step(plan, lake, lock, step).await;
        let duration_s = t.elapsed().as_secs_f64();
        match outcome {
            Ok((run_id, line)) => {
                println!("{name}: {line}");
                manifest.steps.push(StepRecord {
                    step: name.into(),
                    run_id,
                    outcome: RunOutcome::Succeeded,
                    error: None,
                    duration_s,
                });
            }
            Err(e) => {
                let text =
                    crate::notify::scrub(&format!("{e:#}"), &crate::plan::known_secrets(&plan.cfg));
                manifest.steps.push(StepRecord {
                    step: name.into(),
                    run_id: None,
                    outcome: RunOutcome::Failed,
                    error: Some(text.clone()),
                    duration_s,
                });
                // A source's own failure lets the others go on; the lake, a lost lock or a
                // failed build stop the run.
                if step.is_source() && exit::classify(&e) == Code::Source {
                    eprintln!("flowlake: {name} failed, going on: {text}");
                    failed.push((name.into(), text));
                } else {
                    return Err(e);
                }
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(SourcesFailed { failed }.into())
    }
}

/// Run one step: its run id (when it left a manifest) and a line for the log.
async fn run_step(
    plan: &Plan,
    lake: &Lake,
    lock: &LakeLock,
    step: &Step,
) -> Result<(Option<String>, String)> {
    let cfg = &plan.cfg;
    lock.ensure_held().await?;
    match step {
        Step::Github(gh) => {
            let (report, m) =
                steps::ingest::ingest_github(lake, (**gh).clone(), "run ingest-github", cfg, true)
                    .await?;
            Ok((
                Some(m.run_id),
                format!("{} repos, {} requests", report.repos, report.spend.requests),
            ))
        }
        Step::Jira(jira) => {
            let (report, m) =
                steps::ingest::ingest_jira(lake, (**jira).clone(), "run ingest-jira", cfg, true)
                    .await?;
            Ok((
                Some(m.run_id),
                format!(
                    "{} projects, {} tombstones",
                    report.projects, report.tombstones
                ),
            ))
        }
        Step::Events { workspace, files } => {
            let mut ids = Vec::new();
            for (path, events) in files {
                let m = steps::events::write_events(lake, events.clone(), workspace, cfg).await?;
                ids.push(format!("{} → run {}", path.display(), m.run_id));
            }
            Ok((None, ids.join("; ")))
        }
        Step::Compact => {
            crate::cmd::lake::compact_step(lake, cfg).await?;
            Ok((None, "compacted".into()))
        }
        Step::Archive { older_than, to } => {
            crate::cmd::lake::archive_step(lake, *older_than, to, cfg).await?;
            Ok((
                None,
                format!("archived partitions older than {older_than} days to {to}"),
            ))
        }
        Step::Build => {
            let build_id = new_run_id(Utc::now());
            let r = build::build(lake, cfg, None, true, &build_id, lock).await?;
            Ok((
                Some(build_id),
                format!(
                    "{} models in {:.1}s",
                    r.models.len(),
                    r.duration.as_secs_f64()
                ),
            ))
        }
    }
}
