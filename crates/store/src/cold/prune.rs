//! Deciding, before any data page is read, which files and row groups can hold a match.
//!
//! Every test here is conservative: missing or truncated statistics and filters keep a row
//! group in, and the row filter has the final word on each row.

use std::ops::Range;
use std::sync::Arc;

use object_store::path::Path;
use object_store::ObjectStore;
use parquet::bloom_filter::Sbbf;
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, RowGroupMetaData};
use parquet::file::statistics::Statistics;

use super::format::{CAMERA, KIND, PLATE, TS};
use crate::EventQuery;

/// The ts_ms range a query can match: `lo` inclusive (from, or the cursor's time, since rows
/// at the cursor's time with a larger id still follow it), `hi` exclusive.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimeBounds {
    pub lo: Option<i64>,
    pub hi: Option<i64>,
}

impl TimeBounds {
    pub(crate) fn of(q: &EventQuery) -> Self {
        let from = q.from.map(|f| f.timestamp_millis());
        let after = q.after.map(|(ts, _)| ts);
        Self {
            lo: from.max(after),
            hi: q.to.map(|t| t.timestamp_millis()),
        }
    }

    /// Whether a span of rows with these min/max times may hold a match.
    pub(crate) fn overlaps(&self, min_ts: i64, max_ts: i64) -> bool {
        self.lo.is_none_or(|lo| max_ts >= lo) && self.hi.is_none_or(|hi| min_ts < hi)
    }
}

/// A row group that may hold a match, with the earliest time in it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate {
    pub index: usize,
    pub min_ts: i64,
}

/// Row groups whose min/max statistics admit a match, in file order.
pub(crate) fn by_statistics(
    meta: &ParquetMetaData,
    q: &EventQuery,
    time: &TimeBounds,
) -> Vec<Candidate> {
    meta.row_groups()
        .iter()
        .enumerate()
        .filter(|(_, rg)| rg.num_rows() > 0)
        .filter_map(|(index, rg)| {
            let (min_ts, max_ts) = ts_range(rg).unwrap_or((i64::MIN, i64::MAX));
            let admits = time.overlaps(min_ts, max_ts)
                && q.camera_id
                    .as_deref()
                    .is_none_or(|c| may_equal(rg, CAMERA, c))
                && q.kind.is_none_or(|k| may_equal(rg, KIND, k.as_str()))
                && q.plate.as_deref().is_none_or(|p| may_equal(rg, PLATE, p))
                && q.plate_prefix
                    .as_deref()
                    .is_none_or(|p| may_start_with(rg, PLATE, p));
            admits.then_some(Candidate { index, min_ts })
        })
        .collect()
}

fn ts_range(rg: &RowGroupMetaData) -> Option<(i64, i64)> {
    match rg.column(TS).statistics()? {
        Statistics::Int64(s) => Some((*s.min_opt()?, *s.max_opt()?)),
        _ => None,
    }
}

/// Min and max of a string column; a truncated min is a prefix of the true min and a truncated
/// max is rounded up, so both stay bounds.
fn bytes_range(rg: &RowGroupMetaData, column: usize) -> Option<(&[u8], &[u8])> {
    let stats = rg.column(column).statistics()?;
    match stats {
        Statistics::ByteArray(_) => Some((stats.min_bytes_opt()?, stats.max_bytes_opt()?)),
        _ => None,
    }
}

fn may_equal(rg: &RowGroupMetaData, column: usize, value: &str) -> bool {
    bytes_range(rg, column)
        .is_none_or(|(min, max)| min <= value.as_bytes() && value.as_bytes() <= max)
}

/// Strings starting with `prefix` sort from `prefix` up to, not including, the first string
/// above `prefix` that does not start with it.
fn may_start_with(rg: &RowGroupMetaData, column: usize, prefix: &str) -> bool {
    let prefix = prefix.as_bytes();
    bytes_range(rg, column)
        .is_none_or(|(min, max)| max >= prefix && (min <= prefix || min.starts_with(prefix)))
}

/// Drops candidates whose bloom filter on `column` rules out `value`. All the filters needed
/// are fetched in one call, and the writer places them side by side, so this is usually one
/// request.
pub(crate) async fn by_bloom(
    store: &Arc<dyn ObjectStore>,
    path: &Path,
    meta: &ParquetMetaData,
    candidates: Vec<Candidate>,
    column: usize,
    value: &str,
) -> Result<Vec<Candidate>, ParquetError> {
    let ranges = candidates
        .iter()
        .map(|c| bloom_range(meta.row_group(c.index), column))
        .collect::<Result<Vec<_>, _>>()?;
    let wanted: Vec<Range<u64>> = ranges.iter().flatten().cloned().collect();
    if wanted.is_empty() {
        return Ok(candidates);
    }
    let mut filters = store
        .get_ranges(path, &wanted)
        .await
        .map_err(|e| ParquetError::External(Box::new(e)))?
        .into_iter();
    let mut kept = Vec::with_capacity(candidates.len());
    for (candidate, range) in candidates.into_iter().zip(ranges) {
        let admits = match range.and_then(|_| filters.next()) {
            Some(bytes) => Sbbf::from_bytes(&bytes)?.check(value),
            None => true,
        };
        if admits {
            kept.push(candidate);
        }
    }
    Ok(kept)
}

fn bloom_range(rg: &RowGroupMetaData, column: usize) -> Result<Option<Range<u64>>, ParquetError> {
    let chunk = rg.column(column);
    let (Some(offset), Some(length)) = (chunk.bloom_filter_offset(), chunk.bloom_filter_length())
    else {
        return Ok(None);
    };
    let invalid =
        || ParquetError::General(format!("invalid bloom filter location {offset}+{length}"));
    let start = u64::try_from(offset).map_err(|_| invalid())?;
    let length = u64::try_from(length).map_err(|_| invalid())?;
    Ok(Some(start..start + length))
}
