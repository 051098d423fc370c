//! The one integration-test binary of `flowlake-sim`.
//!
//! - `client`: a minimal HTTP/1.1 client over `tokio::net::TcpStream` (no client crate needed).
//! - `generator`: the org's shapes and invariants, read through the public data types.
//! - `http`: the server over real TCP: routes, auth, pagination, snapshots, rate limits, faults.

mod client;
mod generator;
mod http;
