//! `flowlake lake compact|archive|restore` on a local folder and on S3 (s3s-fs): rebuilt after
//! a compaction, and after an archive and its restore, every mart holds the rows it held
//! before; in between, the archive moved exactly the partitions past the policy.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::s3::{start_s3, with_s3_env};
use crate::util::*;

/// Makes `lake` a raw zone with history on two ingest dates: the demo ingests once, its
/// partitions are moved back 1,000 days, and the demo ingests again today (its overlap
/// window fetches some records again: newer versions of old rows). Returns the old date.
fn lake_with_history(lake: &Path) -> String {
    let old = (chrono::Utc::now().date_naive() - chrono::Days::new(1000)).to_string();
    run_ok(flowlake().args(["demo", "--lake", lake.to_str().unwrap(), "--json"]));
    let mut moved = 0;
    for source in std::fs::read_dir(lake.join("raw")).unwrap() {
        for entity in std::fs::read_dir(source.unwrap().path()).unwrap() {
            for partition in std::fs::read_dir(entity.as_ref().unwrap().path()).unwrap() {
                let from = partition.unwrap().path();
                let to = from.with_file_name(format!("ingest_date={old}"));
                std::fs::rename(&from, &to).unwrap();
                moved += 1;
            }
        }
    }
    assert_eq!(moved, 13, "one partition per raw table");
    run_ok(flowlake().args(["demo", "--lake", lake.to_str().unwrap(), "--json"]));
    old
}

/// Every mart's rows, sorted, as the last build left them under `root`.
fn marts(root: &Path) -> BTreeMap<&'static str, Vec<String>> {
    MARTS
        .iter()
        .map(|m| {
            (
                *m,
                sorted_rows(&root.join(format!("marts/{m}/data.parquet"))),
            )
        })
        .collect()
}

/// Runs `flowlake <args> --json`, with the S3 settings of the server on `s3` if any, and
/// parses its output.
fn json(s3: Option<u16>, args: &[&str]) -> Value {
    let mut cmd = flowlake();
    if let Some(port) = s3 {
        with_s3_env(&mut cmd, port);
    }
    cmd.args(args).arg("--json");
    let out = run_ok(&mut cmd);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// An object's keys, sorted, space-separated.
fn keys(v: &Value) -> String {
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.join(" ")
}

/// The raw files under `root` of the partition `ingest_date=<day>`.
fn raw_files_of(root: &Path, day: &str) -> Vec<PathBuf> {
    files_under(&root.join("raw"))
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(&format!("ingest_date={day}/")))
        .collect()
}

