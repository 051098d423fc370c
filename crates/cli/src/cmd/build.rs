//! `flowlake build`: run sql/ and write the marts.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::Utc;
use flowlake_lake::{Lake, LakeLock, RunManifest, new_run_id};
use flowlake_marts::{BuildReport, Marts, Models};

use crate::config::Config;
use crate::exit;
use crate::plan;
use crate::progress::build_bar;
use crate::steps::{self, lock::LockFlags};

/// `flowlake build` flags.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Lake URL: folder, file://, s3://bucket/prefix or memory://.
    #[arg(long)]
    lake: Option<String>,
    /// Read models from this folder instead of the ones built into the binary.
    #[arg(long)]
    sql_dir: Option<PathBuf>,
    /// Print the build report as JSON on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    lock: LockFlags,
}

/// Run `flowlake build`.
pub async fn run(args: Args, cfg: &Config) -> Result<()> {
    let lake = plan::lake(args.lake.as_deref(), cfg).map_err(exit::usage)?;
    lake.check().await?;
    let run_id = new_run_id(Utc::now());
    let lock = steps::lock::take(&lake, &run_id, "build", &args.lock, cfg).await?;
    let result = build(&lake, cfg, args.sql_dir.as_ref(), args.json, &run_id, &lock).await;
    lock.release().await?;
    let report = result?;
    if args.json {
        let models: Vec<_> = report
            .models
            .iter()
            .map(|m| serde_json::json!({"model": m.name, "rows": m.rows, "seconds": m.duration.as_secs_f64(), "path": m.path}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "seconds": report.duration.as_secs_f64(), "models": models,
            }))?
        );
    } else {
        for m in report.models.iter().filter(|m| m.path.is_some()) {
            println!(
                "  {:<26} {:>9} rows  {:>7.2}s",
                m.name,
                m.rows,
                m.duration.as_secs_f64()
            );
        }
        println!(
            "built {} models in {:.2}s into {}",
            report.models.len(),
            report.duration.as_secs_f64(),
            lake.url()
        );
    }
    Ok(())
}

/// Build the marts of `lake` under `lock` and publish them, leaving a run manifest (run id
/// `run_id`, which is also the build id). Nothing is published unless this run still holds
/// the lock once every mart is written.
pub async fn build(
    lake: &Lake,
    cfg: &Config,
    sql_dir: Option<&PathBuf>,
    quiet: bool,
    run_id: &str,
    lock: &LakeLock,
) -> Result<BuildReport> {
    let mut marts = Marts::new(lake.clone(), plan::marts(cfg))?
        .with_flow(plan::flow(cfg).map_err(exit::usage)?);
    if let Some(dir) = sql_dir {
        marts = marts.with_models(
            Models::from_dir(dir)
                .with_context(|| format!("reading models from {}", dir.display()))
                .map_err(exit::usage)?,
        );
    }
    let started = Utc::now();
    let mut manifest = RunManifest::start(run_id, "build", started);
    crate::audit::stamp(&mut manifest, cfg);
    let bar = build_bar(quiet);
    let result = marts
        .build_unpublished(run_id, |model, done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(model.to_string());
        })
        .await
        .map_err(anyhow::Error::new);
    bar.finish_and_clear();
    let result = match result {
        Ok(report) => publish(lake, &report, cfg, lock).await.map(|()| report),
        Err(e) => Err(e),
    };
    if let Ok(report) = &result {
        manifest.build_id = Some(report.build_id.clone());
        for m in &report.models {
            if let Some(p) = &m.path {
                manifest.rows.insert(m.name.clone(), m.rows as u64);
                manifest.files.push(p.clone());
            }
        }
    }
    manifest.finish(Utc::now(), result.as_ref().err().map(|e| format!("{e:#}")));
    if let Err(e) = &result {
        manifest.exit_code = Some(exit::classify(e) as u8);
    }
    let written = manifest
        .write(lake)
        .await
        .context("writing the run manifest");
    let report = result.context("building the marts")?;
    written?;
    Ok(report)
}

/// Publish `report` if this run still holds the lake.
async fn publish(lake: &Lake, report: &BuildReport, cfg: &Config, lock: &LakeLock) -> Result<()> {
    lock.ensure_held().await?;
    flowlake_marts::publish::publish(lake, report, cfg.build.keep_builds)
        .await
        .context("publishing the build")?;
    Ok(())
}
