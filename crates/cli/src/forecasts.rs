//! `mart_forecasts`: the forecasts a report shows, written after the SQL marts.
//!
//! For every open scope of the Jira marts, one row: an epic's or a fix version's (release's)
//! remaining items ("when will they be done?", p50/p70/p85/p95 dates) and an active sprint's
//! remaining items against the days it has left ("how likely is it done by the sprint's
//! end?"). The
//! history is the scope's project's `mart_throughput_daily` as of the build's `as_of` day; the
//! forecast is exact (convolution of the empirical daily distribution), so the table is
//! deterministic and has no simulation noise. The forecast's default rules apply (automatic
//! window, bulk days, regime changes, weekday-only work, calibration), and each row carries
//! the p85 track record of "when will the remaining items be done?" on the project's past.
//!
//! It is not a SQL model because the forecast is Rust (`flowlake-forecast`); it is written
//! like one, as `marts/mart_forecasts/data.parquet`, one whole object, and `flowlake sql`
//! reads it like any mart.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder,
    RecordBatch, StringBuilder,
};
use arrow::datatypes::{DataType, Date32Type, Field, Float64Type, Int64Type, Schema, SchemaRef};
use chrono::{Duration, NaiveDate};
use datafusion::prelude::SessionContext;
use flowlake_forecast::{
    Feature, FeaturesQuery, History, HowManyQuery, Method, Options, TrackRecord, WhenQuery,
};
use flowlake_lake::Lake;

/// The table's name, and where it is written.
pub const MART_FORECASTS: &str = "mart_forecasts";

/// Percentile levels written as columns.
const LEVELS: [u8; 4] = [50, 70, 85, 95];

/// One open scope to forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    /// Jira site.
    pub workspace: String,
    /// The project whose throughput the forecast samples.
    pub project: String,
    /// `epic`, `fix_version` or `sprint`.
    pub scope_type: &'static str,
    /// Epic key, version name or sprint id.
    pub scope_key: String,
    /// A label for reports.
    pub scope_name: Option<String>,
    /// Items not done yet.
    pub remaining_items: i64,
    /// Their story points, where estimated.
    pub remaining_points: Option<f64>,
    /// A sprint's end day (the question is "done by then?").
    pub target: Option<NaiveDate>,
    /// Whether any of its items is in progress now (an epic the team works on).
    pub in_progress: bool,
}

/// One forecast row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The scope.
    pub scope: Scope,
    /// The last day of history (the forecast starts the day after).
    pub as_of: NaiveDate,
    /// Completion dates per level, or `None` when not done within the horizon.
    pub dates: BTreeMap<u8, Option<NaiveDate>>,
    /// P(all remaining items done on or before `target`).
    pub probability_by_target: Option<f64>,
    /// Days of history sampled.
    pub window_days: u32,
    /// Warnings, `; `-joined (short or sparse history, …).
    pub warnings: Option<String>,
    /// How it was computed: `exact`, or `simulate` for epics planned together.
    pub method: String,
    /// How "when will the remaining items be done?" fared at the project's own past origins.
    pub track: Option<TrackRecord>,
    /// Whether calibration on that record moved the dates.
    pub calibrated: bool,
}

