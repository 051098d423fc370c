//! The audit trail and what leaves the process: manifests and `runs list|show|diff`, a
//! webhook told about a failed run, and secrets (an environment token, a token file, the
//! webhook URL) absent from every log line, error, manifest, Parquet file and message.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use flowlake_sim::SimConfig;

use super::harness::*;
use crate::util::*;

/// A webhook receiver on loopback: every request body it gets.
struct Receiver {
    port: u16,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let sink = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let body = loop {
                    let n = s.read(&mut chunk).unwrap_or(0);
                    if n == 0 {
                        break None;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len: usize = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse().ok())?
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            break Some(
                                String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string(),
                            );
                        }
                    }
                };
                if let Some(b) = body {
                    sink.lock().unwrap().push(b);
                }
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                );
            }
        });
        Receiver { port, bodies }
    }

    /// A Slack-like URL whose path is the secret.
    fn url(&self) -> String {
        format!(
            "http://127.0.0.1:{}/services/T0SECRET/B0SECRET/hookSECRETxyz123",
            self.port
        )
    }
}

const NOTIFY: &str = r#"
[notify]
webhook_url_env = "FLOWLAKE_RELIABILITY_WEBHOOK"
format = "slack"
"#;

#[test]
fn secrets_stay_out_of_logs_errors_manifests_parquet_and_messages() {
    let org = Org::start(SimConfig {
        revoke_token_after: Some(25),
        ..Org::secret_config()
    });
    let hook = Receiver::start();
    let tmp = tempfile::tempdir().unwrap();
    let dir = org.workdir(
        &tmp.path().join("w"),
        &["ingest-github", "ingest-jira", "build"],
        NOTIFY,
    );
    let lake = tmp.path().join("lake");
    // The most verbose logging there is, HTTP clients included.
    let out = org
        .run_cmd(&dir, lake.to_str().unwrap())
        .env("RUST_LOG", "trace")
        .env("FLOWLAKE_RELIABILITY_WEBHOOK", hook.url())
        .output()
        .unwrap();
    assert_eq!(code(&out), 3, "{}", describe(&out));
    let secrets = [
        org.cfg.token.clone(),
        org.cfg.jira_api_token.clone(),
        "hookSECRETxyz123".to_string(),
    ];
    let mut places: Vec<(String, Vec<u8>)> = vec![
        ("stdout".into(), out.stdout.clone()),
        ("stderr".into(), out.stderr.clone()),
    ];
    for rel in files_under(&lake) {
        places.push((
            rel.display().to_string(),
            std::fs::read(lake.join(&rel)).unwrap(),
        ));
    }
    let bodies = hook.bodies.lock().unwrap().clone();
    assert_eq!(
        bodies.len(),
        1,
        "one message for the partial run: {bodies:?}"
    );
    places.push(("webhook message".into(), bodies[0].clone().into_bytes()));
    assert!(
        String::from_utf8_lossy(&out.stderr).lines().count() > 50,
        "trace logging was on"
    );
    for (place, bytes) in &places {
        for s in &secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "secret {s:?} found in {place}"
            );
        }
    }
    let msg: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    let text = msg["text"].as_str().unwrap();
    assert!(text.contains("`nightly` partial (exit 3)"), "{text}");
}

#[test]
fn a_failed_run_sends_one_message_and_a_succeeded_one_none() {
    let org = Org::start(Org::secret_config());
    let hook = Receiver::start();
    let tmp = tempfile::tempdir().unwrap();
    let dir = org.workdir(&tmp.path().join("w"), &["build"], NOTIFY);
    let lake = tmp.path().join("lake");
    let run = || {
        org.run_cmd(&dir, lake.to_str().unwrap())
            .env("FLOWLAKE_RELIABILITY_WEBHOOK", hook.url())
            .output()
            .unwrap()
    };
    let out = run();
    assert_eq!(code(&out), 0, "{}", describe(&out));
    assert!(
        hook.bodies.lock().unwrap().is_empty(),
        "success is not notified by default"
    );
    // Another host holds the lake: the run fails with 4, and the webhook hears of it.
    let lease = serde_json::json!({
        "lease_id": "x", "run_id": "elsewhere-run", "command": "build", "host": "another-host",
        "pid": 1, "started_at": chrono::Utc::now(),
        "expires_at": chrono::Utc::now() + chrono::Duration::minutes(10),
    });
    std::fs::write(lake.join("locks/lake.json"), lease.to_string()).unwrap_or_else(|_| {
        std::fs::create_dir_all(lake.join("locks")).unwrap();
        std::fs::write(lake.join("locks/lake.json"), lease.to_string()).unwrap();
    });
    let out = run();
    assert_eq!(code(&out), 4, "{}", describe(&out));
    let bodies = hook.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let msg: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert!(
        msg["text"].as_str().unwrap().contains("failed (exit 4)"),
        "{msg}"
    );
    assert!(!bodies[0].contains("hookSECRET"), "{}", bodies[0]);
}

