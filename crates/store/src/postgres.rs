//! PostgreSQL: the hot store at scale.
use std::time::Duration;

use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres};
use xl_schema::Event;

use crate::error::query_err;
use crate::flow::FlowRow;
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

pub(crate) async fn insert_events(
    pool: &PgPool,
    events: &[Event],
    flow: &[FlowRow],
) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await.map_err(query_err("begin"))?;
    let mut inserted = 0;
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
        let result = sqlx::query(
            "INSERT INTO events (id, kind, camera_id, ts_ms, plate_text, body) \
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[]) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&ids)
        .bind(&kinds)
        .bind(&cameras)
        .bind(&ts)
        .bind(&plates)
        .bind(bodies)
        .execute(&mut *tx)
        .await
        .map_err(query_err("insert events"))?;
        inserted += result.rows_affected();
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
    Ok(inserted)
}