/// Forecasts every scope against its project's history; scopes whose project has no history
/// get no row.
///
/// - Sprints and fix versions: each alone, exactly: "when will its remaining items be done?" and P(done by
///   the sprint's end).
/// - Epics of one project share the team: they are planned together
///   ([`flowlake_forecast::when_features`]), in key order (oldest first, a proxy for priority),
///   with as many in parallel as the project has epics in progress now (at least one);
///   10,000 seeded trials, so the table is the same on every build of the same lake.
pub fn forecast_scopes(
    histories: &BTreeMap<(String, String), History>,
    scopes: &[Scope],
    window_days: u32,
) -> Vec<Row> {
    let exact = Options {
        method: Method::Exact,
        window_days,
        ..Options::default()
    };
    let simulate = Options {
        method: Method::Simulate,
        window_days,
        trials: 10_000,
        seed: 0,
        ..Options::default()
    };
    // P(done by the target) reads the distribution, which calibration does not change.
    let no_track = Options {
        track_record: None,
        calibrate: false,
        ..exact.clone()
    };
    let mut rows = Vec::new();
    let mut epics: BTreeMap<(String, String), Vec<&Scope>> = BTreeMap::new();
    for scope in scopes {
        let key = (scope.workspace.clone(), scope.project.clone());
        let Some(history) = histories.get(&key) else {
            continue;
        };
        if scope.scope_type == "epic" {
            epics.entry(key).or_default().push(scope);
            continue;
        }
        let as_of = history.last_day();
        let start = as_of + Duration::days(1);
        let mut row = Row {
            scope: scope.clone(),
            as_of,
            dates: LEVELS.iter().map(|l| (*l, None)).collect(),
            probability_by_target: None,
            window_days,
            warnings: None,
            method: "exact".into(),
            track: None,
            calibrated: false,
        };
        let mut warnings = Vec::new();
        let query = WhenQuery {
            start,
            items: scope.remaining_items,
            target: scope.target,
        };
        match flowlake_forecast::when(history, &query, &exact) {
            Ok(f) => {
                for (level, day) in &f.percentiles {
                    row.dates.insert(*level, Some(*day));
                }
                warnings.extend(f.warnings.iter().map(ToString::to_string));
                row.window_days = f.sample.window_days;
                row.calibrated = f.calibration.as_ref().is_some_and(|c| c.changed());
                row.track = f.track_record;
            }
            Err(e) => warnings.push(e.to_string()),
        }
        if let Some(target) = scope.target {
            row.probability_by_target = if target < start {
                Some(0.0)
            } else {
                flowlake_forecast::how_many(
                    history,
                    &HowManyQuery { start, end: target },
                    &no_track,
                )
                .ok()
                .map(|f| {
                    f.probability_at_least(scope.remaining_items.max(0) as u64)
                        .clamp(0.0, 1.0)
                        + 0.0
                })
            };
        }
        warnings.dedup();
        row.warnings = (!warnings.is_empty()).then(|| warnings.join("; "));
        rows.push(row);
    }
    for (key, mut list) in epics {
        let history = &histories[&key];
        let as_of = history.last_day();
        list.sort_by_key(|s| key_order(&s.scope_key));
        let wip = list.iter().filter(|s| s.in_progress).count().max(1) as u32;
        let query = FeaturesQuery {
            start: as_of + Duration::days(1),
            features: list
                .iter()
                .map(|s| Feature {
                    name: s.scope_key.clone(),
                    items: s.remaining_items,
                })
                .collect(),
            wip,
            target: None,
        };
        let result = flowlake_forecast::when_features(history, &query, &simulate);
        for (i, scope) in list.iter().enumerate() {
            let mut row = Row {
                scope: (*scope).clone(),
                as_of,
                dates: LEVELS.iter().map(|l| (*l, None)).collect(),
                probability_by_target: None,
                window_days,
                warnings: None,
                method: format!(
                    "simulate: {} epics in key order, {wip} at a time",
                    list.len()
                ),
                track: None,
                calibrated: false,
            };
            // The plan has no track record of its own: the epic's remaining items asked
            // alone, exactly, give the project's record for a question of that size.
            let alone = WhenQuery {
                start: as_of + Duration::days(1),
                items: scope.remaining_items,
                target: None,
            };
            if let Ok(f) = flowlake_forecast::when(history, &alone, &exact) {
                row.track = f.track_record;
            }
            match &result {
                Ok(f) => {
                    for (level, day) in &f.features[i].percentiles {
                        row.dates.insert(*level, Some(*day));
                    }
                    row.window_days = f.sample.window_days;
                    let w: Vec<String> = f.warnings.iter().map(ToString::to_string).collect();
                    row.warnings = (!w.is_empty()).then(|| w.join("; "));
                }
                Err(e) => row.warnings = Some(e.to_string()),
            }
            rows.push(row);
        }
    }
    rows
}

