use thiserror::Error;

/// Errors of the GitHub connector. None of them carries the token.
#[derive(Debug, Error)]
pub enum Error {
    /// The token was refused.
    #[error(
        "GitHub refused the token for {endpoint} (401 Bad credentials): set a valid token in \
         GITHUB_TOKEN or [github] token_env, with read access to the org's repos"
    )]
    Auth {
        /// The endpoint that refused it.
        endpoint: String,
    },
    /// A GitHub App could not get an installation token.
    #[error(
        "GitHub refused the App's installation token ({status}: {message}): check [github] \
         app_id, installation_id and the key in app_private_key_path"
    )]
    AppAuth {
        /// HTTP status.
        status: u16,
        /// GitHub's message.
        message: String,
    },
    /// The token lacks a permission (a 403 that is not a rate limit).
    #[error("GitHub denied {endpoint} (403: {message}): give the token read access to it")]
    Forbidden {
        /// The endpoint.
        endpoint: String,
        /// GitHub's message.
        message: String,
    },
    /// An org or repo that does not exist or the token cannot see.
    #[error(
        "GitHub has no {what} (404 at {endpoint}): check the name in [github] org/repos, and the token's access"
    )]
    NotFound {
        /// What was missing (`repository acme/api`).
        what: String,
        /// The endpoint.
        endpoint: String,
    },
    /// A rate limit that would not clear within the allowed wait, or kept coming back.
    #[error(
        "GitHub rate limit on {endpoint} persists ({detail}); retry later or raise [github] max_rate_limit_wait_s"
    )]
    RateLimited {
        /// The endpoint.
        endpoint: String,
        /// When it resets, or how often it hit.
        detail: String,
    },
    /// Retries ran out on server errors, timeouts or broken bodies.
    #[error("GitHub request to {endpoint} failed after {attempts} attempts: {last}")]
    Exhausted {
        /// The endpoint.
        endpoint: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// GraphQL answered with errors.
    #[error("GitHub GraphQL error at {endpoint}: {message}")]
    GraphQl {
        /// The endpoint and query kind.
        endpoint: String,
        /// GitHub's messages.
        message: String,
    },
    /// Any other unexpected HTTP status.
    #[error("GitHub answered {status} at {endpoint}: {message}")]
    Status {
        /// The endpoint.
        endpoint: String,
        /// HTTP status.
        status: u16,
        /// Body excerpt.
        message: String,
    },
    /// A payload we could not decode.
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
    #[error("[github] {setting}: {reason}")]
    Config {
        /// The setting.
        setting: &'static str,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// Building the HTTP client failed.
    #[error("building the GitHub client")]
    Client(#[source] octocrab::Error),
    /// Writing to the lake failed.
    #[error(transparent)]
    Lake(#[from] flowlake_lake::Error),
    /// Converting records to Arrow failed.
    #[error(transparent)]
    Model(#[from] flowlake_model::Error),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
