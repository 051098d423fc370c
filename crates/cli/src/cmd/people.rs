//! `flowlake people`: who is who across GitHub and Jira (`dim_people`, `mart_unmatched_identities`).

use anyhow::{Context, Result};
use clap::Subcommand;
use flowlake_marts::Marts;

use crate::cmd::sql::{Format, print};
use crate::config::Config;
use crate::plan;

/// `flowlake people` subcommands.
#[derive(Debug, Subcommand)]
pub enum PeopleCommand {
    /// Jira accounts and GitHub logins that could not be merged into one person, with a
    /// suggested alias line for the `[identity] aliases` file.
    Unmatched(UnmatchedArgs),
}

/// `flowlake people unmatched` flags.
#[derive(Debug, clap::Args)]
pub struct UnmatchedArgs {
    /// Lake URL: folder, file://, s3://bucket/prefix or memory://.
    #[arg(long)]
    lake: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Run `flowlake people`.
pub async fn run(command: PeopleCommand, cfg: &Config) -> Result<()> {
    match command {
        PeopleCommand::Unmatched(args) => unmatched(args, cfg).await,
    }
}

async fn unmatched(args: UnmatchedArgs, cfg: &Config) -> Result<()> {
    let lake = plan::lake(args.lake.as_deref(), cfg)?;
    lake.check().await?;
    // The built mart when `flowlake build` wrote it; else the model over the raw zone with
    // this config's aliases and teams.
    let ctx = Marts::new(lake.clone(), plan::marts(cfg))?
        .with_flow(plan::flow(cfg)?)
        .query_session()
        .await
        .context("opening the lake")?;
    let batches = ctx
        .sql(crate::cmd::sql::query("people_unmatched")?)
        .await
        .context("planning mart_unmatched_identities")?
        .collect()
        .await
        .context("reading mart_unmatched_identities")?;
    print(&batches, args.format)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::{Cli, Command};

    #[test]
    fn people_unmatched_parses_lake_and_format() {
        let cli = Cli::try_parse_from([
            "flowlake",
            "people",
            "unmatched",
            "--lake",
            "./lake",
            "--format",
            "csv",
        ])
        .unwrap();
        let Command::People(super::PeopleCommand::Unmatched(a)) = cli.command else {
            panic!("not people unmatched");
        };
        assert_eq!(a.lake.as_deref(), Some("./lake"));
        assert_eq!(a.format, super::Format::Csv);
    }
}