/// `PAY-12` sorts before `PAY-100`.
fn key_order(key: &str) -> (String, u64) {
    match key.rsplit_once('-') {
        Some((p, n)) => (p.to_string(), n.parse().unwrap_or(u64::MAX)),
        None => (key.to_string(), u64::MAX),
    }
}

/// The Arrow schema of `mart_forecasts`.
pub fn schema() -> SchemaRef {
    let mut fields = vec![
        Field::new("workspace", DataType::Utf8, false),
        Field::new("project", DataType::Utf8, false),
        Field::new("scope_type", DataType::Utf8, false),
        Field::new("scope_key", DataType::Utf8, false),
        Field::new("scope_name", DataType::Utf8, true),
        Field::new("as_of", DataType::Date32, false),
        Field::new("remaining_items", DataType::Int64, false),
        Field::new("remaining_points", DataType::Float64, true),
        Field::new("target_date", DataType::Date32, true),
        Field::new("probability_by_target", DataType::Float64, true),
    ];
    for l in LEVELS {
        fields.push(Field::new(format!("p{l}_date"), DataType::Date32, true));
    }
    fields.push(Field::new("method", DataType::Utf8, false));
    fields.push(Field::new("window_days", DataType::Int64, false));
    fields.push(Field::new("warnings", DataType::Utf8, true));
    fields.push(Field::new("track_origins", DataType::Int64, true));
    fields.push(Field::new("track_p85_held", DataType::Int64, true));
    fields.push(Field::new("track_p85_rate", DataType::Float64, true));
    fields.push(Field::new("track_p85_lower", DataType::Float64, true));
    fields.push(Field::new("track_p85_upper", DataType::Float64, true));
    fields.push(Field::new("calibrated", DataType::Boolean, false));
    Arc::new(Schema::new(fields))
}

fn days(d: NaiveDate) -> i32 {
    Date32Type::from_naive_date(d)
}

/// The rows as one batch in [`schema`].
pub fn to_batch(rows: &[Row]) -> Result<RecordBatch> {
    let mut s: Vec<StringBuilder> = (0..5).map(|_| StringBuilder::new()).collect();
    let mut as_of = Date32Builder::new();
    let mut remaining = Int64Builder::new();
    let mut points = Float64Builder::new();
    let mut target = Date32Builder::new();
    let mut prob = Float64Builder::new();
    let mut levels: Vec<Date32Builder> = LEVELS.iter().map(|_| Date32Builder::new()).collect();
    let mut method = StringBuilder::new();
    let mut window = Int64Builder::new();
    let mut warnings = StringBuilder::new();
    let mut track_origins = Int64Builder::new();
    let mut track_held = Int64Builder::new();
    let mut track_f: Vec<Float64Builder> = (0..3).map(|_| Float64Builder::new()).collect();
    let mut calibrated = BooleanBuilder::new();
    for r in rows {
        let p85 = r.track.as_ref().and_then(|t| t.level(85));
        track_origins.append_option(r.track.as_ref().map(|t| t.origins as i64));
        track_held.append_option(p85.map(|l| l.held as i64));
        track_f[0].append_option(p85.map(|l| l.rate));
        track_f[1].append_option(p85.map(|l| l.lower));
        track_f[2].append_option(p85.map(|l| l.upper));
        calibrated.append_value(r.calibrated);
        s[0].append_value(&r.scope.workspace);
        s[1].append_value(&r.scope.project);
        s[2].append_value(r.scope.scope_type);
        s[3].append_value(&r.scope.scope_key);
        s[4].append_option(r.scope.scope_name.as_deref());
        as_of.append_value(days(r.as_of));
        remaining.append_value(r.scope.remaining_items);
        points.append_option(r.scope.remaining_points);
        target.append_option(r.scope.target.map(days));
        prob.append_option(r.probability_by_target);
        for (b, l) in levels.iter_mut().zip(LEVELS) {
            b.append_option(r.dates.get(&l).copied().flatten().map(days));
        }
        method.append_value(&r.method);
        window.append_value(i64::from(r.window_days));
        warnings.append_option(r.warnings.as_deref());
    }
    let mut cols: Vec<ArrayRef> = s
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    cols.push(Arc::new(as_of.finish()));
    cols.push(Arc::new(remaining.finish()));
    cols.push(Arc::new(points.finish()));
    cols.push(Arc::new(target.finish()));
    cols.push(Arc::new(prob.finish()));
    for mut b in levels {
        cols.push(Arc::new(b.finish()));
    }
    cols.push(Arc::new(method.finish()));
    cols.push(Arc::new(window.finish()));
    cols.push(Arc::new(warnings.finish()));
    cols.push(Arc::new(track_origins.finish()));
    cols.push(Arc::new(track_held.finish()));
    for mut b in track_f {
        cols.push(Arc::new(b.finish()));
    }
    cols.push(Arc::new(calibrated.finish()));
    Ok(RecordBatch::try_new(schema(), cols)?)
}

