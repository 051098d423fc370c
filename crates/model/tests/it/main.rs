//! The integration tests of `flowlake-model`, in one binary (`cargo test -p flowlake-model --test it`).
//!
//! Modules:
//! - `devlake`: parse the real GitHub payloads recorded in Apache DevLake's e2e fixtures
//!   (`/work/shared/fixtures/devlake`, or `$FLOWLAKE_DEVLAKE_FIXTURES`) with our `from_rest` /
//!   `from_graphql` parsers and compare every field we keep with DevLake's extracted snapshot
//!   tables. Tests that check our parsers against someone else's reading of the same payloads
//!   belong here.
//! - `devlake_jira`: the same for DevLake's recorded Jira payloads (issues with their
//!   embedded changelogs, sprints, statuses).

mod devlake;
mod devlake_jira;
