//! `flowlake bench`: the connectors' request budgets and throughput against the simulator
//! (GitHub: per 1,000 PRs; Jira: per 1,000 issues, full and incremental), and
//! the marts build next to DuckDB building the same marts over the same Parquet, in one run.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use flowlake_github::{GithubConfig, Secret};
use flowlake_lake::Lake;
use flowlake_sim::{Scale, SimConfig};
use serde_json::{Value, json};

use crate::cmd::build;
use crate::config::Config;

/// `flowlake bench` flags.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Size of the simulated org.
    #[arg(long, default_value = "medium")]
    scale: Scale,
    /// Seed of the simulated org.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Lake folder to use (default: a fresh temporary folder).
    #[arg(long)]
    lake: Option<PathBuf>,
    /// Python with duckdb and pyarrow for the DuckDB peer (skipped when absent, and said so).
    #[arg(long, default_value = "python3")]
    python: String,
    /// Print the figures as JSON on stdout.
    #[arg(long)]
    json: bool,
}

const ENTITIES: usize = 6;

/// Run the benchmark.
pub async fn run(args: Args, cfg: &Config) -> Result<()> {
    let tmp = tempfile::tempdir().context("creating a temporary lake folder")?;
    let dir = args.lake.clone().unwrap_or_else(|| tmp.path().join("lake"));
    if dir.exists() && std::fs::read_dir(&dir)?.next().is_some() {
        bail!(
            "--lake {} is not empty; the bench needs an empty folder",
            dir.display()
        );
    }
    let lake = Lake::open(dir.to_str().context("lake path is not UTF-8")?)?;
    let sim_cfg = SimConfig::new(args.seed, args.scale);
    let t_gen = Instant::now();
    let sim = flowlake_sim::spawn(sim_cfg.clone()).await?;
    sim.org().generate_all();
    let gen_s = t_gen.elapsed().as_secs_f64();
    let repos = sim.org().repos.len();
    eprintln!(
        "bench: {:?} org, {repos} repos, generated in {gen_s:.1}s",
        args.scale
    );

    let gh = || {
        let mut g = GithubConfig::new(sim_cfg.org.clone(), Secret::new(sim_cfg.token.clone()));
        g.base_url = sim.base_url();
        g
    };
    // Full ingest.
    sim.reset_stats();
    let t = Instant::now();
    let (full, _) =
        crate::steps::ingest::ingest_github(&lake, gh(), "bench full", cfg, true).await?;
    let full_s = t.elapsed().as_secs_f64();
    let full_stats = sim.stats();
    let prs = *full.rows.get("pull_requests").unwrap_or(&0) as f64;
    let per_k = |n: u64| {
        if prs > 0.0 {
            n as f64 * 1000.0 / prs
        } else {
            0.0
        }
    };
    let route = |s: &flowlake_sim::Stats, key: &str| -> u64 {
        s.by_route
            .iter()
            .filter(|(k, _)| k.contains(key))
            .map(|(_, v)| *v)
            .sum()
    };
    // Incremental run with nothing new.
    sim.reset_stats();
    let t = Instant::now();
    let (_, _) =
        crate::steps::ingest::ingest_github(&lake, gh(), "bench incremental", cfg, true).await?;
    let incr_s = t.elapsed().as_secs_f64();
    let incr_stats = sim.stats();

    // Jira: full, no-change re-run, and a re-run after one simulated day of changes.
    let jira_cfg = || crate::cmd::demo::sim_jira_config(&sim, &sim_cfg);
    let jira_run = |label: &'static str| {
        let lake = lake.clone();
        let j = jira_cfg();
        let sim = &sim;
        async move {
            sim.reset_stats();
            let t = Instant::now();
            let (report, _) = crate::steps::ingest::ingest_jira(&lake, j, label, cfg, true).await?;
            anyhow::Ok((report, t.elapsed().as_secs_f64(), sim.stats().jira_requests))
        }
    };
    let (jira_full, jira_full_s, jira_full_req) = jira_run("bench jira full").await?;
    let issues = *jira_full.rows.get("issues").unwrap_or(&0) as f64;
    let (_, jira_incr_s, jira_incr_req) = jira_run("bench jira incremental").await?;
    sim.advance(24.0);
    let (jira_day, jira_day_s, jira_day_req) = jira_run("bench jira one day later").await?;
    let per_k_issues = |n: u64| {
        if issues > 0.0 {
            n as f64 * 1000.0 / issues
        } else {
            0.0
        }
    };

    // Marts: flowlake, then DuckDB over the same raw files.
    let t = Instant::now();
    let run_id = flowlake_lake::new_run_id(chrono::Utc::now());
    let flags = crate::steps::lock::LockFlags::default();
    let lock = crate::steps::lock::take(&lake, &run_id, "bench", &flags, cfg).await?;
    let report = build::build(&lake, cfg, None, true, &run_id, &lock).await;
    lock.release().await?;
    let report = report?;
    let build_s = t.elapsed().as_secs_f64();
    let duck = duckdb_peer(&args.python, &dir);

    let figures = json!({
        "scale": format!("{:?}", args.scale).to_lowercase(),
        "repos": repos,
        "pull_requests": prs as u64,
        "full_ingest": {
            "seconds": full_s,
            "prs_per_second": prs / full_s.max(1e-9),
            "requests": full_stats.requests,
            "points": full_stats.points_spent,
            "pr_query_requests": route(&full_stats, "pullRequests"),
            "pr_query_requests_per_1000_prs": per_k(route(&full_stats, "pullRequests")),
            "all_requests_per_1000_prs": per_k(full_stats.requests),
            "points_per_1000_prs": per_k(full_stats.points_spent),
            "by_route": full_stats.by_route,
        },
        "incremental_no_change": {
            "seconds": incr_s,
            "requests": incr_stats.requests,
            "org_listing_requests": route(&incr_stats, "repos"),
            "requests_per_repo_and_entity": (incr_stats.requests - route(&incr_stats, "repos")) as f64 / (repos * ENTITIES) as f64,
        },
        "jira": {
            "projects": jira_full.projects,
            "issues": issues as u64,
            "changelog_items": jira_full.rows.get("changelog_items").copied().unwrap_or(0),
            "full": {
                "seconds": jira_full_s,
                "issues_per_second": issues / jira_full_s.max(1e-9),
                "requests": jira_full_req,
                "requests_per_1000_issues": per_k_issues(jira_full_req),
                "search_pages": jira_full.spend.search_pages,
                "changelog_pages": jira_full.spend.changelog_pages,
            },
            "incremental_no_change": {
                "seconds": jira_incr_s,
                "requests": jira_incr_req,
                "requests_per_1000_issues": per_k_issues(jira_incr_req),
            },
            "incremental_one_day": {
                "seconds": jira_day_s,
                "requests": jira_day_req,
                "issues_changed": jira_day.rows.get("issues").copied().unwrap_or(0),
                "requests_per_1000_issues": per_k_issues(jira_day_req),
            },
        },
        "build": {
            "flowlake_seconds": build_s,
            "models": report.models.len(),
            "duckdb": duck,
        },
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
        return Ok(());
    }
    let f = &figures["full_ingest"];
    println!(
        "flowlake bench — simulated org {:?}, seed {}, {repos} repos, {} PRs",
        args.scale, args.seed, prs as u64
    );
    println!(
        "  full ingest          {:>8.1} s   {:>8.0} PRs/s",
        full_s,
        f["prs_per_second"].as_f64().unwrap_or(0.0)
    );
    println!(
        "  PR query requests    {:>8.1} per 1,000 PRs (with reviews and commits; goal ≤ 25)",
        f["pr_query_requests_per_1000_prs"].as_f64().unwrap_or(0.0)
    );
    println!(
        "  all requests         {:>8.1} per 1,000 PRs (history, deployments, runs, releases, issues too)",
        f["all_requests_per_1000_prs"].as_f64().unwrap_or(0.0)
    );
    println!(
        "  rate-limit points    {:>8.1} per 1,000 PRs",
        f["points_per_1000_prs"].as_f64().unwrap_or(0.0)
    );
    println!(
        "  no-change re-run     {:>8.2} requests per repo and entity (goal ≤ 1) + {} for the org's repo list, {:.2} s",
        figures["incremental_no_change"]["requests_per_repo_and_entity"]
            .as_f64()
            .unwrap_or(0.0),
        route(&incr_stats, "repos"),
        incr_s
    );
    let j = &figures["jira"];
    println!(
        "  jira full ingest     {:>8.1} s   {:>8.0} issues/s ({} issues, {} changelog items, {} projects)",
        jira_full_s,
        j["full"]["issues_per_second"].as_f64().unwrap_or(0.0),
        issues as u64,
        j["changelog_items"],
        jira_full.projects
    );
    println!(
        "  jira requests        {:>8.1} per 1,000 issues full ({} search pages, {} changelog pages); \
         no-change re-run {:.1}; after one simulated day {:.1} ({} issues changed)",
        j["full"]["requests_per_1000_issues"]
            .as_f64()
            .unwrap_or(0.0),
        jira_full.spend.search_pages,
        jira_full.spend.changelog_pages,
        j["incremental_no_change"]["requests_per_1000_issues"]
            .as_f64()
            .unwrap_or(0.0),
        j["incremental_one_day"]["requests_per_1000_issues"]
            .as_f64()
            .unwrap_or(0.0),
        j["incremental_one_day"]["issues_changed"],
    );
    println!(
        "  flowlake build       {:>8.2} s ({} models)",
        build_s,
        report.models.len()
    );
    match duck.get("seconds").and_then(Value::as_f64) {
        Some(d) => println!(
            "  duckdb build         {:>8.2} s (same marts, same Parquet; rows equal: {}) → flowlake/duckdb time ratio {:.2}",
            d,
            duck.get("equal").map(|v| v.to_string()).unwrap_or_default(),
            build_s / d
        ),
        None => println!(
            "  duckdb build         not measured: {}",
            duck.get("error").and_then(Value::as_str).unwrap_or("?")
        ),
    }
    Ok(())
}

fn duckdb_peer(python: &str, lake_dir: &std::path::Path) -> Value {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../bench/marts/duckdb_build.py"
    );
    let out = tempfile::NamedTempFile::new().ok();
    let Some(out) = out else {
        return json!({"error": "cannot create a temp file"});
    };
    let status = std::process::Command::new(python)
        .arg(script)
        .arg("--lake")
        .arg(lake_dir)
        .arg("--out")
        .arg(out.path())
        .stdout(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::inherit())
        .status();
    match status {
        Err(e) => json!({"error": format!("running {python}: {e}")}),
        Ok(_) => std::fs::read_to_string(out.path())
            .ok()
            .and_then(|s| serde_json::from_str::<Value>(&s).ok())
            .unwrap_or_else(|| json!({"error": "duckdb_build.py wrote no result"})),
    }
}