/// Whether `table` is registered with every one of `columns`.
async fn has_columns(ctx: &SessionContext, table: &str, columns: &[&str]) -> bool {
    match ctx.table(table).await {
        Ok(df) => columns
            .iter()
            .all(|c| df.schema().fields().iter().any(|f| f.name() == c)),
        Err(_) => false,
    }
}

async fn query(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    ctx.sql(sql)
        .await
        .with_context(|| format!("planning {sql}"))?
        .collect()
        .await
        .with_context(|| format!("running {sql}"))
}

fn str_col(b: &RecordBatch, i: usize) -> Result<ArrayRef> {
    Ok(arrow::compute::cast(b.column(i), &DataType::Utf8)?)
}

/// Every project's daily history from `mart_throughput_daily`.
pub async fn read_histories(ctx: &SessionContext) -> Result<BTreeMap<(String, String), History>> {
    let batches = query(
        ctx,
        "select workspace, project, cast(day as date) as d, cast(items_done as bigint) as n \
         from mart_throughput_daily order by workspace, project, d",
    )
    .await?;
    let mut days: BTreeMap<(String, String), Vec<(NaiveDate, i64)>> = BTreeMap::new();
    for b in &batches {
        let (ws, pr) = (str_col(b, 0)?, str_col(b, 1)?);
        let (ws, pr) = (ws.as_string::<i32>(), pr.as_string::<i32>());
        let day = b.column(2).as_primitive::<Date32Type>();
        let done = b.column(3).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            if ws.is_null(i) || pr.is_null(i) || day.is_null(i) || done.is_null(i) {
                continue;
            }
            let Some(d) = Date32Type::to_naive_date_opt(day.value(i)) else {
                continue;
            };
            days.entry((ws.value(i).to_string(), pr.value(i).to_string()))
                .or_default()
                .push((d, done.value(i)));
        }
    }
    days.into_iter()
        .map(|(k, v)| {
            let h = History::new(v)
                .with_context(|| format!("mart_throughput_daily, project {} ({})", k.1, k.0))?;
            Ok((k, h))
        })
        .collect()
}

