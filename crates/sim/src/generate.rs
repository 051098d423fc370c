//! Generates one repository's timeline: pull requests, the default branch, deployments,
//! incidents, workflow runs and releases.
//!
//! Regular work (PRs, bot bumps, reverts, direct pushes) is drawn first. Deployments are then
//! simulated in time order over a queue, because they feed back into the history: a deployment
//! may cause an incident, whose hotfix or revert PR lands on the default branch and ships in a
//! later deployment.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rand::RngExt;
use rand::distr::Distribution;
use rand::rngs::StdRng;
use statrs::distribution::Poisson;

use crate::model::{
    Commit, DeployKind, Deployment, DeploymentState, DeploymentStatus, Environment, Issue, Oid,
    PrCommit, PrKind, PullRequest, Release, RepoData, Review, ReviewState, WorkflowRun,
};
use crate::org::Repo;
use crate::util::{
    hours, is_weekend, lognormal_h, midnight, node_id, rng_for, to_workday, trunc_secs, work_time,
};

const VERBS: [&str; 12] = [
    "Add",
    "Support",
    "Improve",
    "Refactor",
    "Speed up",
    "Simplify",
    "Extract",
    "Introduce",
    "Clean up",
    "Rework",
    "Harden",
    "Document",
];
const THINGS: [&str; 20] = [
    "retry logic for webhooks",
    "pagination in list endpoint",
    "metrics for the job queue",
    "feature flag for new checkout",
    "caching of user profiles",
    "validation of request payloads",
    "database connection pool",
    "audit log export",
    "rate limiting middleware",
    "background sync worker",
    "error handling in client",
    "config loading",
    "currency rounding",
    "search ranking weights",
    "notification templates",
    "session handling",
    "CSV import",
    "health checks",
    "dashboard queries",
    "API docs",
];
const FIX_THINGS: [&str; 10] = [
    "null pointer in order lookup",
    "timeout on large exports",
    "race in cache invalidation",
    "off-by-one in pagination",
    "wrong timezone in reports",
    "memory leak in worker",
    "stale feature flag",
    "missing index on events table",
    "double charge on retry",
    "broken login redirect",
];
const PACKAGES: [&str; 10] = [
    "serde",
    "tokio",
    "axios",
    "lodash",
    "react",
    "jackson-databind",
    "urllib3",
    "golang.org/x/net",
    "webpack",
    "log4j-core",
];
const COMMIT_MSGS: [&str; 10] = [
    "wip",
    "implement the change",
    "add tests",
    "fix lint",
    "address review comments",
    "update docs",
    "rename for clarity",
    "handle edge case",
    "small cleanup",
    "bump snapshot",
];
const SYMPTOMS: [&str; 8] = [
    "error rate",
    "latency",
    "5xx responses",
    "failed payments",
    "queue backlog",
    "login failures",
    "timeouts",
    "CPU usage",
];

/// Samples a Poisson count.
fn poisson(rng: &mut StdRng, lambda: f64) -> u64 {
    if lambda <= 0.0 {
        return 0;
    }
    Poisson::new(lambda).map_or(0, |d| {
        let x: f64 = d.sample(rng);
        x as u64
    })
}

/// One PR as planned before numbering.
struct Plan {
    pr: PullRequest,
}

struct Gen<'a> {
    repo: &'a Repo,
    rng: StdRng,
    members: Vec<usize>,
    weights: Vec<f64>,
    others: Vec<usize>,
    bots: Vec<usize>,
    prs: Vec<Plan>,
    review_seq: u64,
    oid_seq: u64,
}

impl<'a> Gen<'a> {
    fn new(repo: &'a Repo) -> Self {
        let mut rng = rng_for(repo.seed, &[1]);
        let team = &repo.teams[repo.team];
        let members = team.members.clone();
        // Some people ship much more than others.
        let weights = members
            .iter()
            .map(|_| lognormal_h(&mut rng, 1.0, 0.45))
            .collect();
        let others = repo
            .people
            .iter()
            .enumerate()
            .filter(|(_, p)| p.team.is_some_and(|t| t != repo.team))
            .map(|(i, _)| i)
            .collect();
        let bots = repo
            .people
            .iter()
            .enumerate()
            .filter(|(_, p)| p.team.is_none())
            .map(|(i, _)| i)
            .collect();
        Gen {
            repo,
            rng,
            members,
            weights,
            others,
            bots,
            prs: Vec::new(),
            review_seq: 0,
            oid_seq: 0,
        }
    }

    /// `t` plus a log-normal lag, moved off the weekend with probability `p`.
    fn lag(&mut self, t: DateTime<Utc>, median_h: f64, sigma: f64, p: f64) -> DateTime<Utc> {
        let x = t + hours(lognormal_h(&mut self.rng, median_h, sigma));
        to_workday(&mut self.rng, x, p)
    }

