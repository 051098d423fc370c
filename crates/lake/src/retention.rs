//! Retention: the raw zone's `ingest_date=` partitions, moved between a lake and its cold
//! store, and the journal each retention step leaves.
//!
//! A raw file is immutable and named by the run that wrote it, so an object at the same
//! path in two lakes is the same file: a move copies it, checks the copy's size, and only
//! then deletes the original. A move that crashed half-way is finished by running it again
//! (copies already made are recognised by their size and not redone), and in between every
//! file exists at least once.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use object_store::ObjectStoreExt;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::location::Lake;

/// The folder of the raw zone.
pub const RAW_DIR: &str = "raw";

/// The folder of retention journals: `retention/<run_id>.json`.
pub const JOURNAL_DIR: &str = "retention";

/// One raw object: its path relative to the lake root and its size in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawFile {
    /// `raw/<source>/<entity>/ingest_date=D/<run_id>-<n>.parquet`.
    pub path: String,
    /// Bytes.
    pub size: u64,
}

/// One `ingest_date=` partition of one raw table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawPartition {
    /// The table's folder, e.g. `raw/github/pull_requests`.
    pub table: String,
    /// The partition's date.
    pub ingest_date: NaiveDate,
    /// Its objects, sorted by path.
    pub files: Vec<RawFile>,
}

impl RawPartition {
    /// The partition's folder: `<table>/ingest_date=YYYY-MM-DD`.
    pub fn dir(&self) -> String {
        format!("{}/ingest_date={}", self.table, self.ingest_date)
    }

    /// Bytes in the partition.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// Splits `raw/<source>/<entity>/ingest_date=YYYY-MM-DD/<file>` into the table folder and
/// the date; `None` for anything else (a stray object is never moved).
pub fn parse_raw_path(rel: &str) -> Option<(String, NaiveDate)> {
    let parts: Vec<&str> = rel.split('/').collect();
    let [raw, source, entity, partition, file] = parts.as_slice() else {
        return None;
    };
    if *raw != RAW_DIR || source.is_empty() || entity.is_empty() || file.is_empty() {
        return None;
    }
    let date = partition.strip_prefix("ingest_date=")?;
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    Some((format!("{raw}/{source}/{entity}"), date))
}

/// Every `ingest_date=` partition of the raw zone of `lake`, sorted by table then date.
pub async fn raw_partitions(lake: &Lake) -> Result<Vec<RawPartition>> {
    let mut by_partition: BTreeMap<(String, NaiveDate), Vec<RawFile>> = BTreeMap::new();
    for meta in lake.list(RAW_DIR).await? {
        let path = lake.relative(&meta.location);
        if let Some(key) = parse_raw_path(&path) {
            by_partition.entry(key).or_default().push(RawFile {
                path,
                size: meta.size,
            });
        }
    }
    Ok(by_partition
        .into_iter()
        .map(|((table, ingest_date), mut files)| {
            files.sort_by(|a, b| a.path.cmp(&b.path));
            RawPartition {
                table,
                ingest_date,
                files,
            }
        })
        .collect())
}

/// The last day a partition must be older than to be archived: `today - days`. A partition
/// dated before this day is past the policy (`--older-than 400d` on 2026-12-01 archives
/// partitions up to 2025-10-26 inclusive).
pub fn archive_cutoff(today: NaiveDate, days: u32) -> NaiveDate {
    today - chrono::Days::new(u64::from(days))
}

/// What one [`transfer`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// Objects copied to the target (relative paths, the same in both lakes).
    pub copied: Vec<String>,
    /// Objects the target already held with the same size (a re-run after a crash).
    pub already_there: Vec<String>,
    /// Objects deleted from the source after their copy was verified.
    pub removed: Vec<String>,
    /// Bytes copied.
    pub bytes: u64,
}

/// Copies `files` from `from` to `to` under the same relative paths, verifies each copy's
/// size, and when `remove_source` deletes the original once its copy is verified.
/// `progress(path)` is called after each file. Idempotent: a file the target already holds
/// with the same size is not copied again; one it holds with another size is an error
/// ([`Error::Mismatch`]) and nothing of it is deleted.
pub async fn transfer(
    from: &Lake,
    to: &Lake,
    files: &[RawFile],
    remove_source: bool,
    mut progress: impl FnMut(&str),
) -> Result<Transfer> {
    let mut out = Transfer::default();
    for file in files {
        match to.size_of(&file.path).await? {
            Some(size) if size == file.size => out.already_there.push(file.path.clone()),
            Some(found) => {
                return Err(Error::Mismatch {
                    path: file.path.clone(),
                    url: to.url().to_string(),
                    expected: file.size,
                    found,
                });
            }
            None => {
                let Some(bytes) = from.get_bytes(&file.path).await? else {
                    // Gone since it was listed: a concurrent run moved it. Nothing to copy,
                    // and nothing to delete.
                    progress(&file.path);
                    continue;
                };
                let len = bytes.len() as u64;
                to.put_bytes(&file.path, bytes.to_vec()).await?;
                let found = to.size_of(&file.path).await?.unwrap_or(0);
                if found != len || len != file.size {
                    return Err(Error::Mismatch {
                        path: file.path.clone(),
                        url: to.url().to_string(),
                        expected: file.size,
                        found,
                    });
                }
                out.bytes += len;
                out.copied.push(file.path.clone());
            }
        }
        if remove_source {
            from.delete(&file.path).await?;
            out.removed.push(file.path.clone());
        }
        progress(&file.path);
    }
    Ok(out)
}

