//! The one error type of `flowlake-marts`.

use std::path::PathBuf;

use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::parser::ParserError;

/// Everything that can go wrong while discovering, planning or building models.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the models folder failed.
    #[error("reading SQL models from {path}")]
    ReadSql {
        /// The file or folder.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// A model's SQL does not parse.
    #[error("parsing model {model}")]
    Sql {
        /// The model name.
        model: String,
        /// The parser's error.
        source: ParserError,
    },
    /// A model file is not exactly one query.
    #[error("model {model} must be exactly one select query")]
    NotAQuery {
        /// The model name.
        model: String,
    },
    /// Two files define the same model name.
    #[error("model {model} is defined twice: {first} and {second}")]
    DuplicateModel {
        /// The model name.
        model: String,
        /// One file.
        first: String,
        /// The other file.
        second: String,
    },
    /// A model reads a table that is neither a raw table, a config table nor another model.
    #[error("model {model} reads unknown table {table}")]
    UnknownTable {
        /// The model name.
        model: String,
        /// The table it reads.
        table: String,
    },
    /// The models' references form a cycle.
    #[error("models depend on each other in a cycle: {}", models.join(" -> "))]
    Cycle {
        /// The models on the cycle (the first repeated at the end).
        models: Vec<String>,
    },
    /// Planning or running a model failed.
    #[error("building {model}")]
    Model {
        /// The model name.
        model: String,
        /// DataFusion's error.
        source: DataFusionError,
    },
    /// Writing a mart to the lake failed.
    #[error("writing {model} to {path}")]
    Materialize {
        /// The model name.
        model: String,
        /// The lake-relative path.
        path: String,
        /// The lake's error.
        source: flowlake_lake::Error,
    },
    /// Publishing a build (its pointer, plain copies, old builds) failed.
    #[error("publishing the marts: {step}")]
    Publish {
        /// What was being done.
        step: &'static str,
        /// The lake's error.
        source: flowlake_lake::Error,
    },
    /// Working out which raw rows a compaction keeps failed.
    #[error("compacting {table}")]
    Compact {
        /// The raw table.
        table: String,
        /// DataFusion's (or Arrow's) error.
        source: DataFusionError,
    },
    /// Registering a table (raw, config or mart) in the session failed.
    #[error("registering table {table}")]
    Register {
        /// The table name.
        table: String,
        /// DataFusion's error.
        source: DataFusionError,
    },
    /// A Rust model failed.
    #[error("building {model}")]
    RustModel {
        /// The model name.
        model: String,
        /// What went wrong inside it.
        source: Box<Error>,
    },
    /// Reading a table into typed values (a Rust model's input, a typed reader) failed.
    #[error("reading {table}")]
    Read {
        /// The table.
        table: String,
        /// DataFusion's error.
        source: DataFusionError,
    },
    /// A column a typed reader needs holds a null.
    #[error("{table}: a row has no {column}")]
    NullValue {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A column holds a value a typed reader does not know.
    #[error("{table}: unexpected {column} {value:?}")]
    UnexpectedValue {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The value.
        value: String,
    },
    /// A project's days do not form a history the forecast accepts.
    #[error("{table}: the days of project {project} ({workspace})")]
    History {
        /// The table.
        table: String,
        /// The project's workspace.
        workspace: String,
        /// The project.
        project: String,
        /// The forecast's error.
        source: flowlake_forecast::Error,
    },
    /// A project key asked for alone is in more than one workspace.
    #[error("project {project} is in several workspaces: {}", workspaces.join(", "))]
    AmbiguousProject {
        /// The project.
        project: String,
        /// The workspaces that have it.
        workspaces: Vec<String>,
    },
    /// A Rust model's rows do not fit its schema.
    #[error("arranging the rows of {model}")]
    Batch {
        /// The model name.
        model: String,
        /// Arrow's error.
        source: arrow::error::ArrowError,
    },
    /// The lake failed.
    #[error(transparent)]
    Lake(#[from] flowlake_lake::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
