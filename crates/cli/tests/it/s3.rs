//! The pipeline against a real S3-compatible server (s3s-fs, which checks SigV4 signatures)
//! on loopback. `make test` installs it and exports `S3S_FS_BIN`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) const KEY: &str = "flowlake-test-key";
pub(crate) const SECRET: &str = "flowlake-test-secret-0123456789";

pub(crate) fn start_s3(root: &std::path::Path) -> (Server, u16) {
    let port = free_port();
    (start_s3_on(root, port), port)
}

/// s3s-fs serving `root` on `port` (again, after a stop: the same objects, the same address).
pub(crate) fn start_s3_on(root: &std::path::Path, port: u16) -> Server {
    let bin = std::env::var("S3S_FS_BIN").unwrap_or_else(|_| "s3s-fs".into());
    let child = Command::new(&bin)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--access-key",
            KEY,
            "--secret-key",
            SECRET,
        ])
        .arg(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {bin} ({e}); run `make tools` to install s3s-fs"));
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "s3s-fs did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

pub(crate) fn with_s3_env(cmd: &mut Command, port: u16) -> &mut Command {
    cmd.env("AWS_ENDPOINT", format!("http://127.0.0.1:{port}"))
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
}

#[test]
fn s3_lake_holds_the_same_marts_as_a_local_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s3root");
    std::fs::create_dir_all(root.join("metrics")).unwrap(); // the bucket
    let (_server, port) = start_s3(&root);

    run_ok(with_s3_env(&mut flowlake(), port).args([
        "demo",
        "--lake",
        "s3://metrics/team/lake",
        "--json",
    ]));
    let local = dir.path().join("local");
    run_ok(flowlake().args(["demo", "--lake", local.to_str().unwrap(), "--json"]));

    for m in MARTS {
        let s3_file = root.join(format!("metrics/team/lake/marts/{m}/data.parquet"));
        let local_file = local.join(format!("marts/{m}/data.parquet"));
        let (a, b) = (sorted_rows(&s3_file), sorted_rows(&local_file));
        assert!(!a.is_empty() || m == "fct_incidents", "{m} is empty");
        assert_eq!(a, b, "{m} differs between S3 and the local folder");
    }
    // Raw files and state landed in the bucket with the documented layout.
    let objects = files_under(&root.join("metrics/team/lake"));
    assert!(
        objects
            .iter()
            .any(|p| p.starts_with("raw/github/pull_requests")
                && p.to_string_lossy().contains("ingest_date="))
    );
    assert!(objects.iter().any(|p| p.starts_with("state/github/acme")));

    // SQL straight over the bucket.
    let out = run_ok(with_s3_env(&mut flowlake(), port).args([
        "sql",
        "--lake",
        "s3://metrics/team/lake",
        "--format",
        "csv",
        "-e",
        "select count(*) as n from fct_pull_requests",
    ]));
    let n: u64 = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(n > 1000);

    // Wrong keys: s3s-fs checks signatures, so this is a clear failure, not a silent success.
    let err = run_err(
        with_s3_env(&mut flowlake(), port)
            .env("AWS_SECRET_ACCESS_KEY", "wrong-secret-000000000000")
            .args(["build", "--lake", "s3://metrics/team/lake"]),
    );
    assert!(err.starts_with("flowlake: "), "{err}");
    assert!(!err.contains("wrong-secret"), "secret leaked: {err}");
}
