//! `mart_forecasts`: the forecasts a report shows, a Rust model of the marts graph.
//!
//! For every open scope of [`SCOPES`] (`int_forecast_scopes`), one row: an epic's or a fix
//! version's (release's) remaining items ("when will they be done?", p50/p70/p85/p95 dates) and
//! an active sprint's remaining items against the days it has left ("how likely is it done by
//! the sprint's end?"). The history is the scope's project's `mart_throughput_daily` (read by
//! [`crate::throughput::read_histories`]) up to the build's `as_of` day; the forecast is exact
//! (convolution of the empirical daily distribution), so the table is deterministic and has no
//! simulation noise. The forecast's default rules apply (automatic window, bulk days, regime
//! changes, weekday-only work, calibration), and each row carries the p85 track record of
//! "when will the remaining items be done?" on the project's past.
//!
//! It is a [`RustModel`] because the forecast is Rust (`flowlake-forecast`): the graph builds
//! it after the two SQL models it declares, and writes it like every mart, as
//! `marts/mart_forecasts/data.parquet`.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder,
    RecordBatch, StringBuilder,
};
use arrow::datatypes::{DataType, Date32Type, Field, Float64Type, Int64Type, Schema, SchemaRef};
use chrono::{Duration, NaiveDate};
use datafusion::error::DataFusionError;
use datafusion::prelude::{SessionContext, cast, col};
use flowlake_forecast::{
    Feature, FeaturesQuery, History, HowManyQuery, Method, Options, TrackRecord, WhenQuery,
};

use crate::error::{Error, Result};
use crate::models::{RustModel, RustModelFuture};
use crate::throughput::{self, ProjectKey};

/// The table's name, and where it is written.
pub const NAME: &str = "mart_forecasts";

/// The SQL model of the open scopes.
pub const SCOPES: &str = "int_forecast_scopes";

/// Days of history the forecasts sample when the automatic window does not choose.
pub const WINDOW_DAYS: u32 = 90;

/// Percentile levels written as columns.
const LEVELS: [u8; 4] = [50, 70, 85, 95];

/// The model, as the graph knows it.
pub(crate) const MODEL: RustModel = RustModel {
    name: NAME,
    reads: &[SCOPES, throughput::TABLE],
    source: file!(),
    schema,
    run,
};

fn run(ctx: &SessionContext) -> RustModelFuture<'_> {
    Box::pin(async move {
        let histories = throughput::read_histories(ctx).await?;
        let scopes = read_scopes(ctx).await?;
        let rows = forecast_scopes(&histories, &scopes, WINDOW_DAYS);
        Ok(vec![to_batch(&rows)?])
    })
}

/// What a scope is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScopeType {
    /// An epic: its child items.
    Epic,
    /// A fix version (a release): the items listing it.
    FixVersion,
    /// An active sprint: its items, and its end day as the target.
    Sprint,
}

impl ScopeType {
    /// The `scope_type` value: `epic`, `fix_version` or `sprint`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeType::Epic => "epic",
            ScopeType::FixVersion => "fix_version",
            ScopeType::Sprint => "sprint",
        }
    }

    /// The scope type a `scope_type` value names.
    pub fn parse(value: &str) -> Option<ScopeType> {
        [ScopeType::Epic, ScopeType::FixVersion, ScopeType::Sprint]
            .into_iter()
            .find(|t| t.as_str() == value)
    }
}

/// One open scope to forecast: a row of `int_forecast_scopes`.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    /// Jira site.
    pub workspace: String,
    /// The project whose throughput the forecast samples.
    pub project: String,
    /// Epic, fix version or sprint.
    pub scope_type: ScopeType,
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

