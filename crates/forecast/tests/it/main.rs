//! The crate's one integration-test binary. Each module tests one promise of the public API.

// Closed forms from statrs (constant, Bernoulli), when/how-many agreement, monotonicity,
// percentile order, neutral risks.
mod closed_forms;
// Simulation against exact mode on varied histories.
mod exact_vs_sim;
// Same seed, same answer, whatever the thread count.
mod determinism;
// Rolling-origin backtests on synthetic stationary histories.
mod backtest;
// Every bad input gives its specific error, naming the line or option.
mod errors;
// Calendars, scope growth, risks, multi-feature plans, target likelihood.
mod options;
// Robustness rules (bulk days, change points, weekdays, auto window), track record and
// calibration, and the backtest suite over the simulator's pathological histories.
mod robust;

use chrono::NaiveDate;
use flowlake_forecast::History;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// A fixed date so tests never read the clock.
pub fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A history of `counts` starting 2026-01-01.
pub fn history(counts: &[u64]) -> History {
    History::from_counts(day("2026-01-01"), counts.to_vec()).unwrap()
}

/// The day after the history: the usual start date.
pub fn after(h: &History) -> NaiveDate {
    h.last_day().succ_opt().unwrap()
}

/// Runs `f` on `n` seeded random cases: a small, reproducible property-test harness.
pub fn cases(n: u64, mut f: impl FnMut(&mut StdRng)) {
    for case in 0..n {
        let mut rng = StdRng::seed_from_u64(0x00F0_CA57 + case);
        f(&mut rng);
    }
}

/// A random history: `len` days drawn from `values`.
pub fn random_history(rng: &mut StdRng, len: usize, values: &[u64]) -> History {
    let counts: Vec<u64> = (0..len)
        .map(|_| values[rng.random_range(0..values.len())])
        .collect();
    history(&counts)
}

/// Dvoretzky–Kiefer–Wolfowitz: with probability 1 − α the empirical CDF of `n` draws is within
/// this of the true CDF everywhere.
pub fn dkw(n: u32, alpha: f64) -> f64 {
    ((2.0 / alpha).ln() / (2.0 * f64::from(n))).sqrt()
}
