//! Compaction of the raw zone: fold the raw record versions no model can observe into one
//! file per `ingest_date=` partition, leaving every model's input unchanged.
//!
//! Raw is append-only: a record that changed is written again, and overlapping incremental
//! windows write the same version again. Staging reads each raw table once, keeps the latest
//! version per key (`row_number() over (partition by <key> order by _ingested_at desc,
//! _run_id desc) = 1`), and nothing else reads raw. So per table, compaction keeps
//!
//! - every row ranked first by `(_ingested_at desc, _run_id desc)` within its key, ties
//!   included (staging picks one of the tied rows; all of them stay candidates), and for
//!   `raw_jira_issues` also the rows ranked first among the non-tombstones (`deleted_at is
//!   null`), which `stg_jira__issues` reads for a deleted issue's last known fields;
//! - one copy of rows equal in every column, the partition included (the same version
//!   re-fetched by one run).
//!
//! A kept row keeps its columns, `_ingested_at` and `_run_id` included, and its partition,
//! so staging's ordering and the archive's partition dates are unchanged. The rule of a table
//! is only applied after checking the models: the raw table must be read by its staging
//! model alone, and that model must rank by the key and order above ([`rule_for`]);
//! otherwise only exact duplicates are folded.
//!
//! Crash safety ([`CompactPlan::apply`]): the new files are written first, then a
//! [`RetentionJournal`] listing them and the originals, then the originals are deleted. A
//! crash in between leaves each kept row twice, which staging's ranking already ignores,
//! and the next compaction folds the copies; nothing is ever lost.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, StringArray};
use arrow::compute::kernels::cmp::eq;
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use chrono::{NaiveDate, Utc};
use datafusion::error::DataFusionError;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::functions_window::expr_fn::rank;
use datafusion::logical_expr::{ExprFunctionExt, SortExpr};
use datafusion::prelude::{DataFrame, Expr, col, lit};
use flowlake_lake::retention::{JournalState, RetentionJournal};
use flowlake_lake::{Lake, RawPartition, encode_parquet, raw_partitions};

use crate::error::{Error, Result};
use crate::models::{ModelKind, Models};
use crate::raw::{PARTITION_COLUMN, RAW_TABLES, RawTable};
use crate::session::{new_session, register_listing};

/// Which raw rows of a table a compaction keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// The latest version per key (ties kept): its staging model keeps only that.
    Latest,
    /// The latest version per key and the latest non-tombstone version (`stg_jira__issues`).
    LatestAndLatestReal,
    /// Every distinct row: the table's readers are not the ones the rules know.
    ExactDuplicates,
}

impl Rule {
    /// A short name for reports: `latest`, `latest+latest_real`, `exact_duplicates`.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Latest => "latest",
            Rule::LatestAndLatestReal => "latest+latest_real",
            Rule::ExactDuplicates => "exact_duplicates",
        }
    }
}

/// What staging does with one raw table, as its SQL says.
#[derive(Clone, Copy, Debug)]
pub struct TableRule {
    /// The raw table, e.g. `raw_github_pull_requests`.
    pub table: &'static str,
    /// The one model that reads it.
    pub staging: &'static str,
    /// The key staging partitions by (docs/raw-zone.md).
    pub key: &'static [&'static str],
    /// What staging keeps.
    pub rule: Rule,
}

const fn latest(
    table: &'static str,
    staging: &'static str,
    key: &'static [&'static str],
) -> TableRule {
    TableRule {
        table,
        staging,
        key,
        rule: Rule::Latest,
    }
}

