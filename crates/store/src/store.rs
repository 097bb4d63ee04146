//! The hot store: one API over SQLite (embedded default) and PostgreSQL (at scale).
//!
//! Both backends have the same tables (migrations/sqlite, migrations/postgres); queries are
//! written once and compiled for each backend by [`with_pool!`], which hands the body the
//! backend's pool and its [`Dialect`].
use sqlx::{PgPool, QueryBuilder, Row, SqlitePool};
use uuid::Uuid;
use xl_schema::Event;

use crate::error::query_err;
use crate::flow::{flow_rows, from_ms, FlowQuery, FlowRow};
use crate::{EventQuery, StoreError};

/// How a backend spells what differs between SQLite and PostgreSQL.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dialect {
    /// SQL type an event id parameter is cast to before comparing with the `id` column.
    pub id_type: &'static str,
}

pub(crate) const SQLITE: Dialect = Dialect { id_type: "TEXT" };
pub(crate) const POSTGRES: Dialect = Dialect { id_type: "UUID" };

#[derive(Clone)]
pub(crate) enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the backend's pool and `$dialect` to its dialect; the
/// body is type-checked once per backend.
macro_rules! with_pool {
    ($store:expr, $pool:ident, $dialect:ident => $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite($pool) => {
                #[allow(unused_variables)]
                let $dialect = $crate::store::SQLITE;
                $body
            }
            $crate::store::Backend::Postgres($pool) => {
                #[allow(unused_variables)]
                let $dialect = $crate::store::POSTGRES;
                $body
            }
        }
    };
}
pub(crate) use with_pool;

#[derive(Clone)]
pub struct Store {
    pub(crate) backend: Backend,
    /// One audit appender per process (PostgreSQL adds an advisory lock across processes).
    pub(crate) audit_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Bumped when outbox rows are added by this process (see [`Store::outbox_signal`]).
    pub(crate) outbox: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.backend {
            Backend::Sqlite(_) => "Store(sqlite)",
            Backend::Postgres(_) => "Store(postgres)",
        })
    }
}

