//! `flowlake sim serve`: the simulated org over HTTP, for trying connectors without credentials.
//! `flowlake sim throughput`: a simulated Jira project's daily throughput as CSV, for
//! `flowlake forecast … --history`.

use anyhow::{Context, Result};
use clap::Subcommand;
use clap::builder::TypedValueParser as _;
use flowlake_sim::throughput::{Scenario, scenario_history};
use flowlake_sim::{Org, Scale, SimConfig};

/// Simulator commands.
#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Serve the GitHub API subset flowlake uses (see docs/github-api.md) until Ctrl-C.
    Serve(ServeArgs),
    /// Print a simulated Jira project's items done per day as CSV `day,items_done`.
    Throughput(ThroughputArgs),
}

/// `sim throughput` flags.
#[derive(Debug, clap::Args)]
pub struct ThroughputArgs {
    /// Seed: the same seed generates the same org.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Size of the org: small, medium or large.
    #[arg(long, default_value = "small")]
    pub scale: Scale,
    /// The Jira project key (see --list-projects).
    #[arg(
        long,
        value_name = "KEY",
        required_unless_present_any = ["list_projects", "scenario", "list_scenarios"]
    )]
    pub project: Option<String>,
    /// Print the org's project keys, one per line, instead.
    #[arg(long, conflicts_with = "project")]
    pub list_projects: bool,
    /// Print a two-year history with a real-world pathology (bulk clean-ups, a step change,
    /// weekday-only work, …) instead of a project's; --seed varies it. See
    /// docs/forecasting.md for what each does.
    #[arg(
        long,
        value_name = "NAME",
        value_parser = scenario_parser(),
        conflicts_with_all = ["project", "list_projects", "scale"]
    )]
    pub scenario: Option<Scenario>,
    /// Print the scenario names, one per line, instead.
    #[arg(long, conflicts_with_all = ["project", "list_projects", "scenario"])]
    pub list_scenarios: bool,
}

/// The scenario names as clap's possible values: `--help` lists them, and a typo gets
/// "invalid value 'stepdown' … [possible values: …]" with a suggestion.
fn scenario_parser() -> impl clap::builder::TypedValueParser<Value = Scenario> {
    clap::builder::PossibleValuesParser::new(Scenario::ALL.map(Scenario::name)).map(|name| {
        name.parse::<Scenario>()
            .expect("a possible value is a scenario")
    })
}

impl ThroughputArgs {
    /// The CSV (or project list) these flags ask for.
    pub fn render(&self) -> Result<String> {
        if self.list_scenarios {
            return Ok(Scenario::ALL.iter().map(|s| format!("{s}\n")).collect());
        }
        if let Some(scenario) = self.scenario {
            let mut out = String::from("day,items_done\n");
            for (day, n) in scenario_history(scenario, self.seed) {
                out.push_str(&format!("{},{n}\n", day.format("%Y-%m-%d")));
            }
            return Ok(out);
        }
        let org = Org::generate(&SimConfig::new(self.seed, self.scale))
            .context("generating the simulated org")?;
        let keys: Vec<&str> = org.projects.iter().map(|p| p.key.as_str()).collect();
        let Some(project) = self.project.as_deref().filter(|_| !self.list_projects) else {
            return Ok(keys.iter().map(|k| format!("{k}\n")).collect());
        };
        if org.project(project).is_none() {
            anyhow::bail!(
                "--project {project}: no such project in the simulated org (seed {}, {:?}); \
                 projects: {}",
                self.seed,
                self.scale,
                keys.join(", ")
            );
        }
        let mut out = String::from("day,items_done\n");
        for (day, n) in org.jira_daily_throughput(project) {
            out.push_str(&format!("{},{n}\n", day.format("%Y-%m-%d")));
        }
        Ok(out)
    }
}

/// `sim serve` flags.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Seed: the same seed serves the same org.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Size of the org: small, medium or large.
    #[arg(long, default_value = "small")]
    pub scale: Scale,
    /// Probability of an injected fault per request (403/429 secondary limits, 502/503, slow
    /// or truncated responses).
    #[arg(long, default_value_t = 0.0)]
    pub faults: f64,
    /// Revoke the token after this many GitHub requests (401 from then on), to rehearse a
    /// token revoked in the middle of a run.
    #[arg(long, value_name = "N")]
    pub revoke_token_after: Option<u64>,
    /// The token clients must send.
    #[arg(long, default_value = "sim-token")]
    pub token: String,
    /// The org's login.
    #[arg(long, default_value = "acme")]
    pub org: String,
}

