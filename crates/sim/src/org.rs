//! [`Org`]: people, teams, repositories and Jira projects of the simulated org.
//!
//! The org's skeleton (people, teams, repo names) is generated eagerly; each repository's
//! activity and each project's work items are generated on first access and cached, so that
//! even the large scale answers its first request quickly.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::RngExt;

use crate::config::{Scale, SimConfig};
use crate::error::Result;
use crate::jira::{IssueState, JiraIssue, JiraProjectData, JiraUser, MOVED_KEY_BASE, OPS_KEY};
use crate::model::{ActorKind, Person, PullRequest, RepoData, Team, WorkItem};
use crate::util::{node_id, rng_for};

const TEAM_NAMES: [(&str, &str); 20] = [
    ("payments", "PAY"),
    ("platform", "PLAT"),
    ("search", "SRCH"),
    ("checkout", "CHK"),
    ("identity", "IDN"),
    ("growth", "GRW"),
    ("mobile", "MOB"),
    ("data", "DATA"),
    ("infra", "INF"),
    ("billing", "BILL"),
    ("catalog", "CAT"),
    ("messaging", "MSG"),
    ("onboarding", "ONB"),
    ("risk", "RISK"),
    ("logistics", "LOG"),
    ("pricing", "PRC"),
    ("analytics", "ANL"),
    ("security", "SEC"),
    ("support", "SUP"),
    ("web", "WEB"),
];

const REPO_SUFFIXES: [&str; 5] = ["service", "api", "web", "worker", "lib"];

const FIRST: [&str; 32] = [
    "Ada", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kira",
    "Liam", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera", "Wei",
    "Ximena", "Yusuf", "Zoe", "Arjun", "Bea", "Carlos", "Dana", "Emil", "Fatima",
];

const LAST: [&str; 24] = [
    "Okafor", "Larsen", "Nakamura", "Silva", "Novak", "Haddad", "Kowalski", "Moreau", "Singh",
    "Fischer", "Rossi", "Chen", "Garcia", "Ivanova", "Jensen", "Kim", "Lopez", "Meyer", "Nguyen",
    "Petrov", "Quist", "Santos", "Tanaka", "Weber",
];

/// The generated org. Cheap to share behind an `Arc`; all lazily generated parts are
/// thread-safe.
#[derive(Debug)]
pub struct Org {
    /// Organisation login.
    pub name: String,
    /// Seed it was generated from.
    pub seed: u64,
    /// Its scale.
    pub scale: Scale,
    /// Start of the timeline.
    pub start: DateTime<Utc>,
    /// End of the timeline (the default server clock).
    pub end: DateTime<Utc>,
    /// Activity is generated up to here (`end` plus `future_days`).
    pub generated_until: DateTime<Utc>,
    /// Everyone, humans then bots.
    pub people: Arc<[Person]>,
    /// Teams.
    pub teams: Arc<[Team]>,
    /// Repositories.
    pub repos: Vec<Repo>,
    /// Jira projects, one per team (the Jira site also has the incident project
    /// [`crate::jira::OPS_KEY`], see [`Org::jira_data`]).
    pub projects: Vec<Project>,
    ops: OnceLock<JiraProjectData>,
}

/// A repository. Its activity is generated on the first call of [`Repo::data`].
#[derive(Debug)]
pub struct Repo {
    /// Database id.
    pub id: u64,
    /// GraphQL node id.
    pub node_id: String,
    /// Name (without the owner).
    pub name: String,
    /// `owner/name`.
    pub full_name: String,
    /// Owning team (index into [`Org::teams`]).
    pub team: usize,
    /// Default branch (`main`).
    pub default_branch: String,
    /// Creation time (before the timeline starts).
    pub created_at: DateTime<Utc>,
    /// Whether it is archived.
    pub archived: bool,
    pub(crate) seed: u64,
    pub(crate) pr_rate: f64,
    pub(crate) start: DateTime<Utc>,
    pub(crate) until: DateTime<Utc>,
    pub(crate) people: Arc<[Person]>,
    pub(crate) teams: Arc<[Team]>,
    data: OnceLock<RepoData>,
}

