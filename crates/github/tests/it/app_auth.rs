//! GitHub App auth: the App's key signs a JWT, octocrab trades it for an installation token at
//! `/app/installations/{id}/access_tokens`, and the connector runs on that token. Also the
//! GitHub Enterprise URL layout (`/api/v3` for REST, `/api/graphql`).

use flowlake_github::{Auth, Error, GithubConfig, Secret};
use flowlake_model::Entity;

use crate::common::*;

fn key() -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/github/test-app-key.pem");
    std::fs::read_to_string(p).expect("test key")
}

fn app_config(sim: &flowlake_sim::SimHandle, app_id: u64, installation_id: u64) -> GithubConfig {
    GithubConfig {
        auth: Auth::App {
            app_id,
            installation_id,
            private_key_pem: Secret::new(key()),
        },
        ..gh_config(sim, &two_repos()[..1])
    }
}

#[tokio::test]
async fn app_installation_token_ingests_the_repo() {
    let sim = spawn(sim_config()).await;
    let t = temp_lake();
    let cfg = app_config(&sim, sim.config().app_id, sim.config().installation_id);
    let out = ingest(&t.lake, &sim, cfg, "run-app").await;
    if let Err(e) = &out.result {
        panic!("app auth failed: {e:?}; sim saw {:?}", sim.stats().by_route);
    }
    let prs = rows(&t.lake, Entity::GithubPullRequests).await;
    assert!(!prs.is_empty());
    // The PEM never reaches the lake.
    let pem_line = key().lines().nth(1).unwrap().to_string();
    for f in files_under(t.dir.path()) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes
                .windows(pem_line.len())
                .any(|w| w == pem_line.as_bytes()),
            "{}",
            f.display()
        );
    }
}

#[tokio::test]
async fn wrong_app_or_installation_is_a_clear_auth_error() {
    let sim = spawn(sim_config()).await;
    for (app, inst) in [
        (999, sim.config().installation_id),
        (sim.config().app_id, 31337),
    ] {
        let t = temp_lake();
        let out = ingest(&t.lake, &sim, app_config(&sim, app, inst), "run-bad-app").await;
        let err = out.result.expect_err("refused");
        assert!(matches!(err, Error::AppAuth { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("app_id") && text.contains("installation_id"),
            "{text}"
        );
        assert!(out.files.is_empty());
    }
}

// Regression: octocrab prefixed its base path onto every request, so a GHE base URL
// (`https://HOST/api/v3`) sent GraphQL to `/api/v3/api/graphql`.
#[tokio::test]
async fn enterprise_base_url_reaches_rest_and_graphql() {
    let sim = spawn(sim_config()).await;
    let t = temp_lake();
    let cfg = GithubConfig {
        base_url: format!("{}/api/v3", sim.base_url()),
        ..gh_config(&sim, &[])
    };
    assert!(cfg.graphql_url().ends_with("/api/graphql"));
    let out = ingest(&t.lake, &sim, cfg, "run-ghe").await;
    out.result.expect("GHE layout works");
    let stats = sim.stats();
    assert!(
        stats.graphql_requests > 0 && stats.rest_requests > 0,
        "{stats:?}"
    );
    assert!(!rows(&t.lake, Entity::GithubReleases).await.is_empty());
}