impl ServeArgs {
    /// The simulator config these flags describe.
    pub fn config(&self) -> SimConfig {
        let mut c = SimConfig::new(self.seed, self.scale);
        c.faults = self.faults;
        c.token = self.token.clone();
        c.org = self.org.clone();
        c.revoke_token_after = self.revoke_token_after;
        c
    }
}

/// Run a simulator command.
pub async fn run(cmd: SimCommand) -> Result<()> {
    match cmd {
        SimCommand::Serve(args) => {
            let config = args.config();
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
                .await
                .with_context(|| format!("binding 127.0.0.1:{}", args.port))?;
            let addr = listener.local_addr()?;
            println!(
                "flowlake sim: org `{}` ({:?}, seed {}) on http://{addr}",
                config.org, config.scale, config.seed
            );
            println!(
                "  token: {}   stats: http://{addr}/_sim/stats",
                config.token
            );
            tokio::select! {
                r = flowlake_sim::serve(config, listener) => r.context("simulator stopped")?,
                _ = tokio::signal::ctrl_c() => {}
            }
            Ok(())
        }
        SimCommand::Throughput(args) => {
            use std::io::Write;
            let csv = args.render()?;
            let mut out = std::io::stdout().lock();
            out.write_all(csv.as_bytes())?;
            out.flush()?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(project: Option<&str>, list: bool) -> ThroughputArgs {
        ThroughputArgs {
            seed: 7,
            scale: Scale::Small,
            project: project.map(str::to_string),
            list_projects: list,
            scenario: None,
            list_scenarios: false,
        }
    }

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(subcommand)]
        sim: SimCommand,
    }

    fn parse(args: &[&str]) -> Result<ThroughputArgs, clap::Error> {
        use clap::Parser;
        let argv = ["sim", "throughput"]
            .into_iter()
            .chain(args.iter().copied());
        match Cli::try_parse_from(argv)?.sim {
            SimCommand::Throughput(a) => Ok(a),
            SimCommand::Serve(_) => unreachable!("parsed `throughput`"),
        }
    }

    #[test]
    fn scenario_flags_parse_and_name_the_choices() {
        let a = parse(&["--scenario", "step-down", "--seed", "3"]).unwrap();
        assert_eq!((a.scenario, a.seed), (Some(Scenario::StepDown), 3));
        let e = parse(&["--scenario", "stepdown"]).unwrap_err().to_string();
        assert!(e.contains("invalid value 'stepdown'"), "{e}");
        assert!(
            e.contains("possible values") && e.contains("step-down"),
            "{e}"
        );
        for conflict in [
            &["--scenario", "bulk", "--project", "PAY"][..],
            &["--scenario", "bulk", "--list-projects"],
            &["--scenario", "bulk", "--scale", "medium"],
            &["--list-scenarios", "--project", "PAY"],
        ] {
            let e = parse(conflict).unwrap_err();
            assert_eq!(
                e.kind(),
                clap::error::ErrorKind::ArgumentConflict,
                "{conflict:?}"
            );
        }
        assert!(parse(&[]).is_err(), "a project, a scenario or a list");
        assert!(parse(&["--list-scenarios"]).unwrap().list_scenarios);
    }

    #[test]
    fn scenarios_are_forecast_histories() {
        let names = ThroughputArgs {
            list_scenarios: true,
            ..args(None, false)
        }
        .render()
        .unwrap();
        assert_eq!(names.lines().count(), Scenario::ALL.len());
        let csv = parse(&["--scenario", "bulk"]).unwrap().render().unwrap();
        let h = flowlake_forecast::History::from_csv_str(&csv).unwrap();
        assert_eq!(h.len(), 730);
        assert!(h.counts().iter().any(|&n| n >= 80), "a clean-up day");
    }

    #[test]
    fn throughput_is_a_forecast_history() {
        let keys = args(None, true).render().unwrap();
        let first = keys.lines().next().expect("at least one project");
        let csv = args(Some(first), false).render().unwrap();
        let h = flowlake_forecast::History::from_csv_str(&csv).unwrap();
        assert_eq!(h.len(), 365);
        let e = args(Some("NOPE"), false).render().unwrap_err().to_string();
        assert!(
            e.starts_with("--project NOPE: no such project") && e.contains(first),
            "{e}"
        );
    }
}
