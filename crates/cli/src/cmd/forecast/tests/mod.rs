//! The command's tests: flags to plan, outputs in every format, bad input. Split by theme:
//! `robust` (window choice, track record, calibration, both-question backtests), `lake`
//! (histories and counts read from a lake, pooling, errors naming the flag) and `render`
//! (outputs pinned in full over tiny histories).

mod lake;
mod render;
mod robust;

use super::*;
use clap::Parser;
use serde_json::{Value, json};

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    forecast: ForecastCommand,
}

fn parse(args: &[&str]) -> Result<Question, clap::Error> {
    let argv = std::iter::once("forecast").chain(args.iter().copied());
    Cli::try_parse_from(argv).map(|c| c.forecast.command)
}

fn plan(args: &[&str]) -> Result<Plan> {
    parse(args)?.plan()
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// 60 days from 2026-01-01, 0..=4 items a day.
fn history() -> History {
    History::from_counts(
        d("2026-01-01"),
        (0..60).map(|i| (i * 7 % 5) as u64).collect(),
    )
    .unwrap()
}

fn run_plan(args: &[&str]) -> Result<Report> {
    forecast(&plan(args)?, &history(), "test.csv")
}

fn run_json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    serde_json::from_str(&run_plan(&a).unwrap().stdout).unwrap()
}

#[test]
fn when_flags_map_to_query_and_options() {
    let p = plan(&[
        "when",
        "--history",
        "h.csv",
        "--items",
        "25",
        "--start",
        "2026-03-02",
        "--target",
        "2026-03-20",
        "--trials",
        "500",
        "--seed",
        "7",
        "--exact",
        "--window-days",
        "30",
        "--weekdays-only",
        "--holiday",
        "2026-03-09",
        "--holiday",
        "2026-03-10",
    ])
    .unwrap();
    assert_eq!(p.source, Source::Csv("h.csv".into()));
    assert_eq!(
        p.ask,
        Ask::When {
            items: 25,
            target: Some(d("2026-03-20"))
        }
    );
    assert_eq!(p.start, Some(d("2026-03-02")));
    assert_eq!(p.options.trials, 500);
    assert_eq!(p.options.seed, 7);
    assert_eq!(p.options.method, Method::Exact);
    assert_eq!(p.options.window_days, 30);
    assert_eq!(
        p.options.auto_window, None,
        "--window-days fixes the window"
    );
    assert!(
        p.options.bulk.is_some() && p.options.calibrate,
        "the other rules stay on"
    );
    let cal = &p.options.calendar;
    assert!(!cal.is_working(d("2026-03-07")), "Saturday");
    assert!(!cal.is_working(d("2026-03-09")) && !cal.is_working(d("2026-03-10")));
    assert!(cal.is_working(d("2026-03-11")));
}

#[test]
fn defaults() {
    let p = plan(&["how-many", "--history", "h.csv", "--until", "2026-04-01"]).unwrap();
    let o = Options::default();
    assert_eq!(
        (
            p.options.trials,
            p.options.seed,
            p.options.window_days,
            p.options.method
        ),
        (o.trials, o.seed, o.window_days, Method::Simulate)
    );
    assert!(p.options.calendar.is_every_day());
    assert_eq!(p.format, Format::Table);
    assert_eq!(p.start, None);
    // Every robustness rule on, the window chosen per history.
    assert_eq!(
        p.options,
        Options {
            calendar: p.options.calendar.clone(),
            ..o
        }
    );
    let p = plan(&["backtest", "--history", "h.csv"]).unwrap();
    assert_eq!(
        p.ask,
        Ask::Backtest {
            questions: Questions::Both,
            step_days: 7
        }
    );
    let p = plan(&["backtest", "--history", "h.csv", "--horizon-days", "14"]).unwrap();
    assert_eq!(
        p.ask,
        Ask::Backtest {
            questions: Questions::One(BacktestKind::HowMany { horizon_days: 14 }),
            step_days: 7
        }
    );
    let p = plan(&[
        "backtest",
        "--history",
        "h.csv",
        "--items",
        "20",
        "--step-days",
        "30",
    ])
    .unwrap();
    assert_eq!(
        p.ask,
        Ask::Backtest {
            questions: Questions::One(BacktestKind::When { items: 20 }),
            step_days: 30
        }
    );
}

#[test]
fn lake_source_and_default_start() {
    let p = plan(&[
        "when",
        "--lake",
        "s3://b/l",
        "--project",
        "PAY",
        "--items",
        "3",
    ])
    .unwrap();
    assert_eq!(
        p.source,
        Source::Lake {
            url: Some("s3://b/l".into()),
            project: "PAY".into()
        }
    );
    // The history ends 2026-03-01, so day 1 is 2026-03-02.
    let v = run_json(&["when", "--history", "h.csv", "--items", "3"]);
    assert_eq!(v["start"], "2026-03-02");
    assert_eq!(v["sample"]["window_end"], "2026-03-01");
}

