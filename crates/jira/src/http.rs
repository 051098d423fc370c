//! One place that talks HTTP: reqwest sends, this module decides what a response means
//! (rate limits, retries, errors) and counts what was spent.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::RngExt;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use serde_json::Value;
use tracing::{debug, warn};

use crate::config::{Auth, JiraConfig};
use crate::error::{Error, Result};

/// Requests spent, for the run manifest and the benchmarks.
#[derive(Debug, Default)]
pub struct Spend {
    /// HTTP requests sent, retries included.
    pub requests: AtomicU64,
    /// Issue search pages (incremental searches and id scans), first attempts only.
    pub search_pages: AtomicU64,
    /// Pages of `/issue/{id}/changelog` (Cloud changelogs longer than a search embeds).
    pub changelog_pages: AtomicU64,
    /// `/issue/{id}` look-ups of issues missing from an id scan.
    pub issue_lookups: AtomicU64,
    /// Agile API pages (boards and sprints).
    pub agile_pages: AtomicU64,
    /// Retries after faults.
    pub retries: AtomicU64,
    /// Waits for rate limits (`429` with `Retry-After`).
    pub rate_limit_waits: AtomicU64,
}

impl Spend {
    pub(crate) fn add(&self, field: &AtomicU64, n: u64) {
        field.fetch_add(n, Ordering::Relaxed);
    }
    /// A plain copy of the counters.
    pub fn snapshot(&self) -> SpendSnapshot {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        SpendSnapshot {
            requests: l(&self.requests),
            search_pages: l(&self.search_pages),
            changelog_pages: l(&self.changelog_pages),
            issue_lookups: l(&self.issue_lookups),
            agile_pages: l(&self.agile_pages),
            retries: l(&self.retries),
            rate_limit_waits: l(&self.rate_limit_waits),
        }
    }
}

/// A copy of [`Spend`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SpendSnapshot {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Issue search pages.
    pub search_pages: u64,
    /// Changelog pages.
    pub changelog_pages: u64,
    /// Single-issue look-ups.
    pub issue_lookups: u64,
    /// Agile API pages.
    pub agile_pages: u64,
    /// Retries.
    pub retries: u64,
    /// Rate-limit waits.
    pub rate_limit_waits: u64,
}

/// A response: the JSON of a success, or a status the caller said it handles itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// 2xx with a JSON body.
    Json(Value),
    /// An accepted error status with Jira's message.
    Status(u16, String),
}

/// The HTTP client.
pub struct Client {
    http: reqwest::Client,
    site: String,
    auth: Auth,
    max_retries: u32,
    backoff: Duration,
    max_rate_limit_wait: Duration,
    /// What was spent.
    pub spend: Spend,
}

#[derive(Debug)]
enum Verdict {
    Done(Reply),
    Retry(String, Option<Duration>),
    RateLimitWait(Duration),
}

impl Client {
    /// Build the client for `cfg` (validated).
    pub fn new(cfg: &JiraConfig) -> Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("flowlake-jira/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(90))
            .build()
            .map_err(Error::Client)?;
        Ok(Client {
            http,
            site: cfg.site().to_string(),
            auth: cfg.auth.clone(),
            max_retries: cfg.max_retries,
            backoff: cfg.backoff,
            max_rate_limit_wait: cfg.max_rate_limit_wait,
            spend: Spend::default(),
        })
    }

    /// The site's base URL.
    pub fn site(&self) -> &str {
        &self.site
    }

    /// GET `path` (with its query, already encoded) under the base URL and decode its JSON.
    pub async fn get_json(&self, label: &str, path: &str) -> Result<Value> {
        match self.get(label, path, &[]).await? {
            Reply::Json(v) => Ok(v),
            Reply::Status(status, message) => Err(Error::Status {
                endpoint: label.to_string(),
                status,
                message,
            }),
        }
    }

    /// GET `path`; the statuses in `accept` come back as [`Reply::Status`] instead of errors
    /// (a 404 that means "deleted", a 400 that means "a kanban board").
    pub async fn get(&self, label: &str, path: &str, accept: &[u16]) -> Result<Reply> {
        self.get_with_retries(label, path, accept, self.max_retries)
            .await
    }

