//! SQLite backend.
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use uuid::Uuid;
use xl_schema::Event;

use crate::error::query_err;
use crate::flow::{flow_rows, from_ms, FlowQuery, FlowRow};
use crate::{EventQuery, StoreError};

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the database at `url` (`sqlite://PATH`) and applies migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| StoreError::UnsupportedUrl(url.to_string()))?;
        if path.is_empty() {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        }
        if let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Evidence {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let open_err = |source| StoreError::Open {
            url: url.to_string(),
            source,
        };
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
            .map_err(open_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL: a crash can lose the last transactions' durability but never corrupts.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(open_err)?;
        MIGRATIONS.run(&pool).await?;
        Ok(Self { pool })
    }

    /// Inserts events in one transaction; ids already stored are skipped (idempotent).
    /// Returns how many were new.
    pub async fn insert_events(&self, events: &[Event]) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(query_err("begin"))?;
        let mut inserted = 0;
        // SQLite allows 32766 bound parameters; 6 per row.
        for chunk in events.chunks(1000) {
            let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT OR IGNORE INTO events (id, kind, camera_id, ts_ms, plate_text, body) ",
            );
            let mut rows = Vec::with_capacity(chunk.len());
            for e in chunk {
                let body = serde_json::to_string(e).map_err(|source| StoreError::Corrupt {
                    id: e.id.to_string(),
                    source,
                })?;
                rows.push((e, body));
            }
            qb.push_values(rows, |mut b, (e, body)| {
                b.push_bind(e.id.to_string())
                    .push_bind(e.kind.as_str())
                    .push_bind(e.camera_id.clone())
                    .push_bind(e.ts.timestamp_millis())
                    .push_bind(e.plate.as_ref().map(|p| p.text.clone()))
                    .push_bind(body);
            });
            let result = qb
                .build()
                .execute(&mut *tx)
                .await
                .map_err(query_err("insert events"))?;
            inserted += result.rows_affected();
        }
        let flow: Vec<FlowRow> = events.iter().flat_map(flow_rows).collect();
        for chunk in flow.chunks(1000) {
            let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT OR REPLACE INTO flow_counts (camera_id, line_id, direction, class, interval_start_ms, interval_end_ms, count) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.camera_id.clone())
                    .push_bind(r.line_id.clone())
                    .push_bind(r.direction.clone())
                    .push_bind(r.class.clone())
                    .push_bind(r.interval_start.timestamp_millis())
                    .push_bind(r.interval_end.timestamp_millis())
                    .push_bind(i64::from(r.count));
            });
            qb.build()
                .execute(&mut *tx)
                .await
                .map_err(query_err("insert flow counts"))?;
        }
        tx.commit().await.map_err(query_err("commit"))?;
        Ok(inserted)
    }

    /// The flow time series, by interval then camera, line, direction and class.
    pub async fn flow_counts(&self, q: &FlowQuery) -> Result<Vec<FlowRow>, StoreError> {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
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
            qb.push(" AND interval_start_ms >= ")
                .push_bind(from.timestamp_millis());
        }
        if let Some(to) = q.to {
            qb.push(" AND interval_start_ms < ")
                .push_bind(to.timestamp_millis());
        }
        qb.push(" ORDER BY interval_start_ms, camera_id, line_id, direction, class LIMIT ")
            .push_bind(i64::from(q.limit.max(1)));
        let rows = qb
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(query_err("flow counts"))?;
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
    }

    /// Events matching `q`, oldest first.
    pub async fn query(&self, q: &EventQuery) -> Result<Vec<Event>, StoreError> {
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new("SELECT id, body FROM events WHERE 1=1");
        if let Some(plate) = &q.plate {
            qb.push(" AND plate_text = ").push_bind(plate.clone());
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
        if let Some((ts_ms, id)) = q.after {
            qb.push(" AND (ts_ms, id) > (")
                .push_bind(ts_ms)
                .push(", ")
                .push_bind(id.to_string())
                .push(")");
        }
        let limit = if q.limit == 0 {
            100
        } else {
            q.limit.min(100_000)
        };
        qb.push(" ORDER BY ts_ms, id LIMIT ")
            .push_bind(i64::from(limit));
        let rows = qb
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(query_err("query events"))?;
        rows.iter()
            .map(|row| {
                let id: String = row.get(0);
                let body: String = row.get(1);
                serde_json::from_str(&body).map_err(|source| StoreError::Corrupt { id, source })
            })
            .collect()
    }

    pub async fn count_events(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT COUNT(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .map_err(query_err("count events"))
    }

    pub async fn event(&self, id: Uuid) -> Result<Option<Event>, StoreError> {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM events WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(query_err("event by id"))?;
        body.map(|b| {
            serde_json::from_str(&b).map_err(|source| StoreError::Corrupt {
                id: id.to_string(),
                source,
            })
        })
        .transpose()
    }

    /// Replaces the stored health snapshot of each camera (JSON documents keyed by camera id).
    pub async fn put_camera_health(
        &self,
        snapshots: &[(String, serde_json::Value)],
    ) -> Result<(), StoreError> {
        let now = chrono::Utc::now().timestamp_millis();
        let mut tx = self.pool.begin().await.map_err(query_err("begin"))?;
        for (camera_id, body) in snapshots {
            sqlx::query(
                "INSERT INTO camera_health (camera_id, updated_ms, body) VALUES (?, ?, ?) \
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
    }

    /// Latest health snapshot per camera with the time it was written (Unix ms).
    pub async fn camera_health(&self) -> Result<Vec<(i64, serde_json::Value)>, StoreError> {
        let rows =
            sqlx::query("SELECT camera_id, updated_ms, body FROM camera_health ORDER BY camera_id")
                .fetch_all(&self.pool)
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
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
