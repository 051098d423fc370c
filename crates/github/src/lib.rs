//! The GitHub connector: one org's PRs (with reviews and commits), default-branch history,
//! deployments, workflow runs, releases and incident issues, fetched incrementally into the
//! raw zone of the lake.
//!
//! It sits between the GitHub API (or `flowlake-sim`) and `flowlake-lake`. PRs, history and
//! deployments come through GraphQL in pages of 100 with their children nested, so a thousand
//! PRs with their reviews and commits cost about ten requests; runs, releases and issues come
//! through REST. Every request goes through [`http::Client`], which honours primary and
//! secondary rate limits, retries faults with jittered backoff, and counts what it spent.
//!
//! Key types: [`GithubConfig`], [`Connector`], [`IngestReport`].
//!
//! ```
//! use flowlake_github::{GithubConfig, Secret};
//! let cfg = GithubConfig::new("acme", Secret::new("t"));
//! assert_eq!(cfg.graphql_url(), "https://api.github.com/graphql");
//! let ghe = GithubConfig { base_url: "https://ghe.example.com/api/v3".into(), ..cfg };
//! assert_eq!(ghe.graphql_url(), "https://ghe.example.com/api/graphql");
//! assert_eq!(format!("{:?}", Secret::new("ghp_x")), "Secret(***)");
//! ```
#![deny(missing_docs)]

mod config;
mod connector;
mod error;
pub mod http;
pub mod queries;

pub use config::{Auth, GithubConfig, Secret};
pub use connector::{Clock, Connector, IngestReport, Progress, RepoState, SystemClock};
pub use error::{Error, Result};
