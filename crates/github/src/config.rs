use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// A secret that never prints.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How the connector authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    /// A personal access token or an installation token obtained elsewhere.
    Token(Secret),
    /// A GitHub App: its RS256 key signs a JWT that buys hour-long installation tokens, which
    /// octocrab renews as they expire.
    App {
        /// The App's id.
        app_id: u64,
        /// The installation on the org.
        installation_id: u64,
        /// The App's private key, PEM.
        private_key_pem: Secret,
    },
}

/// What the GitHub connector fetches and how.
#[derive(Debug, Clone)]
pub struct GithubConfig {
    /// The org (also the lake's `workspace` for its rows).
    pub org: String,
    /// REST base URL: `https://api.github.com`, or `https://HOST/api/v3` for Enterprise.
    pub base_url: String,
    /// Authentication.
    pub auth: Auth,
    /// Repos to ingest (`name` or `owner/name`); empty means every non-archived repo of the org.
    pub repos: Vec<String>,
    /// Where a first run starts; `None` fetches the whole history.
    pub since: Option<DateTime<Utc>>,
    /// How far before the watermark an incremental run looks again, against clock skew and
    /// late updates.
    pub overlap: Duration,
    /// Deployments and runs still in progress are fetched again; this bounds how far back.
    pub deployment_overlap: Duration,
    /// The label that marks incident issues.
    pub incident_label: String,
    /// Page size for GraphQL and REST (≤ 100).
    pub page_size: u32,
    /// Retries per request on 5xx, timeouts, truncated bodies and secondary limits.
    pub max_retries: u32,
    /// First retry backoff; doubles per retry with jitter, capped at 60 s.
    pub backoff: Duration,
    /// The longest primary rate-limit reset the connector waits for before failing.
    pub max_rate_limit_wait: Duration,
    /// Buffered PRs before a raw file is written.
    pub flush_rows: usize,
}

impl GithubConfig {
    /// Defaults for `org` against github.com.
    pub fn new(org: impl Into<String>, token: Secret) -> Self {
        GithubConfig {
            org: org.into(),
            base_url: "https://api.github.com".into(),
            auth: Auth::Token(token),
            repos: Vec::new(),
            since: None,
            overlap: Duration::from_secs(3600),
            deployment_overlap: Duration::from_secs(2 * 86_400),
            incident_label: "incident".into(),
            page_size: 100,
            max_retries: 6,
            backoff: Duration::from_millis(500),
            max_rate_limit_wait: Duration::from_secs(3600),
            flush_rows: 20_000,
        }
    }

    /// The GraphQL endpoint that goes with `base_url`.
    pub fn graphql_url(&self) -> String {
        let base = self.base_url.trim_end_matches('/');
        match base.strip_suffix("/api/v3") {
            Some(host) => format!("{host}/api/graphql"),
            None => format!("{base}/graphql"),
        }
    }
}
