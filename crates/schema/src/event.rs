use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::details::{EventDetails, ReadRef};
use crate::{BBox, PlateColor, Quad};

/// China Standard Time (UTC+08:00, no daylight saving): event timestamps are written in it.
pub fn china_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("constant offset is in range")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    PlateRead,
    /// 布控: a read plate is on a watch list.
    WatchlistHit,
    /// 闯禁行: a vehicle of a restricted class entered a zone inside a restricted time window.
    RestrictedZone,
    /// 超限超载: a weigh-in-motion record above the legal gross mass for its axle count.
    Overload,
    /// 遮挡/无牌: a vehicle crossed the view with no readable plate.
    ObscuredPlate,
    /// 套牌: one plate read at two places faster apart than a vehicle can travel.
    ClonedPlate,
    /// Vehicles counted over a line in one interval.
    FlowCount,
}

impl EventKind {
    pub const ALL: [EventKind; 7] = [
        EventKind::PlateRead,
        EventKind::WatchlistHit,
        EventKind::RestrictedZone,
        EventKind::Overload,
        EventKind::ObscuredPlate,
        EventKind::ClonedPlate,
        EventKind::FlowCount,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            EventKind::PlateRead => "plate_read",
            EventKind::WatchlistHit => "watchlist_hit",
            EventKind::RestrictedZone => "restricted_zone",
            EventKind::Overload => "overload",
            EventKind::ObscuredPlate => "obscured_plate",
            EventKind::ClonedPlate => "cloned_plate",
            EventKind::FlowCount => "flow_count",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlateInfo {
    /// The plate as read; `?` (`plate::UNREAD_CHAR`) where the reads of a pass gave no character
    /// a majority.
    pub text: String,
    pub color: PlateColor,
    pub confidence: f32,
    pub corners: Quad,
    /// A two-row plate (the yellow rear plates of lorries and buses); absent when single-row.
    #[serde(default, skip_serializing_if = "is_false")]
    pub double_layer: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VehicleInfo {
    pub class: String,
    pub bbox: BBox,
    pub track_id: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    FrameJpeg,
    PlateJpeg,
    VehicleJpeg,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub kind: EvidenceKind,
    /// Stable URI relative to the evidence root, e.g. `evidence://2026/11/29/cam-1/<id>-frame.jpg`.
    pub uri: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Rtsp,
    File,
}

/// Where the frame that produced an event came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub kind: SourceKind,
    /// File path for re-analysis; for RTSP the camera URL without credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub frame: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pts_90k: Option<i64>,
    /// Width and height of the source frame: the space of the event's plate corners and
    /// vehicle box (evidence frames may be smaller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<[u32; 2]>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub pipeline: String,
    pub pipeline_sha256: String,
    /// Model role -> sha256 of the model file.
    pub models: BTreeMap<String, String>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: Uuid,
    pub kind: EventKind,
    pub camera_id: String,
    pub ts: DateTime<FixedOffset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plate: Option<PlateInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<VehicleInfo>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// What the rule found, for every kind but `plate_read`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<EventDetails>,
    pub provenance: Provenance,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_round_trips_through_the_documented_json_shape() {
        let json = r#"{"id":"01936f3e-5a1b-7cc0-8a5e-7d4f7b3c2a10","kind":"plate_read","camera_id":"cam-0001",
            "ts":"2026-11-29T10:00:00.120+08:00",
            "plate":{"text":"皖S12345","color":"blue","confidence":0.97,"corners":[[1,2],[3,2],[3,4],[1,4]]},
            "evidence":[{"kind":"frame_jpeg","uri":"evidence://a.jpg"}],
            "provenance":{"pipeline":"plates","pipeline_sha256":"ab","models":{"plate_detector":"cd"},
              "source":{"kind":"rtsp","frame":1234,"pts_90k":123456}}}"#;
        let event: Event = serde_json::from_str(json).unwrap();
        assert_eq!(event.kind, EventKind::PlateRead);
        assert_eq!(event.plate.as_ref().unwrap().color, PlateColor::Blue);
        assert_eq!(event.ts.offset(), &china_offset());
        let back: Event = serde_json::from_str(&serde_json::to_string(&event).unwrap()).unwrap();
        assert_eq!(back, event);
    }
}
