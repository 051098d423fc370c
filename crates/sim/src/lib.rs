//! `flowlake-sim`: a deterministic simulated engineering org, and an HTTP server that speaks
//! the GitHub API subset of `docs/github-api.md` and the Jira API subset of
//! `docs/jira-api.md` (Cloud v3 and Data Center v2 on one site, plus the Agile API).
//!
//! In the pipeline it stands in for GitHub and Jira, left of the connectors:
//!
//! ```text
//! flowlake-sim (fake GitHub + Jira) ─ connectors ─ raw zone ─ staging ─ marts ─ reports/forecasts
//! ```
//!
//! `flowlake demo`, the connectors' tests (over real HTTP) and the benchmarks use it. It depends
//! on no other flowlake crate.
//!
//! Key types:
//! - [`SimConfig`] and [`Scale`]: seed, size, tokens (GitHub; Jira `jira_email` +
//!   `jira_api_token`, `jira_pat`, `jira_oauth_token`), fault rate, rate-limit budget, clock.
//! - [`Org`]: the full generated timeline (people, teams, [`Repo`]s with pull requests,
//!   default-branch history, deployments, incidents, workflow runs, releases; Jira-like work
//!   items per [`Project`], and on top of them the Jira site of [`jira`]: issues with
//!   changelogs, epics, sprints, deleted and moved issues, `OPS` incidents). Same seed, same
//!   org. Tests read it to compute expected values ([`Org::jira_issues_at`],
//!   [`Org::jira_issue_at`], [`Project::jira`]).
//! - [`spawn`] / [`SimHandle`]: the server on `127.0.0.1:0`, answering as the org stood at its
//!   simulated clock (which starts at the end of the timeline and moves with
//!   [`SimHandle::advance`] or `POST /_sim/advance?hours=H`).
//!
//! ```
//! use flowlake_sim::{Org, Scale, SimConfig};
//!
//! let config = SimConfig::new(7, Scale::Small);
//! let org = Org::generate(&config)?;
//! let visible = org.pull_requests_visible_at(config.initial_clock());
//! assert!(visible > 2_000);
//! let daily = org.jira_daily_throughput(&org.projects[0].key);
//! assert_eq!(daily.len(), 365);
//! let pay = org.projects[0].jira();
//! assert!(pay.long_changelogs().any(|i| i.histories.len() > 100));
//! let issues = org.jira_issues_at(&org.projects[0].key, config.initial_clock());
//! assert!(issues.len() > 200);
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let sim = flowlake_sim::spawn(config).await?;
//! assert!(sim.base_url().starts_with("http://127.0.0.1:"));
//! sim.advance(24.0);
//! assert_eq!(sim.stats().requests, 0);
//! sim.shutdown().await?;
//! # Ok::<_, flowlake_sim::Error>(())
//! # })?;
//! # Ok::<_, flowlake_sim::Error>(())
//! ```
#![deny(missing_docs)]

pub mod config;
pub mod error;
pub mod jira;
pub mod model;
pub mod org;
pub mod server;
pub mod throughput;

pub(crate) mod api;
pub(crate) mod generate;
pub(crate) mod jira_api;
pub(crate) mod util;

pub use config::{Scale, SimConfig, timeline_end};
pub use error::{Error, Result};
pub use org::{Org, Project, Repo};
pub use server::{SimHandle, Stats, serve, spawn, spawn_with_org};
