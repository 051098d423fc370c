use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Every step finished; watermarks advanced.
    Succeeded,
    /// A step failed; data written before the failure is kept, watermarks did not advance.
    Failed,
    /// A pipeline whose source failed while the other steps ran (exit code 3).
    Partial,
}

/// One step of a pipeline run (`flowlake run`), with the run id of the step's own manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct StepRecord {
    /// The step (`ingest-github`, `build`, …).
    pub step: String,
    /// The step's own run manifest, when it wrote one.
    pub run_id: Option<String>,
    /// How it ended.
    pub outcome: RunOutcome,
    /// Its error chain, when it failed.
    pub error: Option<String>,
    /// Seconds it took.
    pub duration_s: f64,
}

/// The audit record of one run, written to `runs/<run_id>.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[schemars(
    title = "flowlake run manifest",
    description = "The audit record of one run: <lake>/runs/<run_id>.json, written once."
)]
pub struct RunManifest {
    /// The run id (also the prefix of every file the run wrote).
    pub run_id: String,
    /// `ingest github`, `ingest events`, `build`, `demo`, …
    pub command: String,
    /// flowlake's version.
    #[serde(default)]
    pub version: String,
    /// Who ran it (`$USER`, or `unknown`).
    pub user: String,
    /// Host name, when known.
    pub host: Option<String>,
    /// SHA-256 of the effective configuration (secrets excluded).
    pub config_hash: Option<String>,
    /// The effective configuration itself, secrets redacted (`flowlake runs diff` compares it).
    #[serde(default)]
    pub config: Option<serde_json::Value>,
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
    /// The watermarks after the run, per state document (`state/github/acme.json` → its JSON).
    #[serde(default)]
    pub watermarks: BTreeMap<String, serde_json::Value>,
    /// The build a `build` run published (its marts are under `marts/_builds/<build_id>/`).
    #[serde(default)]
    pub build_id: Option<String>,
    /// The steps of a pipeline run.
    #[serde(default)]
    pub steps: Vec<StepRecord>,
    /// The process's exit code (see docs/operations.md).
    #[serde(default)]
    pub exit_code: Option<u8>,
}

impl RunManifest {
    /// Start a manifest for `command`.
    pub fn start(run_id: &str, command: &str, started_at: DateTime<Utc>) -> Self {
        RunManifest {
            run_id: run_id.to_string(),
            command: command.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            user: std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
            host: Some(crate::lock::host_name()),
            config_hash: None,
            config: None,
            started_at,
            finished_at: None,
            duration_s: None,
            outcome: None,
            error: None,
            rows: BTreeMap::new(),
            files: Vec::new(),
            api_requests: BTreeMap::new(),
            rate_limit_points: BTreeMap::new(),
            watermarks: BTreeMap::new(),
            build_id: None,
            steps: Vec::new(),
            exit_code: None,
        }
    }

    /// Mark a run whose source failed while the rest went on.
    pub fn mark_partial(&mut self) {
        self.outcome = Some(RunOutcome::Partial);
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

    /// Write the manifest to [`RunManifest::rel_path`] once: a manifest is never rewritten,
    /// so a second write of the same run id fails (create-if-absent put).
    pub async fn write(&self, lake: &crate::Lake) -> crate::Result<()> {
        lake.put_json_new(&self.rel_path(), self).await
    }

    /// Record every watermark document under `state/<source>/` as it is now.
    pub async fn record_watermarks(
        &mut self,
        lake: &crate::Lake,
        source: &str,
    ) -> crate::Result<()> {
        for o in lake.list(&format!("state/{source}")).await? {
            let rel = lake.relative(&o.location);
            if let Some(v) = lake.get_json::<serde_json::Value>(&rel).await? {
                self.watermarks.insert(rel, v);
            }
        }
        Ok(())
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

/// The JSON Schema of [`RunManifest`] (committed as `docs/run-manifest.schema.json`).
pub fn manifest_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(RunManifest)).expect("a schema is JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/run-manifest.schema.json` is generated from the type; regenerate it with
    /// `FLOWLAKE_BLESS=1 cargo test -p flowlake-lake manifest`.
    #[test]
    fn the_documented_schema_is_the_type_s_schema() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/run-manifest.schema.json"
        );
        let want = serde_json::to_string_pretty(&manifest_schema()).unwrap() + "\n";
        if std::env::var_os("FLOWLAKE_BLESS").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            have == want,
            "docs/run-manifest.schema.json is out of date: run \
             FLOWLAKE_BLESS=1 cargo test -p flowlake-lake manifest"
        );
    }

    #[tokio::test]
    async fn a_manifest_is_written_once() {
        let lake = crate::Lake::open("memory://").unwrap();
        let mut m = RunManifest::start("r1", "build", Utc::now());
        m.finish(Utc::now(), None);
        m.write(&lake).await.unwrap();
        let err = m.write(&lake).await.unwrap_err();
        assert!(err.to_string().contains("runs/r1.json"), "{err}");
        let back: RunManifest = lake.get_json("runs/r1.json").await.unwrap().unwrap();
        assert_eq!(back, m);
    }
}
