//! The hot and cold tiers together: moving old events to Parquet crash-safely, and queries that
//! read both.
use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, TimeZone};
use tracing::{info, warn};
use uuid::Uuid;
use xl_schema::{china_offset, Event};

use crate::cold::{ColdEvents, ColdFile};
use crate::hot_tiers::FileState;
use crate::store::decode_event;
use crate::{EventQuery, Scoped, Store, StoreError, Visibility};

/// Largest cold file, in events: bounds the memory of one move step.
pub const MAX_ROWS_PER_FILE: usize = 200_000;

/// What a move did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MoveReport {
    pub files: u64,
    pub events: u64,
    /// Moves found unfinished (a crash) and completed or rolled back.
    pub resumed: u64,
}

#[derive(Clone)]
pub struct Tiers {
    pub hot: Store,
    pub cold: Option<ColdEvents>,
}

impl Tiers {
    pub fn new(hot: Store, cold: Option<ColdEvents>) -> Self {
        Self { hot, cold }
    }

    /// Events matching `q` across both tiers, oldest first; pages continue across tiers with
    /// the same (time, id) cursor.
    pub async fn query(&self, q: &EventQuery) -> Result<Vec<Event>, StoreError> {
        let mut events = self.hot.query(q).await?;
        let Some(cold) = &self.cold else {
            return Ok(events);
        };
        let from = match (q.from, q.after) {
            (Some(f), Some((ts, _))) => Some(f.timestamp_millis().max(ts)),
            (f, a) => f.map(|f| f.timestamp_millis()).or(a.map(|(ts, _)| ts)),
        };
        let to = q.to.map(|t| t.timestamp_millis());
        let kind = q.kind.map(|k| k.as_str());
        let files: Vec<ColdFile> = self
            .hot
            .cold_files(FileState::Live, kind, from, to)
            .await?
            .into_iter()
            .map(|m| m.file)
            .collect();
        if files.is_empty() {
            return Ok(events);
        }
        let mut q = q.clone();
        if let Some(vis) = &mut q.visibility {
            if vis.access.is_none() {
                vis.access = Some(Arc::new(self.hot.access_map(vis, None).await?));
            }
        }
        for row in cold.query(&files, &q).await? {
            events.push(decode_event(row.id.to_string(), row.body)?);
        }
        events.sort_by_key(|e| (e.ts.timestamp_millis(), e.id));
        events.dedup_by_key(|e| e.id);
        events.truncate(q.page_size() as usize);
        Ok(events)
    }

    /// What `vis` may see of the events matching `q` across both tiers, each with the masks
    /// to apply before it leaves the server.
    pub async fn query_visible(
        &self,
        vis: &Visibility,
        q: &EventQuery,
    ) -> Result<Vec<Scoped<Event>>, StoreError> {
        let q = EventQuery {
            visibility: Some(vis.clone()),
            ..q.clone()
        };
        let events = self.query(&q).await?;
        self.hot
            .scope_events(vis, events, q.is_plate_search())
            .await
    }

    /// One event by id from either tier, if `vis` sees it. The cold tier is searched first in
    /// the files around the time in the id (UUIDv7 ids carry their creation time, close to the
    /// event's), then, failing that, in every file.
    pub async fn event_visible(
        &self,
        vis: &Visibility,
        id: Uuid,
    ) -> Result<Option<Scoped<Event>>, StoreError> {
        if let Some(hot) = self.hot.event_visible(vis, id).await? {
            return Ok(Some(hot));
        }
        if self.cold.is_none() {
            return Ok(None);
        }
        let by_id = EventQuery {
            id: Some(id),
            limit: 1,
            ..Default::default()
        };
        if let Some((secs, nanos)) = id.get_timestamp().map(|t| t.to_unix()) {
            let created = DateTime::from_timestamp(secs as i64, nanos)
                .map(|t| t.with_timezone(&china_offset()));
            if let Some(created) = created {
                let near = EventQuery {
                    from: Some(created - Duration::days(2)),
                    to: Some(created + Duration::days(1)),
                    ..by_id.clone()
                };
                if let Some(found) = self.query_visible(vis, &near).await?.pop() {
                    return Ok(Some(found));
                }
            }
        }
        Ok(self.query_visible(vis, &by_id).await?.pop())
    }