/// The rule of every raw table. [`rule_for`] checks each against the models in use.
pub const TABLE_RULES: [TableRule; 15] = [
    latest(
        "raw_github_pull_requests",
        "stg_github__pull_requests",
        &["workspace", "repo", "number"],
    ),
    latest(
        "raw_github_pull_request_commits",
        "stg_github__pull_request_commits",
        &["workspace", "repo", "pr_number", "sha"],
    ),
    latest(
        "raw_github_pull_request_reviews",
        "stg_github__pull_request_reviews",
        &["workspace", "repo", "pr_number", "review_id"],
    ),
    latest(
        "raw_github_commits",
        "stg_github__commits",
        &["workspace", "repo", "sha"],
    ),
    latest(
        "raw_github_deployments",
        "stg_github__deployments",
        &["workspace", "repo", "deployment_id"],
    ),
    latest(
        "raw_github_workflow_runs",
        "stg_github__workflow_runs",
        &["workspace", "repo", "run_id"],
    ),
    latest(
        "raw_github_releases",
        "stg_github__releases",
        &["workspace", "repo", "release_id"],
    ),
    latest(
        "raw_github_issues",
        "stg_github__issues",
        &["workspace", "repo", "number"],
    ),
    latest(
        "raw_events_deployments",
        "stg_events__deployments",
        &["workspace", "source", "deployment_id"],
    ),
    latest(
        "raw_events_incidents",
        "stg_events__incidents",
        &["workspace", "source", "incident_id"],
    ),
    TableRule {
        table: "raw_jira_issues",
        staging: "stg_jira__issues",
        key: &["workspace", "issue_id"],
        rule: Rule::LatestAndLatestReal,
    },
    latest(
        "raw_jira_changelog_items",
        "stg_jira__changelog_items",
        &["workspace", "issue_id", "changelog_id", "item_index"],
    ),
    latest(
        "raw_jira_sprints",
        "stg_jira__sprints",
        &["workspace", "sprint_id"],
    ),
    latest(
        "raw_jira_boards",
        "stg_jira__boards",
        &["workspace", "board_id"],
    ),
    latest(
        "raw_jira_statuses",
        "stg_jira__statuses",
        &["workspace", "status_id"],
    ),
];

/// The rule compaction applies to `table` given `models`, and why when it is only
/// [`Rule::ExactDuplicates`]. A table's rule holds only while its staging model is its one
/// reader and still ranks versions the way the rule assumes (`partition by <key> order by
/// _ingested_at desc, _run_id desc`, and for tombstones a second ranking over `deleted_at is
/// null` rows); a model that starts reading raw history makes compaction fall back to
/// folding exact duplicates instead of silently changing what that model sees.
pub fn rule_for(models: &Models, table: &str) -> (Rule, Option<String>) {
    let Some(known) = TABLE_RULES.iter().find(|r| r.table == table) else {
        return (Rule::ExactDuplicates, Some("no rule for this table".into()));
    };
    let readers: Vec<&str> = models
        .ordered()
        .iter()
        .filter(|m| m.reads.iter().any(|t| t == table))
        .map(|m| m.name.as_str())
        .collect();
    if readers != [known.staging] {
        return (
            Rule::ExactDuplicates,
            Some(format!(
                "read by {} (expected {} alone)",
                readers.join(", "),
                known.staging
            )),
        );
    }
    let Some(ModelKind::Sql(sql)) = models.get(known.staging).map(|m| &m.kind) else {
        return (
            Rule::ExactDuplicates,
            Some(format!("{} is not a SQL model", known.staging)),
        );
    };
    let text = normalize(sql);
    let ranking = format!(
        "partition by {} order by _ingested_at desc, _run_id desc",
        known.key.join(", ")
    );
    let rankings = text.matches(&ranking).count();
    let ok = match known.rule {
        Rule::Latest => rankings == 1,
        Rule::LatestAndLatestReal => rankings == 2 && text.contains("where deleted_at is null"),
        Rule::ExactDuplicates => true,
    };
    if ok {
        (known.rule, None)
    } else {
        (
            Rule::ExactDuplicates,
            Some(format!(
                "{} does not rank versions by `{ranking}` as the rule assumes",
                known.staging
            )),
        )
    }
}

