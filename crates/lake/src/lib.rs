//! The lake: a URL that becomes an `object_store`, and the layout flowlake keeps in it.
//!
//! Connectors write raw Parquet through a [`RawSink`], keep their watermarks as [`state`]
//! documents and leave a [`RunManifest`] per run; `flowlake-marts` reads the raw zone and
//! writes marts back with [`Lake::put_parquet`]. The layout is the same on a local folder, S3,
//! MinIO and in memory:
//!
//! ```text
//! <lake>/raw/<source>/<entity>/ingest_date=YYYY-MM-DD/<run_id>-<n>.parquet   append-only
//! <lake>/marts/<model>/data.parquet                                         replaced whole
//! <lake>/state/<source>/<scope>.json                                        watermarks
//! <lake>/runs/<run_id>.json                                                 run manifests
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
mod manifest;
mod parquet_io;
mod sink;

pub use error::{Error, Result};
pub use location::{Lake, LakeOptions};
pub use manifest::{RunManifest, RunOutcome, new_run_id};
pub use parquet_io::{encode_parquet, read_parquet_dir};
pub use sink::RawSink;
