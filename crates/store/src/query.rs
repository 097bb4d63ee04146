use chrono::{DateTime, FixedOffset};
use uuid::Uuid;
use xl_schema::EventKind;

use crate::scope::{is_plate_search, Visibility};

/// Filters for event search; results are in time order, keyset-paginated by (time, id).
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Exact plate text.
    pub plate: Option<String>,
    /// Plate text starting with this (e.g. "皖S" for a prefecture, "皖SA1" for a partial read).
    pub plate_prefix: Option<String>,
    pub camera_id: Option<String>,
    pub kind: Option<EventKind>,
    pub from: Option<DateTime<FixedOffset>>,
    pub to: Option<DateTime<FixedOffset>>,
    /// Continue after this (ts_ms, id) - the last row of the previous page.
    pub after: Option<(i64, Uuid)>,
    pub limit: u32,
    /// Only the event with this id.
    pub id: Option<Uuid>,
    /// Read on behalf of a principal: only what they may see (None: everything, for the
    /// operator's CLI and the system's own tasks).
    pub visibility: Option<Visibility>,
}

/// Largest page a query returns, whatever `limit` asks for.
pub const MAX_PAGE: u32 = 100_000;
/// Page size when `limit` is 0.
pub const DEFAULT_PAGE: u32 = 100;

impl EventQuery {
    /// The page size this query returns.
    pub fn page_size(&self) -> u32 {
        if self.limit == 0 {
            DEFAULT_PAGE
        } else {
            self.limit.min(MAX_PAGE)
        }
    }

    /// Whether this query searches by plate text (exact or prefix).
    pub fn is_plate_search(&self) -> bool {
        is_plate_search(self.plate.as_deref(), self.plate_prefix.as_deref())
    }

    /// Whether the principal may see an event of `kind` from `camera` under this query, as
    /// resolved per camera (None: no per-camera resolution, only SQL can tell).
    pub(crate) fn admits(&self, camera: &str, kind: &str) -> bool {
        match &self.visibility {
            None => true,
            Some(v) => match &v.access {
                Some(map) => map.masks(camera, kind, self.is_plate_search()).is_some(),
                None => false,
            },
        }
    }

    /// Whether `row` (an event's filterable columns) passes every filter, the keyset cursor
    /// included. The stores push these filters into their queries; this is the same predicate
    /// for data read without an index (the cold tier's row filter).
    pub fn matches(&self, row: &RowKey<'_>) -> bool {
        let plate = row.plate_text;
        self.plate.as_deref().is_none_or(|p| plate == Some(p))
            && self
                .plate_prefix
                .as_deref()
                .is_none_or(|p| plate.is_some_and(|t| t.starts_with(p)))
            && self.camera_id.as_deref().is_none_or(|c| row.camera_id == c)
            && self.kind.is_none_or(|k| row.kind == k.as_str())
            && self.from.is_none_or(|f| row.ts_ms >= f.timestamp_millis())
            && self.to.is_none_or(|t| row.ts_ms < t.timestamp_millis())
            && self
                .after
                .is_none_or(|(ts, id)| (row.ts_ms, row.id) > (ts, id))
            && self.id.is_none_or(|id| row.id == id)
            && self.admits(row.camera_id, row.kind)
    }
}

/// The filterable columns of one stored event.
#[derive(Debug, Clone, Copy)]
pub struct RowKey<'a> {
    pub id: Uuid,
    pub kind: &'a str,
    pub camera_id: &'a str,
    pub ts_ms: i64,
    pub plate_text: Option<&'a str>,
}
