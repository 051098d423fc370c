//! The simulated Jira site: work items per project (a stable-ish arrival rate per team with a
//! weekday rhythm, log-normal wait and cycle times, some never started or never finished), and
//! on top of them full Jira issues ([`JiraIssue`]): status histories, assignee and story-point
//! changes, epics, two-week sprints on one scrum board per project, issues with more than 100
//! changelog histories, deleted and moved issues, and the `OPS` incident project.
//!
//! The work items keep their arrival process (and so [`crate::Org::jira_daily_throughput`]);
//! the Jira layer draws from its own RNG streams, so adding detail here never shifts them.
//! Each project's Jira data is generated on first access and cached, like [`crate::Repo::data`].
//!
//! What is special, per team project (find them with [`JiraProjectData::deleted`],
//! [`JiraProjectData::moved`] and [`JiraProjectData::long_changelogs`]):
//! - up to 3 never-started items are deleted between 1 and 20 days after creation (all before
//!   the timeline's end): 404 afterwards;
//! - up to 2 done items move to the next project (`org.projects[(i + 1) % n]`) 1 to 10 days
//!   after they were done: the id stays, the key becomes `<NEXT>-<50000 + n>`, the old key
//!   answers with the new one, and the move is recorded as `project` and `Key` changelog items;
//! - 1 or 2 started items (2 at Medium and up) carry 105 to 140 `Rank` histories between
//!   creation and the start of work, so their status changes lie beyond the first 100
//!   histories (Cloud's embedded changelog cap).

use chrono::{DateTime, Datelike, Duration, Utc};
use rand::RngExt;
use rand::distr::Distribution;
use rand::rngs::StdRng;
use statrs::distribution::Poisson;

use crate::model::{Person, WorkItem};
use crate::org::Project;
use crate::util::{
    add_working_hours, hours, is_weekend, lognormal_h, midnight, mix, rng_for, trunc_secs,
    work_time,
};

pub(crate) fn generate_items(p: &Project) -> Vec<WorkItem> {
    let mut rng = rng_for(p.seed, &[1]);
    let team_size = p.assignees.len().max(1) as f64;
    // Items finished per working day: about half an item per person.
    let base = 0.5 * team_size;
    let phase = rng.random::<f64>() * std::f64::consts::TAU;
    let mut items = Vec::new();
    // Start a few weeks early so the timeline opens with work in progress.
    let mut day = midnight(p.start) - Duration::days(42);
    let mut n = 0u64;
    while day < p.until {
        let t_days = (day - p.start).num_days() as f64;
        let drift = 1.0 + 0.15 * (t_days / 120.0 * std::f64::consts::TAU + phase).sin();
        let lambda = base * drift * if is_weekend(day) { 0.04 } else { 1.0 };
        let count: u64 = Poisson::new(lambda.max(1e-9))
            .map(|d| d.sample(&mut rng))
            .unwrap_or(0.0) as u64;
        for _ in 0..count {
            n += 1;
            let created = trunc_secs(work_time(&mut rng, day));
            let r = rng.random::<f64>();
            let issue_type = if r < 0.55 {
                "Story"
            } else if r < 0.8 {
                "Task"
            } else {
                "Bug"
            };
            let started = if rng.random_bool(0.9) {
                let wait = lognormal_h(&mut rng, 40.0, 1.1);
                Some(trunc_secs(add_working_hours(created, wait)))
            } else {
                None
            };
            let done = match started {
                Some(s) if rng.random_bool(0.95) => {
                    let cycle = lognormal_h(&mut rng, 60.0, 0.9);
                    Some(trunc_secs(add_working_hours(s, cycle)))
                }
                _ => None,
            };
            let assignee =
                started.map(|_| p.assignees[rng.random_range(0..p.assignees.len().max(1))].clone());
            items.push(WorkItem {
                key: format!("{}-{n}", p.key),
                project: p.key.clone(),
                issue_type,
                created_at: created,
                started_at: started,
                done_at: done,
                story_points: (issue_type == "Story")
                    .then(|| [1, 2, 3, 5, 8][rng.random_range(0..5)]),
                assignee,
            });
        }
        day += Duration::days(1);
    }
    items
}

/// The workflow statuses of the simulated site (one workflow for every project).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JiraStatus {
    /// `To Do` (category `new`), id `10000`.
    ToDo,
    /// `In Progress` (category `indeterminate`), id `3`.
    InProgress,
    /// `In Review` (category `indeterminate`), id `10002`.
    InReview,
    /// `Blocked` (category `indeterminate`; a waiting status), id `10003`.
    Blocked,
    /// `Waiting for QA` (category `indeterminate`; a waiting status), id `10004`.
    WaitingForQa,
    /// `Done` (category `done`), id `10001`.
    Done,
}

