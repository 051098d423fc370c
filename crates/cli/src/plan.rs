//! Flags + `flowlake.toml` → checked values, before any IO.

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use flowlake_github::{Auth, GithubConfig, Secret};
use flowlake_lake::{Lake, LakeOptions};
use flowlake_marts::MartsConfig;

use crate::config::{Config, JiraAuthKind, JiraFlavor};

/// The lake to use: `--lake`, else `FLOWLAKE_LAKE`, else `[lake] url`, else `./lake`.
pub fn lake(flag: Option<&str>, cfg: &Config) -> Result<Lake> {
    let url = flag
        .map(str::to_string)
        .or_else(|| {
            std::env::var("FLOWLAKE_LAKE")
                .ok()
                .filter(|s| !s.is_empty())
        })
        .or_else(|| cfg.lake.url.clone())
        .unwrap_or_else(|| "./lake".to_string());
    let options = LakeOptions {
        s3: cfg.lake.s3.clone(),
    };
    Lake::open_with(&url, &options)
        .with_context(|| "opening the lake (--lake, FLOWLAKE_LAKE or [lake] url)")
}

/// The marts settings.
pub fn marts(cfg: &Config) -> MartsConfig {
    let m = &cfg.marts;
    let mut teams: Vec<(String, String, String)> = Vec::new();
    // A person is a GitHub login, a commit e-mail or a Jira account id (int_identities matches
    // all three case-insensitively).
    for (person, team) in &cfg.teams.people {
        teams.push(("person".into(), person.trim().to_lowercase(), team.clone()));
    }
    for (repo, team) in &cfg.teams.repos {
        teams.push(("repo".into(), repo.clone(), team.clone()));
    }
    for (board, team) in &cfg.teams.jira_boards {
        teams.push((
            "jira_board".into(),
            board.trim().to_lowercase(),
            team.clone(),
        ));
    }
    for (project, team) in &cfg.teams.jira_projects {
        teams.push(("jira_project".into(), project.to_uppercase(), team.clone()));
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    MartsConfig {
        production_env_regex: m.production_env_regex.clone(),
        deploy_workflow_regex: m.deploy_workflow_regex.clone(),
        releases_are_deploys: m.releases_are_deploys,
        hotfix_regex: m.hotfix_regex.clone(),
        incident_label: m.incident_label.clone(),
        incident_window_h: m.incident_window_h,
        dora_bands_version: m.dora_bands_version.as_str().into(),
        stale_percentile: m.stale_percentile,
        teams,
        identity_aliases: cfg.identity_aliases.clone(),
        target_partitions: if m.target_partitions == 0 {
            cores
        } else {
            m.target_partitions
        },
    }
}

/// The flow marts' settings from `[flow]`.
pub fn flow(cfg: &Config) -> Result<flowlake_marts::FlowConfig> {
    let f = &cfg.flow;
    let mut flow = flowlake_marts::FlowConfig::default();
    if let Some(r) = &f.waiting_status_regex {
        regex_check(r).with_context(|| format!("[flow] waiting_status_regex `{r}`"))?;
        flow.waiting_status_regex = r.clone();
    }
    for (status, category) in &f.status_overrides {
        let c = category.to_lowercase();
        if !matches!(c.as_str(), "new" | "indeterminate" | "done") {
            bail!(
                "[flow] status_overrides: `{status}` = `{category}`: the category must be new, \
                 indeterminate or done"
            );
        }
        flow.status_overrides.push((status.clone(), c));
    }
    if let Some(d) = f.cycle_time_window_d {
        if d.is_nan() || d <= 0.0 {
            bail!("[flow] cycle_time_window_d must be a positive number of days, got {d}");
        }
        flow.cycle_time_window_d = Some(d);
    }
    if let Some(t) = &f.as_of {
        let at = chrono::DateTime::parse_from_rfc3339(t).with_context(|| {
            format!("[flow] as_of `{t}` is not an RFC 3339 time (e.g. 2026-11-01T00:00:00Z)")
        })?;
        flow.as_of = Some(at.with_timezone(&chrono::Utc));
    }
    Ok(flow)
}

fn regex_check(r: &str) -> Result<()> {
    // DataFusion's regexp functions use the regex crate's syntax.
    regex::Regex::new(r).map(|_| ()).map_err(anyhow::Error::new)
}

/// Overrides for the GitHub connector from flags.
#[derive(Debug, Default, Clone)]
pub struct GithubFlags {
    /// `--org`
    pub org: Option<String>,
    /// `--base-url`
    pub base_url: Option<String>,
    /// `--repo` (repeatable)
    pub repos: Vec<String>,
    /// `--since`
    pub since: Option<NaiveDate>,
}

/// The GitHub connector's config: flags over `[github]`, token from the environment.
/// A secret from `file` (its first line) when given, else from the variable `var`.
fn secret_from(var: &str, file: Option<&std::path::Path>, setting: &str) -> Result<String> {
    match file {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("{setting}: cannot read {}", f.display()))?;
            Ok(text.lines().next().unwrap_or_default().trim().to_string())
        }
        None => Ok(std::env::var(var).unwrap_or_default()),
    }
}

