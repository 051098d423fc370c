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
    /// Another run holds the lake lock (exit code 4).
    #[error(
        "lake `{url}` is locked by {holder}; wait for it (`--wait 10m`), or if that run is \
         certainly gone, its lease lapses at the time shown"
    )]
    Locked {
        /// The lake URL.
        url: String,
        /// Who holds it.
        holder: Box<crate::lock::LockHolder>,
    },
    /// This run's lease was taken over (it stalled past its expiry): it must not publish.
    #[error(
        "lost the lock of lake `{url}` to {holder} (this run stalled past its lease); \
         nothing was published, run again"
    )]
    LockLost {
        /// The lake URL.
        url: String,
        /// Who holds it now.
        holder: String,
    },
    /// An object's copy is not the object: another size than the original's (a different
    /// object under the same name in the target lake, or a copy cut short).
    #[error(
        "`{path}` in lake `{url}` has {found} bytes, not the {expected} of the original; \
         nothing was deleted"
    )]
    Mismatch {
        /// The object path, relative to the lake root.
        path: String,
        /// The lake holding the copy.
        url: String,
        /// The original's size.
        expected: u64,
        /// The copy's size.
        found: u64,
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
