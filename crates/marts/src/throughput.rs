//! `mart_throughput_daily` read as typed histories: the one reader of the table, so the
//! forecasts of `mart_forecasts` and of `flowlake forecast` sample the same days.
//!
//! The table is read through DataFusion's DataFrame API (no SQL text, so a project key needs
//! no quoting), with every column cast to the type the forecast wants: a mart read back from
//! Parquet (`Utf8View` strings) and a view over the model read alike.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Date32Type, Int64Type};
use chrono::NaiveDate;
use datafusion::error::DataFusionError;
use datafusion::prelude::{SessionContext, cast, col, lit};
use flowlake_forecast::History;

use crate::error::{Error, Result};

/// The table read.
pub const TABLE: &str = "mart_throughput_daily";

/// The key of one project's history: projects of two Jira sites are two histories.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProjectKey {
    /// The Jira site (`workspace` column).
    pub workspace: String,
    /// The project key.
    pub project: String,
}

impl ProjectKey {
    /// A key from its parts.
    pub fn new(workspace: impl Into<String>, project: impl Into<String>) -> ProjectKey {
        ProjectKey {
            workspace: workspace.into(),
            project: project.into(),
        }
    }
}

/// Every project's daily history in `ctx`'s `mart_throughput_daily`, by workspace and project.
///
/// Rows without a workspace or project belong to no history and are skipped; a row of a
/// project with a null `day` or `items_done` is an error ([`Error::NullValue`]), as is a
/// project whose days repeat ([`Error::History`]).
pub async fn read_histories(ctx: &SessionContext) -> Result<BTreeMap<ProjectKey, History>> {
    read(ctx, None).await
}

/// One project's daily history: `None` when no row has that project key, an
/// [`Error::AmbiguousProject`] when more than one workspace has it.
pub async fn read_project_history(ctx: &SessionContext, project: &str) -> Result<Option<History>> {
    let mut found = read(ctx, Some(project)).await?;
    if found.len() > 1 {
        return Err(Error::AmbiguousProject {
            project: project.to_string(),
            workspaces: found.into_keys().map(|k| k.workspace).collect(),
        });
    }
    Ok(found.pop_first().map(|(_, history)| history))
}

async fn read(
    ctx: &SessionContext,
    project: Option<&str>,
) -> Result<BTreeMap<ProjectKey, History>> {
    let wrap = |source: DataFusionError| Error::Read {
        table: TABLE.to_string(),
        source,
    };
    let mut df = ctx.table(TABLE).await.map_err(wrap)?;
    if let Some(project) = project {
        df = df
            .filter(cast(col("project"), DataType::Utf8).eq(lit(project)))
            .map_err(wrap)?;
    }
    let batches = df
        .select(vec![
            cast(col("workspace"), DataType::Utf8).alias("workspace"),
            cast(col("project"), DataType::Utf8).alias("project"),
            cast(col("day"), DataType::Date32).alias("day"),
            cast(col("items_done"), DataType::Int64).alias("items_done"),
        ])
        .map_err(wrap)?
        .collect()
        .await
        .map_err(wrap)?;
    let null = |column: &str| Error::NullValue {
        table: TABLE.to_string(),
        column: column.to_string(),
    };
    let mut days: BTreeMap<ProjectKey, Vec<(NaiveDate, i64)>> = BTreeMap::new();
    for b in &batches {
        let (workspace, project) = (
            b.column(0).as_string::<i32>(),
            b.column(1).as_string::<i32>(),
        );
        let day = b.column(2).as_primitive::<Date32Type>();
        let done = b.column(3).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            if workspace.is_null(i) || project.is_null(i) {
                continue;
            }
            if day.is_null(i) {
                return Err(null("day"));
            }
            if done.is_null(i) {
                return Err(null("items_done"));
            }
            let d = Date32Type::to_naive_date_opt(day.value(i)).ok_or_else(|| {
                Error::UnexpectedValue {
                    table: TABLE.to_string(),
                    column: "day".to_string(),
                    value: day.value(i).to_string(),
                }
            })?;
            days.entry(ProjectKey::new(workspace.value(i), project.value(i)))
                .or_default()
                .push((d, done.value(i)));
        }
    }
    days.into_iter()
        .map(|(key, mut list)| {
            list.sort_by_key(|(d, _)| *d);
            match History::new(list) {
                Ok(history) => Ok((key, history)),
                Err(source) => Err(Error::History {
                    table: TABLE.to_string(),
                    workspace: key.workspace,
                    project: key.project,
                    source,
                }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn ctx_with(rows: &str) -> SessionContext {
        let ctx = SessionContext::new();
        // A Parquet mart reads back with `Utf8View` strings: the reader casts.
        ctx.sql(&format!(
            "create table {TABLE} as select arrow_cast(w, 'Utf8View') as workspace, \
             cast(d as date) as day, p as project, 'team' as team, n as items_done \
             from (values {rows}) as t(w, d, p, n)"
        ))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
        ctx
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn histories_are_per_workspace_and_project_and_in_day_order() {
        let ctx = ctx_with(
            "('acme', '2026-01-02', 'PAY', 3), ('acme', '2026-01-01', 'PAY', 1), \
             ('beta', '2026-01-01', 'PAY', 5), ('acme', '2026-01-01', 'O''NEIL', 2), \
             (null, '2026-01-01', 'PAY', 9)",
        )
        .await;
        let all = read_histories(&ctx).await.unwrap();
        let keys: Vec<_> = all.keys().cloned().collect();
        assert_eq!(
            keys,
            [
                ProjectKey::new("acme", "O'NEIL"),
                ProjectKey::new("acme", "PAY"),
                ProjectKey::new("beta", "PAY"),
            ]
        );
        let pay = &all[&ProjectKey::new("acme", "PAY")];
        assert_eq!(
            (pay.first_day(), pay.last_day()),
            (d("2026-01-01"), d("2026-01-02"))
        );
        assert_eq!(pay.counts(), [1, 3]);
        // One project alone: a quote needs no escaping; two workspaces are ambiguous.
        let oneil = read_project_history(&ctx, "O'NEIL").await.unwrap().unwrap();
        assert_eq!(oneil.counts(), [2]);
        assert!(read_project_history(&ctx, "NOPE").await.unwrap().is_none());
        let err = read_project_history(&ctx, "PAY").await.unwrap_err();
        assert!(
            matches!(&err, Error::AmbiguousProject { workspaces, .. } if workspaces == &["acme", "beta"]),
            "{err}"
        );
    }

    #[tokio::test]
    async fn broken_days_are_errors_that_name_the_project() {
        let ctx =
            ctx_with("('acme', '2026-01-01', 'PAY', 1), ('acme', '2026-01-01', 'PAY', 2)").await;
        let err = read_histories(&ctx).await.unwrap_err();
        assert!(
            matches!(&err, Error::History { project, .. } if project == "PAY"),
            "{err}"
        );
        let ctx = ctx_with("('acme', '2026-01-01', 'PAY', cast(null as bigint))").await;
        let err = read_histories(&ctx).await.unwrap_err();
        assert!(
            matches!(&err, Error::NullValue { column, .. } if column == "items_done"),
            "{err}"
        );
        let err = read_histories(&SessionContext::new()).await.unwrap_err();
        assert!(matches!(err, Error::Read { .. }), "{err}");
    }
}
