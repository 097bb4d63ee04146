//! Answering an [`EventQuery`] from cold files with ranged reads.
//!
//! A page is the `page_size` smallest matching (ts_ms, id) keys. Two passes keep the large
//! `body` column out of everything but the answer:
//! 1. Keys: files, then the row groups in each, are visited by ascending earliest time, reading
//!    only the five small columns through the row filter. Once the page is full, anything whose
//!    earliest time is after the page's last row cannot displace a row, so the walk stops there.
//!    Files whose manifest time range misses the query are never opened.
//! 2. Bodies: the page's rows are read again by row number, so only the body pages holding
//!    them are fetched and decoded.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, FieldRef};
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::ObjectStore;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, RowFilter, RowSelection,
};
use parquet::arrow::async_reader::ParquetRecordBatchStreamBuilder;
use parquet::arrow::{ProjectionMask, RowNumber};
use parquet::errors::ParquetError;
use parquet::file::metadata::PageIndexPolicy;
use uuid::Uuid;

use super::format::{self, Keys, BODY, CAMERA, ID, KIND, PLATE, TS};
use super::prune::{self, TimeBounds};
use super::reader::ObjectReader;
use super::{filter, object_path, ColdFile, ColdRow};
use crate::{EventQuery, StoreError};

const BATCH_ROWS: usize = 8192;
const BODY_READS_IN_FLIGHT: usize = 4;

pub(crate) async fn query(
    store: &Arc<dyn ObjectStore>,
    files: &[ColdFile],
    q: &EventQuery,
) -> Result<Vec<ColdRow>, StoreError> {
    let time = TimeBounds::of(q);
    let mut files: Vec<&ColdFile> = files
        .iter()
        .filter(|f| f.rows > 0 && time.overlaps(f.min_ts_ms, f.max_ts_ms))
        .collect();
    files.sort_by(|a, b| (a.min_ts_ms, &a.path).cmp(&(b.min_ts_ms, &b.path)));

    let mut page = Page::new(q.page_size() as usize);
    let mut opened = Vec::new();
    for file in files {
        if page.closed_before(file.min_ts_ms) {
            break;
        }
        let source = Source::open(store, file)
            .await
            .map_err(|e| e.store_error(&file.path))?;
        let index = opened.len();
        source
            .collect_keys(index, q, time, &mut page)
            .await
            .map_err(|e| parquet_error(&file.path, e))?;
        opened.push(source);
    }
    attach_bodies(&opened, page.hits).await
}

/// One matching row without its body, and where its body is.
struct Hit {
    ts_ms: i64,
    id: Uuid,
    kind: String,
    camera_id: String,
    plate_text: Option<String>,
    source: usize,
    row_group: usize,
    /// Row number in the file.
    row: i64,
}

/// Name of the virtual column carrying each row's number in its file.
const ROW_NUMBER: &str = "row_number";

fn row_number_field() -> Result<FieldRef, ParquetError> {
    let mut field = Field::new(ROW_NUMBER, DataType::Int64, false);
    field.try_with_extension_type(RowNumber)?;
    Ok(Arc::new(field))
}

fn row_numbers(batch: &RecordBatch) -> Result<&Int64Array, ParquetError> {
    let column = batch
        .column_by_name(ROW_NUMBER)
        .ok_or_else(|| ParquetError::General("reader returned no row numbers".into()))?;
    Ok(format::int64s(column)?)
}

/// An opened cold file: its footer and page index, read once for both passes.
struct Source {
    path: String,
    location: Path,
    store: Arc<dyn ObjectStore>,
    reader: ObjectReader,
    meta: ArrowReaderMetadata,
}

enum OpenError {
    Path(StoreError),
    Parquet(ParquetError),
}

impl OpenError {
    fn store_error(self, path: &str) -> StoreError {
        match self {
            OpenError::Path(e) => e,
            OpenError::Parquet(e) => parquet_error(path, e),
        }
    }
}

fn parquet_error(path: &str, source: ParquetError) -> StoreError {
    StoreError::Parquet {
        path: path.to_string(),
        source,
    }
}

