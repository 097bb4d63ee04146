//! The per-row filter pushed into the Parquet reader.
//!
//! The reader evaluates predicates in order and decodes each one's columns only for rows that
//! passed the ones before. So cheap single-column tests for the filters a query sets run first,
//! then a running top-k on time drops rows that cannot make the page, and
//! [`EventQuery::matches`], the same predicate the hot stores apply, runs last on the few
//! survivors as the authority (it alone needs the id column, which does not compress).

use std::collections::BinaryHeap;

use arrow_array::{BooleanArray, RecordBatch};
use arrow_schema::ArrowError;
use parquet::arrow::arrow_reader::{ArrowPredicate, ArrowPredicateFn, RowFilter};
use parquet::arrow::ProjectionMask;
use parquet::schema::types::SchemaDescriptor;

use super::format::{int64s, strings, Keys, CAMERA, ID, KIND, PLATE, TS};
use super::prune::TimeBounds;
use crate::EventQuery;

/// `page_size` rows are wanted; `cutoff`: when the page is already full, rows after this time
/// cannot enter it.
pub(crate) fn row_filter(
    schema: &SchemaDescriptor,
    q: &EventQuery,
    time: TimeBounds,
    page_size: usize,
    cutoff: Option<i64>,
) -> RowFilter {
    let mut stages: Vec<Box<dyn ArrowPredicate>> = Vec::new();
    if let Some(id) = q.id {
        let want = id.into_bytes();
        stages.push(stage(schema, ID, move |batch| {
            let ids = super::format::ids(batch.column(0))?;
            Ok((0..arrow_array::Array::len(ids))
                .map(|i| Some(ids.value(i) == want.as_slice()))
                .collect())
        }));
    }
    // An exact plate is the most selective test there is.
    if let Some(plate) = q.plate.clone() {
        stages.push(equals(schema, PLATE, plate));
    }
    let (lo, hi) = (time.lo, time.hi);
    if lo.is_some() || hi.is_some() || cutoff.is_some() {
        stages.push(stage(schema, TS, move |batch| {
            let ts = int64s(batch.column(0))?;
            Ok(ts
                .iter()
                .map(|t| {
                    t.map(|t| {
                        lo.is_none_or(|lo| t >= lo)
                            && hi.is_none_or(|hi| t < hi)
                            && cutoff.is_none_or(|c| t <= c)
                    })
                })
                .collect())
        }));
    }
    if let Some(prefix) = q.plate_prefix.clone() {
        stages.push(stage(schema, PLATE, move |batch| {
            let plates = strings(batch.column(0))?;
            Ok(plates
                .iter()
                .map(|p| p.map(|p| p.starts_with(&prefix)))
                .collect())
        }));
    }
    if let Some(camera) = q.camera_id.clone() {
        stages.push(equals(schema, CAMERA, camera));
    }
    if let Some(kind) = q.kind {
        stages.push(equals(schema, KIND, kind.as_str().to_string()));
    }
    if q.visibility.is_some() {
        // Before the top-times stage, which counts rows as matches.
        let q = q.clone();
        stages.push(Box::new(ArrowPredicateFn::new(
            ProjectionMask::leaves(schema, [KIND, CAMERA]),
            move |batch| {
                let kinds = strings(batch.column(0))?;
                let cameras = strings(batch.column(1))?;
                Ok(kinds
                    .iter()
                    .zip(cameras.iter())
                    .map(|(k, c)| Some(q.admits(c.unwrap_or(""), k.unwrap_or(""))))
                    .collect())
            },
        )));
    }
    let mut top = TopTimes {
        size: page_size,
        times: BinaryHeap::with_capacity(page_size.saturating_add(1)),
        cutoff,
        after_ts: q.after.map(|(ts, _)| ts),
    };
    stages.push(stage(schema, TS, move |batch| top.keep(&batch)));
    let q = q.clone();
    let keys = ProjectionMask::leaves(schema, [ID, KIND, CAMERA, TS, PLATE]);
    stages.push(Box::new(ArrowPredicateFn::new(keys, move |batch| {
        matches(&q, &batch)
    })));
    RowFilter::new(stages)
}

fn stage<F>(schema: &SchemaDescriptor, column: usize, f: F) -> Box<dyn ArrowPredicate>
where
    F: FnMut(RecordBatch) -> Result<BooleanArray, ArrowError> + Send + 'static,
{
    Box::new(ArrowPredicateFn::new(
        ProjectionMask::leaves(schema, [column]),
        f,
    ))
}

fn equals(schema: &SchemaDescriptor, column: usize, want: String) -> Box<dyn ArrowPredicate> {
    stage(schema, column, move |batch| {
        let values = strings(batch.column(0))?;
        Ok(values.iter().map(|v| v.map(|v| v == want)).collect())
    })
}

/// `batch` holds the five key columns in file order.
fn matches(q: &EventQuery, batch: &RecordBatch) -> Result<BooleanArray, ArrowError> {
    let keys = Keys::of(batch)?;
    (0..batch.num_rows())
        .map(|i| Ok(Some(q.matches(&keys.key(i)?))))
        .collect()
}

/// Keeps a row only while fewer than `size` rows known to match are at or before its time.
///
/// It runs after every other single-column test, so each row it counts matches the whole query
/// unless the keyset cursor rejects it; rows at the cursor's own time are therefore kept but not
/// counted. Rows arrive in file order, so the bound only tightens as they stream by, and each
/// rejected row had `size` matching rows no later than it.
struct TopTimes {
    size: usize,
    /// The smallest counted times, largest on top.
    times: BinaryHeap<i64>,
    /// The time of the last row of a page already full.
    cutoff: Option<i64>,
    after_ts: Option<i64>,
}

impl TopTimes {
    fn bound(&self) -> Option<i64> {
        let own = if self.times.len() >= self.size {
            self.times.peek().copied()
        } else {
            None
        };
        match (own, self.cutoff) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn keep(&mut self, batch: &RecordBatch) -> Result<BooleanArray, ArrowError> {
        let ts = int64s(batch.column(0))?;
        let mut keep = Vec::with_capacity(ts.len());
        for i in 0..ts.len() {
            let t = ts.value(i);
            let kept = self.bound().is_none_or(|bound| t <= bound);
            if kept && self.after_ts.is_none_or(|after| t > after) {
                self.times.push(t);
                if self.times.len() > self.size {
                    self.times.pop();
                }
            }
            keep.push(kept);
        }
        Ok(BooleanArray::from(keep))
    }
}
