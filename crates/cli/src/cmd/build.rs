//! `flowlake build`: run sql/ and write the marts.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::Utc;
use flowlake_lake::{Lake, RunManifest, new_run_id};
use flowlake_marts::{BuildReport, Marts, Models};

use crate::config::Config;
use crate::plan;
use crate::progress::build_bar;

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
}

/// Run `flowlake build`.
pub async fn run(args: Args, cfg: &Config) -> Result<()> {
    let lake = plan::lake(args.lake.as_deref(), cfg)?;
    let report = build(&lake, cfg, args.sql_dir.as_ref(), args.json).await?;
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

/// Build the marts of `lake`, leaving a run manifest.
pub async fn build(
    lake: &Lake,
    cfg: &Config,
    sql_dir: Option<&PathBuf>,
    quiet: bool,
) -> Result<BuildReport> {
    lake.check().await?;
    let mut marts = Marts::new(lake.clone(), plan::marts(cfg))?.with_flow(plan::flow(cfg)?);
    if let Some(dir) = sql_dir {
        marts = marts.with_models(
            Models::from_dir(dir)
                .with_context(|| format!("reading models from {}", dir.display()))?,
        );
    }
    let started = Utc::now();
    let run_id = new_run_id(started);
    let mut manifest = RunManifest::start(&run_id, "build", started);
    manifest.config_hash = Some(cfg.hash());
    let bar = build_bar(quiet);
    let result = marts
        .build(|model, done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(model.to_string());
        })
        .await;
    bar.finish_and_clear();
    let result = result.map_err(anyhow::Error::new);
    if let Ok(report) = &result {
        for m in &report.models {
            if let Some(p) = &m.path {
                manifest.rows.insert(m.name.clone(), m.rows as u64);
                manifest.files.push(p.clone());
            }
        }
    }
    manifest.finish(Utc::now(), result.as_ref().err().map(|e| format!("{e}")));
    lake.put_json(&manifest.rel_path(), &manifest)
        .await
        .context("writing the run manifest")?;
    result.context("building the marts")
}
