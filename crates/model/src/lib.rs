//! Record types and Arrow schemas of flowlake's raw entities.
//!
//! This is the bottom of the pipeline: connectors (`flowlake-github`, `flowlake-jira`) turn API
//! payloads into these records, `flowlake-lake` writes them as Parquet under
//! `raw/<source>/<entity>/`, and `sql/staging` reads them back. The column names and types are
//! the contract in `docs/raw-zone.md`.
//!
//! Key types:
//! - [`Entity`]: one raw table (source, name, Arrow schema).
//! - [`github`]: the GitHub records and their parsers for REST and GraphQL payloads.
//! - [`events`]: deployments and incidents imported from any other tool.
//! - [`jira`]: the Jira records, their parsers and the custom-field map.
//! - [`to_batch`]: records → an Arrow `RecordBatch` in the entity's schema.
//!
//! ```
//! use flowlake_model::{github::Release, to_batch, Entity};
//! let rel = Release { repo: "acme/api".into(), release_id: 1, tag_name: "v1.0.0".into(),
//!     ..Default::default() };
//! let batch = to_batch(Entity::GithubReleases, &[rel], "ws", "run-1",
//!     chrono::DateTime::UNIX_EPOCH).unwrap();
//! assert_eq!(batch.num_rows(), 1);
//! ```
#![deny(missing_docs)]

mod entity;
mod error;
pub mod events;
pub mod github;
pub mod jira;
pub mod time;

pub use entity::{Entity, to_batch};
pub use error::{Error, Result};