/// Lower case, comments dropped, whitespace collapsed.
fn normalize(sql: &str) -> String {
    sql.lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// One partition a compaction rewrites: its originals give way to one new file (or to none,
/// when every row of it is superseded).
#[derive(Clone, Debug)]
pub struct PartitionRewrite {
    /// The partition's date.
    pub ingest_date: NaiveDate,
    /// Its files now, relative to the lake root.
    pub originals: Vec<String>,
    /// Rows in them.
    pub rows_before: u64,
    /// Rows kept.
    pub rows_after: u64,
    /// The compacted file, `None` when no row is kept.
    pub new_file: Option<String>,
    batches: Vec<RecordBatch>,
}

/// What a compaction does to one raw table.
#[derive(Clone, Debug)]
pub struct TableCompaction {
    /// The raw table.
    pub table: &'static RawTable,
    /// The rule applied.
    pub rule: Rule,
    /// Why the rule is only [`Rule::ExactDuplicates`], when it is.
    pub fallback: Option<String>,
    /// Partitions of the table.
    pub partitions: usize,
    /// Files of the table before.
    pub files_before: usize,
    /// Files after.
    pub files_after: usize,
    /// Rows of the table before.
    pub rows_before: u64,
    /// Rows after.
    pub rows_after: u64,
    /// The partitions that change.
    pub rewrites: Vec<PartitionRewrite>,
}

/// A compaction worked out in full (the new files' rows in memory) before anything changes.
#[derive(Clone, Debug)]
pub struct CompactPlan {
    /// The run id: new files are named `<run_id>-compacted.parquet`.
    pub run_id: String,
    /// One entry per raw table that has files.
    pub tables: Vec<TableCompaction>,
}

/// What [`CompactPlan::apply`] did.
#[derive(Clone, Debug, Default)]
pub struct Applied {
    /// Files written.
    pub written: Vec<String>,
    /// Files deleted.
    pub removed: Vec<String>,
}

fn failed(table: &RawTable) -> impl Fn(DataFusionError) -> Error + '_ {
    move |source| Error::Compact {
        table: table.name.to_string(),
        source,
    }
}

/// Work out the compaction of every raw table of `lake` for `models` (which decide the rules,
/// see [`rule_for`]). Reads the raw zone, writes nothing. `progress(table, done, total)` is
/// called after each table.
pub async fn plan(
    lake: &Lake,
    models: &Models,
    run_id: &str,
    target_partitions: usize,
    mut progress: impl FnMut(&str, usize, usize),
) -> Result<CompactPlan> {
    let all = raw_partitions(lake).await?;
    let mut tables = Vec::new();
    for (i, table) in RAW_TABLES.iter().enumerate() {
        let partitions: Vec<RawPartition> = all
            .iter()
            .filter(|p| p.table == table.rel)
            .map(|p| RawPartition {
                files: p
                    .files
                    .iter()
                    .filter(|f| f.path.ends_with(".parquet"))
                    .cloned()
                    .collect(),
                ..p.clone()
            })
            .filter(|p| !p.files.is_empty())
            .collect();
        if !partitions.is_empty() {
            let (rule, fallback) = rule_for(models, table.name);
            tables.push(
                plan_table(
                    lake,
                    table,
                    rule,
                    fallback,
                    partitions,
                    run_id,
                    target_partitions,
                )
                .await?,
            );
        }
        progress(table.name, i + 1, RAW_TABLES.len());
    }
    Ok(CompactPlan {
        run_id: run_id.to_string(),
        tables,
    })
}

async fn plan_table(
    lake: &Lake,
    table: &'static RawTable,
    rule: Rule,
    fallback: Option<String>,
    partitions: Vec<RawPartition>,
    run_id: &str,
    target_partitions: usize,
) -> Result<TableCompaction> {
    let wrap = failed(table);
    let ctx = new_session(target_partitions);
    ctx.register_object_store(&lake.store_url(), lake.store());
    register_listing(&ctx, lake, table)?;
    let rows = ctx.table(table.name).await.map_err(&wrap)?;
    let key = TABLE_RULES
        .iter()
        .find(|r| r.table == table.name)
        .map(|r| r.key)
        .unwrap_or(&[]);
    let kept = keep(rows.clone(), rule, key).map_err(&wrap)?;
    let before = rows_per_partition(rows).await.map_err(&wrap)?;
    let after = rows_per_partition(kept.clone()).await.map_err(&wrap)?;

    let mut rewrites = Vec::new();
    let (mut files_before, mut files_after) = (0, 0);
    for p in &partitions {
        let day = p.ingest_date.to_string();
        let rows_before = before.get(&day).copied().unwrap_or(0);
        let rows_after = after.get(&day).copied().unwrap_or(0);
        files_before += p.files.len();
        if rows_after == rows_before && p.files.len() == 1 {
            files_after += 1;
            continue;
        }
        files_after += usize::from(rows_after > 0);
        rewrites.push(PartitionRewrite {
            ingest_date: p.ingest_date,
            originals: p.files.iter().map(|f| f.path.clone()).collect(),
            rows_before,
            rows_after,
            new_file: (rows_after > 0).then(|| format!("{}/{run_id}-compacted.parquet", p.dir())),
            batches: Vec::new(),
        });
    }
    let days: Vec<Expr> = rewrites
        .iter()
        .filter(|r| r.rows_after > 0)
        .map(|r| lit(r.ingest_date.to_string()))
        .collect();
    if !days.is_empty() {
        let batches = kept
            .filter(col(PARTITION_COLUMN).in_list(days, false))
            .map_err(&wrap)?
            .collect()
            .await
            .map_err(&wrap)?;
        split_by_day(table, &batches, &mut rewrites).map_err(&wrap)?;
    }
    Ok(TableCompaction {
        table,
        rule,
        fallback,
        partitions: partitions.len(),
        files_before,
        files_after,
        rows_before: before.values().sum(),
        rows_after: after.values().sum(),
        rewrites,
    })
}

