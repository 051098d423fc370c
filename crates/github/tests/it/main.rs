//! The integration tests of `flowlake-github`, in one binary (`cargo test -p flowlake-github --test it`).
//!
//! Every test runs the real connector over real HTTP against `flowlake-sim` and writes into a
//! real lake in a temporary folder, then reads the Parquet back and compares it with the
//! simulated org's ground truth. No mocks.
//!
//! Modules:
//! - `common`: the shared fixture (one generated org, sims, lakes, a fixed clock), reading raw
//!   tables back, staging-style dedupe, and the org's expected counts.
//! - `ingest`: what a healthy run fetches: pagination, request budgets, incremental runs.
//! - `faults`: injected server faults and rate limits; the lake must end up the same.
//! - `errors`: runs that fail (401, 404, a failure after good pages) and what they leave
//!   behind, including that no token reaches any written file.

mod app_auth;
mod common;
mod errors;
mod faults;
mod ingest;
