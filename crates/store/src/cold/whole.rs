//! Whole-file reads: verifying a written file and listing every row.
//!
//! Both need every byte, so each is one GET rather than many ranged reads, and decoding runs
//! on a blocking thread because a large file is seconds of CPU.

use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::errors::ParquetError;

use super::format::{self, Keys};
use super::{object_path, parquet_err, ColdFile, ColdRow};
use crate::StoreError;

const BATCH_ROWS: usize = 8192;

pub(crate) async fn verify(
    store: &Arc<dyn ObjectStore>,
    file: &ColdFile,
) -> Result<(), StoreError> {
    let bad = |reason: String| StoreError::ColdVerify {
        path: file.path.clone(),
        reason,
    };
    let location = object_path(&file.path)?;
    let data = match fetch(store, &location, &file.path).await {
        Err(StoreError::ObjectStore {
            source: object_store::Error::NotFound { .. },
            ..
        }) => return Err(bad("the object does not exist".into())),
        other => other?,
    };
    let size = data.len() as u64;
    let found = tokio::task::spawn_blocking(move || summarize(data))
        .await
        .map_err(|e| parquet_err(&file.path, format::join_error(e)))?
        .map_err(|e| bad(format!("not a readable cold Parquet file: {e}")))?;

    if found.rows != file.rows {
        return Err(bad(format!(
            "holds {} rows, expected {}",
            found.rows, file.rows
        )));
    }
    if found.checksum != file.checksum {
        return Err(bad(format!(
            "id checksum is {}, expected {}",
            found.checksum, file.checksum
        )));
    }
    if (found.min_ts_ms, found.max_ts_ms) != (file.min_ts_ms, file.max_ts_ms) {
        return Err(bad(format!(
            "time range is {}..={} ms, expected {}..={} ms",
            found.min_ts_ms, found.max_ts_ms, file.min_ts_ms, file.max_ts_ms
        )));
    }
    if file.bytes != 0 && size != file.bytes {
        return Err(bad(format!("is {size} bytes, expected {}", file.bytes)));
    }
    Ok(())
}

pub(crate) async fn rows(
    store: &Arc<dyn ObjectStore>,
    path: &str,
) -> Result<Vec<ColdRow>, StoreError> {
    let location = object_path(path)?;
    let data = fetch(store, &location, path).await?;
    tokio::task::spawn_blocking(move || decode(data))
        .await
        .map_err(|e| parquet_err(path, format::join_error(e)))?
        .map_err(|e| parquet_err(path, e))
}

async fn fetch(
    store: &Arc<dyn ObjectStore>,
    location: &Path,
    path: &str,
) -> Result<Bytes, StoreError> {
    let context = || format!("read cold file {path}");
    let got = store
        .get(location)
        .await
        .map_err(|source| StoreError::ObjectStore {
            context: context(),
            source,
        })?;
    got.bytes().await.map_err(|source| StoreError::ObjectStore {
        context: context(),
        source,
    })
}

/// What a file actually holds, in the terms of its [`ColdFile`].
struct Summary {
    rows: u64,
    checksum: String,
    min_ts_ms: i64,
    max_ts_ms: i64,
}

/// Decodes every column of every row (so a damaged body page fails here, not in a later query)
/// and summarises the ids and times.
fn summarize(data: Bytes) -> Result<Summary, ParquetError> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(data)?;
    format::check_schema(builder.parquet_schema())?;
    let declared = builder.metadata().file_metadata().num_rows();
    let mut ids = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
    let (mut min_ts_ms, mut max_ts_ms) = (i64::MAX, i64::MIN);
    for batch in builder.with_batch_size(BATCH_ROWS).build()? {
        let batch = batch?;
        let keys = Keys::of(&batch)?;
        for i in 0..batch.num_rows() {
            ids.push(keys.id(i)?);
            let ts = keys.ts.value(i);
            min_ts_ms = min_ts_ms.min(ts);
            max_ts_ms = max_ts_ms.max(ts);
        }
    }
    if i64::try_from(ids.len()).ok() != Some(declared) {
        return Err(ParquetError::General(format!(
            "footer declares {declared} rows but {} decode",
            ids.len()
        )));
    }
    Ok(Summary {
        rows: ids.len() as u64,
        checksum: format::id_checksum(ids.into_iter()),
        min_ts_ms,
        max_ts_ms,
    })
}

fn decode(data: Bytes) -> Result<Vec<ColdRow>, ParquetError> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(data)?;
    format::check_schema(builder.parquet_schema())?;
    let mut rows = Vec::new();
    for batch in builder.with_batch_size(BATCH_ROWS).build()? {
        format::push_rows(&batch?, &mut rows)?;
    }
    Ok(rows)
}
