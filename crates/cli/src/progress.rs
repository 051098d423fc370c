//! Progress bars on stderr (hidden when stderr is not a terminal) and their connector hooks.

use std::time::Duration;

use flowlake_github::Progress;
use indicatif::{ProgressBar, ProgressStyle};

/// Bars for one ingest.
pub struct IngestBars {
    repos: ProgressBar,
}

impl IngestBars {
    /// New bars.
    pub fn new(quiet: bool) -> Self {
        let repos = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(0)
        };
        repos.set_style(
            ProgressStyle::with_template("{spinner} ingest {pos}/{len} scopes [{bar:30}] {msg}")
                .expect("static template")
                .progress_chars("=> "),
        );
        repos.enable_steady_tick(Duration::from_millis(200));
        IngestBars { repos }
    }

    /// The hook the connector calls.
    pub fn hook(&self) -> impl Fn(Progress) + Send + Sync + '_ {
        move |p| match p {
            Progress::Repos(n) => self.repos.set_length(n as u64),
            Progress::Page { repo, entity, rows } => {
                self.repos.set_message(format!("{repo} {entity} {rows}"))
            }
            Progress::RepoDone(_) => self.repos.inc(1),
        }
    }

    /// The hook the Jira connector calls (the bar counts projects).
    pub fn jira_hook(&self) -> impl Fn(flowlake_jira::Progress) + Send + Sync + '_ {
        use flowlake_jira::Progress as P;
        move |p| match p {
            P::Projects(n) => self.repos.set_length(n as u64),
            P::Page {
                project,
                entity,
                rows,
            } => self.repos.set_message(format!("{project} {entity} {rows}")),
            P::ProjectDone(_) => self.repos.inc(1),
        }
    }

    /// Clear the bars.
    pub fn finish(&self) {
        self.repos.finish_and_clear();
    }
}

/// A bar for the marts build.
pub fn build_bar(quiet: bool) -> ProgressBar {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} build {pos}/{len} models [{bar:30}] {msg}")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar
}