/// The scopes of `ctx`'s `int_forecast_scopes`, in a stable order: epics, fix versions, then
/// sprints, each by workspace, project and key (sprint ids as numbers).
pub async fn read_scopes(ctx: &SessionContext) -> Result<Vec<Scope>> {
    let wrap = |source: DataFusionError| Error::Read {
        table: SCOPES.to_string(),
        source,
    };
    let columns = [
        ("workspace", DataType::Utf8),
        ("project", DataType::Utf8),
        ("scope_type", DataType::Utf8),
        ("scope_key", DataType::Utf8),
        ("scope_name", DataType::Utf8),
        ("remaining_items", DataType::Int64),
        ("remaining_points", DataType::Float64),
        ("target_date", DataType::Date32),
        ("is_in_progress", DataType::Boolean),
    ];
    let batches = ctx
        .table(SCOPES)
        .await
        .map_err(wrap)?
        .select(
            columns
                .iter()
                .map(|(name, t)| cast(col(*name), t.clone()).alias(*name))
                .collect::<Vec<_>>(),
        )
        .map_err(wrap)?
        .collect()
        .await
        .map_err(wrap)?;
    let null = |i: usize| Error::NullValue {
        table: SCOPES.to_string(),
        column: columns[i].0.to_string(),
    };
    let mut out = Vec::new();
    for b in &batches {
        let s: Vec<_> = (0..5).map(|i| b.column(i).as_string::<i32>()).collect();
        let remaining = b.column(5).as_primitive::<Int64Type>();
        let points = b.column(6).as_primitive::<Float64Type>();
        let target = b.column(7).as_primitive::<Date32Type>();
        let in_progress = b.column(8).as_boolean();
        for i in 0..b.num_rows() {
            for (c, array) in [(0, s[0] as &dyn Array), (1, s[1]), (2, s[2]), (3, s[3])]
                .into_iter()
                .chain([(5, remaining as &dyn Array), (8, in_progress)])
            {
                if array.is_null(i) {
                    return Err(null(c));
                }
            }
            let scope_type =
                ScopeType::parse(s[2].value(i)).ok_or_else(|| Error::UnexpectedValue {
                    table: SCOPES.to_string(),
                    column: "scope_type".to_string(),
                    value: s[2].value(i).to_string(),
                })?;
            out.push(Scope {
                workspace: s[0].value(i).to_string(),
                project: s[1].value(i).to_string(),
                scope_type,
                scope_key: s[3].value(i).to_string(),
                scope_name: (!s[4].is_null(i)).then(|| s[4].value(i).to_string()),
                remaining_items: remaining.value(i),
                remaining_points: (!points.is_null(i)).then(|| points.value(i)),
                target: (!target.is_null(i))
                    .then(|| Date32Type::to_naive_date_opt(target.value(i)))
                    .flatten(),
                in_progress: in_progress.value(i),
            });
        }
    }
    out.sort_by(|a, b| scope_order(a).cmp(&scope_order(b)));
    Ok(out)
}

fn scope_order(s: &Scope) -> (ScopeType, &str, &str, Option<u64>, &str) {
    let numeric = (s.scope_type == ScopeType::Sprint)
        .then(|| s.scope_key.parse().ok())
        .flatten();
    (
        s.scope_type,
        &s.workspace,
        &s.project,
        numeric,
        &s.scope_key,
    )
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
    histories: &BTreeMap<ProjectKey, History>,
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
    let mut epics: BTreeMap<ProjectKey, Vec<&Scope>> = BTreeMap::new();
    for scope in scopes {
        let key = ProjectKey::new(&scope.workspace, &scope.project);
        let Some(history) = histories.get(&key) else {
            continue;
        };
        if scope.scope_type == ScopeType::Epic {
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
        s[2].append_value(r.scope.scope_type.as_str());
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
    RecordBatch::try_new(schema(), cols).map_err(|source| Error::Batch {
        model: NAME.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn scope(kind: ScopeType, remaining: i64, target: Option<NaiveDate>) -> Scope {
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
        let histories = BTreeMap::from([(ProjectKey::new("acme", "PAY"), h)]);
        let rows = forecast_scopes(
            &histories,
            &[
                scope(ScopeType::Epic, 10, None),
                scope(ScopeType::Sprint, 10, Some(d("2026-03-06"))),
                scope(ScopeType::Sprint, 10, Some(d("2026-03-05"))),
                scope(ScopeType::Sprint, 1, Some(d("2026-02-28"))),
                Scope {
                    project: "NOPE".into(),
                    ..scope(ScopeType::Epic, 1, None)
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
        assert_eq!(rows[3].scope.scope_type, ScopeType::Epic);
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
        let histories = BTreeMap::from([(ProjectKey::new("acme", "PAY"), h)]);
        let epic = |k: &str, n| Scope {
            scope_key: k.into(),
            ..scope(ScopeType::Epic, n, None)
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
        let histories = BTreeMap::from([(ProjectKey::new("acme", "PAY"), h)]);
        let rows = forecast_scopes(
            &histories,
            &[
                scope(ScopeType::FixVersion, 30, None),
                scope(ScopeType::Epic, 30, None),
            ],
            90,
        );
        let (release, epic) = (&rows[0], &rows[1]);
        assert_eq!(epic.scope.scope_type, ScopeType::Epic);
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
        let histories = BTreeMap::from([(ProjectKey::new("acme", "PAY"), short)]);
        let mut all = rows.clone();
        all.extend(forecast_scopes(
            &histories,
            &[scope(ScopeType::FixVersion, 10, None)],
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
        let histories = BTreeMap::from([(ProjectKey::new("acme", "PAY"), h)]);
        let rows = forecast_scopes(&histories, &[scope(ScopeType::Epic, 3, None)], 90);
        assert!(rows[0].dates.values().all(Option::is_none));
        assert!(rows[0].warnings.is_some());
    }
}
