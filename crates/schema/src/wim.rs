//! Weigh-in-motion (WIM) records: what a roadside scale reports for each vehicle that crosses it.
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// One vehicle weighed at a station, as received by `POST /api/v1/wim` or a JSONL file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WimRecord {
    /// The station's own id for this record, when it sends one (used for idempotency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    pub station_id: String,
    /// Lane number at the station, 1-based.
    pub lane: u32,
    /// When the vehicle crossed the scale (RFC 3339 with offset).
    pub ts: DateTime<FixedOffset>,
    pub axles: u8,
    pub gross_kg: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed_kmh: Option<f32>,
}

impl WimRecord {
    /// Key under which a repeated delivery of the same record is recognised.
    pub fn idempotency_key(&self) -> String {
        match &self.record_id {
            Some(id) => format!("{}/{}", self.station_id, id),
            None => format!(
                "{}/{}/{}/{}/{}",
                self.station_id,
                self.lane,
                self.ts.timestamp_millis(),
                self.axles,
                self.gross_kg
            ),
        }
    }
}