/// Rows of `(workspace, project, key, name, remaining_items, remaining_points, target,
/// items_in_progress)` from
/// `sql`, as scopes of `scope_type`.
async fn read_scopes(
    ctx: &SessionContext,
    sql: &str,
    scope_type: &'static str,
) -> Result<Vec<Scope>> {
    let mut out = Vec::new();
    for b in query(ctx, sql).await? {
        let cols: Vec<ArrayRef> = (0..4).map(|i| str_col(&b, i)).collect::<Result<_>>()?;
        let s: Vec<_> = cols.iter().map(|c| c.as_string::<i32>()).collect();
        let remaining = arrow::compute::cast(b.column(4), &DataType::Int64)?;
        let remaining = remaining.as_primitive::<Int64Type>();
        let points = arrow::compute::cast(b.column(5), &DataType::Float64)?;
        let points = points.as_primitive::<Float64Type>();
        let target = arrow::compute::cast(b.column(6), &DataType::Date32)?;
        let target = target.as_primitive::<Date32Type>();
        let in_progress = arrow::compute::cast(b.column(7), &DataType::Int64)?;
        let in_progress = in_progress.as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            if s[0].is_null(i) || s[1].is_null(i) || s[2].is_null(i) || remaining.is_null(i) {
                continue;
            }
            out.push(Scope {
                workspace: s[0].value(i).to_string(),
                project: s[1].value(i).to_string(),
                scope_type,
                scope_key: s[2].value(i).to_string(),
                scope_name: (!s[3].is_null(i)).then(|| s[3].value(i).to_string()),
                remaining_items: remaining.value(i),
                remaining_points: (!points.is_null(i)).then(|| points.value(i)),
                target: (!target.is_null(i))
                    .then(|| Date32Type::to_naive_date_opt(target.value(i)))
                    .flatten(),
                in_progress: !in_progress.is_null(i) && in_progress.value(i) > 0,
            });
        }
    }
    Ok(out)
}

/// Open epics: items under the epic not done yet (the epic itself not counted).
const EPICS_SQL: &str = "\
    select w.workspace, w.project, w.epic_key, cast(null as varchar) as name, \
           count(*) as remaining_items, sum(w.story_points) as remaining_points, \
           cast(null as date) as target, \
           count(*) filter (where w.status_category = 'indeterminate') as in_progress \
    from fct_work_items as w \
    where w.deleted_at is null and w.epic_key is not null \
      and coalesce(w.status_category, '') <> 'done' \
      and coalesce(w.issue_type, '') <> 'Epic' \
    group by w.workspace, w.project, w.epic_key \
    order by w.workspace, w.project, w.epic_key";

/// Fix versions (releases): items of the version not done yet, in the project they belong to.
const FIX_VERSIONS_SQL: &str = "\
    select workspace, project, version, version as name, \
           count(*) filter (where coalesce(status_category, '') <> 'done') as remaining_items, \
           sum(case when coalesce(status_category, '') <> 'done' then story_points end) \
               as remaining_points, \
           cast(null as date) as target, \
           count(*) filter (where status_category = 'indeterminate') as in_progress \
    from ( \
        select workspace, project, status_category, story_points, \
               trim(unnest(string_to_array(fix_versions, ','))) as version \
        from fct_work_items \
        where deleted_at is null and fix_versions is not null \
          and lower(coalesce(issue_type, '')) <> 'epic' \
    ) as v \
    where version <> '' \
    group by workspace, project, version \
    having count(*) filter (where coalesce(status_category, '') <> 'done') > 0 \
    order by workspace, project, version";

/// Active sprints: items in the sprint not done yet, and the sprint's planned end day.
const SPRINTS_SQL: &str = "\
    select w.workspace, w.project, cast(s.sprint_id as varchar) as sprint_key, max(s.name) as sprint_name, \
           count(*) as remaining_items, sum(w.story_points) as remaining_points, \
           cast(max(s.planned_end_at) as date) as target, 0 as in_progress \
    from fct_work_items as w \
    join mart_sprints as s on s.workspace = w.workspace and s.sprint_id = w.sprint_id \
    where w.deleted_at is null and s.state = 'active' \
      and coalesce(w.status_category, '') <> 'done' \
    group by w.workspace, w.project, s.sprint_id \
    order by w.workspace, w.project, s.sprint_id";

