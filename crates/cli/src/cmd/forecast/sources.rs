//! Where histories come from: a CSV file, or the lake's `mart_throughput_daily` and
//! `fct_work_items`.

use anyhow::{Context, Result, bail};
use arrow::array::AsArray;
use arrow::datatypes::Int64Type;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use datafusion::scalar::ScalarValue;
use flowlake_forecast::History;
use flowlake_lake::Lake;
use flowlake_marts::throughput::{read_histories, read_project_history};

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

/// One project's days from the mart in `ctx`, through the marts crate's typed reader (the
/// one `mart_forecasts` uses too).
pub(super) async fn read_project(ctx: &SessionContext, project: &str) -> Result<History> {
    if let Some(h) = read_project_history(ctx, project)
        .await
        .with_context(|| format!("reading {MART}, project {project}"))?
    {
        return Ok(h);
    }
    let names = project_names(ctx).await?;
    bail!(
        "--project {project}: no rows in {MART} (projects there: {})",
        names.join(", ")
    );
}

/// Items of an epic or fix version in `project` that are neither done nor deleted.
pub(super) async fn remaining_items(lake: &Lake, project: &str, scope: &WorkScope) -> Result<u64> {
    let ctx = flowlake_marts::session_for_query(lake)
        .await
        .context("opening the lake")?;
    let (epic, fix_version, what) = match scope {
        WorkScope::Epic(k) => (Some(k.clone()), None, format!("epic {k}")),
        WorkScope::FixVersion(v) => (None, Some(v.clone()), format!("fix version {v}")),
    };
    let params = vec![
        ScalarValue::Utf8(Some(project.to_string())),
        ScalarValue::Utf8(epic),
        ScalarValue::Utf8(fix_version),
    ];
    let batches = ctx
        .sql(crate::cmd::sql::query("forecast_remaining_items")?)
        .await
        .and_then(|df| df.with_param_values(params))
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
    let out = project_names(ctx).await?;
    if out.is_empty() {
        bail!("{MART} in {} has no projects", lake.url());
    }
    Ok(out)
}

/// Every project key in the mart, sorted, each once (whatever its workspaces).
async fn project_names(ctx: &SessionContext) -> Result<Vec<String>> {
    let keys = read_histories(ctx)
        .await
        .with_context(|| format!("reading the projects of {MART}"))?
        .into_keys()
        .map(|k| k.project)
        .collect::<std::collections::BTreeSet<_>>();
    Ok(keys.into_iter().collect())
}
