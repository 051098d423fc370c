//! The public data types of the simulated org: the full timeline, before any snapshot.
//!
//! Indices such as [`PullRequest::author`] point into [`crate::Org::people`]; times are UTC with
//! second precision. The snapshot helpers (`*_at(now)`) answer as the org stood at `now`, the
//! way the server does.

use std::fmt;

use chrono::{DateTime, Utc};

/// Whether an account is a person or a bot (GraphQL `__typename`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActorKind {
    /// A human account (`User`).
    User,
    /// A bot account such as `dependabot[bot]` (`Bot`).
    Bot,
}

impl ActorKind {
    /// The GraphQL `__typename` (`User` or `Bot`).
    pub fn typename(self) -> &'static str {
        match self {
            ActorKind::User => "User",
            ActorKind::Bot => "Bot",
        }
    }
}

/// An account of the org.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    /// GitHub database id.
    pub id: u64,
    /// GitHub login (`dependabot[bot]` for bots).
    pub login: String,
    /// Display name used as the git author name.
    pub name: String,
    /// Git author email.
    pub email: String,
    /// Index into [`crate::Org::teams`]; `None` for bots.
    pub team: Option<usize>,
    /// User or bot.
    pub kind: ActorKind,
}

/// A team: owns repositories and one Jira project.
#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    /// Team name, e.g. `payments`.
    pub name: String,
    /// Key of the team's Jira project, e.g. `PAY`.
    pub jira_key: String,
    /// Indices into [`crate::Org::people`].
    pub members: Vec<usize>,
}

/// A git object id (SHA-1, 20 bytes); displays as 40 lower-case hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Oid(pub [u8; 20]);

impl Oid {
    /// Parses 40 hex digits.
    pub fn parse(hex: &str) -> Option<Oid> {
        if hex.len() != 40 {
            return None;
        }
        let mut out = [0u8; 20];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Oid(out))
    }

    pub(crate) fn derive(seed: u64, parts: &[u64]) -> Oid {
        // `util::oid` gives 40 hex digits; parsing them back keeps one derivation rule.
        Oid::parse(&crate::util::oid(seed, parts)).expect("40 hex digits")
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Why a pull request exists; drives its title, labels and timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrKind {
    /// Ordinary feature, bug or chore work.
    Regular,
    /// A dependency bump by a bot.
    Dependency,
    /// A fix for an incident (label `hotfix`, title `hotfix: …`).
    Hotfix,
    /// A revert of an earlier PR (title `Revert "…"`).
    Revert,
}

/// Review states as GitHub reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReviewState {
    /// `APPROVED`
    Approved,
    /// `CHANGES_REQUESTED`
    ChangesRequested,
    /// `COMMENTED`
    Commented,
    /// `DISMISSED`
    Dismissed,
}

impl ReviewState {
    /// The GraphQL enum value.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Approved => "APPROVED",
            ReviewState::ChangesRequested => "CHANGES_REQUESTED",
            ReviewState::Commented => "COMMENTED",
            ReviewState::Dismissed => "DISMISSED",
        }
    }
}

/// A commit on a pull request's branch.
#[derive(Debug, Clone, PartialEq)]
pub struct PrCommit {
    /// Commit id.
    pub oid: Oid,
    /// Commit message (one line).
    pub message: &'static str,
    /// Author date; also the committed date (branch commits are not rebased).
    pub authored_at: DateTime<Utc>,
    /// Lines added.
    pub additions: u32,
    /// Lines deleted.
    pub deletions: u32,
}

/// A pull request review.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    /// Database id (unique within the org).
    pub database_id: u64,
    /// Final state.
    pub state: ReviewState,
    /// When it was submitted.
    pub submitted_at: DateTime<Utc>,
    /// Reviewer (index into [`crate::Org::people`]).
    pub author: usize,
    /// Number of review comments.
    pub comments: u32,
}

/// The state of a pull request at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrState {
    /// `OPEN`
    Open,
    /// `CLOSED` (closed without merge)
    Closed,
    /// `MERGED`
    Merged,
}

