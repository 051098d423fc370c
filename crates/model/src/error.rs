use thiserror::Error;

/// Errors of the model layer.
#[derive(Debug, Error)]
pub enum Error {
    /// A payload lacks a field we need, or holds it in the wrong shape.
    #[error("{entity}: field `{field}` is missing or malformed in the payload")]
    Field {
        /// The entity being parsed.
        entity: &'static str,
        /// The JSON field.
        field: String,
    },
    /// A timestamp that no known format parses.
    #[error("{entity}: cannot parse timestamp `{value}` in field `{field}`")]
    Timestamp {
        /// The entity being parsed.
        entity: &'static str,
        /// The JSON field.
        field: String,
        /// The text that failed to parse.
        value: String,
    },
    /// Records could not be converted to Arrow.
    #[error("converting {entity} records to Arrow")]
    Arrow {
        /// The entity being converted.
        entity: &'static str,
        /// The underlying error.
        #[source]
        source: arrow::error::ArrowError,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