impl JiraStatus {
    /// Every status, in workflow order.
    pub const ALL: [JiraStatus; 6] = [
        JiraStatus::ToDo,
        JiraStatus::InProgress,
        JiraStatus::InReview,
        JiraStatus::Blocked,
        JiraStatus::WaitingForQa,
        JiraStatus::Done,
    ];

    /// The status id.
    pub fn id(self) -> &'static str {
        match self {
            JiraStatus::ToDo => "10000",
            JiraStatus::InProgress => "3",
            JiraStatus::InReview => "10002",
            JiraStatus::Blocked => "10003",
            JiraStatus::WaitingForQa => "10004",
            JiraStatus::Done => "10001",
        }
    }

    /// The status name.
    pub fn name(self) -> &'static str {
        match self {
            JiraStatus::ToDo => "To Do",
            JiraStatus::InProgress => "In Progress",
            JiraStatus::InReview => "In Review",
            JiraStatus::Blocked => "Blocked",
            JiraStatus::WaitingForQa => "Waiting for QA",
            JiraStatus::Done => "Done",
        }
    }

    /// The status category key: `new`, `indeterminate` or `done`.
    pub fn category(self) -> &'static str {
        match self {
            JiraStatus::ToDo => "new",
            JiraStatus::Done => "done",
            _ => "indeterminate",
        }
    }
}

/// One changed field of a changelog history.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A workflow transition.
    Status {
        /// Old status.
        from: JiraStatus,
        /// New status.
        to: JiraStatus,
    },
    /// Assignee (indices into [`crate::Org::people`]).
    Assignee {
        /// Old assignee.
        from: Option<usize>,
        /// New assignee.
        to: Option<usize>,
    },
    /// Story points.
    StoryPoints {
        /// Old value.
        from: Option<u32>,
        /// New value.
        to: Option<u32>,
    },
    /// The sprint field: every sprint the issue is or was in, by id.
    Sprint {
        /// Old sprint ids.
        from: Vec<u64>,
        /// New sprint ids.
        to: Vec<u64>,
    },
    /// A rank change on the board (no value flowlake reads).
    Rank,
    /// Moved to another project: `project` (ids and names) and `Key` items.
    Moved {
        /// Old project key.
        from_project: String,
        /// New project key.
        to_project: String,
        /// Old issue key.
        from_key: String,
        /// New issue key.
        to_key: String,
    },
}

/// A changelog history: one edit of one issue.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// History id (unique on the site; grows with time within an issue).
    pub id: u64,
    /// When the edit was made.
    pub at: DateTime<Utc>,
    /// Who made it (index into [`crate::Org::people`]).
    pub author: usize,
    /// What changed.
    pub changes: Vec<Change>,
}

/// A move of an issue to another project.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueMove {
    /// When.
    pub at: DateTime<Utc>,
    /// The new project's key.
    pub to_project: String,
    /// The new issue key.
    pub to_key: String,
}

/// A Jira issue over its whole life; [`JiraIssue::state_at`] is its snapshot at a clock.
#[derive(Debug, Clone, PartialEq)]
pub struct JiraIssue {
    /// Numeric id (`(project index + 1) * 100_000 + key number`); survives moves.
    pub id: u64,
    /// The key it was created with (same as the work item's key for work items).
    pub key: String,
    /// The project it was created in.
    pub project: String,
    /// `Story`, `Task`, `Bug`, `Epic` or `Incident`.
    pub issue_type: &'static str,
    /// Summary line.
    pub summary: String,
    /// Priority name.
    pub priority: &'static str,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Reporter (index into [`crate::Org::people`]).
    pub reporter: usize,
    /// Story points at creation (changed by a [`Change::StoryPoints`] for a few stories).
    pub initial_story_points: Option<u32>,
    /// The parent epic's key (stories only; epics never move).
    pub epic: Option<String>,
    /// Component names (incidents: the affected repository).
    pub components: Vec<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// The edits, oldest first.
    pub histories: Vec<History>,
    /// When it was deleted (the issue answers 404 from then on).
    pub deleted_at: Option<DateTime<Utc>>,
    /// Its move to another project, if any.
    pub moved: Option<IssueMove>,
    /// First move into an in-progress status (equals the work item's `started_at`).
    pub started_at: Option<DateTime<Utc>>,
    /// Last move into `Done` (equals the work item's `done_at`).
    pub done_at: Option<DateTime<Utc>>,
}

/// An issue as it stood at some instant.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueState {
    /// Key at that instant.
    pub key: String,
    /// Project key at that instant.
    pub project: String,
    /// Status.
    pub status: JiraStatus,
    /// Assignee (index into [`crate::Org::people`]).
    pub assignee: Option<usize>,
    /// Story points.
    pub story_points: Option<u32>,
    /// Sprint ids (the sprint field).
    pub sprints: Vec<u64>,
    /// The last change at or before the instant (or the creation).
    pub updated: DateTime<Utc>,
    /// The last move into `Done` when the status is `Done`.
    pub resolved: Option<DateTime<Utc>>,
    /// Number of histories at or before the instant.
    pub histories: usize,
}