impl PrState {
    /// The GraphQL enum value.
    pub fn as_str(self) -> &'static str {
        match self {
            PrState::Open => "OPEN",
            PrState::Closed => "CLOSED",
            PrState::Merged => "MERGED",
        }
    }
}

/// A pull request over its whole life.
#[derive(Debug, Clone, PartialEq)]
pub struct PullRequest {
    /// Number, shared with issues (one sequence per repo, in creation order).
    pub number: u64,
    /// Database id.
    pub database_id: u64,
    /// GraphQL node id (`PR_kwDO…`).
    pub node_id: String,
    /// Title.
    pub title: String,
    /// Why it exists.
    pub kind: PrKind,
    /// Author; `None` for a deleted account (GraphQL `author: null`).
    pub author: Option<usize>,
    /// Head branch.
    pub head_ref: String,
    /// Base branch (the default branch).
    pub base_ref: String,
    /// Label names, lower case.
    pub labels: Vec<&'static str>,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// It is a draft while `created_at <= now < draft_until`.
    pub draft_until: Option<DateTime<Utc>>,
    /// When it was merged, if ever.
    pub merged_at: Option<DateTime<Utc>>,
    /// When it was closed without merge, if ever.
    pub closed_at: Option<DateTime<Utc>>,
    /// The squash commit on the default branch (set when merged).
    pub merge_commit: Option<Oid>,
    /// Branch commits, oldest first.
    pub commits: Vec<PrCommit>,
    /// Reviews, oldest first.
    pub reviews: Vec<Review>,
    /// Number of files changed.
    pub changed_files: u32,
    /// For hotfixes and incident reverts: the number of the incident issue it fixes.
    pub fixes_incident: Option<u64>,
}

impl PullRequest {
    /// Whether the PR exists at `now`.
    pub fn visible_at(&self, now: DateTime<Utc>) -> bool {
        self.created_at <= now
    }

    /// The state at `now`, or `None` if it did not exist yet.
    pub fn state_at(&self, now: DateTime<Utc>) -> Option<PrState> {
        if !self.visible_at(now) {
            return None;
        }
        Some(match (self.merged_at, self.closed_at) {
            (Some(m), _) if m <= now => PrState::Merged,
            (_, Some(c)) if c <= now => PrState::Closed,
            _ => PrState::Open,
        })
    }

    /// `updatedAt` at `now`: the latest event at or before `now`.
    pub fn updated_at_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let mut t = self.created_at;
        let mut see = |x: DateTime<Utc>| {
            if x <= now && x > t {
                t = x;
            }
        };
        for c in &self.commits {
            see(c.authored_at);
        }
        for r in &self.reviews {
            see(r.submitted_at);
        }
        if let Some(d) = self.draft_until {
            see(d);
        }
        if let Some(m) = self.merged_at {
            see(m);
        }
        if let Some(c) = self.closed_at {
            see(c);
        }
        t
    }

    /// Whether it is a draft at `now`.
    pub fn is_draft_at(&self, now: DateTime<Utc>) -> bool {
        self.draft_until.is_some_and(|d| now < d)
    }

    /// The first commit's author date (start of coding time).
    pub fn first_commit_at(&self) -> DateTime<Utc> {
        self.commits
            .first()
            .map_or(self.created_at, |c| c.authored_at)
    }

    /// Whether it ends up merged (at any time in the timeline).
    pub fn is_merged(&self) -> bool {
        self.merged_at.is_some()
    }
}

/// A commit of the default branch's (linear) history.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    /// Commit id.
    pub oid: Oid,
    /// First line of the message (`<PR title> (#<number>)` for squash merges).
    pub message: String,
    /// Author date.
    pub authored_at: DateTime<Utc>,
    /// Commit date: the merge time for a squash merge.
    pub committed_at: DateTime<Utc>,
    /// Author; `None` for a deleted account.
    pub author: Option<usize>,
    /// Number of parents (0 for the root commit, else 1).
    pub parents: u32,
    /// The PR this commit squashes (index into [`RepoData::pull_requests`]); `None` for a
    /// direct push.
    pub pull_request: Option<usize>,
}