#[test]
fn runs_list_show_and_diff_read_the_manifests() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = tmp.path().join("lake");
    let lake_s = lake.to_str().unwrap();
    run_ok(flowlake().args(["demo", "--lake", lake_s, "--json"]));
    let changed = tmp.path().join("changed.toml");
    std::fs::write(&changed, "[marts]\nincident_window_h = 48.0\n").unwrap();
    run_ok(flowlake().args([
        "--config",
        changed.to_str().unwrap(),
        "build",
        "--lake",
        lake_s,
    ]));

    let out = run_ok(flowlake().args(["runs", "list", "--lake", lake_s, "--json"]));
    let runs: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let commands: Vec<&str> = runs
        .iter()
        .map(|r| r["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        commands,
        ["build", "build", "demo", "demo"],
        "newest first: {runs:?}"
    );
    for r in &runs {
        assert_eq!(r["outcome"], "succeeded");
        assert!(r["rows"].as_u64().unwrap() > 0, "{r}");
    }
    assert!(
        runs[2]["api_requests"].as_u64().unwrap() > 0
            || runs[3]["api_requests"].as_u64().unwrap() > 0
    );
    // The table names every run.
    let out = run_ok(flowlake().args(["runs", "list", "--lake", lake_s]));
    let table = String::from_utf8(out.stdout).unwrap();
    for r in &runs {
        assert!(table.contains(r["run_id"].as_str().unwrap()), "{table}");
    }
    // diff: the changed setting, and only configuration that changed.
    let (old, new) = (
        runs[1]["run_id"].as_str().unwrap(),
        runs[0]["run_id"].as_str().unwrap(),
    );
    let out = run_ok(flowlake().args(["runs", "diff", old, new, "--lake", lake_s, "--json"]));
    let d: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let config: Vec<&str> = d
        .iter()
        .filter(|c| c["section"] == "config")
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert!(config.contains(&"marts.incident_window_h"), "{d:?}");
    assert!(!config.iter().any(|k| k.starts_with("lake")), "{d:?}");
    let out = run_ok(flowlake().args(["runs", "diff", old, new, "--lake", lake_s]));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("marts.incident_window_h") && text.contains("48"),
        "{text}"
    );
    let out = run_ok(flowlake().args(["runs", "show", new, "--lake", lake_s]));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("mart_dora") && text.contains("build "),
        "{text}"
    );
    // Unknown run: a usage error.
    let out = flowlake()
        .args(["runs", "show", "nope", "--lake", lake_s])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_unreachable_webhook_never_changes_the_outcome() {
    let org = Org::start(Org::secret_config());
    let tmp = tempfile::tempdir().unwrap();
    let notify = "[notify]\nwebhook_url_env = \"FLOWLAKE_RELIABILITY_WEBHOOK\"\non = [\"success\"]\ntimeout = \"2s\"\n";
    let dir = org.workdir(&tmp.path().join("w"), &["build"], notify);
    let dead = format!("http://127.0.0.1:{}/hooks/SECRETdead", free_port());
    let started = std::time::Instant::now();
    let out = org
        .run_cmd(&dir, tmp.path().join("lake").to_str().unwrap())
        .env("FLOWLAKE_RELIABILITY_WEBHOOK", &dead)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("notification could not be delivered"), "{err}");
    assert!(!err.contains("SECRETdead"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}
