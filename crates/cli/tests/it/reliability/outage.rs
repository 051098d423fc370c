//! The S3 server stops in the middle of a run: the run exits 5 (the lake failed), nothing is
//! half-published, and once the server is back the next run completes with the marts an
//! uninterrupted run publishes.

use std::process::Stdio;
use std::time::{Duration, Instant};

use super::harness::*;
use crate::s3::{start_s3_on, with_s3_env};
use crate::util::*;

#[test]
fn the_s3_server_stopped_mid_run_then_back_gives_the_same_marts() {
    let org = Org::start(Org::secret_config());
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _, want) = org.reference(tmp.path());

    let root = tmp.path().join("s3root");
    std::fs::create_dir_all(root.join("metrics")).unwrap();
    let port = free_port();
    let server = start_s3_on(&root, port);
    let bucket_lake = root.join("metrics/lake");
    let child = with_s3_env(&mut org.run_cmd(&dir, "s3://metrics/lake"), port)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Stop the server as soon as the run has landed some raw data.
    let deadline = Instant::now() + Duration::from_secs(120);
    while files_under(&bucket_lake.join("raw")).is_empty() {
        assert!(Instant::now() < deadline, "the run wrote nothing to S3");
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(server);
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 5, "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unreachable") || err.contains("lake"), "{err}");
    assert!(
        !bucket_lake.join("marts/_current.json").exists(),
        "published during an outage"
    );

    // Back again: the same address, the same objects.
    let _server = start_s3_on(&root, port);
    let out = with_s3_env(&mut org.run_cmd(&dir, "s3://metrics/lake"), port)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", describe(&out));
    let got = published_marts(&bucket_lake);
    for (name, rows) in &want {
        assert!(got[name] == *rows, "{name} differs after the outage");
    }
}
