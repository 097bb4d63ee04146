//! The one Parquet layout every cold file has, and conversions between it and [`ColdRow`]s.
//!
//! Choices, each for a query path:
//! - Rows sorted by (camera_id, ts_ms, id): a row group then covers a contiguous range of
//!   cameras, each camera's rows in time order, so camera_id statistics (and its bloom filter)
//!   rule row groups in or out for camera queries and a time window is a contiguous run of rows
//!   per camera, which the row filter finds by reading only the small ts_ms column.
//! - ~64k-row row groups: small enough that pruning is selective, large enough that footers and
//!   bloom filters stay a small fraction of the file.
//! - Bloom filters on plate_text (and camera_id): plates are scattered across row groups by the
//!   sort, so min/max statistics cannot prune an exact plate lookup; a bloom filter can. They
//!   are written together before the footer, so checking every row group's is one request.
//! - Offset index on every column and small pages: once the row filter has picked the matching
//!   rows, the reader fetches only the pages holding them, so a page is the unit of cost for
//!   point reads. plate_text has no dictionary for the same reason: one row's plate would
//!   otherwise cost the whole chunk's dictionary page.
//! - No statistics or dictionary on id and body: they are never pruned on and nearly unique.
//! - id as FixedSizeBinary(16): the uuid's bytes, whose order is the canonical string order the
//!   keyset cursor uses.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, FixedSizeBinaryArray, Int64Array, RecordBatch, StringArray};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::metadata::{KeyValue, SortingColumn};
use parquet::file::properties::{BloomFilterPosition, EnabledStatistics, WriterProperties};
use parquet::schema::types::{ColumnPath, SchemaDescriptor};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::ColdRow;
use crate::RowKey;

/// Leaf column positions; [`check_schema`] guards that a file has them in this order.
pub(crate) const ID: usize = 0;
pub(crate) const KIND: usize = 1;
pub(crate) const CAMERA: usize = 2;
pub(crate) const TS: usize = 3;
pub(crate) const PLATE: usize = 4;
pub(crate) const BODY: usize = 5;

const NAMES: [&str; 6] = ["id", "kind", "camera_id", "ts_ms", "plate_text", "body"];

pub(crate) const ROW_GROUP_ROWS: usize = 64 * 1024;
/// Rows per page of the small columns (a few KiB compressed each).
const PAGE_ROWS: usize = 4096;
/// Random 16-byte ids do not compress: 1024-row pages are 16 KiB.
const ID_PAGE_ROWS: usize = 1024;
/// Body pages of ~128 KiB (~150 events) before compression.
const BODY_PAGE_BYTES: usize = 128 * 1024;
const PLATE_BLOOM_FPP: f64 = 0.01;
/// Far more cameras than a row group holds; the writer folds the filter down to what it needs.
const CAMERA_BLOOM_NDV: u64 = 4096;
const ZSTD_LEVEL: i32 = 3;
/// Lets a future reader tell layouts apart.
const FORMAT_KEY: &str = "xueliang.cold.format";
const FORMAT_VERSION: &str = "1";

pub(crate) fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(NAMES[ID], DataType::FixedSizeBinary(16), false),
        Field::new(NAMES[KIND], DataType::Utf8, false),
        Field::new(NAMES[CAMERA], DataType::Utf8, false),
        Field::new(NAMES[TS], DataType::Int64, false),
        Field::new(NAMES[PLATE], DataType::Utf8, true),
        Field::new(NAMES[BODY], DataType::Utf8, false),
    ]))
}