impl Store {
    /// Opens the store at `url` and applies migrations: `sqlite://PATH` (the file is created if
    /// missing) or `postgres://USER@HOST:PORT/DB` (the database is created if missing).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres(crate::postgres::open(url).await?)
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite(crate::sqlite::open(url).await?)
        } else {
            return Err(StoreError::UnsupportedUrl(crate::redact_url(url)));
        };
        Ok(Self {
            backend,
            audit_lock: Default::default(),
            outbox: std::sync::Arc::new(tokio::sync::watch::channel(0).0),
        })
    }

    /// Which backend this is: "sqlite" or "postgres".
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Inserts events in one transaction; ids already stored are skipped (idempotent), and the
    /// flow-count series is updated from `flow_count` events. In the same transaction each new
    /// event is queued for every active subscription it matches and its owner may see (the
    /// durable outbox). Returns how many were new.
    pub async fn insert_events(&self, events: &[Event]) -> Result<u64, StoreError> {
        let flow: Vec<FlowRow> = events.iter().flat_map(flow_rows).collect();
        let now_ms = chrono::Utc::now().timestamp_millis();
        let (inserted, queued) = match &self.backend {
            Backend::Sqlite(pool) => {
                crate::sqlite::insert_events(pool, events, &flow, now_ms).await?
            }
            Backend::Postgres(pool) => {
                crate::postgres::insert_events(pool, events, &flow, now_ms).await?
            }
        };
        if queued > 0 {
            self.outbox_changed();
        }
        Ok(inserted)
    }

    /// The flow time series, by interval then camera, line, direction and class.
    pub async fn flow_counts(&self, q: &FlowQuery) -> Result<Vec<FlowRow>, StoreError> {
        with_pool!(self, pool, _d => {
            let mut qb = QueryBuilder::new(
                "SELECT camera_id, line_id, direction, class, interval_start_ms, interval_end_ms, count FROM flow_counts WHERE 1=1",
            );
            if let Some(c) = &q.camera_id {
                qb.push(" AND camera_id = ").push_bind(c.clone());
            }
            if let Some(l) = &q.line_id {
                qb.push(" AND line_id = ").push_bind(l.clone());
            }
            if let Some(c) = &q.class {
                qb.push(" AND class = ").push_bind(c.clone());
            }
            if let Some(from) = q.from {
                qb.push(" AND interval_start_ms >= ").push_bind(from.timestamp_millis());
            }
            if let Some(to) = q.to {
                qb.push(" AND interval_start_ms < ").push_bind(to.timestamp_millis());
            }
            qb.push(" ORDER BY interval_start_ms, camera_id, line_id, direction, class LIMIT ")
                .push_bind(i64::from(q.limit.max(1)));
            let rows = qb.build().fetch_all(pool).await.map_err(query_err("flow counts"))?;
            Ok(rows
                .iter()
                .map(|r| FlowRow {
                    camera_id: r.get(0),
                    line_id: r.get(1),
                    direction: r.get(2),
                    class: r.get(3),
                    interval_start: from_ms(r.get(4)),
                    interval_end: from_ms(r.get(5)),
                    count: r.get::<i64, _>(6).clamp(0, i64::from(u32::MAX)) as u32,
                })
                .collect())
        })
    }

    /// Events matching `q` in the hot store, oldest first (by time, then id).
    pub async fn query(&self, q: &EventQuery) -> Result<Vec<Event>, StoreError> {
        with_pool!(self, pool, d => {
            let mut qb = QueryBuilder::new("SELECT CAST(id AS TEXT), body FROM events WHERE 1=1");
            if let Some(plate) = &q.plate {
                qb.push(" AND plate_text = ").push_bind(plate.clone());
            }
            if let Some(prefix) = q.plate_prefix.as_deref().filter(|p| !p.is_empty()) {
                // A range on the plate index rather than LIKE, which neither backend can index
                // here (SQLite's LIKE is case-insensitive; PostgreSQL's needs pattern ops).
                qb.push(" AND plate_text >= ").push_bind(prefix.to_string());
                if let Some(end) = prefix_end(prefix) {
                    qb.push(" AND plate_text < ").push_bind(end);
                }
            }
            if let Some(camera) = &q.camera_id {
                qb.push(" AND camera_id = ").push_bind(camera.clone());
            }
            if let Some(kind) = q.kind {
                qb.push(" AND kind = ").push_bind(kind.as_str());
            }
            if let Some(from) = q.from {
                qb.push(" AND ts_ms >= ").push_bind(from.timestamp_millis());
            }
            if let Some(to) = q.to {
                qb.push(" AND ts_ms < ").push_bind(to.timestamp_millis());
            }
            if let Some(id) = q.id {
                qb.push(" AND id = CAST(")
                    .push_bind(id.to_string())
                    .push(format!(" AS {})", d.id_type));
            }
            if let Some(vis) = &q.visibility {
                crate::scope::push_visibility!(qb, vis, q.is_plate_search());
            }
            if let Some((ts_ms, id)) = q.after {
                // Spelled out rather than as a row-value comparison so both planners use the
                // (.., ts_ms, id) indexes.
                qb.push(" AND (ts_ms > ")
                    .push_bind(ts_ms)
                    .push(" OR (ts_ms = ")
                    .push_bind(ts_ms)
                    .push(" AND id > CAST(")
                    .push_bind(id.to_string())
                    .push(format!(" AS {})))", d.id_type));
            }
            qb.push(" ORDER BY ts_ms, id LIMIT ").push_bind(i64::from(q.page_size()));
            let rows = qb.build().fetch_all(pool).await.map_err(query_err("query events"))?;
            rows.iter().map(|row| decode_event(row.get(0), row.get(1))).collect()
        })
    }

    pub async fn count_events(&self) -> Result<i64, StoreError> {
        with_pool!(self, pool, _d => {
            sqlx::query_scalar("SELECT COUNT(*) FROM events")
                .fetch_one(pool)
                .await
                .map_err(query_err("count events"))
        })
    }

    pub async fn event(&self, id: Uuid) -> Result<Option<Event>, StoreError> {
        with_pool!(self, pool, d => {
            let sql = format!("SELECT body FROM events WHERE id = CAST($1 AS {})", d.id_type);
            let body: Option<String> = sqlx::query_scalar(&sql)
                .bind(id.to_string())
                .fetch_optional(pool)
                .await
                .map_err(query_err("event by id"))?;
            body.map(|b| decode_event(id.to_string(), b)).transpose()
        })
    }

    /// Replaces the stored health snapshot of each camera (JSON documents keyed by camera id).
    pub async fn put_camera_health(
        &self,
        snapshots: &[(String, serde_json::Value)],
    ) -> Result<(), StoreError> {
        let now = chrono::Utc::now().timestamp_millis();
        with_pool!(self, pool, _d => {
            let mut tx = pool.begin().await.map_err(query_err("begin"))?;
            for (camera_id, body) in snapshots {
                sqlx::query(
                    "INSERT INTO camera_health (camera_id, updated_ms, body) VALUES ($1, $2, $3) \
                     ON CONFLICT (camera_id) DO UPDATE SET updated_ms = excluded.updated_ms, body = excluded.body",
                )
                .bind(camera_id)
                .bind(now)
                .bind(body.to_string())
                .execute(&mut *tx)
                .await
                .map_err(query_err("put camera health"))?;
            }
            tx.commit().await.map_err(query_err("commit"))
        })
    }

    /// Latest health snapshot per camera with the time it was written (Unix ms).
    pub async fn camera_health(&self) -> Result<Vec<(i64, serde_json::Value)>, StoreError> {
        with_pool!(self, pool, _d => {
            let rows = sqlx::query("SELECT camera_id, updated_ms, body FROM camera_health ORDER BY camera_id")
                .fetch_all(pool)
                .await
                .map_err(query_err("camera health"))?;
            rows.iter()
                .map(|row| {
                    let id: String = row.get(0);
                    let body: String = row.get(2);
                    let value = serde_json::from_str(&body)
                        .map_err(|source| StoreError::Corrupt { id, source })?;
                    Ok((row.get(1), value))
                })
                .collect()
        })
    }

    pub async fn close(&self) {
        with_pool!(self, pool, _d => pool.close().await)
    }
}

pub(crate) fn decode_event(id: String, body: String) -> Result<Event, StoreError> {
    serde_json::from_str(&body).map_err(|source| StoreError::Corrupt { id, source })
}

/// The smallest string greater than every string starting with `prefix` (None when there is
/// none, i.e. the prefix is all U+10FFFF).
pub(crate) fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn prefix_end_bounds_every_extension() {
        assert_eq!(prefix_end("皖S").as_deref(), Some("皖T"));
        assert_eq!(prefix_end("A9").as_deref(), Some("A:"));
        let end = prefix_end("皖SA").unwrap();
        for s in ["皖SA", "皖SA12345", "皖SA\u{10FFFF}"] {
            assert!(s < end.as_str(), "{s} < {end}");
        }
        assert!("皖SB" >= end.as_str());
        assert_eq!(prefix_end("\u{10FFFF}"), None);
    }
}
