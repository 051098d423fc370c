//! Window choice, track record, calibration and both-question backtests.

use super::*;

/// 400 days from 2025-01-01 (0..=4 items a day, repeating every 5 days) as a CSV file:
/// long enough for the automatic window and a full track record (52 past origins). So
/// regular a history makes the model's p85 hold every time, so calibration narrows it.
fn long_history(dir: &tempfile::TempDir) -> (History, String) {
    let mut text = String::from("day,items_done\n");
    for i in 0..400 {
        let day = d("2025-01-01") + Duration::days(i);
        text.push_str(&format!("{day},{}\n", i * 7 % 5));
    }
    let path = dir.path().join("long.csv");
    std::fs::write(&path, text).unwrap();
    (read_csv(&path).unwrap(), path.display().to_string())
}

fn run_long(args: &[&str]) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let (history, source) = long_history(&dir);
    let mut argv = args.to_vec();
    argv.extend(["--history", &source, "--exact"]);
    forecast(&plan(&argv).unwrap(), &history, &source).unwrap()
}

fn run_long_json(args: &[&str]) -> Value {
    let mut argv = args.to_vec();
    argv.extend(["--format", "json"]);
    serde_json::from_str(&run_long(&argv).stdout).unwrap()
}

#[test]
fn track_record_and_calibration_are_stated() {
    let when = ["when", "--items", "30"];
    let table = run_long(&when).stdout;
    let line = |prefix: &str| {
        table
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} line in\n{table}"))
            .to_string()
    };
    assert_eq!(
        line("track record:"),
        "track record: p85 held 52 of 52 times (100 %, 95 % CI 93–100 %) over past \
         origins 2025-01-16..2026-01-08"
    );
    let calibrated = line("calibrated:");
    assert!(
        calibrated.starts_with("calibrated: p85 reported at the model's p")
            && calibrated.ends_with("(uncalibrated p85: 2026-02-22)"),
        "{calibrated}"
    );
    assert!(
        line("window: ").starts_with("window: chosen automatically: "),
        "{table}"
    );
    let v = run_long_json(&when);
    let record = &v["track_record"];
    assert_eq!(record["origins"], 52, "{record}");
    assert_eq!(record["kind"]["when"]["items"], 30);
    assert_eq!(record["first_origin"], "2025-01-16");
    let p85 = &record["levels"][2];
    assert_eq!(
        (&p85["level"], &p85["held"], &p85["total"]),
        (&json!(85), &json!(52), &json!(52))
    );
    assert_eq!(v["calibration"]["changed"], true);
    assert_eq!(v["calibration"]["origins"], 52);
    assert!(v["calibration"]["levels"]["85"].as_f64().unwrap() < 0.85);
    assert_eq!(v["uncalibrated_percentiles"]["85"], "2026-02-22");
    assert!(v["percentiles"]["85"].as_str() < v["uncalibrated_percentiles"]["85"].as_str());
    assert_eq!(v["sample"]["window_choice"]["choice"], "auto");
    let scores = v["sample"]["window_choice"]["scores"].as_array().unwrap();
    assert!(!scores.is_empty(), "{scores:?}");
    assert!(scores.iter().any(|s| s[0] == v["sample"]["window_days"]));
    assert_eq!(v["method"]["rules"]["calibration"], true);
    // The same for "how many", whose uncalibrated answer is a count.
    let how_many = ["how-many", "--until", "2026-03-01"];
    let table = run_long(&how_many).stdout;
    assert!(table.contains("\ntrack record: p85 held "), "{table}");
    assert!(table.contains("items)\n"), "{table}");
    let v = run_long_json(&how_many);
    assert_eq!(v["track_record"]["kind"]["how_many"]["horizon_days"], 25);
    assert!(v["uncalibrated_percentiles"]["85"].is_u64(), "{v}");
    // CSV stays `percentile,value`: the track record is not a percentile.
    let mut csv = when.to_vec();
    csv.extend(["--format", "csv"]);
    let out = run_long(&csv).stdout;
    assert_eq!(out.lines().count(), 5, "{out}");
}

#[test]
fn no_calibration_keeps_the_track_record() {
    let args = ["when", "--items", "30", "--no-calibration"];
    let table = run_long(&args).stdout;
    assert!(table.contains("track record: p85 held 52 of 52"), "{table}");
    assert!(!table.contains("calibrated:"), "{table}");
    let v = run_long_json(&args);
    assert_eq!(v["track_record"]["origins"], 52);
    assert_eq!(v["calibration"], Value::Null);
    assert_eq!(v["uncalibrated_percentiles"], Value::Null);
    assert_eq!(v["method"]["rules"]["calibration"], false);
    assert_eq!(v["method"]["rules"]["track_record"], true);
}

#[test]
fn plain_is_the_old_model() {
    let args = ["when", "--items", "30", "--plain"];
    let table = run_long(&args).stdout;
    assert!(!table.contains("track record"), "{table}");
    assert!(!table.contains("calibrated"), "{table}");
    assert!(table.contains("\nwindow: fixed, 90 days.\n"), "{table}");
    let v = run_long_json(&args);
    for key in ["track_record", "calibration", "uncalibrated_percentiles"] {
        assert_eq!(v[key], Value::Null, "{key}");
    }
    assert_eq!(v["sample"]["window_choice"], json!({"choice": "fixed"}));
    assert_eq!(v["sample"]["window_days"], 90);
    assert!(
        v["method"]["rules"]
            .as_object()
            .unwrap()
            .values()
            .all(|on| on == false),
        "{}",
        v["method"]
    );
    // The last 90 days sampled as they are (18 cycles of 0, 2, 4, 1 and 3 items), as
    // before the rules existed.
    let p = plan(&["when", "--history", "h", "--items", "30", "--plain"]).unwrap();
    assert_eq!(p.options, Options::plain());
    assert_eq!(v["sample"]["window_start"], "2025-11-07");
    assert_eq!(v["sample"]["mean_per_working_day"], 2.0);
}

