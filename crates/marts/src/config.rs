//! What the SQL models read as configuration: the one-row `flowlake_config` table, the
//! `flowlake_teams` and `flowlake_identity_aliases` seed tables, and for the Jira flow marts the one-row `flowlake_flow_config`
//! table and the `flowlake_status_overrides` seed table ([`FlowConfig`]).

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, Utc};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use crate::error::{Error, Result};

/// The SQL name of the one-row configuration table.
pub const CONFIG_TABLE: &str = "flowlake_config";
/// The SQL name of the team seed table (`kind`, `name`, `team`).
pub const TEAMS_TABLE: &str = "flowlake_teams";
/// The SQL name of the identity alias seed table (`person`, `kind`, `value`).
pub const IDENTITY_ALIASES_TABLE: &str = "flowlake_identity_aliases";
/// The SQL name of the one-row flow configuration table (Jira marts).
pub const FLOW_CONFIG_TABLE: &str = "flowlake_flow_config";
/// The SQL name of the status category override table (`status_name`, `status_category`).
pub const STATUS_OVERRIDES_TABLE: &str = "flowlake_status_overrides";

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
    /// Team seeds: `(kind, name, team)` with kind `"person"` (name = a GitHub login, an
    /// e-mail or a Jira account id), `"repo"` (name = `owner/name`) or `"jira_project"`.
    pub teams: Vec<(String, String, String)>,
    /// Identity aliases: `(person, kind, value)` with kind `"github_login"`, `"email"` or
    /// `"jira_account"`; every identity listed under one `person` is one person.
    pub identity_aliases: Vec<(String, String, String)>,
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
            identity_aliases: Vec::new(),
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

    /// The schema of `flowlake_identity_aliases`.
    pub fn identity_aliases_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("person", DataType::Utf8, true),
            Field::new("kind", DataType::Utf8, true),
            Field::new("value", DataType::Utf8, true),
        ]))
    }

    /// The rows of `flowlake_identity_aliases`.
    pub fn identity_aliases_batch(&self) -> RecordBatch {
        let col = |f: fn(&(String, String, String)) -> &str| {
            Arc::new(StringArray::from_iter_values(
                self.identity_aliases.iter().map(f),
            )) as ArrayRef
        };
        RecordBatch::try_new(
            Self::identity_aliases_schema(),
            vec![col(|a| &a.0), col(|a| &a.1), col(|a| &a.2)],
        )
        .expect("columns match the schema")
    }

    /// Register `flowlake_config`, `flowlake_teams` and `flowlake_identity_aliases` as
    /// in-memory tables (replacing any).
    /// They are ordinary memory tables: a golden test may `update flowlake_config set …`.
    pub fn register(&self, ctx: &SessionContext) -> Result<()> {
        register_mem(ctx, CONFIG_TABLE, Self::schema(), vec![self.to_batch()])?;
        register_mem(
            ctx,
            TEAMS_TABLE,
            Self::teams_schema(),
            vec![self.teams_batch()],
        )?;
        register_mem(
            ctx,
            IDENTITY_ALIASES_TABLE,
            Self::identity_aliases_schema(),
            vec![self.identity_aliases_batch()],
        )?;
        Ok(())
    }
}

/// Settings of the Jira flow marts (see `docs/metrics.md`, *Flow*). Kept apart from
/// [`MartsConfig`] so that adding a flow knob never changes how callers build that struct;
/// give it to [`crate::Marts::with_flow`].
#[derive(Clone, Debug, PartialEq)]
pub struct FlowConfig {
    /// Regex on a status name (as Jira shows it) marking an in-progress status as *waiting*
    /// (in progress, but nobody works on it): counted in cycle time, not in active time.
    pub waiting_status_regex: String,
    /// Status category overrides: `(status name, category)` with category `new`,
    /// `indeterminate` or `done`; names match case-insensitively and win over Jira's category.
    pub status_overrides: Vec<(String, String)>,
    /// Only done items whose `done_at` lies within this many days before `as_of` form the
    /// cycle-time history of `mart_aging_wip`; `None` takes every done item.
    pub cycle_time_window_d: Option<f64>,
    /// "Now" for the flow marts (work-item age, the last day of `mart_throughput_daily`);
    /// `None` takes the latest `_ingested_at` of the workspace's Jira issues.
    pub as_of: Option<DateTime<Utc>>,
}

impl Default for FlowConfig {
    fn default() -> Self {
        Self {
            waiting_status_regex: "(?i)^(blocked|on hold|waiting( .*)?)$".into(),
            status_overrides: Vec::new(),
            cycle_time_window_d: None,
            as_of: None,
        }
    }
}

impl FlowConfig {
    /// The schema of `flowlake_flow_config`.
    pub fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("waiting_status_regex", DataType::Utf8, false),
            Field::new("cycle_time_window_d", DataType::Float64, true),
            Field::new(
                "as_of",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
        ]))
    }

    /// The one row of `flowlake_flow_config`.
    pub fn to_batch(&self) -> RecordBatch {
        let columns = vec![
            Arc::new(StringArray::from(vec![self.waiting_status_regex.clone()])) as ArrayRef,
            Arc::new(Float64Array::from(vec![self.cycle_time_window_d])) as ArrayRef,
            Arc::new(
                TimestampMicrosecondArray::from(vec![self.as_of.map(|t| t.timestamp_micros())])
                    .with_timezone("UTC"),
            ) as ArrayRef,
        ];
        RecordBatch::try_new(Self::schema(), columns).expect("columns match the schema")
    }

    /// The schema of `flowlake_status_overrides`.
    pub fn overrides_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("status_name", DataType::Utf8, true),
            Field::new("status_category", DataType::Utf8, true),
        ]))
    }

    /// The rows of `flowlake_status_overrides`.
    pub fn overrides_batch(&self) -> RecordBatch {
        let col = |f: fn(&(String, String)) -> &str| {
            Arc::new(StringArray::from_iter_values(
                self.status_overrides.iter().map(f),
            )) as ArrayRef
        };
        RecordBatch::try_new(Self::overrides_schema(), vec![col(|o| &o.0), col(|o| &o.1)])
            .expect("columns match the schema")
    }

    /// Register `flowlake_flow_config` and `flowlake_status_overrides` as in-memory tables
    /// (replacing any); golden tests may `update` / `insert into` them.
    pub fn register(&self, ctx: &SessionContext) -> Result<()> {
        register_mem(
            ctx,
            FLOW_CONFIG_TABLE,
            Self::schema(),
            vec![self.to_batch()],
        )?;
        register_mem(
            ctx,
            STATUS_OVERRIDES_TABLE,
            Self::overrides_schema(),
            vec![self.overrides_batch()],
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
        assert_eq!(config.identity_aliases_batch().num_rows(), 0);
        config
            .identity_aliases
            .push(("alice".into(), "jira_account".into(), "5e97".into()));
        assert_eq!(config.identity_aliases_batch().num_rows(), 1);
        let mut flow = FlowConfig::default();
        assert_eq!(flow.overrides_batch().num_rows(), 0);
        flow.status_overrides
            .push(("QA".into(), "indeterminate".into()));
        flow.as_of = Some("2024-03-20T00:00:00Z".parse().unwrap());
        assert_eq!(flow.overrides_batch().num_rows(), 1);
        assert_eq!(flow.to_batch().num_rows(), 1);
    }
}
