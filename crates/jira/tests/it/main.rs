//! The integration tests of `flowlake-jira`, in one binary (`cargo test -p flowlake-jira --test it`).
//!
//! Every test runs the real connector over real HTTP against `flowlake-sim`'s Jira routes and
//! writes into a real lake in a temporary folder, then reads the Parquet back and compares it
//! with the simulated site's ground truth. No mocks.
//!
//! Modules:
//! - `common`: the shared fixture (one generated org, sims at chosen clocks, lakes, a fixed
//!   clock), reading raw tables back, staging-style dedupe, and the site's truth.
//! - `ingest`: healthy runs on Cloud and Data Center: full, then incremental; long changelogs;
//!   deleted and moved issues; boards, sprints and statuses.
//! - `faults`: injected server faults and rate limits; the lake must end up the same.
//! - `errors`: runs that fail (bad token, bad site URL, unknown project, a failure after good
//!   pages) and what they leave behind, including that no secret reaches any written file.

mod common;
mod errors;
mod faults;
mod ingest;
