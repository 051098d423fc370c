//! The HTTP server: GitHub's routes (docs/github-api.md), Jira's routes (docs/jira-api.md,
//! handlers in `jira_api`), auth, rate limits, injected faults, counters, and the `/_sim/*`
//! control routes.
//!
//! Every GitHub request goes through `AppState::respond`, which applies, in order: counting,
//! auth (401), fault injection, the primary rate limit (403), then the route's handler on the
//! org as it stood at the simulated clock. Jira requests go through `AppState::respond_jira`:
//! the same steps with Jira's credentials, error bodies and a 429 for the rate limit, on a
//! budget of their own.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration as StdDuration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, TimeZone, Utc};
use rand::RngExt;
use rand::rngs::StdRng;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::{self, GqlError, GqlKind, IssueQuery, TimeFilter};
use crate::config::SimConfig;
use crate::error::{Error, Result};
use crate::org::Org;
use crate::util::{hours, iso, rng_for};

const DOCS: &str = "https://docs.github.com/rest";

/// Request counters, as served by `GET /_sim/stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    /// GitHub API requests (everything but Jira and `/_sim/*`).
    pub requests: u64,
    /// GraphQL requests.
    pub graphql_requests: u64,
    /// REST requests.
    pub rest_requests: u64,
    /// Rate-limit points charged (GraphQL cost plus one per charged REST request).
    pub points_spent: u64,
    /// Requests answered with an injected fault (including slow and truncated responses).
    pub faults_injected: u64,
    /// Requests per route, e.g. `graphql:pullRequests`, `rest:issues`, `jira:search`.
    pub by_route: BTreeMap<String, u64>,
    /// Jira API requests (`/rest/api/{2,3}/…`, `/rest/agile/1.0/…`); not part of `requests`,
    /// which counts GitHub requests only.
    #[serde(default)]
    pub jira_requests: u64,
}

/// Which rate-limit budget a request spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource {
    Core,
    Graphql,
    Jira,
}