impl JiraIssue {
    /// Whether the issue exists at `now` (created, not deleted).
    pub fn visible_at(&self, now: DateTime<Utc>) -> bool {
        self.created_at <= now && self.deleted_at.is_none_or(|d| d > now)
    }

    /// The histories made at or before `now`.
    pub fn histories_at(&self, now: DateTime<Utc>) -> &[History] {
        let n = self.histories.partition_point(|h| h.at <= now);
        &self.histories[..n]
    }

    /// The issue as it stood at `now`; `None` before it was created or once deleted.
    pub fn state_at(&self, now: DateTime<Utc>) -> Option<IssueState> {
        if !self.visible_at(now) {
            return None;
        }
        let hs = self.histories_at(now);
        let mut st = IssueState {
            key: self.key.clone(),
            project: self.project.clone(),
            status: JiraStatus::ToDo,
            assignee: None,
            story_points: self.initial_story_points,
            sprints: Vec::new(),
            updated: self.created_at,
            resolved: None,
            histories: hs.len(),
        };
        for h in hs {
            st.updated = h.at;
            for c in &h.changes {
                match c {
                    Change::Status { to, .. } => {
                        st.status = *to;
                        st.resolved = (*to == JiraStatus::Done).then_some(h.at);
                    }
                    Change::Assignee { to, .. } => st.assignee = *to,
                    Change::StoryPoints { to, .. } => st.story_points = *to,
                    Change::Sprint { to, .. } => st.sprints.clone_from(to),
                    Change::Rank => {}
                    Change::Moved {
                        to_project, to_key, ..
                    } => {
                        st.project.clone_from(to_project);
                        st.key.clone_from(to_key);
                    }
                }
            }
        }
        Some(st)
    }
}

/// A sprint of a project's scrum board.
#[derive(Debug, Clone, PartialEq)]
pub struct JiraSprint {
    /// Sprint id (`board id * 1000 + n`).
    pub id: u64,
    /// The board it belongs to.
    pub board_id: u64,
    /// `PAY Sprint 7`.
    pub name: String,
    /// Planned start (a Monday, 09:00 UTC).
    pub start: DateTime<Utc>,
    /// Planned end (two weeks later).
    pub end: DateTime<Utc>,
    /// When it was closed (a few hours after `end`).
    pub complete: DateTime<Utc>,
}

impl JiraSprint {
    /// Whether the sprint exists at `now` (it is planned a week before it starts).
    pub fn visible_at(&self, now: DateTime<Utc>) -> bool {
        self.start - Duration::days(7) <= now
    }

    /// `future`, `active` or `closed` at `now`.
    pub fn state_at(&self, now: DateTime<Utc>) -> &'static str {
        if now < self.start {
            "future"
        } else if now < self.complete {
            "active"
        } else {
            "closed"
        }
    }
}

/// One Jira project's issues, sprints and board.
#[derive(Debug, Clone, PartialEq)]
pub struct JiraProjectData {
    /// Project id (`10000 + index`; `OPS` comes after the team projects).
    pub project_id: u64,
    /// The board id (`index + 1`): scrum for team projects, kanban for `OPS`.
    pub board_id: u64,
    /// Issues created in this project (work items by key number, then epics), including ones
    /// later moved out or deleted. Issues moved in live in the previous project's data.
    pub issues: Vec<JiraIssue>,
    /// The board's sprints, oldest first (empty for `OPS`).
    pub sprints: Vec<JiraSprint>,
}

impl JiraProjectData {
    /// Issues that get deleted.
    pub fn deleted(&self) -> impl Iterator<Item = &JiraIssue> {
        self.issues.iter().filter(|i| i.deleted_at.is_some())
    }

    /// Issues that move to another project.
    pub fn moved(&self) -> impl Iterator<Item = &JiraIssue> {
        self.issues.iter().filter(|i| i.moved.is_some())
    }

    /// Issues with more than 100 changelog histories.
    pub fn long_changelogs(&self) -> impl Iterator<Item = &JiraIssue> {
        self.issues.iter().filter(|i| i.histories.len() > 100)
    }
}

/// A Jira account for a person of the org.
///
/// Identity matching has work to do: most people's Jira e-mail is their git e-mail; about one
/// in six uses a different corporate address (`first.last@corp.<org>.example`); and on Cloud
/// about one in six more hides it (privacy setting: no `emailAddress`). Data Center always
/// shows an address. Which is which is a hash of the person's GitHub id; read it from
/// [`crate::Org::jira_user`].
#[derive(Debug, Clone, PartialEq)]
pub struct JiraUser {
    /// Cloud `accountId`: 24 hex digits derived from the person.
    pub account_id: String,
    /// Data Center `key` and `name`: the GitHub login.
    pub username: String,
    /// Display name (the git author name).
    pub display_name: String,
    /// E-mail shown on Cloud.
    pub cloud_email: Option<String>,
    /// E-mail shown on Data Center.
    pub dc_email: String,
}

