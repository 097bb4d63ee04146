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

use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStore;
use parquet::errors::ParquetError;
use uuid::Uuid;

use super::prune::TimeBounds;
use super::source::Source;
use super::{parquet_err, ColdFile, ColdRow};
use crate::{EventQuery, StoreError};

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
        let source = Source::open(store, file).await?;
        let index = opened.len();
        source
            .collect_keys(index, q, time, &mut page)
            .await
            .map_err(|e| parquet_err(&file.path, e))?;
        opened.push(source);
    }
    attach_bodies(&opened, page.hits).await
}

/// One matching row without its body, and where its body is.
pub(super) struct Hit {
    pub(super) ts_ms: i64,
    pub(super) id: Uuid,
    pub(super) kind: String,
    pub(super) camera_id: String,
    pub(super) plate_text: Option<String>,
    pub(super) source: usize,
    pub(super) row_group: usize,
    /// Row number in the file.
    pub(super) row: i64,
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
                Err(e) => Err(parquet_err(&source.path, e)),
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
                parquet_err(
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
pub(super) struct Page {
    pub(super) size: usize,
    pub(super) hits: Vec<Hit>,
}

impl Page {
    fn new(size: usize) -> Self {
        Self {
            size,
            hits: Vec::new(),
        }
    }

    pub(super) fn settle(&mut self) {
        self.hits.sort_unstable_by_key(|h| (h.ts_ms, h.id));
        self.hits.truncate(self.size);
    }

    /// The time of the page's last row, once the page is full.
    pub(super) fn cutoff(&self) -> Option<i64> {
        if self.hits.len() >= self.size {
            self.hits.last().map(|h| h.ts_ms)
        } else {
            None
        }
    }

    /// Whether rows no earlier than `min_ts` can no longer enter the page.
    pub(super) fn closed_before(&self, min_ts: i64) -> bool {
        self.cutoff().is_some_and(|cutoff| min_ts > cutoff)
    }
}
