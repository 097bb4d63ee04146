//! One cold file opened for a query: its footer and page index are read once and serve both
//! passes (see [`super::query`]).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, FieldRef};
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::ObjectStore;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, RowFilter, RowSelection,
};
use parquet::arrow::async_reader::ParquetRecordBatchStreamBuilder;
use parquet::arrow::{ProjectionMask, RowNumber};
use parquet::errors::ParquetError;
use parquet::file::metadata::PageIndexPolicy;

use super::format::{self, Keys, BODY, CAMERA, ID, KIND, PLATE, TS};
use super::prune::{self, TimeBounds};
use super::query::{Hit, Page};
use super::reader::ObjectReader;
use super::{filter, object_path, parquet_err, ColdFile};
use crate::{EventQuery, StoreError};

const BATCH_ROWS: usize = 8192;

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
pub(super) struct Source {
    pub(super) path: String,
    location: Path,
    store: Arc<dyn ObjectStore>,
    reader: ObjectReader,
    meta: ArrowReaderMetadata,
}

impl Source {
    pub(super) async fn open(
        store: &Arc<dyn ObjectStore>,
        file: &ColdFile,
    ) -> Result<Self, StoreError> {
        let location = object_path(&file.path)?;
        let mut reader = ObjectReader::new(Arc::clone(store), location.clone(), file.bytes);
        let meta = async {
            // The offset index is what lets the reader fetch only the pages of selected rows.
            let options = ArrowReaderOptions::new()
                .with_page_index_policy(PageIndexPolicy::Optional)
                .with_virtual_columns(vec![row_number_field()?])?;
            let meta = ArrowReaderMetadata::load_async(&mut reader, options).await?;
            format::check_schema(meta.parquet_schema())?;
            Ok(meta)
        }
        .await
        .map_err(|e| parquet_err(&file.path, e))?;
        Ok(Self {
            path: file.path.clone(),
            location,
            store: Arc::clone(store),
            reader,
            meta,
        })
    }

    /// Pass 1 over this file: adds its matching keys to `page`.
    pub(super) async fn collect_keys(
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
    pub(super) async fn bodies(
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
