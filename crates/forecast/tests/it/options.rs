use chrono::{Datelike, Duration, Weekday};
use flowlake_forecast::{
    Calendar, Feature, FeaturesQuery, HowManyQuery, Method, Options, Risk, RiskImpact, ScopeGrowth,
    Warning, WhenQuery, how_many, when, when_features,
};

use crate::{after, day, history};

fn steady() -> flowlake_forecast::History {
    history(&[2, 3, 1, 2, 0, 4, 2, 1, 3, 2].repeat(9))
}

#[test]
fn non_working_days_produce_nothing_and_are_not_sampled() {
    // A weekday-only team: 5 items every weekday, nothing at weekends.
    let first = day("2026-01-05"); // Monday
    let counts: Vec<u64> = (0..70)
        .map(|i| {
            if (first + Duration::days(i)).weekday().number_from_monday() <= 5 {
                5
            } else {
                0
            }
        })
        .collect();
    let h = flowlake_forecast::History::from_counts(first, counts).unwrap();
    let start = after(&h); // a Monday
    assert_eq!(start.weekday(), Weekday::Mon);
    let holiday = start + Duration::days(2);
    let o = Options {
        method: Method::Exact,
        calendar: Calendar::weekdays().with_holidays([holiday]),
        ..Options::plain()
    };
    // 30 items = 6 working days: Mon, Tue, (Wed holiday), Thu, Fri, (weekend), Mon, Tue.
    let f = when(
        &h,
        &WhenQuery {
            start,
            items: 30,
            target: None,
        },
        &o,
    )
    .unwrap();
    assert!(
        f.percentiles
            .values()
            .all(|&d| d == start + Duration::days(8)),
        "{:?}",
        f.percentiles
    );
    // Every-day calendar would sample the weekend zeros instead.
    let every = Options {
        method: Method::Exact,
        ..Options::plain()
    };
    let g = when(
        &h,
        &WhenQuery {
            start,
            items: 30,
            target: None,
        },
        &every,
    )
    .unwrap();
    assert!(g.distribution.len() > 1);
    let m = how_many(
        &h,
        &HowManyQuery {
            start,
            end: start + Duration::days(13),
        },
        &o,
    )
    .unwrap();
    assert_eq!(m.working_days, 9);
    assert_eq!(m.percentiles[&95], 45);
}

#[test]
fn scope_growth_and_risks_push_dates_out() {
    let h = steady();
    let start = after(&h);
    let q = WhenQuery {
        start,
        items: 60,
        target: None,
    };
    let base = Options {
        trials: 4000,
        seed: 5,
        ..Options::plain()
    };
    let plain = when(&h, &q, &base).unwrap();
    let grown = when(
        &h,
        &q,
        &Options {
            scope_growth: Some(ScopeGrowth { lo: 0.2, hi: 0.4 }),
            ..base.clone()
        },
    )
    .unwrap();
    let delayed = when(
        &h,
        &q,
        &Options {
            risks: vec![Risk {
                name: "freeze".into(),
                likelihood: 1.0,
                impact: RiskImpact::DelayDays { lo: 10, hi: 10 },
            }],
            ..base.clone()
        },
    )
    .unwrap();
    let more = when(
        &h,
        &q,
        &Options {
            risks: vec![Risk {
                name: "audit".into(),
                likelihood: 1.0,
                impact: RiskImpact::Items { lo: 20, hi: 20 },
            }],
            ..base.clone()
        },
    )
    .unwrap();
    // A certain 10-day freeze shifts every date by exactly 10 days (same throughput draws).
    for l in flowlake_forecast::LEVELS {
        assert_eq!(
            delayed.percentiles[&l],
            plain.percentiles[&l] + Duration::days(10)
        );
        assert!(grown.percentiles[&l] > plain.percentiles[&l]);
        assert!(more.percentiles[&l] > plain.percentiles[&l]);
    }
    // +20 items for sure = asking for 80 items.
    let eighty = when(
        &h,
        &WhenQuery {
            items: 80,
            ..q.clone()
        },
        &base,
    )
    .unwrap();
    assert_eq!(more.distribution, eighty.distribution);
    // A delay also lowers how many get done.
    let hq = HowManyQuery {
        start,
        end: start + Duration::days(19),
    };
    let m = how_many(&h, &hq, &base).unwrap();
    let md = how_many(
        &h,
        &hq,
        &Options {
            risks: vec![Risk {
                name: "freeze".into(),
                likelihood: 1.0,
                impact: RiskImpact::DelayDays { lo: 10, hi: 10 },
            }],
            ..base.clone()
        },
    )
    .unwrap();
    assert!(md.percentiles[&50] < m.percentiles[&50]);
}

