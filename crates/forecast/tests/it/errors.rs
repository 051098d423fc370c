use flowlake_forecast::{
    Error, Feature, FeaturesQuery, History, HowManyQuery, Method, Options, Risk, RiskImpact,
    ScopeGrowth, WhenQuery, how_many, when, when_features,
};

use crate::{after, day, history};

fn csv_err(csv: &str) -> (Error, String) {
    let e = History::from_csv_str(csv).unwrap_err();
    let msg = e.to_string();
    (e, msg)
}

#[test]
fn csv_errors_name_the_line_and_the_problem() {
    let (e, m) = csv_err("day,items_done\n2026-01-01,1\n2026-01-02\n");
    assert!(matches!(e, Error::CsvMalformed { line: 3, .. }), "{e:?}");
    assert!(m.contains("line 3") && m.contains("malformed"), "{m}");

    let (e, m) = csv_err("day,items_done\n2026-01-01,1\n2026-01-02,2,3\n");
    assert!(matches!(e, Error::CsvMalformed { line: 3, .. }), "{m}");

    let (e, m) = csv_err("day,items_done\n2026-13-01,1\n");
    assert!(matches!(e, Error::CsvBadDate { line: 2, .. }), "{e:?}");
    assert!(
        m.contains("line 2") && m.contains("bad date") && m.contains("2026-13-01"),
        "{m}"
    );

    let (e, m) = csv_err("day,items_done\n2026-01-01,1\n2026-01-02,-4\n");
    assert!(
        matches!(e, Error::CsvNegativeCount { line: 3, count: -4 }),
        "{e:?}"
    );
    assert!(m.contains("line 3") && m.contains("negative"), "{m}");

    let (e, m) = csv_err("day,items_done\n2026-01-01,1\n2026-01-02,two\n");
    assert!(matches!(e, Error::CsvBadCount { line: 3, .. }), "{e:?}");
    assert!(m.contains("line 3") && m.contains("\"two\""), "{m}");

    let (e, m) = csv_err("day,items_done\n2026-01-05,1\n2026-01-06,1\n2026-01-02,1\n");
    assert!(
        matches!(e, Error::CsvDateOutOfOrder { line: 4, .. }),
        "{e:?}"
    );
    assert!(m.contains("line 4") && m.contains("out of order"), "{m}");

    let (e, m) = csv_err("day,items_done\n2026-01-05,1\n2026-01-05,1\n");
    assert!(
        matches!(e, Error::CsvDuplicateDate { line: 3, .. }),
        "{e:?}"
    );
    assert!(m.contains("line 3") && m.contains("duplicate"), "{m}");

    let (e, m) = csv_err("date,count\n2026-01-05,1\n");
    assert!(matches!(e, Error::CsvHeader { .. }), "{e:?}");
    assert!(m.contains("line 1") && m.contains("day,items_done"), "{m}");

    let (e, _) = csv_err("day,items_done\n");
    assert!(matches!(e, Error::CsvEmpty), "{e:?}");
    let (e, _) = csv_err("");
    assert!(matches!(e, Error::CsvHeader { .. }), "{e:?}");
}

#[test]
fn history_errors() {
    let e = History::new(Vec::<(chrono::NaiveDate, i64)>::new()).unwrap_err();
    assert!(matches!(e, Error::EmptyHistory), "{e:?}");
    let e = History::new([(day("2026-01-01"), 1), (day("2026-01-02"), -1)]).unwrap_err();
    assert!(matches!(e, Error::NegativeCount { count: -1, .. }), "{e:?}");
    assert!(e.to_string().contains("2026-01-02"));
    let e = History::new([(day("2026-01-02"), 1), (day("2026-01-01"), 1)]).unwrap_err();
    assert!(matches!(e, Error::DateOutOfOrder { .. }), "{e:?}");
    let e = History::new([(day("2026-01-02"), 1), (day("2026-01-02"), 1)]).unwrap_err();
    assert!(matches!(e, Error::DuplicateDate { .. }), "{e:?}");
    assert!(matches!(
        History::from_counts(day("2026-01-01"), vec![]),
        Err(Error::EmptyHistory)
    ));
}

