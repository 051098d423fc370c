use chrono::{Datelike, Duration, NaiveDate, Weekday};
use flowlake_forecast::{
    BacktestKind, BacktestQuery, History, HowManyQuery, Method, Options, Warning, WhenQuery,
    WindowChoice, backtest, how_many, pool, when,
};
use flowlake_sim::throughput::{Scenario, scenario_history};
use rand::RngExt;

use crate::{after, cases, day};

fn exact(options: Options) -> Options {
    Options {
        method: Method::Exact,
        ..options
    }
}

/// Only the rule under test, on the plain model.
fn only(f: impl FnOnce(&mut Options)) -> Options {
    let mut o = exact(Options::plain());
    f(&mut o);
    o
}

fn next_14(h: &History) -> HowManyQuery {
    let start = after(h);
    HowManyQuery {
        start,
        end: start + Duration::days(13),
    }
}

/// Independent daily draws from `values`, `len` days from 2025-01-01.
fn iid(rng: &mut rand::rngs::StdRng, len: usize, values: &[u64]) -> Vec<u64> {
    (0..len)
        .map(|_| values[rng.random_range(0..values.len())])
        .collect()
}

#[test]
fn a_bulk_day_is_found_named_and_left_out_and_a_clean_history_has_none() {
    cases(20, |rng| {
        let mut counts = iid(rng, 120, &[0, 1, 2, 2, 3, 4, 6]);
        let h = History::from_counts(day("2025-01-01"), counts.clone()).unwrap();
        let o = only(|o| o.bulk = Options::default().bulk);
        let clean = how_many(&h, &next_14(&h), &o).unwrap();
        assert!(
            clean.sample.bulk_days.is_empty(),
            "{:?}",
            clean.sample.bulk_days
        );
        counts[100] = 400;
        let h = History::from_counts(day("2025-01-01"), counts).unwrap();
        let f = how_many(&h, &next_14(&h), &o).unwrap();
        let bulk_day = day("2025-01-01") + Duration::days(100);
        assert_eq!(f.sample.bulk_days.len(), 1);
        assert_eq!(f.sample.bulk_days[0].day, bulk_day);
        let warning = f
            .warnings
            .iter()
            .find(|w| matches!(w, Warning::BulkDaysExcluded { .. }))
            .expect("a bulk-day warning");
        assert!(
            warning.to_string().contains(&bulk_day.to_string()),
            "{warning}"
        );
        // Left out, not counted as a zero: one working day fewer than the clean history's
        // sample, the same mean within a day's worth.
        assert_eq!(f.sample.working_days + 1, clean.sample.working_days);
        for (l, x) in &f.percentiles {
            assert!(
                x.abs_diff(clean.percentiles[l]) <= 6,
                "p{l}: {x} vs {clean:?}"
            );
        }
        // Without the rule the clean-up day inflates every percentile.
        let plain = how_many(&h, &next_14(&h), &exact(Options::plain())).unwrap();
        assert!(plain.percentiles[&50] > f.percentiles[&50]);
    });
}

#[test]
fn a_step_change_is_located_within_a_week() {
    let o = only(|o| o.change_point = Options::default().change_point);
    let mut found = 0;
    let mut misses = Vec::new();
    cases(20, |rng| {
        let step = rng.random_range(150..250usize);
        let (before, after_step): (&[u64], &[u64]) = if rng.random_bool(0.5) {
            (&[2, 3, 4, 5, 6, 8], &[0, 0, 1, 1, 2])
        } else {
            (&[0, 1, 1, 2], &[3, 4, 5, 6, 7])
        };
        let mut counts = iid(rng, step, before);
        counts.extend(iid(rng, 300 - step, after_step));
        let h = History::from_counts(day("2025-01-01"), counts).unwrap();
        let f = how_many(&h, &next_14(&h), &o).unwrap();
        let truth = day("2025-01-01") + Duration::days(step as i64);
        let since = f.sample.regime_start.expect("a regime change");
        if (since - truth).num_days().abs() > 7 {
            // The test after the change is itself a test at alpha: a rare false alarm there
            // moves the start later.
            misses.push((truth, since));
            return;
        }
        if since > h.last_day() - Duration::days(89) {
            assert_eq!(f.sample.window_start, since);
            assert!(
                f.warnings
                    .iter()
                    .any(|w| matches!(w, Warning::RegimeChange { .. }))
            );
            found += 1;
        }
    });
    assert!(
        misses.len() <= 1,
        "changes missed by more than a week: {misses:?}"
    );
    assert!(found > 0, "some changes fall inside the 90-day window");
}