impl Repo {
    /// The repository's full timeline (generated on first access, then cached).
    pub fn data(&self) -> &RepoData {
        self.data
            .get_or_init(|| crate::generate::generate_repo(self))
    }

    /// Whether [`Repo::data`] has been generated already.
    pub fn is_generated(&self) -> bool {
        self.data.get().is_some()
    }

    /// Pull requests visible at `now`.
    pub fn pull_requests_visible_at(&self, now: DateTime<Utc>) -> Vec<&PullRequest> {
        self.data()
            .pull_requests
            .iter()
            .filter(|p| p.visible_at(now))
            .collect()
    }

    /// `pushed_at` at `now`: the latest default-branch commit at or before `now`.
    pub fn pushed_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.data()
            .head_at(now)
            .map_or(self.created_at, |c| c.committed_at)
    }
}

/// A Jira project (one per team). Its work items and Jira issues are generated on first
/// access.
#[derive(Debug)]
pub struct Project {
    /// Key, e.g. `PAY`.
    pub key: String,
    /// Display name, e.g. `Payments`.
    pub name: String,
    /// Owning team (index into [`Org::teams`]).
    pub team: usize,
    pub(crate) index: usize,
    pub(crate) seed: u64,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    pub(crate) until: DateTime<Utc>,
    pub(crate) scale_small: bool,
    pub(crate) assignees: Vec<String>,
    pub(crate) members: Vec<usize>,
    /// Where this project's moved issues go (the next project), if anywhere.
    pub(crate) move_to: Option<String>,
    items: OnceLock<Vec<WorkItem>>,
    jira: OnceLock<JiraProjectData>,
}

impl Project {
    /// The project's work items, by creation time (generated on first access).
    pub fn work_items(&self) -> &[WorkItem] {
        self.items.get_or_init(|| crate::jira::generate_items(self))
    }

    /// The project's Jira issues, sprints and board (generated on first access). Issue `n`
    /// (0-based) is work item `n`; epics follow.
    pub fn jira(&self) -> &JiraProjectData {
        self.jira
            .get_or_init(|| crate::jira::generate_project(self, self.work_items()))
    }
}

