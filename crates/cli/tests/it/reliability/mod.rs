//! The reliability suite: an unattended nightly run must lose nothing and half-publish
//! nothing, whatever stops it. Each test drives the real binary against the simulator over
//! HTTP (and s3s-fs for the S3 outage) and compares the published marts with an
//! uninterrupted run's.
//!
//! - `kill`: SIGKILL at 20 seeded random points of a pipeline, then a re-run.
//! - `outage`: the S3 server stopped mid-run, then started again.
//! - `sources`: 10 % injected faults; a token revoked mid-run (exit 3, the rest landed).
//! - `locking`: two concurrent builds; a crashed holder's lease taken over.
//! - `disk`: a full tmpfs under a local lake (exit 5, the published marts intact).
//! - `audit`: manifests, `runs list|show|diff`, notifications, and secrets kept out of every
//!   output.

mod audit;
mod disk;
mod harness;
mod kill;
mod locking;
mod outage;
mod sources;
