use std::collections::BTreeMap;

use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;

use crate::error::Result;
use crate::location::Lake;
use crate::parquet_io::encode_parquet;

/// Writes a run's raw files: `raw/<source>/<entity>/ingest_date=D/<run_id>-<n>.parquet`.
///
/// Files are immutable and named by run, so a re-run never overwrites and a crashed run
/// leaves only whole files that staging deduplicates.
#[derive(Debug)]
pub struct RawSink {
    lake: Lake,
    run_id: String,
    ingest_date: NaiveDate,
    next: BTreeMap<String, usize>,
    rows: BTreeMap<String, u64>,
    files: Vec<String>,
}

impl RawSink {
    /// A sink for one run.
    pub fn new(lake: Lake, run_id: &str, ingest_date: NaiveDate) -> Self {
        RawSink {
            lake,
            run_id: run_id.to_string(),
            ingest_date,
            next: BTreeMap::new(),
            rows: BTreeMap::new(),
            files: Vec::new(),
        }
    }

    /// Write one batch of `dir` (e.g. `raw/github/pull_requests`) as a new file.
    /// Empty batches write nothing.
    pub async fn write(&mut self, dir: &str, batch: RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let n = self.next.entry(dir.to_string()).or_insert(0);
        let rel = format!(
            "{dir}/ingest_date={}/{}-{:05}.parquet",
            self.ingest_date.format("%Y-%m-%d"),
            self.run_id,
            n
        );
        *n += 1;
        let bytes = encode_parquet(&rel, batch.schema(), std::slice::from_ref(&batch))?;
        self.lake.put_bytes(&rel, bytes).await?;
        let key = dir.trim_start_matches("raw/").to_string();
        *self.rows.entry(key).or_insert(0) += batch.num_rows() as u64;
        self.files.push(rel);
        Ok(())
    }

    /// Rows written per `source/entity`.
    pub fn rows(&self) -> &BTreeMap<String, u64> {
        &self.rows
    }

    /// Files written, relative to the lake root.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// The run id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The lake.
    pub fn lake(&self) -> &Lake {
        &self.lake
    }
}
