//! `flowlake.toml`: every setting, parsed strictly so a typo is an error, not a silent default.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the lake lives.
    #[serde(default)]
    pub lake: LakeSection,
    /// The GitHub connector.
    pub github: Option<GithubSection>,
    /// The Jira connector.
    pub jira: Option<JiraSection>,
    /// Mart definitions that are choices, not facts.
    #[serde(default)]
    pub marts: MartsSection,
    /// Team membership.
    #[serde(default)]
    pub teams: TeamsSection,
    /// Jira flow metric choices.
    #[serde(default)]
    pub flow: FlowSection,
    /// One person across GitHub and Jira.
    #[serde(default)]
    pub identity: IdentitySection,
    /// The lake lock.
    #[serde(default)]
    pub lock: crate::config_run::LockSection,
    /// How builds are kept.
    #[serde(default)]
    pub build: crate::config_run::BuildSection,
    /// A webhook told about runs.
    pub notify: Option<crate::config_run::NotifySection>,
    /// The rows of the `[identity] aliases` file, read by [`Config::load`]: `(person, kind,
    /// value)`.
    #[serde(skip)]
    pub identity_aliases: Vec<(String, String, String)>,
}

/// `[identity]`: merging GitHub logins, commit e-mails and Jira accounts into people.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IdentitySection {
    /// A CSV file `person,kind,value` (kind: github_login, email or jira_account); a relative
    /// path is relative to the directory of the config file.
    pub aliases: Option<PathBuf>,
}

/// The kinds of identity an alias file row may name.
pub const ALIAS_KINDS: [&str; 3] = ["github_login", "email", "jira_account"];

/// Parse an alias file: a header `person,kind,value`, then one identity per line. Blank lines
/// and lines starting with `#` are skipped; fields are trimmed; `kind` is case-insensitive.
/// Errors name `file` and the line.
pub fn parse_aliases(text: &str, file: &Path) -> Result<Vec<(String, String, String)>> {
    let mut rows = Vec::new();
    let mut header_seen = false;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if !header_seen {
            let header: Vec<String> = fields.iter().map(|f| f.to_lowercase()).collect();
            if header != ["person", "kind", "value"] {
                bail!(
                    "alias file {}, line {line_no}: the header must be `person,kind,value`, got `{line}`",
                    file.display()
                );
            }
            header_seen = true;
            continue;
        }
        if fields.len() != 3 {
            bail!(
                "alias file {}, line {line_no}: expected 3 fields person,kind,value, got {} in `{line}`",
                file.display(),
                fields.len()
            );
        }
        let kind = fields[1].to_lowercase();
        if !ALIAS_KINDS.contains(&kind.as_str()) {
            bail!(
                "alias file {}, line {line_no}: unknown kind `{}`; write github_login, email or jira_account",
                file.display(),
                fields[1]
            );
        }
        if fields[0].is_empty() || fields[2].is_empty() {
            bail!(
                "alias file {}, line {line_no}: person and value must not be empty in `{line}`",
                file.display()
            );
        }
        rows.push((fields[0].to_string(), kind, fields[2].to_string()));
    }
    if !header_seen {
        bail!(
            "alias file {} is empty: it needs the header `person,kind,value`",
            file.display()
        );
    }
    Ok(rows)
}

/// `[flow]`: choices of the Jira flow marts (see docs/metrics.md).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FlowSection {
    /// Regex on status names: in-progress statuses that are waiting, not active.
    pub waiting_status_regex: Option<String>,
    /// Status name → category (`new`, `indeterminate`, `done`), over Jira's own category.
    #[serde(default)]
    pub status_overrides: BTreeMap<String, String>,
    /// Days of done items that form the cycle-time history for staleness; unset: all.
    pub cycle_time_window_d: Option<f64>,
    /// "Now" for ages and the last throughput day (RFC 3339); unset: the latest ingest.
    pub as_of: Option<String>,
}

/// `[lake]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LakeSection {
    /// Folder, file://, s3:// or memory:// URL.
    pub url: Option<String>,
    /// object_store S3 settings (endpoint, region, allow_http, …); keys belong in AWS_* variables.
    #[serde(default)]
    pub s3: BTreeMap<String, String>,
}

