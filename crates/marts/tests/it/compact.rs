//! Compaction of the raw zone (`flowlake_marts::compact`): every SQL model reads the same
//! rows before and after, whether the compaction finished or crashed half-way, and only the
//! versions no model can observe are gone.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray, new_null_array};
use arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;
use flowlake_lake::retention::{JournalState, RetentionJournal};
use flowlake_lake::{Lake, raw_partitions};
use flowlake_marts::compact::{self, Rule, TABLE_RULES};
use flowlake_marts::raw::RAW_TABLES;
use flowlake_marts::{
    FlowConfig, Layer, MartsConfig, Models, new_session, register_raw, register_view,
};

use crate::build::loaded_fixture_session;

/// A string column as `Utf8` (DataFusion may hand back `Utf8View`).
fn strings(c: &ArrayRef) -> StringArray {
    let c = arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8).unwrap();
    c.as_any().downcast_ref::<StringArray>().unwrap().clone()
}

async fn rows(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    ctx.sql(sql).await.unwrap().collect().await.unwrap()
}

/// Writes the fixture rows as a raw zone with a history: each row in the partition of its
/// `ingest_date` (else of its `_ingested_at`), written twice (an overlapping window fetching
/// the same version again), and under each latest row an older version ingested 30 days
/// before, in its own partition, with every column but the key nulled (so a compaction that
/// kept it instead of the newer version would change the models).
async fn write_history(fixtures: &SessionContext, lake: &Lake) {
    for table in RAW_TABLES.iter() {
        let schema = table.file_schema();
        let columns: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| format!("\"{}\"", f.name()))
            .collect();
        let day =
            "coalesce(ingest_date, cast(cast(_ingested_at as date) as varchar), '2024-03-13')";
        let days = rows(
            fixtures,
            &format!("select distinct {day} as d from {} order by d", table.name),
        )
        .await;
        for batch in &days {
            for d in strings(batch.column(0)).iter().flatten() {
                let current = rows(
                    fixtures,
                    &format!(
                        "select {} from {} where {day} = '{d}'",
                        columns.join(", "),
                        table.name
                    ),
                )
                .await;
                for n in 0..2 {
                    let rel = format!("{}/ingest_date={d}/r-{d}-{n:05}.parquet", table.rel);
                    lake.put_parquet(&rel, &current, schema.clone())
                        .await
                        .unwrap();
                }
            }
        }
        // The older versions: the key kept, `_ingested_at` 30 days earlier, the rest null.
        let key = TABLE_RULES
            .iter()
            .find(|r| r.table == table.name)
            .unwrap()
            .key;
        let real = if table.name == "raw_jira_issues" {
            "where deleted_at is null"
        } else {
            ""
        };
        let old = rows(
            fixtures,
            &format!(
                "select {}, cast(cast(_ingested_at - interval '30 days' as date) as varchar) as d \
                 from {} {real}",
                columns.join(", ").replace(
                    "\"_ingested_at\"",
                    "_ingested_at - interval '30 days' as _ingested_at"
                ),
                table.name
            ),
        )
        .await;
        let mut by_day: BTreeMap<String, Vec<RecordBatch>> = BTreeMap::new();
        for batch in old {
            let n = batch.num_rows();
            let d = strings(batch.column(batch.num_columns() - 1));
            for i in 0..n {
                let cols: Vec<ArrayRef> = schema
                    .fields()
                    .iter()
                    .enumerate()
                    .map(|(c, f)| {
                        let name = f.name().as_str();
                        if key.contains(&name) || name == "_ingested_at" {
                            batch.column(c).slice(i, 1)
                        } else if name == "_run_id" {
                            Arc::new(StringArray::from(vec!["r-old"])) as ArrayRef
                        } else {
                            new_null_array(f.data_type(), 1)
                        }
                    })
                    .collect();
                by_day
                    .entry(d.value(i).to_string())
                    .or_default()
                    .push(RecordBatch::try_new(schema.clone(), cols).unwrap());
            }
        }
        for (d, batches) in by_day {
            let rel = format!("{}/ingest_date={d}/r-old-00000.parquet", table.rel);
            lake.put_parquet(&rel, &batches, schema.clone())
                .await
                .unwrap();
        }
    }
}

/// Every staging model's rows, sorted: what compaction must not change. Staging is the
/// only layer that reads raw (checked here), so equal staging means equal models all the way
/// down; `int_jira_as_of` (the flow marts' "now", from `_ingested_at`) is compared as well.
async fn every_reader(lake: &Lake) -> BTreeMap<String, Vec<String>> {
    let ctx = raw_session(lake).await;
    let mut out = BTreeMap::new();
    for model in Models::embedded().unwrap().ordered() {
        let reads_raw = model.reads.iter().any(|t| t.starts_with("raw_"));
        assert_eq!(
            reads_raw,
            model.layer == Layer::Staging,
            "{} reads raw outside staging: compaction's rules assume it does not",
            model.name
        );
        if model.layer != Layer::Staging && model.name != "int_jira_as_of" {
            continue;
        }
        let batches = rows(&ctx, &format!("select * from {}", model.name)).await;
        let mut buf = Vec::new();
        {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(false)
                .build(&mut buf);
            for b in &batches {
                w.write(b).unwrap();
            }
        }
        let mut lines: Vec<String> = String::from_utf8(buf)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        lines.sort();
        out.insert(model.name.clone(), lines);
    }
    out
}