    fn next_oid(&mut self) -> Oid {
        self.oid_seq += 1;
        Oid::derive(self.repo.seed, &[2, self.oid_seq])
    }

    fn member(&mut self) -> usize {
        let total: f64 = self.weights.iter().sum();
        let mut x = self.rng.random::<f64>() * total;
        for (i, w) in self.weights.iter().enumerate() {
            if x < *w {
                return self.members[i];
            }
            x -= w;
        }
        *self.members.last().expect("a team has members")
    }

    /// Up to `n` distinct reviewers from the team, not `author`.
    fn reviewers(&mut self, author: Option<usize>, n: usize) -> Vec<usize> {
        let mut pool: Vec<usize> = self
            .members
            .iter()
            .copied()
            .filter(|m| Some(*m) != author)
            .collect();
        let mut out = Vec::new();
        while out.len() < n && !pool.is_empty() {
            let i = self.rng.random_range(0..pool.len());
            out.push(pool.swap_remove(i));
        }
        out
    }

    fn review(&mut self, state: ReviewState, at: DateTime<Utc>, author: usize) -> Review {
        self.review_seq += 1;
        let comments = match state {
            ReviewState::ChangesRequested | ReviewState::Dismissed => self.rng.random_range(1..=6),
            ReviewState::Commented => self.rng.random_range(1..=3),
            ReviewState::Approved => u32::from(self.rng.random_bool(0.2)),
        };
        Review {
            database_id: self.repo.id * 10_000_000 + self.review_seq,
            state,
            submitted_at: trunc_secs(at),
            author,
            comments,
        }
    }

