use thiserror::Error;

/// Errors of the lake layer.
#[derive(Debug, Error)]
pub enum Error {
    /// The lake URL names a scheme flowlake cannot store to.
    #[error(
        "lake URL `{url}`: unknown scheme `{scheme}`; use a folder path, file:///abs/path, \
         s3://bucket/prefix (AWS S3, MinIO and other S3-compatible stores) or memory://"
    )]
    UnknownScheme {
        /// The URL as given.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// The lake URL does not parse or lacks a part it needs.
    #[error("lake URL `{url}`: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The object store could not be configured (e.g. a bad S3 option).
    #[error(
        "configuring the object store for `{url}` (check the AWS_* variables and [lake.s3] settings)"
    )]
    Configure {
        /// The lake URL.
        url: String,
        /// The underlying error.
        #[source]
        source: object_store::Error,
    },
    /// A store operation failed.
    #[error("{op} `{path}` in lake `{url}`")]
    Store {
        /// What we tried (`writing`, `reading`, `listing`).
        op: &'static str,
        /// The object path.
        path: String,
        /// The lake URL.
        url: String,
        /// The underlying error.
        #[source]
        source: object_store::Error,
    },
    /// The store did not answer at all.
    #[error(
        "lake `{url}` is unreachable: {detail}. Check the endpoint (AWS_ENDPOINT / \
         [lake.s3] endpoint), that the server runs, and AWS_ALLOW_HTTP=true for http:// endpoints"
    )]
    Unreachable {
        /// The lake URL.
        url: String,
        /// The store's own words.
        detail: String,
    },
    /// Parquet encoding or decoding failed.
    #[error("parquet {op} `{path}`")]
    Parquet {
        /// `writing` or `reading`.
        op: &'static str,
        /// The object path.
        path: String,
        /// The underlying error.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// A JSON document (state, run manifest) failed to encode or decode.
    #[error("JSON document `{path}`")]
    Json {
        /// The object path.
        path: String,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