pub(crate) fn jira_user(org_name: &str, p: &Person) -> JiraUser {
    let h = mix(p.id ^ 0x0a11_ce55);
    let account_id = format!("{:08x}{:016x}", (mix(h) >> 32) as u32, h);
    let corporate = format!(
        "{}@corp.{org_name}.example",
        p.name.to_ascii_lowercase().replace(' ', ".")
    );
    let bucket = mix(p.id ^ 0xe3a1) % 6;
    let dc_email = if bucket == 1 {
        corporate
    } else {
        p.email.clone()
    };
    JiraUser {
        account_id,
        username: p.login.clone(),
        display_name: p.name.clone(),
        cloud_email: (bucket != 4).then(|| dc_email.clone()),
        dc_email,
    }
}

const VERBS: [&str; 8] = [
    "Add", "Fix", "Refactor", "Speed up", "Remove", "Document", "Migrate", "Harden",
];
const NOUNS: [&str; 10] = [
    "login flow",
    "retry logic",
    "invoice export",
    "search index",
    "rate limiter",
    "audit log",
    "settings page",
    "webhook handler",
    "cache layer",
    "CSV import",
];
const MOVES_PER_PROJECT: usize = 2;
const DELETES_PER_PROJECT: usize = 3;
/// Added to the source number to form a moved issue's new key number.
pub(crate) const MOVED_KEY_BASE: u64 = 50_000;

fn pick<'a>(rng: &mut StdRng, xs: &[&'a str]) -> &'a str {
    xs[rng.random_range(0..xs.len())]
}

fn secs_between(rng: &mut StdRng, a: DateTime<Utc>, b: DateTime<Utc>) -> DateTime<Utc> {
    let span = (b - a).num_seconds();
    if span <= 1 {
        return a;
    }
    a + Duration::seconds(rng.random_range(1..span))
}

/// Builds the histories of one work item's status (first in-progress = `s`, last done = `d`).
fn status_changes(
    rng: &mut StdRng,
    s: DateTime<Utc>,
    d: Option<DateTime<Utc>>,
) -> Vec<(DateTime<Utc>, Change)> {
    use JiraStatus::*;
    let mut mid = Vec::new();
    if rng.random_bool(0.15) {
        mid.extend([Blocked, InProgress]);
    }
    if d.is_some() && rng.random_bool(0.05) {
        // Closed too early, then reopened.
        mid.extend([Done, InProgress]);
    }
    if rng.random_bool(0.6) {
        mid.push(InReview);
        if rng.random_bool(0.2) {
            mid.extend([InProgress, InReview]);
        }
    }
    if rng.random_bool(0.25) {
        mid.push(WaitingForQa);
    }
    let end = d.unwrap_or_else(|| s + hours(lognormal_h(rng, 80.0, 0.8)));
    let span = (end - s).num_seconds();
    if span <= (mid.len() as i64 + 1) * 2 {
        mid.clear();
    }
    let mut times: Vec<i64> = (0..mid.len()).map(|_| rng.random_range(1..span)).collect();
    times.sort_unstable();
    times.dedup();
    mid.truncate(times.len());
    let mut out = vec![(
        s,
        Change::Status {
            from: ToDo,
            to: InProgress,
        },
    )];
    let mut cur = InProgress;
    for (st, t) in mid.into_iter().zip(times) {
        if st == cur {
            continue;
        }
        out.push((
            s + Duration::seconds(t),
            Change::Status { from: cur, to: st },
        ));
        cur = st;
    }
    if let Some(d) = d {
        out.push((
            d,
            Change::Status {
                from: cur,
                to: Done,
            },
        ));
    }
    out
}

struct Draft {
    issue: JiraIssue,
    changes: Vec<(DateTime<Utc>, usize, Change)>,
}

fn finish_draft(d: Draft) -> JiraIssue {
    let Draft {
        mut issue,
        mut changes,
    } = d;
    changes.sort_by_key(|(t, _, _)| *t);
    let mut hs: Vec<History> = Vec::with_capacity(changes.len());
    for (at, author, change) in changes {
        // Changes at the same instant by the same author form one history.
        if let Some(last) = hs.last_mut()
            && last.at == at
            && last.author == author
        {
            last.changes.push(change);
            continue;
        }
        hs.push(History {
            id: 0,
            at,
            author,
            changes: vec![change],
        });
    }
    for (i, h) in hs.iter_mut().enumerate() {
        h.id = issue.id * 1_000 + i as u64;
    }
    issue.histories = hs;
    issue
}

