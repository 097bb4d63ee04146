//! What both backends' writers share: event bodies and the flow-count upsert.
use xl_schema::Event;

use crate::StoreError;

/// Re-counting an interval replaces its count (a re-run of the same footage stays correct).
pub(crate) const FLOW_UPSERT: &str = " ON CONFLICT (camera_id, line_id, direction, class, interval_start_ms) DO UPDATE SET interval_end_ms = excluded.interval_end_ms, count = excluded.count";

/// Each event as its stored JSON document.
pub(crate) fn bodies(events: &[Event]) -> Result<Vec<String>, StoreError> {
    events
        .iter()
        .map(|e| {
            serde_json::to_string(e).map_err(|source| StoreError::Corrupt {
                id: e.id.to_string(),
                source,
            })
        })
        .collect()
}
