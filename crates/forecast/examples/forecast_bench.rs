//! Measures the forecast engine and prints one JSON line.
//!
//! The question: "when will 200 items be done?" over a fixed 90-day history (the same one
//! `bench/forecast/numpy_when.py` builds). Figures:
//! - `trials_per_sec_per_core`: Monte Carlo trials per second on one thread;
//! - `trials_per_sec_all_cores`: the same with every core, and the cores used;
//! - `exact_ms`: exact mode's time for the same question (median);
//! - `robust_exact_ms`: a default-options exact forecast (every robustness rule, the track
//!   record and calibration) of "when will 20 items be done?" over the simulator's two-year
//!   `mix` history.
//!
//! The trial rates measure the plain model: the rules change what is sampled, not the engine.
//!
//! Run: `cargo run -p flowlake-forecast --example forecast_bench --profile demo [-- TRIALS]`.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use flowlake_forecast::{History, Method, Options, WhenQuery, when};

/// The shared bench history: this pattern repeated over 90 days (mean 2 items a day).
const PATTERN: [u64; 15] = [0, 1, 3, 2, 0, 5, 2, 1, 4, 0, 2, 3, 1, 6, 0];
const DAYS: usize = 90;
const ITEMS: i64 = 200;

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// Median wall time of `f` over enough repetitions to fill about `budget`.
fn time(budget: Duration, mut f: impl FnMut()) -> Duration {
    f(); // warm up
    let mut runs = Vec::new();
    let started = Instant::now();
    while runs.len() < 5 || (started.elapsed() < budget && runs.len() < 10_000) {
        let t = Instant::now();
        f();
        runs.push(t.elapsed());
    }
    median(runs)
}

fn main() {
    let trials: u32 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("TRIALS must be a whole number"))
        .unwrap_or(10_000);
    let first = NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date");
    let counts: Vec<u64> = PATTERN.iter().copied().cycle().take(DAYS).collect();
    let history = History::from_counts(first, counts).expect("non-empty history");
    let query = WhenQuery {
        start: history.last_day() + chrono::Duration::days(1),
        items: ITEMS,
        target: None,
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let sim = |threads: usize, trials: u32| Options {
        trials,
        seed: 1,
        threads: Some(threads),
        // The engine's speed: the plain model (the robustness rules' cost is timed below).
        ..Options::plain()
    };
    let budget = Duration::from_secs(2);

    let one = sim(1, trials);
    let t1 = time(budget, || {
        when(&history, &query, &one).expect("forecast");
    });
    // Enough trials for every core to have several chunks.
    let all_trials = trials.max(2048 * 8 * cores as u32);
    let all = sim(cores, all_trials);
    let tn = time(budget, || {
        when(&history, &query, &all).expect("forecast");
    });
    let exact = Options {
        method: Method::Exact,
        ..Options::plain()
    };
    // Every robustness rule, with its track record and calibration, on a two-year history.
    let long = History::new(
        flowlake_sim::throughput::scenario_history(flowlake_sim::throughput::Scenario::Mix, 0)
            .into_iter()
            .map(|(d, n)| (d, i64::from(n))),
    )
    .expect("a valid history");
    let long_query = WhenQuery {
        start: long.last_day() + chrono::Duration::days(1),
        items: 20,
        target: None,
    };
    let robust = Options {
        method: Method::Exact,
        ..Options::default()
    };
    let tr = time(budget, || {
        when(&long, &long_query, &robust).expect("forecast");
    });
    let te = time(budget, || {
        when(&history, &query, &exact).expect("forecast");
    });

    let f_sim = when(&history, &query, &one).expect("forecast");
    let f_exact = when(&history, &query, &exact).expect("forecast");
    let per_core = f64::from(trials) / t1.as_secs_f64();
    println!(
        "{{\"bench\":\"forecast_when\",\"history_days\":{DAYS},\"items\":{ITEMS},\
         \"trials\":{trials},\"sim_ms\":{:.3},\"trials_per_sec_per_core\":{:.0},\
         \"cores\":{cores},\"trials_all_cores\":{all_trials},\"trials_per_sec_all_cores\":{:.0},\
         \"exact_ms\":{:.4},\"robust_exact_ms\":{:.3},\"p85_sim\":\"{}\",\"p85_exact\":\"{}\"}}",
        t1.as_secs_f64() * 1e3,
        per_core,
        f64::from(all_trials) / tn.as_secs_f64(),
        te.as_secs_f64() * 1e3,
        tr.as_secs_f64() * 1e3,
        f_sim.percentiles[&85],
        f_exact.percentiles[&85],
    );
}