pub(crate) fn sprints_for(p: &Project, board_id: u64) -> Vec<JiraSprint> {
    let mut day = midnight(p.start) - Duration::days(42);
    while day.weekday() != chrono::Weekday::Mon {
        day += Duration::days(1);
    }
    let mut rng = rng_for(p.seed, &[3]);
    let mut out = Vec::new();
    let mut start = day + Duration::hours(9);
    while start < p.until {
        let end = start + Duration::days(14);
        let complete = end + Duration::minutes(rng.random_range(10..240));
        let n = out.len() as u64 + 1;
        out.push(JiraSprint {
            id: board_id * 1_000 + n,
            board_id,
            name: format!("{} Sprint {n}", p.key),
            start,
            end,
            complete,
        });
        start = end;
    }
    out
}

pub(crate) fn generate_project(p: &Project, items: &[WorkItem]) -> JiraProjectData {
    let mut rng = rng_for(p.seed, &[2]);
    let pidx = p.index as u64;
    let project_id = 10_000 + pidx;
    let board_id = pidx + 1;
    let sprints = sprints_for(p, board_id);
    let members: &[usize] = &p.members;
    let member = |rng: &mut StdRng| {
        if members.is_empty() {
            0
        } else {
            members[rng.random_range(0..members.len())]
        }
    };
    let person_of = |login: &str| {
        p.assignees
            .iter()
            .position(|a| a == login)
            .map(|i| members[i])
    };
    let scrum_master = members.first().copied().unwrap_or(0);
    let sprint_at = |t: DateTime<Utc>| -> Option<usize> {
        let first = sprints.first()?;
        if t < first.start {
            return None;
        }
        let j = ((t - first.start).num_seconds() / (14 * 86_400)) as usize;
        (j < sprints.len()).then_some(j)
    };

    // Epics: one every four weeks, each collecting the stories created in the six weeks after.
    let n_items = items.len() as u64;
    let mut epic_starts = Vec::new();
    let mut t = midnight(p.start) - Duration::days(45);
    while t < p.until {
        epic_starts.push(t);
        t += Duration::days(28);
    }
    let epic_key = |e: usize| format!("{}-{}", p.key, n_items + e as u64 + 1);
    let mut epic_children: Vec<Vec<usize>> = vec![Vec::new(); epic_starts.len()];

    let mut drafts: Vec<Draft> = Vec::with_capacity(items.len() + epic_starts.len());
    for (idx, it) in items.iter().enumerate() {
        let number = idx as u64 + 1;
        let id = (pidx + 1) * 100_000 + number;
        let reporter = member(&mut rng);
        let summary = format!("{} {}", pick(&mut rng, &VERBS), pick(&mut rng, &NOUNS));
        let priority = match rng.random_range(0..10) {
            0 => "High",
            1 => "Low",
            2 if it.issue_type == "Bug" => "Highest",
            _ => "Medium",
        };
        let labels = match rng.random_range(0..4) {
            0 => vec!["backend".to_string()],
            1 => vec!["frontend".to_string()],
            _ => Vec::new(),
        };
        let mut changes: Vec<(DateTime<Utc>, usize, Change)> = Vec::new();
        let final_assignee = it.assignee.as_deref().and_then(person_of);
        let actor = final_assignee.unwrap_or(reporter);
        let mut initial_sp = it.story_points;
        // A few stories are re-estimated once before work starts.
        if let Some(sp) = it.story_points
            && rng.random_bool(0.15)
        {
            let before = if sp <= 1 { 2 } else { sp - 1 };
            initial_sp = Some(before);
            let until = it.started_at.unwrap_or(it.created_at + Duration::days(2));
            let at = secs_between(&mut rng, it.created_at, until);
            changes.push((
                at,
                reporter,
                Change::StoryPoints {
                    from: Some(before),
                    to: Some(sp),
                },
            ));
        }
        let mut epic = None;
        if it.issue_type == "Story" && rng.random_bool(0.7) {
            let e = epic_starts.partition_point(|&s| s <= it.created_at);
            if e > 0 {
                epic = Some(epic_key(e - 1));
                epic_children[e - 1].push(idx);
            }
        }
        if let Some(s) = it.started_at {
            for (at, c) in status_changes(&mut rng, s, it.done_at) {
                changes.push((at, actor, c));
            }
            // Assignment happens with the first transition; a few items change hands later.
            let first = if members.len() > 1 && rng.random_bool(0.1) {
                let other = members
                    .iter()
                    .copied()
                    .find(|&m| Some(m) != final_assignee)
                    .unwrap_or(scrum_master);
                let later = it.done_at.unwrap_or(s + Duration::days(3));
                let at = secs_between(&mut rng, s, later);
                changes.push((
                    at,
                    other,
                    Change::Assignee {
                        from: Some(other),
                        to: final_assignee,
                    },
                ));
                Some(other)
            } else {
                final_assignee
            };
            changes.push((
                s,
                actor,
                Change::Assignee {
                    from: None,
                    to: first,
                },
            ));
            // Sprints: committed at a sprint start or added mid-sprint, sometimes removed
            // from the previous sprint first, carried over while unfinished.
            if let Some(j) = sprint_at(s) {
                let mut cur: Vec<u64> = Vec::new();
                let mut push = |at: DateTime<Utc>, to: Vec<u64>, cur: &mut Vec<u64>| {
                    changes.push((
                        at,
                        scrum_master,
                        Change::Sprint {
                            from: std::mem::take(cur),
                            to: to.clone(),
                        },
                    ));
                    *cur = to;
                };
                if j >= 1 && it.created_at < sprints[j - 1].start && rng.random_bool(0.06) {
                    let prev = &sprints[j - 1];
                    push(prev.start, vec![prev.id], &mut cur);
                    let out_at = prev.start + Duration::hours(rng.random_range(4..240));
                    push(out_at, Vec::new(), &mut cur);
                }
                if it.created_at < sprints[j].start && rng.random_bool(0.8) {
                    push(sprints[j].start, vec![sprints[j].id], &mut cur);
                } else {
                    let from = it.created_at.max(sprints[j].start);
                    let at = secs_between(&mut rng, from, s);
                    push(at, vec![sprints[j].id], &mut cur);
                }
                let mut k = j;
                let mut carried = 0;
                while it.done_at.is_none_or(|d| d >= sprints[k].complete)
                    && k + 1 < sprints.len()
                    && carried < 3
                {
                    let mut to = cur.clone();
                    to.push(sprints[k + 1].id);
                    push(sprints[k].complete, to, &mut cur);
                    k += 1;
                    carried += 1;
                }
            }
        }
        drafts.push(Draft {
            issue: JiraIssue {
                id,
                key: it.key.clone(),
                project: p.key.clone(),
                issue_type: it.issue_type,
                summary,
                priority,
                created_at: it.created_at,
                reporter,
                initial_story_points: initial_sp,
                epic,
                components: Vec::new(),
                labels,
                histories: Vec::new(),
                deleted_at: None,
                moved: None,
                started_at: it.started_at,
                done_at: it.done_at,
            },
            changes,
        });
    }

    // Epics: in progress from their first story's start, done after the last one.
    for (e, &w) in epic_starts.iter().enumerate() {
        let number = n_items + e as u64 + 1;
        let id = (pidx + 1) * 100_000 + number;
        let created = work_time(&mut rng, w);
        let reporter = scrum_master;
        let kids = &epic_children[e];
        let started = kids
            .iter()
            .filter_map(|&i| items[i].started_at)
            .min()
            .map(|s| s.max(created + Duration::minutes(1)));
        let all_done = !kids.is_empty() && kids.iter().all(|&i| items[i].done_at.is_some());
        let done = if all_done {
            kids.iter()
                .filter_map(|&i| items[i].done_at)
                .max()
                .map(|d| d + Duration::hours(2))
                .filter(|&d| started.is_some_and(|s| d > s))
        } else {
            None
        };
        let mut changes = Vec::new();
        if let Some(s) = started {
            changes.push((
                s,
                reporter,
                Change::Status {
                    from: JiraStatus::ToDo,
                    to: JiraStatus::InProgress,
                },
            ));
            if let Some(d) = done {
                changes.push((
                    d,
                    reporter,
                    Change::Status {
                        from: JiraStatus::InProgress,
                        to: JiraStatus::Done,
                    },
                ));
            }
        }
        drafts.push(Draft {
            issue: JiraIssue {
                id,
                key: epic_key(e),
                project: p.key.clone(),
                issue_type: "Epic",
                summary: format!("{} revamp, part {}", pick(&mut rng, &NOUNS), e + 1),
                priority: "Medium",
                created_at: created,
                reporter,
                initial_story_points: None,
                epic: None,
                components: Vec::new(),
                labels: Vec::new(),
                histories: Vec::new(),
                deleted_at: None,
                moved: None,
                started_at: started,
                done_at: done,
            },
            changes,
        });
    }

    // Long changelogs: many rank changes while the item waits to be started.
    let mut special = rng_for(p.seed, &[4]);
    let long_n = if p.scale_small { 1 } else { 2 };
    let long_candidates: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, it)| {
            it.done_at.is_some_and(|d| d < p.end - Duration::days(15))
                && it
                    .started_at
                    .is_some_and(|s| (s - it.created_at).num_seconds() > 3_600)
        })
        .map(|(i, _)| i)
        .collect();
    let mut used = std::collections::HashSet::new();
    for _ in 0..long_n {
        if long_candidates.is_empty() {
            break;
        }
        let i = long_candidates[special.random_range(0..long_candidates.len())];
        if !used.insert(i) {
            continue;
        }
        let it = &items[i];
        let (c, s) = (it.created_at, it.started_at.unwrap_or(it.created_at));
        let n = special.random_range(105..=140);
        let span = (s - c).num_seconds();
        let author = drafts[i].issue.reporter;
        for k in 0..n {
            let at = c + Duration::seconds(span * (k + 1) / (n + 2));
            drafts[i].changes.push((at, author, Change::Rank));
        }
    }

    // Deletions: never-started items, deleted within three weeks of creation.
    let del_candidates: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(i, it)| {
            it.started_at.is_none()
                && it.created_at < p.end - Duration::days(25)
                && it.created_at > p.start
                && !used.contains(i)
        })
        .map(|(i, _)| i)
        .collect();
    for _ in 0..DELETES_PER_PROJECT {
        if del_candidates.is_empty() {
            break;
        }
        let i = del_candidates[special.random_range(0..del_candidates.len())];
        if !used.insert(i) {
            continue;
        }
        let c = items[i].created_at;
        drafts[i].issue.deleted_at =
            Some(c + Duration::seconds(special.random_range(86_400..20 * 86_400)));
    }

    // Moves to the next project, after the work is done.
    if let Some(to) = &p.move_to {
        let move_candidates: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(i, it)| {
                it.done_at
                    .is_some_and(|d| d < p.end - Duration::days(15) && d > p.start)
                    && !used.contains(i)
            })
            .map(|(i, _)| i)
            .collect();
        for _ in 0..MOVES_PER_PROJECT {
            if move_candidates.is_empty() {
                break;
            }
            let i = move_candidates[special.random_range(0..move_candidates.len())];
            if !used.insert(i) {
                continue;
            }
            let d = items[i].done_at.unwrap_or(items[i].created_at);
            let at = d + Duration::seconds(special.random_range(86_400..10 * 86_400));
            let to_key = format!("{to}-{}", MOVED_KEY_BASE + i as u64 + 1);
            let from_key = drafts[i].issue.key.clone();
            let author = scrum_master;
            drafts[i].changes.push((
                at,
                author,
                Change::Moved {
                    from_project: p.key.clone(),
                    to_project: to.clone(),
                    from_key,
                    to_key: to_key.clone(),
                },
            ));
            drafts[i].issue.moved = Some(IssueMove {
                at,
                to_project: to.clone(),
                to_key,
            });
        }
    }

    JiraProjectData {
        project_id,
        board_id,
        issues: drafts.into_iter().map(finish_draft).collect(),
        sprints,
    }
}