/// The whole round trip: `lake` is the URL the commands get, `root` the folder its objects
/// are in (the lake itself, or the bucket prefix in s3s-fs's folder), and likewise for the
/// cold store. `reruns`: also check that `--dry-run` and running each step twice change
/// nothing more (once is enough: it is the same code on every store).
fn round_trip(
    env: Option<u16>,
    lake: &str,
    root: &Path,
    cold: &str,
    cold_root: &Path,
    old: &str,
    reruns: bool,
) {
    json(env, &["build", "--lake", lake]);
    let before = marts(root);
    assert!(before.values().filter(|rows| rows.is_empty()).count() <= 1);

    // Compaction: fewer rows and files, the same marts.
    let files_before = files_under(&root.join("raw")).len();
    let report = json(env, &["lake", "compact", "--lake", lake]);
    assert!(
        report["rows_after"].as_u64() < report["rows_before"].as_u64(),
        "{report}"
    );
    assert_eq!(
        files_under(&root.join("raw")).len(),
        files_before + report["files_written"].as_u64().unwrap() as usize
            - report["files_removed"].as_u64().unwrap() as usize
    );
    if reruns {
        // The JSON is a contract for scripts (as in json_shapes): pin its keys.
        assert_eq!(
            keys(&report),
            "dry_run files_removed files_written lake rows_after rows_before run_id tables"
        );
        assert_eq!(
            keys(&report["tables"][0]),
            "fallback files_after files_before partitions partitions_rewritten rows_after \
             rows_before rule table"
        );
    }
    json(env, &["build", "--lake", lake]);
    assert_eq!(marts(root), before, "compaction changed the marts");
    if reruns {
        let again = json(env, &["lake", "compact", "--lake", lake]);
        assert_eq!(again["files_written"], 0, "{again}");
    }

    // Archive: the old partitions, and only they, move to the cold store.
    let old_files = raw_files_of(root, old);
    assert!(!old_files.is_empty());
    let today_files = files_under(&root.join("raw")).len() - old_files.len();
    let archive = |extra: &[&str]| {
        let mut args = vec![
            "lake",
            "archive",
            "--lake",
            lake,
            "--older-than",
            "400d",
            "--to",
            cold,
        ];
        args.extend_from_slice(extra);
        json(env, &args)
    };
    let dry = reruns.then(|| archive(&["--dry-run"]));
    assert_eq!(
        raw_files_of(root, old),
        old_files,
        "a dry run moves nothing"
    );
    let archived = archive(&[]);
    if let Some(dry) = dry {
        assert_eq!(dry["partitions"], archived["partitions"]);
        assert_eq!(
            keys(&archived),
            "already_there bytes cold_store command cutoff dry_run files lake partitions \
             removed run_id since"
        );
        assert_eq!(
            keys(&archived["partitions"][0]),
            "bytes files ingest_date table"
        );
    }
    let partitions = archived["partitions"].as_array().unwrap();
    // One per table that still has an old partition (the compaction dropped the old
    // partitions the second ingest superseded whole: sprints, boards, statuses).
    let tables: std::collections::BTreeSet<_> = old_files
        .iter()
        .map(|p| p.iter().take(2).collect::<PathBuf>())
        .collect();
    assert_eq!(partitions.len(), tables.len(), "{archived}");
    assert!(tables.len() >= 8, "{tables:?}");
    assert!(
        partitions.iter().all(|p| p["ingest_date"] == old),
        "{archived}"
    );
    assert!(raw_files_of(root, old).is_empty());
    assert_eq!(files_under(&root.join("raw")).len(), today_files);
    assert_eq!(raw_files_of(cold_root, old), old_files);
    // The marts now see only today's partitions: most records are gone.
    json(env, &["build", "--lake", lake]);
    let archived_marts = marts(root);
    let prs = |m: &BTreeMap<&str, Vec<String>>| m["fct_pull_requests"].len();
    assert!(
        prs(&archived_marts) < prs(&before) / 10,
        "{} of {} pull requests left",
        prs(&archived_marts),
        prs(&before)
    );
    if reruns {
        let again = archive(&[]);
        assert_eq!(again["files"], 0, "{again}");
    }

    // Restore: the same files back, the same marts.
    let restored = json(env, &["lake", "restore", "--lake", lake, "--from", cold]);
    assert_eq!(restored["partitions"], archived["partitions"]);
    assert_eq!(raw_files_of(root, old), old_files);
    json(env, &["build", "--lake", lake]);
    assert_eq!(marts(root), before, "archive + restore changed the marts");

    // Each step left a manifest in the lake (and archive/restore one in the cold store).
    let manifests: Vec<Value> = files_under(&root.join("runs"))
        .iter()
        .map(|p| {
            serde_json::from_slice(&std::fs::read(root.join("runs").join(p)).unwrap()).unwrap()
        })
        .collect();
    for command in ["lake compact", "lake archive", "lake restore"] {
        let m = manifests
            .iter()
            .find(|m| m["command"] == command && !m["files"].as_array().unwrap().is_empty())
            .unwrap_or_else(|| panic!("no manifest of {command}"));
        assert_eq!(m["outcome"], "succeeded", "{m}");
    }
    assert_eq!(files_under(&cold_root.join("runs")).len(), 2);
}

#[test]
fn compact_archive_and_restore_keep_the_marts_on_a_local_folder() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let old = lake_with_history(&lake);
    let cold = dir.path().join("cold");
    round_trip(
        None,
        lake.to_str().unwrap(),
        &lake,
        cold.to_str().unwrap(),
        &cold,
        &old,
        true,
    );
}

#[test]
fn compact_archive_and_restore_keep_the_marts_on_s3() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed");
    let old = lake_with_history(&seed);
    let root = dir.path().join("s3root");
    std::fs::create_dir_all(root.join("metrics")).unwrap(); // the lake's bucket
    std::fs::create_dir_all(root.join("glacier")).unwrap(); // the cold store's
    let (_server, port) = start_s3(&root);
    let env = Some(port);

    // A folder is a cold store too: restoring the seed fills the bucket's raw zone.
    json(
        env,
        &[
            "lake",
            "restore",
            "--lake",
            "s3://metrics/team/lake",
            "--from",
            seed.to_str().unwrap(),
        ],
    );
    let lake_root = root.join("metrics/team/lake");
    assert_eq!(
        files_under(&lake_root.join("raw")),
        files_under(&seed.join("raw"))
    );
    round_trip(
        env,
        "s3://metrics/team/lake",
        &lake_root,
        "s3://glacier/flowlake",
        &root.join("glacier/flowlake"),
        &old,
        false,
    );
}
