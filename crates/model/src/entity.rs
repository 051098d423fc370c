use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{Error, Result};

/// One raw table of the lake: `raw/<source>/<name>/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entity {
    /// `raw/github/pull_requests`
    GithubPullRequests,
    /// `raw/github/pull_request_commits`
    GithubPullRequestCommits,
    /// `raw/github/pull_request_reviews`
    GithubPullRequestReviews,
    /// `raw/github/commits` (default-branch history)
    GithubCommits,
    /// `raw/github/deployments`
    GithubDeployments,
    /// `raw/github/workflow_runs`
    GithubWorkflowRuns,
    /// `raw/github/releases`
    GithubReleases,
    /// `raw/github/issues` (incident-labelled issues)
    GithubIssues,
    /// `raw/events/deployments`
    EventsDeployments,
    /// `raw/events/incidents`
    EventsIncidents,
    /// `raw/jira/issues`
    JiraIssues,
    /// `raw/jira/changelog_items`
    JiraChangelogItems,
    /// `raw/jira/sprints`
    JiraSprints,
    /// `raw/jira/boards`
    JiraBoards,
    /// `raw/jira/statuses`
    JiraStatuses,
}

#[derive(Clone, Copy)]
enum Col {
    Str,
    Int,
    Bool,
    Ts,
    Float,
}

impl Entity {
    /// Every entity, in a stable order.
    pub const ALL: [Entity; 15] = [
        Entity::GithubPullRequests,
        Entity::GithubPullRequestCommits,
        Entity::GithubPullRequestReviews,
        Entity::GithubCommits,
        Entity::GithubDeployments,
        Entity::GithubWorkflowRuns,
        Entity::GithubReleases,
        Entity::GithubIssues,
        Entity::EventsDeployments,
        Entity::EventsIncidents,
        Entity::JiraIssues,
        Entity::JiraChangelogItems,
        Entity::JiraSprints,
        Entity::JiraBoards,
        Entity::JiraStatuses,
    ];

