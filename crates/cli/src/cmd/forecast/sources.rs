//! Where histories come from: a CSV file, or the lake's `mart_throughput_daily` and
//! `fct_work_items`.

use anyhow::{Context, Result, anyhow, bail};
use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Date32Type, Int64Type};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use flowlake_forecast::History;
use flowlake_lake::Lake;

use super::{MART, WorkScope};

pub(super) fn read_csv(path: &std::path::Path) -> Result<History> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("--history {}: cannot open", path.display()))?;
    History::from_csv(std::io::BufReader::new(file))
        .with_context(|| format!("--history {}", path.display()))
}

/// Reads one project's days from the lake's `mart_throughput_daily`.
/// A query session over `lake` in which `mart_throughput_daily` can be read, or a clear error
/// when the lake has not built it.
pub(super) async fn mart_session(lake: &Lake) -> Result<SessionContext> {
    let rel = format!("marts/{MART}");
    if !lake.exists_prefix(&rel).await? {
        bail!(
            "the lake {} has no {MART} yet: ingest Jira and run `flowlake build`, or pass \
             --history FILE (CSV day,items_done)",
            lake.url()
        );
    }
    let ctx = flowlake_marts::session_for_query(lake)
        .await
        .context("opening the lake")?;
    // Built Parquet but no model of that name in this binary: read the files directly.
    if !ctx.table_exist(MART)? {
        ctx.register_parquet(MART, &lake.table_url(&rel), ParquetReadOptions::default())
            .await
            .with_context(|| format!("reading {}", lake.table_url(&rel)))?;
    }
    Ok(ctx)
}

/// One project's days from the mart in `ctx`.
pub(super) async fn read_project(ctx: &SessionContext, project: &str) -> Result<History> {
    let sql = history_sql(project);
    let batches = ctx
        .sql(&sql)
        .await
        .with_context(|| format!("reading {MART} (columns day, project, items_done)"))?
        .collect()
        .await
        .with_context(|| format!("reading {MART}"))?;
    let mut days = Vec::new();
    for b in &batches {
        let (day, done) = (b.column(0), b.column(1));
        if day.data_type() != &DataType::Date32 || done.data_type() != &DataType::Int64 {
            bail!(
                "{MART}: unexpected column types {} and {}",
                day.data_type(),
                done.data_type()
            );
        }
        let (day, done) = (
            day.as_primitive::<Date32Type>(),
            done.as_primitive::<Int64Type>(),
        );
        for i in 0..b.num_rows() {
            if day.is_null(i) || done.is_null(i) {
                bail!("{MART}: project {project} has a row with a null day or items_done");
            }
            let d = Date32Type::to_naive_date_opt(day.value(i))
                .ok_or_else(|| anyhow!("{MART}: day out of range"))?;
            days.push((d, done.value(i)));
        }
    }
    if days.is_empty() {
        let projects = ctx
            .sql(&format!(
                "select distinct project from {MART} order by project"
            ))
            .await?
            .collect()
            .await?;
        let names = arrow::util::pretty::pretty_format_columns(
            "project",
            &projects
                .iter()
                .map(|b| b.column(0).clone())
                .collect::<Vec<_>>(),
        )
        .map(|t| {
            t.to_string()
                .lines()
                .filter(|l| l.starts_with('|') && !l.contains("project"))
                .map(|l| l.trim_matches(|c| c == '|' || c == ' ').to_string())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
        bail!("--project {project}: no rows in {MART} (projects there: {names})");
    }
    History::new(days).with_context(|| format!("{MART}, project {project}"))
}

/// Items of an epic or fix version in `project` that are neither done nor deleted.
pub(super) async fn remaining_items(lake: &Lake, project: &str, scope: &WorkScope) -> Result<u64> {
    let ctx = flowlake_marts::session_for_query(lake)
        .await
        .context("opening the lake")?;
    let q = |s: &str| s.replace('\'', "''");
    let (filter, what) = match scope {
        WorkScope::Epic(k) => (format!("epic_key = '{}'", q(k)), format!("epic {k}")),
        WorkScope::FixVersion(v) => (
            format!(
                "array_has(string_to_array(coalesce(fix_versions, ''), ','), '{}')",
                q(v)
            ),
            format!("fix version {v}"),
        ),
    };
    let sql = format!(
        "select count(*) filter (where coalesce(status_category, '') <> 'done') as remaining, \
         count(*) as total from fct_work_items \
         where deleted_at is null and project = '{}' and {filter}",
        q(project)
    );
    let batches = ctx
        .sql(&sql)
        .await
        .with_context(|| format!("reading fct_work_items for {what}"))?
        .collect()
        .await
        .with_context(|| format!("reading fct_work_items for {what}"))?;
    let get = |i: usize| {
        batches
            .first()
            .map(|b| b.column(i).as_primitive::<Int64Type>().value(0))
            .unwrap_or(0)
    };
    let (remaining, total) = (get(0), get(1));
    if total == 0 {
        bail!(
            "{what}: no work items in project {project} of fct_work_items ({})",
            lake.url()
        );
    }
    if remaining == 0 {
        bail!("{what}: all {total} items are done; nothing to forecast");
    }
    Ok(remaining as u64)
}

/// The projects in the lake's mart, sorted.
pub(super) async fn lake_projects(ctx: &SessionContext, lake: &Lake) -> Result<Vec<String>> {
    let batches = ctx
        .sql(&format!(
            "select distinct cast(project as varchar) from {MART} where project is not null \
             order by 1"
        ))
        .await?
        .collect()
        .await
        .with_context(|| format!("reading the projects of {MART}"))?;
    let mut out = Vec::new();
    for b in &batches {
        let col = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
        let col = col.as_string::<i32>();
        out.extend((0..col.len()).map(|i| col.value(i).to_string()));
    }
    if out.is_empty() {
        bail!("{MART} in {} has no projects", lake.url());
    }
    Ok(out)
}

pub(super) fn history_sql(project: &str) -> String {
    format!(
        "select cast(day as date) as day, cast(items_done as bigint) as items_done \
         from {MART} where project = '{}' order by day",
        project.replace('\'', "''")
    )
}
