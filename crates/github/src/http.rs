//! One place that talks HTTP: octocrab sends, this module decides what a response means
//! (rate limits, retries, errors) and counts what was spent.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use http::{HeaderMap, StatusCode};
use octocrab::Octocrab;
use rand::RngExt;
use serde_json::Value;
use tracing::{debug, warn};

use crate::config::{Auth, GithubConfig};
use crate::error::{Error, Result};

/// Requests and points spent, for the run manifest and the benchmarks.
#[derive(Debug, Default)]
pub struct Spend {
    /// HTTP requests sent, retries included.
    pub requests: AtomicU64,
    /// GraphQL requests among them.
    pub graphql_requests: AtomicU64,
    /// GraphQL rate-limit points spent (from `rateLimit{cost}`), plus one per REST request.
    pub points: AtomicU64,
    /// Retries after faults.
    pub retries: AtomicU64,
    /// Waits for rate limits.
    pub rate_limit_waits: AtomicU64,
}

impl Spend {
    fn add(&self, field: &AtomicU64, n: u64) {
        field.fetch_add(n, Ordering::Relaxed);
    }
    /// A plain copy of the counters.
    pub fn snapshot(&self) -> SpendSnapshot {
        SpendSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            graphql_requests: self.graphql_requests.load(Ordering::Relaxed),
            points: self.points.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            rate_limit_waits: self.rate_limit_waits.load(Ordering::Relaxed),
        }
    }
}

/// A copy of [`Spend`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SpendSnapshot {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// GraphQL requests.
    pub graphql_requests: u64,
    /// Rate-limit points.
    pub points: u64,
    /// Retries.
    pub retries: u64,
    /// Rate-limit waits.
    pub rate_limit_waits: u64,
}

/// A REST page: the JSON and the next page's URL from the `Link` header.
pub struct RestPage {
    /// The body.
    pub body: Value,
    /// `rel="next"`, if any.
    pub next: Option<String>,
}

/// The HTTP client.
pub struct Client {
    origin: String,
    octo: Octocrab,
    graphql_url: String,
    base_url: String,
    cfg: GithubConfig,
    /// What was spent.
    pub spend: Spend,
}

enum Verdict {
    Done(Value, HeaderMap),
    Retry(String, Option<Duration>),
    RateLimitWait(Duration, String),
}

