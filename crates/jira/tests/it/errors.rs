//! Runs that fail: a bad token, a bad site URL, an unknown project key, retries running out
//! after good pages. Each gives a clear error, writes nothing past the last good page, leaves
//! the state where it was, and never lets a secret into a file or a message.

use flowlake_jira::{Auth, Flavor, Secret};
use flowlake_model::Entity;
use flowlake_sim::SimConfig;

use crate::common::*;

#[tokio::test]
async fn a_bad_token_fails_first_and_writes_nothing() {
    let sim = spawn(sim_config()).await;
    for flavor in [Flavor::Cloud, Flavor::DataCenter] {
        let t = temp_lake();
        let mut cfg = config(&sim, flavor, &["PAY"]);
        cfg.auth = match flavor {
            Flavor::Cloud => Auth::ApiToken {
                email: EMAIL.into(),
                token: Secret::new(format!("{API_TOKEN}-revoked")),
            },
            Flavor::DataCenter => Auth::PersonalAccessToken(Secret::new(format!("{PAT}x"))),
        };
        let out = ingest(&t.lake, &sim, cfg, "run-1").await;
        let err = out.error();
        assert!(
            err.starts_with(&format!(
                "Jira rejected the credentials for {} (401 at GET /rest/api/",
                sim.base_url()
            )),
            "{err}"
        );
        assert!(err.contains("check"), "{err}");
        assert_eq!(out.spend.requests, 1, "no retry of a 401");
        assert!(files_under(t.dir.path()).is_empty());
        assert_no_secret(t.dir.path(), &err);
    }
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_bad_site_url_names_the_url() {
    let sim = spawn(sim_config()).await;
    // Nothing listens on a port just freed.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let refused = format!("http://127.0.0.1:{port}");
    let wrong_path = format!("{}/jira", sim.base_url());
    for url in [refused, wrong_path] {
        let t = temp_lake();
        let mut cfg = config(&sim, Flavor::Cloud, &["PAY"]);
        cfg.base_url = url.clone();
        let out = ingest(&t.lake, &sim, cfg, "run-1").await;
        let err = out.error();
        assert!(
            err.starts_with(&format!("no Jira cloud REST API at {url} (")),
            "{err}"
        );
        assert!(err.contains("check [jira] base_url"), "{err}");
        assert!(out.spend.requests <= 3, "fails fast: {:?}", out.spend);
        assert!(files_under(t.dir.path()).is_empty());
        assert_no_secret(t.dir.path(), &err);
    }
    sim.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unknown_project_key_is_named_before_anything_is_written() {
    let sim = spawn(sim_config()).await;
    let t = temp_lake();
    let mut cfg = config(&sim, Flavor::DataCenter, &["PAY", "NOPE"]);
    cfg.incidents.projects = vec!["OPS".into()];
    let out = ingest(&t.lake, &sim, cfg, "run-1").await;
    let err = out.error();
    assert_eq!(
        err,
        format!(
            "Jira project `NOPE` does not exist at {} or the account cannot see it (404): check the key in [jira] projects",
            sim.base_url()
        )
    );
    assert!(files_under(t.dir.path()).is_empty());
    sim.shutdown().await.unwrap();
}

/// Retries run out half-way: the pages fetched before are written whole, nothing of the
/// failed page is, no state is saved, and a later run completes the lake.
#[tokio::test]
async fn a_failure_after_good_pages_keeps_whole_pages_and_the_old_state() {
    let mut failed_mid_search = false;
    for seed_offset in 0..6u64 {
        let sim = spawn(SimConfig {
            faults: 0.08,
            seed: SEED + 1000 * seed_offset,
            ..sim_config()
        })
        .await;
        let t = temp_lake();
        let mut cfg = config(&sim, Flavor::Cloud, &["PAY"]);
        cfg.page_size = 50;
        cfg.max_retries = 0;
        let out = ingest(&t.lake, &sim, cfg.clone(), "run-1").await;
        let Err(e) = &out.result else {
            sim.shutdown().await.unwrap();
            continue;
        };
        let err = error_chain(e);
        assert!(err.contains("failed after 1 attempts"), "{err}");
        assert!(state(&t.lake, "PAY").await.is_none(), "state not advanced");
        assert_no_secret(t.dir.path(), &err);
        let written = rows(&t.lake, Entity::JiraIssues).await;
        let n_pay = org().jira_issues_at("PAY", t0()).len();
        if !written.is_empty() && written.len() < n_pay {
            failed_mid_search = true;
            // Whole pages only, in search order (updated, key): a prefix of the truth.
            assert_eq!(written.len() % 50, 0, "{} issues written", written.len());
            let mut truth: Vec<_> = org()
                .jira_issues_at("PAY", t0())
                .into_iter()
                .map(|(i, s)| (s.updated, s.key.clone(), i.id.to_string()))
                .collect();
            truth.sort_by(|a, b| {
                a.0.cmp(&b.0).then_with(|| {
                    let n = |k: &str| k.rsplit_once('-').map(|(_, n)| n.parse::<u64>().unwrap());
                    n(&a.1).cmp(&n(&b.1))
                })
            });
            let want: std::collections::BTreeSet<String> = truth
                .iter()
                .take(written.len())
                .map(|t| t.2.clone())
                .collect();
            let got: std::collections::BTreeSet<String> =
                written.iter().map(|r| r["issue_id"].clone()).collect();
            assert_eq!(got, want, "the first pages of the search");
            // No changelog item of an issue that was not written.
            for r in rows(&t.lake, Entity::JiraChangelogItems).await {
                assert!(got.contains(&r["issue_id"]), "item of {}", r["issue_id"]);
            }
        }
        sim.shutdown().await.unwrap();
        // A healthy run afterwards completes the lake.
        let sim = spawn(sim_config()).await;
        cfg.base_url = sim.base_url();
        ingest(&t.lake, &sim, cfg, "run-2").await.report();
        assert_issues_match_truth(&t.lake, &["PAY"], &[], t0()).await;
        assert!(state(&t.lake, "PAY").await.is_some());
        sim.shutdown().await.unwrap();
        if failed_mid_search {
            break;
        }
    }
    assert!(
        failed_mid_search,
        "no seed failed in the middle of the search"
    );
}

/// Collects log output in memory.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_at_debug_level_carry_no_secret() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // The test runtime runs on this thread, so a thread-local subscriber sees every event.
    let _guard = tracing::subscriber::set_default(subscriber);
    let sim = spawn(SimConfig {
        faults: 0.2,
        ..sim_config()
    })
    .await;
    let t = temp_lake();
    let mut cfg = config(&sim, Flavor::Cloud, &[]);
    cfg.incidents.projects = vec!["OPS".into()];
    cfg.max_retries = 10;
    ingest(&t.lake, &sim, cfg.clone(), "run-1").await.report();
    cfg.auth = Auth::ApiToken {
        email: EMAIL.into(),
        token: Secret::new(format!("{API_TOKEN}-old")),
    };
    let err = ingest(&t.lake, &sim, cfg, "run-2").await.error();
    sim.shutdown().await.unwrap();
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("retrying"), "debug logs were captured");
    assert_no_secret(t.dir.path(), &format!("{text}\n{err}"));
}