/// Builds `mart_forecasts` from a session over the built marts and writes it to the lake.
/// Returns the rows written.
pub async fn write(lake: &Lake, ctx: &SessionContext, window_days: u32) -> Result<usize> {
    let rows = if has_columns(
        ctx,
        "mart_throughput_daily",
        &["workspace", "project", "day", "items_done"],
    )
    .await
        && has_columns(
            ctx,
            "fct_work_items",
            &[
                "epic_key",
                "sprint_id",
                "story_points",
                "status_category",
                "deleted_at",
            ],
        )
        .await
    {
        let histories = read_histories(ctx).await?;
        let mut scopes = read_scopes(ctx, EPICS_SQL, "epic").await?;
        if has_columns(ctx, "fct_work_items", &["fix_versions"]).await {
            scopes.extend(read_scopes(ctx, FIX_VERSIONS_SQL, "fix_version").await?);
        }
        if has_columns(
            ctx,
            "mart_sprints",
            &["sprint_id", "name", "state", "planned_end_at"],
        )
        .await
        {
            scopes.extend(read_scopes(ctx, SPRINTS_SQL, "sprint").await?);
        }
        forecast_scopes(&histories, &scopes, window_days)
    } else {
        Vec::new()
    };
    let batch = to_batch(&rows)?;
    lake.put_parquet(
        &format!("marts/{MART_FORECASTS}/data.parquet"),
        &[batch],
        schema(),
    )
    .await
    .with_context(|| format!("writing {MART_FORECASTS}"))?;
    Ok(rows.len())
}

