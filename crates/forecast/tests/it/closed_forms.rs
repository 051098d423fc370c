use chrono::Duration;
use flowlake_forecast::{
    HowManyQuery, Method, Options, Risk, RiskImpact, WhenQuery, how_many, when,
};
use rand::RngExt;
use statrs::distribution::{Binomial, DiscreteCDF, NegativeBinomial};

use crate::{after, cases, day, dkw, history, random_history};

fn exact() -> Options {
    Options {
        method: Method::Exact,
        ..Options::plain()
    }
}

#[test]
fn constant_history_takes_exactly_n_over_c_days() {
    cases(12, |rng| {
        let c = rng.random_range(1..6u64);
        let n = rng.random_range(1..300i64);
        let h = history(&vec![c; 60]);
        let start = after(&h);
        let expected = start + Duration::days(((n as u64).div_ceil(c)) as i64 - 1);
        for options in [
            exact(),
            Options {
                trials: 3000,
                seed: n as u64,
                ..Options::plain()
            },
        ] {
            let f = when(
                &h,
                &WhenQuery {
                    start,
                    items: n,
                    target: None,
                },
                &options,
            )
            .unwrap();
            assert!(
                f.percentiles.values().all(|&d| d == expected),
                "c={c} n={n}: {:?}",
                f.percentiles
            );
            assert_eq!(f.distribution.len(), 1);
        }
    });
}

#[test]
fn bernoulli_history_matches_binomial_and_negative_binomial() {
    let trials = 20_000;
    let eps = dkw(trials, 0.001);
    cases(4, |rng| {
        let h = random_history(rng, 90, &[0, 1, 1, 0, 1]);
        let p = h.counts().iter().sum::<u64>() as f64 / 90.0;
        let start = after(&h);
        let options = Options {
            trials,
            seed: 7,
            ..Options::plain()
        };

        // How many in d days ~ Binomial(d, p).
        let d = rng.random_range(5..40u64);
        let end = start + Duration::days(d as i64 - 1);
        let binom = Binomial::new(p, d).unwrap();
        let sim = how_many(&h, &HowManyQuery { start, end }, &options).unwrap();
        let ex = how_many(&h, &HowManyQuery { start, end }, &exact()).unwrap();
        let (mut cs, mut ce) = (0.0, 0.0);
        for x in 0..=d {
            cs += sim.distribution.get(&x).copied().unwrap_or(0.0);
            ce += ex.distribution.get(&x).copied().unwrap_or(0.0);
            assert!(
                (cs - binom.cdf(x)).abs() <= eps,
                "how many: x={x} sim {cs} vs {}",
                binom.cdf(x)
            );
            assert!((ce - binom.cdf(x)).abs() <= 1e-9, "exact how many: x={x}");
        }

        // Days to N successes = N + failures, failures ~ NegativeBinomial(N, p).
        let n = rng.random_range(1..30u64);
        let nb = NegativeBinomial::new(n as f64, p).unwrap();
        let q = WhenQuery {
            start,
            items: n as i64,
            target: None,
        };
        let sim = when(&h, &q, &options).unwrap();
        let ex = when(&h, &q, &exact()).unwrap();
        for k in n..n + 150 {
            let by = start + Duration::days(k as i64 - 1);
            let truth = nb.cdf(k - n);
            assert!((sim.probability_by(by) - truth).abs() <= eps, "when: k={k}");
            assert!(
                (ex.probability_by(by) - truth).abs() <= 1e-9,
                "exact when: k={k}"
            );
        }
    });
}

