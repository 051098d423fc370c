use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use flowlake_model::jira::FieldMap;

use crate::error::{Error, Result};

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
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Which Jira the site runs: the REST prefix and the issue search's paging follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// Jira Cloud: REST v3, `/search/jql` with `nextPageToken`, changelogs capped at 100
    /// histories in a search.
    #[default]
    Cloud,
    /// Jira Data Center (or Server): REST v2, `/search` with `startAt`/`total`.
    DataCenter,
}

impl Flavor {
    /// `/rest/api/3` or `/rest/api/2`.
    pub fn rest_prefix(self) -> &'static str {
        match self {
            Flavor::Cloud => "/rest/api/3",
            Flavor::DataCenter => "/rest/api/2",
        }
    }

    /// The issue search path under the base URL.
    pub fn search_path(self) -> &'static str {
        match self {
            Flavor::Cloud => "/rest/api/3/search/jql",
            Flavor::DataCenter => "/rest/api/2/search",
        }
    }

    /// `cloud` or `data_center`, as in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::Cloud => "cloud",
            Flavor::DataCenter => "data_center",
        }
    }
}

/// How the connector authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    /// Jira Cloud: the account's e-mail and an API token, sent as HTTP Basic.
    ApiToken {
        /// The Atlassian account's e-mail.
        email: String,
        /// The API token (id.atlassian.com → Security → API tokens).
        token: Secret,
    },
    /// Jira Data Center: a personal access token, sent as `Bearer`.
    PersonalAccessToken(Secret),
    /// An OAuth 2.0 (3LO) access token obtained elsewhere, sent as `Bearer`; the base URL is
    /// then `https://api.atlassian.com/ex/jira/<cloudId>`.
    OAuth(Secret),
}

impl Auth {
    /// What to check when the site refuses the credentials.
    pub(crate) fn hint(&self) -> &'static str {
        match self {
            Auth::ApiToken { .. } => {
                "check [jira] email and the API token in JIRA_API_TOKEN (or the variable [jira] token_env names); the token must belong to that e-mail"
            }
            Auth::PersonalAccessToken(_) => {
                "check the personal access token in JIRA_TOKEN (or the variable [jira] token_env names): it may have expired or been revoked"
            }
            Auth::OAuth(_) => {
                "the OAuth 2.0 access token may have expired (they last an hour): refresh it, and check that base_url is https://api.atlassian.com/ex/jira/<cloudId>"
            }
        }
    }

    fn secret(&self) -> &Secret {
        match self {
            Auth::ApiToken { token, .. } => token,
            Auth::PersonalAccessToken(t) | Auth::OAuth(t) => t,
        }
    }
}

/// Which issues count as incidents, and where to look for them.
#[derive(Debug, Clone)]
pub struct IncidentConfig {
    /// Projects whose incidents (only) are ingested, e.g. an `OPS` service desk. A project
    /// also listed in [`JiraConfig::projects`] is ingested whole anyway.
    pub projects: Vec<String>,
    /// The issue type that marks an incident.
    pub issue_type: String,
    /// A JQL condition that replaces the issue-type test, e.g. `labels = incident`; it is
    /// combined as `project = "OPS" AND (<jql>)`.
    pub jql: Option<String>,
}

impl Default for IncidentConfig {
    fn default() -> Self {
        IncidentConfig {
            projects: Vec::new(),
            issue_type: "Incident".into(),
            jql: None,
        }
    }
}