impl Client {
    /// Build the client for `cfg`.
    pub fn new(cfg: &GithubConfig) -> Result<Self> {
        let base = cfg.base_url.trim_end_matches('/').to_string();
        let uri: http::Uri = base.parse().map_err(|_| Error::Config {
            setting: "base_url",
            reason: format!(
                "`{base}` is not a URL; use https://api.github.com or https://HOST/api/v3"
            ),
        })?;
        if uri.scheme().is_none() || uri.host().is_none() {
            return Err(Error::Config {
                setting: "base_url",
                reason: format!("`{base}` needs a scheme and host, e.g. https://api.github.com"),
            });
        }
        // Octocrab gets only scheme and host: it sends an App's installation token only with
        // requests whose URI has no authority, and it would prefix a base path onto GHE's
        // `/api/graphql`. Requests therefore go out as full paths relative to this origin.
        let origin: http::Uri = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or("https"),
            uri.authority().map(|a| a.as_str()).unwrap_or_default()
        )
        .parse()
        .map_err(|_| Error::Config {
            setting: "base_url",
            reason: format!("`{base}` has no usable host"),
        })?;
        let builder = Octocrab::builder()
            .base_uri(origin.clone())
            .map_err(Error::Client)?
            // Retries, rate limits and backoff are ours: octocrab's would hide them from the
            // request counts and could not tell a truncated body from a good one.
            .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(Duration::from_secs(60)));
        let octo = match &cfg.auth {
            Auth::Token(token) => {
                if token.is_empty() {
                    return Err(Error::Config {
                        setting: "token",
                        reason: "no token: export GITHUB_TOKEN (or the variable [github] token_env names)".into(),
                    });
                }
                builder
                    .personal_token(token.expose().to_string())
                    .build()
                    .map_err(Error::Client)?
            }
            Auth::App {
                app_id,
                installation_id,
                private_key_pem,
            } => {
                let app = builder
                    .app_from_rsa_pem(octocrab::models::AppId(*app_id), private_key_pem.expose())
                    .map_err(|_| Error::Config {
                        setting: "app_private_key_path",
                        reason: "the GitHub App key is not an RSA private key in PEM form; download a new one from the App's settings".into(),
                    })?
                    .build()
                    .map_err(Error::Client)?;
                app.installation(octocrab::models::InstallationId(*installation_id))
                    .map_err(Error::Client)?
            }
        };
        Ok(Client {
            origin: origin.to_string().trim_end_matches('/').to_string(),
            octo,
            graphql_url: cfg.graphql_url(),
            base_url: base,
            cfg: cfg.clone(),
            spend: Spend::default(),
        })
    }

    /// The REST base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Run a GraphQL query; `label` names it in errors and logs.
    pub async fn graphql(&self, label: &str, query: &str, variables: Value) -> Result<Value> {
        let body = serde_json::json!({ "query": query, "variables": variables });
        let endpoint = format!("graphql {label}");
        let (value, _) = self.send(&endpoint, Some(&body), &self.graphql_url).await?;
        if let Some(errors) = value.get("errors").and_then(Value::as_array)
            && !errors.is_empty()
        {
            let kind = errors[0].get("type").and_then(Value::as_str).unwrap_or("");
            let message = errors
                .iter()
                .filter_map(|e| e.get("message").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(if kind == "NOT_FOUND" {
                Error::NotFound {
                    what: message,
                    endpoint,
                }
            } else {
                Error::GraphQl { endpoint, message }
            });
        }
        let cost = value
            .pointer("/data/rateLimit/cost")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        self.spend.add(&self.spend.points, cost);
        Ok(value)
    }

    /// GET a REST URL (absolute, or a path under the base URL).
    pub async fn rest(&self, label: &str, url: &str) -> Result<RestPage> {
        let full = if url.starts_with("http://") || url.starts_with("https://") {
            url.to_string()
        } else {
            format!("{}{url}", self.base_url)
        };
        let (body, headers) = self.send(label, None, &full).await?;
        self.spend.add(&self.spend.points, 1);
        let next = headers
            .get(http::header::LINK)
            .and_then(|v| v.to_str().ok())
            .and_then(next_link);
        Ok(RestPage { body, next })
    }

    async fn send(
        &self,
        endpoint: &str,
        body: Option<&Value>,
        url: &str,
    ) -> Result<(Value, HeaderMap)> {
        let mut attempt: u32 = 0;
        let mut waits: u32 = 0;
        loop {
            attempt += 1;
            self.spend.add(&self.spend.requests, 1);
            if body.is_some() {
                self.spend.add(&self.spend.graphql_requests, 1);
            }
            let verdict = self.once(endpoint, body, url).await?;
            match verdict {
                Verdict::Done(v, h) => return Ok((v, h)),
                Verdict::RateLimitWait(wait, detail) => {
                    waits += 1;
                    if wait > self.cfg.max_rate_limit_wait || waits > 10 {
                        return Err(Error::RateLimited {
                            endpoint: endpoint.to_string(),
                            detail,
                        });
                    }
                    self.spend.add(&self.spend.rate_limit_waits, 1);
                    warn!(
                        endpoint,
                        wait_s = wait.as_secs_f64(),
                        "GitHub rate limit: waiting"
                    );
                    tokio::time::sleep(wait).await;
                    attempt -= 1;
                }
                Verdict::Retry(why, after) => {
                    if attempt > self.cfg.max_retries {
                        return Err(Error::Exhausted {
                            endpoint: endpoint.to_string(),
                            attempts: attempt,
                            last: why,
                        });
                    }
                    self.spend.add(&self.spend.retries, 1);
                    let wait = after.unwrap_or_else(|| self.backoff(attempt));
                    debug!(
                        endpoint,
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

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.cfg.backoff.as_secs_f64() * 2f64.powi(attempt.saturating_sub(1) as i32);
        let capped = base.min(60.0);
        // Full jitter: many workers retrying in step would hit the same secondary limit again.
        let jittered = rand::rng().random_range(capped / 2.0..=capped);
        Duration::from_secs_f64(jittered)
    }

    async fn once(&self, endpoint: &str, body: Option<&Value>, url: &str) -> Result<Verdict> {
        let target = match url.strip_prefix(&self.origin) {
            Some(rest) if rest.starts_with('/') => rest,
            _ => url,
        };
        let sent = match body {
            Some(b) => self.octo._post(target, Some(b)).await,
            None => self.octo._get(target).await,
        };
        let response = match sent {
            Ok(r) => r,
            // Octocrab itself asks for the installation token of a GitHub App; a refusal
            // there is an auth failure, not a fault to retry.
            Err(octocrab::Error::GitHub { source, .. })
                if matches!(source.status_code.as_u16(), 401 | 403 | 404) =>
            {
                return Err(Error::AppAuth {
                    status: source.status_code.as_u16(),
                    message: source.message.clone(),
                });
            }
            Err(e) => {
                return Ok(Verdict::Retry(
                    format!("transport: {}", redact(&e.to_string())),
                    None,
                ));
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let text = match self.octo.body_to_string(response).await {
            Ok(t) => t,
            Err(e) => {
                return Ok(Verdict::Retry(
                    format!("reading body: {}", redact(&e.to_string())),
                    None,
                ));
            }
        };
        if status.is_success() {
            let value = match serde_json::from_str::<Value>(&text) {
                Ok(v) => v,
                Err(e) => return Ok(Verdict::Retry(format!("malformed JSON body ({e})"), None)),
            };
            // GraphQL reports an exhausted budget as `200 {"errors":[{"type":"RATE_LIMITED"}]}`.
            let rate_limited = value
                .pointer("/errors/0/type")
                .and_then(Value::as_str)
                .is_some_and(|t| t == "RATE_LIMITED");
            if rate_limited {
                let now = Utc::now().timestamp().max(0) as u64;
                let reset = header_u64(&headers, "x-ratelimit-reset").unwrap_or(now + 60);
                let wait = Duration::from_secs(reset.saturating_sub(now) + 1);
                return Ok(Verdict::RateLimitWait(
                    wait,
                    format!("GraphQL budget exhausted, resets at epoch {reset}"),
                ));
            }
            return Ok(Verdict::Done(value, headers));
        }
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| text.chars().take(200).collect());
        let retry_after = header_u64(&headers, "retry-after").map(Duration::from_secs);
        let remaining = header_u64(&headers, "x-ratelimit-remaining");
        let reset = header_u64(&headers, "x-ratelimit-reset");
        Ok(match status {
            StatusCode::UNAUTHORIZED => {
                return Err(Error::Auth {
                    endpoint: endpoint.to_string(),
                });
            }
            StatusCode::NOT_FOUND => {
                return Err(Error::NotFound {
                    what: endpoint.to_string(),
                    endpoint: url_path(url),
                });
            }
            StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS => {
                if let Some(after) = retry_after {
                    // Secondary limit: GitHub says exactly how long to back off.
                    Verdict::Retry(format!("{status}: {message}"), Some(after))
                } else if remaining == Some(0) {
                    let now = Utc::now().timestamp().max(0) as u64;
                    let wait =
                        Duration::from_secs(reset.unwrap_or(now + 60).saturating_sub(now) + 1);
                    Verdict::RateLimitWait(
                        wait,
                        format!(
                            "primary limit exhausted, resets at epoch {}",
                            reset.unwrap_or(0)
                        ),
                    )
                } else if status == StatusCode::TOO_MANY_REQUESTS
                    || message.to_lowercase().contains("rate limit")
                {
                    Verdict::Retry(
                        format!("{status}: {message}"),
                        Some(Duration::from_secs(60)),
                    )
                } else {
                    return Err(Error::Forbidden {
                        endpoint: endpoint.to_string(),
                        message,
                    });
                }
            }
            s if s.is_server_error() => Verdict::Retry(format!("{s}: {message}"), retry_after),
            s => {
                return Err(Error::Status {
                    endpoint: endpoint.to_string(),
                    status: s.as_u16(),
                    message,
                });
            }
        })
    }
}

fn header_u64(h: &HeaderMap, name: &str) -> Option<u64> {
    h.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn url_path(url: &str) -> String {
    match url.find("://") {
        Some(i) => match url[i + 3..].find('/') {
            Some(j) => url[i + 3 + j..].to_string(),
            None => "/".into(),
        },
        None => url.to_string(),
    }
}

/// Errors from the transport may echo request parts; never let a credential through.
fn redact(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_inclusive(char::is_whitespace) {
        let w = word.trim();
        let lower = w.to_lowercase();
        if lower.starts_with("ghp_")
            || lower.starts_with("gho_")
            || lower.starts_with("ghs_")
            || lower.starts_with("github_pat_")
        {
            out.push_str("***");
            out.push_str(&word[w.len()..]);
        } else {
            out.push_str(word);
        }
    }
    out
}

/// The `rel="next"` URL of a `Link` header.
pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let mut pieces = part.split(';');
        let url = pieces.next()?.trim();
        let is_next = pieces.any(|p| p.trim() == "rel=\"next\"");
        (is_next && url.starts_with('<') && url.ends_with('>'))
            .then(|| url[1..url.len() - 1].to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_link_header() {
        let h = r#"<https://api.github.com/repositories/1/issues?page=2>; rel="next", <https://api.github.com/repositories/1/issues?page=5>; rel="last""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://api.github.com/repositories/1/issues?page=2")
        );
        assert_eq!(next_link(r#"<https://x/?page=1>; rel="prev""#), None);
    }

    #[test]
    fn redacts_tokens() {
        assert_eq!(redact("bad ghp_abc123 here"), "bad *** here");
    }
}