/// An incident before numbering: opened, closed, repository, title, severity, author.
type OpsRow<'a> = (
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    &'a str,
    &'a str,
    &'a str,
    usize,
);

/// The `OPS` project: one `Incident` per GitHub incident of every repository, with the
/// repository as its component, opened and resolved when the GitHub issue was.
pub(crate) fn generate_ops(org: &crate::Org, index: usize) -> JiraProjectData {
    let pidx = index as u64;
    let mut rng = rng_for(org.seed, &[0x0b5, 1]);
    let mut incs: Vec<OpsRow<'_>> = Vec::new();
    for r in &org.repos {
        for i in r.data().incidents() {
            let sev = i
                .labels
                .iter()
                .copied()
                .find(|l| l.starts_with("sev"))
                .unwrap_or("sev3");
            incs.push((
                i.created_at,
                i.closed_at,
                r.name.as_str(),
                i.title.as_str(),
                sev,
                i.author,
            ));
        }
    }
    incs.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.cmp(b.2)));
    let issues = incs
        .into_iter()
        .enumerate()
        .map(|(n, (created, closed, repo, title, sev, author))| {
            let number = n as u64 + 1;
            let id = (pidx + 1) * 100_000 + number;
            let mut changes = Vec::new();
            let ack = created + Duration::minutes(rng.random_range(3..30));
            let started = closed.map_or(ack, |c| ack.min(c));
            changes.push((
                started,
                author,
                Change::Status {
                    from: JiraStatus::ToDo,
                    to: JiraStatus::InProgress,
                },
            ));
            changes.push((
                started,
                author,
                Change::Assignee {
                    from: None,
                    to: Some(author),
                },
            ));
            let done = closed.filter(|&c| c > started);
            if let Some(c) = done {
                changes.push((
                    c,
                    author,
                    Change::Status {
                        from: JiraStatus::InProgress,
                        to: JiraStatus::Done,
                    },
                ));
            }
            finish_draft(Draft {
                issue: JiraIssue {
                    id,
                    key: format!("{OPS_KEY}-{number}"),
                    project: OPS_KEY.to_string(),
                    issue_type: "Incident",
                    summary: title.to_string(),
                    priority: match sev {
                        "sev1" => "Highest",
                        "sev2" => "High",
                        _ => "Medium",
                    },
                    created_at: created,
                    reporter: author,
                    initial_story_points: None,
                    epic: None,
                    components: vec![repo.to_string()],
                    labels: vec!["incident".to_string(), sev.to_string()],
                    histories: Vec::new(),
                    deleted_at: None,
                    moved: None,
                    started_at: Some(started),
                    done_at: done,
                },
                changes,
            })
        })
        .collect();
    JiraProjectData {
        project_id: 10_000 + pidx,
        board_id: pidx + 1,
        issues,
        sprints: Vec::new(),
    }
}