/// What the Jira connector fetches and how.
#[derive(Debug, Clone)]
pub struct JiraConfig {
    /// The site's name in the lake: the `workspace` column and `state/jira/<workspace>/`.
    pub workspace: String,
    /// The site: `https://acme.atlassian.net`, `https://jira.acme.internal`, or
    /// `https://api.atlassian.com/ex/jira/<cloudId>` for OAuth 2.0.
    pub base_url: String,
    /// Cloud or Data Center.
    pub flavor: Flavor,
    /// Authentication.
    pub auth: Auth,
    /// Project keys ingested whole (`PAY`, `WEB`).
    pub projects: Vec<String>,
    /// Incident projects and how incidents are recognised.
    pub incidents: IncidentConfig,
    /// Where a first run starts (by `updated`); `None` fetches every issue.
    pub since: Option<DateTime<Utc>>,
    /// How far before the watermark an incremental run looks again. JQL compares `updated`
    /// in minutes and in the site's time zone, so keep it at least a few minutes.
    pub overlap: Duration,
    /// Issues per search page (1 to 100).
    pub page_size: u32,
    /// Retries per request on 502/503, timeouts and truncated bodies.
    pub max_retries: u32,
    /// First retry backoff; doubles per retry with jitter, capped at 60 s.
    pub backoff: Duration,
    /// The longest `Retry-After` the connector waits for before failing.
    pub max_rate_limit_wait: Duration,
    /// Buffered rows (issues plus changelog items) before raw files are written.
    pub flush_rows: usize,
    /// Custom field ids set by hand; the rest are discovered from `/field`.
    pub fields: FieldMap,
}

impl JiraConfig {
    /// Defaults for `workspace` at `base_url`.
    pub fn new(
        workspace: impl Into<String>,
        base_url: impl Into<String>,
        flavor: Flavor,
        auth: Auth,
    ) -> Self {
        JiraConfig {
            workspace: workspace.into(),
            base_url: base_url.into(),
            flavor,
            auth,
            projects: Vec::new(),
            incidents: IncidentConfig::default(),
            since: None,
            overlap: Duration::from_secs(600),
            page_size: 100,
            max_retries: 6,
            backoff: Duration::from_millis(500),
            max_rate_limit_wait: Duration::from_secs(600),
            flush_rows: 20_000,
            fields: FieldMap::default(),
        }
    }

    /// The base URL without a trailing slash.
    pub fn site(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }

    /// Check the settings before any request.
    pub fn validate(&self) -> Result<()> {
        let ws = self.workspace.trim();
        if ws.is_empty() || ws.contains(['/', '\\']) || ws == "." || ws == ".." {
            return Err(Error::Config {
                setting: "workspace",
                reason: format!(
                    "`{}` cannot name a folder; use the site's short name, e.g. acme",
                    self.workspace
                ),
            });
        }
        let url = url::Url::parse(self.site()).map_err(|e| Error::Config {
            setting: "base_url",
            reason: format!(
                "`{}` is not a URL ({e}); use the site, e.g. https://acme.atlassian.net",
                self.base_url
            ),
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(Error::Config {
                setting: "base_url",
                reason: format!(
                    "`{}` needs http(s) and a host, e.g. https://acme.atlassian.net",
                    self.base_url
                ),
            });
        }
        if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
            return Err(Error::Config {
                setting: "base_url",
                reason: "no credentials or query in the URL: set the token in the environment"
                    .into(),
            });
        }
        if self.projects.is_empty() && self.incidents.projects.is_empty() {
            return Err(Error::Config {
                setting: "projects",
                reason: "empty; list the project keys to ingest, e.g. [\"PAY\", \"WEB\"]".into(),
            });
        }
        for key in &self.projects {
            check_key("projects", key)?;
        }
        for key in &self.incidents.projects {
            check_key("incident_projects", key)?;
        }
        if self.incidents.jql.is_none() && self.incidents.issue_type.trim().is_empty() {
            return Err(Error::Config {
                setting: "incident_issue_type",
                reason:
                    "empty; name the issue type of incidents (e.g. Incident) or set incident_jql"
                        .into(),
            });
        }
        if self
            .incidents
            .jql
            .as_deref()
            .is_some_and(|j| j.trim().is_empty() || j.to_lowercase().contains("order by"))
        {
            return Err(Error::Config {
                setting: "incident_jql",
                reason: "must be a non-empty condition without ORDER BY, e.g. labels = incident"
                    .into(),
            });
        }
        if !(1..=100).contains(&self.page_size) {
            return Err(Error::Config {
                setting: "page_size",
                reason: format!("{} is out of range; use 1 to 100", self.page_size),
            });
        }
        if self.flush_rows == 0 {
            return Err(Error::Config {
                setting: "flush_rows",
                reason: "0; use a positive number of rows, e.g. 20000".into(),
            });
        }
        if self.auth.secret().is_empty() {
            return Err(Error::Config {
                setting: "token",
                reason: format!("no token: {}", self.auth.hint()),
            });
        }
        if let Auth::ApiToken { email, .. } = &self.auth
            && !email.contains('@')
        {
            return Err(Error::Config {
                setting: "email",
                reason: format!(
                    "`{email}` is not an e-mail; API tokens go with the account's e-mail"
                ),
            });
        }
        Ok(())
    }
}