#[test]
fn when_and_how_many_agree() {
    cases(8, |rng| {
        let h = random_history(rng, 60, &[0, 0, 1, 2, 3, 7]);
        let start = after(&h);
        let n = rng.random_range(1..80i64);
        let calendars = [
            flowlake_forecast::Calendar::every_day(),
            flowlake_forecast::Calendar::weekdays().with_holidays([start + Duration::days(3)]),
        ];
        for calendar in calendars {
            let options = Options {
                calendar,
                ..exact()
            };
            let w = when(
                &h,
                &WhenQuery {
                    start,
                    items: n,
                    target: None,
                },
                &options,
            )
            .unwrap();
            for d in 1..60 {
                let end = start + Duration::days(d - 1);
                let m = how_many(&h, &HowManyQuery { start, end }, &options).unwrap();
                let (a, b) = (w.probability_by(end), m.probability_at_least(n as u64));
                assert!((a - b).abs() < 1e-9, "n={n} d={d}: {a} vs {b}");
            }
        }
    });
}

#[test]
fn percentiles_are_ordered_and_monotone_in_items_and_throughput() {
    cases(10, |rng| {
        let h = random_history(rng, 90, &[0, 0, 1, 1, 2, 4, 9]);
        let start = after(&h);
        // More throughput: every day at least as many items, some more.
        let better = history(
            &h.counts()
                .iter()
                .map(|&c| c + u64::from(rng.random_range(0..3u8) == 0))
                .collect::<Vec<_>>(),
        );
        let n = rng.random_range(1..150i64);
        let end = start + Duration::days(rng.random_range(1..60));
        for options in [
            exact(),
            Options {
                trials: 2000,
                seed: 3,
                ..Options::plain()
            },
        ] {
            let q = |items| WhenQuery {
                start,
                items,
                target: None,
            };
            let base = when(&h, &q(n), &options).unwrap();
            let more = when(&h, &q(n + 5), &options).unwrap();
            let faster = when(&better, &q(n), &options).unwrap();
            let p: Vec<_> = base.percentiles.values().collect();
            assert!(p.windows(2).all(|w| w[0] <= w[1]), "{p:?}");
            for l in flowlake_forecast::LEVELS {
                assert!(
                    base.percentiles[&l] <= more.percentiles[&l],
                    "more items, earlier p{l}"
                );
                assert!(
                    faster.percentiles[&l] <= base.percentiles[&l],
                    "more throughput, later p{l}"
                );
            }
            let m = how_many(&h, &HowManyQuery { start, end }, &options).unwrap();
            let mf = how_many(&better, &HowManyQuery { start, end }, &options).unwrap();
            let c: Vec<_> = m.percentiles.values().collect();
            assert!(
                c.windows(2).all(|w| w[0] >= w[1]),
                "higher level, fewer items: {c:?}"
            );
            for l in flowlake_forecast::LEVELS {
                assert!(
                    mf.percentiles[&l] >= m.percentiles[&l],
                    "more throughput, fewer p{l}"
                );
            }
        }
    });
}

#[test]
fn a_risk_with_likelihood_zero_changes_nothing() {
    let h = history(&[
        0, 3, 1, 0, 2, 5, 0, 1, 1, 2, 0, 4, 1, 1, 0, 2, 3, 0, 1, 2, 2, 0,
    ]);
    let start = after(&h);
    let plain = Options {
        trials: 5000,
        seed: 11,
        ..Options::plain()
    };
    let risky = Options {
        risks: vec![
            Risk {
                name: "vendor".into(),
                likelihood: 0.0,
                impact: RiskImpact::Items { lo: 5, hi: 50 },
            },
            Risk {
                name: "outage".into(),
                likelihood: 0.0,
                impact: RiskImpact::DelayDays { lo: 2, hi: 9 },
            },
        ],
        ..plain.clone()
    };
    let q = WhenQuery {
        start,
        items: 40,
        target: Some(day("2026-02-20")),
    };
    assert_eq!(when(&h, &q, &plain).unwrap(), when(&h, &q, &risky).unwrap());
    let q = HowManyQuery {
        start,
        end: start + Duration::days(20),
    };
    assert_eq!(
        how_many(&h, &q, &plain).unwrap(),
        how_many(&h, &q, &risky).unwrap()
    );
}
