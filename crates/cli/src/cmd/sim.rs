//! `flowlake sim serve`: the simulated org over HTTP, for trying connectors without credentials.

use anyhow::{Context, Result};
use clap::Subcommand;
use flowlake_sim::{Scale, SimConfig};

/// Simulator commands.
#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Serve the GitHub API subset flowlake uses (see docs/github-api.md) until Ctrl-C.
    Serve(ServeArgs),
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
            println!("flowlake sim: org `{}` ({:?}, seed {}) on http://{addr}", config.org, config.scale, config.seed);
            println!("  token: {}   stats: http://{addr}/_sim/stats", config.token);
            tokio::select! {
                r = flowlake_sim::serve(config, listener) => r.context("simulator stopped")?,
                _ = tokio::signal::ctrl_c() => {}
            }
            Ok(())
        }
    }
}
