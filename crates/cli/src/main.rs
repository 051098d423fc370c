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
//!
//! The simulated org (`flowlake-sim`, with its generator and axum server) comes with the
//! default feature `demo`. `cargo build -p flowlake-cli --no-default-features` leaves it out:
//! that binary has no `sim` subcommand, and `demo`, `bench` (listed as unavailable in
//! `--help`) and `sim` exit with code 2 and say to rebuild with `--features demo`.

mod audit;
mod cmd;
mod config;
mod config_run;
mod exit;
mod notify;
mod pipeline;
mod plan;
mod progress;
mod steps;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// flowlake: GitHub and deployment events → Parquet lake → DORA marts, forecasts and SQL.
#[derive(Debug, Parser)]
#[command(name = "flowlake", version, about, long_about = None, after_help = exit::HELP)]
#[cfg_attr(
    not(feature = "demo"),
    command(
        after_help = exit::HELP_WITHOUT_DEMO
    )
)]
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
    #[cfg(feature = "demo")]
    Demo(cmd::demo::Args),
    /// Unavailable: this build has no simulator (the `demo` feature is off).
    #[cfg(not(feature = "demo"))]
    Demo(cmd::WithoutDemo),
    /// Fetch new and changed records into the raw zone.
    #[command(subcommand)]
    Ingest(cmd::ingest::IngestCommand),
    /// Run sql/ (staging → intermediate → marts) and write the marts to the lake.
    Build(cmd::build::Args),
    /// Raw-zone retention: compact superseded versions, archive to a cold store, restore.
    Lake(cmd::lake::Args),
    /// Query raw, staging and mart tables with SQL (REPL, or -e).
    Sql(cmd::sql::Args),
    /// The simulated org: a GitHub API server, and Jira-like throughput for forecasts.
    #[cfg(feature = "demo")]
    #[command(subcommand)]
    Sim(cmd::sim::SimCommand),
    /// Run a pipeline file (pipelines/*.toml): ingest and build steps for scheduled jobs.
    Run(cmd::run::Args),
    /// The audit trail: `runs list`, `runs show ID`, `runs diff A B` (configuration changes).
    #[command(subcommand)]
    Runs(cmd::runs::RunsCommand),
    /// Monte Carlo forecasts (when, how many) and backtests over daily throughput.
    Forecast(cmd::forecast::ForecastCommand),
    /// Measure the connector (requests per 1,000 PRs, PRs/s) and the build against DuckDB.
    #[cfg(feature = "demo")]
    Bench(cmd::bench::Args),
    /// Unavailable: this build has no simulator (the `demo` feature is off).
    #[cfg(not(feature = "demo"))]
    Bench(cmd::WithoutDemo),
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

/// `flowlake sim` on a build without the `demo` feature: clap only knows "unrecognized
/// subcommand", so name the feature instead.
fn is_left_out_subcommand(err: &clap::Error) -> bool {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    !cfg!(feature = "demo")
        && err.kind() == ErrorKind::InvalidSubcommand
        && matches!(
            err.get(ContextKind::InvalidSubcommand),
            Some(ContextValue::String(name)) if name == "sim"
        )
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let cfg = config::Config::resolve(cli.config.as_ref()).map_err(exit::usage)?;
    match cli.command {
        #[cfg(feature = "demo")]
        Command::Demo(a) => cmd::demo::run(a, &cfg).await,
        #[cfg(not(feature = "demo"))]
        Command::Demo(_) => Err(cmd::LeftOut("demo").into()),
        Command::Ingest(c) => cmd::ingest::run(c, &cfg).await,
        Command::Build(a) => cmd::build::run(a, &cfg).await,
        Command::Lake(a) => cmd::lake::run(a, &cfg).await,
        Command::Sql(a) => cmd::sql::run(a, &cfg).await,
        #[cfg(feature = "demo")]
        Command::Sim(c) => cmd::sim::run(c).await,
        Command::Run(a) => cmd::run::run(a, &cfg).await,
        Command::Runs(c) => cmd::runs::run(c, &cfg).await,
        Command::Forecast(c) => cmd::forecast::run(c, &cfg).await,
        #[cfg(feature = "demo")]
        Command::Bench(a) => cmd::bench::run(a, &cfg).await,
        #[cfg(not(feature = "demo"))]
        Command::Bench(_) => Err(cmd::LeftOut("bench").into()),
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if is_left_out_subcommand(&e) => {
            eprintln!("flowlake: {}", cmd::LeftOut("sim"));
            return ExitCode::from(cmd::LeftOut::EXIT);
        }
        Err(e) => e.exit(),
    };
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
            ExitCode::from(exit::classify(&e) as u8)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    // The `demo` feature decides the simulator commands; `make check-features` builds the
    // binary without it and checks the same from the outside.
    #[test]
    fn sim_exists_only_with_the_demo_feature() {
        let cli = Cli::command();
        let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
        assert_eq!(names.contains(&"sim"), cfg!(feature = "demo"), "{names:?}");
        // `demo` and `bench` stay either way: without the feature they explain themselves.
        assert!(
            names.contains(&"demo") && names.contains(&"bench"),
            "{names:?}"
        );
    }

    #[test]
    fn only_sim_is_a_left_out_subcommand_and_only_without_the_feature() {
        let err = Cli::try_parse_from(["flowlake", "sim", "serve"]).err();
        assert_eq!(
            err.as_ref().is_some_and(is_left_out_subcommand),
            !cfg!(feature = "demo")
        );
        let typo = Cli::try_parse_from(["flowlake", "simm"]).unwrap_err();
        assert!(!is_left_out_subcommand(&typo));
    }

    #[cfg(not(feature = "demo"))]
    #[test]
    fn without_the_feature_demo_takes_any_flags_and_names_the_feature() {
        let cli = Cli::try_parse_from(["flowlake", "demo", "--lake", "x", "--scale", "large"])
            .expect("the stub accepts the real command's flags");
        assert!(matches!(cli.command, Command::Demo(_)));
        let msg = cmd::LeftOut("demo").to_string();
        assert!(msg.contains("built without the `demo` feature"), "{msg}");
        assert!(
            msg.contains("cargo build -p flowlake-cli --features demo"),
            "{msg}"
        );
    }
}