#[test]
fn a_stationary_history_finds_no_change_at_the_stated_false_alarm_rate() {
    // alpha = 0.01: over 300 stationary histories about 3 false alarms are expected;
    // more than 9 has probability below 0.001 (binomial), so the rate is as stated.
    let o = only(|o| o.change_point = Options::default().change_point);
    let alpha = o.change_point.unwrap().alpha;
    let mut alarms = 0;
    cases(300, |rng| {
        let counts = iid(rng, 365, &[0, 0, 1, 1, 2, 3, 5, 8]);
        let h = History::from_counts(day("2025-01-01"), counts).unwrap();
        if how_many(&h, &next_14(&h), &o)
            .unwrap()
            .sample
            .regime_start
            .is_some()
        {
            alarms += 1;
        }
    });
    assert!(alarms <= 9, "{alarms} false alarms in 300 at alpha {alpha}");
}

#[test]
fn weekday_only_work_is_detected_and_weekends_are_not_sampled() {
    let first = day("2025-01-06"); // a Monday
    let counts: Vec<u64> = (0..140)
        .map(|i| {
            let wd = (first + Duration::days(i)).weekday();
            if matches!(wd, Weekday::Sat | Weekday::Sun) {
                0
            } else {
                3
            }
        })
        .collect();
    let h = History::from_counts(first, counts.clone()).unwrap();
    let o = only(|o| o.weekdays = Options::default().weekdays);
    let f = how_many(&h, &next_14(&h), &o).unwrap();
    assert!(f.sample.weekdays_detected);
    // Weekdays from weekdays: every sampled day did 3, so 10 working days do exactly 30.
    assert_eq!(f.working_days, 10);
    assert!(
        f.percentiles.values().all(|&x| x == 30),
        "{:?}",
        f.percentiles
    );
    // One busy Saturday a month is not weekday-only work.
    let mut busy = counts;
    for i in (5..140).step_by(28) {
        busy[i] = 6;
    }
    let h = History::from_counts(first, busy).unwrap();
    assert!(
        !how_many(&h, &next_14(&h), &o)
            .unwrap()
            .sample
            .weekdays_detected
    );
}

#[test]
fn the_window_is_chosen_by_backtest_and_stated() {
    // A project that was twice as fast until 40 days ago: short windows backtest better.
    let mut counts = vec![8u64; 400];
    counts[360..].iter_mut().for_each(|c| *c = 2);
    let h = History::from_counts(day("2025-01-01"), counts).unwrap();
    let o = only(|o| o.auto_window = Options::default().auto_window);
    let f = how_many(&h, &next_14(&h), &o).unwrap();
    let WindowChoice::Auto { scores, .. } = &f.sample.window_choice else {
        panic!("{:?}", f.sample.window_choice);
    };
    assert_eq!(f.sample.window_days, 30, "{scores:?}");
    assert_eq!(f.percentiles[&50], 28);
    // Too little history to backtest keeps the fixed window.
    let short = History::from_counts(day("2025-01-01"), vec![1; 40]).unwrap();
    let f = how_many(&short, &next_14(&short), &o).unwrap();
    assert_eq!(f.sample.window_choice, WindowChoice::Fixed);
}

/// A history with good and bad months: independent daily draws under-state its spread, so
/// the plain model's percentiles hold too rarely.
fn moody(rng: &mut rand::rngs::StdRng, len: usize) -> History {
    let mut counts = Vec::with_capacity(len);
    while counts.len() < len {
        let rate = *[1u64, 3, 6].get(rng.random_range(0..3)).unwrap();
        for _ in 0..rng.random_range(20..40) {
            counts.push(rng.random_range(0..=2 * rate));
        }
    }
    counts.truncate(len);
    History::from_counts(day("2025-01-01"), counts).unwrap()
}

#[test]
fn the_track_record_is_the_backtest_of_the_same_question_at_past_origins() {
    cases(5, |rng| {
        let h = moody(rng, 500);
        let o = exact(Options::default());
        let f = when(
            &h,
            &WhenQuery {
                start: after(&h),
                items: 30,
                target: None,
            },
            &o,
        )
        .unwrap();
        let record = f.track_record.expect("a track record");
        assert_eq!(record.kind, BacktestKind::When { items: 30 });
        // The same origins backtested without calibration give the same hits.
        let b = backtest(
            &h,
            &BacktestQuery {
                kind: record.kind,
                step_days: 7,
                first_origin: Some(record.first_origin),
                confidence: 0.95,
            },
            &Options {
                track_record: None,
                calibrate: false,
                ..o
            },
        )
        .unwrap();
        let within: Vec<_> = b
            .observations
            .iter()
            .filter(|x| x.origin <= record.last_origin)
            .collect();
        for l in &record.levels {
            let held = within.iter().filter(|x| x.held[&l.level]).count();
            // The backtest judges an origin once its p95 date has passed, the track record
            // once its p99 date has: the track record can only have fewer origins.
            assert!(l.total <= within.len(), "{} > {}", l.total, within.len());
            assert!(l.held <= held + (within.len() - l.total), "p{}", l.level);
        }
    });
}

