//! The lake: a URL that becomes an `object_store`, and the layout flowlake keeps in it.
//!
//! Connectors write raw Parquet through a [`RawSink`], keep their watermarks as [`state`]
//! documents and leave a [`RunManifest`] per run; `flowlake-marts` reads the raw zone and
//! writes marts back with [`Lake::put_parquet`]. The layout is the same on a local folder, S3,
//! MinIO and in memory:
//!
//! ```text
//! <lake>/raw/<source>/<entity>/ingest_date=YYYY-MM-DD/<run_id>-<n>.parquet   append-only
//! <lake>/marts/_builds/<build_id>/<model>/data.parquet                      a build (flowlake-marts)
//! <lake>/marts/_current.json                                                the published build
//! <lake>/marts/<model>/data.parquet                                         plain copy, replaced whole
//! <lake>/state/<source>/<scope>.json                                        watermarks
//! <lake>/runs/<run_id>.json                                                 run manifests, written once
//! <lake>/locks/lake.json                                                    the lake lock (see [`LakeLock`])
//! <lake>/retention/<run_id>.json                                            retention journals
//! ```
//!
//! Every object is written with one PUT (local files: a temporary file renamed into place), so a
//! reader never sees half an object, and a watermark is saved only after the data it covers.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let lake = flowlake_lake::Lake::open("memory://").unwrap();
//! lake.put_json("state/github/acme.json", &serde_json::json!({"since": "2026-01-01"})).await.unwrap();
//! let back: serde_json::Value = lake.get_json("state/github/acme.json").await.unwrap().unwrap();
//! assert_eq!(back["since"], "2026-01-01");
//! # });
//! ```
#![deny(missing_docs)]

mod error;
mod location;
mod lock;
mod manifest;
mod parquet_io;
pub mod retention;
mod sink;

pub use error::{Error, Result};
pub use location::{Lake, LakeOptions};
pub use lock::{LOCK_PATH, LakeLock, LockHolder, LockOptions, host_name};
pub use manifest::{RunManifest, RunOutcome, StepRecord, manifest_schema, new_run_id};
pub use parquet_io::{encode_parquet, read_parquet_dir};
pub use retention::{RawFile, RawPartition, RetentionJournal, raw_partitions, transfer};
pub use sink::RawSink;