#[test]
fn window_days_fixes_the_window() {
    let args = ["how-many", "--until", "2026-03-01", "--window-days", "30"];
    let table = run_long(&args).stdout;
    assert!(table.contains("\nwindow: fixed, 30 days.\n"), "{table}");
    assert!(table.contains("track record: p85 held"), "{table}");
    let v = run_long_json(&args);
    assert_eq!(v["sample"]["window_days"], 30);
    assert_eq!(v["sample"]["calendar_days"], 30);
    assert_eq!(v["sample"]["window_choice"], json!({"choice": "fixed"}));
    assert_eq!(v["method"]["window_days"], 30);
    assert_eq!(v["method"]["rules"]["auto_window"], false);
    // Too short a history to choose: the default window, and the output says why; three
    // weeks before the start leave too few past origins for a track record.
    let r = run_plan(&[
        "how-many",
        "--history",
        "h",
        "--start",
        "2026-01-22",
        "--until",
        "2026-01-28",
    ])
    .unwrap();
    assert!(
        r.stdout
            .contains("window: 90 days (too little history to choose one automatically)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("track record: too few past origins"),
        "{}",
        r.stdout
    );
}

#[test]
fn backtest_asks_both_questions_by_default() {
    let args = [
        "backtest",
        "--history",
        "h",
        "--window-days",
        "20",
        "--trials",
        "200",
    ];
    let v = run_json(&args);
    let questions = v["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 2, "{v}");
    assert_eq!(questions[0]["kind"]["how_many"]["horizon_days"], 14);
    assert_eq!(questions[1]["kind"]["when"]["items"], 20);
    for q in questions {
        // Each is the single-question object, as `--horizon-days` / `--items` print it.
        assert_eq!(q["question"], "backtest");
        assert_eq!(q["levels"].as_array().unwrap().len(), 4);
        assert!(q["origins"].as_u64().unwrap() > 0, "{q}");
        assert_eq!(q["history"]["source"], "test.csv");
    }
    let mut alone = args.to_vec();
    alone.extend(["--items", "20"]);
    let mut when = run_json(&alone);
    when["method"] = questions[1]["method"].clone();
    assert_eq!(when, questions[1], "the same object as --items 20 alone");
    let r = run_plan(&args).unwrap();
    assert!(
        r.stdout
            .contains("Question 1 of 2: how many items in the next 14 days?"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("Question 2 of 2: when will the next 20 items be done?"),
        "{}",
        r.stdout
    );
    assert_eq!(
        r.stdout.matches("Clopper-Pearson").count(),
        2,
        "{}",
        r.stdout
    );
    assert!(r.warnings[0].contains("overlap"), "{:?}", r.warnings);
    let mut csv = args.to_vec();
    csv.extend(["--format", "csv"]);
    let out = run_plan(&csv).unwrap().stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "question,horizon_days,items,level,held,total,rate,lower,upper,verdict"
    );
    assert_eq!(lines.len(), 1 + 2 * 4, "{out}");
    assert!(lines[3].starts_with("how_many,14,,85,"), "{out}");
    assert!(lines[7].starts_with("when,,20,85,"), "{out}");
}

#[test]
fn both_questions_are_pooled_over_histories() {
    let busy = History::from_counts(
        d("2026-01-01"),
        (0..80).map(|i| (i * 3 % 7) as u64).collect(),
    )
    .unwrap();
    let hs = vec![
        (history(), "a.csv".to_string()),
        (busy, "b.csv".to_string()),
    ];
    let mut p = plan(&[
        "backtest",
        "--history",
        "a.csv",
        "--history",
        "b.csv",
        "--exact",
        "--window-days",
        "20",
        "--format",
        "json",
    ])
    .unwrap();
    let v: Value = serde_json::from_str(&backtests(&p, &hs).unwrap().stdout).unwrap();
    let questions = v["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 2);
    for q in questions {
        assert_eq!(q["source"], "pooled");
        let sources = q["sources"].as_array().unwrap();
        assert_eq!(sources.len(), 2);
        let held = |s: &Value| s["levels"][2]["held"].as_u64().unwrap();
        assert_eq!(held(q), sources.iter().map(held).sum::<u64>(), "{q}");
        assert!(sources[0]["levels"][2]["lower"].is_f64());
    }
    p.format = Format::Table;
    let table = backtests(&p, &hs).unwrap().stdout;
    assert_eq!(
        table.matches("Pooled over 2 histories:").count(),
        2,
        "{table}"
    );
    // Per history, each level's rate with its interval.
    let b = table.lines().find(|l| l.starts_with("b.csv")).unwrap();
    assert_eq!(b.matches("%]").count(), 4, "{table}");
    p.format = Format::Csv;
    let csv = backtests(&p, &hs).unwrap().stdout;
    assert!(
        csv.starts_with("question,horizon_days,items,history,level,held,"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 1 + 2 * 3 * 4, "{csv}");
    assert!(
        csv.lines().any(|l| l.starts_with("when,,20,pooled,85,")),
        "{csv}"
    );
}