/// The key of the incident project.
pub const OPS_KEY: &str = "OPS";

#[cfg(test)]
mod tests {
    use super::{Change, JiraStatus};
    use crate::{Org, Scale, SimConfig};
    use chrono::Datelike;

    /// Every change's `from` is the value the replay holds; first in-progress and last done
    /// are the work item's times.
    #[test]
    fn histories_replay_consistently() {
        let org = Org::generate(&SimConfig::new(5, Scale::Small)).unwrap();
        for p in &org.projects {
            let data = p.jira();
            assert!(data.deleted().count() >= 1, "{}", p.key);
            assert!(data.moved().count() >= 1, "{}", p.key);
            assert!(data.long_changelogs().count() >= 1, "{}", p.key);
            for (n, i) in data.issues.iter().enumerate() {
                assert_eq!(i.id % 100_000, n as u64 + 1);
                assert!(
                    i.histories
                        .windows(2)
                        .all(|w| w[0].at <= w[1].at && w[0].id < w[1].id)
                );
                let mut status = JiraStatus::ToDo;
                let mut assignee = None;
                let mut sp = i.initial_story_points;
                let mut sprints: Vec<u64> = Vec::new();
                let (mut first, mut last_done) = (None, None);
                for h in &i.histories {
                    assert!(h.at >= i.created_at, "{}", i.key);
                    for c in &h.changes {
                        match c {
                            Change::Status { from, to } => {
                                assert_eq!(*from, status, "{}", i.key);
                                assert_ne!(from, to);
                                if to.category() == "indeterminate" && first.is_none() {
                                    first = Some(h.at);
                                }
                                if *to == JiraStatus::Done {
                                    last_done = Some(h.at);
                                }
                                status = *to;
                            }
                            Change::Assignee { from, to } => {
                                assert_eq!(*from, assignee, "{}", i.key);
                                assignee = *to;
                            }
                            Change::StoryPoints { from, to } => {
                                assert_eq!(*from, sp);
                                sp = *to;
                            }
                            Change::Sprint { from, to } => {
                                assert_eq!(*from, sprints, "{}", i.key);
                                sprints.clone_from(to);
                            }
                            Change::Rank | Change::Moved { .. } => {}
                        }
                    }
                }
                assert_eq!(first, i.started_at, "{}", i.key);
                assert_eq!(last_done, i.done_at, "{}", i.key);
                if n < p.work_items().len() {
                    let w = &p.work_items()[n];
                    assert_eq!((w.started_at, w.done_at), (i.started_at, i.done_at));
                    assert_eq!(sp, w.story_points);
                    assert_eq!(w.key, i.key);
                }
            }
        }
    }

