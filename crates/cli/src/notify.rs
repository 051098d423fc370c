//! Run notifications: one webhook message per pipeline run whose outcome `[notify] on` asks
//! for (by default failures and partial runs), as Slack or Teams incoming-webhook JSON or
//! flowlake's own. Sending is retried with backoff within `[notify] timeout` and never fails
//! the run: a notification that cannot be delivered is logged, and the run's exit code stays
//! what the run decided. Every text is scrubbed of the secrets this process knows before it
//! leaves (defence in depth: errors are written not to hold them in the first place).

use std::time::Duration;

use serde::Serialize;

use crate::config_run::{NotifyFormat, NotifyOn, NotifySection};

/// What a notification says about a run.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// The pipeline's name.
    pub pipeline: String,
    /// The pipeline run's id (its manifest is `runs/<run_id>.json`).
    pub run_id: String,
    /// `succeeded`, `partial` or `failed`.
    pub outcome: String,
    /// The process's exit code.
    pub exit_code: u8,
    /// The lake URL.
    pub lake: String,
    /// Host the run ran on.
    pub host: String,
    /// Seconds the run took.
    pub duration_s: f64,
    /// `(step, error)` for each failed step.
    pub failed_steps: Vec<(String, String)>,
}

impl RunSummary {
    fn on(&self) -> NotifyOn {
        match self.exit_code {
            0 => NotifyOn::Success,
            3 => NotifyOn::Partial,
            _ => NotifyOn::Failure,
        }
    }

    fn headline(&self) -> String {
        format!(
            "flowlake pipeline `{}` {} (exit {}) on {}, run {}",
            self.pipeline, self.outcome, self.exit_code, self.host, self.run_id
        )
    }

    fn details(&self) -> String {
        let mut text = format!("lake {} · {:.0}s", self.lake, self.duration_s);
        for (step, err) in &self.failed_steps {
            text.push_str(&format!("\n• {step}: {err}"));
        }
        text
    }
}

/// The JSON body for `format`.
pub fn body(format: NotifyFormat, s: &RunSummary) -> serde_json::Value {
    match format {
        NotifyFormat::Slack => serde_json::json!({
            "text": s.headline(),
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": format!("*{}*", s.headline())}},
                {"type": "section", "text": {"type": "plain_text", "text": s.details()}},
            ],
        }),
        NotifyFormat::Teams => serde_json::json!({
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": s.headline(),
            "themeColor": if s.exit_code == 0 { "2EB67D" } else { "E01E5A" },
            "title": s.headline(),
            "text": s.details().replace('\n', "<br>"),
        }),
        NotifyFormat::Generic => serde_json::json!({"flowlake_run": s}),
    }
}

/// Replace every occurrence of a known secret in `text`.
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(s.as_str(), "<redacted>");
    }
    out
}

/// The webhook URL from the section's variable or file.
fn webhook_url(section: &NotifySection) -> Result<String, String> {
    if let Some(var) = &section.webhook_url_env {
        return std::env::var(var)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| v.trim().to_string())
            .ok_or_else(|| format!("[notify] webhook_url_env: {var} is not set"));
    }
    if let Some(file) = &section.webhook_url_file {
        return std::fs::read_to_string(file)
            .map_err(|e| format!("[notify] webhook_url_file {}: {e}", file.display()))
            .map(|t| t.lines().next().unwrap_or_default().trim().to_string());
    }
    Err("[notify] needs webhook_url_env or webhook_url_file".into())
}

/// Send `summary` if the section asks for its outcome. Returns whether a message was
/// delivered; never an error (failures are logged without the URL).
pub async fn send(section: &NotifySection, summary: &RunSummary, secrets: &[String]) -> bool {
    if !section.on.contains(&summary.on()) {
        return false;
    }
    let url = match webhook_url(section) {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!("notification not sent: {e}");
            eprintln!("flowlake: notification not sent: {e}");
            return false;
        }
    };
    let mut secrets = secrets.to_vec();
    secrets.push(url.clone());
    let mut clean = summary.clone();
    clean.failed_steps = clean
        .failed_steps
        .iter()
        .map(|(s, e)| (s.clone(), scrub(e, &secrets)))
        .collect();
    let payload = body(section.format, &clean);
    let budget = section.timeout.0.max(Duration::from_secs(1));
    let client = match reqwest::Client::builder()
        .timeout(budget.min(Duration::from_secs(10)))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "notification not sent: no HTTP client");
            return false;
        }
    };
    let deadline = tokio::time::Instant::now() + budget;
    let mut delay = Duration::from_millis(250);
    for attempt in 1..=5u32 {
        let request = client
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(payload.to_string());
        match request.send().await {
            Ok(r) if r.status().is_success() => return true,
            // A 4xx other than 429 will not get better by retrying.
            Ok(r) if r.status().is_client_error() && r.status().as_u16() != 429 => {
                tracing::warn!(status = %r.status(), "the webhook refused the notification");
                eprintln!(
                    "flowlake: the webhook refused the notification ({})",
                    r.status()
                );
                return false;
            }
            Ok(r) => tracing::warn!(attempt, status = %r.status(), "notification failed; retrying"),
            // reqwest's error would print the URL, which is a secret: log its kind only.
            Err(e) => tracing::warn!(
                attempt,
                timeout = e.is_timeout(),
                connect = e.is_connect(),
                "notification failed; retrying"
            ),
        }
        if tokio::time::Instant::now() + delay >= deadline {
            break;
        }
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
    eprintln!("flowlake: the notification could not be delivered (see -v for attempts)");
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(code: u8) -> RunSummary {
        RunSummary {
            pipeline: "daily".into(),
            run_id: "r1".into(),
            outcome: "failed".into(),
            exit_code: code,
            lake: "s3://m/l/".into(),
            host: "h".into(),
            duration_s: 3.0,
            failed_steps: vec![("ingest-github".into(), "401 for tok-123456".into())],
        }
    }

    #[test]
    fn slack_teams_and_generic_bodies() {
        let s = summary(5);
        let slack = body(NotifyFormat::Slack, &s);
        assert!(
            slack["text"]
                .as_str()
                .unwrap()
                .contains("`daily` failed (exit 5)")
        );
        let teams = body(NotifyFormat::Teams, &s);
        assert_eq!(teams["@type"], "MessageCard");
        let generic = body(NotifyFormat::Generic, &s);
        assert_eq!(generic["flowlake_run"]["exit_code"], 5);
        assert_eq!(
            scrub("401 for tok-123456", &["tok-123456".into()]),
            "401 for <redacted>"
        );
        assert_eq!(summary(3).on(), NotifyOn::Partial);
        assert_eq!(summary(0).on(), NotifyOn::Success);
    }
}
