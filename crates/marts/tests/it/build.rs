//! `Marts::build` end to end: the shared fixtures are written as raw Parquet files into a
//! lake (tempdir and memory), the marts are built, and `marts/mart_dora/data.parquet` read
//! back agrees with the golden-test session's views over the same rows.

use std::path::Path;

use arrow::record_batch::RecordBatch;
use arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use flowlake_lake::Lake;
use flowlake_marts::raw::RAW_TABLES;
use flowlake_marts::{Marts, MartsConfig, Models, session_for_query};
use sqllogictest::{DefaultColumnType, Record};

/// A fixture session (every model a view) with `sql/tests/fixtures.slt` and
/// `sql/tests/jira_fixtures.slt` loaded.
pub async fn loaded_fixture_session() -> SessionContext {
    let sql = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sql");
    let models = Models::from_dir(&sql).unwrap();
    let ctx = crate::slt::session(&models).await.unwrap();
    for file in ["tests/fixtures.slt", "tests/jira_fixtures.slt"] {
        let records = sqllogictest::parse_file::<DefaultColumnType>(sql.join(file)).unwrap();
        for record in records {
            if let Record::Statement { sql, .. } = record {
                ctx.sql(&sql).await.unwrap().collect().await.unwrap();
            }
        }
    }
    ctx
}

/// Writes the raw tables of a fixture session into `lake` as raw Parquet files.
pub async fn write_raw(ctx: &SessionContext, lake: &Lake) {
    for table in RAW_TABLES.iter() {
        let schema = table.file_schema();
        let columns: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| format!("\"{}\"", f.name()))
            .collect();
        let sql = format!("select {} from {}", columns.join(", "), table.name);
        let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
        if batches.iter().map(RecordBatch::num_rows).sum::<usize>() == 0 {
            continue; // an entity never ingested: no folder at all
        }
        let rel = format!("{}/ingest_date=2024-03-13/run1-0.parquet", table.rel);
        lake.put_parquet(&rel, &batches, schema).await.unwrap();
    }
}

async fn sorted(ctx: &SessionContext, sql: &str) -> String {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    pretty_format_batches(&batches).unwrap().to_string()
}

const DORA: &str = "select grain, period_start, scope_type, scope, deployments, deployment_days, \
    round(lead_time_p50_h, 6) as p50, round(lead_time_p90_h, 6) as p90, change_failure_rate, \
    recovery_time_p50_h, rework_rate, deployment_frequency_band, lead_time_band \
    from mart_dora order by grain, period_start, scope_type, scope";

async fn build_and_compare(lake: Lake) {
    let fixtures = loaded_fixture_session().await;
    write_raw(&fixtures, &lake).await;
    let teams = [
        ("repo", "acme/api", "platform"),
        ("person", "alice", "platform"),
        ("person", "bob", "platform"),
        ("person", "dave", "web"),
        ("jira_project", "PAY", "payments"),
    ];
    let config = MartsConfig {
        target_partitions: 4,
        // The same seed rows as `sql/tests/fixtures.slt` and `jira_fixtures.slt` insert.
        teams: teams
            .iter()
            .map(|(k, n, t)| (k.to_string(), n.to_string(), t.to_string()))
            .collect(),
        ..MartsConfig::default()
    };
    let marts = Marts::new(lake.clone(), config).unwrap();
    let mut seen = Vec::new();
    let report = marts
        .build(|model, done, total| seen.push((model.to_string(), done, total)))
        .await
        .unwrap();
    assert_eq!(seen.len(), marts.models().ordered().len());
    assert_eq!(seen.last().unwrap().1, seen.last().unwrap().2);
    let dora = report.model("mart_dora").unwrap();
    assert_eq!(
        dora.path.clone(),
        Some(format!(
            "marts/_builds/{}/mart_dora/data.parquet",
            report.build_id
        ))
    );
    assert!(dora.rows > 0);

    // The Parquet object is there and reads back on its own.
    let batches = lake
        .read_parquet("marts/mart_dora/data.parquet")
        .await
        .unwrap();
    assert_eq!(
        batches.iter().map(RecordBatch::num_rows).sum::<usize>(),
        dora.rows
    );

    // `flowlake sql`'s session reads the built marts and agrees with the golden views.
    let query = session_for_query(&lake).await.unwrap();
    assert_eq!(sorted(&query, DORA).await, sorted(&fixtures, DORA).await);
    let prs = "select pr_key, deployment_key, cycle_time_h, lead_time_h from fct_pull_requests order by pr_key";
    assert_eq!(sorted(&query, prs).await, sorted(&fixtures, prs).await);
    // The Jira marts too, including the column types the forecast reads.
    for jira in [
        "select * from fct_work_items order by issue_key",
        "select * from fct_status_intervals order by issue_key, visit_seq",
        "select day, project, items_done, arrow_typeof(day) as t from mart_throughput_daily \
         order by project, day",
        "select * from mart_flow_weekly order by project, week_start",
        "select * from mart_aging_wip order by issue_key",
        "select * from mart_sprints order by sprint_id",
    ] {
        let built = sorted(&query, jira).await;
        assert_eq!(built, sorted(&fixtures, jira).await, "{jira}");
        assert!(built.lines().count() > 4, "{jira}: {built}");
    }
    // Staging views over the raw Parquet files see the Hive partition column.
    let partitions = sorted(
        &query,
        "select distinct ingest_date from raw_github_pull_requests",
    )
    .await;
    assert!(partitions.contains("2024-03-13"), "{partitions}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builds_marts_into_a_folder_lake() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    build_and_compare(lake).await;
    assert!(dir.path().join("marts/mart_dora/data.parquet").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builds_marts_into_a_memory_lake() {
    build_and_compare(Lake::open("memory://").unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_lake_builds_empty_marts() {
    let lake = Lake::open("memory://").unwrap();
    let report = Marts::new(lake.clone(), MartsConfig::default())
        .unwrap()
        .build(|_, _, _| {})
        .await
        .unwrap();
    assert!(report.models.iter().all(|m| m.rows == 0), "{report:?}");
    let ctx = session_for_query(&lake).await.unwrap();
    assert_eq!(
        sorted(&ctx, "select count(*) as n from mart_dora")
            .await
            .matches(" 0 ")
            .count(),
        1
    );
}

/// Not a check: writes the fixtures as a raw zone and builds its marts into the folder named
/// by `FLOWLAKE_FIXTURE_LAKE`, e.g. for `bench/marts/duckdb_build.py --lake` to compare on:
/// `FLOWLAKE_FIXTURE_LAKE=/tmp/fixture-lake cargo test -p flowlake-marts --test it -- --ignored write_fixture_lake`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes to $FLOWLAKE_FIXTURE_LAKE"]
async fn write_fixture_lake() {
    let Ok(path) = std::env::var("FLOWLAKE_FIXTURE_LAKE") else {
        return;
    };
    let lake = Lake::open(&path).unwrap();
    write_raw(&loaded_fixture_session().await, &lake).await;
    Marts::new(lake, MartsConfig::default())
        .unwrap()
        .build(|_, _, _| {})
        .await
        .unwrap();
}
