//! The settings of unattended runs in `flowlake.toml`: `[lock]`, `[build]` and `[notify]`,
//! and the duration syntax they share with `--wait` and `--older-than` (`30s`, `10m`, `2h`,
//! `400d`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Parse `30s`, `10m`, `2h`, `400d` (a bare number is seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration; write e.g. 30s, 10m, 2h or 400d"))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        other => {
            return Err(format!(
                "`{s}`: unknown unit `{other}`; use s, m, h or d (e.g. 30s, 10m, 2h, 400d)"
            ));
        }
    };
    Ok(Duration::from_secs(secs))
}

/// A TOML error message with a suggestion added: for an unknown key, the nearest valid key
/// (`unknown field `tokn_env`, expected one of …` gets "did you mean `token_env`?").
pub fn explain_toml_error(message: &str) -> String {
    let msg = message.trim_end().to_string();
    let Some(start) = msg.find("unknown field `") else {
        return msg;
    };
    let rest = &msg[start + "unknown field `".len()..];
    let Some(end) = rest.find('`') else {
        return msg;
    };
    let unknown = &rest[..end];
    let expected: Vec<&str> = rest[end..]
        .split('`')
        .skip(2)
        .step_by(2)
        .filter(|k| !k.is_empty())
        .collect();
    let best = expected
        .iter()
        .map(|k| (strsim::levenshtein(unknown, k), *k))
        .filter(|(d, k)| *d <= 3.max(k.len() / 3))
        .min();
    match best {
        Some((_, k)) => format!("{msg}\ndid you mean `{k}`?"),
        None => msg,
    }
}

/// A duration written as text in the config (`"10m"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TextDuration(pub Duration);

impl TryFrom<String> for TextDuration {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        parse_duration(&s).map(TextDuration)
    }
}

impl From<TextDuration> for String {
    fn from(d: TextDuration) -> String {
        format!("{}s", d.0.as_secs())
    }
}

/// `[lock]`: the lake lock every writing command takes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockSection {
    /// How long a lease lives without renewal; a crashed run's lease lapses after this.
    pub ttl: TextDuration,
    /// How long to wait for another run's lock (`--wait` overrides); 0 = exit 4 at once.
    pub wait: TextDuration,
}

impl Default for LockSection {
    fn default() -> Self {
        LockSection {
            ttl: TextDuration(Duration::from_secs(120)),
            wait: TextDuration(Duration::ZERO),
        }
    }
}

/// `[build]`: how builds are kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BuildSection {
    /// Complete builds kept under `marts/_builds/` (the published one always is).
    pub keep_builds: usize,
}

impl Default for BuildSection {
    fn default() -> Self {
        BuildSection { keep_builds: 3 }
    }
}

/// When a notification is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyOn {
    /// The run failed (exit 1, 2, 4 or 5).
    Failure,
    /// A source failed but the rest ran (exit 3).
    Partial,
    /// Everything succeeded.
    Success,
}

/// The message shape a webhook expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyFormat {
    /// Slack incoming webhook: `{"text": …, "blocks": …}`.
    Slack,
    /// Microsoft Teams incoming webhook (MessageCard): `{"@type": "MessageCard", "text": …}`.
    Teams,
    /// flowlake's own JSON: the run's summary fields.
    Generic,
}

/// `[notify]`: a webhook told about runs. The URL itself is a secret (Slack's and Teams' URLs
/// carry their token), so it comes from an environment variable or a file, never the config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySection {
    /// The environment variable holding the webhook URL.
    pub webhook_url_env: Option<String>,
    /// Or a file holding it (first line).
    pub webhook_url_file: Option<std::path::PathBuf>,
    /// Message shape.
    #[serde(default = "default_format")]
    pub format: NotifyFormat,
    /// Which outcomes are sent (default: failure and partial).
    #[serde(default = "default_on")]
    pub on: Vec<NotifyOn>,
    /// Give up after this long, retries included (default 20s); never fails the run.
    #[serde(default = "default_notify_timeout")]
    pub timeout: TextDuration,
}

fn default_format() -> NotifyFormat {
    NotifyFormat::Generic
}
fn default_on() -> Vec<NotifyOn> {
    vec![NotifyOn::Failure, NotifyOn::Partial]
}
fn default_notify_timeout() -> TextDuration {
    TextDuration(Duration::from_secs(20))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(
            parse_duration("400d").unwrap(),
            Duration::from_secs(400 * 86_400)
        );
        assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
        let e = parse_duration("10 minutes").unwrap_err();
        assert!(e.contains("unknown unit"), "{e}");
        assert!(parse_duration("m").is_err());
    }

    #[test]
    fn an_unknown_key_gets_the_nearest_valid_one() {
        let m = "unknown field `tokn_env`, expected one of `org`, `base_url`, `token_env`";
        assert!(explain_toml_error(m).ends_with("did you mean `token_env`?"));
        let far = "unknown field `zzzzzzzz`, expected `org` or `base_url`";
        assert_eq!(explain_toml_error(far), far);
        assert_eq!(explain_toml_error("invalid type"), "invalid type");
    }
}
