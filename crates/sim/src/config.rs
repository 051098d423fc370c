//! [`Scale`] and [`SimConfig`]: what to simulate and how the server behaves.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::error::{Error, Result};

/// The fixed end of every simulated timeline, so that runs are reproducible.
pub fn timeline_end() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .expect("a valid UTC date")
}

/// How big the simulated org is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// About 4 repos, 24 people, 2,500 PRs over one year (tests, the demo).
    Small,
    /// About 20 repos, 80 people, 50,000 PRs over two years.
    Medium,
    /// About 200 repos, 400 people, 1,000,000 PRs over three years (benchmarks; repos are
    /// generated lazily on first access).
    Large,
}

impl Scale {
    /// Number of repositories.
    pub fn repos(self) -> usize {
        match self {
            Scale::Small => 4,
            Scale::Medium => 20,
            Scale::Large => 200,
        }
    }

    /// Number of accounts (humans and bots).
    pub fn people(self) -> usize {
        match self {
            Scale::Small => 24,
            Scale::Medium => 80,
            Scale::Large => 400,
        }
    }

    /// Length of the timeline in years.
    pub fn years(self) -> u32 {
        match self {
            Scale::Small => 1,
            Scale::Medium => 2,
            Scale::Large => 3,
        }
    }

    /// The approximate number of PRs over the whole timeline.
    pub fn target_prs(self) -> usize {
        match self {
            Scale::Small => 2_500,
            Scale::Medium => 50_000,
            Scale::Large => 1_000_000,
        }
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scale::Small => "small",
            Scale::Medium => "medium",
            Scale::Large => "large",
        })
    }
}

impl FromStr for Scale {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "small" => Ok(Scale::Small),
            "medium" => Ok(Scale::Medium),
            "large" => Ok(Scale::Large),
            _ => Err(Error::ParseScale {
                input: s.to_string(),
            }),
        }
    }
}

/// Everything that determines the simulated org and the server's behaviour.
///
/// The same config (in particular the same `seed`) always produces the same org and, for the
/// same sequence of requests, the same responses and the same injected faults.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Size of the org.
    pub scale: Scale,
    /// GitHub organisation login (default `acme`).
    pub org: String,
    /// The token clients must send (default `sim-token`).
    pub token: String,
    /// Probability in `0.0..=1.0` that a GitHub API request gets an injected fault.
    pub faults: f64,
    /// `retry-after` seconds sent with secondary-rate-limit faults (default 1).
    pub retry_after_secs: u64,
    /// Start of the timeline; `None` means `end` minus [`Scale::years`].
    pub start: Option<DateTime<Utc>>,
    /// End of the timeline (default [`timeline_end`], 2026-11-01T00:00:00Z).
    pub end: DateTime<Utc>,
    /// Days of activity generated beyond `end`, revealed when the clock is advanced past
    /// `end` (default 30).
    pub future_days: u32,
    /// The server clock's initial value; `None` means `end`.
    pub clock_start: Option<DateTime<Utc>>,
    /// Size of each rate-limit budget (`core` and `graphql`) per window (default 5,000).
    pub rate_limit_per_hour: u32,
    /// Length of the rate-limit window in seconds (default 3,600).
    pub rate_limit_window_secs: u64,
    /// The GitHub App id whose JWTs may mint installation tokens (default 1001).
    pub app_id: u64,
    /// The App's one installation (default 2002).
    pub installation_id: u64,
    /// Jira Cloud: the e-mail of Basic `email:api_token` (default `sim@acme.test`).
    pub jira_email: String,
    /// Jira Cloud: the API token of Basic `email:api_token` (default `sim-jira-token`).
    pub jira_api_token: String,
    /// Jira Data Center: the personal access token sent as `Bearer` (default `sim-jira-pat`).
    pub jira_pat: String,
    /// Jira Cloud OAuth 2.0: the access token sent as `Bearer` (default `sim-jira-oauth`).
    pub jira_oauth_token: String,
    /// Revoke the GitHub token after this many GitHub requests: from then on it gets 401 Bad
    /// credentials, as when an admin revokes a token in the middle of a run (default: never).
    pub revoke_token_after: Option<u64>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig::new(42, Scale::Small)
    }
}

