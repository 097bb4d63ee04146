//! Cold tier: events moved out of the hot store live as immutable Parquet objects on an object
//! store. A manifest (kept by the caller) lists each object with its row count, id checksum and
//! time range, so a query can skip whole objects without touching them and a move can prove an
//! object holds exactly the rows it deleted from the hot store.
//!
//! Layout: rows sorted by (camera_id, ts_ms, id), ~64k-row row groups with min/max statistics and
//! page indexes, bloom filters on plate_text and camera_id, zstd; `format.rs` says why.

mod filter;
mod format;
mod prune;
mod query;
mod reader;
mod source;
mod whole;

use std::sync::Arc;

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use uuid::Uuid;

use crate::{EventQuery, StoreError};

/// One stored event as the hot store keeps it: the filter columns plus the full JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct ColdRow {
    pub id: Uuid,
    pub kind: String,
    pub camera_id: String,
    pub ts_ms: i64,
    pub plate_text: Option<String>,
    pub body: String,
}

/// What one written cold file holds; the caller records this in a manifest table.
#[derive(Debug, Clone, PartialEq)]
pub struct ColdFile {
    /// Object path.
    pub path: String,
    pub rows: u64,
    /// Hex SHA-256 over the 16 bytes of every id, ids in ascending byte order. Independent of
    /// the file's row order, so the hot store can compute the same value from its id set.
    pub checksum: String,
    pub min_ts_ms: i64,
    pub max_ts_ms: i64,
    /// Object size; reads use it to fetch the footer without a size lookup. 0 means unknown:
    /// reads then locate the footer with a suffix request instead.
    pub bytes: u64,
}

impl ColdFile {
    /// The manifest entry for a file at `path` holding `rows` (e.g. as read back by
    /// [`ColdEvents::rows`] when resuming an interrupted move) that is `bytes` long.
    pub fn describe(path: &str, rows: &[ColdRow], bytes: u64) -> Self {
        Self {
            path: path.to_string(),
            rows: rows.len() as u64,
            checksum: format::id_checksum(rows.iter().map(|r| r.id)),
            min_ts_ms: rows.iter().map(|r| r.ts_ms).min().unwrap_or_default(),
            max_ts_ms: rows.iter().map(|r| r.ts_ms).max().unwrap_or_default(),
            bytes,
        }
    }
}

/// Reads and writes cold files on one object store.
#[derive(Debug, Clone)]
pub struct ColdEvents {
    store: Arc<dyn ObjectStore>,
}

impl ColdEvents {
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store }
    }

    /// Sorts rows by (camera_id, ts_ms, id), encodes one Parquet object and writes it at `path`
    /// with a single put. Overwriting is allowed: a rerun of a crashed move writes the same path.
    /// Rejects empty input.
    pub async fn write(&self, path: &str, rows: Vec<ColdRow>) -> Result<ColdFile, StoreError> {
        let location = object_path(path)?;
        if rows.is_empty() {
            return Err(StoreError::Parquet {
                path: path.to_string(),
                source: parquet::errors::ParquetError::General(
                    "refusing to write a cold file with no rows".into(),
                ),
            });
        }
        // Sorting and zstd over ~1 KB rows is seconds of CPU for a large move; keep it off the
        // async workers.
        let encoded = tokio::task::spawn_blocking(move || format::encode(rows))
            .await
            .map_err(|e| parquet_err(path, format::join_error(e)))?
            .map_err(|e| parquet_err(path, e))?;
        let bytes = encoded.data.len() as u64;
        self.store
            .put(&location, PutPayload::from(encoded.data))
            .await
            .map_err(|source| StoreError::ObjectStore {
                context: format!("write cold file {path}"),
                source,
            })?;
        tracing::debug!(path, rows = encoded.rows, bytes, "wrote cold file");
        Ok(ColdFile {
            path: path.to_string(),
            rows: encoded.rows,
            checksum: encoded.checksum,
            min_ts_ms: encoded.min_ts_ms,
            max_ts_ms: encoded.max_ts_ms,
            bytes,
        })
    }

    /// Reads the object back and checks it is a readable cold file whose row count, id
    /// checksum, time range and size (unless unknown) equal `file`'s. Fails with
    /// [`StoreError::ColdVerify`] naming what differed; a store that cannot be reached is an
    /// [`StoreError::ObjectStore`] error instead, so a caller retries rather than treating the
    /// file as bad.
    pub async fn verify(&self, file: &ColdFile) -> Result<(), StoreError> {
        whole::verify(&self.store, file).await
    }

    /// Every row with its body, in file order (for deleting evidence of expired events and for
    /// resuming a move).
    pub async fn rows(&self, path: &str) -> Result<Vec<ColdRow>, StoreError> {
        whole::rows(&self.store, path).await
    }

    /// Rows of `files` that match `q` (every filter and the keyset cursor), in (ts_ms, id)
    /// order, at most `q.page_size()`. Files and row groups that cannot hold a match are
    /// skipped from the manifest's time range, then row-group statistics and bloom filters;
    /// the `body` column is fetched and decoded only for matching rows.
    pub async fn query(
        &self,
        files: &[ColdFile],
        q: &EventQuery,
    ) -> Result<Vec<ColdRow>, StoreError> {
        query::query(&self.store, files, q).await
    }

    /// The object's size in bytes.
    pub async fn size(&self, path: &str) -> Result<u64, StoreError> {
        let location = object_path(path)?;
        let meta = self
            .store
            .head(&location)
            .await
            .map_err(|source| StoreError::ObjectStore {
                context: format!("size of cold file {path}"),
                source,
            })?;
        Ok(meta.size)
    }

    /// Deleting a missing object is not an error: retention reruns after partial failures.
    pub async fn delete(&self, path: &str) -> Result<(), StoreError> {
        let location = object_path(path)?;
        match self.store.delete(&location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(StoreError::ObjectStore {
                context: format!("delete cold file {path}"),
                source,
            }),
        }
    }
}

/// The object path of a cold file; the store root is not one.
fn object_path(path: &str) -> Result<Path, StoreError> {
    let parsed = Path::parse(path).and_then(|p| {
        if p.as_ref().is_empty() {
            Err(object_store::path::Error::EmptySegment { path: path.into() })
        } else {
            Ok(p)
        }
    });
    parsed.map_err(|source| StoreError::ObjectStore {
        context: format!("cold file path {path:?}"),
        source: object_store::Error::InvalidPath { source },
    })
}

fn parquet_err(path: &str, source: parquet::errors::ParquetError) -> StoreError {
    StoreError::Parquet {
        path: path.to_string(),
        source,
    }
}
