//! The one integration-test binary of `flowlake-marts`.
//!
//! - `slt`: the golden SQL tests, `sql/**/*.slt` beside each model, run over in-memory raw
//!   fixtures with one fresh session per file (`FLOWLAKE_SLT_COMPLETE=1` rewrites them).
//! - `compact`: raw-zone compaction leaves every SQL model's rows unchanged, crash or not.
//! - `build`: `Marts::build` end to end: raw Parquet files in a lake in, mart Parquet out.
//! - `recompute`: `mart_dora` agrees with a recomputation in Rust from the `fct_*` tables.
//! - `contract`: the raw schemas here match the ones the connectors write; the marts have the
//!   columns of their table contracts.
//! - `forecasts`: `mart_forecasts`, a Rust model of the graph, agrees with the pre-move code
//!   kept as an oracle.

mod build;
mod compact;
mod contract;
mod forecasts;
mod recompute;
mod slt;