fn properties() -> Result<WriterProperties, ParquetError> {
    let col = |i: usize| ColumnPath::from(NAMES[i]);
    let sort = |i: usize| SortingColumn {
        column_idx: i as i32,
        descending: false,
        nulls_first: false,
    };
    Ok(WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(ZSTD_LEVEL)?))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_data_page_row_count_limit(PAGE_ROWS)
        .set_sorting_columns(Some(vec![sort(CAMERA), sort(TS), sort(ID)]))
        .set_key_value_metadata(Some(vec![KeyValue::new(
            FORMAT_KEY.into(),
            FORMAT_VERSION.to_string(),
        )]))
        .set_column_dictionary_enabled(col(ID), false)
        .set_column_data_page_row_count_limit(col(ID), ID_PAGE_ROWS)
        .set_column_statistics_enabled(col(ID), EnabledStatistics::None)
        .set_column_dictionary_enabled(col(TS), false)
        .set_column_encoding(col(TS), Encoding::DELTA_BINARY_PACKED)
        .set_column_dictionary_enabled(col(PLATE), false)
        .set_column_bloom_filter_enabled(col(PLATE), true)
        .set_column_bloom_filter_fpp(col(PLATE), PLATE_BLOOM_FPP)
        .set_column_bloom_filter_max_ndv(col(PLATE), ROW_GROUP_ROWS as u64)
        .set_bloom_filter_position(BloomFilterPosition::End)
        .set_column_bloom_filter_enabled(col(CAMERA), true)
        .set_column_bloom_filter_fpp(col(CAMERA), PLATE_BLOOM_FPP)
        .set_column_bloom_filter_max_ndv(col(CAMERA), CAMERA_BLOOM_NDV)
        .set_column_dictionary_enabled(col(BODY), false)
        .set_column_statistics_enabled(col(BODY), EnabledStatistics::None)
        .set_column_data_page_size_limit(col(BODY), BODY_PAGE_BYTES)
        .build())
}

/// An encoded cold file and what the manifest records about it.
pub(crate) struct Encoded {
    pub data: Bytes,
    pub rows: u64,
    pub checksum: String,
    pub min_ts_ms: i64,
    pub max_ts_ms: i64,
}

/// Sorts and encodes `rows` (non-empty) into one Parquet file in memory.
pub(crate) fn encode(mut rows: Vec<ColdRow>) -> Result<Encoded, ParquetError> {
    rows.sort_unstable_by(|a, b| {
        (a.camera_id.as_str(), a.ts_ms, a.id).cmp(&(b.camera_id.as_str(), b.ts_ms, b.id))
    });
    let min_ts_ms = rows.iter().map(|r| r.ts_ms).min().unwrap_or_default();
    let max_ts_ms = rows.iter().map(|r| r.ts_ms).max().unwrap_or_default();
    let checksum = id_checksum(rows.iter().map(|r| r.id));

    let schema = schema();
    let mut writer = ArrowWriter::try_new(Vec::new(), Arc::clone(&schema), Some(properties()?))?;
    for chunk in rows.chunks(ROW_GROUP_ROWS) {
        writer.write(&to_batch(&schema, chunk)?)?;
    }
    let data = writer.into_inner()?;
    Ok(Encoded {
        data: Bytes::from(data),
        rows: rows.len() as u64,
        checksum,
        min_ts_ms,
        max_ts_ms,
    })
}

fn to_batch(schema: &SchemaRef, rows: &[ColdRow]) -> Result<RecordBatch, ArrowError> {
    let ids = FixedSizeBinaryArray::try_from_iter(rows.iter().map(|r| r.id.into_bytes()))?;
    let kinds: StringArray = rows.iter().map(|r| Some(r.kind.as_str())).collect();
    let cameras: StringArray = rows.iter().map(|r| Some(r.camera_id.as_str())).collect();
    let ts: Int64Array = rows.iter().map(|r| r.ts_ms).collect();
    let plates: StringArray = rows.iter().map(|r| r.plate_text.as_deref()).collect();
    let bodies: StringArray = rows.iter().map(|r| Some(r.body.as_str())).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(ids),
        Arc::new(kinds),
        Arc::new(cameras),
        Arc::new(ts),
        Arc::new(plates),
        Arc::new(bodies),
    ];
    RecordBatch::try_new(Arc::clone(schema), columns)
}

/// Hex SHA-256 over the ids' bytes in ascending order.
pub(crate) fn id_checksum(ids: impl Iterator<Item = Uuid>) -> String {
    let mut ids: Vec<[u8; 16]> = ids.map(Uuid::into_bytes).collect();
    ids.sort_unstable();
    let mut hasher = Sha256::new();
    for id in &ids {
        hasher.update(id);
    }
    hex::encode(hasher.finalize())
}

