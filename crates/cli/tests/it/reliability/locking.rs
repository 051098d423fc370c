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

/// The lease on a real S3 server: create-if-absent (`If-None-Match: *`), renewal by ETag
/// (`If-Match`), a second holder refused, an expired lease taken over.
#[test]
fn the_lock_holds_on_s3() {
    use flowlake_lake::{Lake, LakeOptions, LockOptions};
    use std::time::Duration;

    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("s3root");
    std::fs::create_dir_all(root.join("metrics")).unwrap();
    let (_server, port) = crate::s3::start_s3(&root);
    let options = LakeOptions {
        s3: [
            ("endpoint", format!("http://127.0.0.1:{port}")),
            ("allow_http", "true".into()),
            ("region", "us-east-1".into()),
            ("access_key_id", crate::s3::KEY.into()),
            ("secret_access_key", crate::s3::SECRET.into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
    };
    let lake = Lake::open_with("s3://metrics/lake", &options).unwrap();
    let quick = LockOptions {
        ttl: Duration::from_millis(900),
        wait: Duration::ZERO,
        poll: Duration::from_millis(50),
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let a = lake.lock("run-a", "build", &quick).await.unwrap();
        let err = lake.lock("run-b", "build", &quick).await.unwrap_err();
        assert!(err.to_string().contains("run-a"), "{err}");
        // Renewed by ETag past its ttl: still held, still refusing others.
        tokio::time::sleep(Duration::from_millis(2000)).await;
        a.ensure_held().await.unwrap();
        assert!(lake.lock("run-b", "build", &quick).await.is_err());
        a.release().await.unwrap();
        let b = lake.lock("run-b", "build", &quick).await.unwrap();
        b.release().await.unwrap();
    });
    // A lease left by a run on another host that has expired: taken over.
    let dead = serde_json::json!({
        "lease_id": "dead-1", "run_id": "crashed", "command": "build", "host": "elsewhere",
        "pid": 1, "started_at": chrono::Utc::now() - chrono::Duration::hours(1),
        "expires_at": chrono::Utc::now() - chrono::Duration::minutes(5),
    });
    rt.block_on(async {
        lake.put_json(flowlake_lake::LOCK_PATH, &dead)
            .await
            .unwrap();
        let c = lake.lock("run-c", "build", &quick).await.unwrap();
        assert_eq!(c.holder().await.run_id, "run-c");
        c.release().await.unwrap();
        assert!(lake.lock_holder().await.unwrap().is_none());
    });
}
