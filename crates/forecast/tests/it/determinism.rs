use chrono::Duration;
use flowlake_forecast::{
    Calendar, Feature, FeaturesQuery, HowManyQuery, Options, Risk, RiskImpact, ScopeGrowth,
    WhenQuery, how_many, when, when_features,
};

use crate::{after, history};

#[test]
fn same_seed_same_result_with_1_2_and_4_threads() {
    let h = history(&[
        0, 3, 1, 0, 2, 5, 0, 1, 1, 2, 0, 4, 1, 1, 0, 2, 3, 0, 1, 2, 2, 0, 1, 1,
    ]);
    let start = after(&h);
    let base = Options {
        trials: 10_000, // five chunks, unevenly spread over 2 and 4 threads
        seed: 42,
        calendar: Calendar::weekdays(),
        scope_growth: Some(ScopeGrowth { lo: 0.1, hi: 0.4 }),
        risks: vec![
            Risk {
                name: "rework".into(),
                likelihood: 0.3,
                impact: RiskImpact::Items { lo: 3, hi: 10 },
            },
            Risk {
                name: "freeze".into(),
                likelihood: 0.2,
                impact: RiskImpact::DelayDays { lo: 1, hi: 5 },
            },
        ],
        ..Options::plain()
    };
    let run = |threads: usize| {
        let o = Options {
            threads: Some(threads),
            ..base.clone()
        };
        (
            when(
                &h,
                &WhenQuery {
                    start,
                    items: 50,
                    target: Some(start + Duration::days(40)),
                },
                &o,
            )
            .unwrap(),
            how_many(
                &h,
                &HowManyQuery {
                    start,
                    end: start + Duration::days(30),
                },
                &o,
            )
            .unwrap(),
            when_features(
                &h,
                &FeaturesQuery {
                    start,
                    features: vec![
                        Feature {
                            name: "a".into(),
                            items: 10,
                        },
                        Feature {
                            name: "b".into(),
                            items: 20,
                        },
                        Feature {
                            name: "c".into(),
                            items: 5,
                        },
                    ],
                    wip: 2,
                    target: None,
                },
                &o,
            )
            .unwrap(),
        )
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(4));
    // And a different seed does give a different sample.
    let other = Options {
        seed: 43,
        threads: Some(1),
        ..base.clone()
    };
    let w = when(
        &h,
        &WhenQuery {
            start,
            items: 50,
            target: None,
        },
        &other,
    )
    .unwrap();
    assert_ne!(one.0.distribution, w.distribution);
}
