//! `mart_forecasts`, built by `Marts::build` as a Rust model, agrees row for row with an
//! independent computation: the code that built it in the CLI before it moved into the marts
//! (`crates/cli/src/forecasts.rs`): its SQL over `fct_work_items`, `mart_sprints` and
//! `mart_throughput_daily`, and its row logic, kept here verbatim as the oracle. The lake is a
//! generated Jira site with a year of throughput, epics planned together, releases and active
//! sprints; `FLOWLAKE_ORACLE_LAKE` runs the same comparison on any built lake (the demo's).

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Date32Type, Field, Float64Type, Int64Type, Schema, SchemaRef};
use chrono::{Duration, NaiveDate};
use datafusion::prelude::SessionContext;
use flowlake_forecast::{
    Feature, FeaturesQuery, History, HowManyQuery, Method, Options, TrackRecord, WhenQuery,
};
use flowlake_lake::Lake;
use flowlake_marts::{Marts, MartsConfig, Models, session_for_query};

/// Statuses, boards and sprints of two Jira sites, `acme` (PAY, OPS) and `beta` (PAY: the
/// same project key on another site is another history). Data as of 2025-06-30 18:00.
const SITE: &[&str] = &[
    "insert into raw_jira_statuses (workspace, status_id, name, category_key, _run_id, _ingested_at, ingest_date) values
     ('acme', '1', 'To Do', 'new', 'r1', '2025-06-30T18:00:00Z', '2025-06-30'),
     ('acme', '3', 'In Progress', 'indeterminate', 'r1', '2025-06-30T18:00:00Z', '2025-06-30'),
     ('acme', '6', 'Done', 'done', 'r1', '2025-06-30T18:00:00Z', '2025-06-30'),
     ('beta', '1', 'To Do', 'new', 'r1', '2025-06-30T18:00:00Z', '2025-06-30'),
     ('beta', '3', 'In Progress', 'indeterminate', 'r1', '2025-06-30T18:00:00Z', '2025-06-30'),
     ('beta', '6', 'Done', 'done', 'r1', '2025-06-30T18:00:00Z', '2025-06-30')",
    "insert into raw_jira_boards (workspace, board_id, name, board_type, project_key, _run_id, _ingested_at, ingest_date) values
     ('acme', 1, 'PAY board', 'scrum', 'PAY', 'r1', '2025-06-30T18:00:00Z', '2025-06-30'),
     ('acme', 2, 'OPS board', 'scrum', 'OPS', 'r1', '2025-06-30T18:00:00Z', '2025-06-30'),
     ('beta', 1, 'PAY board', 'scrum', 'PAY', 'r1', '2025-06-30T18:00:00Z', '2025-06-30')",
    // Sprint 12 (OPS) ended before as_of while still active: no chance to make it.
    "insert into raw_jira_sprints (workspace, sprint_id, board_id, origin_board_id, name, state, start_date, end_date, complete_date, _run_id, _ingested_at, ingest_date) values
     ('acme', 6, 1, 1, 'PAY Sprint 6', 'closed', '2025-06-09T08:00:00Z', '2025-06-20T08:00:00Z', '2025-06-20T10:00:00Z', 'r1', '2025-06-30T18:00:00Z', '2025-06-30'),
     ('acme', 7, 1, 1, 'PAY Sprint 7', 'active', '2025-06-23T08:00:00Z', '2025-07-04T08:00:00Z', null, 'r1', '2025-06-30T18:00:00Z', '2025-06-30'),
     ('acme', 12, 2, 2, 'OPS Sprint 12', 'active', '2025-06-16T08:00:00Z', '2025-06-27T08:00:00Z', null, 'r1', '2025-06-30T18:00:00Z', '2025-06-30'),
     ('acme', 13, 2, 2, 'OPS Sprint 13', 'future', null, '2025-07-11T08:00:00Z', null, 'r1', '2025-06-30T18:00:00Z', '2025-06-30'),
     ('beta', 3, 1, 1, 'PAY Sprint 3', 'active', '2025-06-23T08:00:00Z', '2025-07-11T08:00:00Z', null, 'r1', '2025-06-30T18:00:00Z', '2025-06-30')",
];

