//! Bad input: one clear message naming the setting and the fix, the documented exit code (2
//! usage or configuration, 3 a source refused, 5 the lake), nothing written.

use std::time::{Duration, Instant};

use crate::util::*;

#[test]
fn malformed_config_names_the_key_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("flowlake.toml");
    std::fs::write(
        &cfg,
        "[lake]\nurl = \"./lake\"\n\n[marts]\nincident_windw_h = 12\n",
    )
    .unwrap();
    let lake = dir.path().join("lake");
    let (code, err) = run_code(flowlake().current_dir(dir.path()).args([
        "--config",
        cfg.to_str().unwrap(),
        "build",
        "--lake",
        lake.to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "exit code: {err}");
    assert!(
        err.contains("incident_windw_h") && err.contains("flowlake.toml"),
        "{err}"
    );
    assert_eq!(
        err.lines().filter(|l| l.starts_with("flowlake:")).count(),
        1,
        "{err}"
    );
    assert!(!lake.exists());

    std::fs::write(&cfg, "[marts]\ndora_bands_version = \"2019\"\n").unwrap();
    let (code, err) = run_code(flowlake().args([
        "--config",
        cfg.to_str().unwrap(),
        "build",
        "--lake",
        lake.to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "exit code: {err}");
    assert!(
        err.contains("marts.dora_bands_version") && err.contains("\"2023\""),
        "{err}"
    );

    std::fs::write(&cfg, "[lake\nurl = 3\n").unwrap();
    let (code, err) = run_code(flowlake().args(["--config", cfg.to_str().unwrap(), "build"]));
    assert_eq!(code, 2, "exit code: {err}");
    assert!(
        err.contains("is not valid") && err.contains("line 1"),
        "{err}"
    );
    assert!(!lake.exists());
}

#[test]
fn unknown_lake_scheme_says_which_schemes_work() {
    let (code, err) = run_code(flowlake().args(["build", "--lake", "ftp://host/lake"]));
    assert_eq!(code, 2, "exit code: {err}");
    assert!(
        err.contains("unknown scheme `ftp`") && err.contains("s3://bucket/prefix"),
        "{err}"
    );
}

#[test]
fn unreachable_s3_endpoint_fails_fast_and_names_the_setting() {
    let port = free_port(); // nothing listens there
    let started = Instant::now();
    let (code, err) = run_code(
        flowlake()
            .env("AWS_ENDPOINT", format!("http://127.0.0.1:{port}"))
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "k")
            .env("AWS_SECRET_ACCESS_KEY", "s3cr3t-value")
            .args(["build", "--lake", "s3://bucket/lake"]),
    );
    assert_eq!(code, 5, "exit code: {err}");
    assert!(
        err.contains("unreachable") && err.contains("AWS_ENDPOINT"),
        "{err}"
    );
    assert!(!err.contains("s3cr3t-value"));
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn bad_token_is_one_clear_error_and_writes_nothing() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(flowlake_sim::spawn(flowlake_sim::SimConfig::default()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let token = "ghp_definitelyNotTheRightToken123";
    let (code, err) = run_code(flowlake().env("GITHUB_TOKEN", token).args([
        "ingest",
        "github",
        "--org",
        "acme",
        "--base-url",
        &sim.base_url(),
        "--lake",
        lake.to_str().unwrap(),
    ]));
    assert_eq!(code, 3, "exit code: {err}");
    assert!(err.contains("401") && err.contains("GITHUB_TOKEN"), "{err}");
    assert!(!err.contains(token), "token leaked: {err}");
    assert_eq!(
        files_under(&lake),
        Vec::<std::path::PathBuf>::new(),
        "nothing written"
    );

    // No token at all: said before any request.
    let (code, err) = run_code(flowlake().args([
        "ingest",
        "github",
        "--org",
        "acme",
        "--base-url",
        &sim.base_url(),
        "--lake",
        lake.to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "exit code: {err}");
    assert!(err.contains("export GITHUB_TOKEN"), "{err}");

    // A good run, then an unknown repo: the failure leaves the good watermarks alone.
    run_ok(flowlake().env("GITHUB_TOKEN", "sim-token").args([
        "ingest",
        "github",
        "--org",
        "acme",
        "--base-url",
        &sim.base_url(),
        "--lake",
        lake.to_str().unwrap(),
    ]));
    let state_before: Vec<_> = files_under(&lake.join("state"))
        .into_iter()
        .map(|p| std::fs::read(lake.join("state").join(&p)).unwrap())
        .collect();
    let (code, err) = run_code(flowlake().env("GITHUB_TOKEN", "sim-token").args([
        "ingest",
        "github",
        "--org",
        "acme",
        "--repo",
        "acme/does-not-exist",
        "--base-url",
        &sim.base_url(),
        "--lake",
        lake.to_str().unwrap(),
    ]));
    assert_eq!(code, 3, "exit code: {err}");
    assert!(
        err.contains("does-not-exist") && err.contains("404") || err.contains("Could not resolve"),
        "{err}"
    );
    let state_after: Vec<_> = files_under(&lake.join("state"))
        .into_iter()
        .map(|p| std::fs::read(lake.join("state").join(&p)).unwrap())
        .collect();
    assert_eq!(state_before, state_after, "no watermark moved");
    drop(sim);
}

#[test]
fn bad_events_file_names_the_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let f = dir.path().join("events.ndjson");
    std::fs::write(
        &f,
        concat!(
            r#"{"type":"deployment","source":"argo","id":"1","service":"acme/api","status":"success","finished_at":"2026-10-01T10:00:00Z"}"#, "\n",
            r#"{"type":"deployment","source":"argo","id":"2","service":"acme/api","status":"success","finished_at":"yesterday"}"#, "\n",
        ),
    )
    .unwrap();
    let (code, err) = run_code(flowlake().args([
        "ingest",
        "events",
        f.to_str().unwrap(),
        "--lake",
        lake.to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "exit code: {err}");
    assert!(
        err.contains("line 2") && err.contains("finished_at"),
        "{err}"
    );
    assert!(!lake.exists());
}

#[test]
fn jira_bad_token_site_or_project_is_a_clear_error_and_writes_nothing() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(flowlake_sim::spawn(flowlake_sim::SimConfig::default()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let config = dir.path().join("flowlake.toml");
    std::fs::write(
        &config,
        format!(
            "[jira]\nbase_url = \"{}\"\nworkspace = \"acme-jira\"\nemail = \"sim@acme.test\"\nprojects = [\"PAY\"]\n",
            sim.base_url()
        ),
    )
    .unwrap();
    let ingest = |token: &str, extra: &[&str]| {
        let mut cmd = flowlake();
        cmd.env("JIRA_API_TOKEN", token).args([
            "--config",
            config.to_str().unwrap(),
            "ingest",
            "jira",
            "--lake",
            lake.to_str().unwrap(),
        ]);
        cmd.args(extra);
        cmd
    };
    let nothing = || {
        assert_eq!(
            files_under(&lake),
            Vec::<std::path::PathBuf>::new(),
            "nothing written"
        );
    };
    // A wrong API token: one clear error naming the variable, never the token.
    let token = "ATATT-definitelyNotTheRightToken";
    let (code, err) = run_code(&mut ingest(token, &[]));
    assert_eq!(code, 3, "exit code: {err}");
    assert!(
        err.contains("401") && err.contains("JIRA_API_TOKEN"),
        "{err}"
    );
    assert!(!err.contains(token), "token leaked: {err}");
    nothing();
    // A site that is not there: the error names the URL.
    let (code, err) = run_code(&mut ingest(
        "sim-jira-token",
        &["--base-url", "http://127.0.0.1:9"],
    ));
    assert_eq!(code, 3, "exit code: {err}");
    assert!(err.contains("http://127.0.0.1:9"), "{err}");
    nothing();
    // An unknown project key.
    let (code, err) = run_code(&mut ingest("sim-jira-token", &["--project", "NOPE"]));
    assert_eq!(code, 2, "exit code: {err}");
    assert!(err.contains("NOPE"), "{err}");
    nothing();
    // A project key that is not a key at all: refused before any request.
    let (code, err) = run_code(&mut ingest("sim-jira-token", &["--project", "pay; drop"]));
    assert_eq!(code, 2, "exit code: {err}");
    assert!(err.contains("not a Jira project key"), "{err}");
    nothing();
    // And the right token works.
    run_ok(&mut ingest("sim-jira-token", &[]));
    assert!(
        !files_under(&lake.join("raw/jira/issues")).is_empty(),
        "issues landed"
    );
    drop(sim);
}

#[test]
fn config_and_pipeline_mistakes_are_usage_errors_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let cfg = dir.path().join("flowlake.toml");
    let build = |cfg: &std::path::Path| {
        let mut c = flowlake();
        c.args([
            "--config",
            cfg.to_str().unwrap(),
            "build",
            "--lake",
            lake.to_str().unwrap(),
        ]);
        c
    };
    // An unknown key: the nearest valid one is suggested.
    std::fs::write(&cfg, "[github]\norg = \"acme\"\ntokn_env = \"GH\"\n").unwrap();
    let (code, err) = run_code(&mut build(&cfg));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("did you mean `token_env`?"), "{err}");
    // A wrong type.
    std::fs::write(&cfg, "[marts]\nincident_window_h = \"twelve\"\n").unwrap();
    let (code, err) = run_code(&mut build(&cfg));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("incident_window_h") && err.contains("invalid type"),
        "{err}"
    );
    // A bad duration.
    std::fs::write(&cfg, "[lock]\nwait = \"10 minutes\"\n").unwrap();
    let (code, err) = run_code(&mut build(&cfg));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown unit"), "{err}");
    assert!(!lake.exists(), "nothing written");

    // Pipelines: an unknown key, an unknown step, a step whose settings are missing.
    let pipeline = dir.path().join("p.toml");
    let run = |extra: &[&str]| {
        let mut c = flowlake();
        c.args([
            "run",
            pipeline.to_str().unwrap(),
            "--lake",
            lake.to_str().unwrap(),
        ]);
        c.args(extra);
        c
    };
    std::fs::write(&pipeline, "name = \"x\"\nstpes = [\"build\"]\n").unwrap();
    let (code, err) = run_code(&mut run(&[]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("did you mean `steps`?"), "{err}");
    std::fs::write(&pipeline, "name = \"x\"\nsteps = [\"ingest-gihub\"]\n").unwrap();
    let (code, err) = run_code(&mut run(&[]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("did you mean `ingest-github`?"), "{err}");
    std::fs::write(
        &pipeline,
        "name = \"x\"\nsteps = [\"ingest-jira\", \"build\"]\n",
    )
    .unwrap();
    let (code, err) = run_code(&mut run(&[]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("[jira]"), "{err}");
    assert!(!lake.exists(), "nothing written");

    // --dry-run: the plan, and nothing touched.
    std::fs::write(&pipeline, "name = \"nightly\"\nsteps = [\"build\"]\n").unwrap();
    let out = run_ok(&mut run(&["--dry-run"]));
    let plan = String::from_utf8(out.stdout).unwrap();
    assert!(
        plan.contains("pipeline `nightly`") && plan.contains("1. build"),
        "{plan}"
    );
    assert!(plan.contains("dry run: nothing was run"), "{plan}");
    assert!(!lake.exists(), "a dry run wrote to the lake");
}

#[test]
fn the_shipped_pipelines_parse_and_do_not_import_sample_data() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pipelines");
    let daily = std::fs::read_to_string(root.join("daily.toml")).unwrap();
    assert!(
        !daily.contains("sample"),
        "daily.toml imports sample data:\n{daily}"
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("flowlake.toml");
    std::fs::write(&cfg, "[github]\norg = \"acme\"\n").unwrap();
    let out = run_ok(
        flowlake()
            .env("GITHUB_TOKEN", "x-token-for-the-plan")
            .args([
                "--config",
                cfg.to_str().unwrap(),
                "run",
                root.join("daily.toml").to_str().unwrap(),
                "--dry-run",
                "--lake",
                dir.path().join("lake").to_str().unwrap(),
            ]),
    );
    let plan = String::from_utf8(out.stdout).unwrap();
    assert!(
        plan.contains("ingest-github: GitHub org acme") && plan.contains("build"),
        "{plan}"
    );
    assert!(!dir.path().join("lake").exists());
}

#[test]
fn invalid_jql_is_a_configuration_error_naming_the_query() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(flowlake_sim::spawn(flowlake_sim::SimConfig::default()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let config = dir.path().join("flowlake.toml");
    std::fs::write(
        &config,
        format!(
            "[jira]\nbase_url = \"{}\"\nworkspace = \"acme-jira\"\nemail = \"sim@acme.test\"\nprojects = []\nincident_projects = [\"PAY\"]\nincident_jql = \"labels =\"\n",
            sim.base_url()
        ),
    )
    .unwrap();
    let (code, err) = run_code(flowlake().env("JIRA_API_TOKEN", "sim-jira-token").args([
        "--config",
        config.to_str().unwrap(),
        "ingest",
        "jira",
        "--lake",
        lake.to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("400") && err.contains("JQL"), "{err}");
    drop(sim);
}