    /// Splits `additions`/`deletions` over commits authored at `times`.
    fn commits(
        &mut self,
        times: &[DateTime<Utc>],
        additions: u32,
        deletions: u32,
    ) -> Vec<PrCommit> {
        let n = times.len() as u32;
        times
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                let last = i as u32 == n - 1;
                let share = |total: u32| {
                    if last {
                        total - (total / n) * (n - 1)
                    } else {
                        total / n
                    }
                };
                PrCommit {
                    oid: self.next_oid(),
                    message: COMMIT_MSGS[self.rng.random_range(0..COMMIT_MSGS.len())],
                    authored_at: trunc_secs(t),
                    additions: share(additions),
                    deletions: share(deletions),
                }
            })
            .collect()
    }

    fn size(&mut self, median: f64) -> (u32, u32) {
        let adds = lognormal_h(&mut self.rng, median, 1.3).clamp(1.0, 40_000.0) as u32;
        let ratio = lognormal_h(&mut self.rng, 0.35, 0.9).min(3.0);
        (adds, (f64::from(adds) * ratio) as u32)
    }

    fn push(&mut self, pr: PullRequest) -> usize {
        self.prs.push(Plan { pr });
        self.prs.len() - 1
    }

    /// A regular PR opened at `created`.
    fn regular(&mut self, created: DateTime<Utc>) {
        let r = self.rng.random::<f64>();
        let author = if r < 0.003 {
            None // a deleted account
        } else if r < 0.10 && !self.others.is_empty() {
            Some(self.others[self.rng.random_range(0..self.others.len())])
        } else {
            Some(self.member())
        };
        let lr = self.rng.random::<f64>();
        let (labels, title): (Vec<&'static str>, String) = if lr < 0.2 {
            let t = FIX_THINGS[self.rng.random_range(0..FIX_THINGS.len())];
            (vec!["bug"], format!("Fix {t}"))
        } else {
            let v = VERBS[self.rng.random_range(0..VERBS.len())];
            let t = THINGS[self.rng.random_range(0..THINGS.len())];
            let label = if lr < 0.6 {
                vec!["feature"]
            } else if lr < 0.75 {
                vec!["chore"]
            } else if lr < 0.85 {
                vec!["refactor"]
            } else {
                vec![]
            };
            (label, format!("{v} {t}"))
        };
        let coding_h = lognormal_h(&mut self.rng, 16.0, 1.1).min(24.0 * 40.0);
        let first_commit = created - hours(coding_h);
        let n_commits = 1 + (self.rng.random::<f64>().powi(2) * 8.0) as usize;
        let n_commits = n_commits.min(8);
        let mut times: Vec<DateTime<Utc>> = (0..n_commits)
            .map(|i| {
                if i == 0 {
                    first_commit
                } else {
                    first_commit + hours(self.rng.random::<f64>() * (coding_h - 0.02).max(0.0))
                }
            })
            .collect();
        times.sort();
        let (adds, dels) = self.size(60.0);
        let draft_until = self
            .rng
            .random_bool(0.08)
            .then(|| trunc_secs(self.lag(created, 8.0, 1.0, 0.9)));
        let ready = draft_until.unwrap_or(created);
        let outcome = self.rng.random::<f64>();
        let mut reviews = Vec::new();
        let (mut merged_at, mut closed_at) = (None, None);
        let mut draft_until = draft_until;
        if outcome < 0.015 {
            // Long-open; half of them stay drafts.
            if self.rng.random_bool(0.5) {
                draft_until = Some(DateTime::<Utc>::MAX_UTC);
            } else if let Some(&rv) = self.reviewers(author, 1).first() {
                let at = ready + hours(lognormal_h(&mut self.rng, 30.0, 1.0));
                reviews.push(self.review(ReviewState::Commented, at, rv));
            }
        } else if outcome < 0.115 {
            let closed = self.lag(ready, 40.0, 1.2, 0.85);
            if self.rng.random_bool(0.4)
                && let Some(&rv) = self.reviewers(author, 1).first()
            {
                let at = ready + (closed - ready) / 2;
                let st = if self.rng.random_bool(0.5) {
                    ReviewState::Commented
                } else {
                    ReviewState::ChangesRequested
                };
                reviews.push(self.review(st, at, rv));
            }
            closed_at = Some(trunc_secs(closed));
        } else {
            let rvs = self.reviewers(author, 3);
            let mut t;
            if rvs.is_empty() || self.rng.random_bool(0.07) {
                t = ready + hours(lognormal_h(&mut self.rng, 2.0, 1.0));
            } else {
                t = self.lag(ready, 3.5, 1.3, 0.85);
                let flow = self.rng.random::<f64>();
                if flow < 0.28 {
                    let st = if self.rng.random_bool(0.06) {
                        ReviewState::Dismissed
                    } else {
                        ReviewState::ChangesRequested
                    };
                    reviews.push(self.review(st, t, rvs[0]));
                    // The last commits answer the review.
                    let fixes = if times.len() >= 4 {
                        2
                    } else {
                        usize::from(times.len() >= 2)
                    };
                    let n = times.len();
                    for slot in &mut times[n - fixes..] {
                        t += hours(lognormal_h(&mut self.rng, 2.5, 1.0));
                        *slot = t;
                    }
                    t = self.lag(t, 2.0, 1.0, 0.85);
                } else if flow < 0.5 && rvs.len() > 1 {
                    reviews.push(self.review(ReviewState::Commented, t, rvs[1]));
                    t = self.lag(t, 4.0, 1.1, 0.85);
                }
                reviews.push(self.review(ReviewState::Approved, t, rvs[0]));
                if rvs.len() > 2 && self.rng.random_bool(0.15) {
                    let at = t + hours(lognormal_h(&mut self.rng, 0.5, 1.0));
                    reviews.push(self.review(ReviewState::Approved, at, rvs[2]));
                    t = at;
                }
            }
            let merged = self.lag(t, 1.2, 1.0, 0.85);
            merged_at = Some(trunc_secs(merged.max(t + Duration::minutes(1))));
        }
        let commits = self.commits(&times, adds, dels);
        let login = author.map_or("ghost", |a| self.repo.people[a].login.as_str());
        let head_ref = format!("{login}/{}", slug(&title));
        let changed_files = 1 + ((adds + dels) / 80).min(self.rng.random_range(5..300));
        self.push(PullRequest {
            number: 0,
            database_id: 0,
            node_id: String::new(),
            title,
            kind: PrKind::Regular,
            author,
            head_ref,
            base_ref: "main".to_string(),
            labels,
            created_at: trunc_secs(created),
            draft_until,
            merged_at,
            closed_at,
            merge_commit: None,
            commits,
            reviews,
            changed_files,
            fixes_incident: None,
        });
    }

    /// A dependency bump by a bot.
    fn bump(&mut self, created: DateTime<Utc>) {
        let bot = self.bots[self.rng.random_range(0..self.bots.len())];
        let pkg = PACKAGES[self.rng.random_range(0..PACKAGES.len())];
        let (maj, min, pat) = (
            self.rng.random_range(0..5),
            self.rng.random_range(0..30),
            self.rng.random_range(0..20),
        );
        let title = format!(
            "Bump {pkg} from {maj}.{min}.{pat} to {maj}.{min}.{}",
            pat + 1
        );
        let prefix = self.repo.people[bot]
            .login
            .trim_end_matches("[bot]")
            .to_string();
        let head_ref = format!("{prefix}/{}-{maj}.{min}.{}", pkg.replace('/', "-"), pat + 1);
        let adds = self.rng.random_range(1..30);
        let commits = self.commits(&[created - Duration::seconds(30)], adds, adds);
        let mut reviews = Vec::new();
        let (mut merged_at, mut closed_at) = (None, None);
        let r = self.rng.random::<f64>();
        if r < 0.75 {
            let t = self.lag(created, 10.0, 1.2, 0.95);
            if let Some(&rv) = self.reviewers(None, 1).first() {
                reviews.push(self.review(ReviewState::Approved, t, rv));
            }
            merged_at = Some(trunc_secs(t + hours(lognormal_h(&mut self.rng, 0.5, 1.0))));
        } else if r < 0.95 {
            closed_at = Some(trunc_secs(
                created + hours(lognormal_h(&mut self.rng, 100.0, 1.0)),
            ));
        }
        let changed_files = self.rng.random_range(1..3);
        self.push(PullRequest {
            number: 0,
            database_id: 0,
            node_id: String::new(),
            title,
            kind: PrKind::Dependency,
            author: Some(bot),
            head_ref,
            base_ref: "main".to_string(),
            labels: vec!["dependencies"],
            created_at: trunc_secs(created),
            draft_until: None,
            merged_at,
            closed_at,
            merge_commit: None,
            commits,
            reviews,
            changed_files,
            fixes_incident: None,
        });
    }

    /// A fast PR (hotfix or revert): opened at `created`, approved, merged at `merged`.
    fn quick(
        &mut self,
        kind: PrKind,
        title: String,
        labels: Vec<&'static str>,
        author: Option<usize>,
        (created, merged): (DateTime<Utc>, DateTime<Utc>),
        incident: Option<u64>,
    ) -> usize {
        let span = (merged - created).num_seconds().max(120) as f64 / 3600.0;
        let first = created - hours(lognormal_h(&mut self.rng, span.max(0.2), 0.5).min(6.0));
        let (adds, dels) = if kind == PrKind::Revert {
            let (a, d) = self.size(40.0);
            (d.max(1), a)
        } else {
            self.size(15.0)
        };
        let n = self.rng.random_range(1..=2);
        let times: Vec<_> = (0..n).map(|i| first + (created - first) * i / n).collect();
        let commits = self.commits(&times, adds, dels);
        let mut reviews = Vec::new();
        if let Some(&rv) = self.reviewers(author, 1).first() {
            let at = created + (merged - created) * 2 / 3;
            reviews.push(self.review(ReviewState::Approved, at, rv));
        }
        let login = author.map_or("ghost", |a| self.repo.people[a].login.as_str());
        let head_ref = format!("{login}/{}", slug(&title));
        self.push(PullRequest {
            number: 0,
            database_id: 0,
            node_id: String::new(),
            title,
            kind,
            author,
            head_ref,
            base_ref: "main".to_string(),
            labels,
            created_at: trunc_secs(created),
            draft_until: None,
            merged_at: Some(trunc_secs(merged)),
            closed_at: None,
            merge_commit: None,
            commits,
            reviews,
            changed_files: 1 + (adds + dels) / 60,
            fixes_incident: incident,
        })
    }
}

