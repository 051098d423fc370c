//! Deployments and incidents imported from any other CI/CD or incident tool
//! (`flowlake ingest events FILE`). The file schema is documented in `docs/events.md`.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// A deployment from another tool (`raw/events/deployments`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EventDeployment {
    /// The tool that reported it (e.g. `argo`, `jenkins`).
    pub source: String,
    /// Its id in that tool.
    pub deployment_id: String,
    /// The repo (`owner/name`) or service name it deployed.
    pub service: String,
    /// Environment name.
    pub environment: Option<String>,
    /// The deployed commit.
    pub sha: Option<String>,
    /// `success`, `failure`, …
    pub status: String,
    /// Started.
    pub started_at: Option<DateTime<Utc>>,
    /// Finished.
    pub finished_at: Option<DateTime<Utc>>,
}

/// An incident from another tool (`raw/events/incidents`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EventIncident {
    /// The tool that reported it (e.g. `pagerduty`).
    pub source: String,
    /// Its id in that tool.
    pub incident_id: String,
    /// The repo (`owner/name`) or service it hit.
    pub service: String,
    /// Title.
    pub title: Option<String>,
    /// Opened.
    pub opened_at: Option<DateTime<Utc>>,
    /// Resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Severity.
    pub severity: Option<String>,
}
