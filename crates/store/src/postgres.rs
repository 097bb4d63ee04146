//! PostgreSQL: the hot store at scale.
use std::collections::HashSet;
use std::time::Duration;

use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use xl_schema::Event;

use crate::error::query_err;
use crate::flow::FlowRow;
use crate::hooks;
use crate::StoreError;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Rows per statement: the whole batch travels as six arrays (UNNEST), so one statement and one
/// round trip carry thousands of events; this bounds a statement's memory on the server.
const ROWS_PER_STATEMENT: usize = 10_000;

pub(crate) async fn open(url: &str) -> Result<PgPool, StoreError> {
    let open_err = |source| StoreError::Open {
        url: crate::redact_url(url),
        source,
    };
    if !Postgres::database_exists(url).await.map_err(open_err)? {
        // Racing creators: the loser's "already exists" is fine.
        if let Err(e) = Postgres::create_database(url).await {
            if !Postgres::database_exists(url).await.map_err(open_err)? {
                return Err(open_err(e));
            }
        }
    }
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await
        .map_err(open_err)?;
    MIGRATIONS.run(&pool).await?;
    Ok(pool)
}

/// Returns (events inserted, outbox rows queued).
pub(crate) async fn insert_events(
    pool: &PgPool,
    events: &[Event],
    flow: &[FlowRow],
    now_ms: i64,
) -> Result<(u64, u64), StoreError> {
    let mut tx = pool.begin().await.map_err(query_err("begin"))?;
    let filters = hooks::active_filters(
        sqlx::query_as(hooks::ACTIVE_FILTERS_SQL)
            .fetch_all(&mut *tx)
            .await
            .map_err(query_err("active subscriptions"))?,
    )?;
    let mut inserted = 0;
    let mut new_ids: HashSet<uuid::Uuid> = HashSet::new();
    let bodies = crate::rows::bodies(events)?;
    for (chunk, bodies) in events
        .chunks(ROWS_PER_STATEMENT)
        .zip(bodies.chunks(ROWS_PER_STATEMENT))
    {
        let ids: Vec<uuid::Uuid> = chunk.iter().map(|e| e.id).collect();
        let kinds: Vec<&str> = chunk.iter().map(|e| e.kind.as_str()).collect();
        let cameras: Vec<&str> = chunk.iter().map(|e| e.camera_id.as_str()).collect();
        let ts: Vec<i64> = chunk.iter().map(|e| e.ts.timestamp_millis()).collect();
        let plates: Vec<Option<&str>> = chunk
            .iter()
            .map(|e| e.plate.as_ref().map(|p| p.text.as_str()))
            .collect();
        // Only events new to the store are queued: a resent batch is not delivered twice.
        // Without subscriptions nothing needs the new ids, so none are sent back.
        let returning = if filters.is_empty() {
            ""
        } else {
            " RETURNING id"
        };
        let sql = format!(
            "INSERT INTO events (id, kind, camera_id, ts_ms, plate_text, body) \
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[]) \
             ON CONFLICT (id) DO NOTHING{returning}"
        );
        let query = sqlx::query(&sql)
            .bind(&ids)
            .bind(&kinds)
            .bind(&cameras)
            .bind(&ts)
            .bind(&plates)
            .bind(bodies);
        if filters.is_empty() {
            let result = query
                .execute(&mut *tx)
                .await
                .map_err(query_err("insert events"))?;
            inserted += result.rows_affected();
        } else {
            let rows = query
                .fetch_all(&mut *tx)
                .await
                .map_err(query_err("insert events"))?;
            inserted += rows.len() as u64;
            new_ids.extend(rows.iter().map(|r| r.get::<uuid::Uuid, _>(0)));
        }
    }
    let new_events: Vec<&Event> = events.iter().filter(|e| new_ids.contains(&e.id)).collect();
    let mut queued = 0;
    for chunk in hooks::candidates(&filters, &new_events).chunks(ROWS_PER_STATEMENT) {
        let subs: Vec<&str> = chunk.iter().map(|c| c.0.as_str()).collect();
        let ids: Vec<uuid::Uuid> = chunk.iter().map(|c| c.1).collect();
        let plate_filters: Vec<i64> = chunk.iter().map(|c| c.2).collect();
        let ords: Vec<i64> = chunk.iter().map(|c| c.3).collect();
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
            "WITH p (sub, event_id, plate_filter, ord) AS (SELECT * FROM UNNEST(",
        );
        qb.push_bind(subs)
            .push("::text[], ")
            .push_bind(ids)
            .push("::uuid[], ")
            .push_bind(plate_filters)
            .push("::int8[], ")
            .push_bind(ords)
            .push("::int8[])) ")
            .push(hooks::OUTBOX_COLUMNS);
        hooks::push_outbox_select!(qb, now_ms);
        queued += qb
            .build()
            .execute(&mut *tx)
            .await
            .map_err(query_err("queue deliveries"))?
            .rows_affected();
    }
    if !flow.is_empty() {
        let col = |f: fn(&FlowRow) -> &str| flow.iter().map(f).collect::<Vec<&str>>();
        let starts: Vec<i64> = flow
            .iter()
            .map(|r| r.interval_start.timestamp_millis())
            .collect();
        let ends: Vec<i64> = flow
            .iter()
            .map(|r| r.interval_end.timestamp_millis())
            .collect();
        let counts: Vec<i64> = flow.iter().map(|r| i64::from(r.count)).collect();
        let sql = format!(
            "INSERT INTO flow_counts (camera_id, line_id, direction, class, interval_start_ms, interval_end_ms, count) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[], $7::int8[]){}",
            crate::rows::FLOW_UPSERT
        );
        sqlx::query(&sql)
            .bind(col(|r| &r.camera_id))
            .bind(col(|r| &r.line_id))
            .bind(col(|r| &r.direction))
            .bind(col(|r| &r.class))
            .bind(&starts)
            .bind(&ends)
            .bind(&counts)
            .execute(&mut *tx)
            .await
            .map_err(query_err("insert flow counts"))?;
    }
    tx.commit().await.map_err(query_err("commit"))?;
    Ok((inserted, queued))
}