fn slug(title: &str) -> String {
    let s: String = title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let mut out = String::new();
    for part in s.split('-').filter(|p| !p.is_empty()).take(5) {
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(part);
    }
    out
}

/// A commit on the default branch before numbering.
struct HistEntry {
    oid: Oid,
    message: Option<String>,
    author: Option<usize>,
    authored_at: DateTime<Utc>,
    pr: Option<usize>,
}

#[derive(Clone, Copy)]
enum Ev {
    Regular,
    Retry {
        kind: DeployKind,
        sha: Option<Oid>,
        incident: Option<usize>,
    },
    Fix {
        incident: usize,
    },
    Rollback {
        incident: usize,
        sha: Oid,
    },
}

/// An incident before numbering.
struct Incident {
    deployment: usize,
    opened: DateTime<Utc>,
    closed: DateTime<Utc>,
    sev: &'static str,
    author: usize,
    symptom: &'static str,
}

pub(crate) fn generate_repo(repo: &Repo) -> RepoData {
    let mut g = Gen::new(repo);
    let (start, until) = (repo.start, repo.until);

    // 1. Regular work, day by day.
    let mut day = midnight(start);
    while day < until {
        let holiday = {
            use chrono::Datelike;
            let (m, d) = (day.month(), day.day());
            (m == 12 && d >= 20) || (m == 1 && d <= 3)
        };
        let f = if is_weekend(day) { 0.05 } else { 1.0 } * if holiday { 0.3 } else { 1.0 };
        for _ in 0..poisson(&mut g.rng, repo.pr_rate * f) {
            let t = work_time(&mut g.rng, day);
            if t >= start && t < until {
                g.regular(t);
            }
        }
        // Bots open PRs on any day, early in the morning.
        for _ in 0..poisson(&mut g.rng, repo.pr_rate * 0.05) {
            let t = day + hours(3.0 + g.rng.random::<f64>() * 3.0);
            if t >= start && t < until {
                g.bump(t);
            }
        }
        day += Duration::days(1);
    }

    // 2. Occasional reverts of merged regular PRs.
    let n_regular = g.prs.len();
    for i in 0..n_regular {
        let p = &g.prs[i].pr;
        if p.kind != PrKind::Regular || !g.rng.random_bool(0.012) {
            continue;
        }
        let Some(m) = p.merged_at else { continue };
        let title = format!("Revert \"{}\"", p.title);
        let author = p.author;
        let created = g.lag(m, 24.0, 1.0, 0.9);
        let merged = created + hours(lognormal_h(&mut g.rng, 1.5, 0.8));
        if merged < until {
            g.quick(
                PrKind::Revert,
                title,
                vec![],
                author,
                (created, merged),
                None,
            );
        }
    }

    // 3. Default-branch history from the merges known so far, plus direct pushes.
    let mut history: BTreeMap<(DateTime<Utc>, u64), HistEntry> = BTreeMap::new();
    let mut hseq = 0u64;
    let root = HistEntry {
        oid: Oid::derive(repo.seed, &[3, 0]),
        message: Some("Initial commit".to_string()),
        author: Some(g.members[0]),
        authored_at: repo.created_at,
        pr: None,
    };
    history.insert((repo.created_at, 0), root);
    let merge_oid = |g: &mut Gen<'_>, i: usize| {
        let oid = Oid::derive(repo.seed, &[4, i as u64]);
        g.prs[i].pr.merge_commit = Some(oid);
        oid
    };
    for i in 0..g.prs.len() {
        if let Some(m) = g.prs[i].pr.merged_at {
            let oid = merge_oid(&mut g, i);
            hseq += 1;
            let p = &g.prs[i].pr;
            history.insert(
                (m, hseq),
                HistEntry {
                    oid,
                    message: None,
                    author: p.author,
                    authored_at: p.first_commit_at(),
                    pr: Some(i),
                },
            );
        }
    }
    let mut day = midnight(start);
    while day < until {
        if !is_weekend(day) && g.rng.random_bool(0.04) {
            let t = trunc_secs(work_time(&mut g.rng, day));
            let msg = [
                "chore: bump version",
                "docs: update README",
                "ci: tweak cache key",
            ][g.rng.random_range(0..3)];
            hseq += 1;
            let author = Some(g.member());
            history.insert(
                (t, hseq),
                HistEntry {
                    oid: Oid::derive(repo.seed, &[5, hseq]),
                    message: Some(msg.to_string()),
                    author,
                    authored_at: t,
                    pr: None,
                },
            );
        }
        day += Duration::days(1);
    }

    // 4. Deployments in time order; incidents feed fixes back into the history.
    let mut deployments: Vec<Deployment> = Vec::new();
    let mut incidents: Vec<Incident> = Vec::new();
    let mut queue: BTreeMap<(DateTime<Utc>, u64), Ev> = BTreeMap::new();
    let mut qseq = 0u64;
    let per_day = (0.55 + repo.pr_rate * 0.12).min(1.6);
    let mut day = midnight(start);
    while day < until {
        let n = if is_weekend(day) {
            u64::from(g.rng.random_bool(0.02))
        } else {
            poisson(&mut g.rng, per_day).min(3)
        };
        for _ in 0..n {
            qseq += 1;
            let t = trunc_secs(day + hours(9.5 + g.rng.random::<f64>() * 8.0));
            queue.insert((t, qseq), Ev::Regular);
        }
        day += Duration::days(1);
    }
    let mut freeze_until = start;
    let mut last_success: Option<usize> = None;
    let mut last_staging_success: Option<usize> = None;
    while let Some(((t, _), ev)) = queue.pop_first() {
        if t >= until {
            break;
        }
        let head = history
            .range(..=(t, u64::MAX))
            .next_back()
            .map(|(_, h)| h.oid)
            .expect("the root commit precedes the timeline");
        let (kind, sha, resolves) = match ev {
            Ev::Regular => {
                let unchanged = last_success.is_some_and(|i| deployments[i].commit_oid == head);
                if t < freeze_until || unchanged {
                    continue;
                }
                (DeployKind::Regular, head, None)
            }
            Ev::Retry {
                kind,
                sha,
                incident,
            } => {
                if incident.is_none() && t < freeze_until {
                    continue;
                }
                (kind, sha.unwrap_or(head), incident)
            }
            Ev::Fix { incident } => (DeployKind::Fix, head, Some(incident)),
            Ev::Rollback { incident, sha } => (DeployKind::Rollback, sha, Some(incident)),
        };
        let creator = g.member();
        // Staging first, about half the time.
        if kind == DeployKind::Regular && g.rng.random_bool(0.45) {
            let st = t - Duration::minutes(25 + g.rng.random_range(0..20));
            let ok = g.rng.random_bool(0.97);
            let staged = history
                .range(..=(st, u64::MAX))
                .next_back()
                .map_or(sha, |(_, h)| h.oid);
            let d = deployment(&mut g, Environment::Staging, staged, st, creator, kind, ok);
            deployments.push(d);
            if ok {
                supersede(&mut deployments, &mut last_staging_success);
            }
        }
        let fail_p = if kind == DeployKind::Regular {
            0.08
        } else {
            0.05
        };
        let ok = !g.rng.random_bool(fail_p);
        let mut d = deployment(&mut g, Environment::Production, sha, t, creator, kind, ok);
        d.resolves_incident = resolves.map(|i| i as u64);
        let finished = d.finished_at().expect("deployments finish");
        deployments.push(d);
        let di = deployments.len() - 1;
        if !ok {
            qseq += 1;
            let at = trunc_secs(finished + hours(lognormal_h(&mut g.rng, 0.6, 0.7)));
            let sha = (kind == DeployKind::Rollback).then_some(sha);
            queue.insert(
                (at, qseq),
                Ev::Retry {
                    kind: if kind == DeployKind::Regular {
                        DeployKind::Retry
                    } else {
                        kind
                    },
                    sha,
                    incident: resolves,
                },
            );
            continue;
        }
        let prev_success = last_success;
        supersede(&mut deployments, &mut last_success);
        let incident_p = if kind == DeployKind::Regular || kind == DeployKind::Retry {
            0.13
        } else {
            0.03
        };
        if !g.rng.random_bool(incident_p) {
            continue;
        }
        let opened =
            trunc_secs(finished + hours(lognormal_h(&mut g.rng, 1.0, 0.9).clamp(0.15, 6.0)));
        let restore = lognormal_h(&mut g.rng, 2.5, 1.0).clamp(0.4, 96.0);
        let closed = trunc_secs(opened + hours(restore));
        let sev = ["sev1", "sev2", "sev2", "sev3", "sev3"][g.rng.random_range(0..5)];
        let ii = incidents.len();
        incidents.push(Incident {
            deployment: di,
            opened,
            closed,
            sev,
            author: g.member(),
            symptom: SYMPTOMS[g.rng.random_range(0..SYMPTOMS.len())],
        });
        deployments[di].caused_incident = Some(ii as u64);
        freeze_until = freeze_until.max(closed);
        let created = trunc_secs(opened + hours(restore * 0.2));
        let merged = trunc_secs(opened + hours(restore * 0.55));
        let ship = trunc_secs(opened + hours(restore * 0.62));
        let m = g.rng.random::<f64>();
        // The newest PR shipped by the failing deployment, if any.
        let culprit = history
            .range(..=(t, u64::MAX))
            .next_back()
            .and_then(|(_, h)| h.pr)
            .filter(|&p| g.prs[p].pr.kind == PrKind::Regular);
        let prev_sha = prev_success.map(|i| deployments[i].commit_oid);
        let fix_pr = match (culprit, prev_sha) {
            (Some(c), _) if m < 0.25 => {
                let title = format!("Revert \"{}\"", g.prs[c].pr.title);
                let author = g.prs[c].pr.author.or(Some(g.member()));
                let window = (created, merged);
                Some(g.quick(
                    PrKind::Revert,
                    title,
                    vec![],
                    author,
                    window,
                    Some(ii as u64),
                ))
            }
            (_, Some(sha)) if m < 0.4 => {
                qseq += 1;
                queue.insert((ship, qseq), Ev::Rollback { incident: ii, sha });
                None
            }
            _ => {
                let what = FIX_THINGS[g.rng.random_range(0..FIX_THINGS.len())];
                let author = Some(g.member());
                let labels = vec!["hotfix", "bug"];
                let window = (created, merged);
                let title = format!("hotfix: {what}");
                Some(g.quick(
                    PrKind::Hotfix,
                    title,
                    labels,
                    author,
                    window,
                    Some(ii as u64),
                ))
            }
        };
        if let Some(pi) = fix_pr {
            let oid = merge_oid(&mut g, pi);
            hseq += 1;
            let p = &g.prs[pi].pr;
            history.insert(
                (merged, hseq),
                HistEntry {
                    oid,
                    message: None,
                    author: p.author,
                    authored_at: p.first_commit_at(),
                    pr: Some(pi),
                },
            );
            qseq += 1;
            queue.insert((ship, qseq), Ev::Fix { incident: ii });
        }
    }

    // 5. Numbers: PRs and issues share one sequence, in creation order.
    let mut plans: Vec<(usize, PullRequest)> = g.prs.drain(..).map(|p| p.pr).enumerate().collect();
    plans.sort_by_key(|(i, p)| (p.created_at, *i));
    let mut new_index = vec![0usize; plans.len()];
    for (new, (old, _)) in plans.iter().enumerate() {
        new_index[*old] = new;
    }
    let mut prs: Vec<PullRequest> = plans.into_iter().map(|(_, p)| p).collect();

    let mut issues: Vec<Issue> = incidents
        .iter()
        .map(|inc| Issue {
            id: 0,
            number: 0,
            title: format!("Incident: elevated {} in {}", inc.symptom, repo.name),
            labels: vec!["incident", inc.sev],
            author: inc.author,
            created_at: inc.opened,
            closed_at: Some(inc.closed),
            caused_by_deployment: Some(deployments[inc.deployment].database_id),
        })
        .collect();
    // Ordinary bug reports, so that label filters have something to filter out.
    let mut day = midnight(start);
    while day < until {
        if !is_weekend(day) && g.rng.random_bool(0.12) {
            let t = trunc_secs(work_time(&mut g.rng, day));
            let closed = g
                .rng
                .random_bool(0.8)
                .then(|| trunc_secs(t + hours(lognormal_h(&mut g.rng, 72.0, 1.2))));
            let what = FIX_THINGS[g.rng.random_range(0..FIX_THINGS.len())];
            issues.push(Issue {
                id: 0,
                number: 0,
                title: format!("Bug: {what}"),
                labels: if g.rng.random_bool(0.7) {
                    vec!["bug"]
                } else {
                    vec!["enhancement"]
                },
                author: g.member(),
                created_at: t,
                closed_at: closed,
                caused_by_deployment: None,
            });
        }
        day += Duration::days(1);
    }
    let incident_count = incidents.len();
    let mut order: Vec<(DateTime<Utc>, u8, usize)> = prs
        .iter()
        .enumerate()
        .map(|(i, p)| (p.created_at, 0, i))
        .chain(issues.iter().enumerate().map(|(i, x)| (x.created_at, 1, i)))
        .collect();
    order.sort();
    for (n, (_, kind, i)) in order.into_iter().enumerate() {
        let number = n as u64 + 1;
        if kind == 0 {
            let p = &mut prs[i];
            p.number = number;
            p.database_id = repo.id * 1_000_000 + number;
            p.node_id = node_id("PR", p.database_id);
        } else {
            let x = &mut issues[i];
            x.number = number;
            x.id = repo.id * 1_000_000 + 500_000 + number;
        }
    }
    // Incident indices become issue numbers (incidents come first in `issues`).
    let incident_numbers: Vec<u64> = issues[..incident_count].iter().map(|x| x.number).collect();
    for d in &mut deployments {
        d.caused_incident = d.caused_incident.map(|i| incident_numbers[i as usize]);
        d.resolves_incident = d.resolves_incident.map(|i| incident_numbers[i as usize]);
    }
    for p in &mut prs {
        p.fixes_incident = p.fixes_incident.map(|i| incident_numbers[i as usize]);
    }
    issues.sort_by_key(|x| x.number);

    let commits: Vec<Commit> = history
        .into_iter()
        .enumerate()
        .map(|(k, ((t, _), h))| {
            let pr = h.pr.map(|old| new_index[old]);
            let message = h.message.unwrap_or_else(|| {
                let p = &prs[pr.expect("merge commits have a PR")];
                format!("{} (#{})", p.title, p.number)
            });
            Commit {
                oid: h.oid,
                message,
                authored_at: h.authored_at,
                committed_at: t,
                author: h.author,
                parents: u32::from(k > 0),
                pull_request: pr,
            }
        })
        .collect();

    // 6. Workflow runs: `ci` per PR push, `deploy` per production deployment.
    let workflow_runs = workflow_runs(&mut g, &prs, &deployments);

    // 7. Releases every couple of weeks.
    let releases = releases(&mut g, start, until);

    RepoData {
        pull_requests: prs,
        commits,
        deployments,
        workflow_runs,
        releases,
        issues,
    }
}