/// `[github]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GithubSection {
    /// The org.
    pub org: String,
    /// REST base URL.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// The environment variable holding the token.
    #[serde(default = "default_token_env")]
    pub token_env: String,
    /// Or a file holding the token (first line; e.g. a mounted Kubernetes secret). Wins over
    /// `token_env`.
    pub token_file: Option<PathBuf>,
    /// GitHub App id (instead of a token).
    pub app_id: Option<u64>,
    /// The App's installation on the org.
    pub installation_id: Option<u64>,
    /// Path to the App's private key (PEM).
    pub app_private_key_path: Option<PathBuf>,
    /// Repos to ingest; empty = all.
    #[serde(default)]
    pub repos: Vec<String>,
    /// First-run start date (YYYY-MM-DD).
    pub since: Option<String>,
    /// Incident label.
    #[serde(default = "default_incident_label")]
    pub incident_label: String,
    /// Page size.
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Retries per request.
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// Overlap of incremental runs, hours.
    #[serde(default = "default_overlap_h")]
    pub overlap_h: f64,
    /// Longest rate-limit reset to wait for, seconds.
    #[serde(default = "default_max_wait")]
    pub max_rate_limit_wait_s: u64,
}

/// `[jira]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JiraSection {
    /// The site's name in the lake (`workspace` column); default: the base URL's host.
    pub workspace: Option<String>,
    /// The site, e.g. `https://acme.atlassian.net`.
    pub base_url: String,
    /// `cloud` (REST v3) or `data_center` (REST v2).
    #[serde(default)]
    pub flavor: JiraFlavor,
    /// `api_token` (Cloud: email + token), `pat` (Data Center bearer token) or `oauth`
    /// (an OAuth 2.0 access token). Default: `api_token` on Cloud, `pat` on Data Center.
    pub auth: Option<JiraAuthKind>,
    /// The account e-mail for `api_token`.
    pub email: Option<String>,
    /// The environment variable holding the token (default `JIRA_API_TOKEN` for
    /// `api_token`, `JIRA_TOKEN` otherwise).
    pub token_env: Option<String>,
    /// Or a file holding the token (first line). Wins over `token_env`.
    pub token_file: Option<PathBuf>,
    /// Project keys ingested whole.
    #[serde(default)]
    pub projects: Vec<String>,
    /// Projects whose incidents only are ingested.
    #[serde(default)]
    pub incident_projects: Vec<String>,
    /// The issue type that marks an incident.
    #[serde(default = "default_incident_type")]
    pub incident_issue_type: String,
    /// A JQL condition that marks an incident instead of the issue type.
    pub incident_jql: Option<String>,
    /// First-run start date (YYYY-MM-DD).
    pub since: Option<String>,
    /// Issues per page (1 to 100).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Retries per request.
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// Minutes an incremental run looks back before the watermark.
    #[serde(default = "default_jira_overlap_min")]
    pub overlap_min: f64,
    /// The longest Retry-After to wait for, in seconds.
    #[serde(default = "default_max_wait")]
    pub max_rate_limit_wait_s: u64,
    /// Story points field id (default: discovered from /field).
    pub story_points_field: Option<String>,
    /// Epic link field id (default: discovered).
    pub epic_link_field: Option<String>,
    /// Sprint field id (default: discovered).
    pub sprint_field: Option<String>,
}

/// `[jira] flavor`: which REST API the site speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub enum JiraFlavor {
    /// Jira Cloud, REST v3 with token paging.
    #[default]
    Cloud,
    /// Jira Data Center or Server, REST v2 with offset paging.
    DataCenter,
}

impl TryFrom<String> for JiraFlavor {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.trim() {
            "cloud" => Ok(Self::Cloud),
            "data_center" | "datacenter" | "server" => Ok(Self::DataCenter),
            other => Err(format!("jira.flavor `{other}`: write cloud or data_center")),
        }
    }
}