/// Deployment environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Environment {
    /// `production`
    Production,
    /// `staging`
    Staging,
}

impl Environment {
    /// The environment name.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Staging => "staging",
        }
    }
}

/// Deployment status states as GitHub reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeploymentState {
    /// `QUEUED`
    Queued,
    /// `IN_PROGRESS`
    InProgress,
    /// `SUCCESS`
    Success,
    /// `FAILURE`
    Failure,
    /// `ERROR`
    Error,
    /// `INACTIVE` (a later deployment to the same environment superseded it)
    Inactive,
}

impl DeploymentState {
    /// The GraphQL enum value.
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentState::Queued => "QUEUED",
            DeploymentState::InProgress => "IN_PROGRESS",
            DeploymentState::Success => "SUCCESS",
            DeploymentState::Failure => "FAILURE",
            DeploymentState::Error => "ERROR",
            DeploymentState::Inactive => "INACTIVE",
        }
    }

    /// Whether this state ends a deployment (success, failure or error).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            DeploymentState::Success | DeploymentState::Failure | DeploymentState::Error
        )
    }
}

/// One status of a deployment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeploymentStatus {
    /// State.
    pub state: DeploymentState,
    /// When it was posted.
    pub created_at: DateTime<Utc>,
}

/// Why a deployment was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeployKind {
    /// A scheduled deployment of the default branch's head.
    Regular,
    /// A retry of a failed deployment.
    Retry,
    /// Ships a hotfix or revert PR for an incident.
    Fix,
    /// Redeploys the previous good commit to recover from an incident.
    Rollback,
}

/// A GitHub Deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    /// Database id.
    pub database_id: u64,
    /// GraphQL node id.
    pub node_id: String,
    /// Environment.
    pub environment: Environment,
    /// The deployed commit (the default branch's head at `created_at`, except rollbacks).
    pub commit_oid: Oid,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Who created it.
    pub creator: usize,
    /// Statuses, oldest first.
    pub statuses: Vec<DeploymentStatus>,
    /// Why it was made.
    pub kind: DeployKind,
    /// The number of the incident issue this deployment caused.
    pub caused_incident: Option<u64>,
    /// The number of the incident issue this deployment resolved (fix or rollback).
    pub resolves_incident: Option<u64>,
}

impl Deployment {
    /// The first terminal status (success, failure or error), if any.
    pub fn outcome(&self) -> Option<DeploymentStatus> {
        self.statuses
            .iter()
            .copied()
            .find(|s| s.state.is_terminal())
    }

    /// When it finished (its first terminal status).
    pub fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.outcome().map(|s| s.created_at)
    }

    /// Whether it ends successfully.
    pub fn is_success(&self) -> bool {
        self.outcome()
            .is_some_and(|s| s.state == DeploymentState::Success)
    }

    /// Whether it targets production.
    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// The latest status posted at or before `now`.
    pub fn latest_status_at(&self, now: DateTime<Utc>) -> Option<DeploymentStatus> {
        self.statuses.iter().copied().rfind(|s| s.created_at <= now)
    }

    /// `updatedAt` at `now`.
    pub fn updated_at_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.latest_status_at(now)
            .map_or(self.created_at, |s| s.created_at.max(self.created_at))
    }
}

/// A GitHub Actions workflow run.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowRun {
    /// Run id.
    pub id: u64,
    /// Workflow id.
    pub workflow_id: u64,
    /// Workflow name: `ci` or `deploy`.
    pub name: &'static str,
    /// Workflow file path.
    pub path: &'static str,
    /// Triggering event: `pull_request` or `push`.
    pub event: &'static str,
    /// Branch.
    pub head_branch: String,
    /// Commit.
    pub head_sha: Oid,
    /// Run number within its workflow.
    pub run_number: u64,
    /// Attempt (1 unless re-run).
    pub run_attempt: u32,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Start time.
    pub run_started_at: DateTime<Utc>,
    /// Completion time.
    pub completed_at: DateTime<Utc>,
    /// `success` or `failure`.
    pub conclusion: &'static str,
}

