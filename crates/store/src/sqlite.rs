//! SQLite: the embedded default.
use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use xl_schema::Event;

use crate::error::query_err;
use crate::flow::FlowRow;
use crate::hooks;
use crate::StoreError;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// SQLite allows 32766 bound parameters per statement.
const ROWS_PER_STATEMENT: usize = 4000;

pub(crate) async fn open(url: &str) -> Result<SqlitePool, StoreError> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .filter(|p| !p.is_empty())
        .ok_or_else(|| StoreError::UnsupportedUrl(url.to_string()))?;
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
        .busy_timeout(Duration::from_secs(10))
        // 64 MiB of page cache per connection (the default is 2 MiB): index pages of a large
        // events table stay in memory, which keeps sustained ingest from decaying as it grows.
        .pragma("cache_size", "-65536")
        .pragma("temp_store", "memory");
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(open_err)?;
    MIGRATIONS.run(&pool).await?;
    Ok(pool)
}

/// Returns (events inserted, outbox rows queued).
pub(crate) async fn insert_events(
    pool: &SqlitePool,
    events: &[Event],
    flow: &[FlowRow],
    now_ms: i64,
) -> Result<(u64, u64), StoreError> {
    // IMMEDIATE: the transaction reads the subscriptions before it writes, and a deferred one
    // would fail with SQLITE_BUSY_SNAPSHOT if another writer committed in between.
    let mut tx = pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(query_err("begin"))?;
    let filters = hooks::active_filters(
        sqlx::query_as(hooks::ACTIVE_FILTERS_SQL)
            .fetch_all(&mut *tx)
            .await
            .map_err(query_err("active subscriptions"))?,
    )?;
    let mut inserted = 0;
    let mut new_ids: HashSet<String> = HashSet::new();
    let bodies = crate::rows::bodies(events)?;
    for (chunk, bodies) in events
        .chunks(ROWS_PER_STATEMENT)
        .zip(bodies.chunks(ROWS_PER_STATEMENT))
    {
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new("INSERT INTO events (id, kind, camera_id, ts_ms, plate_text, body) ");
        qb.push_values(chunk.iter().zip(bodies), |mut b, (e, body)| {
            b.push_bind(e.id.to_string())
                .push_bind(e.kind.as_str())
                .push_bind(e.camera_id.as_str())
                .push_bind(e.ts.timestamp_millis())
                .push_bind(e.plate.as_ref().map(|p| p.text.as_str()))
                .push_bind(body.as_str());
        });
        qb.push(" ON CONFLICT (id) DO NOTHING");
        if filters.is_empty() {
            let result = qb
                .build()
                .execute(&mut *tx)
                .await
                .map_err(query_err("insert events"))?;
            inserted += result.rows_affected();
        } else {
            // Only events new to the store are queued: a resent batch is not delivered twice.
            qb.push(" RETURNING id");
            let ids: Vec<String> = qb
                .build_query_scalar()
                .fetch_all(&mut *tx)
                .await
                .map_err(query_err("insert events"))?;
            inserted += ids.len() as u64;
            new_ids.extend(ids);
        }
    }
    let new_events: Vec<&Event> = events
        .iter()
        .filter(|e| new_ids.contains(&e.id.to_string()))
        .collect();
    let mut queued = 0;
    for chunk in hooks::candidates(&filters, &new_events).chunks(ROWS_PER_STATEMENT) {
        let mut qb: QueryBuilder<Sqlite> =
            QueryBuilder::new("WITH p (sub, event_id, plate_filter, ord) AS (");
        qb.push_values(chunk, |mut b, (sub, id, plate_filter, ord)| {
            b.push_bind(sub.as_str())
                .push_bind(id.to_string())
                .push_bind(*plate_filter)
                .push_bind(*ord);
        });
        qb.push(") ").push(hooks::OUTBOX_COLUMNS);
        hooks::push_outbox_select!(qb, now_ms);
        queued += qb
            .build()
            .execute(&mut *tx)
            .await
            .map_err(query_err("queue deliveries"))?
            .rows_affected();
    }
    for chunk in flow.chunks(ROWS_PER_STATEMENT) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO flow_counts (camera_id, line_id, direction, class, interval_start_ms, interval_end_ms, count) ",
        );
        qb.push_values(chunk, |mut b, r| {
            b.push_bind(r.camera_id.as_str())
                .push_bind(r.line_id.as_str())
                .push_bind(r.direction.as_str())
                .push_bind(r.class.as_str())
                .push_bind(r.interval_start.timestamp_millis())
                .push_bind(r.interval_end.timestamp_millis())
                .push_bind(i64::from(r.count));
        });
        qb.push(crate::rows::FLOW_UPSERT);
        qb.build()
            .execute(&mut *tx)
            .await
            .map_err(query_err("insert flow counts"))?;
    }
    tx.commit().await.map_err(query_err("commit"))?;
    Ok((inserted, queued))
}