/// Rejects files whose leaf columns are not the cold layout, so the fixed positions above are
/// safe to use.
pub(crate) fn check_schema(schema: &SchemaDescriptor) -> Result<(), ParquetError> {
    let names: Vec<&str> = schema.columns().iter().map(|c| c.name()).collect();
    if names != NAMES {
        return Err(ParquetError::General(format!(
            "not a cold event file: columns are {names:?}, expected {NAMES:?}"
        )));
    }
    Ok(())
}

/// Typed views of a batch whose first five columns are the key columns in file order.
pub(crate) struct Keys<'a> {
    ids: &'a FixedSizeBinaryArray,
    kinds: &'a StringArray,
    cameras: &'a StringArray,
    pub ts: &'a Int64Array,
    plates: &'a StringArray,
}

impl<'a> Keys<'a> {
    pub(crate) fn of(batch: &'a RecordBatch) -> Result<Self, ArrowError> {
        if batch.num_columns() <= PLATE {
            return Err(ArrowError::SchemaError(format!(
                "cold batch has {} columns, expected the {} key columns",
                batch.num_columns(),
                PLATE + 1
            )));
        }
        Ok(Self {
            ids: ids(batch.column(ID))?,
            kinds: strings(batch.column(KIND))?,
            cameras: strings(batch.column(CAMERA))?,
            ts: int64s(batch.column(TS))?,
            plates: strings(batch.column(PLATE))?,
        })
    }

    pub(crate) fn id(&self, i: usize) -> Result<Uuid, ArrowError> {
        uuid_at(self.ids, i)
    }

    pub(crate) fn key(&self, i: usize) -> Result<RowKey<'a>, ArrowError> {
        Ok(RowKey {
            id: self.id(i)?,
            kind: self.kinds.value(i),
            camera_id: self.cameras.value(i),
            ts_ms: self.ts.value(i),
            plate_text: self.plates.is_valid(i).then(|| self.plates.value(i)),
        })
    }
}

/// A [`ColdRow`] from its key columns and body.
pub(crate) fn row(key: RowKey<'_>, body: String) -> ColdRow {
    ColdRow {
        id: key.id,
        kind: key.kind.to_string(),
        camera_id: key.camera_id.to_string(),
        ts_ms: key.ts_ms,
        plate_text: key.plate_text.map(str::to_string),
        body,
    }
}

/// Appends every row of `batch` (all six columns) to `out`.
pub(crate) fn push_rows(batch: &RecordBatch, out: &mut Vec<ColdRow>) -> Result<(), ArrowError> {
    let keys = Keys::of(batch)?;
    let bodies = batch
        .columns()
        .get(BODY)
        .ok_or_else(|| ArrowError::SchemaError("cold batch has no body column".into()))?;
    let bodies = strings(bodies)?;
    out.reserve(batch.num_rows());
    for i in 0..batch.num_rows() {
        out.push(row(keys.key(i)?, bodies.value(i).to_string()));
    }
    Ok(())
}

pub(crate) fn uuid_at(ids: &FixedSizeBinaryArray, i: usize) -> Result<Uuid, ArrowError> {
    Uuid::from_slice(ids.value(i)).map_err(|e| ArrowError::InvalidArgumentError(e.to_string()))
}

pub(crate) fn ids(array: &ArrayRef) -> Result<&FixedSizeBinaryArray, ArrowError> {
    array
        .as_fixed_size_binary_opt()
        .filter(|a| a.value_length() == 16)
        .ok_or_else(|| type_error("FixedSizeBinary(16)", array))
}

pub(crate) fn strings(array: &ArrayRef) -> Result<&StringArray, ArrowError> {
    array
        .as_string_opt::<i32>()
        .ok_or_else(|| type_error("Utf8", array))
}

pub(crate) fn int64s(array: &ArrayRef) -> Result<&Int64Array, ArrowError> {
    array
        .as_primitive_opt::<Int64Type>()
        .ok_or_else(|| type_error("Int64", array))
}

fn type_error(expected: &str, array: &ArrayRef) -> ArrowError {
    ArrowError::SchemaError(format!(
        "cold column is {}, expected {expected}",
        array.data_type()
    ))
}

/// A panicked or cancelled blocking task, as the Parquet error its caller reports.
pub(crate) fn join_error(e: tokio::task::JoinError) -> ParquetError {
    ParquetError::External(Box::new(e))
}
