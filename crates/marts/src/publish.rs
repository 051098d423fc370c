//! An atomic set of marts: each build writes beside the previous one and is published by
//! one small pointer object.
//!
//! ```text
//! <lake>/marts/_builds/<build_id>/<model>/data.parquet   one complete build per folder
//! <lake>/marts/_current.json                             the pointer: build id, every mart's object and rows
//! <lake>/marts/<model>/data.parquet                      plain path: a copy of the published mart
//! ```
//!
//! A build writes only under its own `_builds/<build_id>/`, so a build that fails or is
//! killed leaves the published set untouched. Publishing is one PUT of `_current.json`
//! (whole-object, so readers see the old pointer or the new one); [`Marts::query_session`]
//! and everything built on it (`flowlake sql`, forecasts, reports) read the marts the pointer
//! names, so they see one complete build, never a mix. After the pointer, each mart is copied
//! to its plain path for DuckDB, Polars and Spark readers: each of those objects is always one
//! complete version of its mart (copies are whole-object too). Builds beyond the newest
//! `keep` (and any folder a killed build left) are then deleted.
//!
//! [`Marts::query_session`]: crate::Marts::query_session

use chrono::{DateTime, Utc};
use flowlake_lake::Lake;
use object_store::ObjectStoreExt;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::session::BuildReport;

/// The pointer to the published build, relative to the lake root.
pub const CURRENT_BUILD: &str = "marts/_current.json";
/// Where builds are written, relative to the lake root.
pub const BUILDS_DIR: &str = "marts/_builds";

/// One mart of a published build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedMart {
    /// The model name (`mart_dora`).
    pub name: String,
    /// The build's object, relative to the lake root.
    pub path: String,
    /// Its plain path (`marts/mart_dora/data.parquet`), a copy for Parquet readers.
    pub plain_path: String,
    /// Rows.
    pub rows: u64,
}

/// The content of `marts/_current.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildPointer {
    /// The build (the id of the run that built it).
    pub build_id: String,
    /// When it was published.
    pub published_at: DateTime<Utc>,
    /// Every mart of the build.
    pub marts: Vec<PublishedMart>,
}

impl BuildPointer {
    /// The mart called `name`.
    pub fn mart(&self, name: &str) -> Option<&PublishedMart> {
        self.marts.iter().find(|m| m.name == name)
    }
}

/// The lake-relative path a build writes `model` to.
pub fn build_path(build_id: &str, model: &str) -> String {
    format!("{BUILDS_DIR}/{build_id}/{model}/data.parquet")
}

/// The published build of `lake`, if any.
pub async fn current(lake: &Lake) -> Result<Option<BuildPointer>> {
    lake.get_json(CURRENT_BUILD)
        .await
        .map_err(|source| Error::Publish {
            step: "reading the build pointer",
            source,
        })
}

/// Publish a finished build: the pointer, then the plain-path copies, then garbage
/// collection of builds beyond the newest `keep` (at least 1; the published one is kept).
pub async fn publish(lake: &Lake, report: &BuildReport, keep: usize) -> Result<BuildPointer> {
    let pointer = BuildPointer {
        build_id: report.build_id.clone(),
        published_at: Utc::now(),
        marts: report
            .models
            .iter()
            .filter_map(|m| {
                m.path.as_ref().map(|p| PublishedMart {
                    name: m.name.clone(),
                    path: p.clone(),
                    plain_path: crate::session::mart_path(&m.name),
                    rows: m.rows as u64,
                })
            })
            .collect(),
    };
    // The build's own record first: it marks the folder complete (garbage collection keeps
    // only complete builds), then the pointer publishes it.
    lake.put_json(
        &format!("{BUILDS_DIR}/{}/_build.json", pointer.build_id),
        &pointer,
    )
    .await
    .map_err(|source| Error::Publish {
        step: "writing the build record",
        source,
    })?;
    lake.put_json(CURRENT_BUILD, &pointer)
        .await
        .map_err(|source| Error::Publish {
            step: "writing the build pointer",
            source,
        })?;
    let store = lake.store();
    for m in &pointer.marts {
        // copy is whole-object on every store (S3 CopyObject, a rename into place locally).
        store
            .copy(&lake.path(&m.path), &lake.path(&m.plain_path))
            .await
            .map_err(|e| Error::Publish {
                step: "copying a mart to its plain path",
                source: flowlake_lake::Error::Store {
                    op: "copying",
                    path: m.plain_path.clone(),
                    url: lake.url().to_string(),
                    source: e,
                },
            })?;
    }
    collect_garbage(lake, &pointer.build_id, keep).await?;
    Ok(pointer)
}

