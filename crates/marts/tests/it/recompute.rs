//! `mart_dora` agrees with a recomputation in plain Rust from the `fct_*` tables of the
//! same fixtures (org scope, ISO weeks): deployment counts, change failure and rework rates,
//! and exact lead-time and recovery percentiles.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Float64Type;
use datafusion::prelude::SessionContext;

const HOUR_S: f64 = 3600.0;

async fn rows(ctx: &SessionContext, sql: &str) -> Vec<Vec<Option<f64>>> {
    let batches: Vec<RecordBatch> = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let mut out = Vec::new();
    for batch in batches {
        for r in 0..batch.num_rows() {
            out.push(
                batch
                    .columns()
                    .iter()
                    .map(|c| {
                        let c = c.as_primitive::<Float64Type>();
                        (!c.is_null(r)).then(|| c.value(r))
                    })
                    .collect(),
            );
        }
    }
    out
}

/// Monday 00:00 UTC of the week holding `epoch_s` (1970-01-01 was a Thursday).
fn week_start(epoch_s: f64) -> i64 {
    let day = (epoch_s / 86_400.0).floor() as i64;
    (day + 3).div_euclid(7) * 7 - 3
}

/// The exact percentile with linear interpolation between closest ranks (percentile_cont).
fn percentile(mut values: Vec<f64>, p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = p * (values.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    Some(values[lo] + (values[hi] - values[lo]) * (rank - lo as f64))
}

#[derive(Default, Debug)]
struct Week {
    deployments: f64,
    failed: f64,
    rework: f64,
    lead: Vec<f64>,
    recovery: Vec<f64>,
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() < 1e-6,
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mart_dora_matches_a_recomputation_from_the_facts() {
    let ctx = crate::build::loaded_fixture_session().await;
    let mut weeks: BTreeMap<i64, Week> = BTreeMap::new();
    let deployments = "select date_part('epoch', finished_at), case when caused_incident then 1.0 else 0.0 end, \
        case when is_rework then 1.0 else 0.0 end from fct_deployments where is_success";
    for r in rows(&ctx, deployments).await {
        let w = weeks.entry(week_start(r[0].unwrap())).or_default();
        w.deployments += 1.0;
        w.failed += r[1].unwrap();
        w.rework += r[2].unwrap();
    }
    let leads = "select date_part('epoch', deployed_at), \
        (date_part('epoch', deployed_at) - date_part('epoch', least(coalesce(first_commit_at, created_at), created_at))) / 3600.0 \
        from fct_pull_requests where deployed_at is not null and deleted_at is null";
    for r in rows(&ctx, leads).await {
        weeks
            .entry(week_start(r[0].unwrap()))
            .or_default()
            .lead
            .push(r[1].unwrap());
    }
    let recoveries = "select date_part('epoch', resolved_at), date_part('epoch', opened_at) from fct_incidents where resolved_at is not null";
    for r in rows(&ctx, recoveries).await {
        let hours = (r[0].unwrap() - r[1].unwrap()) / HOUR_S;
        weeks
            .entry(week_start(r[0].unwrap()))
            .or_default()
            .recovery
            .push(hours);
    }
    assert!(!weeks.is_empty());

    let mart = "select date_part('epoch', period_start), cast(deployments as double), change_failure_rate, rework_rate, \
        lead_time_p50_h, lead_time_p75_h, lead_time_p90_h, recovery_time_p50_h \
        from mart_dora where grain = 'week' and scope_type = 'org' order by period_start";
    let mart = rows(&ctx, mart).await;
    assert_eq!(
        mart.len(),
        weeks.len(),
        "periods: {:?}",
        weeks.keys().collect::<Vec<_>>()
    );
    for (row, (day, week)) in mart.iter().zip(&weeks) {
        assert_eq!(week_start(row[0].unwrap()), *day);
        let rate = |n: f64| (week.deployments > 0.0).then(|| n / week.deployments);
        let expected = [
            Some(week.deployments),
            rate(week.failed),
            rate(week.rework),
            percentile(week.lead.clone(), 0.5),
            percentile(week.lead.clone(), 0.75),
            percentile(week.lead.clone(), 0.9),
            percentile(week.recovery.clone(), 0.5),
        ];
        for (i, e) in expected.iter().enumerate() {
            assert!(
                close(row[i + 1], *e),
                "week {day} column {}: mart {:?} vs recomputed {e:?}",
                i + 1,
                row[i + 1]
            );
        }
    }
}