/// The rows of `rows` that `rule` keeps, one copy of each, with the same columns.
fn keep(rows: DataFrame, rule: Rule, key: &[&str]) -> datafusion::error::Result<DataFrame> {
    let columns: Vec<String> = rows
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    // `order by x desc` in SQL puts nulls first; so must the ranking that mirrors it.
    let newest_first = || -> Vec<SortExpr> {
        vec![
            col("_ingested_at").sort(false, true),
            col("_run_id").sort(false, true),
        ]
    };
    let keys = || -> Vec<Expr> { key.iter().map(|k| col(*k)).collect() };
    let kept = match rule {
        Rule::ExactDuplicates => rows,
        Rule::Latest => rows
            .window(vec![
                rank()
                    .partition_by(keys())
                    .order_by(newest_first())
                    .build()?
                    .alias("__rank"),
            ])?
            .filter(col("__rank").eq(lit(1u64)))?,
        Rule::LatestAndLatestReal => {
            let mut real_keys = keys();
            real_keys.push(col("deleted_at").is_null());
            // One window per call: DataFusion plans the windows of one call with one sort.
            rows.window(vec![
                rank()
                    .partition_by(keys())
                    .order_by(newest_first())
                    .build()?
                    .alias("__rank"),
            ])?
            .window(vec![
                rank()
                    .partition_by(real_keys)
                    .order_by(newest_first())
                    .build()?
                    .alias("__rank_real"),
            ])?
            .filter(
                col("__rank").eq(lit(1u64)).or(col("deleted_at")
                    .is_null()
                    .and(col("__rank_real").eq(lit(1u64)))),
            )?
        }
    };
    kept.select_columns(&columns)?.distinct()
}

/// Rows per `ingest_date`.
async fn rows_per_partition(rows: DataFrame) -> datafusion::error::Result<BTreeMap<String, u64>> {
    let batches = rows
        .aggregate(vec![col(PARTITION_COLUMN)], vec![count(lit(1)).alias("n")])?
        .collect()
        .await?;
    let mut out = BTreeMap::new();
    for b in &batches {
        let days = cast(b.column(0), &DataType::Utf8)?;
        let days = days.as_string::<i32>();
        let n = cast(b.column(1), &DataType::UInt64)?;
        let n = n.as_primitive::<arrow::datatypes::UInt64Type>();
        for i in 0..b.num_rows() {
            if days.is_valid(i) {
                *out.entry(days.value(i).to_string()).or_insert(0) += n.value(i);
            }
        }
    }
    Ok(out)
}

/// Hands each rewrite its rows, in the file schema (without the partition column).
fn split_by_day(
    table: &RawTable,
    batches: &[RecordBatch],
    rewrites: &mut [PartitionRewrite],
) -> datafusion::error::Result<()> {
    let schema = table.file_schema();
    for batch in batches {
        let day_idx = batch.schema().index_of(PARTITION_COLUMN)?;
        let days = cast(batch.column(day_idx), &DataType::Utf8)?;
        for rewrite in rewrites.iter_mut().filter(|r| r.rows_after > 0) {
            let mask = eq(
                &days,
                &StringArray::new_scalar(rewrite.ingest_date.to_string()),
            )?;
            let rows = filter_record_batch(batch, &mask)?;
            if rows.num_rows() == 0 {
                continue;
            }
            let columns = schema
                .fields()
                .iter()
                .map(|f| {
                    let c = rows.column(rows.schema().index_of(f.name())?);
                    Ok(if c.data_type() == f.data_type() {
                        c.clone()
                    } else {
                        cast(c, f.data_type())?
                    })
                })
                .collect::<datafusion::error::Result<Vec<_>>>()?;
            rewrite
                .batches
                .push(RecordBatch::try_new(Arc::clone(&schema), columns)?);
        }
    }
    Ok(())
}

