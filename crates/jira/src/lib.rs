//! The Jira connector: one site's issues (with their whole changelogs), boards, sprints and
//! statuses, fetched incrementally into the raw zone of the lake; incidents are issues of a
//! configured type (or JQL) and land in `raw/jira/issues` with the rest.
//!
//! It sits between Jira (Cloud REST v3 or Data Center REST v2, or `flowlake-sim`) and
//! `flowlake-lake`. Each project is searched by JQL from its watermark minus an overlap
//! (`updated` has minute precision), 100 issues per page with their changelogs; Cloud caps an
//! embedded changelog at 100 entries, so longer ones are completed from the paged changelog
//! endpoint. A cheap id scan per project finds issues that disappeared since the last run;
//! those are looked up and written again as tombstones (`deleted_at`) when deleted or moved
//! out of scope. Every request goes through [`http::Client`], which honours `Retry-After`,
//! retries faults with jittered backoff, and counts what it spent.
//!
//! Key types: [`JiraConfig`], [`Connector`], [`IngestReport`].
//!
//! ```
//! use flowlake_jira::{Auth, Flavor, JiraConfig, Secret};
//! let auth = Auth::ApiToken { email: "bot@acme.com".into(), token: Secret::new("ATATT-x") };
//! let mut cfg = JiraConfig::new("acme", "https://acme.atlassian.net", Flavor::Cloud, auth);
//! cfg.projects = vec!["PAY".into()];
//! assert!(cfg.validate().is_ok());
//! assert_eq!(Flavor::DataCenter.search_path(), "/rest/api/2/search");
//! cfg.projects.push("pay".into());
//! assert_eq!(
//!     cfg.validate().unwrap_err().to_string(),
//!     "[jira] projects: `pay` is not a Jira project key (upper-case letter, then upper-case \
//!      letters, digits or _, e.g. PAY)"
//! );
//! assert!(!format!("{cfg:?}").contains("ATATT"));
//! ```
//!
//! A run, as `flowlake ingest jira` does it:
//!
//! ```no_run
//! # async fn demo(cfg: flowlake_jira::JiraConfig) -> flowlake_jira::Result<()> {
//! use flowlake_jira::{Connector, SystemClock};
//! let lake = flowlake_lake::Lake::open("./lake")?;
//! let mut sink = flowlake_lake::RawSink::new(lake, "run-1", chrono::Utc::now().date_naive());
//! let report = Connector::new(cfg, &SystemClock, &|_| {})?.run(&mut sink).await?;
//! println!("{:?} in {} requests", report.rows, report.spend.requests);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod config;
mod connector;
mod error;
pub mod http;

pub use config::{Auth, Flavor, IncidentConfig, JiraConfig, Secret};
pub use connector::{Clock, Connector, IngestReport, Progress, ProjectState, SystemClock};
pub use error::{Error, Result};
pub use flowlake_model::jira::FieldMap;
