//! The hot store's side of tiering: selecting what moves or expires, the cold-file manifest,
//! deleting by id and the audit log.
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use crate::cold::{ColdFile, ColdRow};
use crate::error::query_err;
use crate::store::with_pool;
use crate::{Store, StoreError};

/// A manifest entry: a cold file, its event kind and day, and its state.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestEntry {
    pub file: ColdFile,
    pub kind: String,
    pub day: String,
    pub state: FileState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    /// Being uploaded; its events are still in the hot table.
    Writing,
    /// Queryable; its events are no longer in the hot table.
    Live,
    /// Past retention; being deleted with its events' evidence.
    Expired,
}

impl FileState {
    fn as_str(self) -> &'static str {
        match self {
            FileState::Writing => "writing",
            FileState::Live => "live",
            FileState::Expired => "expired",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "writing" => FileState::Writing,
            "live" => FileState::Live,
            _ => FileState::Expired,
        }
    }
}

/// Ids per DELETE statement (bound parameters stay far below SQLite's limit).
const IDS_PER_STATEMENT: usize = 1000;

/// Deletes the events with `$ids` inside transaction `$tx`; evaluates to how many existed.
macro_rules! delete_ids {
    ($tx:expr, $ids:expr, $dialect:expr) => {{
        let mut deleted = 0;
        for chunk in $ids.chunks(IDS_PER_STATEMENT) {
            let mut qb = QueryBuilder::new("DELETE FROM events WHERE id IN (");
            push_ids(&mut qb, chunk, $dialect.id_type);
            qb.push(")");
            deleted += qb
                .build()
                .execute(&mut *$tx)
                .await
                .map_err(query_err("delete events"))?
                .rows_affected();
        }
        deleted
    }};
}

impl Store {
    /// The earliest event time before `before_ms`, if any event is that old.
    pub async fn oldest_before(&self, before_ms: i64) -> Result<Option<i64>, StoreError> {
        with_pool!(self, pool, _d => {
            sqlx::query_scalar::<_, Option<i64>>("SELECT MIN(ts_ms) FROM events WHERE ts_ms < $1")
                .bind(before_ms)
                .fetch_one(pool)
                .await
                .map_err(query_err("oldest event"))
        })
    }

    /// Event kinds present in [from_ms, to_ms).
    pub async fn kinds_between(&self, from_ms: i64, to_ms: i64) -> Result<Vec<String>, StoreError> {
        with_pool!(self, pool, _d => {
            sqlx::query_scalar("SELECT DISTINCT kind FROM events WHERE ts_ms >= $1 AND ts_ms < $2 ORDER BY kind")
                .bind(from_ms)
                .bind(to_ms)
                .fetch_all(pool)
                .await
                .map_err(query_err("kinds in range"))
        })
    }

    /// Up to `limit` events of `kind` in [from_ms, to_ms), oldest first, as stored rows.
    pub async fn rows_between(
        &self,
        kind: &str,
        from_ms: i64,
        to_ms: i64,
        limit: usize,
    ) -> Result<Vec<ColdRow>, StoreError> {
        with_pool!(self, pool, _d => {
            let rows = sqlx::query(
                "SELECT CAST(id AS TEXT), kind, camera_id, ts_ms, plate_text, body FROM events \
                 WHERE kind = $1 AND ts_ms >= $2 AND ts_ms < $3 ORDER BY ts_ms, id LIMIT $4",
            )
            .bind(kind)
            .bind(from_ms)
            .bind(to_ms)
            .bind(limit as i64)
            .fetch_all(pool)
            .await
            .map_err(query_err("events to move"))?;
            rows.iter()
                .map(|r| {
                    let id: String = r.get(0);
                    Ok(ColdRow {
                        id: parse_id(&id)?,
                        kind: r.get(1),
                        camera_id: r.get(2),
                        ts_ms: r.get(3),
                        plate_text: r.get(4),
                        body: r.get(5),
                    })
                })
                .collect()
        })
    }

    /// Deletes the events with these ids; returns how many existed.
    pub async fn delete_events(&self, ids: &[Uuid]) -> Result<u64, StoreError> {
        with_pool!(self, pool, _d => {
            let mut tx = pool.begin().await.map_err(query_err("begin"))?;
            let deleted = delete_ids!(tx, ids, _d);
            tx.commit().await.map_err(query_err("commit"))?;
            Ok(deleted)
        })
    }

