//! Lake histories and counts, pooled backtests, and errors that name the flag.

use super::*;

#[test]
fn epic_and_fix_version_read_their_count_from_the_lake() {
    let p = plan(&["when", "--project", "PAY", "--epic", "PAY-7"]).unwrap();
    assert_eq!(p.scope, Some(WorkScope::Epic("PAY-7".into())));
    let p = plan(&["when", "--project", "PAY", "--fix-version", "v2.1"]).unwrap();
    assert_eq!(p.scope, Some(WorkScope::FixVersion("v2.1".into())));
    assert!(plan(&["when", "--history", "h.csv", "--epic", "PAY-7"]).is_err());
    assert!(plan(&["when", "--project", "PAY", "--epic", "E", "--items", "3"]).is_err());
    assert!(
        plan(&["when", "--project", "PAY"]).is_err(),
        "some count is needed"
    );
}

#[test]
fn several_histories_are_backtested_and_pooled() {
    let p = plan(&[
        "backtest",
        "--history",
        "a.csv",
        "--history",
        "b.csv",
        "--horizon-days",
        "14",
        "--exact",
        "--window-days",
        "20",
    ])
    .unwrap();
    assert_eq!(
        p.source,
        Source::Many(vec![
            Source::Csv("a.csv".into()),
            Source::Csv("b.csv".into())
        ])
    );
    let p2 = plan(&["backtest", "--lake", "s3://b/l"]).unwrap();
    assert_eq!(
        p2.source,
        Source::LakeAll {
            url: Some("s3://b/l".into())
        }
    );
    let p3 = plan(&["backtest", "--project", "PAY", "--project", "PLAT"]).unwrap();
    assert!(matches!(p3.source, Source::Many(ref v) if v.len() == 2));
    // A second, busier history: the pooled counts are the sums of the parts.
    let busy = History::from_counts(
        d("2026-01-01"),
        (0..80).map(|i| (i * 3 % 7) as u64).collect(),
    )
    .unwrap();
    let hs = vec![
        (history(), "a.csv".to_string()),
        (busy, "b.csv".to_string()),
    ];
    let mut json_plan = plan(&[
        "backtest",
        "--history",
        "a.csv",
        "--history",
        "b.csv",
        "--horizon-days",
        "14",
        "--exact",
        "--window-days",
        "20",
        "--format",
        "json",
    ])
    .unwrap();
    let v: Value = serde_json::from_str(&backtests(&json_plan, &hs).unwrap().stdout).unwrap();
    let sources = v["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 2);
    assert_eq!(sources[1]["source"], "b.csv");
    for (i, level) in v["levels"].as_array().unwrap().iter().enumerate() {
        let sum = |k: &str| {
            sources
                .iter()
                .map(|s| s["levels"][i][k].as_u64().unwrap())
                .sum::<u64>()
        };
        assert_eq!(level["held"].as_u64().unwrap(), sum("held"));
        assert_eq!(level["total"].as_u64().unwrap(), sum("total"));
    }
    assert_eq!(
        v["origins"].as_u64().unwrap(),
        sources
            .iter()
            .map(|s| s["origins"].as_u64().unwrap())
            .sum::<u64>()
    );
    json_plan.format = Format::Table;
    let table = backtests(&json_plan, &hs).unwrap().stdout;
    assert!(table.contains("Pooled over 2 histories"), "{table}");
    assert!(table.lines().any(|l| l.starts_with("b.csv")), "{table}");
    json_plan.format = Format::Csv;
    let csv = backtests(&json_plan, &hs).unwrap().stdout;
    assert_eq!(csv.lines().count(), 1 + 3 * 4, "{csv}");
    assert!(csv.lines().any(|l| l.starts_with("pooled,85,")), "{csv}");
}

fn err(args: &[&str]) -> String {
    match plan(args).and_then(|p| forecast(&p, &history(), "h")) {
        Ok(_) => panic!("{args:?} should fail"),
        Err(e) => format!("{e:#}"),
    }
}

/// A count below 1 is refused by clap as the flag is parsed, naming the flag.
fn count_rejected(args: &[&str], flag: &str, got: i64) {
    let e = parse(args).unwrap_err().to_string();
    assert!(
        e.contains(&format!("for '{flag} <"))
            && e.contains(&format!("must be at least 1, got {got}")),
        "{e}"
    );
}

#[test]
fn bad_flags_name_the_flag() {
    count_rejected(&["when", "--history", "h", "--items", "0"], "--items", 0);
    count_rejected(&["when", "--history", "h", "--items", "-3"], "--items", -3);
    assert_eq!(
        err(&[
            "how-many",
            "--history",
            "h",
            "--until",
            "2026-01-01",
            "--start",
            "2026-02-01"
        ]),
        "--until 2026-01-01 is before --start 2026-02-01"
    );
    let e = err(&["how-many", "--history", "h", "--until", "2026-02-01"]);
    assert!(
        e.starts_with("--until 2026-02-01 is before the start date 2026-03-02"),
        "{e}"
    );
    assert_eq!(
        err(&[
            "when",
            "--history",
            "h",
            "--items",
            "3",
            "--start",
            "2026-03-05",
            "--target",
            "2026-03-04"
        ]),
        "--target 2026-03-04 is before --start 2026-03-05"
    );
    count_rejected(
        &["when", "--history", "h", "--items", "3", "--trials", "0"],
        "--trials",
        0,
    );
    count_rejected(
        &[
            "when",
            "--history",
            "h",
            "--items",
            "3",
            "--window-days",
            "0",
        ],
        "--window-days",
        0,
    );
    count_rejected(
        &["backtest", "--history", "h", "--step-days", "0"],
        "--step-days",
        0,
    );
    count_rejected(
        &["backtest", "--history", "h", "--horizon-days", "-1"],
        "--horizon-days",
        -1,
    );
    let e = err(&[
        "when",
        "--history",
        "h",
        "--items",
        "3",
        "--start",
        "2025-12-01",
    ]);
    assert!(
        e.starts_with("--start 2025-12-01 is not after any history"),
        "{e}"
    );
    let e = err(&["when", "--items", "3"]);
    assert!(e.starts_with("no history: pass --history FILE"), "{e}");
    let e = err(&["when", "--lake", "./lake", "--items", "3"]);
    assert!(e.starts_with("--lake needs --project"), "{e}");
}

#[test]
fn clap_rejects_bad_dates_and_mixed_sources() {
    let e = parse(&["how-many", "--history", "h", "--until", "2026-13-01"]).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("--until") && msg.contains("YYYY-MM-DD"),
        "{msg}"
    );
    let e = parse(&["when", "--history", "h", "--project", "X", "--items", "1"]).unwrap_err();
    assert!(e.to_string().contains("--history"), "{e}");
    let e = parse(&[
        "backtest",
        "--history",
        "h",
        "--items",
        "3",
        "--horizon-days",
        "5",
    ])
    .unwrap_err();
    assert!(e.to_string().contains("--horizon-days"), "{e}");
}