#[test]
fn query_errors_name_the_option() {
    let h = history(&[1, 0, 2, 0, 1]);
    let start = after(&h);
    let o = Options::default();
    for items in [0, -3] {
        let e = when(
            &h,
            &WhenQuery {
                start,
                items,
                target: None,
            },
            &o,
        )
        .unwrap_err();
        assert!(matches!(e, Error::InvalidItems { .. }), "{e:?}");
        assert!(e.to_string().starts_with("items:"), "{e}");
    }
    let e = when(
        &h,
        &WhenQuery {
            start,
            items: 3,
            target: Some(day("2025-12-01")),
        },
        &o,
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            Error::TargetBeforeStart {
                field: "target",
                ..
            }
        ),
        "{e:?}"
    );
    let e = how_many(
        &h,
        &HowManyQuery {
            start,
            end: start.pred_opt().unwrap(),
        },
        &o,
    )
    .unwrap_err();
    assert!(
        matches!(e, Error::TargetBeforeStart { field: "end", .. }),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("end:"), "{e}");

    let bad = Options {
        risks: vec![Risk {
            name: "r".into(),
            likelihood: 1.5,
            impact: RiskImpact::Items { lo: 1, hi: 2 },
        }],
        ..o.clone()
    };
    let e = when(
        &h,
        &WhenQuery {
            start,
            items: 3,
            target: None,
        },
        &bad,
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("risks[0].likelihood:"), "{e}");
    let bad = Options {
        scope_growth: Some(ScopeGrowth { lo: 0.5, hi: 0.1 }),
        ..o.clone()
    };
    let e = when(
        &h,
        &WhenQuery {
            start,
            items: 3,
            target: None,
        },
        &bad,
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("scope_growth:"), "{e}");
    let bad = Options {
        trials: 0,
        ..o.clone()
    };
    assert!(
        when(
            &h,
            &WhenQuery {
                start,
                items: 3,
                target: None
            },
            &bad
        )
        .unwrap_err()
        .to_string()
        .starts_with("trials:")
    );

    let fq = |wip, features| FeaturesQuery {
        start,
        features,
        wip,
        target: None,
    };
    let e = when_features(&h, &fq(1, vec![]), &o).unwrap_err();
    assert!(matches!(e, Error::NoFeatures), "{e:?}");
    let e = when_features(
        &h,
        &fq(
            0,
            vec![Feature {
                name: "a".into(),
                items: 1,
            }],
        ),
        &o,
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("wip:"), "{e}");
    let e = when_features(
        &h,
        &fq(
            1,
            vec![
                Feature {
                    name: "a".into(),
                    items: 1,
                },
                Feature {
                    name: "b".into(),
                    items: 0,
                },
            ],
        ),
        &o,
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("features[1].items:"), "{e}");
}

#[test]
fn all_zero_history_is_an_error_not_an_endless_loop() {
    let h = history(&[0; 40]);
    let start = after(&h);
    for method in [Method::Simulate, Method::Exact] {
        let o = Options {
            method,
            ..Options::default()
        };
        let e = when(
            &h,
            &WhenQuery {
                start,
                items: 5,
                target: None,
            },
            &o,
        )
        .unwrap_err();
        assert!(matches!(e, Error::AllZeroHistory { .. }), "{e:?}");
        assert!(e.to_string().contains("all-zero"), "{e}");
    }
    // Non-zero days only outside the window: still all-zero where it samples.
    let mut counts = vec![3; 10];
    counts.extend([0; 90]);
    let e = when(
        &history(&counts),
        &WhenQuery {
            start: day("2026-06-01"),
            items: 5,
            target: None,
        },
        &Options::default(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::AllZeroHistory { .. }), "{e:?}");
}

#[test]
fn the_horizon_is_bounded() {
    // One item in 90 days: 1000 items take ~250 years.
    let mut counts = vec![0; 89];
    counts.push(1);
    let h = history(&counts);
    for method in [Method::Simulate, Method::Exact] {
        let o = Options {
            method,
            trials: 100,
            ..Options::default()
        };
        let e = when(
            &h,
            &WhenQuery {
                start: after(&h),
                items: 1000,
                target: None,
            },
            &o,
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                Error::NotDoneWithinHorizon {
                    horizon_days: 3653,
                    ..
                }
            ),
            "{e:?}"
        );
    }
}

#[test]
fn no_history_before_start() {
    let h = history(&[1, 2, 3]);
    let e = when(
        &h,
        &WhenQuery {
            start: day("2026-01-01"),
            items: 5,
            target: None,
        },
        &Options::default(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::NoHistoryBeforeStart { .. }), "{e:?}");
}

#[test]
fn exact_mode_refuses_what_it_cannot_do() {
    let h = history(&[1, 0, 2, 0, 1]);
    let start = after(&h);
    let q = WhenQuery {
        start,
        items: 3,
        target: None,
    };
    let exact = Options {
        method: Method::Exact,
        ..Options::default()
    };
    let with_risk = Options {
        risks: vec![Risk {
            name: "r".into(),
            likelihood: 0.5,
            impact: RiskImpact::DelayDays { lo: 1, hi: 2 },
        }],
        ..exact.clone()
    };
    assert!(matches!(
        when(&h, &q, &with_risk),
        Err(Error::ExactUnsupported { option: "risks" })
    ));
    let with_growth = Options {
        scope_growth: Some(ScopeGrowth { lo: 0.0, hi: 0.2 }),
        ..exact.clone()
    };
    assert!(matches!(
        when(&h, &q, &with_growth),
        Err(Error::ExactUnsupported {
            option: "scope_growth"
        })
    ));
    let fq = FeaturesQuery {
        start,
        features: vec![Feature {
            name: "a".into(),
            items: 1,
        }],
        wip: 1,
        target: None,
    };
    let e = when_features(&h, &fq, &exact).unwrap_err();
    assert!(matches!(e, Error::ExactUnsupported { .. }), "{e:?}");
    assert!(e.to_string().contains("exact mode does not support"));
}
