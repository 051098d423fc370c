//! The raw schemas SQL sees (`flowlake_marts::raw`) are the ones the connectors write
//! (`flowlake_model::Entity::schema`), column for column (nullability aside: every raw column
//! is nullable on the reading side), and every mart has the columns of its table contract.

use flowlake_marts::raw::RAW_TABLES;
use flowlake_model::Entity;

#[test]
fn raw_schemas_match_the_model() {
    assert_eq!(RAW_TABLES.len(), Entity::ALL.len());
    for entity in Entity::ALL {
        let table = RAW_TABLES
            .iter()
            .find(|t| t.rel == entity.dir().trim_end_matches('/'))
            .unwrap_or_else(|| panic!("no raw table for {}", entity.dir()));
        let ours: Vec<_> = table
            .file_schema()
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect();
        let theirs: Vec<_> = entity
            .schema()
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect();
        assert_eq!(ours, theirs, "{}", table.name);
    }
}

/// The table contracts of the project's architecture notes (`ARCHITECTURE.md`, *Table
/// contracts*): every mart has `workspace` and at least these columns. Analysts and reports
/// depend on the names.
const MART_CONTRACTS: &[(&str, &[&str])] = &[
    (
        "dim_people",
        &[
            "person_id",
            "display_name",
            "emails",
            "github_logins",
            "jira_account_ids",
            "team",
        ],
    ),
    (
        "fct_pull_requests",
        &[
            "pr_key",
            "repo",
            "number",
            "author_person_id",
            "team",
            "created_at",
            "first_commit_at",
            "first_review_at",
            "approved_at",
            "merged_at",
            "closed_at",
            "deployed_at",
            "additions",
            "deletions",
            "reviews",
            "coding_time_h",
            "pickup_time_h",
            "review_time_h",
            "deploy_time_h",
            "cycle_time_h",
            "state",
        ],
    ),
    (
        "fct_deployments",
        &[
            "deployment_key",
            "repo",
            "environment",
            "finished_at",
            "status",
            "sha",
            "source",
            "caused_incident",
            "is_rework",
        ],
    ),
    (
        "fct_incidents",
        &[
            "incident_key",
            "source",
            "opened_at",
            "resolved_at",
            "restore_time_h",
            "deployment_key",
        ],
    ),
    (
        "mart_dora",
        &[
            "grain",
            "period_start",
            "scope_type",
            "scope",
            "deployments",
            "deployment_days",
            "lead_time_p50_h",
            "change_failure_rate",
            "recovery_time_p50_h",
            "rework_rate",
            "deployment_frequency_band",
            "lead_time_band",
            "change_failure_band",
            "recovery_time_band",
        ],
    ),
    (
        "mart_developer_weekly",
        &[
            "week_start",
            "person_id",
            "team",
            "prs_opened",
            "prs_merged",
            "reviews_given",
            "cycle_time_p50_h",
            "pickup_time_p50_h",
            "lines_added",
            "lines_deleted",
        ],
    ),
    (
        "fct_work_items",
        &[
            "issue_key",
            "project",
            "issue_type",
            "status",
            "status_category",
            "created_at",
            "started_at",
            "done_at",
            "cycle_time_d",
            "lead_time_d",
            "story_points",
            "epic_key",
            "sprint_id",
            "assignee_person_id",
            "deleted_at",
        ],
    ),
    (
        "fct_status_intervals",
        &[
            "issue_key",
            "status",
            "status_category",
            "entered_at",
            "exited_at",
            "duration_h",
        ],
    ),
    (
        "mart_flow_weekly",
        &[
            "week_start",
            "project",
            "throughput",
            "wip",
            "cycle_time_p50_d",
            "cycle_time_p85_d",
            "flow_efficiency",
        ],
    ),
    ("mart_throughput_daily", &["day", "project", "items_done"]),
    (
        "mart_aging_wip",
        &[
            "issue_key",
            "project",
            "status",
            "age_d",
            "cycle_time_p85_d",
            "is_stale",
        ],
    ),
    (
        "mart_sprints",
        &[
            "sprint_id",
            "board",
            "name",
            "started_at",
            "ended_at",
            "committed_points",
            "completed_points",
            "added_points",
            "removed_points",
        ],
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marts_have_their_contract_columns() {
    let models = flowlake_marts::Models::embedded().unwrap();
    let ctx = flowlake_marts::fixture_session(&models, &flowlake_marts::MartsConfig::default())
        .await
        .unwrap();
    for (mart, columns) in MART_CONTRACTS {
        let model = models
            .get(mart)
            .unwrap_or_else(|| panic!("no model {mart}"));
        assert_eq!(model.layer, flowlake_marts::Layer::Mart, "{mart}");
        let schema = ctx.table_provider(*mart).await.unwrap().schema();
        for column in std::iter::once(&"workspace").chain(columns.iter()) {
            assert!(
                schema.field_with_name(column).is_ok(),
                "{mart} lacks the contract column {column}"
            );
        }
    }
}
