//! The one error type of `flowlake-sim`.

use std::io;

/// Everything that can go wrong while configuring, generating or serving the simulated org.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scale name other than `small`, `medium` or `large`.
    #[error("unknown scale {input:?}: expected one of small, medium, large")]
    ParseScale {
        /// The text that was given.
        input: String,
    },
    /// A [`crate::SimConfig`] field holds a value the simulator cannot use.
    #[error("invalid simulator config: {field}: {reason}")]
    Config {
        /// The offending field.
        field: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// Binding the listening socket failed.
    #[error("binding the simulator to {addr}")]
    Bind {
        /// The address we tried to bind.
        addr: String,
        /// The IO error.
        source: io::Error,
    },
    /// The HTTP server stopped with an IO error.
    #[error("serving the simulated GitHub API")]
    Serve {
        /// The IO error.
        source: io::Error,
    },
    /// The background server task panicked or was cancelled.
    #[error("the simulator's server task failed")]
    Join {
        /// The join error.
        source: tokio::task::JoinError,
    },
}

/// `Result` with this crate's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
