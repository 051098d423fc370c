//! Daily-throughput histories with the pathologies of real trackers, for forecast backtests.
//!
//! The simulated org's Jira projects close work at a steady rhythm; real projects do not.
//! Each [`Scenario`] reproduces one thing real trackers do that a plain Monte Carlo forecast
//! mis-reads: bulk clean-ups (hundreds of issues closed on one day), regime changes (a team
//! winding down or ramping up), slow drift, sparse small teams, weekday-only work and holiday
//! gaps, and a mix of them all. Every scenario also has what every real team has: good and bad
//! weeks (an autocorrelated weekly rate) and over-dispersed days (items close in batches), so
//! that no scenario is as kind as independent daily draws.
//!
//! Histories are deterministic in `(scenario, seed)`: `flowlake sim throughput --scenario
//! NAME --seed N` prints the same CSV every time.
//!
//! ```
//! use flowlake_sim::throughput::{Scenario, scenario_history};
//!
//! let h = scenario_history(Scenario::Bulk, 7);
//! assert_eq!(h.len(), 730);
//! assert!(h.iter().map(|&(_, n)| n).max().unwrap() >= 80); // a clean-up day
//! ```

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rand::distr::Distribution;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use statrs::distribution::{Gamma, Poisson};

/// Days of history a scenario generates (two years).
pub const SCENARIO_DAYS: usize = 730;

/// One kind of real-world throughput history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// A stable team: about three items a working day, quieter weekends, good and bad weeks.
    Steady,
    /// Steady, plus four to eight clean-up days that each close 80 to 1,000 items at once.
    Bulk,
    /// The team winds down: from a random day in the middle year its rate falls to a quarter.
    StepDown,
    /// The team ramps up: from a random day in the middle year its rate triples.
    StepUp,
    /// The rate drifts slowly over the two years (up or down, by seed) by a factor of three.
    Drift,
    /// A small team: a quarter of an item a day, most days nothing.
    Sparse,
    /// Nothing is ever done on a Saturday or a Sunday.
    Weekdays,
    /// Steady, but nothing is done over the year-end holidays and in one summer fortnight.
    Holidays,
    /// Weekday-only work with drift, a step change, clean-ups and holidays together.
    Mix,
}

impl Scenario {
    /// Every scenario, in a fixed order.
    pub const ALL: [Scenario; 9] = [
        Scenario::Steady,
        Scenario::Bulk,
        Scenario::StepDown,
        Scenario::StepUp,
        Scenario::Drift,
        Scenario::Sparse,
        Scenario::Weekdays,
        Scenario::Holidays,
        Scenario::Mix,
    ];

    /// The name used on the command line (`step-down`, …).
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Steady => "steady",
            Scenario::Bulk => "bulk",
            Scenario::StepDown => "step-down",
            Scenario::StepUp => "step-up",
            Scenario::Drift => "drift",
            Scenario::Sparse => "sparse",
            Scenario::Weekdays => "weekdays",
            Scenario::Holidays => "holidays",
            Scenario::Mix => "mix",
        }
    }
}

impl std::str::FromStr for Scenario {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scenario::ALL
            .into_iter()
            .find(|x| x.name() == s.trim())
            .ok_or_else(|| {
                let names: Vec<_> = Scenario::ALL.iter().map(|x| x.name()).collect();
                format!("unknown scenario `{s}`; one of: {}", names.join(", "))
            })
    }
}

impl std::fmt::Display for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The knobs a scenario sets; [`scenario_history`] draws the days from them.
struct Shape {
    /// Items per working day at the start.
    base: f64,
    /// Weekend rate as a share of a weekday's.
    weekend: f64,
    /// `(from day, factor)`: the rate is multiplied by `factor` from that day on.
    step: Option<(usize, f64)>,
    /// The rate's factor on the last day, reached geometrically from 1 on the first.
    drift: f64,
    /// Clean-up days: how many.
    bulk_days: usize,
    /// Holiday gaps (year end, one summer fortnight).
    holidays: bool,
}

