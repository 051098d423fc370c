//! Jira-like work items per project: a stable-ish arrival rate per team with a weekday
//! rhythm, log-normal wait and cycle times, some never started or never finished.

use chrono::Duration;
use rand::RngExt;
use rand::distr::Distribution;
use statrs::distribution::Poisson;

use crate::model::WorkItem;
use crate::org::Project;
use crate::util::{
    add_working_hours, is_weekend, lognormal_h, midnight, rng_for, trunc_secs, work_time,
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

#[cfg(test)]
mod tests {
    use crate::{Org, Scale, SimConfig};
    use chrono::Datelike;

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