#[test]
fn csv_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "day,items_done\n2026-01-01,1\n2026-01-02\n",
            "CSV line 3: malformed line",
        ),
        (
            "day,items_done\n2026-01-02,1\n2026-01-01,1\n",
            "CSV line 3: date 2026-01-01 is out of order",
        ),
        (
            "day,items_done\n2026-01-01,-2\n",
            "CSV line 2: negative count -2",
        ),
        ("day,items_done\n", "history is empty"),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("{i}.csv"));
        std::fs::write(&path, text).unwrap();
        let e = format!("{:#}", read_csv(&path).unwrap_err());
        assert!(
            e.starts_with(&format!("--history {}: ", path.display())),
            "{e}"
        );
        assert!(e.contains(want), "{e}");
    }
    let e = format!("{:#}", read_csv(&dir.path().join("nope.csv")).unwrap_err());
    assert!(e.contains("nope.csv: cannot open"), "{e}");
}

#[tokio::test]
async fn lake_without_the_mart_says_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open_with(
        dir.path().to_str().unwrap(),
        &flowlake_lake::LakeOptions::default(),
    )
    .unwrap();
    let Err(e) = mart_session(&lake).await else {
        panic!("a lake without the mart has no session");
    };
    let e = format!("{e:#}");
    assert!(e.contains("no mart_throughput_daily yet"), "{e}");
    assert!(
        e.contains("flowlake build") && e.contains("--history"),
        "{e}"
    );
}

#[tokio::test]
async fn lake_history_is_read_for_one_project() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = datafusion::prelude::SessionContext::new();
    let df = ctx
        .sql(
            "select * from (values \
             ('acme', date '2026-01-02', 'PAY', 2), ('acme', date '2026-01-01', 'PAY', 1), \
             ('acme', date '2026-01-01', 'OPS', 9)) as t(workspace, day, project, items_done)",
        )
        .await
        .unwrap();
    let out = dir.path().join("marts").join(MART);
    std::fs::create_dir_all(&out).unwrap();
    df.write_parquet(
        out.to_str().unwrap(),
        datafusion::dataframe::DataFrameWriteOptions::new(),
        None,
    )
    .await
    .unwrap();
    let lake = Lake::open_with(
        dir.path().to_str().unwrap(),
        &flowlake_lake::LakeOptions::default(),
    )
    .unwrap();
    let ctx = mart_session(&lake).await.unwrap();
    let h = read_project(&ctx, "PAY").await.unwrap();
    assert_eq!(h.first_day(), d("2026-01-01"));
    assert_eq!(h.counts(), &[1, 2]);
    assert_eq!(lake_projects(&ctx, &lake).await.unwrap(), ["OPS", "PAY"]);
    let e = format!("{:#}", read_project(&ctx, "NOPE").await.unwrap_err());
    assert!(e.contains("--project NOPE: no rows"), "{e}");
    assert!(e.contains("OPS, PAY"), "{e}");
}
