//! `flowlake demo`: the whole pipeline on a simulated org, no credentials needed.

use anyhow::{Context, Result};
use arrow::array::{Array, AsArray};
use arrow::datatypes::Float64Type;
use flowlake_github::{GithubConfig, Secret};
use flowlake_jira::{Auth as JiraAuth, Flavor, JiraConfig, Secret as JiraSecret};
use flowlake_sim::{Scale, SimConfig};

use crate::cmd::{build, sql};
use crate::config::Config;
use crate::plan;

/// The simulated Jira site's name in the lake.
const JIRA_WORKSPACE: &str = "acme-jira";

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
    #[command(flatten)]
    lock: crate::steps::lock::LockFlags,
}

/// Run the demo.
pub async fn run(args: Args, cfg: &Config) -> Result<()> {
    let lake = plan::lake(args.lake.as_deref(), cfg).map_err(crate::exit::usage)?;
    let flags = args.lock.clone();
    crate::steps::lock::with_lock(&lake, "demo", &flags, cfg, async |lock| {
        demo(args, cfg, lake.clone(), lock).await
    })
    .await
}

/// The demo, holding the lake's lock.
async fn demo(
    args: Args,
    cfg: &Config,
    lake: flowlake_lake::Lake,
    lock: &flowlake_lake::LakeLock,
) -> Result<()> {
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
        crate::steps::ingest::ingest_github(&lake, gh, "demo", cfg, args.json).await?;
    // The same org's Jira site, served by the same simulator (Cloud flavour, API token).
    let org = sim.org();
    let mut jira = sim_jira_config(&sim, &sim_cfg);
    jira.incidents.projects = org
        .jira_project_keys()
        .into_iter()
        .filter(|k| !jira.projects.iter().any(|p| p == k))
        .map(str::to_string)
        .collect();
    jira.backoff = std::time::Duration::from_millis(50);
    let (jira_report, _) =
        crate::steps::ingest::ingest_jira(&lake, jira, "demo", cfg, args.json).await?;
    // The simulated org knows its teams; a real one says them in [teams] of flowlake.toml.
    let mut cfg = with_sim_teams(cfg, org);
    // "Now" for ages and throughput is the simulator's clock, not the wall clock.
    if cfg.flow.as_of.is_none() {
        cfg.flow.as_of = Some(sim.now().to_rfc3339());
    }
    let build_id = flowlake_lake::new_run_id(chrono::Utc::now());
    let build_report = build::build(&lake, &cfg, None, args.json, &build_id, lock).await?;
    let session = sql::Session::open(&lake).await?;
    let dora = session.run(sql::query("demo_dora")?).await?;
    let cycle = session.run(sql::query("demo_cycle_time")?).await?;
    let flow = session
        .run_if_exists("mart_flow_weekly", sql::query("demo_flow")?)
        .await?;
    let stale = session
        .run_if_exists("mart_aging_wip", sql::query("demo_stale_items")?)
        .await?;
    let stale_count = session
        .run_if_exists("mart_aging_wip", sql::query("demo_stale_count")?)
        .await?;
    let epics = session
        .run_if_exists("mart_forecasts", sql::query("demo_open_epics")?)
        .await?;
    let sprints = session
        .run_if_exists("mart_forecasts", sql::query("demo_active_sprints")?)
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
                "jira": jira_report,
                "dora_recent_months": dora_json,
                "cycle_time_breakdown_90d": batches_json(&cycle)?,
                "flow_last_12_weeks": batches_json(&flow)?,
                "stale_items": batches_json(&stale)?,
                "open_epics": batches_json(&epics)?,
                "active_sprints": batches_json(&sprints)?,
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
        "  ingested {} Jira projects: {} issues, {} changelog items, {} sprints, {} tombstones in {} requests",
        jira_report.projects,
        jira_report.rows.get("issues").copied().unwrap_or(0),
        jira_report
            .rows
            .get("changelog_items")
            .copied()
            .unwrap_or(0),
        jira_report.rows.get("sprints").copied().unwrap_or(0),
        jira_report.tombstones,
        jira_report.spend.requests,
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
        "Flow, last 12 weeks per Jira project (cycle time in days, flow efficiency = active / in progress):"
    );
    sql::print(&flow, sql::Format::Table)?;
    println!();
    println!("Stale items (in progress longer than the project's p85 cycle time):");
    sql::print(&stale_count, sql::Format::Table)?;
    sql::print(&stale, sql::Format::Table)?;
    println!();
    println!(
        "Forecasts (Monte Carlo on each project's daily throughput): the latest epics to finish"
    );
    sql::print(&epics, sql::Format::Table)?;
    println!("Active sprints: remaining items and the chance to finish them by the sprint's end");
    sql::print(&sprints, sql::Format::Table)?;
    println!();
    println!(
        "next: flowlake sql --lake {} -e \"select * from mart_dora limit 5\"", // sql-ok: a command shown to the user
        lake.url()
    );
    Ok(())
}

/// The connector config for the simulator's Jira site (Cloud flavour, API token): every team
/// project, ingested whole.
pub fn sim_jira_config(sim: &flowlake_sim::SimHandle, sim_cfg: &SimConfig) -> JiraConfig {
    let mut jira = JiraConfig::new(
        JIRA_WORKSPACE,
        sim.base_url(),
        Flavor::Cloud,
        JiraAuth::ApiToken {
            email: sim_cfg.jira_email.clone(),
            token: JiraSecret::new(sim_cfg.jira_api_token.clone()),
        },
    );
    jira.projects = sim.org().projects.iter().map(|p| p.key.clone()).collect();
    jira
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
    if cfg.teams.jira_projects.is_empty() {
        for p in &org.projects {
            if let Some(t) = org.teams.get(p.team) {
                cfg.teams
                    .jira_projects
                    .insert(p.key.clone(), t.name.clone());
            }
        }
    }
    cfg
}
