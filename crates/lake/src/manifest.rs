use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Every step finished; watermarks advanced.
    Succeeded,
    /// A step failed; data written before the failure is kept, watermarks did not advance.
    Failed,
}

/// The audit record of one run, written to `runs/<run_id>.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunManifest {
    /// The run id (also the prefix of every file the run wrote).
    pub run_id: String,
    /// `ingest github`, `ingest events`, `build`, `demo`, …
    pub command: String,
    /// Who ran it (`$USER`, or `unknown`).
    pub user: String,
    /// Host name, when known.
    pub host: Option<String>,
    /// SHA-256 of the effective configuration (secrets excluded).
    pub config_hash: Option<String>,
    /// Started.
    pub started_at: DateTime<Utc>,
    /// Finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// Duration in seconds.
    pub duration_s: Option<f64>,
    /// Outcome.
    pub outcome: Option<RunOutcome>,
    /// The error chain when it failed.
    pub error: Option<String>,
    /// Rows written per entity (`github/pull_requests` → n).
    pub rows: BTreeMap<String, u64>,
    /// Files written, relative to the lake root.
    pub files: Vec<String>,
    /// API requests spent per source.
    pub api_requests: BTreeMap<String, u64>,
    /// Rate-limit points spent per source (GraphQL cost).
    pub rate_limit_points: BTreeMap<String, u64>,
}

impl RunManifest {
    /// Start a manifest for `command`.
    pub fn start(run_id: &str, command: &str, started_at: DateTime<Utc>) -> Self {
        RunManifest {
            run_id: run_id.to_string(),
            command: command.to_string(),
            user: std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
            host: std::env::var("HOSTNAME").ok(),
            config_hash: None,
            started_at,
            finished_at: None,
            duration_s: None,
            outcome: None,
            error: None,
            rows: BTreeMap::new(),
            files: Vec::new(),
            api_requests: BTreeMap::new(),
            rate_limit_points: BTreeMap::new(),
        }
    }

    /// Close the manifest.
    pub fn finish(&mut self, at: DateTime<Utc>, error: Option<String>) {
        self.finished_at = Some(at);
        self.duration_s = Some((at - self.started_at).num_milliseconds() as f64 / 1000.0);
        self.outcome = Some(if error.is_some() {
            RunOutcome::Failed
        } else {
            RunOutcome::Succeeded
        });
        self.error = error;
    }

    /// The manifest's path in the lake.
    pub fn rel_path(&self) -> String {
        format!("runs/{}.json", self.run_id)
    }
}

/// A new run id: UTC time to the second plus 32 random bits, so ids sort by time and two
/// runs started in the same second never collide.
pub fn new_run_id(now: DateTime<Utc>) -> String {
    let salt: u32 = rand::rng().random();
    format!("{}-{salt:08x}", now.format("%Y%m%dT%H%M%SZ"))
}