    /// The source folder (`github`, `events`).
    pub fn source(self) -> &'static str {
        match self {
            Entity::EventsDeployments | Entity::EventsIncidents => "events",
            Entity::JiraIssues
            | Entity::JiraChangelogItems
            | Entity::JiraSprints
            | Entity::JiraBoards
            | Entity::JiraStatuses => "jira",
            _ => "github",
        }
    }

    /// The entity folder (`pull_requests`, …).
    pub fn name(self) -> &'static str {
        match self {
            Entity::GithubPullRequests => "pull_requests",
            Entity::GithubPullRequestCommits => "pull_request_commits",
            Entity::GithubPullRequestReviews => "pull_request_reviews",
            Entity::GithubCommits => "commits",
            Entity::GithubDeployments => "deployments",
            Entity::GithubWorkflowRuns => "workflow_runs",
            Entity::GithubReleases => "releases",
            Entity::GithubIssues => "issues",
            Entity::EventsDeployments => "deployments",
            Entity::EventsIncidents => "incidents",
            Entity::JiraIssues => "issues",
            Entity::JiraChangelogItems => "changelog_items",
            Entity::JiraSprints => "sprints",
            Entity::JiraBoards => "boards",
            Entity::JiraStatuses => "statuses",
        }
    }

    /// The folder under the lake root, e.g. `raw/github/pull_requests`.
    pub fn dir(self) -> String {
        format!("raw/{}/{}", self.source(), self.name())
    }

    /// The SQL table name staging reads, e.g. `raw_github_pull_requests`.
    pub fn table_name(self) -> String {
        format!("raw_{}_{}", self.source(), self.name())
    }

    fn columns(self) -> &'static [(&'static str, Col)] {
        use Col::*;
        match self {
            Entity::GithubPullRequests => &[
                ("repo", Str),
                ("pr_id", Str),
                ("number", Int),
                ("title", Str),
                ("state", Str),
                ("is_draft", Bool),
                ("author_login", Str),
                ("author_type", Str),
                ("created_at", Ts),
                ("updated_at", Ts),
                ("closed_at", Ts),
                ("merged_at", Ts),
                ("merge_commit_sha", Str),
                ("base_ref", Str),
                ("head_ref", Str),
                ("additions", Int),
                ("deletions", Int),
                ("changed_files", Int),
                ("labels", Str),
                ("commits_total", Int),
                ("reviews_total", Int),
                ("deleted_at", Ts),
            ],
            Entity::GithubPullRequestCommits => &[
                ("repo", Str),
                ("pr_number", Int),
                ("sha", Str),
                ("authored_at", Ts),
                ("committed_at", Ts),
                ("author_name", Str),
                ("author_email", Str),
                ("author_login", Str),
                ("message", Str),
                ("additions", Int),
                ("deletions", Int),
            ],
            Entity::GithubPullRequestReviews => &[
                ("repo", Str),
                ("pr_number", Int),
                ("review_id", Str),
                ("reviewer_login", Str),
                ("reviewer_type", Str),
                ("state", Str),
                ("submitted_at", Ts),
                ("comments_total", Int),
            ],
            Entity::GithubCommits => &[
                ("repo", Str),
                ("sha", Str),
                ("committed_at", Ts),
                ("authored_at", Ts),
                ("author_name", Str),
                ("author_email", Str),
                ("author_login", Str),
                ("message", Str),
                ("parents", Int),
            ],
            Entity::GithubDeployments => &[
                ("repo", Str),
                ("deployment_id", Str),
                ("database_id", Int),
                ("sha", Str),
                ("environment", Str),
                ("task", Str),
                ("ref_name", Str),
                ("created_at", Ts),
                ("updated_at", Ts),
                ("state", Str),
                ("finished_at", Ts),
                ("creator_login", Str),
            ],
            Entity::GithubWorkflowRuns => &[
                ("repo", Str),
                ("run_id", Int),
                ("workflow_id", Int),
                ("name", Str),
                ("path", Str),
                ("event", Str),
                ("head_branch", Str),
                ("head_sha", Str),
                ("status", Str),
                ("conclusion", Str),
                ("run_attempt", Int),
                ("run_number", Int),
                ("created_at", Ts),
                ("updated_at", Ts),
                ("run_started_at", Ts),
            ],
            Entity::GithubReleases => &[
                ("repo", Str),
                ("release_id", Int),
                ("tag_name", Str),
                ("name", Str),
                ("target_commitish", Str),
                ("is_draft", Bool),
                ("is_prerelease", Bool),
                ("created_at", Ts),
                ("published_at", Ts),
                ("author_login", Str),
            ],
            Entity::GithubIssues => &[
                ("repo", Str),
                ("issue_id", Int),
                ("number", Int),
                ("title", Str),
                ("state", Str),
                ("labels", Str),
                ("author_login", Str),
                ("created_at", Ts),
                ("updated_at", Ts),
                ("closed_at", Ts),
            ],
            Entity::EventsDeployments => &[
                ("source", Str),
                ("deployment_id", Str),
                ("service", Str),
                ("environment", Str),
                ("sha", Str),
                ("status", Str),
                ("started_at", Ts),
                ("finished_at", Ts),
            ],
            Entity::EventsIncidents => &[
                ("source", Str),
                ("incident_id", Str),
                ("service", Str),
                ("title", Str),
                ("opened_at", Ts),
                ("resolved_at", Ts),
                ("severity", Str),
            ],
            Entity::JiraIssues => &[
                ("issue_id", Str),
                ("issue_key", Str),
                ("project_key", Str),
                ("issue_type", Str),
                ("summary", Str),
                ("status", Str),
                ("status_id", Str),
                ("status_category", Str),
                ("priority", Str),
                ("created_at", Ts),
                ("updated_at", Ts),
                ("resolution_date", Ts),
                ("story_points", Float),
                ("epic_key", Str),
                ("parent_key", Str),
                ("sprint_id", Int),
                ("sprint_ids", Str),
                ("assignee_account_id", Str),
                ("assignee_name", Str),
                ("assignee_email", Str),
                ("reporter_account_id", Str),
                ("labels", Str),
                ("components", Str),
                ("fix_versions", Str),
                ("changelog_total", Int),
                ("deleted_at", Ts),
                ("deleted_reason", Str),
            ],
            Entity::JiraChangelogItems => &[
                ("issue_id", Str),
                ("issue_key", Str),
                ("changelog_id", Str),
                ("item_index", Int),
                ("created_at", Ts),
                ("author_account_id", Str),
                ("field", Str),
                ("field_id", Str),
                ("field_type", Str),
                ("from_value", Str),
                ("from_string", Str),
                ("to_value", Str),
                ("to_string", Str),
            ],
            Entity::JiraSprints => &[
                ("sprint_id", Int),
                ("board_id", Int),
                ("origin_board_id", Int),
                ("name", Str),
                ("state", Str),
                ("start_date", Ts),
                ("end_date", Ts),
                ("complete_date", Ts),
                ("goal", Str),
            ],
            Entity::JiraBoards => &[
                ("board_id", Int),
                ("name", Str),
                ("board_type", Str),
                ("project_key", Str),
            ],
            Entity::JiraStatuses => &[("status_id", Str), ("name", Str), ("category_key", Str)],
        }
    }

    /// The Arrow schema of the raw table, `workspace` first and the run columns last
    /// (`ingest_date`, the Hive partition, is not stored in the files).
    pub fn schema(self) -> SchemaRef {
        let ts = || DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let mut fields = vec![Field::new("workspace", DataType::Utf8, false)];
        for (name, col) in self.columns() {
            let dt = match col {
                Col::Str => DataType::Utf8,
                Col::Int => DataType::Int64,
                Col::Bool => DataType::Boolean,
                Col::Ts => ts(),
                Col::Float => DataType::Float64,
            };
            fields.push(Field::new(*name, dt, true));
        }
        fields.push(Field::new("_run_id", DataType::Utf8, false));
        fields.push(Field::new("_ingested_at", ts(), false));
        Arc::new(Schema::new(fields))
    }
}

