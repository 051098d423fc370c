//! Pipeline files (`pipelines/*.toml`): what a scheduled run does, checked whole before any IO
//! and printed as a plan (`flowlake run FILE --dry-run` prints it and stops).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::config::Config;
use crate::config_run::{NotifySection, explain_toml_error};
use crate::plan::{self, GithubFlags};
use crate::steps::events::{self, Events};

/// The steps a pipeline may name, in the order they make sense.
pub const STEPS: [&str; 6] = [
    "ingest-github",
    "ingest-jira",
    "ingest-events",
    "build",
    "compact",
    "archive",
];

/// `[archive]` of a pipeline: the `archive` step's policy.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveSection {
    /// Raw partitions older than this move out (`400d`, `57w`).
    pub older_than: String,
    /// The cold store: any lake URL.
    pub to: String,
}

/// A pipeline file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    /// Its name, for logs, manifests and notifications.
    pub name: String,
    /// A flowlake.toml, relative to the pipeline file.
    pub config: Option<PathBuf>,
    /// The lake URL (default: `[lake] url`, else ./lake).
    pub lake: Option<String>,
    /// Steps in order (see [`STEPS`]).
    pub steps: Vec<String>,
    /// Event files for `ingest-events`, relative to the pipeline file.
    #[serde(default)]
    pub events: Vec<PathBuf>,
    /// The workspace of imported events.
    #[serde(default = "default_events_workspace")]
    pub events_workspace: String,
    /// Notifications for this pipeline (over the config's `[notify]`).
    pub notify: Option<NotifySection>,
    /// The `archive` step's policy.
    pub archive: Option<ArchiveSection>,
}

fn default_events_workspace() -> String {
    "events".into()
}

/// A pipeline whose every step is checked: configs resolved, tokens present, files parsed.
pub struct Plan {
    /// The pipeline's name.
    pub name: String,
    /// The file it came from.
    pub file: PathBuf,
    /// The effective configuration.
    pub cfg: Config,
    /// The lake.
    pub lake: flowlake_lake::Lake,
    /// The steps, ready to run.
    pub steps: Vec<Step>,
    /// Where notifications go, if anywhere.
    pub notify: Option<NotifySection>,
}

/// One checked step.
pub enum Step {
    /// GitHub ingest.
    Github(Box<flowlake_github::GithubConfig>),
    /// Jira ingest.
    Jira(Box<flowlake_jira::JiraConfig>),
    /// Events files, parsed.
    Events {
        /// The workspace.
        workspace: String,
        /// `(file, events)`.
        files: Vec<(PathBuf, Events)>,
    },
    /// Build and publish the marts (mart_forecasts included).
    Build,
    /// `lake compact`.
    Compact,
    /// `lake archive`.
    Archive {
        /// Days.
        older_than: u32,
        /// The cold store URL.
        to: String,
    },
}

impl Step {
    /// The step's name in the file.
    pub fn name(&self) -> &'static str {
        match self {
            Step::Github(_) => "ingest-github",
            Step::Jira(_) => "ingest-jira",
            Step::Events { .. } => "ingest-events",
            Step::Build => "build",
            Step::Compact => "compact",
            Step::Archive { .. } => "archive",
        }
    }

    /// Whether the step reads a source (its failure lets the rest of the pipeline go on).
    pub fn is_source(&self) -> bool {
        matches!(self, Step::Github(_) | Step::Jira(_) | Step::Events { .. })
    }
}

