//! `flowlake`: an engineering-metrics pipeline.
//!
//! ```text
//! GitHub API ─┐                        ┌─ sql/staging ─ sql/intermediate ─ sql/marts ─┐
//! Jira API ───┼─ connectors ─ raw zone ┤   (DataFusion)                                ├─ reports
//! events file ┘   (incremental)  (Parquet on a local folder, S3 or MinIO)             ├─ forecasts
//!                                                                                      └─ analysts (flowlake sql, DuckDB, Polars)
//! ```
//!
//! This binary is the top of the crate graph: clap commands (one file each under `cmd/`)
//! turn flags and `flowlake.toml` into one checked plan before any IO, then call the library
//! crates. `main` prints `flowlake: <error chain>` and exits non-zero; a closed pipe exits 0.

mod cmd;
mod config;
mod forecasts;
mod plan;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// flowlake: GitHub and deployment events → Parquet lake → DORA marts, forecasts and SQL.
#[derive(Debug, Parser)]
#[command(name = "flowlake", version, about, long_about = None)]
pub struct Cli {
    /// Config file (default: ./flowlake.toml when present).
    #[arg(long, global = true, env = "FLOWLAKE_CONFIG")]
    config: Option<PathBuf>,
    /// More logging (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve a simulated org, ingest it with the real connector, build the marts, print DORA.
    Demo(cmd::demo::Args),
    /// Fetch new and changed records into the raw zone.
    #[command(subcommand)]
    Ingest(cmd::ingest::IngestCommand),
    /// Run sql/ (staging → intermediate → marts) and write the marts to the lake.
    Build(cmd::build::Args),
    /// Query raw, staging and mart tables with SQL (REPL, or -e).
    Sql(cmd::sql::Args),
    /// The simulated org: a GitHub API server, and Jira-like throughput for forecasts.
    #[command(subcommand)]
    Sim(cmd::sim::SimCommand),
    /// Run a pipeline file (pipelines/*.toml): ingest and build steps for scheduled jobs.
    Run(cmd::run::Args),
    /// Monte Carlo forecasts (when, how many) and backtests over daily throughput.
    Forecast(cmd::forecast::ForecastCommand),
    /// Measure the connector (requests per 1,000 PRs, PRs/s) and the build against DuckDB.
    Bench(cmd::bench::Args),
    /// People across GitHub and Jira: `people unmatched` lists identities to alias.
    #[command(subcommand)]
    People(cmd::people::PeopleCommand),
}

fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info,flowlake=info",
        _ => "debug,hyper=info,h2=info,rustls=info",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let cfg = config::Config::resolve(cli.config.as_ref())?;
    match cli.command {
        Command::Demo(a) => cmd::demo::run(a, &cfg).await,
        Command::Ingest(c) => cmd::ingest::run(c, &cfg).await,
        Command::Build(a) => cmd::build::run(a, &cfg).await,
        Command::Sql(a) => cmd::sql::run(a, &cfg).await,
        Command::Sim(c) => cmd::sim::run(c).await,
        Command::Run(a) => cmd::run::run(a, &cfg).await,
        Command::Forecast(c) => cmd::forecast::run(c, &cfg).await,
        Command::Bench(a) => cmd::bench::run(a, &cfg).await,
        Command::People(c) => cmd::people::run(c, &cfg).await,
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || e.to_string().contains("Broken pipe")
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("flowlake: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flowlake: {e:#}");
            ExitCode::FAILURE
        }
    }
}