/// Registers `mart_forecasts` in `ctx` when the lake has it (it is no SQL model, so the marts
/// session does not know it).
pub async fn register(ctx: &SessionContext, lake: &Lake) -> Result<()> {
    let rel = format!("marts/{MART_FORECASTS}");
    if lake.exists_prefix(&rel).await? {
        ctx.register_parquet(
            MART_FORECASTS,
            &lake.table_url(&rel),
            datafusion::prelude::ParquetReadOptions::default(),
        )
        .await
        .with_context(|| format!("reading {}", lake.table_url(&rel)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn scope(kind: &'static str, remaining: i64, target: Option<NaiveDate>) -> Scope {
        Scope {
            workspace: "acme".into(),
            project: "PAY".into(),
            scope_type: kind,
            scope_key: "PAY-1".into(),
            scope_name: None,
            remaining_items: remaining,
            remaining_points: Some(8.0),
            target,
            in_progress: false,
        }
    }

    #[test]
    fn constant_throughput_gives_exact_dates_and_certain_sprints() {
        // Two items a day for 60 days ending 2026-03-01: 10 items take exactly 5 days.
        let h = History::from_counts(d("2026-01-01"), vec![2; 60]).unwrap();
        let histories = BTreeMap::from([(("acme".to_string(), "PAY".to_string()), h)]);
        let rows = forecast_scopes(
            &histories,
            &[
                scope("epic", 10, None),
                scope("sprint", 10, Some(d("2026-03-06"))),
                scope("sprint", 10, Some(d("2026-03-05"))),
                scope("sprint", 1, Some(d("2026-02-28"))),
                Scope {
                    project: "NOPE".into(),
                    ..scope("epic", 1, None)
                },
            ],
            90,
        );
        assert_eq!(rows.len(), 4, "a project without history gets no row");
        // Sprints first, then the epics.
        let sprints = &rows[..3];
        for l in LEVELS {
            assert_eq!(sprints[0].dates[&l], Some(d("2026-03-06")));
        }
        assert_eq!(sprints[0].as_of, d("2026-03-01"));
        assert_eq!(sprints[0].probability_by_target, Some(1.0));
        assert_eq!(
            sprints[1].probability_by_target,
            Some(0.0),
            "8 of 10 by day 4"
        );
        assert_eq!(
            sprints[2].probability_by_target,
            Some(0.0),
            "a sprint already over"
        );
        assert_eq!(rows[3].scope.scope_type, "epic");
        for l in LEVELS {
            assert_eq!(
                rows[3].dates[&l],
                Some(d("2026-03-06")),
                "alone, the epic is exact"
            );
        }
        let batch = to_batch(&rows).unwrap();
        assert_eq!(batch.num_rows(), 4);
        assert_eq!(batch.schema(), schema());
    }

    #[test]
    fn epics_share_the_team_in_key_order() {
        // Two items a day; PAY-10 (4 items) and PAY-9 (6 items), one at a time: PAY-9 first
        // (key order), done on day 3; PAY-10 gets day 3's spare item and is done on day 5.
        let h = History::from_counts(d("2026-01-01"), vec![2; 60]).unwrap();
        let histories = BTreeMap::from([(("acme".to_string(), "PAY".to_string()), h)]);
        let epic = |k: &str, n| Scope {
            scope_key: k.into(),
            ..scope("epic", n, None)
        };
        let rows = forecast_scopes(&histories, &[epic("PAY-10", 4), epic("PAY-9", 6)], 90);
        assert_eq!(rows[0].scope.scope_key, "PAY-9");
        assert_eq!(rows[0].dates[&85], Some(d("2026-03-04")));
        assert_eq!(rows[1].dates[&85], Some(d("2026-03-06")));
        assert!(rows[1].method.contains("1 at a time"), "{}", rows[1].method);
        // With both in progress they run side by side and finish later / earlier.
        let rows = forecast_scopes(
            &histories,
            &[
                Scope {
                    in_progress: true,
                    ..epic("PAY-10", 4)
                },
                Scope {
                    in_progress: true,
                    ..epic("PAY-9", 6)
                },
            ],
            90,
        );
        assert!(rows[0].method.contains("2 at a time"));
        assert_eq!(
            rows[1].dates[&85],
            Some(d("2026-03-05")),
            "PAY-10 alongside PAY-9"
        );
        assert_eq!(rows[0].dates[&85], Some(d("2026-03-06")));
    }

    #[tokio::test]
    async fn scopes_come_from_the_work_items() {
        let ctx = SessionContext::new();
        ctx.sql(
            "create table fct_work_items as select * from (values \
             ('ws', 'PAY', 'PAY-1', 'Story', 'indeterminate', 'v1, v2', 2.0, 'PAY-9'), \
             ('ws', 'PAY', 'PAY-2', 'Story', 'done', 'v1', 3.0, 'PAY-9'), \
             ('ws', 'PAY', 'PAY-3', 'Bug', 'new', 'v2', 5.0, 'PAY-9'), \
             ('ws', 'PAY', 'PAY-4', 'Bug', 'done', 'v3', 1.0, cast(null as varchar)), \
             ('ws', 'PAY', 'PAY-9', 'Epic', 'indeterminate', 'v1', cast(null as double), cast(null as varchar)) \
             ) as t(workspace, project, issue_key, issue_type, status_category, fix_versions, \
             story_points, epic_key)",
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
        ctx.sql(
            "create table fct_work_items2 as select *, cast(null as bigint) as sprint_id, \
             cast(null as timestamp) as deleted_at from fct_work_items",
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
        ctx.deregister_table("fct_work_items").unwrap();
        ctx.sql("create table fct_work_items as select * from fct_work_items2")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let epics = read_scopes(&ctx, EPICS_SQL, "epic").await.unwrap();
        assert_eq!(epics.len(), 1);
        assert_eq!(
            (
                epics[0].scope_key.as_str(),
                epics[0].remaining_items,
                epics[0].remaining_points
            ),
            ("PAY-9", 2, Some(7.0))
        );
        assert!(epics[0].in_progress);
        let versions = read_scopes(&ctx, FIX_VERSIONS_SQL, "fix_version")
            .await
            .unwrap();
        let got: Vec<(&str, i64, Option<f64>, bool)> = versions
            .iter()
            .map(|s| {
                (
                    s.scope_key.as_str(),
                    s.remaining_items,
                    s.remaining_points,
                    s.in_progress,
                )
            })
            .collect();
        // v1: PAY-1 open (the epic is not an item of the release); v2: PAY-1 and PAY-3; v3 done.
        assert_eq!(
            got,
            vec![("v1", 1, Some(2.0), true), ("v2", 2, Some(7.0), true)]
        );
    }

    #[test]
    fn rows_carry_the_project_s_track_record() {
        // 400 days of 0, 2, 4, 1, 3 items, repeating: the model's p85 "when" date held at
        // every one of the 52 past origins, so calibration narrows a release's dates; an
        // epic's plan is not calibrated, but its size's record is the same question's.
        let h = History::from_counts(
            d("2025-01-01"),
            (0..400).map(|i| (i * 7 % 5) as u64).collect(),
        )
        .unwrap();
        let histories = BTreeMap::from([(("acme".to_string(), "PAY".to_string()), h)]);
        let rows = forecast_scopes(
            &histories,
            &[scope("fix_version", 30, None), scope("epic", 30, None)],
            90,
        );
        let (release, epic) = (&rows[0], &rows[1]);
        assert_eq!(epic.scope.scope_type, "epic");
        for r in [release, epic] {
            let t = r.track.as_ref().expect("a track record");
            assert_eq!(t.origins, 52);
            assert_eq!(t.kind, flowlake_forecast::BacktestKind::When { items: 30 });
            assert_eq!(
                (t.level(85).unwrap().held, t.level(85).unwrap().total),
                (52, 52)
            );
        }
        assert!(release.calibrated, "52 of 52 is more than p85 claims");
        assert!(!epic.calibrated, "a plan of epics is not calibrated");
        // A short history has no record: null columns, not zeros.
        let short = History::from_counts(d("2026-01-01"), vec![2; 20]).unwrap();
        let histories = BTreeMap::from([(("acme".to_string(), "PAY".to_string()), short)]);
        let mut all = rows.clone();
        all.extend(forecast_scopes(
            &histories,
            &[scope("fix_version", 10, None)],
            90,
        ));
        assert_eq!(all[2].track, None);
        let batch = to_batch(&all).unwrap();
        let col = |name: &str| batch.column_by_name(name).unwrap().clone();
        let origins = col("track_origins");
        let origins = origins.as_primitive::<Int64Type>();
        assert_eq!((origins.value(0), origins.value(1)), (52, 52));
        assert!(origins.is_null(2));
        let held = col("track_p85_held");
        assert_eq!(held.as_primitive::<Int64Type>().value(0), 52);
        assert!(held.is_null(2));
        for name in ["track_p85_rate", "track_p85_lower", "track_p85_upper"] {
            let c = col(name);
            let c = c.as_primitive::<Float64Type>();
            assert!((0.9..=1.0).contains(&c.value(0)), "{name}: {}", c.value(0));
            assert!(c.is_null(2), "{name}");
        }
        let calibrated = col("calibrated");
        let calibrated = calibrated.as_boolean();
        assert_eq!(
            (0..3).map(|i| calibrated.value(i)).collect::<Vec<_>>(),
            [true, false, false]
        );
        assert_eq!(calibrated.null_count(), 0);
    }

    #[test]
    fn an_all_zero_history_is_a_warning_not_a_failure() {
        let h = History::from_counts(d("2026-01-01"), vec![0; 30]).unwrap();
        let histories = BTreeMap::from([(("acme".to_string(), "PAY".to_string()), h)]);
        let rows = forecast_scopes(&histories, &[scope("epic", 3, None)], 90);
        assert!(rows[0].dates.values().all(Option::is_none));
        assert!(rows[0].warnings.is_some());
    }
}