/// 300 days of done items (2024-09-04 to 2025-06-30), one issue each: acme PAY works on
/// weekdays only, acme OPS in bursts, beta PAY steadily.
const HISTORY: &str = "
insert into raw_jira_issues (workspace, issue_id, issue_key, project_key, issue_type, status, status_id, status_category, created_at, updated_at, resolution_date, story_points, _run_id, _ingested_at, ingest_date)
select w, w || '-' || p || '-' || cast(n as varchar), p || '-' || cast(n as varchar), p, 'Story', 'Done', '6', 'done',
       to_timestamp_seconds(1725408000 + d * 86400 - 5 * 86400) as created_at,
       to_timestamp_seconds(1725408000 + d * 86400 + 36000) as updated_at,
       to_timestamp_seconds(1725408000 + d * 86400 + 36000) as resolution_date,
       cast(k as double), 'r1', '2025-06-30T18:00:00Z', '2025-06-30'
from (
    select w, p, d, k, d * 10 + k as n, case
        when w = 'acme' and p = 'PAY' then
            case when date_part('dow', to_timestamp_seconds(1725408000 + d * 86400)) in (0, 6) then 0
                 else (d * 7) % 5 end
        when w = 'acme' then case when d % 9 = 0 then 6 when d % 4 = 1 then 1 else 0 end
        else d % 3
    end as done
    from (select value as d from generate_series(0, 299)) as days
    cross join (select value as k from generate_series(1, 6)) as items
    cross join (
        select 'acme' as w, 'PAY' as p
        union all select 'acme', 'OPS'
        union all select 'beta', 'PAY'
    ) as projects
) as t
where k <= done";

/// The open work: epics (PAY-99 before PAY-100 in key order; two in progress), releases, the
/// sprints' items, an epic issue in a sprint, a deleted item, an epic with items in two
/// projects.
const OPEN: &[&str] = &["
create table open_work as select * from (values
    ('acme', 'PAY-99', 'PAY', 'Epic', 'In Progress', '3', 'indeterminate', null, null, null, null, null),
    ('acme', 'PAY-100', 'PAY', 'Epic', 'In Progress', '3', 'indeterminate', null, null, 7, null, null),
    ('acme', 'PAY-5001', 'PAY', 'Story', 'In Progress', '3', 'indeterminate', 3.0, 'PAY-99', 7, '3.0', null),
    ('acme', 'PAY-5002', 'PAY', 'Story', 'To Do', '1', 'new', 2.0, 'PAY-99', 7, '3.0, 3.1', null),
    ('acme', 'PAY-5003', 'PAY', 'Story', 'To Do', '1', 'new', null, 'PAY-99', null, null, null),
    ('acme', 'PAY-5004', 'PAY', 'Bug', 'To Do', '1', 'new', 1.0, 'PAY-100', 7, '3.1', null),
    ('acme', 'PAY-5005', 'PAY', 'Story', 'To Do', '1', 'new', 5.0, 'PAY-100', null, null, null),
    ('acme', 'PAY-5006', 'PAY', 'Story', 'To Do', '1', 'new', 8.0, 'PAY-100', null, '3.1', null),
    ('acme', 'PAY-5007', 'PAY', 'Story', 'In Progress', '3', 'indeterminate', 3.0, 'PAY-101', null, null, null),
    ('acme', 'PAY-5008', 'PAY', 'Story', 'To Do', '1', 'new', 3.0, 'PAY-101', null, null, null),
    ('acme', 'PAY-5009', 'PAY', 'Story', 'Done', '6', 'done', 3.0, 'PAY-101', null, '3.0', null),
    ('acme', 'PAY-5010', 'PAY', 'Story', 'To Do', '1', 'new', 3.0, 'PAY-101', 7, '3.0', '2025-06-29T00:00:00Z'),
    ('acme', 'PAY-5011', 'PAY', 'Task', 'To Do', '1', 'new', null, 'PAY-102', null, '2.9', null),
    ('acme', 'OPS-5001', 'OPS', 'Task', 'To Do', '1', 'new', 1.0, 'PAY-102', 12, '2.9', null),
    ('acme', 'OPS-5002', 'OPS', 'Task', 'In Progress', '3', 'indeterminate', 2.0, null, 12, null, null),
    ('acme', 'OPS-5003', 'OPS', 'Task', 'To Do', '1', 'new', 2.0, null, 13, null, null),
    ('beta', 'PAY-7001', 'PAY', 'Story', 'To Do', '1', 'new', 1.0, 'PAY-700', 3, null, null),
    ('beta', 'PAY-7002', 'PAY', 'Story', 'To Do', '1', 'new', 1.0, 'PAY-700', 3, null, null),
    ('beta', 'PAY-7003', 'PAY', 'Story', 'In Progress', '3', 'indeterminate', 1.0, 'PAY-701', 3, null, null)
) as v(w, k, p, t, s, sid, cat, pts, epic, sprint, fv, del)",
    "insert into raw_jira_issues (workspace, issue_id, issue_key, project_key, issue_type, status, status_id, status_category, created_at, story_points, epic_key, sprint_id, fix_versions, deleted_at, _run_id, _ingested_at, ingest_date)
    select w, w || '-' || k, k, p, t, s, sid, cat, '2025-06-01T00:00:00Z', pts, epic, sprint, fv, del, 'r1', '2025-06-30T18:00:00Z', '2025-06-30'
    from open_work",
];

