//! Events in the order they were created (their UUIDv7 ids), for a process that follows the
//! store instead of a pipeline's broadcast (`xl serve`'s live feed).
use uuid::Uuid;
use xl_schema::Event;

use crate::error::query_err;
use crate::store::{decode_event, with_pool};
use crate::{Store, StoreError};

/// The smallest UUIDv7 of millisecond `unix_ms`: every id created at or after that millisecond
/// sorts at or above it, every earlier one below.
pub fn uuid_v7_floor(unix_ms: u64) -> Uuid {
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&unix_ms.to_be_bytes()[2..]);
    bytes[6] = 0x70;
    bytes[8] = 0x80;
    Uuid::from_bytes(bytes)
}

impl Store {
    /// Up to `limit` events whose ids lie strictly between `after` and `before`, lowest id
    /// (earliest created) first.
    pub async fn events_created_between(
        &self,
        after: Uuid,
        before: Uuid,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError> {
        with_pool!(self, pool, d => {
            let sql = format!(
                "SELECT CAST(id AS TEXT), body FROM events WHERE id > CAST($1 AS {t}) \
                 AND id < CAST($2 AS {t}) ORDER BY id LIMIT $3",
                t = d.id_type
            );
            let rows: Vec<(String, String)> = sqlx::query_as(&sql)
                .bind(after.to_string())
                .bind(before.to_string())
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(query_err("events by creation"))?;
            rows.into_iter().map(|(id, body)| decode_event(id, body)).collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_sorts_between_the_milliseconds_ids() {
        let ms = 1_795_986_975_937u64;
        let floor = uuid_v7_floor(ms);
        assert_eq!(floor.get_version_num(), 7);
        let at = Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            ms / 1000,
            (ms % 1000) as u32 * 1_000_000,
        ));
        let before = Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            (ms - 1) / 1000,
            ((ms - 1) % 1000) as u32 * 1_000_000,
        ));
        assert!(before < floor && floor <= at, "{before} < {floor} <= {at}");
        assert!(
            before.to_string() < floor.to_string(),
            "text order agrees (SQLite)"
        );
    }
}
