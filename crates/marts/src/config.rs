//! What the SQL models read as configuration: the one-row `flowlake_config` table and the
//! `flowlake_teams` seed table.

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use crate::error::{Error, Result};

/// The SQL name of the one-row configuration table.
pub const CONFIG_TABLE: &str = "flowlake_config";
/// The SQL name of the team seed table (`kind`, `name`, `team`).
pub const TEAMS_TABLE: &str = "flowlake_teams";

/// Settings of the metric definitions (see `docs/metrics.md`) and of the session.
#[derive(Clone, Debug, PartialEq)]
pub struct MartsConfig {
    /// Regex a (lower-cased) GitHub Deployment environment must match to count as production.
    pub production_env_regex: String,
    /// Regex on `<workflow name> <workflow path>` naming deploy workflows.
    pub deploy_workflow_regex: String,
    /// Whether published (non-draft, non-prerelease) releases are deployments.
    pub releases_are_deploys: bool,
    /// Regex on a PR's labels or title marking a hotfix or revert (rework).
    pub hotfix_regex: String,
    /// The issue label that makes a GitHub issue an incident.
    pub incident_label: String,
    /// How long after a deployment an incident is still attributed to it, in hours.
    pub incident_window_h: f64,
    /// Which DORA report's band thresholds to use: `"2023"` (default) or `"2021"`.
    pub dora_bands_version: String,
    /// Percentile of cycle time above which a work item is stale.
    pub stale_percentile: f64,
    /// Team seeds: `(kind, name, team)` with kind `"person"` (name = login) or `"repo"`
    /// (name = `owner/name`).
    pub teams: Vec<(String, String, String)>,
    /// DataFusion's `target_partitions`; fixed so results and plans are deterministic.
    pub target_partitions: usize,
}

impl Default for MartsConfig {
    fn default() -> Self {
        Self {
            production_env_regex: "^(prod|production)$".into(),
            deploy_workflow_regex: "(?i)deploy".into(),
            releases_are_deploys: false,
            hotfix_regex: "(?i)(hotfix|revert)".into(),
            incident_label: "incident".into(),
            incident_window_h: 72.0,
            dora_bands_version: "2023".into(),
            stale_percentile: 0.85,
            teams: Vec::new(),
            target_partitions: 4,
        }
    }
}

impl MartsConfig {
    /// The schema of `flowlake_config`.
    pub fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("production_env_regex", DataType::Utf8, false),
            Field::new("deploy_workflow_regex", DataType::Utf8, false),
            Field::new("releases_are_deploys", DataType::Boolean, false),
            Field::new("hotfix_regex", DataType::Utf8, false),
            Field::new("incident_label", DataType::Utf8, false),
            Field::new("incident_window_h", DataType::Float64, false),
            Field::new("dora_bands_version", DataType::Utf8, false),
            Field::new("stale_percentile", DataType::Float64, false),
        ]))
    }

    /// The one row of `flowlake_config`.
    pub fn to_batch(&self) -> RecordBatch {
        let s = |v: &str| Arc::new(StringArray::from(vec![v.to_string()])) as ArrayRef;
        let columns = vec![
            s(&self.production_env_regex),
            s(&self.deploy_workflow_regex),
            Arc::new(BooleanArray::from(vec![self.releases_are_deploys])) as ArrayRef,
            s(&self.hotfix_regex),
            s(&self.incident_label),
            Arc::new(Float64Array::from(vec![self.incident_window_h])) as ArrayRef,
            s(&self.dora_bands_version),
            Arc::new(Float64Array::from(vec![self.stale_percentile])) as ArrayRef,
        ];
        RecordBatch::try_new(Self::schema(), columns).expect("columns match the schema")
    }

    /// The schema of `flowlake_teams`.
    pub fn teams_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("kind", DataType::Utf8, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("team", DataType::Utf8, true),
        ]))
    }

    /// The rows of `flowlake_teams`.
    pub fn teams_batch(&self) -> RecordBatch {
        let col = |f: fn(&(String, String, String)) -> &str| {
            Arc::new(StringArray::from_iter_values(self.teams.iter().map(f))) as ArrayRef
        };
        RecordBatch::try_new(
            Self::teams_schema(),
            vec![col(|t| &t.0), col(|t| &t.1), col(|t| &t.2)],
        )
        .expect("columns match the schema")
    }

    /// Register `flowlake_config` and `flowlake_teams` as in-memory tables (replacing any).
    /// They are ordinary memory tables: a golden test may `update flowlake_config set …`.
    pub fn register(&self, ctx: &SessionContext) -> Result<()> {
        register_mem(ctx, CONFIG_TABLE, Self::schema(), vec![self.to_batch()])?;
        register_mem(
            ctx,
            TEAMS_TABLE,
            Self::teams_schema(),
            vec![self.teams_batch()],
        )?;
        Ok(())
    }
}

pub(crate) fn register_mem(
    ctx: &SessionContext,
    name: &str,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<()> {
    let register = || -> datafusion::error::Result<()> {
        let table = MemTable::try_new(schema, vec![batches])?;
        ctx.deregister_table(name)?;
        ctx.register_table(name, Arc::new(table))?;
        Ok(())
    };
    register().map_err(|source| Error::Register {
        table: name.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_have_one_config_row_and_every_team() {
        let mut config = MartsConfig::default();
        config
            .teams
            .push(("repo".into(), "acme/api".into(), "platform".into()));
        assert_eq!(config.to_batch().num_rows(), 1);
        assert_eq!(config.teams_batch().num_rows(), 1);
    }
}