/// The raw tables of `lake`, the staging models over them and `int_jira_as_of` (a whole
/// query session plans every model, which the debug build takes seconds for).
async fn raw_session(lake: &Lake) -> SessionContext {
    let ctx = new_session(2);
    register_raw(&ctx, lake).await.unwrap();
    MartsConfig::default().register(&ctx).unwrap();
    FlowConfig::default().register(&ctx).unwrap();
    for model in Models::embedded().unwrap().ordered() {
        if model.layer == Layer::Staging || model.name == "int_jira_as_of" {
            register_view(&ctx, model).await.unwrap();
        }
    }
    ctx
}

async fn raw_count(lake: &Lake, table: &str) -> i64 {
    let b = rows(
        &raw_session(lake).await,
        &format!("select count(*) from {table}"),
    )
    .await;
    b[0].column(0)
        .as_any()
        .downcast_ref::<arrow::array::Int64Array>()
        .unwrap()
        .value(0)
}

async fn lake_with_history() -> (tempfile::TempDir, Lake) {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    write_history(&loaded_fixture_session().await, &lake).await;
    (dir, lake)
}

async fn plan(lake: &Lake, run_id: &str) -> compact::CompactPlan {
    compact::plan(lake, &Models::embedded().unwrap(), run_id, 2, |_, _, _| {})
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_drops_only_what_no_model_observes() {
    let (_dir, lake) = lake_with_history().await;
    let before = every_reader(&lake).await;
    assert!(
        before.values().all(|rows| !rows.is_empty()),
        "the fixtures fill every staging model"
    );

    let plan1 = plan(&lake, "c1").await;
    assert_eq!(plan1.tables.len(), RAW_TABLES.len());
    for t in &plan1.tables {
        assert_ne!(t.rule, Rule::ExactDuplicates, "{}", t.table.name);
        // Each table had every row twice plus an older version of each: over half goes.
        assert!(
            t.rows_after * 2 < t.rows_before,
            "{}: {} of {}",
            t.table.name,
            t.rows_after,
            t.rows_before
        );
    }
    let applied = plan1.apply(&lake, |_| {}).await.unwrap();
    assert!(!applied.written.is_empty() && !applied.removed.is_empty());
    assert_eq!(every_reader(&lake).await, before);

    // One file per partition now, each named by the run; the older versions are gone whole.
    for p in raw_partitions(&lake).await.unwrap() {
        assert_eq!(p.files.len(), 1, "{}", p.dir());
        assert!(p.files[0].path.ends_with("/c1-compacted.parquet"), "{p:?}");
    }
    // The deleted PAY-5 keeps its tombstone and its last real version (stg_jira__issues
    // reads both); PAY-1 keeps only its r1 version.
    let ctx = raw_session(&lake).await;
    let per_issue = rows(
        &ctx,
        "select issue_id, count(*) as n, string_agg(_run_id, ',' order by _run_id) as runs \
         from raw_jira_issues where issue_id in ('10001', '10005') group by issue_id \
         order by issue_id",
    )
    .await;
    let text = arrow::util::pretty::pretty_format_batches(&per_issue)
        .unwrap()
        .to_string();
    assert!(text.contains("| 10001    | 1 | r1    |"), "{text}");
    assert!(text.contains("| 10005    | 2 | r1,r2 |"), "{text}");

    // Journal: what was written and removed, done.
    let journal: RetentionJournal = lake.get_json("retention/c1.json").await.unwrap().unwrap();
    assert_eq!(journal.state, JournalState::Done);
    assert_eq!(journal.written, applied.written);
    assert_eq!(journal.removed, applied.removed);

    // Compacting a compacted lake changes nothing.
    let plan2 = plan(&lake, "c2").await;
    assert!(plan2.is_noop(), "{:?}", plan2.tables);
    assert_eq!(lake.get_bytes("retention/c2.json").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compaction_that_crashed_before_deleting_loses_nothing_and_the_next_finishes_it() {
    let (_dir, lake) = lake_with_history().await;
    let before = every_reader(&lake).await;
    let rows_before = raw_count(&lake, "raw_github_pull_requests").await;

    // The crash: the compacted files are written, no original is deleted.
    let crashed = plan(&lake, "c1").await;
    crashed.write_new_files(&lake, |_| {}).await.unwrap();
    let kept = crashed
        .tables
        .iter()
        .find(|t| t.table.name == "raw_github_pull_requests")
        .unwrap()
        .rows_after as i64;
    assert_eq!(
        raw_count(&lake, "raw_github_pull_requests").await,
        rows_before + kept
    );
    assert_eq!(every_reader(&lake).await, before);

    // The next run folds the copies and deletes the originals and the crashed run's files.
    let next = plan(&lake, "c2").await;
    let removed = next.originals();
    assert!(removed.iter().any(|f| f.ends_with("/c1-compacted.parquet")));
    next.apply(&lake, |_| {}).await.unwrap();
    assert_eq!(raw_count(&lake, "raw_github_pull_requests").await, kept);
    assert_eq!(every_reader(&lake).await, before);
    assert!(plan(&lake, "c3").await.is_noop());
}
