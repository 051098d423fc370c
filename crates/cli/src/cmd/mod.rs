//! One file per subcommand.

pub mod bench;
pub mod build;
pub mod demo;
pub mod forecast;
mod forecast_render;
pub mod ingest;
pub mod people;
pub mod run;
pub mod sim;
pub mod sql;