/// Delete every build folder but the newest `keep` complete ones (build ids sort by time) and
/// `current`; a folder without `_build.json` is a build that never finished.
pub async fn collect_garbage(lake: &Lake, current: &str, keep: usize) -> Result<Vec<String>> {
    let objects = lake
        .list(BUILDS_DIR)
        .await
        .map_err(|source| Error::Publish {
            step: "listing old builds",
            source,
        })?;
    let mut ids: Vec<String> = objects
        .iter()
        .filter_map(|o| {
            lake.relative(&o.location)
                .strip_prefix(&format!("{BUILDS_DIR}/"))
                .and_then(|r| r.split('/').next())
                .map(str::to_string)
        })
        .collect();
    ids.sort();
    ids.dedup();
    let complete = |id: &String| {
        objects
            .iter()
            .any(|o| lake.relative(&o.location) == format!("{BUILDS_DIR}/{id}/_build.json"))
    };
    let mut kept: Vec<&String> = ids
        .iter()
        .rev()
        .filter(|i| complete(i))
        .take(keep.max(1))
        .collect();
    if let Some(c) = ids.iter().find(|i| *i == current) {
        kept.push(c);
    }
    let doomed: Vec<String> = ids.iter().filter(|i| !kept.contains(i)).cloned().collect();
    let store = lake.store();
    for o in &objects {
        let rel = lake.relative(&o.location);
        if doomed
            .iter()
            .any(|d| rel.starts_with(&format!("{BUILDS_DIR}/{d}/")))
        {
            match store.delete(&o.location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => {
                    // Garbage left behind costs space, not correctness: say so and go on.
                    tracing::warn!(path = %rel, error = %e, "could not delete an old build");
                }
            }
        }
    }
    Ok(doomed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::ModelReport;

    fn report(build_id: &str, rows: usize) -> BuildReport {
        BuildReport {
            build_id: build_id.into(),
            models: vec![ModelReport {
                name: "mart_x".into(),
                layer: crate::Layer::Mart,
                rows,
                duration: std::time::Duration::ZERO,
                path: Some(build_path(build_id, "mart_x")),
            }],
            duration: std::time::Duration::ZERO,
        }
    }

    async fn write_build(lake: &Lake, id: &str, rows: usize) {
        lake.put_bytes(
            &build_path(id, "mart_x"),
            format!("rows={rows}").into_bytes(),
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn publishing_moves_the_pointer_and_the_plain_copy_together() {
        let lake = Lake::open("memory://").unwrap();
        assert!(current(&lake).await.unwrap().is_none());
        write_build(&lake, "b1", 1).await;
        publish(&lake, &report("b1", 1), 3).await.unwrap();
        // A second build written but never published (killed, or failed) changes nothing.
        write_build(&lake, "b2", 2).await;
        let p = current(&lake).await.unwrap().unwrap();
        assert_eq!(
            (p.build_id.as_str(), p.mart("mart_x").unwrap().rows),
            ("b1", 1)
        );
        let plain = lake
            .get_bytes("marts/mart_x/data.parquet")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&plain[..], b"rows=1");
        write_build(&lake, "b3", 3).await;
        publish(&lake, &report("b3", 3), 3).await.unwrap();
        let plain = lake
            .get_bytes("marts/mart_x/data.parquet")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&plain[..], b"rows=3");
        // b2 never finished: collected at once; b1 and b3 are complete and kept.
        let left: Vec<String> = lake
            .list(BUILDS_DIR)
            .await
            .unwrap()
            .iter()
            .map(|o| lake.relative(&o.location))
            .collect();
        assert!(left.iter().all(|p| !p.contains("/b2/")), "{left:?}");
        assert!(left.iter().any(|p| p.contains("/b1/")), "{left:?}");
    }

    #[tokio::test]
    async fn only_the_newest_complete_builds_are_kept() {
        let lake = Lake::open("memory://").unwrap();
        for (i, id) in ["b1", "b2", "b3", "b4"].iter().enumerate() {
            write_build(&lake, id, i).await;
            publish(&lake, &report(id, i), 2).await.unwrap();
        }
        let mut ids: Vec<String> = lake
            .list(BUILDS_DIR)
            .await
            .unwrap()
            .iter()
            .filter_map(|o| {
                lake.relative(&o.location)
                    .split('/')
                    .nth(2)
                    .map(str::to_string)
            })
            .collect();
        ids.dedup();
        assert_eq!(ids, ["b3", "b4"]);
    }
}