impl Org {
    /// Generates the org described by `config` (repos and projects lazily).
    pub fn generate(config: &SimConfig) -> Result<Org> {
        config.validate()?;
        let seed = config.seed;
        let scale = config.scale;
        let start = config.timeline_start();
        let until = config.generated_until();
        let mut rng = rng_for(seed, &[0x0e6]);

        let bots = ["dependabot[bot]", "renovate[bot]"];
        let humans = scale.people() - bots.len();
        let n_teams = (humans / 8).clamp(1, 200);
        let mut teams: Vec<Team> = (0..n_teams)
            .map(|i| {
                let (name, key) = TEAM_NAMES[i % TEAM_NAMES.len()];
                let round = i / TEAM_NAMES.len();
                if round == 0 {
                    Team {
                        name: name.to_string(),
                        jira_key: key.to_string(),
                        members: Vec::new(),
                    }
                } else {
                    Team {
                        name: format!("{name}-{}", round + 1),
                        jira_key: format!("{key}{}", round + 1),
                        members: Vec::new(),
                    }
                }
            })
            .collect();

        let domain = format!("{}.example", config.org);
        let mut logins = HashSet::new();
        let mut people = Vec::with_capacity(scale.people());
        for i in 0..humans {
            let first = FIRST[rng.random_range(0..FIRST.len())];
            let last = LAST[rng.random_range(0..LAST.len())];
            let base = format!(
                "{}{}",
                first.to_ascii_lowercase(),
                last.to_ascii_lowercase()
            );
            let mut login = base.clone();
            let mut k = 2;
            while !logins.insert(login.clone()) {
                login = format!("{base}{k}");
                k += 1;
            }
            // Some people commit with a personal address: identity resolution has work to do.
            let email = if rng.random_bool(0.1) {
                format!("{login}@users.noreply.github.com")
            } else {
                format!("{login}@{domain}")
            };
            let team = i % n_teams;
            teams[team].members.push(i);
            people.push(Person {
                id: 10_000 + i as u64 * 37,
                login,
                name: format!("{first} {last}"),
                email,
                team: Some(team),
                kind: ActorKind::User,
            });
        }
        for (j, bot) in bots.iter().enumerate() {
            people.push(Person {
                id: 49_699_333 + j as u64,
                login: bot.to_string(),
                name: bot.trim_end_matches("[bot]").to_string(),
                email: format!("{}@users.noreply.github.com", bot.trim_end_matches("[bot]")),
                team: None,
                kind: ActorKind::Bot,
            });
        }
        let people: Arc<[Person]> = people.into();
        let teams: Arc<[Team]> = teams.into();

        let days = (until - start).num_days().max(1) as f64;
        // Weekdays count fully, weekends ~5%: the effective number of working days.
        let work_days = days * (5.0 + 2.0 * 0.05) / 7.0;
        let per_repo = scale.target_prs() as f64 / scale.repos() as f64
            * (days / (config.end - start).num_days().max(1) as f64);
        let weights: Vec<f64> = (0..scale.repos())
            .map(|_| 0.6 + rng.random::<f64>() * 0.8)
            .collect();
        let mean_w = weights.iter().sum::<f64>() / weights.len() as f64;

        let repos = (0..scale.repos())
            .map(|i| {
                let team = i % n_teams;
                let round = i / n_teams;
                let suffix = REPO_SUFFIXES[round % REPO_SUFFIXES.len()];
                let name = if round < REPO_SUFFIXES.len() {
                    format!("{}-{suffix}", teams[team].name)
                } else {
                    format!(
                        "{}-{suffix}-{}",
                        teams[team].name,
                        round / REPO_SUFFIXES.len() + 1
                    )
                };
                let id = 300_000 + i as u64 * 7_919;
                let age_days = 60 + rng.random_range(0..1_500);
                Repo {
                    id,
                    node_id: node_id("R", id),
                    full_name: format!("{}/{name}", config.org),
                    name,
                    team,
                    default_branch: "main".to_string(),
                    created_at: crate::util::trunc_secs(start - Duration::days(age_days)),
                    archived: false,
                    seed: crate::util::mix(seed ^ crate::util::mix(0x5e90 + i as u64)),
                    // Regular PRs are ~92% of all PRs (the rest: bots, reverts, hotfixes).
                    pr_rate: per_repo * 0.92 / work_days * weights[i] / mean_w,
                    start,
                    until,
                    people: people.clone(),
                    teams: teams.clone(),
                    data: OnceLock::new(),
                }
            })
            .collect();

        let projects = teams
            .iter()
            .enumerate()
            .map(|(i, t)| Project {
                key: t.jira_key.clone(),
                name: title_case(&t.name),
                team: i,
                index: i,
                seed: crate::util::mix(seed ^ crate::util::mix(0x717a + i as u64)),
                start,
                end: config.end,
                until,
                scale_small: scale == Scale::Small,
                assignees: t.members.iter().map(|&m| people[m].login.clone()).collect(),
                members: t.members.clone(),
                move_to: (teams.len() > 1).then(|| teams[(i + 1) % teams.len()].jira_key.clone()),
                items: OnceLock::new(),
                jira: OnceLock::new(),
            })
            .collect();

        Ok(Org {
            name: config.org.clone(),
            seed,
            scale,
            start,
            end: config.end,
            generated_until: until,
            people,
            teams,
            repos,
            projects,
            ops: OnceLock::new(),
        })
    }

