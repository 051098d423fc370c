//! The raw zone as SQL sees it: one table per entity of `docs/raw-zone.md`, named
//! `raw_<source>_<entity>` (`raw/github/pull_requests` is `raw_github_pull_requests`).
//!
//! The schemas mirror the contract the connectors write. Every column is nullable here, so a
//! file missing a column that a later version added still reads (the column is null), and
//! golden-test fixtures can insert only the columns they care about.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// The Hive partition column of every raw table.
pub const PARTITION_COLUMN: &str = "ingest_date";

#[derive(Clone, Copy, Debug)]
enum Col {
    Str,
    Int,
    Bool,
    Ts,
}

/// One raw table: where it lives in the lake and its columns.
#[derive(Clone, Copy, Debug)]
pub struct RawTable {
    /// The SQL name, e.g. `raw_github_pull_requests`.
    pub name: &'static str,
    /// The folder under the lake root, e.g. `raw/github/pull_requests`.
    pub rel: &'static str,
    columns: &'static [(&'static str, Col)],
}

impl RawTable {
    /// The schema of the Parquet files (without the `ingest_date` partition column):
    /// `workspace`, the entity's columns, `_run_id`, `_ingested_at`.
    pub fn file_schema(&self) -> SchemaRef {
        let mut fields = vec![Field::new("workspace", DataType::Utf8, true)];
        for (name, col) in self.columns {
            fields.push(Field::new(*name, data_type(*col), true));
        }
        fields.push(Field::new("_run_id", DataType::Utf8, true));
        fields.push(Field::new("_ingested_at", data_type(Col::Ts), true));
        Arc::new(Schema::new(fields))
    }

    /// The schema SQL sees: the file schema plus `ingest_date` (Utf8).
    pub fn table_schema(&self) -> SchemaRef {
        let file = self.file_schema();
        let mut fields: Vec<Field> = file.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(Field::new(PARTITION_COLUMN, DataType::Utf8, true));
        Arc::new(Schema::new(fields))
    }
}

fn data_type(col: Col) -> DataType {
    match col {
        Col::Str => DataType::Utf8,
        Col::Int => DataType::Int64,
        Col::Bool => DataType::Boolean,
        Col::Ts => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
    }
}

use Col::{Bool, Int, Str, Ts};

/// Every raw table, in the order of `docs/raw-zone.md`.
pub const RAW_TABLES: &[RawTable] = &[
    RawTable {
        name: "raw_github_pull_requests",
        rel: "raw/github/pull_requests",
        columns: &[
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
    },
    RawTable {
        name: "raw_github_pull_request_commits",
        rel: "raw/github/pull_request_commits",
        columns: &[
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
    },
    RawTable {
        name: "raw_github_pull_request_reviews",
        rel: "raw/github/pull_request_reviews",
        columns: &[
            ("repo", Str),
            ("pr_number", Int),
            ("review_id", Str),
            ("reviewer_login", Str),
            ("reviewer_type", Str),
            ("state", Str),
            ("submitted_at", Ts),
            ("comments_total", Int),
        ],
    },
    RawTable {
        name: "raw_github_commits",
        rel: "raw/github/commits",
        columns: &[
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
    },
    RawTable {
        name: "raw_github_deployments",
        rel: "raw/github/deployments",
        columns: &[
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
    },
    RawTable {
        name: "raw_github_workflow_runs",
        rel: "raw/github/workflow_runs",
        columns: &[
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
    },
    RawTable {
        name: "raw_github_releases",
        rel: "raw/github/releases",
        columns: &[
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
    },
    RawTable {
        name: "raw_github_issues",
        rel: "raw/github/issues",
        columns: &[
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
    },
    RawTable {
        name: "raw_events_deployments",
        rel: "raw/events/deployments",
        columns: &[
            ("source", Str),
            ("deployment_id", Str),
            ("service", Str),
            ("environment", Str),
            ("sha", Str),
            ("status", Str),
            ("started_at", Ts),
            ("finished_at", Ts),
        ],
    },
    RawTable {
        name: "raw_events_incidents",
        rel: "raw/events/incidents",
        columns: &[
            ("source", Str),
            ("incident_id", Str),
            ("service", Str),
            ("title", Str),
            ("opened_at", Ts),
            ("resolved_at", Ts),
            ("severity", Str),
        ],
    },
];

/// The raw table called `name`, if any.
pub fn raw_table(name: &str) -> Option<&'static RawTable> {
    RAW_TABLES.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_folder() {
        for t in RAW_TABLES {
            assert_eq!(
                t.name,
                format!("raw_{}", t.rel["raw/".len()..].replace('/', "_"))
            );
            assert_eq!(
                t.table_schema().fields().len(),
                t.file_schema().fields().len() + 1
            );
        }
    }
}