impl Source {
    async fn open(store: &Arc<dyn ObjectStore>, file: &ColdFile) -> Result<Self, OpenError> {
        let location = object_path(&file.path).map_err(OpenError::Path)?;
        let mut reader = ObjectReader::new(Arc::clone(store), location.clone(), file.bytes);
        // The offset index is what lets the reader fetch only the pages of selected rows.
        let options = ArrowReaderOptions::new()
            .with_page_index_policy(PageIndexPolicy::Optional)
            .with_virtual_columns(vec![row_number_field().map_err(OpenError::Parquet)?])
            .map_err(OpenError::Parquet)?;
        let meta = ArrowReaderMetadata::load_async(&mut reader, options)
            .await
            .map_err(OpenError::Parquet)?;
        format::check_schema(meta.parquet_schema()).map_err(OpenError::Parquet)?;
        Ok(Self {
            path: file.path.clone(),
            location,
            store: Arc::clone(store),
            reader,
            meta,
        })
    }

    /// Pass 1 over this file: adds its matching keys to `page`.
    async fn collect_keys(
        &self,
        index: usize,
        q: &EventQuery,
        time: TimeBounds,
        page: &mut Page,
    ) -> Result<(), ParquetError> {
        let meta = self.meta.metadata();
        let mut candidates = prune::by_statistics(meta, q, &time);
        if let Some(plate) = &q.plate {
            candidates =
                prune::by_bloom(&self.store, &self.location, meta, candidates, PLATE, plate)
                    .await?;
        }
        if let Some(camera) = &q.camera_id {
            candidates = prune::by_bloom(
                &self.store,
                &self.location,
                meta,
                candidates,
                CAMERA,
                camera,
            )
            .await?;
        }
        candidates.sort_by_key(|c| (c.min_ts, c.index));
        tracing::trace!(path = %self.path, row_groups = candidates.len(), "cold query");

        let schema = self.meta.parquet_schema();
        for candidate in candidates {
            if page.closed_before(candidate.min_ts) {
                break;
            }
            let filter = filter::row_filter(schema, q, time, page.size, page.cutoff());
            let keys = ProjectionMask::leaves(schema, [ID, KIND, CAMERA, TS, PLATE]);
            let batches = self.read(candidate.index, keys, filter).await?;
            for batch in &batches {
                let keys = Keys::of(batch)?;
                let rows = row_numbers(batch)?;
                for i in 0..batch.num_rows() {
                    let key = keys.key(i)?;
                    page.hits.push(Hit {
                        ts_ms: key.ts_ms,
                        id: key.id,
                        kind: key.kind.to_string(),
                        camera_id: key.camera_id.to_string(),
                        plate_text: key.plate_text.map(str::to_string),
                        source: index,
                        row_group: candidate.index,
                        row: rows.value(i),
                    });
                }
            }
            page.settle();
        }
        Ok(())
    }