    /// The repository named `name` (case-insensitive, without the owner).
    pub fn repo(&self, name: &str) -> Option<&Repo> {
        self.repos
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(name))
    }

    /// The repository `owner/name` if `owner` is this org (case-insensitive).
    pub fn find_repo(&self, owner: &str, name: &str) -> Option<&Repo> {
        if owner.eq_ignore_ascii_case(&self.name) {
            self.repo(name)
        } else {
            None
        }
    }

    /// The login of a person index; `None` for `None` (a deleted account).
    pub fn login(&self, person: Option<usize>) -> Option<&str> {
        person.map(|p| self.people[p].login.as_str())
    }

    /// Generates every repository's activity now (in parallel on the available cores).
    pub fn generate_all(&self) {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let next = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(r) = self.repos.get(i) else { break };
                        r.data();
                    }
                });
            }
        });
    }

    /// Number of pull requests (all repos) that exist at `now`.
    pub fn pull_requests_visible_at(&self, now: DateTime<Utc>) -> usize {
        self.repos
            .iter()
            .map(|r| {
                r.data()
                    .pull_requests
                    .iter()
                    .filter(|p| p.visible_at(now))
                    .count()
            })
            .sum()
    }

    /// Total number of pull requests over the whole generated timeline.
    pub fn total_pull_requests(&self) -> usize {
        self.repos
            .iter()
            .map(|r| r.data().pull_requests.len())
            .sum()
    }

    /// The project with key `key` (case-insensitive).
    pub fn project(&self, key: &str) -> Option<&Project> {
        self.projects
            .iter()
            .find(|p| p.key.eq_ignore_ascii_case(key))
    }

    /// Work items completed per day in `project`, one entry for every day from the start to
    /// the end of the timeline (zeros included). Empty for an unknown project.
    pub fn jira_daily_throughput(&self, project: &str) -> Vec<(NaiveDate, u32)> {
        let Some(p) = self.project(project) else {
            return Vec::new();
        };
        let first = self.start.date_naive();
        let last = (self.end - Duration::seconds(1)).date_naive();
        let n = (last - first).num_days() + 1;
        let mut counts = vec![0u32; n.max(0) as usize];
        for item in p.work_items() {
            if let Some(done) = item.done_at {
                let d = (done.date_naive() - first).num_days();
                if (0..n).contains(&d) {
                    counts[d as usize] += 1;
                }
            }
        }
        counts
            .into_iter()
            .enumerate()
            .map(|(i, c)| (first + Duration::days(i as i64), c))
            .collect()
    }
}