impl Resource {
    fn as_str(self) -> &'static str {
        match self {
            Resource::Core => "core",
            Resource::Graphql => "graphql",
            Resource::Jira => "jira",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Budget {
    used: u32,
    reset_at: u64,
}

/// The rate-limit state reported in headers (and `rateLimit` in GraphQL).
#[derive(Debug, Clone, Copy)]
struct RateInfo {
    resource: Resource,
    limit: u32,
    used: u32,
    reset_at: u64,
    cost: u32,
}

impl RateInfo {
    fn remaining(&self) -> u32 {
        self.limit.saturating_sub(self.used)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Secondary403,
    Secondary429,
    BadGateway,
    Unavailable,
    Slow,
    Truncated,
}

/// A handler's answer before headers and faults are applied.
pub(crate) struct Reply {
    status: StatusCode,
    body: Vec<u8>,
    link: Option<String>,
}

impl Reply {
    pub(crate) fn json(status: StatusCode, v: &Value) -> Reply {
        Reply {
            status,
            body: serde_json::to_vec(v).expect("JSON values serialize"),
            link: None,
        }
    }
}

/// Shared server state.
pub(crate) struct AppState {
    pub(crate) config: SimConfig,
    pub(crate) org: Arc<Org>,
    clock: Mutex<DateTime<Utc>>,
    stats: Mutex<Stats>,
    budgets: Mutex<[Budget; 3]>,
    fault_rng: Mutex<StdRng>,
    installation_tokens: Mutex<Vec<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data behind; keep serving.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn epoch_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl AppState {
    pub(crate) fn new(config: SimConfig, org: Arc<Org>) -> AppState {
        AppState {
            clock: Mutex::new(config.initial_clock()),
            fault_rng: Mutex::new(rng_for(config.seed, &[0xfa017])),
            installation_tokens: Mutex::new(Vec::new()),
            config,
            org,
            stats: Mutex::new(Stats::default()),
            budgets: Mutex::new(
                [Budget {
                    used: 0,
                    reset_at: 0,
                }; 3],
            ),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        *lock(&self.clock)
    }

    fn advance(&self, h: f64) -> DateTime<Utc> {
        let mut c = lock(&self.clock);
        *c += hours(h);
        *c
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(v) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let v = v.trim();
        let token = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .or_else(|| v.strip_prefix("token "));
        let revoked = self
            .config
            .revoke_token_after
            .is_some_and(|n| lock(&self.stats).requests > n);
        token.is_some_and(|t| {
            let t = t.trim();
            (t == self.config.token && !revoked)
                || lock(&self.installation_tokens).iter().any(|x| x == t)
        })
    }

    /// Reads (and rolls over) a budget; with `charge`, spends `cost` if it fits.
    fn rate(&self, resource: Resource, cost: u32, charge: bool) -> (RateInfo, bool) {
        let mut budgets = lock(&self.budgets);
        let b = &mut budgets[resource as usize];
        let now = epoch_secs();
        if now >= b.reset_at {
            b.used = 0;
            b.reset_at = now + self.config.rate_limit_window_secs;
        }
        let limit = self.config.rate_limit_per_hour;
        let ok = b.used + cost <= limit;
        if charge && ok {
            b.used += cost;
        }
        let info = RateInfo {
            resource,
            limit,
            used: b.used,
            reset_at: b.reset_at,
            cost,
        };
        (info, ok)
    }

    fn draw_fault(&self) -> Option<Fault> {
        if self.config.faults <= 0.0 {
            return None;
        }
        let mut rng = lock(&self.fault_rng);
        if !rng.random_bool(self.config.faults) {
            return None;
        }
        Some(match rng.random_range(0..6) {
            0 => Fault::Secondary403,
            1 => Fault::Secondary429,
            2 => Fault::BadGateway,
            3 => Fault::Unavailable,
            4 => Fault::Slow,
            _ => Fault::Truncated,
        })
    }

    fn count(&self, route: &str, resource: Resource) {
        let mut s = lock(&self.stats);
        match resource {
            Resource::Core => {
                s.requests += 1;
                s.rest_requests += 1;
            }
            Resource::Graphql => {
                s.requests += 1;
                s.graphql_requests += 1;
            }
            Resource::Jira => s.jira_requests += 1,
        }
        *s.by_route.entry(route.to_string()).or_default() += 1;
    }

    /// The common path of every GitHub request.
    async fn respond(
        &self,
        headers: &HeaderMap,
        route: &str,
        resource: Resource,
        cost: u32,
        handler: impl FnOnce(&AppState, DateTime<Utc>, &RateInfo) -> Reply,
    ) -> Response {
        self.count(route, resource);
        if !self.authorized(headers) {
            let (info, _) = self.rate(resource, 0, false);
            let body = json!({ "message": "Bad credentials", "documentation_url": DOCS });
            return finish(
                Reply::json(StatusCode::UNAUTHORIZED, &body),
                Some(&info),
                None,
            );
        }
        let fault = self.draw_fault();
        if fault.is_some() {
            lock(&self.stats).faults_injected += 1;
        }
        match fault {
            Some(f @ (Fault::Secondary403 | Fault::Secondary429)) => {
                let (info, _) = self.rate(resource, 0, false);
                let body = json!({
                    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                });
                let status = if f == Fault::Secondary403 {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::TOO_MANY_REQUESTS
                };
                let mut resp = finish(Reply::json(status, &body), Some(&info), None);
                resp.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(self.config.retry_after_secs),
                );
                return resp;
            }
            Some(Fault::BadGateway) => {
                return (
                    StatusCode::BAD_GATEWAY,
                    [(header::CONTENT_TYPE, "text/html")],
                    "<html><body><h1>502 Bad Gateway</h1></body></html>",
                )
                    .into_response();
            }
            Some(Fault::Unavailable) => {
                let body = json!({ "message": "Service Unavailable" });
                return finish(
                    Reply::json(StatusCode::SERVICE_UNAVAILABLE, &body),
                    None,
                    None,
                );
            }
            Some(Fault::Slow) => {
                let ms = lock(&self.fault_rng).random_range(100..=300);
                tokio::time::sleep(StdDuration::from_millis(ms)).await;
            }
            Some(Fault::Truncated) | None => {}
        }
        let (info, ok) = self.rate(resource, cost, true);
        if !ok {
            let body = json!({
                "message": format!("API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID. (resource: {})", resource.as_str()),
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            });
            let info = RateInfo {
                used: info.limit,
                ..info
            };
            return finish(Reply::json(StatusCode::FORBIDDEN, &body), Some(&info), None);
        }
        lock(&self.stats).points_spent += u64::from(cost);
        let now = self.now();
        let reply = handler(self, now, &info);
        finish(reply, Some(&info), fault)
    }
}

impl AppState {
    /// Whether the request carries a Jira credential: Basic `email:api_token`, or a Bearer
    /// Data Center personal access token or OAuth 2.0 access token.
    fn jira_authorized(&self, headers: &HeaderMap) -> bool {
        let Some(v) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let v = v.trim();
        if let Some(b) = v
            .strip_prefix("Basic ")
            .or_else(|| v.strip_prefix("basic "))
        {
            let want = format!("{}:{}", self.config.jira_email, self.config.jira_api_token);
            return crate::util::b64_decode(b.trim()).is_some_and(|d| d == want.as_bytes());
        }
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .is_some_and(|t| {
                let t = t.trim();
                t == self.config.jira_pat || t == self.config.jira_oauth_token
            })
    }

    /// The common path of every Jira request: counting, auth (401), faults (429 with
    /// `Retry-After`, 502, 503, slow, truncated), the rate limit (429), then the handler on
    /// the org at the simulated clock.
    pub(crate) async fn respond_jira(
        &self,
        headers: &HeaderMap,
        route: &str,
        handler: impl FnOnce(&AppState, DateTime<Utc>) -> Reply,
    ) -> Response {
        self.count(route, Resource::Jira);
        if !self.jira_authorized(headers) {
            let body = json!({
                "errorMessages": ["You are not authenticated. Authentication required to perform this operation."],
                "errors": {},
            });
            return finish(Reply::json(StatusCode::UNAUTHORIZED, &body), None, None);
        }
        let fault = self.draw_fault();
        if fault.is_some() {
            lock(&self.stats).faults_injected += 1;
        }
        match fault {
            Some(Fault::Secondary403 | Fault::Secondary429) => {
                let (info, _) = self.rate(Resource::Jira, 0, false);
                let body = json!({ "errorMessages": ["Rate limit exceeded."], "errors": {} });
                let mut resp = finish(
                    Reply::json(StatusCode::TOO_MANY_REQUESTS, &body),
                    Some(&info),
                    None,
                );
                resp.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(self.config.retry_after_secs),
                );
                return resp;
            }
            Some(Fault::BadGateway) => {
                return (
                    StatusCode::BAD_GATEWAY,
                    [(header::CONTENT_TYPE, "text/html")],
                    "<html><body><h1>502 Bad Gateway</h1></body></html>",
                )
                    .into_response();
            }
            Some(Fault::Unavailable) => {
                let body = json!({ "errorMessages": ["Service Unavailable"], "errors": {} });
                return finish(
                    Reply::json(StatusCode::SERVICE_UNAVAILABLE, &body),
                    None,
                    None,
                );
            }
            Some(Fault::Slow) => {
                let ms = lock(&self.fault_rng).random_range(100..=300);
                tokio::time::sleep(StdDuration::from_millis(ms)).await;
            }
            Some(Fault::Truncated) | None => {}
        }
        let (info, ok) = self.rate(Resource::Jira, 1, true);
        if !ok {
            let body = json!({ "errorMessages": ["Rate limit exceeded."], "errors": {} });
            let info = RateInfo {
                used: info.limit,
                ..info
            };
            let mut resp = finish(
                Reply::json(StatusCode::TOO_MANY_REQUESTS, &body),
                Some(&info),
                None,
            );
            let wait = info.reset_at.saturating_sub(epoch_secs()).max(1);
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            return resp;
        }
        let now = self.now();
        let reply = handler(self, now);
        finish(reply, Some(&info), fault)
    }
}

fn finish(mut reply: Reply, rate: Option<&RateInfo>, fault: Option<Fault>) -> Response {
    if fault == Some(Fault::Truncated) {
        reply.body.truncate(reply.body.len() / 2);
    }
    let mut resp = Response::new(Body::from(reply.body));
    *resp.status_mut() = reply.status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let Some(r) = rate {
        h.insert("x-ratelimit-limit", HeaderValue::from(r.limit));
        h.insert("x-ratelimit-remaining", HeaderValue::from(r.remaining()));
        h.insert("x-ratelimit-used", HeaderValue::from(r.used));
        h.insert("x-ratelimit-reset", HeaderValue::from(r.reset_at));
        h.insert(
            "x-ratelimit-resource",
            HeaderValue::from_static(r.resource.as_str()),
        );
    }
    if let Some(link) = reply.link
        && let Ok(v) = HeaderValue::from_str(&link)
    {
        h.insert(header::LINK, v);
    }
    resp
}

fn not_found() -> Reply {
    Reply::json(
        StatusCode::NOT_FOUND,
        &json!({ "message": "Not Found", "documentation_url": DOCS }),
    )
}

fn reset_iso(epoch: u64) -> String {
    Utc.timestamp_opt(epoch as i64, 0)
        .single()
        .map_or_else(String::new, iso)
}

type AppStateRef = Arc<AppState>;

async fn graphql(State(s): State<AppStateRef>, headers: HeaderMap, body: Bytes) -> Response {
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let query = parsed
        .as_ref()
        .and_then(|v| v.get("query"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let vars = parsed
        .as_ref()
        .and_then(|v| v.get("variables"))
        .cloned()
        .unwrap_or(Value::Null);
    let Some(query) = query else {
        return s
            .respond(
                &headers,
                "graphql:invalid",
                Resource::Graphql,
                0,
                |_, _, _| {
                    Reply::json(
                        StatusCode::BAD_REQUEST,
                        &json!({ "message": "Problems parsing JSON", "documentation_url": DOCS }),
                    )
                },
            )
            .await;
    };
    let kind = GqlKind::detect(&query);
    let route = kind.map_or("graphql:unsupported", GqlKind::route);
    let cost = api::query_cost(&query, api::page_size(&vars));
    s.respond(&headers, route, Resource::Graphql, cost, |s, now, rate| {
        let rate_limit = json!({
            "cost": rate.cost,
            "remaining": rate.remaining(),
            "resetAt": reset_iso(rate.reset_at),
        });
        let result = match kind {
            None => Err(GqlError {
                kind: "UNSUPPORTED",
                message: "flowlake-sim serves only the pullRequests, history and deployments queries of docs/github-api.md".to_string(),
                path: None,
            }),
            Some(kind) => api::resolve_repo(&s.org, &vars).and_then(|repo| match kind {
                GqlKind::PullRequests => api::pull_requests(&s.org, repo, now, &vars),
                GqlKind::History => api::history(&s.org, repo, now, &vars),
                GqlKind::Deployments => api::deployments(&s.org, repo, now, &vars),
            }),
        };
        let body = match result {
            Ok(mut data) => {
                data["rateLimit"] = rate_limit;
                json!({ "data": data })
            }
            Err(e) => json!({ "data": null, "errors": [e.to_json()] }),
        };
        Reply::json(StatusCode::OK, &body)
    })
    .await
}

/// Parsed `per_page`/`page` (GitHub: default 30, at most 100).
fn paging(q: &[(String, String)]) -> (usize, usize) {
    let get = |k: &str| {
        q.iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.parse::<usize>().ok())
    };
    let per_page = get("per_page").unwrap_or(30).clamp(1, 100);
    let page = get("page").unwrap_or(1).max(1);
    (per_page, page)
}

fn param<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

/// Cuts one page out of `rows` and builds GitHub's `Link` header for it.
fn paginate(
    rows: Vec<Value>,
    q: &[(String, String)],
    uri: &Uri,
    headers: &HeaderMap,
) -> (Vec<Value>, Option<String>) {
    let (per_page, page) = paging(q);
    let total = rows.len();
    let last = total.div_ceil(per_page).max(1);
    let slice: Vec<Value> = rows
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    if total <= per_page && page == 1 {
        return (slice, None);
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let kept: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("page="))
        .collect();
    let url = |n: usize| {
        let mut parts = kept.clone();
        let page = format!("page={n}");
        parts.push(&page);
        format!("<http://{host}{}?{}>", uri.path(), parts.join("&"))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", url((page - 1).min(last))));
    }
    if page < last {
        links.push(format!("{}; rel=\"next\"", url(page + 1)));
        links.push(format!("{}; rel=\"last\"", url(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", url(1)));
    }
    (slice, (!links.is_empty()).then(|| links.join(", ")))
}

fn rest_rows(rows: Vec<Value>, q: &[(String, String)], uri: &Uri, headers: &HeaderMap) -> Reply {
    let (rows, link) = paginate(rows, q, uri, headers);
    let mut r = Reply::json(StatusCode::OK, &Value::Array(rows));
    r.link = link;
    r
}

async fn org_repos(
    State(s): State<AppStateRef>,
    Path(org): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    s.respond(&headers, "rest:repos", Resource::Core, 1, |s, now, _| {
        if !org.eq_ignore_ascii_case(&s.org.name) {
            return not_found();
        }
        rest_rows(api::repos(&s.org, now), &q, &uri, &headers)
    })
    .await
}

async fn actions_runs(
    State(s): State<AppStateRef>,
    Path((owner, name)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    s.respond(
        &headers,
        "rest:actions_runs",
        Resource::Core,
        1,
        |s, now, _| {
            let Some(repo) = s.org.find_repo(&owner, &name) else {
                return not_found();
            };
            let created = match param(&q, "created").map(TimeFilter::parse) {
                None => None,
                Some(Some(f)) => Some(f),
                Some(None) => {
                    return Reply::json(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        &json!({ "message": "Validation Failed", "documentation_url": DOCS }),
                    );
                }
            };
            let rows = api::workflow_runs(repo, now, created.as_ref());
            let total = rows.len();
            let (rows, link) = paginate(rows, &q, &uri, &headers);
            let mut r = Reply::json(
                StatusCode::OK,
                &json!({ "total_count": total, "workflow_runs": rows }),
            );
            r.link = link;
            r
        },
    )
    .await
}

async fn releases(
    State(s): State<AppStateRef>,
    Path((owner, name)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    s.respond(&headers, "rest:releases", Resource::Core, 1, |s, now, _| {
        let Some(repo) = s.org.find_repo(&owner, &name) else {
            return not_found();
        };
        rest_rows(api::releases(&s.org, repo, now), &q, &uri, &headers)
    })
    .await
}

async fn issues(
    State(s): State<AppStateRef>,
    Path((owner, name)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    s.respond(&headers, "rest:issues", Resource::Core, 1, |s, now, _| {
        let Some(repo) = s.org.find_repo(&owner, &name) else {
            return not_found();
        };
        let since = match param(&q, "since").map(crate::util::parse_time) {
            None => None,
            Some(Some(t)) => Some(t),
            Some(None) => {
                return Reply::json(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &json!({ "message": "Validation Failed", "documentation_url": DOCS }),
                );
            }
        };
        let iq = IssueQuery {
            labels: param(&q, "labels")
                .map(|l| {
                    l.split(',')
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            state: param(&q, "state").unwrap_or("open").to_ascii_lowercase(),
            since,
            sort_updated: param(&q, "sort") == Some("updated"),
            ascending: param(&q, "direction") == Some("asc"),
        };
        rest_rows(api::issues(&s.org, repo, now, &iq), &q, &uri, &headers)
    })
    .await
}

async fn sim_stats(State(s): State<AppStateRef>) -> Response {
    axum::Json(lock(&s.stats).clone()).into_response()
}

async fn sim_reset_stats(State(s): State<AppStateRef>) -> Response {
    *lock(&s.stats) = Stats::default();
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /app/installations/{id}/access_tokens`: a GitHub App's JWT (RS256, `iss` = the app
/// id) buys a one-hour installation token. The signature is not checked: the simulator tests
/// the client's flow, not RSA.
async fn installation_token(
    State(s): State<AppStateRef>,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> Response {
    let jwt = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("Bearer "))
        .unwrap_or("");
    let claims = jwt
        .split('.')
        .nth(1)
        .map(|p| p.replace('-', "+").replace('_', "/"))
        .and_then(|p| crate::util::b64_decode(&p))
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    let iss = claims.as_ref().and_then(|c| match c.get("iss") {
        Some(Value::String(x)) => x.parse::<u64>().ok(),
        Some(v) => v.as_u64(),
        None => None,
    });
    if jwt.split('.').count() != 3 || iss != Some(s.config.app_id) {
        let body =
            json!({"message": "A JSON web token could not be decoded", "documentation_url": DOCS});
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    if id != s.config.installation_id {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "Not Found", "documentation_url": DOCS})),
        )
            .into_response();
    }
    let token = {
        let mut tokens = lock(&s.installation_tokens);
        let t = format!("ghs_sim{:08}", tokens.len() + 1);
        tokens.push(t.clone());
        t
    };
    let expires = Utc::now() + chrono::Duration::hours(1);
    let body = json!({
        "token": token,
        "expires_at": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "permissions": {"contents": "read", "pull_requests": "read", "deployments": "read", "issues": "read", "actions": "read"},
        "repository_selection": "all",
    });
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

async fn sim_now(State(s): State<AppStateRef>) -> Response {
    axum::Json(json!({ "now": iso(s.now()) })).into_response()
}

async fn sim_advance(
    State(s): State<AppStateRef>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    match param(&q, "hours").and_then(|h| h.parse::<f64>().ok()) {
        Some(h) if h.is_finite() && h >= 0.0 => {
            let now = s.advance(h);
            tracing::debug!(hours = h, now = %iso(now), "simulated clock advanced");
            axum::Json(json!({ "now": iso(now) })).into_response()
        }
        _ => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "message": "hours must be a non-negative number" })),
        )
            .into_response(),
    }
}

async fn fallback(uri: Uri) -> Response {
    tracing::debug!(path = uri.path(), "no such route");
    finish(not_found(), None, None)
}

async fn log_requests(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    // Only method, path and status: never headers (the Authorization header is a secret).
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    tracing::debug!(%method, %path, status = resp.status().as_u16(), "flowlake-sim request");
    resp
}

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let mut app = Router::new()
        .route("/graphql", post(graphql))
        .route("/api/graphql", post(graphql));
    for prefix in ["", "/api/v3"] {
        app = app
            .route(
                &format!("{prefix}/app/installations/{{id}}/access_tokens"),
                post(installation_token),
            )
            .route(&format!("{prefix}/orgs/{{org}}/repos"), get(org_repos))
            .route(
                &format!("{prefix}/repos/{{owner}}/{{repo}}/actions/runs"),
                get(actions_runs),
            )
            .route(
                &format!("{prefix}/repos/{{owner}}/{{repo}}/releases"),
                get(releases),
            )
            .route(
                &format!("{prefix}/repos/{{owner}}/{{repo}}/issues"),
                get(issues),
            );
    }
    app.merge(crate::jira_api::routes())
        .nest("/ex/jira/{cloud_id}", crate::jira_api::routes())
        .route("/_sim/stats", get(sim_stats))
        .route("/_sim/reset-stats", post(sim_reset_stats))
        .route("/_sim/advance", post(sim_advance))
        .route("/_sim/now", get(sim_now))
        .fallback(fallback)
        .layer(axum::middleware::from_fn(log_requests))
        .with_state(state)
}

/// Generates the org for `config` and serves it on `listener` until the process ends.
pub async fn serve(config: SimConfig, listener: TcpListener) -> Result<()> {
    let org = Arc::new(Org::generate(&config)?);
    serve_org(config, org, listener, std::future::pending()).await
}

async fn serve_org(
    config: SimConfig,
    org: Arc<Org>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let state = Arc::new(AppState::new(config, org));
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| Error::Serve { source })
}

/// A simulator running in the background on `127.0.0.1`; stops when dropped.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<()>>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("org", &self.org.name)
            .field("now", &self.now())
            .finish_non_exhaustive()
    }
}

/// Generates the org for `config` and starts a server for it on a free port of `127.0.0.1`,
/// on the current tokio runtime.
pub async fn spawn(config: SimConfig) -> Result<SimHandle> {
    let org = Arc::new(Org::generate(&config)?);
    spawn_with_org(config, org).await
}

/// Like [`spawn`], serving an org generated earlier (it must come from the same config;
/// sharing one `Arc<Org>` between servers saves generating it twice).
pub async fn spawn_with_org(config: SimConfig, org: Arc<Org>) -> Result<SimHandle> {
    config.validate()?;
    let addr = "127.0.0.1:0";
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind {
            addr: addr.to_string(),
            source,
        })?;
    let local = listener.local_addr().map_err(|source| Error::Bind {
        addr: addr.to_string(),
        source,
    })?;
    let state = Arc::new(AppState::new(config, org));
    let (tx, rx) = oneshot::channel::<()>();
    let app = router(state.clone());
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
            .map_err(|source| Error::Serve { source })
    });
    tracing::debug!(%local, "flowlake-sim listening");
    Ok(SimHandle {
        addr: local,
        state,
        stop: Some(tx),
        task: Some(task),
    })
}

impl SimHandle {
    /// `http://127.0.0.1:PORT` (no trailing slash): the GitHub API base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The served org.
    pub fn org(&self) -> &Arc<Org> {
        &self.state.org
    }

    /// The config the server runs with.
    pub fn config(&self) -> &SimConfig {
        &self.state.config
    }

    /// A copy of the request counters.
    pub fn stats(&self) -> Stats {
        lock(&self.state.stats).clone()
    }

    /// Zeroes the request counters.
    pub fn reset_stats(&self) {
        *lock(&self.state.stats) = Stats::default();
    }

    /// The simulated clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.state.now()
    }

    /// Moves the simulated clock forward by `hours` and returns the new time.
    pub fn advance(&self, hours: f64) -> DateTime<Utc> {
        self.state.advance(hours.max(0.0))
    }

    /// Stops accepting connections and waits (up to 5 s) for open ones to finish.
    pub async fn shutdown(mut self) -> Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let Some(mut task) = self.task.take() else {
            return Ok(());
        };
        match tokio::time::timeout(StdDuration::from_secs(5), &mut task).await {
            Ok(joined) => joined.map_err(|source| Error::Join { source })?,
            Err(_) => {
                // Clients holding keep-alive connections open: stop waiting for them.
                task.abort();
                Ok(())
            }
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(cfg: SimConfig) -> AppState {
        let org = Arc::new(Org::generate(&cfg).unwrap());
        AppState::new(cfg, org)
    }

    #[test]
    fn auth_accepts_bearer_and_token_schemes() {
        let s = state(SimConfig::default());
        let mut h = HeaderMap::new();
        assert!(!s.authorized(&h));
        for v in ["Bearer sim-token", "token sim-token"] {
            h.insert(header::AUTHORIZATION, HeaderValue::from_static(v));
            assert!(s.authorized(&h), "{v}");
        }
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer nope"),
        );
        assert!(!s.authorized(&h));
    }

    #[test]
    fn budgets_are_separate_and_refuse_when_spent() {
        let s = state(SimConfig {
            rate_limit_per_hour: 5,
            ..SimConfig::default()
        });
        assert!(s.rate(Resource::Graphql, 3, true).1);
        let (info, ok) = s.rate(Resource::Graphql, 3, true);
        assert!(!ok);
        assert_eq!(info.remaining(), 2);
        let (core, ok) = s.rate(Resource::Core, 1, true);
        assert!(ok);
        assert_eq!(core.remaining(), 4);
    }

    #[test]
    fn link_header_keeps_other_params() {
        let uri: Uri = "/repos/acme/x/issues?labels=incident&per_page=2&page=2"
            .parse()
            .unwrap();
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:9"));
        let q = vec![
            ("labels".to_string(), "incident".to_string()),
            ("per_page".to_string(), "2".to_string()),
            ("page".to_string(), "2".to_string()),
        ];
        let rows: Vec<Value> = (0..5).map(|i| json!(i)).collect();
        let (page, link) = paginate(rows, &q, &uri, &h);
        assert_eq!(page, vec![json!(2), json!(3)]);
        let link = link.unwrap();
        assert!(link.contains("<http://127.0.0.1:9/repos/acme/x/issues?labels=incident&per_page=2&page=3>; rel=\"next\""), "{link}");
        assert!(link.contains("page=3>; rel=\"last\""), "{link}");
        assert!(link.contains("page=1>; rel=\"prev\""), "{link}");
    }
}