    /// Moves every hot event older than `cutoff` to the cold tier, a day and kind at a time.
    /// Each file is written, read back and verified before its events leave the hot table (in
    /// the transaction that makes the file visible), so a crash at any point loses nothing and
    /// a rerun finishes or rolls back what it finds unfinished.
    pub async fn move_to_cold(
        &self,
        cutoff: DateTime<FixedOffset>,
    ) -> Result<MoveReport, StoreError> {
        let Some(cold) = &self.cold else {
            return Ok(MoveReport::default());
        };
        let mut report = MoveReport {
            resumed: self.resume_moves(cold).await?,
            ..Default::default()
        };
        let cutoff_ms = cutoff.timestamp_millis();
        while let Some(oldest) = self.hot.oldest_before(cutoff_ms).await? {
            let (day, day_start, day_end) = china_day(oldest);
            let to = day_end.min(cutoff_ms);
            for kind in self.hot.kinds_between(day_start, to).await? {
                loop {
                    let rows = self
                        .hot
                        .rows_between(&kind, day_start, to, MAX_ROWS_PER_FILE)
                        .await?;
                    let Some(first) = rows.first() else { break };
                    let path = format!("events/kind={kind}/day={day}/{}.parquet", first.id);
                    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
                    self.hot.begin_cold_file(&path, &kind, &day).await?;
                    let file = cold.write(&path, rows).await?;
                    cold.verify(&file).await?;
                    self.hot.finish_cold_file(&file, &ids).await?;
                    report.files += 1;
                    report.events += file.rows;
                    info!(path = %path, events = file.rows, bytes = file.bytes, "moved events to the cold tier");
                }
            }
        }
        Ok(report)
    }

    /// Finishes or rolls back moves a crash interrupted: a file that reads back whole becomes
    /// live (its events leave the hot table); anything else is deleted and the events stay hot
    /// for the next move.
    async fn resume_moves(&self, cold: &ColdEvents) -> Result<u64, StoreError> {
        let unfinished = self
            .hot
            .cold_files(FileState::Writing, None, None, None)
            .await?;
        for entry in &unfinished {
            let path = &entry.file.path;
            match describe(cold, path).await {
                Ok((file, ids)) if !ids.is_empty() => {
                    self.hot.finish_cold_file(&file, &ids).await?;
                    info!(path = %path, events = ids.len(), "finished an interrupted cold move");
                }
                // Missing, partial or unreadable: roll back (the events are still hot). An
                // unreachable object store is an error instead, so the move is retried later.
                Ok(_)
                | Err(StoreError::ColdVerify { .. })
                | Err(StoreError::Parquet { .. })
                | Err(StoreError::ObjectStore {
                    source: object_store::Error::NotFound { .. },
                    ..
                }) => {
                    warn!(path = %path, "rolling back an interrupted cold move");
                    cold.delete(path).await?;
                    self.hot.forget_cold_file(path).await?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(unfinished.len() as u64)
    }
}

/// A written cold file as read back: its manifest entry and its ids.
async fn describe(cold: &ColdEvents, path: &str) -> Result<(ColdFile, Vec<Uuid>), StoreError> {
    let rows = cold.rows(path).await?;
    let file = ColdFile::describe(path, &rows, cold.size(path).await?);
    let mut ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    ids.sort();
    Ok((file, ids))
}

/// The China Standard Time day holding `ts_ms`: its name and [start, end) in Unix ms.
pub(crate) fn china_day(ts_ms: i64) -> (String, i64, i64) {
    let tz = china_offset();
    let local = tz.timestamp_millis_opt(ts_ms).single().unwrap_or_default();
    let date = local.date_naive();
    let start = date
        .and_hms_opt(0, 0, 0)
        .and_then(|t| tz.from_local_datetime(&t).single())
        .map(|t| t.timestamp_millis())
        .unwrap_or(ts_ms);
    let end = start + Duration::days(1).num_milliseconds();
    (date.format("%Y-%m-%d").to_string(), start, end)
}

#[cfg(test)]
mod tests {
    use super::china_day;

    #[test]
    fn days_are_china_standard_time_days() {
        // 2026-11-29T16:30:00Z is 2026-11-30 00:30 in Beijing.
        let ts = chrono::DateTime::parse_from_rfc3339("2026-11-29T16:30:00Z").unwrap();
        let (day, start, end) = china_day(ts.timestamp_millis());
        assert_eq!(day, "2026-11-30");
        let midnight = chrono::DateTime::parse_from_rfc3339("2026-11-30T00:00:00+08:00").unwrap();
        assert_eq!(start, midnight.timestamp_millis());
        assert_eq!(end - start, 86_400_000);
    }
}
