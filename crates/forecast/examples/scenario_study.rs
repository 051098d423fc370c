//! Backtests every robustness option, alone and together, over the simulator's pathological
//! histories (`flowlake_sim::throughput`): the study the defaults were chosen by.
//!
//! `cargo run --release -p flowlake-forecast --example scenario_study -- [SEEDS] [VARIANT…]`
//! prints, per variant, the pooled p85 coverage of both questions ("how many in the next 14
//! days" and "when will the next 20 items be done") and the worst scenario's. `make bench`
//! runs it with 8 seeds per scenario.

use std::time::Instant;

use flowlake_forecast::{
    Backtest, BacktestKind, BacktestQuery, History, Method, Options, backtest, pool,
};
use flowlake_sim::throughput::{Scenario, scenario_history};

fn variant(name: &str) -> Options {
    let all = Options {
        method: Method::Exact,
        ..Options::default()
    };
    let plain = Options {
        method: Method::Exact,
        ..Options::plain()
    };
    match name {
        "plain" => plain,
        "bulk" => Options {
            bulk: all.bulk,
            ..plain
        },
        "change-point" => Options {
            change_point: all.change_point,
            ..plain
        },
        "weekdays" => Options {
            weekdays: all.weekdays,
            ..plain
        },
        "auto-window" => Options {
            auto_window: all.auto_window.clone(),
            ..plain
        },
        "calibrate" => Options {
            track_record: all.track_record,
            calibrate: true,
            ..plain
        },
        "detectors" => Options {
            track_record: None,
            calibrate: false,
            ..all
        },
        "detectors-no-cp" => Options {
            track_record: None,
            calibrate: false,
            change_point: None,
            ..all
        },
        "all-no-cp" => Options {
            change_point: None,
            ..all
        },
        "all-no-auto" => Options {
            auto_window: None,
            ..all
        },
        "all" | "default" => all,
        other => panic!("unknown variant {other}"),
    }
}

fn p85(b: &Backtest) -> f64 {
    b.levels.iter().find(|l| l.level == 85).expect("p85").rate
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seeds: u64 = args.next().map_or(3, |s| s.parse().expect("SEEDS"));
    let mut variants: Vec<String> = args.collect();
    if variants.is_empty() {
        variants = [
            "plain",
            "bulk",
            "change-point",
            "weekdays",
            "auto-window",
            "calibrate",
            "detectors",
            "all",
        ]
        .map(String::from)
        .to_vec();
    }
    let histories: Vec<(Scenario, History)> = Scenario::ALL
        .iter()
        .flat_map(|&s| {
            (0..seeds).map(move |seed| {
                let days = scenario_history(s, seed);
                let h = History::new(days.into_iter().map(|(d, n)| (d, i64::from(n))))
                    .expect("a valid history");
                (s, h)
            })
        })
        .collect();
    let questions = [
        BacktestKind::HowMany { horizon_days: 14 },
        BacktestKind::When { items: 20 },
    ];
    println!(
        "{:<16} {:>10} {:>10} {:>16} {:>16} {:>8}",
        "variant", "many p85", "when p85", "many worst", "when worst", "secs"
    );
    for v in &variants {
        let options = variant(v);
        let t = Instant::now();
        let mut cells = Vec::new();
        let mut per_scenario = Vec::new();
        for kind in questions {
            let query = BacktestQuery {
                kind,
                step_days: 7,
                first_origin: None,
                confidence: 0.95,
            };
            let parts: Vec<(Scenario, Backtest)> = histories
                .iter()
                .filter_map(|(s, h)| backtest(h, &query, &options).ok().map(|b| (*s, b)))
                .collect();
            let all: Vec<Backtest> = parts.iter().map(|(_, b)| b.clone()).collect();
            let pooled = pool(&all, 0.95).expect("pooled");
            let mut worst = (String::new(), 1.0f64);
            let mut rows = Vec::new();
            for s in Scenario::ALL {
                let mine: Vec<Backtest> = parts
                    .iter()
                    .filter(|(x, _)| *x == s)
                    .map(|(_, b)| b.clone())
                    .collect();
                if mine.is_empty() {
                    continue;
                }
                let r = p85(&pool(&mine, 0.95).expect("pooled"));
                rows.push(format!("{}={:.0}", s.name(), 100.0 * r));
                if r < worst.1 {
                    worst = (s.name().to_string(), r);
                }
            }
            cells.push((p85(&pooled), worst));
            per_scenario.push(rows.join(" "));
        }
        println!(
            "{:<16} {:>9.1}% {:>9.1}% {:>9} {:>5.1}% {:>9} {:>5.1}% {:>8.1}",
            v,
            100.0 * cells[0].0,
            100.0 * cells[1].0,
            cells[0].1.0,
            100.0 * cells[0].1.1,
            cells[1].1.0,
            100.0 * cells[1].1.1,
            t.elapsed().as_secs_f64()
        );
        println!("    how many: {}", per_scenario[0]);
        println!("    when:     {}", per_scenario[1]);
    }
}