#[test]
fn calibration_changes_nothing_where_the_past_already_held_and_widens_where_it_did_not() {
    let mut unchanged = 0;
    let mut widened = 0;
    cases(30, |rng| {
        let h = if rng.random_bool(0.5) {
            History::from_counts(day("2025-01-01"), iid(rng, 400, &[0, 1, 2, 3, 5])).unwrap()
        } else {
            moody(rng, 400)
        };
        let q = next_14(&h);
        let plain = how_many(
            &h,
            &q,
            &Options {
                calibrate: false,
                ..exact(Options::plain())
            },
        )
        .unwrap();
        let o = Options {
            track_record: Options::default().track_record,
            calibrate: true,
            ..exact(Options::plain())
        };
        let f = how_many(&h, &q, &o).unwrap();
        let record = f.track_record.as_ref().expect("a track record");
        let c = f.calibration.as_ref().expect("calibration");
        let n = record.origins as f64;
        let tolerance = o.track_record.unwrap().tolerance;
        for l in &record.levels {
            let tau = f64::from(l.level) / 100.0;
            let lo = (((n + 1.0) * tau).ceil()).min(n) as usize;
            let hi = ((n * (tau + tolerance)).floor() as usize).max(lo);
            if (lo..=hi).contains(&l.held) && c.levels.range(..l.level).all(|(_, &x)| x <= tau) {
                // Already calibrated: exactly the plain model's answer.
                assert_eq!(c.levels[&l.level], tau);
                assert_eq!(f.percentiles[&l.level], plain.percentiles[&l.level]);
                unchanged += 1;
            } else if l.held < lo {
                // Held too rarely: "at least" counts can only go down (wider).
                assert!(c.levels[&l.level] > tau);
                assert!(f.percentiles[&l.level] <= plain.percentiles[&l.level]);
                if f.percentiles[&l.level] < plain.percentiles[&l.level] {
                    widened += 1;
                }
            }
        }
        if !c.changed() {
            assert_eq!(f.percentiles, plain.percentiles);
            assert!(f.uncalibrated.is_none());
        } else {
            assert_eq!(f.uncalibrated.as_ref(), Some(&plain.percentiles));
        }
    });
    assert!(
        unchanged > 10 && widened > 3,
        "{unchanged} unchanged, {widened} widened"
    );
}

fn scenario(s: Scenario, seed: u64) -> History {
    History::new(
        scenario_history(s, seed)
            .into_iter()
            .map(|(d, n)| (d, i64::from(n))),
    )
    .unwrap()
}

/// Pooled p85 coverage and each scenario's, over `seeds` histories of every scenario.
fn suite(kind: BacktestKind, seeds: u64, options: &Options) -> (f64, Vec<(Scenario, f64)>) {
    let query = BacktestQuery {
        kind,
        step_days: 7,
        first_origin: None,
        confidence: 0.95,
    };
    let mut all = Vec::new();
    let mut per = Vec::new();
    for s in Scenario::ALL {
        let parts: Vec<_> = (0..seeds)
            .map(|seed| backtest(&scenario(s, seed), &query, options).unwrap())
            .collect();
        per.push((s, p85(&pool(&parts, 0.95).unwrap())));
        all.extend(parts);
    }
    (p85(&pool(&all, 0.95).unwrap()), per)
}

fn p85(b: &flowlake_forecast::Backtest) -> f64 {
    b.levels.iter().find(|l| l.level == 85).unwrap().rate
}

#[test]
fn the_defaults_hold_p85_on_pathological_histories_and_the_plain_model_does_not() {
    // `make bench` runs the full study (8 seeds, every option alone); this is its bounded
    // part: 4 seeds of every scenario, both questions, exact mode.
    let defaults = exact(Options::default());
    let plain = exact(Options::plain());
    for kind in [
        BacktestKind::HowMany { horizon_days: 14 },
        BacktestKind::When { items: 20 },
    ] {
        let (pooled, per) = suite(kind, 4, &defaults);
        assert!(
            (0.80..=0.90).contains(&pooled),
            "{kind:?}: pooled {pooled} {per:?}"
        );
        for (s, r) in &per {
            assert!(*r >= 0.75, "{kind:?}: {s} held {r}");
        }
        let (plain_pooled, _) = suite(kind, 4, &plain);
        assert!(plain_pooled < 0.80, "{kind:?}: plain {plain_pooled}");
    }
}

#[test]
fn scenario_days_are_dense_and_end_before_the_session_date() {
    let h = scenario(Scenario::Mix, 1);
    assert_eq!(h.last_day(), NaiveDate::from_ymd_opt(2026, 11, 29).unwrap());
}