/// Jira project keys: an upper-case letter, then upper-case letters, digits or `_`.
pub(crate) fn is_project_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some('A'..='Z'))
        && key.len() >= 2
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn check_key(setting: &'static str, key: &str) -> Result<()> {
    if is_project_key(key) {
        return Ok(());
    }
    Err(Error::Config {
        setting,
        reason: format!(
            "`{key}` is not a Jira project key (upper-case letter, then upper-case letters, digits or _, e.g. PAY)"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> JiraConfig {
        let mut c = JiraConfig::new(
            "acme",
            "https://acme.atlassian.net/",
            Flavor::Cloud,
            Auth::ApiToken {
                email: "bot@acme.test".into(),
                token: Secret::new("ATATT3xFfGF0-secret"),
            },
        );
        c.projects = vec!["PAY".into(), "WEB_2".into()];
        c
    }

    fn reason(c: &JiraConfig) -> String {
        c.validate().unwrap_err().to_string()
    }

    #[test]
    fn defaults_validate() {
        cfg().validate().unwrap();
        assert_eq!(cfg().site(), "https://acme.atlassian.net");
        assert_eq!(cfg().overlap, Duration::from_secs(600));
    }

    #[test]
    fn project_keys_are_checked_by_name() {
        for bad in ["pay", "P", "1PAY", "PAY-1", "PAY\" OR 1=1", ""] {
            let mut c = cfg();
            c.projects.push(bad.into());
            let r = reason(&c);
            assert!(r.starts_with("[jira] projects:"), "{r}");
            assert!(r.contains(&format!("`{bad}`")), "{r}");
        }
        let mut c = cfg();
        c.incidents.projects = vec!["ops".into()];
        assert!(reason(&c).starts_with("[jira] incident_projects: `ops`"));
        assert!(is_project_key("A1_B"));
    }

    #[test]
    fn base_url_errors_name_the_setting() {
        for bad in [
            "acme.atlassian.net",
            "ftp://x",
            "not a url",
            "https://u:p@acme.net",
        ] {
            let mut c = cfg();
            c.base_url = bad.into();
            let r = reason(&c);
            assert!(r.starts_with("[jira] base_url:"), "{bad}: {r}");
            assert!(!r.contains("p@"), "{r}");
        }
    }

    #[test]
    fn other_settings() {
        let mut c = cfg();
        c.page_size = 101;
        assert!(reason(&c).contains("page_size: 101 is out of range"));
        let mut c = cfg();
        c.auth = Auth::PersonalAccessToken(Secret::new(" "));
        assert!(reason(&c).starts_with("[jira] token: no token"));
        let mut c = cfg();
        c.projects.clear();
        assert!(reason(&c).starts_with("[jira] projects: empty"));
        c.incidents.projects = vec!["OPS".into()];
        c.validate().unwrap();
        c.incidents.jql = Some("labels = x ORDER BY key".into());
        assert!(reason(&c).starts_with("[jira] incident_jql"));
        let mut c = cfg();
        c.workspace = "../x".into();
        assert!(reason(&c).starts_with("[jira] workspace"));
    }

    #[test]
    fn secrets_do_not_print() {
        let c = cfg();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("ATATT3x"), "{dbg}");
        assert!(dbg.contains("Secret(***)"));
    }
}
