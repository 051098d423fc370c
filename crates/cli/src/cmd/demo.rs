//! `flowlake demo`: the whole pipeline on a simulated org, no credentials needed.

use anyhow::{Context, Result};
use arrow::array::{Array, AsArray};
use arrow::datatypes::Float64Type;
use flowlake_github::{GithubConfig, Secret};
use flowlake_sim::{Scale, SimConfig};

use crate::cmd::{build, ingest, sql};
use crate::config::Config;
use crate::plan;

/// `flowlake demo` flags.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Lake URL (default ./lake).
    #[arg(long)]
    lake: Option<String>,
    /// Seed of the simulated org.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Size of the simulated org: small, medium or large.
    #[arg(long, default_value = "small")]
    scale: Scale,
    /// Fault probability the simulator injects (the connector must ride them out).
    #[arg(long, default_value_t = 0.0)]
    faults: f64,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Run the demo.
pub async fn run(args: Args, cfg: &Config) -> Result<()> {
    let lake = plan::lake(args.lake.as_deref(), cfg)?;
    let mut sim_cfg = SimConfig::new(args.seed, args.scale);
    sim_cfg.faults = args.faults;
    let sim = flowlake_sim::spawn(sim_cfg.clone())
        .await
        .context("starting the simulator")?;
    if !args.json {
        eprintln!(
            "simulated org `{}` ({:?}, seed {}) on {}",
            sim_cfg.org,
            args.scale,
            args.seed,
            sim.base_url()
        );
    }
    let mut gh = GithubConfig::new(sim_cfg.org.clone(), Secret::new(sim_cfg.token.clone()));
    gh.base_url = sim.base_url();
    // The simulator's secondary limits ask for a one-second pause; real backoff would make
    // the demo crawl without testing anything more.
    gh.backoff = std::time::Duration::from_millis(50);
    let (ingest_report, manifest) =
        ingest::ingest_github(&lake, gh, "demo", &cfg.hash(), args.json).await?;
    // The simulated org knows its teams; a real one says them in [teams] of flowlake.toml.
    let cfg = with_sim_teams(cfg, sim.org());
    let build_report = build::build(&lake, &cfg, None, args.json).await?;
    let session = sql::Session::open(&lake).await?;
    let dora = session
        .run(
            "select cast(period_start as date) as month, deployments, \
             round(lead_time_p50_h, 1) as lead_time_p50_h, \
             round(change_failure_rate, 3) as change_failure_rate, \
             round(recovery_time_p50_h, 1) as recovery_time_p50_h, \
             round(rework_rate, 3) as rework_rate, deployment_frequency_band, lead_time_band, \
             change_failure_band, recovery_time_band from mart_dora \
             where grain = 'month' and scope_type = 'org' \
             order by period_start desc limit 3",
        )
        .await?;
    let cycle = session
        .run(
            "select count(*) as prs, round(median(coding_time_h), 1) as coding_h, \
             round(median(pickup_time_h), 1) as pickup_h, round(median(review_time_h), 1) as review_h, \
             round(median(deploy_time_h), 1) as deploy_h, round(median(cycle_time_h), 1) as cycle_h \
             from fct_pull_requests where deployed_at >= \
             (select max(deployed_at) from fct_pull_requests) - interval '90 days'",
        )
        .await?;
    if args.json {
        let dora_json = batches_json(&dora)?;
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "lake": lake.url().as_str(),
                "run_id": manifest.run_id,
                "ingest": ingest_report,
                "marts": build_report.models.iter().filter(|m| m.path.is_some())
                    .map(|m| (m.name.clone(), m.rows)).collect::<std::collections::BTreeMap<_, _>>(),
                "dora_recent_months": dora_json,
            "cycle_time_breakdown_90d": batches_json(&cycle)?,
            }))?
        );
        return Ok(());
    }
    println!();
    println!("flowlake demo: lake {}", lake.url());
    println!(
        "  ingested {} repos: {} PRs, {} deployments, {} incidents in {} requests ({} rate-limit points)",
        ingest_report.repos,
        ingest_report
            .rows
            .get("pull_requests")
            .copied()
            .unwrap_or(0),
        ingest_report.rows.get("deployments").copied().unwrap_or(0),
        ingest_report.rows.get("issues").copied().unwrap_or(0),
        ingest_report.spend.requests,
        ingest_report.spend.points,
    );
    println!(
        "  built {} models in {:.1}s",
        build_report.models.len(),
        build_report.duration.as_secs_f64()
    );
    println!();
    println!("DORA, whole org, last three months:");
    sql::print(&dora, sql::Format::Table)?;
    if let Some(b) = dora.first()
        && b.num_rows() > 0
    {
        let lt = b
            .column_by_name("lead_time_p50_h")
            .map(|c| c.as_primitive::<Float64Type>().clone());
        if let Some(lt) = lt
            && !lt.is_null(0)
        {
            println!(
                "latest month: median lead time for changes {:.1} h",
                lt.value(0)
            );
        }
    }
    println!();
    println!("PR cycle time, median hours, PRs deployed in the last 90 days:");
    sql::print(&cycle, sql::Format::Table)?;
    println!();
    println!(
        "next: flowlake sql --lake {} -e \"select * from mart_dora limit 5\"",
        lake.url()
    );
    Ok(())
}

fn batches_json(batches: &[arrow::record_batch::RecordBatch]) -> Result<serde_json::Value> {
    let mut buf = Vec::new();
    {
        let mut w = arrow::json::ArrayWriter::new(&mut buf);
        let refs: Vec<_> = batches.iter().collect();
        w.write_batches(&refs)?;
        w.finish()?;
    }
    Ok(if buf.is_empty() {
        serde_json::json!([])
    } else {
        serde_json::from_slice(&buf)?
    })
}

fn with_sim_teams(cfg: &Config, org: &flowlake_sim::Org) -> Config {
    let mut cfg = cfg.clone();
    if cfg.teams.people.is_empty() && cfg.teams.repos.is_empty() {
        for p in org.people.iter() {
            if let Some(t) = p.team {
                cfg.teams
                    .people
                    .insert(p.login.clone(), org.teams[t].name.clone());
            }
        }
        for r in &org.repos {
            cfg.teams
                .repos
                .insert(r.full_name.clone(), org.teams[r.team].name.clone());
        }
    }
    cfg
}