    /// Pass 2 for one row group: the bodies of the given rows (numbered in the file).
    async fn bodies(
        &self,
        row_group: usize,
        mut rows: Vec<i64>,
    ) -> Result<HashMap<i64, String>, ParquetError> {
        let meta = self.meta.metadata();
        let first: i64 = meta.row_groups()[..row_group]
            .iter()
            .map(|rg| rg.num_rows())
            .sum();
        let count = usize::try_from(meta.row_group(row_group).num_rows())?;
        rows.sort_unstable();
        rows.dedup();
        let offsets = rows
            .iter()
            .map(|row| {
                usize::try_from(row - first)
                    .ok()
                    .filter(|offset| *offset < count)
                    .ok_or_else(|| {
                        ParquetError::General(format!("row {row} is not in row group {row_group}"))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let selection =
            RowSelection::from_consecutive_ranges(offsets.iter().map(|o| *o..*o + 1), count);
        let projection = ProjectionMask::leaves(self.meta.parquet_schema(), [BODY]);
        let batches = self
            .stream(row_group, projection)?
            .with_row_selection(selection)
            .build()?
            .try_collect::<Vec<_>>()
            .await?;
        let mut bodies = HashMap::with_capacity(rows.len());
        for batch in &batches {
            let texts = format::strings(batch.column(0))?;
            let numbers = row_numbers(batch)?;
            for i in 0..batch.num_rows() {
                bodies.insert(numbers.value(i), texts.value(i).to_string());
            }
        }
        Ok(bodies)
    }

    fn stream(
        &self,
        row_group: usize,
        projection: ProjectionMask,
    ) -> Result<ParquetRecordBatchStreamBuilder<ObjectReader>, ParquetError> {
        Ok(ParquetRecordBatchStreamBuilder::new_with_metadata(
            self.reader.clone(),
            self.meta.clone(),
        )
        .with_row_groups(vec![row_group])
        .with_projection(projection)
        .with_batch_size(BATCH_ROWS))
    }

    async fn read(
        &self,
        row_group: usize,
        projection: ProjectionMask,
        filter: RowFilter,
    ) -> Result<Vec<RecordBatch>, ParquetError> {
        // The predicate cache would widen every cached column's reads to whole batches; the
        // key columns of the few rows that survive are cheaper to decode twice.
        self.stream(row_group, projection)?
            .with_row_filter(filter)
            .with_max_predicate_cache_size(0)
            .build()?
            .try_collect()
            .await
    }
}

/// Pass 2: fetches the page's bodies, one read per row group it touches, a few at a time so
/// a remote store's latency overlaps.
async fn attach_bodies(sources: &[Source], hits: Vec<Hit>) -> Result<Vec<ColdRow>, StoreError> {
    let mut groups: BTreeMap<(usize, usize), Vec<i64>> = BTreeMap::new();
    for hit in &hits {
        groups
            .entry((hit.source, hit.row_group))
            .or_default()
            .push(hit.row);
    }
    let reads = groups
        .into_iter()
        .map(|((index, row_group), rows)| async move {
            let source = &sources[index];
            match source.bodies(row_group, rows).await {
                Ok(found) => Ok((index, found)),
                Err(e) => Err(parquet_error(&source.path, e)),
            }
        });
    let mut reads = futures::stream::iter(reads).buffer_unordered(BODY_READS_IN_FLIGHT);
    let mut bodies = HashMap::with_capacity(hits.len());
    while let Some((index, found)) = reads.try_next().await? {
        bodies.extend(found.into_iter().map(|(row, body)| ((index, row), body)));
    }
    hits.into_iter()
        .map(|hit| {
            let body = bodies.remove(&(hit.source, hit.row)).ok_or_else(|| {
                parquet_error(
                    &sources[hit.source].path,
                    ParquetError::General(format!("row {} (id {}) not read back", hit.row, hit.id)),
                )
            })?;
            Ok(ColdRow {
                id: hit.id,
                kind: hit.kind,
                camera_id: hit.camera_id,
                ts_ms: hit.ts_ms,
                plate_text: hit.plate_text,
                body,
            })
        })
        .collect()
}

/// The best keys found so far: sorted by (ts_ms, id) and at most `size` of them after
/// [`Page::settle`].
struct Page {
    size: usize,
    hits: Vec<Hit>,
}

impl Page {
    fn new(size: usize) -> Self {
        Self {
            size,
            hits: Vec::new(),
        }
    }

    fn settle(&mut self) {
        self.hits.sort_unstable_by_key(|h| (h.ts_ms, h.id));
        self.hits.truncate(self.size);
    }

    /// The time of the page's last row, once the page is full.
    fn cutoff(&self) -> Option<i64> {
        if self.hits.len() >= self.size {
            self.hits.last().map(|h| h.ts_ms)
        } else {
            None
        }
    }

    /// Whether rows no earlier than `min_ts` can no longer enter the page.
    fn closed_before(&self, min_ts: i64) -> bool {
        self.cutoff().is_some_and(|cutoff| min_ts > cutoff)
    }
}