impl CompactPlan {
    /// Whether applying it would change nothing.
    pub fn is_noop(&self) -> bool {
        self.tables.iter().all(|t| t.rewrites.is_empty())
    }

    /// The files it writes.
    pub fn new_files(&self) -> Vec<String> {
        self.rewrites().filter_map(|r| r.new_file.clone()).collect()
    }

    /// The files it deletes.
    pub fn originals(&self) -> Vec<String> {
        self.rewrites()
            .flat_map(|r| r.originals.iter().cloned())
            .collect()
    }

    fn rewrites(&self) -> impl Iterator<Item = &PartitionRewrite> {
        self.tables.iter().flat_map(|t| t.rewrites.iter())
    }

    /// Step one of [`CompactPlan::apply`]: write the compacted files, touching no original.
    /// On its own (a crash after it) every kept row is in the lake twice, which changes no
    /// model. `progress(path)` is called after each file.
    pub async fn write_new_files(&self, lake: &Lake, mut progress: impl FnMut(&str)) -> Result<()> {
        for t in &self.tables {
            for r in &t.rewrites {
                let Some(path) = &r.new_file else { continue };
                let bytes = encode_parquet(path, t.table.file_schema(), &r.batches)?;
                lake.put_bytes(path, bytes).await?;
                progress(path);
            }
        }
        Ok(())
    }

    /// Write the new files, then the journal listing them and the originals, then delete the
    /// originals and mark the journal done. `progress(path)` is called after each file
    /// written or deleted.
    pub async fn apply(&self, lake: &Lake, mut progress: impl FnMut(&str)) -> Result<Applied> {
        let applied = Applied {
            written: self.new_files(),
            removed: self.originals(),
        };
        if self.is_noop() {
            return Ok(applied);
        }
        self.write_new_files(lake, &mut progress).await?;
        let mut journal = RetentionJournal {
            run_id: self.run_id.clone(),
            command: "lake compact".into(),
            other_lake: None,
            written: applied.written.clone(),
            removed: applied.removed.clone(),
            state: JournalState::Planned,
            at: Utc::now(),
        };
        lake.put_json(&journal.rel_path(), &journal).await?;
        for path in &applied.removed {
            lake.delete(path).await?;
            progress(path);
        }
        journal.state = JournalState::Done;
        journal.at = Utc::now();
        lake.put_json(&journal.rel_path(), &journal).await?;
        Ok(applied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_raw_table_has_a_rule_that_the_embedded_staging_sql_confirms() {
        let models = Models::embedded().unwrap();
        assert_eq!(TABLE_RULES.len(), RAW_TABLES.len());
        for table in RAW_TABLES.iter() {
            let (rule, why) = rule_for(&models, table.name);
            assert_ne!(rule, Rule::ExactDuplicates, "{}: {why:?}", table.name);
            let expected = if table.name == "raw_jira_issues" {
                Rule::LatestAndLatestReal
            } else {
                Rule::Latest
            };
            assert_eq!(rule, expected, "{}", table.name);
        }
    }

    #[test]
    fn another_reader_or_another_ranking_falls_back_to_exact_duplicates() {
        let staging = |sql: &str| {
            (
                "staging/stg_github__commits.sql".to_string(),
                sql.to_string(),
            )
        };
        let ranked = "with s as (select * from raw_github_commits), v as (select *, \
            row_number() over (partition by workspace, repo, sha order by _ingested_at desc, \
            _run_id desc) as r from s) select * from v where r = 1";
        let models = Models::from_files([staging(ranked)]).unwrap();
        assert_eq!(rule_for(&models, "raw_github_commits").0, Rule::Latest);

        // A model that reads raw history directly.
        let models = Models::from_files([
            staging(ranked),
            (
                "intermediate/int_commit_history.sql".to_string(),
                "select sha, _ingested_at from raw_github_commits".to_string(),
            ),
        ])
        .unwrap();
        let (rule, why) = rule_for(&models, "raw_github_commits");
        assert_eq!(rule, Rule::ExactDuplicates);
        assert!(why.unwrap().contains("int_commit_history"));

        // Staging that keeps a different version per key.
        let oldest = ranked.replace("_ingested_at desc", "_ingested_at asc");
        let models = Models::from_files([staging(&oldest)]).unwrap();
        assert_eq!(
            rule_for(&models, "raw_github_commits").0,
            Rule::ExactDuplicates
        );
    }
}