    /// [`Client::get`] with at most `max_retries` retries: the first request of a run uses
    /// few, so that a wrong site URL fails fast.
    pub async fn get_with_retries(
        &self,
        label: &str,
        path: &str,
        accept: &[u16],
        max_retries: u32,
    ) -> Result<Reply> {
        let url = format!("{}{path}", self.site);
        let mut attempt: u32 = 0;
        let mut waits: u32 = 0;
        loop {
            attempt += 1;
            self.spend.add(&self.spend.requests, 1);
            match self.once(label, &url, accept).await? {
                Verdict::Done(r) => return Ok(r),
                Verdict::RateLimitWait(wait) => {
                    waits += 1;
                    if wait > self.max_rate_limit_wait {
                        return Err(Error::RateLimited {
                            endpoint: label.to_string(),
                            detail: format!(
                                "429 asks to wait {} s, more than max_rate_limit_wait ({} s)",
                                wait.as_secs(),
                                self.max_rate_limit_wait.as_secs()
                            ),
                        });
                    }
                    if waits > 20 {
                        return Err(Error::RateLimited {
                            endpoint: label.to_string(),
                            detail: format!("429 {waits} times in a row"),
                        });
                    }
                    self.spend.add(&self.spend.rate_limit_waits, 1);
                    warn!(
                        endpoint = label,
                        wait_s = wait.as_secs_f64(),
                        "Jira rate limit: waiting"
                    );
                    tokio::time::sleep(wait).await;
                    // A rate-limit wait is not a failed attempt.
                    attempt -= 1;
                }
                Verdict::Retry(why, after) => {
                    if attempt > max_retries {
                        return Err(Error::Exhausted {
                            endpoint: label.to_string(),
                            attempts: attempt,
                            last: why,
                        });
                    }
                    self.spend.add(&self.spend.retries, 1);
                    let wait = after
                        .map(|a| a.min(self.max_rate_limit_wait))
                        .unwrap_or_else(|| backoff(self.backoff, attempt));
                    debug!(
                        endpoint = label,
                        attempt,
                        why,
                        wait_ms = wait.as_millis() as u64,
                        "retrying"
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn once(&self, label: &str, url: &str, accept: &[u16]) -> Result<Verdict> {
        let req = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        // reqwest marks both headers sensitive, so they never show in its Debug output.
        let req = match &self.auth {
            Auth::ApiToken { email, token } => req.basic_auth(email, Some(token.expose())),
            Auth::PersonalAccessToken(t) | Auth::OAuth(t) => req.bearer_auth(t.expose()),
        };
        let response = match req.send().await {
            Ok(r) => r,
            Err(e) => return Ok(Verdict::Retry(format!("transport: {}", chain(&e)), None)),
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return Ok(Verdict::Retry(
                    format!("{status}, reading the body: {}", chain(&e)),
                    None,
                ));
            }
        };
        classify(label, status, &headers, &body, accept).map_err(|e| match e {
            Error::Status {
                status: 401,
                endpoint,
                ..
            } => Error::Auth {
                base_url: self.site.clone(),
                endpoint,
                hint: self.auth.hint(),
            },
            e => e,
        })
    }
}

/// What a response means.
fn classify(
    label: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    accept: &[u16],
) -> Result<Verdict> {
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    if status.is_success() {
        return match serde_json::from_slice::<Value>(body) {
            Ok(v) => Ok(Verdict::Done(Reply::Json(v))),
            Err(e) => {
                let content_type = headers
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_lowercase();
                if content_type.is_empty() || content_type.contains("json") {
                    // A body cut short on the way: ask again.
                    Ok(Verdict::Retry(format!("malformed JSON body ({e})"), None))
                } else {
                    // A web page where the API should be: asking again will not help.
                    Err(Error::Protocol {
                        endpoint: label.to_string(),
                        detail: format!(
                            "{status} with {content_type}, not JSON: {}",
                            excerpt(body)
                        ),
                    })
                }
            }
        };
    }
    let message = jira_message(body);
    if accept.contains(&status.as_u16()) {
        return Ok(Verdict::Done(Reply::Status(status.as_u16(), message)));
    }
    Ok(match status {
        StatusCode::UNAUTHORIZED => {
            return Err(Error::Status {
                endpoint: label.to_string(),
                status: 401,
                message,
            });
        }
        StatusCode::FORBIDDEN => {
            return Err(Error::Forbidden {
                endpoint: label.to_string(),
                message,
            });
        }
        StatusCode::TOO_MANY_REQUESTS => match retry_after {
            Some(after) => Verdict::RateLimitWait(after),
            None => Verdict::Retry(format!("429: {message}"), None),
        },
        s if s.is_server_error() || s == StatusCode::REQUEST_TIMEOUT => {
            Verdict::Retry(format!("{s}: {message}"), retry_after)
        }
        s => {
            return Err(Error::Status {
                endpoint: label.to_string(),
                status: s.as_u16(),
                message,
            });
        }
    })
}

/// Jira's `errorMessages` and `errors`, or the start of the body.
pub(crate) fn jira_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        let mut parts: Vec<String> = v
            .get("errorMessages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|m| m.as_str().map(str::to_string))
            .collect();
        if let Some(errors) = v.get("errors").and_then(Value::as_object) {
            parts.extend(
                errors
                    .iter()
                    .map(|(k, m)| format!("{k}: {}", m.as_str().unwrap_or_default())),
            );
        }
        if let Some(m) = v.get("message").and_then(Value::as_str) {
            parts.push(m.to_string());
        }
        if !parts.is_empty() {
            return parts.join("; ");
        }
    }
    excerpt(body)
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let t: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() > 160 {
        format!("{}…", t.chars().take(160).collect::<String>())
    } else {
        t
    }
}

/// An error with its sources (`error sending request: … : Connection refused`). Requests
/// carry credentials in headers only, so neither the URL nor the chain holds a secret.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s
}

/// Exponential backoff with jitter: `base · 2^(attempt-1)`, capped at 60 s, then a random
/// point in its upper half so that parallel runs do not retry in step.
pub(crate) fn backoff(base: Duration, attempt: u32) -> Duration {
    let b = base.as_secs_f64() * 2f64.powi(attempt.saturating_sub(1).min(30) as i32);
    let capped = b.min(60.0);
    if capped <= 0.0 {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(rand::rng().random_range(capped / 2.0..=capped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn verdict(status: u16, headers: &[(&'static str, &str)], body: &str) -> Result<Verdict> {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        classify(
            "search PAY",
            StatusCode::from_u16(status).unwrap(),
            &h,
            body.as_bytes(),
            &[404],
        )
    }

    #[test]
    fn rate_limits_wait_for_retry_after() {
        match verdict(429, &[("retry-after", "7")], "{}").unwrap() {
            Verdict::RateLimitWait(d) => assert_eq!(d, Duration::from_secs(7)),
            v => panic!("{v:?}"),
        }
        assert!(matches!(
            verdict(429, &[], "{}").unwrap(),
            Verdict::Retry(_, None)
        ));
    }

    #[test]
    fn faults_are_retried() {
        assert!(matches!(
            verdict(502, &[], "bad gateway").unwrap(),
            Verdict::Retry(..)
        ));
        match verdict(503, &[("retry-after", "2")], "").unwrap() {
            Verdict::Retry(_, Some(d)) => assert_eq!(d, Duration::from_secs(2)),
            v => panic!("{v:?}"),
        }
        // A truncated JSON body.
        assert!(matches!(
            verdict(
                200,
                &[("content-type", "application/json")],
                "{\"issues\":[{\"id"
            )
            .unwrap(),
            Verdict::Retry(..)
        ));
    }

    #[test]
    fn errors_and_accepted_statuses() {
        let body = r#"{"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{}}"#;
        match verdict(404, &[], body).unwrap() {
            Verdict::Done(Reply::Status(404, m)) => assert!(m.starts_with("Issue does not exist")),
            v => panic!("{v:?}"),
        }
        let e = verdict(
            400,
            &[],
            r#"{"errorMessages":["The value 'XYZ' does not exist for the field 'project'."],"errors":{}}"#,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "Jira answered 400 at search PAY: The value 'XYZ' does not exist for the field 'project'."
        );
        let e = verdict(
            200,
            &[("content-type", "text/html")],
            "<html><body>Login</body></html>",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("not JSON") && e.contains("<html>"), "{e}");
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let base = Duration::from_millis(100);
        for _ in 0..50 {
            let d1 = backoff(base, 1);
            assert!(d1 >= Duration::from_millis(50) && d1 <= base);
            let d3 = backoff(base, 3);
            assert!(d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400));
            assert!(backoff(base, 40) <= Duration::from_secs(60));
        }
        assert_eq!(backoff(Duration::ZERO, 3), Duration::ZERO);
    }
}
