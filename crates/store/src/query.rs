use chrono::{DateTime, FixedOffset};
use uuid::Uuid;
use xl_schema::EventKind;

/// Filters for event search; results are in time order, keyset-paginated by (time, id).
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Exact plate text.
    pub plate: Option<String>,
    pub camera_id: Option<String>,
    pub kind: Option<EventKind>,
    pub from: Option<DateTime<FixedOffset>>,
    pub to: Option<DateTime<FixedOffset>>,
    /// Continue after this (ts_ms, id) - the last row of the previous page.
    pub after: Option<(i64, Uuid)>,
    pub limit: u32,
}