impl SimConfig {
    /// A config with the given seed and scale and defaults for everything else.
    pub fn new(seed: u64, scale: Scale) -> Self {
        SimConfig {
            seed,
            scale,
            org: "acme".to_string(),
            token: "sim-token".to_string(),
            faults: 0.0,
            retry_after_secs: 1,
            start: None,
            end: timeline_end(),
            future_days: 30,
            clock_start: None,
            rate_limit_per_hour: 5_000,
            rate_limit_window_secs: 3_600,
            app_id: 1001,
            installation_id: 2002,
            jira_email: "sim@acme.test".to_string(),
            jira_api_token: "sim-jira-token".to_string(),
            jira_pat: "sim-jira-pat".to_string(),
            jira_oauth_token: "sim-jira-oauth".to_string(),
            revoke_token_after: None,
        }
    }

    /// The start of the timeline (explicit or derived from the scale).
    pub fn timeline_start(&self) -> DateTime<Utc> {
        self.start
            .unwrap_or_else(|| self.end - Duration::days(365 * i64::from(self.scale.years())))
    }

    /// The last instant for which activity is generated: `end` plus `future_days`.
    pub fn generated_until(&self) -> DateTime<Utc> {
        self.end + Duration::days(i64::from(self.future_days))
    }

    /// The server clock's initial value.
    pub fn initial_clock(&self) -> DateTime<Utc> {
        self.clock_start.unwrap_or(self.end)
    }

    /// Checks the config, naming the first invalid field.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.faults) {
            return Err(Error::Config {
                field: "faults",
                reason: format!("{} is not a probability in 0.0..=1.0", self.faults),
            });
        }
        if self.timeline_start() >= self.end {
            return Err(Error::Config {
                field: "start",
                reason: "the timeline must start before it ends".to_string(),
            });
        }
        if self.org.is_empty() || self.org.contains('/') {
            return Err(Error::Config {
                field: "org",
                reason: format!("{:?} is not an organisation login", self.org),
            });
        }
        if self.token.is_empty() {
            return Err(Error::Config {
                field: "token",
                reason: "must not be empty".to_string(),
            });
        }
        for (field, v) in [
            ("jira_email", &self.jira_email),
            ("jira_api_token", &self.jira_api_token),
            ("jira_pat", &self.jira_pat),
            ("jira_oauth_token", &self.jira_oauth_token),
        ] {
            if v.is_empty() {
                return Err(Error::Config {
                    field,
                    reason: "must not be empty".to_string(),
                });
            }
        }
        if self.rate_limit_window_secs == 0 {
            return Err(Error::Config {
                field: "rate_limit_window_secs",
                reason: "must be at least 1".to_string(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scales() {
        assert_eq!("small".parse::<Scale>().unwrap(), Scale::Small);
        assert_eq!(" Medium ".parse::<Scale>().unwrap(), Scale::Medium);
        assert_eq!("LARGE".parse::<Scale>().unwrap(), Scale::Large);
        let err = "huge".parse::<Scale>().unwrap_err().to_string();
        assert!(
            err.contains("huge") && err.contains("small, medium, large"),
            "{err}"
        );
        assert_eq!(Scale::Medium.to_string(), "medium");
    }

    #[test]
    fn defaults_and_validation() {
        let c = SimConfig::default();
        assert_eq!(c.org, "acme");
        assert_eq!(c.token, "sim-token");
        assert_eq!(c.initial_clock(), timeline_end());
        assert_eq!((c.end - c.timeline_start()).num_days(), 365);
        c.validate().unwrap();
        let bad = SimConfig {
            faults: 1.5,
            ..SimConfig::default()
        };
        assert!(bad.validate().unwrap_err().to_string().contains("faults"));
    }
}