#[test]
fn target_likelihood_is_p_done_on_or_before() {
    let h = steady();
    let start = after(&h);
    let o = Options {
        method: Method::Exact,
        ..Options::plain()
    };
    let f = when(
        &h,
        &WhenQuery {
            start,
            items: 40,
            target: Some(start + Duration::days(20)),
        },
        &o,
    )
    .unwrap();
    let t = f.target.as_ref().unwrap();
    assert!((t.probability - f.probability_by(t.date)).abs() < 1e-12);
    assert!(f.probability_by(f.percentiles[&85]) >= 0.85 - 1e-9);
    assert!(f.probability_by(f.percentiles[&85] - Duration::days(1)) < 0.85);
    let json = serde_json::to_value(&f).unwrap();
    assert!(json["percentiles"]["85"].is_string(), "{json}");
}

#[test]
fn features_run_in_priority_order_within_wip() {
    let h = history(&[3; 60]);
    let start = after(&h);
    let features = vec![
        Feature {
            name: "login".into(),
            items: 6,
        },
        Feature {
            name: "search".into(),
            items: 9,
        },
        Feature {
            name: "export".into(),
            items: 3,
        },
    ];
    let o = Options {
        trials: 500,
        ..Options::plain()
    };
    let seq = when_features(
        &h,
        &FeaturesQuery {
            start,
            features: features.clone(),
            wip: 1,
            target: None,
        },
        &o,
    )
    .unwrap();
    let at = |f: &flowlake_forecast::FeatureForecast| (f.percentiles[&50] - start).num_days() + 1;
    // 3 a day, one at a time: login day 2, search day 5, export day 6.
    assert_eq!(seq.features.iter().map(at).collect::<Vec<_>>(), [2, 5, 6]);
    // Two at a time: login and search share the days (1.5 each, extra to login first) ...
    let par = when_features(
        &h,
        &FeaturesQuery {
            start,
            features,
            wip: 2,
            target: Some(start + Duration::days(5)),
        },
        &o,
    )
    .unwrap();
    let days: Vec<i64> = par.features.iter().map(at).collect();
    assert_eq!(days, [3, 6, 6]);
    // ... and the plan as a whole takes as long as working sequentially (no throughput lost).
    assert!(par.features[2].target.as_ref().unwrap().probability > 0.99);
}

#[test]
fn short_and_sparse_histories_warn() {
    let h = history(&[0, 1, 0, 0, 2, 0, 0, 0, 1, 0]);
    let f = when(
        &h,
        &WhenQuery {
            start: after(&h),
            items: 2,
            target: None,
        },
        &Options::plain(),
    )
    .unwrap();
    assert_eq!(
        f.warnings,
        [
            Warning::ShortHistory {
                days: 10,
                minimum: 20
            },
            Warning::FewNonZeroDays {
                non_zero_days: 3,
                minimum: 5
            }
        ]
    );
    assert!(f.warnings[0].to_string().contains("short history"));
    let ok = when(
        &steady(),
        &WhenQuery {
            start: after(&steady()),
            items: 2,
            target: None,
        },
        &Options::plain(),
    )
    .unwrap();
    assert!(ok.warnings.is_empty());
}

#[test]
fn the_window_defaults_to_the_last_90_days() {
    // 100 slow days then 90 fast ones: only the fast ones are sampled.
    let mut counts = vec![1; 100];
    counts.extend(vec![4; 90]);
    let h = history(&counts);
    let f = when(
        &h,
        &WhenQuery {
            start: after(&h),
            items: 40,
            target: None,
        },
        &Options::plain(),
    )
    .unwrap();
    assert_eq!(f.sample.calendar_days, 90);
    assert_eq!(f.sample.mean_per_working_day, 4.0);
    assert_eq!(f.percentiles[&95], after(&h) + Duration::days(9));
}
