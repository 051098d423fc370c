//! `flowlake-marts` turns the raw zone into marts.
//!
//! It sits between the lake and the reports: it registers the raw Parquet tables of a
//! [`flowlake_lake::Lake`] in a DataFusion session, runs the `sql/` models (staging →
//! intermediate → marts) in the order their SQL implies, and writes each `fct_`/`dim_`/`mart_`
//! model back to `<lake>/marts/<model>/data.parquet`. A model SQL cannot express is a
//! [`RustModel`] in the same graph: [`forecasts`] (`mart_forecasts`) reads the SQL models it
//! declares and runs the Monte Carlo forecast of `flowlake-forecast`; [`throughput`] is the
//! one typed reader of `mart_throughput_daily`.
//! [`compact`] folds the raw versions no model can observe (`flowlake lake compact`).
//!
//! Key types: [`Models`] (the `sql/` folder and the Rust models, sorted topologically), [`Marts`] (a
//! lake plus a [`MartsConfig`], and a [`FlowConfig`] for the Jira flow marts via
//! [`Marts::with_flow`]: [`Marts::build`] and [`Marts::query_session`]) and
//! [`fixture_session`] (every model as a view over empty in-memory raw tables, for golden
//! tests).
//!
//! ```no_run
//! # async fn demo() -> flowlake_marts::Result<()> {
//! use flowlake_marts::{Marts, MartsConfig};
//! let lake = flowlake_lake::Lake::open("./lake")?;
//! let marts = Marts::new(lake, MartsConfig::default())?;
//! let report = marts.build(|model, done, total| eprintln!("[{done}/{total}] {model}")).await?;
//! println!("{} rows in mart_dora", report.model("mart_dora").unwrap().rows);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod compact;
mod config;
mod error;
pub mod forecasts;
mod models;
pub mod publish;
pub mod quantile;
pub mod raw;
mod session;
pub mod throughput;

pub use config::{
    CONFIG_TABLE, FLOW_CONFIG_TABLE, FlowConfig, IDENTITY_ALIASES_TABLE, MartsConfig,
    STATUS_OVERRIDES_TABLE, TEAMS_TABLE,
};
pub use error::{Error, Result};
pub use models::{
    Layer, Model, ModelKind, Models, QUERIES_DIR, RustModel, RustModelFuture, query,
    referenced_tables, rust_models,
};
pub use session::{
    BuildReport, Marts, ModelReport, fixture_session, mart_path, new_session, register_empty_raw,
    register_raw, register_view, session_for_query,
};