/// How far a retention step got; the journal is written with `Planned` before anything is
/// deleted and rewritten with `Done` at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalState {
    /// The new objects are written; the deletions listed may or may not have happened.
    Planned,
    /// Every listed deletion happened.
    Done,
}

/// What a retention step (`lake compact`, `lake archive`, `lake restore`) wrote and deleted,
/// at `retention/<run_id>.json`, beside the run's [`crate::RunManifest`]. It is written
/// before the first deletion, so a crash leaves a record of what was about to go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetentionJournal {
    /// The run id (the same as the run manifest's).
    pub run_id: String,
    /// `lake compact`, `lake archive` or `lake restore`.
    pub command: String,
    /// The other lake of a move (the cold store), when there is one.
    pub other_lake: Option<String>,
    /// Objects written, relative to the root of the lake they were written to.
    pub written: Vec<String>,
    /// Objects deleted (or to delete while `Planned`), relative to the root of their lake.
    pub removed: Vec<String>,
    /// How far it got.
    pub state: JournalState,
    /// When this version of the journal was written.
    pub at: DateTime<Utc>,
}

impl RetentionJournal {
    /// The journal's path in the lake.
    pub fn rel_path(&self) -> String {
        format!("{JOURNAL_DIR}/{}.json", self.run_id)
    }
}

impl Lake {
    /// The size of `rel` in bytes, or `None` when it does not exist.
    pub async fn size_of(&self, rel: &str) -> Result<Option<u64>> {
        let path = self.path(rel);
        match self.store().head(&path).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.classify("reading", &path, e)),
        }
    }

    /// Delete `rel`; deleting what is already gone is not an error (a re-run).
    pub async fn delete(&self, rel: &str) -> Result<()> {
        let path = self.path(rel);
        match self.store().delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.classify("deleting", &path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn raw_paths_parse_and_strays_do_not() {
        assert_eq!(
            parse_raw_path("raw/github/pull_requests/ingest_date=2024-03-13/r1-00000.parquet"),
            Some(("raw/github/pull_requests".into(), day("2024-03-13")))
        );
        for stray in [
            "raw/github/pull_requests/r1.parquet",
            "raw/github/pull_requests/ingest_date=2024-13-01/r1.parquet",
            "raw/github/pull_requests/day=2024-03-13/r1.parquet",
            "marts/x/ingest_date=2024-03-13/data.parquet",
            "raw/github/a/b/ingest_date=2024-03-13/r1.parquet",
        ] {
            assert_eq!(parse_raw_path(stray), None, "{stray}");
        }
        assert_eq!(archive_cutoff(day("2026-12-01"), 400), day("2025-10-27"));
    }

    async fn put(lake: &Lake, rel: &str, bytes: &[u8]) {
        lake.put_bytes(rel, bytes.to_vec()).await.unwrap();
    }

    #[tokio::test]
    async fn a_move_is_verified_idempotent_and_refuses_a_different_object() {
        let hot = Lake::open("memory://").unwrap();
        let cold = Lake::open("memory://").unwrap();
        put(
            &hot,
            "raw/jira/issues/ingest_date=2024-01-01/r1-00000.parquet",
            b"abc",
        )
        .await;
        put(
            &hot,
            "raw/jira/issues/ingest_date=2026-01-01/r2-00000.parquet",
            b"de",
        )
        .await;
        put(&hot, "raw/jira/issues/notes.txt", b"stray").await;
        let parts = raw_partitions(&hot).await.unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].dir(), "raw/jira/issues/ingest_date=2024-01-01");
        assert_eq!(parts[0].bytes(), 3);

        // A crash after the copy, before the delete: the re-run finds the copy and deletes.
        let first = transfer(&hot, &cold, &parts[0].files, false, |_| {})
            .await
            .unwrap();
        assert_eq!(first.copied.len(), 1);
        assert!(first.removed.is_empty());
        let again = transfer(&hot, &cold, &parts[0].files, true, |_| {})
            .await
            .unwrap();
        assert_eq!((again.copied.len(), again.already_there.len()), (0, 1));
        assert_eq!(again.removed, [parts[0].files[0].path.clone()]);
        assert_eq!(raw_partitions(&hot).await.unwrap().len(), 1);
        assert_eq!(raw_partitions(&cold).await.unwrap(), parts[..1]);

        // Another object under the same name in the target: refuse, delete nothing.
        put(&cold, &parts[1].files[0].path, b"other").await;
        let err = transfer(&hot, &cold, &parts[1].files, true, |_| {})
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Mismatch {
                    expected: 2,
                    found: 5,
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            hot.size_of(&parts[1].files[0].path)
                .await
                .unwrap()
                .is_some()
        );
        // Deleting twice is fine.
        hot.delete("raw/none").await.unwrap();
    }
}