/// Every secret value this configuration can reach (tokens from their variables or files,
/// the webhook URL), to scrub from text that leaves the process.
pub fn known_secrets(cfg: &Config) -> Vec<String> {
    let mut vars = vec![
        "GITHUB_TOKEN".to_string(),
        "JIRA_API_TOKEN".into(),
        "JIRA_TOKEN".into(),
    ];
    let mut files = Vec::new();
    if let Some(g) = &cfg.github {
        vars.push(g.token_env.clone());
        files.extend(g.token_file.clone());
    }
    if let Some(j) = &cfg.jira {
        vars.extend(j.token_env.clone());
        files.extend(j.token_file.clone());
    }
    if let Some(n) = &cfg.notify {
        vars.extend(n.webhook_url_env.clone());
        files.extend(n.webhook_url_file.clone());
    }
    let mut out: Vec<String> = vars
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .chain(files.iter().filter_map(|f| {
            std::fs::read_to_string(f)
                .ok()
                .map(|t| t.lines().next().unwrap_or_default().to_string())
        }))
        .map(|s| s.trim().to_string())
        .filter(|s| s.len() >= 4)
        .collect();
    out.sort();
    out.dedup();
    out
}

pub fn github(flags: &GithubFlags, cfg: &Config) -> Result<GithubConfig> {
    let section = cfg.github.clone();
    let org = flags
        .org
        .clone()
        .or_else(|| section.as_ref().map(|s| s.org.clone()));
    let Some(org) = org else {
        bail!("no GitHub org: pass --org or set [github] org in flowlake.toml");
    };
    let app = section.as_ref().and_then(|s| {
        s.app_id
            .map(|id| (id, s.installation_id, s.app_private_key_path.clone()))
    });
    let mut g = match app {
        Some((app_id, installation_id, key_path)) => {
            let Some(installation_id) = installation_id else {
                bail!(
                    "[github] app_id is set but installation_id is not: set the App's installation id on {org}"
                );
            };
            let Some(key_path) = key_path else {
                bail!(
                    "[github] app_id is set but app_private_key_path is not: point it at the App's .pem key"
                );
            };
            let pem = std::fs::read_to_string(&key_path).with_context(|| {
                format!(
                    "[github] app_private_key_path: cannot read {}",
                    key_path.display()
                )
            })?;
            GithubConfig {
                auth: Auth::App {
                    app_id,
                    installation_id,
                    private_key_pem: Secret::new(pem),
                },
                ..GithubConfig::new(org, Secret::default())
            }
        }
        None => {
            let token_env = section
                .as_ref()
                .map(|s| s.token_env.clone())
                .unwrap_or_else(|| "GITHUB_TOKEN".into());
            let file = section.as_ref().and_then(|s| s.token_file.clone());
            let token = secret_from(&token_env, file.as_deref(), "[github] token_file")?;
            if token.trim().is_empty() {
                bail!(
                    "no GitHub token: export {token_env} (a personal access token or an installation token with read access to {org}), or configure a GitHub App in [github]"
                );
            }
            GithubConfig::new(org, Secret::new(token.trim()))
        }
    };
    if let Some(s) = &section {
        g.base_url = s.base_url.clone();
        g.repos = s.repos.clone();
        g.incident_label = s.incident_label.clone();
        g.page_size = s.page_size;
        g.max_retries = s.max_retries;
        g.overlap = std::time::Duration::from_secs_f64(s.overlap_h.max(0.0) * 3600.0);
        g.max_rate_limit_wait = std::time::Duration::from_secs(s.max_rate_limit_wait_s);
        if let Some(since) = &s.since {
            let d = NaiveDate::parse_from_str(since, "%Y-%m-%d").context("github.since")?;
            g.since = d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        }
    }
    if let Some(b) = &flags.base_url {
        g.base_url = b.clone();
    }
    if !flags.repos.is_empty() {
        g.repos = flags.repos.clone();
    }
    if let Some(d) = flags.since {
        g.since = d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    Ok(g)
}

/// `flowlake ingest jira` flags that override `[jira]`.
#[derive(Debug, Default)]
pub struct JiraFlags {
    /// `--base-url`.
    pub base_url: Option<String>,
    /// `--project` (repeatable).
    pub projects: Vec<String>,
    /// `--since`.
    pub since: Option<NaiveDate>,
}

/// The Jira connector's config: flags over `[jira]`, the token from the environment.
pub fn jira(flags: &JiraFlags, cfg: &Config) -> Result<flowlake_jira::JiraConfig> {
    use flowlake_jira::{Auth as JAuth, FieldMap, Flavor, JiraConfig, Secret as JSecret};
    let Some(s) = cfg.jira.clone() else {
        bail!(
            "no [jira] section: set base_url, projects and auth in flowlake.toml (see flowlake.example.toml)"
        );
    };
    let base_url = flags.base_url.clone().unwrap_or_else(|| s.base_url.clone());
    let flavor = match s.flavor {
        JiraFlavor::Cloud => Flavor::Cloud,
        JiraFlavor::DataCenter => Flavor::DataCenter,
    };
    let kind = s.auth.unwrap_or(match flavor {
        Flavor::Cloud => JiraAuthKind::ApiToken,
        Flavor::DataCenter => JiraAuthKind::Pat,
    });
    let token_env = s.token_env.clone().unwrap_or_else(|| {
        if kind == JiraAuthKind::ApiToken {
            "JIRA_API_TOKEN".into()
        } else {
            "JIRA_TOKEN".into()
        }
    });
    let token = secret_from(&token_env, s.token_file.as_deref(), "[jira] token_file")?;
    if token.trim().is_empty() {
        bail!(
            "no Jira token: export {token_env} ([jira] auth = {}; [jira] token_env names another variable)",
            kind.name()
        );
    }
    let token = JSecret::new(token.trim());
    let auth = match kind {
        JiraAuthKind::ApiToken => {
            let Some(email) = s.email.clone().filter(|e| !e.trim().is_empty()) else {
                bail!(
                    "[jira] auth = api_token needs [jira] email (the account the API token belongs to)"
                );
            };
            JAuth::ApiToken { email, token }
        }
        JiraAuthKind::Pat => JAuth::PersonalAccessToken(token),
        JiraAuthKind::Oauth => JAuth::OAuth(token),
    };
    let workspace = s.workspace.clone().unwrap_or_else(|| {
        url::Url::parse(&base_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| "jira".into())
    });
    let mut j = JiraConfig::new(workspace, base_url, flavor, auth);
    j.projects = if flags.projects.is_empty() {
        s.projects.clone()
    } else {
        flags.projects.clone()
    };
    j.incidents.projects = s.incident_projects.clone();
    j.incidents.issue_type = s.incident_issue_type.clone();
    j.incidents.jql = s.incident_jql.clone();
    j.page_size = s.page_size;
    j.max_retries = s.max_retries;
    j.overlap = std::time::Duration::from_secs_f64(s.overlap_min.max(0.0) * 60.0);
    j.max_rate_limit_wait = std::time::Duration::from_secs(s.max_rate_limit_wait_s);
    j.fields = FieldMap {
        story_points: s.story_points_field.clone(),
        epic_link: s.epic_link_field.clone(),
        sprint: s.sprint_field.clone(),
    };
    if let Some(since) = &s.since {
        let d = NaiveDate::parse_from_str(since, "%Y-%m-%d")
            .with_context(|| format!("[jira] since `{since}` is not a date; write YYYY-MM-DD"))?;
        j.since = d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    if let Some(d) = flags.since {
        j.since = d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    j.validate()?;
    Ok(j)
}