/// Marks the previous successful deployment to the same environment INACTIVE when the newest
/// one (the last in `deployments`) succeeds.
fn supersede(deployments: &mut [Deployment], last: &mut Option<usize>) {
    let newest = deployments.len() - 1;
    let at = deployments[newest].finished_at().expect("finished");
    if let Some(prev) = *last {
        // Overlapping deployments: the older one may finish after the newer one.
        let prev_done = deployments[prev].finished_at().expect("finished");
        deployments[prev].statuses.push(DeploymentStatus {
            state: DeploymentState::Inactive,
            created_at: at.max(prev_done),
        });
    }
    *last = Some(newest);
}

fn deployment(
    g: &mut Gen<'_>,
    environment: Environment,
    sha: Oid,
    t: DateTime<Utc>,
    creator: usize,
    kind: DeployKind,
    ok: bool,
) -> Deployment {
    let seq = g.review_seq + 1;
    g.review_seq = seq;
    let database_id = g.repo.id * 10_000_000 + seq;
    let started = t + Duration::seconds(g.rng.random_range(20..120));
    let done = started + hours(lognormal_h(&mut g.rng, 0.12, 0.5).clamp(0.03, 1.5));
    let last = if ok {
        DeploymentState::Success
    } else if g.rng.random_bool(0.6) {
        DeploymentState::Failure
    } else {
        DeploymentState::Error
    };
    Deployment {
        database_id,
        node_id: node_id("DE", database_id),
        environment,
        commit_oid: sha,
        created_at: t,
        creator,
        statuses: vec![
            DeploymentStatus {
                state: DeploymentState::Queued,
                created_at: t,
            },
            DeploymentStatus {
                state: DeploymentState::InProgress,
                created_at: trunc_secs(started),
            },
            DeploymentStatus {
                state: last,
                created_at: trunc_secs(done),
            },
        ],
        kind,
        caused_incident: None,
        resolves_incident: None,
    }
}

