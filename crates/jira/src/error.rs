use thiserror::Error;

/// Errors of the Jira connector. None of them carries a credential.
#[derive(Debug, Error)]
pub enum Error {
    /// The site refused the credentials.
    #[error("Jira rejected the credentials for {base_url} (401 at {endpoint}): {hint}")]
    Auth {
        /// The site.
        base_url: String,
        /// The endpoint that refused them.
        endpoint: String,
        /// What to check, for the configured kind of credential.
        hint: &'static str,
    },
    /// The base URL does not lead to a Jira REST API (unreachable, 404, not JSON).
    #[error(
        "no Jira {flavor} REST API at {base_url} ({detail}): check [jira] base_url (the site, e.g. https://acme.atlassian.net) and [jira] flavor"
    )]
    Site {
        /// The site.
        base_url: String,
        /// `cloud` or `data_center`.
        flavor: &'static str,
        /// What happened.
        detail: String,
    },
    /// A configured project key the site does not know (or the account cannot see).
    #[error(
        "Jira project `{key}` does not exist at {base_url} or the account cannot see it (404): check the key in [jira] {setting}"
    )]
    UnknownProject {
        /// The key.
        key: String,
        /// The site.
        base_url: String,
        /// `projects` or `incident_projects`.
        setting: &'static str,
    },
    /// The account lacks a permission (a 403).
    #[error("Jira denied {endpoint} (403: {message}): give the account browse access to it")]
    Forbidden {
        /// The endpoint.
        endpoint: String,
        /// Jira's message.
        message: String,
    },
    /// A rate limit that asked for a longer wait than allowed, or kept coming back.
    #[error(
        "Jira rate limit on {endpoint} persists ({detail}); retry later or raise [jira] max_rate_limit_wait_s"
    )]
    RateLimited {
        /// The endpoint.
        endpoint: String,
        /// The requested wait, or how often it hit.
        detail: String,
    },
    /// Retries ran out on server errors, timeouts or broken bodies.
    #[error("Jira request to {endpoint} failed after {attempts} attempts: {last}")]
    Exhausted {
        /// The endpoint.
        endpoint: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// Any other unexpected HTTP status.
    #[error("Jira answered {status} at {endpoint}: {message}")]
    Status {
        /// The endpoint.
        endpoint: String,
        /// HTTP status.
        status: u16,
        /// Jira's `errorMessages`, or a body excerpt.
        message: String,
    },
    /// A response that is not what the API documents.
    #[error("unexpected response from {endpoint}: {detail}")]
    Protocol {
        /// The endpoint.
        endpoint: String,
        /// What was wrong.
        detail: String,
    },
    /// A payload the parsers could not read.
    #[error("decoding {endpoint} page {page}")]
    Decode {
        /// The endpoint.
        endpoint: String,
        /// Page number (1-based).
        page: u32,
        /// The underlying error.
        #[source]
        source: flowlake_model::Error,
    },
    /// Bad connector configuration.
    #[error("[jira] {setting}: {reason}")]
    Config {
        /// The setting.
        setting: &'static str,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// Building the HTTP client failed.
    #[error("building the Jira HTTP client")]
    Client(#[source] reqwest::Error),
    /// Writing to the lake failed.
    #[error(transparent)]
    Lake(#[from] flowlake_lake::Error),
    /// Converting records to Arrow failed.
    #[error(transparent)]
    Model(#[from] flowlake_model::Error),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
