//! Two runs on one lake: the second waits or exits 4 naming the holder; neither sees a
//! storage error; the marts equal a single run's.

use std::process::Stdio;

use super::harness::*;
use crate::util::*;

#[test]
fn concurrent_builds_queue_or_exit_4_and_the_marts_equal_a_single_run() {
    let org = Org::start(Org::secret_config());
    let tmp = tempfile::tempdir().unwrap();
    let dir = org.workdir(
        &tmp.path().join("work"),
        &["ingest-github", "ingest-jira"],
        "",
    );
    let lake = tmp.path().join("lake");
    let lake_s = lake.to_str().unwrap();
    let out = org.run(&dir, lake_s);
    assert_eq!(code(&out), 0, "{}", describe(&out));
    let build = |wait: &str| {
        let mut c = flowlake();
        c.current_dir(&dir)
            .args(["build", "--lake", lake_s, "--config", "flowlake.toml"]);
        if !wait.is_empty() {
            c.args(["--wait", wait]);
        }
        c
    };
    // A single build: the reference.
    run_ok(&mut build(""));
    let want = published_marts(&lake);

    // Two at once, without waiting: one builds, the other exits 4 naming the holder.
    let a = build("")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let b = build("")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let mut codes = [code(&a), code(&b)];
    codes.sort();
    assert_eq!(codes, [0, 4], "a: {}\nb: {}", describe(&a), describe(&b));
    let loser = if code(&a) == 4 { &a } else { &b };
    let msg = String::from_utf8_lossy(&loser.stderr);
    assert!(
        msg.contains("is locked by run") && msg.contains("build") && msg.contains("pid"),
        "{msg}"
    );
    for o in [&a, &b] {
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(
            !e.contains("Parquet") && !e.contains("Src size"),
            "storage error: {e}"
        );
    }
    assert_eq!(published_marts(&lake), want);

    // Two at once, both waiting: both build, one after the other.
    let a = build("2m")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let b = build("2m")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_eq!(
        (code(&a), code(&b)),
        (0, 0),
        "a: {}\nb: {}",
        describe(&a),
        describe(&b)
    );
    check_integrity(&lake);
    assert_eq!(published_marts(&lake), want);
}

#[test]
fn a_lease_from_another_host_blocks_until_it_expires() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = tmp.path().join("lake");
    std::fs::create_dir_all(lake.join("locks")).unwrap();
    let now = chrono::Utc::now();
    let lease = |expires: chrono::DateTime<chrono::Utc>| {
        serde_json::json!({
            "lease_id": format!("other-{}", expires.timestamp()), "run_id": "20261201T000000Z-otherhost",
            "command": "run nightly", "host": "another-host", "pid": 1,
            "started_at": now, "expires_at": expires,
        })
        .to_string()
    };
    std::fs::write(
        lake.join("locks/lake.json"),
        lease(now + chrono::Duration::minutes(5)),
    )
    .unwrap();
    let out = flowlake()
        .args(["build", "--lake", lake.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(code(&out), 4, "{}", describe(&out));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        msg.contains("another-host") && msg.contains("run nightly"),
        "{msg}"
    );
    // Expired: taken over, and the build runs.
    std::fs::write(
        lake.join("locks/lake.json"),
        lease(now - chrono::Duration::minutes(1)),
    )
    .unwrap();
    let out = flowlake()
        .args(["build", "--lake", lake.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", describe(&out));
    assert!(!lake.join("locks/lake.json").exists());
}