    #[test]
    fn medium_projects_generate_quickly() {
        let org = Org::generate(&SimConfig::new(5, Scale::Medium)).unwrap();
        let t = std::time::Instant::now();
        let n: usize = org.projects.iter().map(|p| p.jira().issues.len()).sum();
        assert!(n > 20_000, "{n}");
        // Generous for a debug build on a busy machine; release is far faster.
        assert!(t.elapsed().as_secs() < 30, "{:?}", t.elapsed());
    }

    #[test]
    fn throughput_covers_every_day_with_a_weekday_rhythm() {
        let org = Org::generate(&SimConfig::new(3, Scale::Small)).unwrap();
        let key = org.projects[0].key.clone();
        let tp = org.jira_daily_throughput(&key);
        assert_eq!(tp.len(), 365);
        assert_eq!(tp[0].0, org.start.date_naive());
        for w in tp.windows(2) {
            assert_eq!((w[1].0 - w[0].0).num_days(), 1);
        }
        let (mut wk, mut we) = (0u32, 0u32);
        for (d, c) in &tp {
            if d.weekday().number_from_monday() >= 6 {
                we += c;
            } else {
                wk += c;
            }
        }
        assert!(wk > 300, "weekday throughput {wk}");
        assert!(
            f64::from(we) < 0.1 * f64::from(wk),
            "weekend {we} vs weekday {wk}"
        );
        assert!(tp.iter().any(|(_, c)| *c == 0));
        assert!(org.jira_daily_throughput("NOPE").is_empty());
        let items = org.project(&key).unwrap().work_items();
        assert!(
            items
                .iter()
                .all(|i| i.started_at.is_none_or(|s| s >= i.created_at))
        );
        assert!(items.iter().all(|i| match (i.started_at, i.done_at) {
            (Some(s), Some(d)) => d >= s,
            (None, Some(_)) => false,
            _ => true,
        }));
    }
}
