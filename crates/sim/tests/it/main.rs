//! The one integration-test binary of `flowlake-sim`.
//!
//! - `client`: a minimal HTTP/1.1 client over `tokio::net::TcpStream` (no client crate needed).
//! - `generator`: the org's shapes and invariants, read through the public data types.
//! - `http`: the server over real TCP: routes, auth, pagination, snapshots, rate limits, faults.
//! - `jira`: the Jira site over real TCP (docs/jira-api.md): both paging flavours, changelog
//!   cap and paging, snapshots, deleted and moved issues, auth, and parsing with
//!   `flowlake_model::jira`.

mod client;
mod generator;
mod http;
mod jira;