#[test]
fn when_json_has_level_keys_and_iso_dates() {
    let v = run_json(&[
        "when",
        "--history",
        "h.csv",
        "--items",
        "30",
        "--target",
        "2026-03-20",
    ]);
    let p = v["percentiles"].as_object().unwrap();
    assert_eq!(p.keys().collect::<Vec<_>>(), ["50", "70", "85", "95"]);
    for day in p.values() {
        let s = day.as_str().unwrap();
        assert_eq!(s.len(), 10, "{s}");
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    }
    assert!(p["50"].as_str() <= p["95"].as_str());
    let dist = v["distribution"].as_array().unwrap();
    assert!(!dist.is_empty());
    let last = dist.last().unwrap()["cumulative"].as_f64().unwrap();
    assert!((last - 1.0).abs() < 1e-9, "{last}");
    assert_eq!(v["target"]["date"], "2026-03-20");
    assert_eq!(v["method"]["name"], "simulate");
    assert_eq!(v["method"]["trials"], 10_000);
    assert!(v["warnings"].as_array().unwrap().is_empty());
    assert!(v["sample"]["working_days"].as_u64().unwrap() > 0);
}

#[test]
fn how_many_json_has_integer_percentiles() {
    let v = run_json(&[
        "how-many",
        "--history",
        "h.csv",
        "--until",
        "2026-03-31",
        "--exact",
    ]);
    let p = v["percentiles"].as_object().unwrap();
    assert_eq!(p.keys().collect::<Vec<_>>(), ["50", "70", "85", "95"]);
    assert!(p.values().all(Value::is_u64), "{p:?}");
    assert!(p["85"].as_u64() <= p["50"].as_u64());
    assert_eq!(v["method"]["name"], "exact");
    assert_eq!(v["method"]["weekdays_only"], false);
    assert_eq!(v["method"]["trials"], Value::Null);
    assert_eq!(v["working_days"], 30);
    let v = run_json(&[
        "how-many",
        "--history",
        "h",
        "--until",
        "2026-03-31",
        "--weekdays-only",
        "--holiday",
        "2026-03-10",
        "--holiday",
        "2026-03-09",
    ]);
    assert_eq!(v["method"]["weekdays_only"], true);
    assert_eq!(v["method"]["holidays"], json!(["2026-03-09", "2026-03-10"]));
    assert_eq!(v["working_days"], 20);
}

#[test]
fn csv_and_table_output() {
    let r = run_plan(&["when", "--history", "h", "--items", "10", "--format", "csv"]).unwrap();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "percentile,value");
    assert_eq!(lines.len(), 5);
    assert!(lines[3].starts_with("85,2026-"), "{}", lines[3]);
    let r = run_plan(&[
        "how-many",
        "--history",
        "h",
        "--until",
        "2026-03-10",
        "--format",
        "csv",
    ])
    .unwrap();
    assert!(
        r.stdout.lines().nth(1).unwrap().starts_with("50,"),
        "{}",
        r.stdout
    );
    let r = run_plan(&["when", "--history", "h", "--items", "10"]).unwrap();
    assert!(r.stdout.contains("  85%  2026-"), "{}", r.stdout);
}

#[test]
fn warnings_go_to_stderr_except_in_json() {
    // 10 days before the start: a short-history warning.
    let args = [
        "when",
        "--history",
        "h",
        "--items",
        "5",
        "--start",
        "2026-01-11",
    ];
    let r = run_plan(&args).unwrap();
    assert_eq!(r.warnings.len(), 1);
    assert!(r.warnings[0].contains("short history"), "{:?}", r.warnings);
    let v = run_json(&args);
    assert_eq!(v["warnings"][0]["kind"], "short_history");
    assert!(
        v["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("short history")
    );
}

#[test]
fn backtest_formats() {
    let args = [
        "backtest",
        "--history",
        "h",
        "--horizon-days",
        "14",
        "--window-days",
        "20",
        "--trials",
        "200",
    ];
    let r = run_plan(&args).unwrap();
    assert!(r.stdout.contains("p85"), "{}", r.stdout);
    assert!(r.stdout.contains("Clopper-Pearson"), "{}", r.stdout);
    assert!(r.warnings[0].contains("overlap"), "{:?}", r.warnings);
    let mut csv = args.to_vec();
    csv.extend(["--format", "csv"]);
    let out = run_plan(&csv).unwrap().stdout;
    assert_eq!(
        out.lines().next().unwrap(),
        "level,held,total,rate,lower,upper,verdict"
    );
    assert_eq!(out.lines().count(), 5);
    let v = run_json(&args);
    let levels = v["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 4);
    assert_eq!(levels[2]["level"], 85);
    assert!(levels[2]["lower"].as_f64() <= levels[2]["rate"].as_f64());
    assert_eq!(v["kind"]["how_many"]["horizon_days"], 14);
}