#[derive(Serialize)]
struct Row<'a, T> {
    workspace: &'a str,
    #[serde(flatten)]
    record: &'a T,
    _run_id: &'a str,
    _ingested_at: DateTime<Utc>,
}

/// Convert records to one `RecordBatch` in `entity`'s schema, stamping each row with the
/// workspace, the run id and the ingest time.
pub fn to_batch<T: Serialize>(
    entity: Entity,
    records: &[T],
    workspace: &str,
    run_id: &str,
    ingested_at: DateTime<Utc>,
) -> Result<RecordBatch> {
    let schema = entity.schema();
    let arrow = |source| Error::Arrow {
        entity: entity.name(),
        source,
    };
    let rows: Vec<Row<'_, T>> = records
        .iter()
        .map(|record| Row {
            workspace,
            record,
            _run_id: run_id,
            _ingested_at: ingested_at,
        })
        .collect();
    let mut decoder = arrow_json_decoder(schema.clone(), rows.len().max(1)).map_err(arrow)?;
    decoder.serialize(&rows).map_err(arrow)?;
    match decoder.flush().map_err(arrow)? {
        Some(batch) => Ok(batch),
        None => Ok(RecordBatch::new_empty(schema)),
    }
}

fn arrow_json_decoder(
    schema: SchemaRef,
    batch_size: usize,
) -> std::result::Result<arrow::json::reader::Decoder, arrow::error::ArrowError> {
    arrow::json::ReaderBuilder::new(schema)
        .with_batch_size(batch_size)
        .with_strict_mode(true)
        .build_decoder()
}
