//! The flow-count time series derived from `flow_count` events.
use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use xl_schema::{china_offset, Event, EventDetails};

/// One line of the time series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowRow {
    pub camera_id: String,
    pub line_id: String,
    pub direction: String,
    /// A vehicle class, or `total`.
    pub class: String,
    pub interval_start: DateTime<FixedOffset>,
    pub interval_end: DateTime<FixedOffset>,
    pub count: u32,
}

/// Filter for [`crate::Store::flow_counts`].
#[derive(Debug, Clone, Default)]
pub struct FlowQuery {
    pub camera_id: Option<String>,
    pub line_id: Option<String>,
    pub class: Option<String>,
    pub from: Option<DateTime<FixedOffset>>,
    pub to: Option<DateTime<FixedOffset>>,
    pub limit: u32,
}

/// The rows a `flow_count` event contributes (none for other events).
pub fn flow_rows(event: &Event) -> Vec<FlowRow> {
    let Some(EventDetails::FlowCount {
        line_id,
        direction,
        interval_start,
        interval_end,
        counts,
    }) = &event.details
    else {
        return Vec::new();
    };
    let row = |class: &str, count: u32| FlowRow {
        camera_id: event.camera_id.clone(),
        line_id: line_id.clone(),
        direction: direction.clone(),
        class: class.to_string(),
        interval_start: *interval_start,
        interval_end: *interval_end,
        count,
    };
    let mut rows: Vec<FlowRow> = counts.iter().map(|(c, n)| row(c, *n)).collect();
    rows.push(row("total", counts.values().sum()));
    rows
}

pub(crate) fn from_ms(ms: i64) -> DateTime<FixedOffset> {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&china_offset())
}