fn workflow_runs(
    g: &mut Gen<'_>,
    prs: &[PullRequest],
    deployments: &[Deployment],
) -> Vec<WorkflowRun> {
    let ci_id = g.repo.id * 100 + 1;
    let deploy_id = g.repo.id * 100 + 2;
    let mut runs = Vec::new();
    for p in prs {
        // One run when the PR opens, one per later push.
        let mut pushes: Vec<&PrCommit> = p
            .commits
            .iter()
            .filter(|c| c.authored_at > p.created_at)
            .collect();
        let opening = p.commits.iter().rfind(|c| c.authored_at <= p.created_at);
        let mut points: Vec<(DateTime<Utc>, Oid)> = Vec::new();
        if let Some(c) = opening {
            points.push((p.created_at, c.oid));
        }
        points.extend(pushes.drain(..).map(|c| (c.authored_at, c.oid)));
        for (t, sha) in points {
            let created = t + Duration::seconds(g.rng.random_range(5..60));
            let started = created + Duration::seconds(g.rng.random_range(2..30));
            let done = started + hours(lognormal_h(&mut g.rng, 0.1, 0.5).min(1.0));
            let failed = g.rng.random_bool(0.1);
            runs.push(WorkflowRun {
                id: 0,
                workflow_id: ci_id,
                name: "ci",
                path: ".github/workflows/ci.yml",
                event: "pull_request",
                head_branch: p.head_ref.clone(),
                head_sha: sha,
                run_number: 0,
                run_attempt: if g.rng.random_bool(0.05) { 2 } else { 1 },
                created_at: trunc_secs(created),
                run_started_at: trunc_secs(started),
                completed_at: trunc_secs(done),
                conclusion: if failed { "failure" } else { "success" },
            });
        }
    }
    for d in deployments.iter().filter(|d| d.is_production()) {
        let created = d.created_at - Duration::seconds(90);
        let outcome = d.outcome().expect("finished");
        runs.push(WorkflowRun {
            id: 0,
            workflow_id: deploy_id,
            name: "deploy",
            path: ".github/workflows/deploy.yml",
            event: "push",
            head_branch: "main".to_string(),
            head_sha: d.commit_oid,
            run_number: 0,
            run_attempt: 1,
            created_at: created,
            run_started_at: created + Duration::seconds(5),
            completed_at: outcome.created_at + Duration::seconds(10),
            conclusion: if outcome.state == DeploymentState::Success {
                "success"
            } else {
                "failure"
            },
        });
    }
    runs.sort_by_key(|r| (r.created_at, r.workflow_id));
    let (mut ci_n, mut dep_n) = (0, 0);
    for (i, r) in runs.iter_mut().enumerate() {
        r.id = g.repo.id * 10_000_000 + i as u64 + 1;
        let n = if r.workflow_id == ci_id {
            &mut ci_n
        } else {
            &mut dep_n
        };
        *n += 1;
        r.run_number = *n;
    }
    runs
}