/// The history of `scenario` with `seed`: [`SCENARIO_DAYS`] days ending 2026-11-29.
pub fn scenario_history(scenario: Scenario, seed: u64) -> Vec<(NaiveDate, u32)> {
    let salt = Scenario::ALL
        .iter()
        .position(|s| *s == scenario)
        .unwrap_or(0) as u64;
    let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt);
    let n = SCENARIO_DAYS;
    let middle = || n / 3..2 * n / 3;
    let steady = Shape {
        base: 3.0,
        weekend: 0.15,
        step: None,
        drift: 1.0,
        bulk_days: 0,
        holidays: false,
    };
    let shape = match scenario {
        Scenario::Steady => steady,
        Scenario::Bulk => Shape {
            bulk_days: rng.random_range(4..=8),
            ..steady
        },
        Scenario::StepDown => Shape {
            step: Some((rng.random_range(middle()), 0.25)),
            ..steady
        },
        Scenario::StepUp => Shape {
            base: 1.5,
            step: Some((rng.random_range(middle()), 3.0)),
            ..steady
        },
        Scenario::Drift => Shape {
            base: if rng.random_bool(0.5) { 1.5 } else { 4.5 },
            drift: if rng.random_bool(0.5) { 3.0 } else { 1.0 / 3.0 },
            ..steady
        },
        Scenario::Sparse => Shape {
            base: 0.3,
            weekend: 0.0,
            ..steady
        },
        Scenario::Weekdays => Shape {
            base: 4.0,
            weekend: 0.0,
            ..steady
        },
        Scenario::Holidays => Shape {
            holidays: true,
            ..steady
        },
        Scenario::Mix => Shape {
            base: 2.5,
            weekend: 0.0,
            step: Some((
                rng.random_range(middle()),
                if rng.random_bool(0.5) { 0.4 } else { 2.0 },
            )),
            drift: 1.5,
            bulk_days: rng.random_range(2..=5),
            holidays: true,
        },
    };
    let first =
        NaiveDate::from_ymd_opt(2026, 11, 29).expect("a date") - Duration::days(n as i64 - 1);
    let summer_gap = rng.random_range(0..60usize);
    let bulk: Vec<usize> = (0..shape.bulk_days)
        .map(|_| rng.random_range(30..n))
        .collect();
    // Good and bad weeks: the log rate follows an AR(1) process from week to week.
    let mut week_effect = 0.0f64;
    // Items close in batches: a Gamma(2) multiplier per day gives negative-binomial counts.
    let dispersion = Gamma::new(2.0, 2.0).expect("valid gamma");
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let day = first + Duration::days(i as i64);
        if i % 7 == 0 {
            week_effect = 0.8 * week_effect + 0.25 * standard_normal(&mut rng);
        }
        let mut rate = shape.base * shape.drift.powf(i as f64 / (n - 1) as f64) * week_effect.exp();
        if let Some((from, factor)) = shape.step
            && i >= from
        {
            rate *= factor;
        }
        if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            rate *= shape.weekend;
        }
        if shape.holidays && is_holiday(day, summer_gap) {
            rate = 0.0;
        }
        let mut count = if rate > 0.0 {
            let g: f64 = dispersion.sample(&mut rng);
            let mean = rate * g;
            if mean > 0.0 {
                {
                    let x: f64 = Poisson::new(mean).expect("positive mean").sample(&mut rng);
                    x as u32
                }
            } else {
                0
            }
        } else {
            0
        };
        if bulk.contains(&i) && rate > 0.0 {
            count += rng.random_range(80..=1000);
        }
        out.push((day, count));
    }
    out
}

/// Year-end (20 December to 2 January) and a summer fortnight starting `summer_gap` days
/// after 1 July.
fn is_holiday(day: NaiveDate, summer_gap: usize) -> bool {
    let (m, d) = (day.month(), day.day());
    if (m == 12 && d >= 20) || (m == 1 && d <= 2) {
        return true;
    }
    let july = NaiveDate::from_ymd_opt(day.year(), 7, 1).expect("a date");
    let from = july + Duration::days(summer_gap as i64);
    (from..from + Duration::days(14)).contains(&day)
}

/// A standard normal draw (Box–Muller), to keep the dependency list short.
fn standard_normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(s: Scenario, seed: u64) -> Vec<u32> {
        scenario_history(s, seed)
            .into_iter()
            .map(|(_, n)| n)
            .collect()
    }

    fn mean(xs: &[u32]) -> f64 {
        xs.iter().map(|&x| f64::from(x)).sum::<f64>() / xs.len() as f64
    }

    #[test]
    fn deterministic_dense_and_named() {
        for s in Scenario::ALL {
            let h = scenario_history(s, 3);
            assert_eq!(h, scenario_history(s, 3), "{s}");
            assert_eq!(h.len(), SCENARIO_DAYS);
            assert!(h.windows(2).all(|w| w[1].0 - w[0].0 == Duration::days(1)));
            assert_eq!(s.name().parse::<Scenario>().unwrap(), s);
        }
        assert!(
            "nope"
                .parse::<Scenario>()
                .unwrap_err()
                .contains("step-down")
        );
    }

    #[test]
    fn each_scenario_has_its_pathology() {
        for seed in 0..5 {
            let bulk = counts(Scenario::Bulk, seed);
            assert!(
                bulk.iter().filter(|&&n| n >= 80).count() >= 1,
                "seed {seed}"
            );
            let down = counts(Scenario::StepDown, seed);
            assert!(mean(&down[..240]) > 2.0 * mean(&down[490..]), "seed {seed}");
            let up = counts(Scenario::StepUp, seed);
            assert!(2.0 * mean(&up[..240]) < mean(&up[490..]), "seed {seed}");
            let sparse = counts(Scenario::Sparse, seed);
            assert!(sparse.iter().filter(|&&n| n == 0).count() > SCENARIO_DAYS / 2);
            for s in [Scenario::Weekdays, Scenario::Mix] {
                for (day, n) in scenario_history(s, seed) {
                    if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                        assert_eq!(n, 0, "{s} {day}");
                    }
                }
            }
            for (day, n) in scenario_history(Scenario::Holidays, seed) {
                if day.month() == 12 && day.day() >= 20 {
                    assert_eq!(n, 0, "{day}");
                }
            }
        }
    }
}
