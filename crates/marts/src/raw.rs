//! The raw zone as SQL sees it: one table per entity of `docs/raw-zone.md`, named
//! `raw_<source>_<entity>` (`raw/github/pull_requests` is `raw_github_pull_requests`).
//!
//! The schemas come from `flowlake_model::Entity`, the same definition the connectors write
//! with. Every column is nullable here, so a file missing a column that a later version added
//! still reads (the column is null), and golden-test fixtures can insert only the columns they
//! care about.

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use flowlake_model::Entity;

/// The Hive partition column of every raw table.
pub const PARTITION_COLUMN: &str = "ingest_date";

/// One raw table: where it lives in the lake and its columns.
#[derive(Clone, Copy, Debug)]
pub struct RawTable {
    /// The SQL name, e.g. `raw_github_pull_requests`.
    pub name: &'static str,
    /// The folder under the lake root, e.g. `raw/github/pull_requests`.
    pub rel: &'static str,
    /// The entity it holds.
    pub entity: Entity,
}

impl RawTable {
    /// The schema of the Parquet files (without the `ingest_date` partition column):
    /// `workspace`, the entity's columns, `_run_id`, `_ingested_at`, all nullable.
    pub fn file_schema(&self) -> SchemaRef {
        let fields: Vec<Field> = self
            .entity
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect();
        Arc::new(Schema::new(fields))
    }

    /// The schema SQL sees: the file schema plus `ingest_date` (Utf8).
    pub fn table_schema(&self) -> SchemaRef {
        let file = self.file_schema();
        let mut fields: Vec<Field> = file.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(Field::new(PARTITION_COLUMN, DataType::Utf8, true));
        Arc::new(Schema::new(fields))
    }
}

/// Every raw table, in the order of `docs/raw-zone.md`.
pub static RAW_TABLES: LazyLock<Vec<RawTable>> = LazyLock::new(|| {
    Entity::ALL
        .iter()
        .map(|&entity| RawTable {
            // Leaked once per process: the table names live as long as the program.
            name: Box::leak(entity.table_name().into_boxed_str()),
            rel: Box::leak(entity.dir().into_boxed_str()),
            entity,
        })
        .collect()
});

/// The raw table called `name`, if any.
pub fn raw_table(name: &str) -> Option<&'static RawTable> {
    RAW_TABLES.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_folder() {
        for t in RAW_TABLES.iter() {
            assert_eq!(
                t.name,
                format!("raw_{}", t.rel["raw/".len()..].replace('/', "_"))
            );
            assert_eq!(
                t.table_schema().fields().len(),
                t.file_schema().fields().len() + 1
            );
        }
    }
}
