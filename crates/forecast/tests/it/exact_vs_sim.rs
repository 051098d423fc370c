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

#[test]
fn simulation_agrees_with_exact_mode() {
    let trials = 20_000;
    let eps = dkw(trials, 0.001);
    for (i, (name, counts)) in histories().into_iter().enumerate() {
        let h = history(&counts);
        let start = after(&h);
        let calendar = if i % 3 == 0 {
            Calendar::weekdays()
        } else {
            Calendar::every_day()
        };
        let window_days = if name == "long window" { 365 } else { 90 };
        let sim = Options {
            trials,
            seed: i as u64,
            calendar,
            window_days,
            ..Options::default()
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
        for l in flowlake_forecast::LEVELS {
            let gap = (ws.percentiles[&l] - we.percentiles[&l]).num_days().abs();
            assert!(
                gap <= 1,
                "{name}: p{l} sim {} exact {}",
                ws.percentiles[&l],
                we.percentiles[&l]
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
        for l in flowlake_forecast::LEVELS {
            let gap = ms.percentiles[&l].abs_diff(me.percentiles[&l]);
            assert!(
                gap <= 1,
                "{name}: how-many p{l} sim {} exact {}",
                ms.percentiles[&l],
                me.percentiles[&l]
            );
        }
        for &x in me.distribution.keys() {
            let diff = (ms.probability_at_least(x) - me.probability_at_least(x)).abs();
            assert!(diff <= eps, "{name}: P(>= {x}) differs by {diff}");
        }
    }
}