    /// Records a cold file as being written (before its upload starts).
    pub async fn begin_cold_file(
        &self,
        path: &str,
        kind: &str,
        day: &str,
    ) -> Result<(), StoreError> {
        let now = chrono::Utc::now().timestamp_millis();
        with_pool!(self, pool, _d => {
            sqlx::query(
                "INSERT INTO cold_files (path, kind, day, state, rows, checksum, min_ts_ms, max_ts_ms, bytes, created_ms) \
                 VALUES ($1, $2, $3, 'writing', 0, '', 0, 0, 0, $4) \
                 ON CONFLICT (path) DO UPDATE SET state = 'writing', created_ms = excluded.created_ms",
            )
            .bind(path)
            .bind(kind)
            .bind(day)
            .bind(now)
            .execute(pool)
            .await
            .map_err(query_err("begin cold file"))?;
            Ok(())
        })
    }

    /// In one transaction: deletes the file's events from the hot table and makes the file live,
    /// so each event is visible in exactly one tier at every moment.
    pub async fn finish_cold_file(&self, file: &ColdFile, ids: &[Uuid]) -> Result<u64, StoreError> {
        with_pool!(self, pool, _d => {
            let mut tx = pool.begin().await.map_err(query_err("begin"))?;
            let deleted = delete_ids!(tx, ids, _d);
            sqlx::query(
                "UPDATE cold_files SET state = 'live', rows = $2, checksum = $3, min_ts_ms = $4, max_ts_ms = $5, bytes = $6 WHERE path = $1",
            )
            .bind(&file.path)
            .bind(file.rows as i64)
            .bind(&file.checksum)
            .bind(file.min_ts_ms)
            .bind(file.max_ts_ms)
            .bind(file.bytes as i64)
            .execute(&mut *tx)
            .await
            .map_err(query_err("cold file live"))?;
            tx.commit().await.map_err(query_err("commit"))?;
            Ok(deleted)
        })
    }

    pub async fn set_cold_file_state(
        &self,
        path: &str,
        state: FileState,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool, _d => {
            sqlx::query("UPDATE cold_files SET state = $2 WHERE path = $1")
                .bind(path)
                .bind(state.as_str())
                .execute(pool)
                .await
                .map_err(query_err("cold file state"))?;
            Ok(())
        })
    }

    pub async fn forget_cold_file(&self, path: &str) -> Result<(), StoreError> {
        with_pool!(self, pool, _d => {
            sqlx::query("DELETE FROM cold_files WHERE path = $1")
                .bind(path)
                .execute(pool)
                .await
                .map_err(query_err("forget cold file"))?;
            Ok(())
        })
    }

    /// Manifest entries in `state`, optionally of one kind and overlapping [from_ms, to_ms),
    /// oldest first.
    pub async fn cold_files(
        &self,
        state: FileState,
        kind: Option<&str>,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
    ) -> Result<Vec<ManifestEntry>, StoreError> {
        with_pool!(self, pool, _d => {
            let mut qb = QueryBuilder::new(
                "SELECT path, kind, day, state, rows, checksum, min_ts_ms, max_ts_ms, bytes FROM cold_files WHERE state = ",
            );
            qb.push_bind(state.as_str());
            if let Some(kind) = kind {
                qb.push(" AND kind = ").push_bind(kind.to_string());
            }
            if let Some(from) = from_ms {
                qb.push(" AND max_ts_ms >= ").push_bind(from);
            }
            if let Some(to) = to_ms {
                qb.push(" AND min_ts_ms < ").push_bind(to);
            }
            qb.push(" ORDER BY min_ts_ms, path");
            let rows = qb.build().fetch_all(pool).await.map_err(query_err("cold files"))?;
            Ok(rows
                .iter()
                .map(|r| ManifestEntry {
                    file: ColdFile {
                        path: r.get(0),
                        rows: r.get::<i64, _>(4).max(0) as u64,
                        checksum: r.get(5),
                        min_ts_ms: r.get(6),
                        max_ts_ms: r.get(7),
                        bytes: r.get::<i64, _>(8).max(0) as u64,
                    },
                    kind: r.get(1),
                    day: r.get(2),
                    state: FileState::parse(&r.get::<String, _>(3)),
                })
                .collect())
        })
    }
}

fn push_ids<'a, DB: sqlx::Database>(qb: &mut QueryBuilder<'a, DB>, ids: &[Uuid], id_type: &str)
where
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut list = qb.separated(", ");
    for id in ids {
        list.push("CAST(")
            .push_bind_unseparated(id.to_string())
            .push_unseparated(format!(" AS {id_type})"));
    }
}

pub(crate) fn parse_id(id: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(id).map_err(|e| StoreError::Corrupt {
        id: id.to_string(),
        source: serde::de::Error::custom(e),
    })
}