/// A GitHub release.
#[derive(Debug, Clone, PartialEq)]
pub struct Release {
    /// Release id.
    pub id: u64,
    /// Tag (`v1.4.0`).
    pub tag_name: String,
    /// Release name.
    pub name: String,
    /// Target branch.
    pub target_commitish: String,
    /// Whether it is a draft.
    pub draft: bool,
    /// Whether it is a pre-release.
    pub prerelease: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Publication time.
    pub published_at: DateTime<Utc>,
    /// Author (index into people).
    pub author: usize,
}

/// A GitHub issue; incidents carry the label `incident` and a severity (`sev1`..`sev3`).
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// Issue id.
    pub id: u64,
    /// Number (shared sequence with PRs).
    pub number: u64,
    /// Title.
    pub title: String,
    /// Label names.
    pub labels: Vec<&'static str>,
    /// Author (index into people).
    pub author: usize,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it was closed, if ever.
    pub closed_at: Option<DateTime<Utc>>,
    /// For incidents: the database id of the production deployment that caused it.
    pub caused_by_deployment: Option<u64>,
}

impl Issue {
    /// Whether this is an incident.
    pub fn is_incident(&self) -> bool {
        self.labels.contains(&"incident")
    }

    /// `open` or `closed` at `now`.
    pub fn state_at(&self, now: DateTime<Utc>) -> &'static str {
        match self.closed_at {
            Some(c) if c <= now => "closed",
            _ => "open",
        }
    }

    /// `updated_at` at `now`.
    pub fn updated_at_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self.closed_at {
            Some(c) if c <= now => c,
            _ => self.created_at,
        }
    }
}

/// Everything that happens in one repository over the timeline.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RepoData {
    /// Pull requests, by number.
    pub pull_requests: Vec<PullRequest>,
    /// Default-branch history, oldest first (linear: ordered by `committed_at`).
    pub commits: Vec<Commit>,
    /// Deployments (production and staging), oldest first.
    pub deployments: Vec<Deployment>,
    /// Workflow runs, oldest first.
    pub workflow_runs: Vec<WorkflowRun>,
    /// Releases, oldest first.
    pub releases: Vec<Release>,
    /// Issues (incidents and ordinary bugs), by number.
    pub issues: Vec<Issue>,
}

impl RepoData {
    /// The head of the default branch at `now`.
    pub fn head_at(&self, now: DateTime<Utc>) -> Option<&Commit> {
        let i = self.commits.partition_point(|c| c.committed_at <= now);
        i.checked_sub(1).map(|i| &self.commits[i])
    }

    /// Incident issues.
    pub fn incidents(&self) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(|i| i.is_incident())
    }

    /// Production deployments.
    pub fn production_deployments(&self) -> impl Iterator<Item = &Deployment> {
        self.deployments.iter().filter(|d| d.is_production())
    }
}

/// A Jira-like work item.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkItem {
    /// Issue key, e.g. `PAY-123`.
    pub key: String,
    /// Project key, e.g. `PAY`.
    pub project: String,
    /// `Story`, `Bug` or `Task`.
    pub issue_type: &'static str,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// First move into an in-progress status.
    pub started_at: Option<DateTime<Utc>>,
    /// Last move into done.
    pub done_at: Option<DateTime<Utc>>,
    /// Story points, for stories.
    pub story_points: Option<u32>,
    /// Assignee login.
    pub assignee: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_display_parses_back() {
        let o = Oid::derive(7, &[1, 2, 3]);
        let s = o.to_string();
        assert_eq!(s.len(), 40);
        assert_eq!(Oid::parse(&s), Some(o));
        assert_eq!(Oid::parse("xyz"), None);
    }
}
