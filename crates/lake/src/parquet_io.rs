use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::error::{Error, Result};
use crate::location::Lake;

/// Encode batches as one Parquet file (zstd) in memory.
pub fn encode_parquet(path: &str, schema: SchemaRef, batches: &[RecordBatch]) -> Result<Vec<u8>> {
    let err = |source| Error::Parquet {
        op: "writing",
        path: path.to_string(),
        source,
    };
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).expect("valid level"),
        ))
        .set_created_by(format!("flowlake {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut buf = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut buf, schema, Some(props)).map_err(err)?;
    for b in batches {
        writer.write(b).map_err(err)?;
    }
    writer.close().map_err(err)?;
    Ok(buf)
}

impl Lake {
    /// Write batches as one whole Parquet object at `rel`, replacing any object there
    /// atomically. Returns the number of rows written.
    pub async fn put_parquet(
        &self,
        rel: &str,
        batches: &[RecordBatch],
        schema: SchemaRef,
    ) -> Result<usize> {
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        let bytes = encode_parquet(rel, schema, batches)?;
        self.put_bytes(rel, bytes).await?;
        Ok(rows)
    }

    /// Read one Parquet object.
    pub async fn read_parquet(&self, rel: &str) -> Result<Vec<RecordBatch>> {
        match self.get_bytes(rel).await? {
            None => Ok(Vec::new()),
            Some(b) => decode(rel, b),
        }
    }
}

fn decode(path: &str, bytes: Bytes) -> Result<Vec<RecordBatch>> {
    let err = |source| Error::Parquet {
        op: "reading",
        path: path.to_string(),
        source,
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .map_err(err)?
        .build()
        .map_err(err)?;
    reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| err(e.into()))
}

/// Read every Parquet object under the folder `rel` (small tables and tests; the marts read
/// through DataFusion).
pub async fn read_parquet_dir(lake: &Lake, rel: &str) -> Result<Vec<RecordBatch>> {
    let mut out = Vec::new();
    for meta in lake.list(rel).await? {
        if !meta.location.as_ref().ends_with(".parquet") {
            continue;
        }
        let rel = lake.relative(&meta.location);
        out.extend(lake.read_parquet(&rel).await?);
    }
    Ok(out)
}