impl From<JiraFlavor> for String {
    fn from(f: JiraFlavor) -> String {
        match f {
            JiraFlavor::Cloud => "cloud",
            JiraFlavor::DataCenter => "data_center",
        }
        .into()
    }
}

/// `[jira] auth`: how requests authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub enum JiraAuthKind {
    /// Cloud: the account's e-mail and an API token (Basic).
    ApiToken,
    /// Data Center: a personal access token (Bearer).
    Pat,
    /// An OAuth 2.0 access token (Bearer).
    Oauth,
}

impl JiraAuthKind {
    /// The name written in `flowlake.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Self::ApiToken => "api_token",
            Self::Pat => "pat",
            Self::Oauth => "oauth",
        }
    }
}

impl TryFrom<String> for JiraAuthKind {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.trim() {
            "api_token" => Ok(Self::ApiToken),
            "pat" => Ok(Self::Pat),
            "oauth" => Ok(Self::Oauth),
            other => Err(format!(
                "jira.auth `{other}`: write api_token, pat or oauth"
            )),
        }
    }
}

impl From<JiraAuthKind> for String {
    fn from(a: JiraAuthKind) -> String {
        a.name().into()
    }
}

/// `[marts] dora_bands_version`: which DORA report's band thresholds `mart_dora` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub enum DoraBands {
    /// The 2021 State of DevOps report.
    V2021,
    /// The 2023 Accelerate State of DevOps report (the default).
    V2023,
}

impl DoraBands {
    /// The version as the marts read it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2021 => "2021",
            Self::V2023 => "2023",
        }
    }
}

impl TryFrom<String> for DoraBands {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.trim() {
            "2021" => Ok(Self::V2021),
            "2023" => Ok(Self::V2023),
            other => Err(format!(
                "marts.dora_bands_version must be \"2023\" or \"2021\", got \"{other}\""
            )),
        }
    }
}

impl From<DoraBands> for String {
    fn from(d: DoraBands) -> String {
        d.as_str().into()
    }
}
fn default_incident_type() -> String {
    "Incident".into()
}
fn default_jira_overlap_min() -> f64 {
    10.0
}

fn default_base_url() -> String {
    "https://api.github.com".into()
}
fn default_token_env() -> String {
    "GITHUB_TOKEN".into()
}
fn default_incident_label() -> String {
    "incident".into()
}
fn default_page_size() -> u32 {
    100
}
fn default_retries() -> u32 {
    6
}
fn default_overlap_h() -> f64 {
    1.0
}
fn default_max_wait() -> u64 {
    3600
}

/// `[marts]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MartsSection {
    /// Environments that count as production.
    pub production_env_regex: String,
    /// Workflow runs that count as deployments.
    pub deploy_workflow_regex: String,
    /// Whether published releases count as deployments.
    pub releases_are_deploys: bool,
    /// PRs that are unplanned fixes.
    pub hotfix_regex: String,
    /// The label marking incident issues.
    pub incident_label: String,
    /// Incident → deployment attribution window, hours.
    pub incident_window_h: f64,
    /// DORA band thresholds: "2023" or "2021".
    pub dora_bands_version: DoraBands,
    /// Stale threshold percentile.
    pub stale_percentile: f64,
    /// DataFusion target partitions (0 = cores).
    pub target_partitions: usize,
}

impl Default for MartsSection {
    /// The marts crate's defaults, written once there; only `target_partitions` differs
    /// (0 = one per core, resolved when the plan is made).
    fn default() -> Self {
        let m = flowlake_marts::MartsConfig::default();
        MartsSection {
            production_env_regex: m.production_env_regex,
            deploy_workflow_regex: m.deploy_workflow_regex,
            releases_are_deploys: m.releases_are_deploys,
            hotfix_regex: m.hotfix_regex,
            incident_label: m.incident_label,
            incident_window_h: m.incident_window_h,
            dora_bands_version: DoraBands::try_from(m.dora_bands_version)
                .unwrap_or(DoraBands::V2023),
            stale_percentile: m.stale_percentile,
            target_partitions: 0,
        }
    }
}