fn title_case(name: &str) -> String {
    let mut c = name.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The Jira site: projects, issues at a clock, accounts.
impl Org {
    /// Keys of the Jira site's projects: one per team, then [`OPS_KEY`].
    pub fn jira_project_keys(&self) -> Vec<&str> {
        self.projects
            .iter()
            .map(|p| p.key.as_str())
            .chain([OPS_KEY])
            .collect()
    }

    /// Display name of a Jira project (`Payments`, `Operations`).
    pub fn jira_project_name(&self, key: &str) -> Option<String> {
        if key.eq_ignore_ascii_case(OPS_KEY) {
            return Some("Operations".to_string());
        }
        self.project(key).map(|p| p.name.clone())
    }

    /// A Jira project's data (team projects and `OPS`; `OPS` generates every repository's
    /// activity on first access, as its incidents mirror the GitHub ones).
    pub fn jira_data(&self, key: &str) -> Option<&JiraProjectData> {
        if key.eq_ignore_ascii_case(OPS_KEY) {
            return Some(
                self.ops
                    .get_or_init(|| crate::jira::generate_ops(self, self.projects.len())),
            );
        }
        self.project(key).map(Project::jira)
    }

    /// The canonical key of a Jira project (`pay` → `PAY`), if it exists.
    pub fn jira_project_key(&self, key: &str) -> Option<&str> {
        self.jira_project_keys()
            .into_iter()
            .find(|k| k.eq_ignore_ascii_case(key))
    }

    fn jira_index(&self, key: &str) -> Option<usize> {
        if key.eq_ignore_ascii_case(OPS_KEY) {
            return Some(self.projects.len());
        }
        self.projects
            .iter()
            .position(|p| p.key.eq_ignore_ascii_case(key))
    }

    fn jira_data_at(&self, index: usize) -> Option<&JiraProjectData> {
        match self.projects.get(index) {
            Some(p) => Some(p.jira()),
            None if index == self.projects.len() => self.jira_data(OPS_KEY),
            None => None,
        }
    }

    /// The issues in project `key` at `now` with their state: created, not deleted, moved-out
    /// ones until their move and moved-in ones from it. Unordered.
    pub fn jira_issues_at(&self, key: &str, now: DateTime<Utc>) -> Vec<(&JiraIssue, IssueState)> {
        let Some(index) = self.jira_index(key) else {
            return Vec::new();
        };
        let Some(data) = self.jira_data_at(index) else {
            return Vec::new();
        };
        let canon = self.jira_project_key(key).unwrap_or(key).to_string();
        let mut out: Vec<(&JiraIssue, IssueState)> = data
            .issues
            .iter()
            .filter_map(|i| i.state_at(now).map(|s| (i, s)))
            .filter(|(_, s)| s.project == canon)
            .collect();
        // Issues moved in come from the previous team project.
        let n = self.projects.len();
        if index < n && n > 1 {
            let prev = &self.projects[(index + n - 1) % n];
            out.extend(
                prev.jira()
                    .moved()
                    .filter_map(|i| i.state_at(now).map(|s| (i, s)))
                    .filter(|(_, s)| s.project == canon),
            );
        }
        out
    }

    /// A Jira issue by id, whatever its state.
    pub fn jira_issue_by_id(&self, id: u64) -> Option<&JiraIssue> {
        let index = (id / 100_000).checked_sub(1)? as usize;
        let number = id % 100_000;
        let data = self.jira_data_at(index)?;
        data.issues.get((number as usize).checked_sub(1)?)
    }

    /// A Jira issue by id or key as the server resolves it at `now`: `None` if it does not
    /// exist (yet, or any more); an old key of a moved issue finds the issue (whose state
    /// carries the new key).
    pub fn jira_issue_at(
        &self,
        id_or_key: &str,
        now: DateTime<Utc>,
    ) -> Option<(&JiraIssue, IssueState)> {
        let issue = if let Ok(id) = id_or_key.parse::<u64>() {
            self.jira_issue_by_id(id)?
        } else {
            let (project, number) = id_or_key.rsplit_once('-')?;
            let number: u64 = number.parse().ok()?;
            let index = self.jira_index(project)?;
            let n = self.projects.len();
            if number > MOVED_KEY_BASE && index < n && n > 1 {
                let prev = (index + n - 1) % n;
                let i = self.projects[prev]
                    .jira()
                    .issues
                    .get((number - MOVED_KEY_BASE - 1) as usize)?;
                let m = i.moved.as_ref()?;
                if !m.to_key.eq_ignore_ascii_case(id_or_key) || m.at > now {
                    return None;
                }
                i
            } else {
                let data = self.jira_data_at(index)?;
                data.issues.get((number as usize).checked_sub(1)?)?
            }
        };
        let state = issue.state_at(now)?;
        Some((issue, state))
    }

    /// The Jira account of person `person` (index into [`Org::people`]).
    pub fn jira_user(&self, person: usize) -> JiraUser {
        crate::jira::jira_user(&self.name, &self.people[person])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skeleton_has_the_scale_sizes() {
        let org = Org::generate(&SimConfig::new(1, Scale::Medium)).unwrap();
        assert_eq!(org.repos.len(), 20);
        assert_eq!(org.people.len(), 80);
        assert_eq!(org.teams.len(), org.projects.len());
        let logins: HashSet<_> = org.people.iter().map(|p| &p.login).collect();
        assert_eq!(logins.len(), org.people.len(), "logins are unique");
        assert!(
            org.people
                .iter()
                .any(|p| p.login == "dependabot[bot]" && p.kind == ActorKind::Bot)
        );
        assert!(!org.repos.iter().any(Repo::is_generated), "repos are lazy");
        assert!(
            org.find_repo("ACME", &org.repos[3].name.to_uppercase())
                .is_some()
        );
        assert!(org.find_repo("other", &org.repos[3].name).is_none());
    }

    #[test]
    fn large_skeleton_names_are_unique() {
        let org = Org::generate(&SimConfig::new(1, Scale::Large)).unwrap();
        let names: HashSet<_> = org.repos.iter().map(|r| &r.name).collect();
        assert_eq!(names.len(), 200);
        let keys: HashSet<_> = org.projects.iter().map(|p| &p.key).collect();
        assert_eq!(keys.len(), org.projects.len());
    }
}