/// Read and check `file`: every error here is a usage error (exit 2) and nothing has run.
pub fn load(file: &Path, lake_flag: Option<&str>, cfg: &Config) -> Result<Plan> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading pipeline file {}", file.display()))?;
    let p: PipelineFile = toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "pipeline file {} is not valid: {}",
            file.display(),
            explain_toml_error(&e.to_string())
        )
    })?;
    if p.steps.is_empty() {
        bail!(
            "pipeline {}: `steps` is empty; give some of {}",
            file.display(),
            STEPS.join(", ")
        );
    }
    for step in &p.steps {
        if !STEPS.contains(&step.as_str()) {
            let near = STEPS
                .iter()
                .min_by_key(|s| strsim::levenshtein(step, s))
                .expect("STEPS is not empty");
            bail!(
                "pipeline {}: unknown step `{step}` (did you mean `{near}`?); steps are {}",
                file.display(),
                STEPS.join(", ")
            );
        }
    }
    let base = file.parent().unwrap_or(Path::new("."));
    let cfg = match &p.config {
        Some(c) => Config::load(&base.join(c))?,
        None => cfg.clone(),
    };
    let lake = plan::lake(lake_flag.or(p.lake.as_deref()), &cfg)?;
    let mut steps = Vec::new();
    for step in &p.steps {
        steps.push(match step.as_str() {
            "ingest-github" => Step::Github(Box::new(plan::github(&GithubFlags::default(), &cfg)?)),
            "ingest-jira" => Step::Jira(Box::new(plan::jira(&plan::JiraFlags::default(), &cfg)?)),
            "ingest-events" => {
                if p.events.is_empty() {
                    bail!(
                        "pipeline {}: step ingest-events needs `events = [\"file.ndjson\"]`",
                        file.display()
                    );
                }
                let mut files = Vec::new();
                for f in &p.events {
                    let path = base.join(f);
                    let parsed = events::parse_events(&path)?;
                    files.push((path, parsed));
                }
                Step::Events {
                    workspace: p.events_workspace.clone(),
                    files,
                }
            }
            "compact" => Step::Compact,
            "archive" => {
                let Some(a) = &p.archive else {
                    bail!(
                        "pipeline {}: step archive needs [archive] older_than = \"400d\" and to = \"URL\"",
                        file.display()
                    );
                };
                let older_than = crate::cmd::lake::parse_age(&a.older_than)
                    .map_err(|e| anyhow::anyhow!("pipeline {}: [archive] older_than {e}", file.display()))?;
                Step::Archive {
                    older_than,
                    to: a.to.clone(),
                }
            }
            _ => Step::Build,
        });
    }
    let notify = p.notify.or_else(|| cfg.notify.clone());
    Ok(Plan {
        name: p.name,
        file: file.to_path_buf(),
        cfg,
        lake,
        steps,
        notify,
    })
}

impl Plan {
    /// The plan as lines of text (what `--dry-run` prints, and `run` before it starts).
    pub fn describe(&self) -> Vec<String> {
        let mut out = vec![
            format!("pipeline `{}` ({})", self.name, self.file.display()),
            format!("  lake: {}", self.lake.url()),
            format!(
                "  lock: wait {}s, lease {}s",
                self.cfg.lock.wait.0.as_secs(),
                self.cfg.lock.ttl.0.as_secs()
            ),
        ];
        for (i, s) in self.steps.iter().enumerate() {
            let what = match s {
                Step::Github(g) => format!(
                    "GitHub org {} at {}{}",
                    g.org,
                    g.base_url,
                    if g.repos.is_empty() {
                        String::new()
                    } else {
                        format!(" (repos {})", g.repos.join(", "))
                    }
                ),
                Step::Jira(j) => format!("Jira {} projects {}", j.base_url, j.projects.join(", ")),
                Step::Events { workspace, files } => format!(
                    "{} events file(s) into workspace {workspace}: {}",
                    files.len(),
                    files
                        .iter()
                        .map(|(p, _)| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Step::Build => format!(
                    "build and publish the marts (keep {} builds)",
                    self.cfg.build.keep_builds
                ),
                Step::Compact => "fold superseded raw versions (lake compact)".into(),
                Step::Archive { older_than, to } => {
                    format!("move raw partitions older than {older_than} days to {to}")
                }
            };
            out.push(format!("  {}. {}: {what}", i + 1, s.name()));
        }
        out.push(match &self.notify {
            Some(n) => format!("  notify: {:?} webhook on {:?}", n.format, n.on),
            None => "  notify: none ([notify] not set)".into(),
        });
        out
    }
}