/// `[teams]`: person (GitHub login, e-mail or Jira account id) → team, repo → team, Jira
/// project → team.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TeamsSection {
    /// Person → team; the person is a GitHub login, a commit e-mail or a Jira account id.
    #[serde(default)]
    pub people: BTreeMap<String, String>,
    /// `owner/name` → team.
    #[serde(default)]
    pub repos: BTreeMap<String, String>,
    /// Jira project key → team.
    #[serde(default)]
    pub jira_projects: BTreeMap<String, String>,
    /// Jira board (id or name) → team; wins over the board's project for `mart_sprints`.
    #[serde(default)]
    pub jira_boards: BTreeMap<String, String>,
}

impl Config {
    /// Read `path`; errors name the file, line and key.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        let mut cfg: Config = toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "config file {} is not valid: {}\nsee flowlake.example.toml for every setting",
                path.display(),
                crate::config_run::explain_toml_error(&e.to_string())
            )
        })?;
        cfg.validate(path)?;
        if let Some(file) = &cfg.identity.aliases {
            let file = match path.parent() {
                Some(dir) if file.is_relative() => dir.join(file),
                _ => file.clone(),
            };
            let text = std::fs::read_to_string(&file).with_context(|| {
                format!(
                    "config file {}: [identity] aliases: reading {}",
                    path.display(),
                    file.display()
                )
            })?;
            cfg.identity_aliases = parse_aliases(&text, &file)?;
        }
        Ok(cfg)
    }

    /// The config file to use: `--config`, else `./flowlake.toml` when present.
    pub fn resolve(explicit: Option<&PathBuf>) -> Result<Config> {
        match explicit {
            Some(p) => Config::load(p),
            None => {
                let p = PathBuf::from("flowlake.toml");
                if p.exists() {
                    Config::load(&p)
                } else {
                    Ok(Config::default())
                }
            }
        }
    }

    fn validate(&self, path: &Path) -> Result<()> {
        let m = &self.marts;
        for (key, re) in [
            ("marts.production_env_regex", &m.production_env_regex),
            ("marts.deploy_workflow_regex", &m.deploy_workflow_regex),
            ("marts.hotfix_regex", &m.hotfix_regex),
        ] {
            if re.trim().is_empty() {
                bail!(
                    "config file {}: {key} is empty; give a regular expression",
                    path.display()
                );
            }
        }
        if m.incident_window_h.is_nan() || m.incident_window_h <= 0.0 {
            bail!(
                "config file {}: marts.incident_window_h must be a positive number of hours",
                path.display()
            );
        }
        if let Some(g) = &self.github {
            if let Some(s) = &g.since {
                chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                    anyhow::anyhow!(
                        "config file {}: github.since `{s}` is not a date; write YYYY-MM-DD",
                        path.display()
                    )
                })?;
            }
            if !(1..=100).contains(&g.page_size) {
                bail!(
                    "config file {}: github.page_size must be 1 to 100",
                    path.display()
                );
            }
        }
        Ok(())
    }

    /// A hash of the effective config, alias rows included (it holds no secrets: tokens live
    /// in the environment).
    pub fn hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut text = toml::to_string(self).unwrap_or_default();
        // The alias file's rows are part of the effective config (the path alone is not).
        for (person, kind, value) in &self.identity_aliases {
            text.push_str(&format!("\nalias {person},{kind},{value}"));
        }
        hex::encode(Sha256::digest(text.as_bytes()))[..16].to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enumerated_settings_are_types_with_errors_naming_the_key() {
        let jira = |extra: &str| {
            toml::from_str::<Config>(&format!(
                "[jira]\nbase_url = \"https://x.atlassian.net\"\n{extra}"
            ))
        };
        let j = jira("flavor = \"server\"\nauth = \"pat\"\n")
            .unwrap()
            .jira
            .unwrap();
        assert_eq!(
            (j.flavor, j.auth),
            (JiraFlavor::DataCenter, Some(JiraAuthKind::Pat))
        );
        assert_eq!(jira("").unwrap().jira.unwrap().flavor, JiraFlavor::Cloud);
        let e = jira("flavor = \"onprem\"\n").unwrap_err().to_string();
        assert!(
            e.contains("jira.flavor `onprem`: write cloud or data_center"),
            "{e}"
        );
        let e = jira("auth = \"basic\"\n").unwrap_err().to_string();
        assert!(e.contains("write api_token, pat or oauth"), "{e}");
        let m: Config = toml::from_str("[marts]\ndora_bands_version = \"2021\"\n").unwrap();
        assert_eq!(m.marts.dora_bands_version, DoraBands::V2021);
        // Defaults are the marts crate's, written once.
        let d = MartsSection::default();
        let marts = flowlake_marts::MartsConfig::default();
        assert_eq!(d.dora_bands_version.as_str(), marts.dora_bands_version);
        assert_eq!(d.incident_window_h, marts.incident_window_h);
        assert_eq!(d.hotfix_regex, marts.hotfix_regex);
    }

    #[test]
    fn example_config_parses() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../flowlake.example.toml");
        let cfg = Config::load(&p).unwrap();
        assert_eq!(cfg.github.unwrap().org, "acme");
        assert_eq!(cfg.build.keep_builds, 3);
        assert_eq!(cfg.lock.ttl.0, std::time::Duration::from_secs(120));
        // The commented [notify] example parses too.
        let text = std::fs::read_to_string(&p).unwrap();
        let notify: String = text
            .split("# [notify]")
            .nth(1)
            .unwrap()
            .lines()
            .map(|l| l.trim_start_matches("# ").split(" #").next().unwrap_or(""))
            .filter(|l| l.contains(" = "))
            .collect::<Vec<_>>()
            .join("\n");
        let n: crate::config_run::NotifySection = toml::from_str(&notify).unwrap();
        assert_eq!(n.format, crate::config_run::NotifyFormat::Slack);
    }

    #[test]
    fn alias_file_is_read_relative_to_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("conf")).unwrap();
        std::fs::write(
            dir.path().join("conf/people.csv"),
            "person,kind,value\n# Alice's accounts\nalice, Jira_Account ,5e9711ba34f7b90c0fbc37d3\n\nalice,email,Alice@Home.net\n",
        )
        .unwrap();
        let p = dir.path().join("conf/flowlake.toml");
        std::fs::write(&p, "[identity]\naliases = \"people.csv\"\n").unwrap();
        let cfg = Config::load(&p).unwrap();
        assert_eq!(
            cfg.identity_aliases,
            vec![
                (
                    "alice".to_string(),
                    "jira_account".to_string(),
                    "5e9711ba34f7b90c0fbc37d3".to_string()
                ),
                (
                    "alice".to_string(),
                    "email".to_string(),
                    "Alice@Home.net".to_string()
                ),
            ]
        );
    }

    #[test]
    fn malformed_alias_lines_name_the_file_and_line() {
        let f = Path::new("people.csv");
        let e = format!(
            "{:#}",
            parse_aliases("person,kind,value\nalice,slack,U123\n", f).unwrap_err()
        );
        assert!(
            e.contains("people.csv") && e.contains("line 2") && e.contains("slack"),
            "{e}"
        );
        let e = format!(
            "{:#}",
            parse_aliases("person,kind,value\n\nbob,email\n", f).unwrap_err()
        );
        assert!(e.contains("line 3") && e.contains("3 fields"), "{e}");
        let e = format!("{:#}", parse_aliases("alice,email,a@b.c\n", f).unwrap_err());
        assert!(e.contains("line 1") && e.contains("header"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.toml");
        std::fs::write(&p, "[identity]\naliases = \"missing.csv\"\n").unwrap();
        let e = format!("{:#}", Config::load(&p).unwrap_err());
        assert!(e.contains("missing.csv"), "{e}");
    }

    #[test]
    fn typo_names_the_key_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.toml");
        std::fs::write(
            &p,
            "[lake]\nurl = \"./lake\"\n[marts]\nincident_windw_h = 3\n",
        )
        .unwrap();
        let e = format!("{:#}", Config::load(&p).unwrap_err());
        assert!(
            e.contains("incident_windw_h") && e.contains("line 4"),
            "{e}"
        );
    }
}