/// The pre-move `mart_forecasts` schema: the mart keeps exactly these columns and types.
fn oracle_schema() -> SchemaRef {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mart_forecasts_is_built_in_the_graph_and_matches_the_oracle() {
    let sql = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sql");
    let fixtures = crate::slt::session(&Models::from_dir(&sql).unwrap())
        .await
        .unwrap();
    for statement in SITE.iter().chain([&HISTORY]).chain(OPEN) {
        fixtures
            .sql(statement)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
    }
    let lake = Lake::open("memory://").unwrap();
    crate::build::write_raw(&fixtures, &lake).await;
    let marts = Marts::new(lake.clone(), MartsConfig::default()).unwrap();
    let report = marts.build(|_, _, _| {}).await.unwrap();

    // A mart like the others, built after what it reads.
    let pos = |name: &str| report.models.iter().position(|m| m.name == name).unwrap();
    assert!(pos("int_forecast_scopes") < pos("mart_forecasts"));
    assert!(pos("mart_throughput_daily") < pos("mart_forecasts"));
    let built = report.model("mart_forecasts").unwrap();
    assert_eq!(
        built.path.clone(),
        Some(format!(
            "marts/_builds/{}/mart_forecasts/data.parquet",
            report.build_id
        ))
    );

    let (mart, oracle) = compare(&lake).await;
    assert_eq!(built.rows, mart.len());
    // Every kind of scope and row is there: epics planned together, releases, sprints with
    // and without a chance, two sites.
    let has = |pred: &dyn Fn(&BTreeMap<String, String>) -> bool| mart.iter().any(pred);
    for (kind, n) in [("epic", 7), ("fix_version", 4), ("sprint", 3)] {
        assert_eq!(
            mart.iter().filter(|r| r["scope_type"] == kind).count(),
            n,
            "{kind}: {mart:#?}"
        );
    }
    assert!(has(&|r| r["workspace"] == "beta"));
    assert!(has(&|r| r["method"].contains("at a time")));
    assert!(has(&|r| r["probability_by_target"] == "0.0"));
    assert!(has(&|r| r["track_origins"] != "NULL"));
    assert_eq!(mart, oracle);

    // `flowlake sql`'s session reads it like any mart.
    let ctx = session_for_query(&lake).await.unwrap();
    let n = ctx
        .sql("select count(*) from mart_forecasts")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(
        n[0].column(0).as_primitive::<Int64Type>().value(0) as usize,
        mart.len()
    );
}

/// Not run by default: compares the `mart_forecasts` of the lake named by
/// `FLOWLAKE_ORACLE_LAKE` (built by `flowlake build` or `flowlake demo`) with the oracle over
/// the same lake's marts:
/// `FLOWLAKE_ORACLE_LAKE=./lake cargo test -p flowlake-marts --test it -- --ignored oracle_on_a_lake`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "reads $FLOWLAKE_ORACLE_LAKE"]
async fn oracle_on_a_lake() {
    let Ok(path) = std::env::var("FLOWLAKE_ORACLE_LAKE") else {
        return;
    };
    let (mart, oracle) = compare(&Lake::open(&path).unwrap()).await;
    assert!(!mart.is_empty());
    assert_eq!(mart, oracle);
    eprintln!(
        "{} rows of mart_forecasts agree with the oracle",
        mart.len()
    );
}

/// The built mart's rows and the oracle's, each as `column -> value` maps sorted by scope.
async fn compare(lake: &Lake) -> (Vec<BTreeMap<String, String>>, Vec<BTreeMap<String, String>>) {
    let batches = lake
        .read_parquet("marts/mart_forecasts/data.parquet")
        .await
        .unwrap();
    let schema = batches[0].schema();
    assert_eq!(schema, oracle_schema(), "the columns and types of before");
    let mut mart: Vec<BTreeMap<String, String>> = Vec::new();
    for b in &batches {
        for i in 0..b.num_rows() {
            mart.push(
                schema
                    .fields()
                    .iter()
                    .zip(b.columns())
                    .map(|(f, c)| (f.name().clone(), cell(c.as_ref(), i)))
                    .collect(),
            );
        }
    }
    let ctx = session_for_query(lake).await.unwrap();
    let oracle: Vec<_> = oracle_rows(&ctx).await.iter().map(row_cells).collect();
    let key = |r: &BTreeMap<String, String>| {
        (
            r["workspace"].clone(),
            r["project"].clone(),
            r["scope_type"].clone(),
            r["scope_key"].clone(),
        )
    };
    mart.sort_by_key(key);
    let mut oracle = oracle;
    oracle.sort_by_key(key);
    (mart, oracle)
}

fn cell(a: &dyn Array, i: usize) -> String {
    if a.is_null(i) {
        return "NULL".into();
    }
    match a.data_type() {
        DataType::Utf8 => a.as_string::<i32>().value(i).to_string(),
        DataType::Int64 => a.as_primitive::<Int64Type>().value(i).to_string(),
        DataType::Float64 => format!("{:?}", a.as_primitive::<Float64Type>().value(i)),
        DataType::Date32 => Date32Type::to_naive_date_opt(a.as_primitive::<Date32Type>().value(i))
            .unwrap()
            .to_string(),
        DataType::Boolean => a.as_boolean().value(i).to_string(),
        other => panic!("unexpected column type {other}"),
    }
}

fn row_cells(r: &Row) -> BTreeMap<String, String> {
    let text = |v: Option<String>| v.unwrap_or_else(|| "NULL".into());
    let float = |v: Option<f64>| text(v.map(|x| format!("{x:?}")));
    let p85 = r.track.as_ref().and_then(|t| t.level(85));
    let mut out: BTreeMap<String, String> = [
        ("workspace", r.scope.workspace.clone()),
        ("project", r.scope.project.clone()),
        ("scope_type", r.scope.scope_type.to_string()),
        ("scope_key", r.scope.scope_key.clone()),
        ("scope_name", text(r.scope.scope_name.clone())),
        ("as_of", r.as_of.to_string()),
        ("remaining_items", r.scope.remaining_items.to_string()),
        ("remaining_points", float(r.scope.remaining_points)),
        ("target_date", text(r.scope.target.map(|d| d.to_string()))),
        ("probability_by_target", float(r.probability_by_target)),
        ("method", r.method.clone()),
        ("window_days", r.window_days.to_string()),
        ("warnings", text(r.warnings.clone())),
        (
            "track_origins",
            text(r.track.as_ref().map(|t| t.origins.to_string())),
        ),
        ("track_p85_held", text(p85.map(|l| l.held.to_string()))),
        ("track_p85_rate", float(p85.map(|l| l.rate))),
        ("track_p85_lower", float(p85.map(|l| l.lower))),
        ("track_p85_upper", float(p85.map(|l| l.upper))),
        ("calibrated", r.calibrated.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for l in LEVELS {
        out.insert(
            format!("p{l}_date"),
            text(r.dates[&l].map(|d| d.to_string())),
        );
    }
    out
}

// ---------------------------------------------------------------------------------------
// The oracle: `crates/cli/src/forecasts.rs` as it was before the move (its SQL, its readers
// and its row logic), with `anyhow` replaced by `unwrap`. Do not "fix" it to follow the new
// code: it is what the new code must agree with.
// ---------------------------------------------------------------------------------------

/// Percentile levels written as columns.
const LEVELS: [u8; 4] = [50, 70, 85, 95];

/// The sampling window of the forecasts in `mart_forecasts`.
const FORECAST_WINDOW_DAYS: u32 = 90;

/// One open scope to forecast.
#[derive(Debug, Clone, PartialEq)]
struct Scope {
    workspace: String,
    project: String,
    scope_type: &'static str,
    scope_key: String,
    scope_name: Option<String>,
    remaining_items: i64,
    remaining_points: Option<f64>,
    target: Option<NaiveDate>,
    in_progress: bool,
}

/// One forecast row.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    scope: Scope,
    as_of: NaiveDate,
    dates: BTreeMap<u8, Option<NaiveDate>>,
    probability_by_target: Option<f64>,
    window_days: u32,
    warnings: Option<String>,
    method: String,
    track: Option<TrackRecord>,
    calibrated: bool,
}

async fn oracle_rows(ctx: &SessionContext) -> Vec<Row> {
    let histories = read_histories(ctx).await;
    let mut scopes = read_scopes(ctx, EPICS_SQL, "epic").await;
    scopes.extend(read_scopes(ctx, FIX_VERSIONS_SQL, "fix_version").await);
    scopes.extend(read_scopes(ctx, SPRINTS_SQL, "sprint").await);
    forecast_scopes(&histories, &scopes, FORECAST_WINDOW_DAYS)
}

fn forecast_scopes(
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

async fn query(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    ctx.sql(sql).await.unwrap().collect().await.unwrap()
}

fn str_col(b: &RecordBatch, i: usize) -> arrow::array::ArrayRef {
    arrow::compute::cast(b.column(i), &DataType::Utf8).unwrap()
}

/// Every project's daily history from `mart_throughput_daily`.
async fn read_histories(ctx: &SessionContext) -> BTreeMap<(String, String), History> {
    let batches = query(
        ctx,
        "select workspace, project, cast(day as date) as d, cast(items_done as bigint) as n \
         from mart_throughput_daily order by workspace, project, d",
    )
    .await;
    let mut days: BTreeMap<(String, String), Vec<(NaiveDate, i64)>> = BTreeMap::new();
    for b in &batches {
        let (ws, pr) = (str_col(b, 0), str_col(b, 1));
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
        .map(|(k, v)| (k, History::new(v).unwrap()))
        .collect()
}

/// Rows of `(workspace, project, key, name, remaining_items, remaining_points, target,
/// items_in_progress)` from `sql`, as scopes of `scope_type`.
async fn read_scopes(ctx: &SessionContext, sql: &str, scope_type: &'static str) -> Vec<Scope> {
    let mut out = Vec::new();
    for b in query(ctx, sql).await {
        let cols: Vec<_> = (0..4).map(|i| str_col(&b, i)).collect();
        let s: Vec<_> = cols.iter().map(|c| c.as_string::<i32>()).collect();
        let remaining = arrow::compute::cast(b.column(4), &DataType::Int64).unwrap();
        let remaining = remaining.as_primitive::<Int64Type>();
        let points = arrow::compute::cast(b.column(5), &DataType::Float64).unwrap();
        let points = points.as_primitive::<Float64Type>();
        let target = arrow::compute::cast(b.column(6), &DataType::Date32).unwrap();
        let target = target.as_primitive::<Date32Type>();
        let in_progress = arrow::compute::cast(b.column(7), &DataType::Int64).unwrap();
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
    out
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
