use chrono::Duration;
use flowlake_forecast::{Calendar, HowManyQuery, Method, Options, WhenQuery, how_many, when};

use crate::{after, dkw, history};

/// A dozen shapes: steady, lumpy, bursty, mostly-zero, trending, with a calendar or not.
fn histories() -> Vec<(&'static str, Vec<u64>)> {
    let cycle = |pattern: &[u64], len: usize| {
        pattern
            .iter()
            .copied()
            .cycle()
            .take(len)
            .collect::<Vec<_>>()
    };
    vec![
        ("steady", cycle(&[2, 3, 2, 3, 2], 90)),
        ("lumpy", cycle(&[0, 0, 5, 1, 0, 8, 2], 90)),
        ("bursty", cycle(&[0, 0, 0, 0, 0, 0, 14, 0, 1], 90)),
        (
            "mostly zero",
            cycle(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 2], 90),
        ),
        ("trending", (0..90).map(|i| (i / 15) as u64).collect()),
        (
            "one big day",
            cycle(&[1, 0, 1, 1, 0, 1, 30, 1, 0, 1, 1, 0, 1, 1, 0], 90),
        ),
        ("weekly releases", cycle(&[0, 0, 0, 0, 9, 0, 0], 90)),
        ("short", vec![1, 0, 2, 0, 0, 3, 1, 0, 1, 2]),
        (
            "long window",
            cycle(&[1, 2, 0, 4, 0, 1, 3, 0, 0, 2, 6, 1, 0], 400),
        ),
        ("busy", cycle(&[12, 9, 15, 7, 11, 20, 8], 90)),
        (
            "zeros and ones",
            cycle(&[0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0], 90),
        ),
        (
            "heavy tail",
            cycle(&[0, 1, 0, 2, 0, 1, 0, 0, 45, 0, 1, 3, 0, 1], 90),
        ),
    ]
}

/// The plain model, each robustness rule alone, and all of them (the default): every rule
/// acts on the sample or on the reported levels, so exact mode supports them all.
fn option_sets() -> Vec<(&'static str, Options)> {
    let all = Options::default();
    let plain = Options::plain();
    vec![
        ("plain", plain.clone()),
        (
            "bulk",
            Options {
                bulk: all.bulk,
                ..plain.clone()
            },
        ),
        (
            "change point",
            Options {
                change_point: all.change_point,
                ..plain.clone()
            },
        ),
        (
            "weekdays",
            Options {
                weekdays: all.weekdays,
                ..plain.clone()
            },
        ),
        (
            "auto window",
            Options {
                auto_window: all.auto_window.clone(),
                ..plain.clone()
            },
        ),
        (
            "calibrated",
            Options {
                track_record: all.track_record,
                calibrate: true,
                ..plain
            },
        ),
        ("all", all),
    ]
}

#[test]
fn simulation_agrees_with_exact_mode() {
    for (set, base) in option_sets() {
        let calibrated = agree(set, &base);
        // The comparison covers calibrated percentiles, not only the raw model.
        assert_eq!(
            calibrated > 0,
            base.calibrate,
            "{set}: {calibrated} calibrated"
        );
    }
}

/// Checks every history under `base`; returns how many forecasts calibration moved.
fn agree(set: &str, base: &Options) -> usize {
    let mut calibrated = 0;
    let trials = 20_000;
    let eps = dkw(trials, 0.001);
    for (i, (name, counts)) in histories().into_iter().enumerate() {
        let name = format!("{set}/{name}");
        let h = history(&counts);
        let start = after(&h);
        let calendar = if i % 3 == 0 {
            Calendar::weekdays()
        } else {
            Calendar::every_day()
        };
        let window_days = if name.ends_with("long window") {
            365
        } else {
            90
        };
        let sim = Options {
            trials,
            seed: i as u64,
            calendar,
            window_days,
            ..base.clone()
        };
        let exact = Options {
            method: Method::Exact,
            ..sim.clone()
        };

        let q = WhenQuery {
            start,
            items: 60,
            target: None,
        };
        let (ws, we) = (when(&h, &q, &sim).unwrap(), when(&h, &q, &exact).unwrap());
        // The same sample and the same track record (past forecasts are computed exactly).
        assert_eq!(ws.sample, we.sample, "{name}");
        assert_eq!(ws.calibration, we.calibration, "{name}");
        assert_eq!(ws.track_record, we.track_record, "{name}");
        for l in flowlake_forecast::LEVELS {
            // The simulated percentile is where the exact CDF crosses the (possibly
            // calibrated) level, up to the simulation's DKW band.
            let level = we
                .calibration
                .as_ref()
                .map_or(f64::from(l) / 100.0, |c| c.levels[&l]);
            let d = ws.percentiles[&l];
            let before = we.probability_by(d.pred_opt().unwrap());
            assert!(
                we.probability_by(d) >= level - eps && before < level + eps,
                "{name}: p{l} sim {d} exact {} (level {level})",
                we.percentiles[&l],
            );
        }
        for d in we.distribution.keys() {
            let diff = (ws.probability_by(*d) - we.probability_by(*d)).abs();
            assert!(diff <= eps, "{name}: CDF at {d} differs by {diff}");
        }

        let q = HowManyQuery {
            start,
            end: start + Duration::days(29),
        };
        let (ms, me) = (
            how_many(&h, &q, &sim).unwrap(),
            how_many(&h, &q, &exact).unwrap(),
        );
        assert_eq!(ms.calibration, me.calibration, "{name}");
        calibrated += [&we.calibration, &me.calibration]
            .iter()
            .filter(|c| c.as_ref().is_some_and(|c| c.changed()))
            .count();
        for l in flowlake_forecast::LEVELS {
            let level = me
                .calibration
                .as_ref()
                .map_or(f64::from(l) / 100.0, |c| c.levels[&l]);
            let x = ms.percentiles[&l];
            assert!(
                me.probability_at_least(x) >= level - eps
                    && me.probability_at_least(x + 1) < level + eps,
                "{name}: how-many p{l} sim {x} exact {} (level {level})",
                me.percentiles[&l]
            );
        }
        for &x in me.distribution.keys() {
            let diff = (ms.probability_at_least(x) - me.probability_at_least(x)).abs();
            assert!(diff <= eps, "{name}: P(>= {x}) differs by {diff}");
        }
    }
    calibrated
}
