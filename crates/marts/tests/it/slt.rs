//! Golden SQL tests, DataFusion style: every `*.slt` under `sql/` (except the shared fixtures
//! in `sql/tests/`, which test files `include`) runs in a fresh session where every model is
//! a view over empty in-memory raw tables. Set `FLOWLAKE_SLT_COMPLETE=1` to rewrite the
//! expected results instead of checking them, `FLOWLAKE_SLT_FILTER=<part of a path>[,<another>]`
//! to run only some files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use flowlake_marts::{MartsConfig, Models, fixture_session};
use sqllogictest::{DBOutput, DefaultColumnType, Runner};

pub struct FixtureDb {
    ctx: SessionContext,
}

#[async_trait::async_trait]
impl sqllogictest::AsyncDB for FixtureDb {
    type Error = DataFusionError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, DataFusionError> {
        let df = self.ctx.sql(sql).await?;
        let head = sql.trim_start().to_ascii_lowercase();
        let is_query = ["select", "with", "values", "(", "explain", "show"]
            .iter()
            .any(|k| head.starts_with(k));
        let schema = df.schema().as_arrow().clone();
        let batches = df.collect().await?;
        if !is_query {
            let count = batches
                .first()
                .filter(|b| b.num_columns() == 1 && b.num_rows() == 1)
                .and_then(|b| {
                    b.column(0)
                        .as_primitive_opt::<arrow::datatypes::UInt64Type>()
                })
                .map(|a| a.value(0))
                .unwrap_or(0);
            return Ok(DBOutput::StatementComplete(count));
        }
        let types = schema
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Int8
                | DataType::Int16
                | DataType::Int32
                | DataType::Int64
                | DataType::UInt8
                | DataType::UInt16
                | DataType::UInt32
                | DataType::UInt64 => DefaultColumnType::Integer,
                DataType::Float32 | DataType::Float64 | DataType::Decimal128(_, _) => {
                    DefaultColumnType::FloatingPoint
                }
                _ => DefaultColumnType::Text,
            })
            .collect();
        let mut rows = Vec::new();
        for batch in &batches {
            for row in 0..batch.num_rows() {
                let mut cells = Vec::with_capacity(batch.num_columns());
                for column in batch.columns() {
                    cells.push(cell(column.as_ref(), row)?);
                }
                rows.push(cells);
            }
        }
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "datafusion"
    }

    async fn sleep(dur: Duration) {
        tokio::time::sleep(dur).await;
    }
}

/// One value as text: `NULL`, `(empty)` for an empty string, floats rounded to 6 decimals
/// without trailing zeros, everything else as Arrow displays it (timestamps in RFC 3339).
fn cell(array: &dyn Array, row: usize) -> Result<String, DataFusionError> {
    if array.is_null(row) {
        return Ok("NULL".into());
    }
    if let DataType::Float64 = array.data_type() {
        return Ok(float(array.as_primitive::<Float64Type>().value(row)));
    }
    let text = ArrayFormatter::try_new(array, &FormatOptions::default())?
        .value(row)
        .to_string();
    Ok(if text.is_empty() {
        "(empty)".into()
    } else {
        text
    })
}

fn float(v: f64) -> String {
    let text = format!("{v:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

fn sql_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sql")
}

fn slt_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "tests") {
                slt_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "slt") {
            out.push(path);
        }
    }
}

pub async fn session(models: &Models) -> Result<SessionContext, DataFusionError> {
    let config = MartsConfig {
        target_partitions: 4,
        ..MartsConfig::default()
    };
    fixture_session(models, &config)
        .await
        .map_err(|e| DataFusionError::External(Box::new(e)))
}

/// Run (or, with `complete`, rewrite) one `.slt` file in a fresh session.
async fn run_file(file: &std::path::Path, models: Models, complete: bool) -> Result<(), String> {
    let mut runner = Runner::new(move || {
        let models = models.clone();
        async move {
            Ok(FixtureDb {
                ctx: session(&models).await?,
            })
        }
    });
    if complete {
        runner
            .update_test_file(
                file,
                " ",
                sqllogictest::default_validator,
                sqllogictest::default_normalizer,
                sqllogictest::strict_column_validator,
            )
            .await
            .map_err(|e| e.to_string())
    } else {
        runner
            .run_file_async(file)
            .await
            .map_err(|e| e.display(true).to_string())
    }
}

#[test]
fn golden_sql() {
    let dir = sql_dir();
    let models = Models::from_dir(&dir).expect("sql/ models load");
    let mut files = Vec::new();
    slt_files(&dir, &mut files);
    files.sort();
    // `FLOWLAKE_SLT_FILTER=mart_dora` runs (or completes) only the files whose path contains it;
    // `a,b` the files whose path contains either.
    if let Ok(filter) = std::env::var("FLOWLAKE_SLT_FILTER") {
        files.retain(|f| {
            let path = f.to_string_lossy();
            filter.split(',').any(|part| path.contains(part.trim()))
        });
    }
    assert!(!files.is_empty(), "no .slt files under {}", dir.display());
    let complete = std::env::var("FLOWLAKE_SLT_COMPLETE").is_ok_and(|v| v == "1");
    // Planning the chain of model views is CPU-bound: the files are independent (one fresh
    // session each), so they run on every core, each worker with its own runtime.
    let queue = std::sync::Mutex::new(files.clone());
    let failures = std::sync::Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime");
                loop {
                    let Some(file) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    if let Err(e) = rt.block_on(run_file(&file, models.clone(), complete)) {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{}:\n{e}", file.display()));
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {} .slt files failed:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}
