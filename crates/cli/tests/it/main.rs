//! End-to-end tests of the `flowlake` binary: real processes, a real simulator over HTTP,
//! real lakes (a temporary folder, and an S3-compatible server on loopback).
//!
//! - `demo`: the whole pipeline on a local folder; `flowlake sql` over it.
//! - `s3`: the same pipeline against s3s-fs; the marts equal the local run's.
//! - `bad_input`: each bad input gives one clear message, a non-zero exit, and writes nothing.
//! - `events`: the events-file import and the pipeline runner.
//! - `json_shapes`: every command's JSON keys, pinned.
//! - `retention`: `lake compact`, `archive` and `restore` round trips (folder and S3) keep the marts.

mod bad_input;
mod demo;
mod events;
mod json_shapes;
mod reliability;
mod retention;
mod s3;
mod util;