fn releases(g: &mut Gen<'_>, start: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Release> {
    let mut out = Vec::new();
    let (mut major, mut minor) = (1u32, g.rng.random_range(0..10));
    let mut t = start + hours(g.rng.random::<f64>() * 24.0 * 14.0);
    loop {
        let day = midnight(t);
        let created = {
            let w = work_time(&mut g.rng, day);
            trunc_secs(to_workday(&mut g.rng, w, 1.0))
        };
        if created >= until {
            break;
        }
        minor += 1;
        if minor > 15 && g.rng.random_bool(0.3) {
            major += 1;
            minor = 0;
        }
        let tag = format!("v{major}.{minor}.0");
        out.push(Release {
            id: g.repo.id * 100_000 + out.len() as u64 + 1,
            name: tag.clone(),
            tag_name: tag,
            target_commitish: "main".to_string(),
            draft: false,
            prerelease: false,
            created_at: created,
            published_at: created + Duration::seconds(g.rng.random_range(30..900)),
            author: g.member(),
        });
        t = created + hours(24.0 * lognormal_h(&mut g.rng, 14.0, 0.25));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_short_and_clean() {
        assert_eq!(
            slug("Fix null pointer in order lookup!"),
            "fix-null-pointer-in-order"
        );
        assert_eq!(slug("Revert \"Add x\""), "revert-add-x");
    }
}
