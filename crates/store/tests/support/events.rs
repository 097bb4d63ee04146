//! A minimal stored event for store tests: a plate read's shape without evidence.
#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use uuid::Uuid;
use xl_schema::{Event, EventKind, PlateColor, PlateInfo, Provenance, Quad, Source, SourceKind};

pub fn event(kind: EventKind, camera: &str, plate: &str, ts: DateTime<FixedOffset>) -> Event {
    Event {
        id: Uuid::now_v7(),
        kind,
        camera_id: camera.into(),
        ts,
        plate: Some(PlateInfo {
            text: plate.into(),
            color: PlateColor::Blue,
            confidence: 0.9,
            corners: Quad([[0.0, 0.0], [10.0, 0.0], [10.0, 3.0], [0.0, 3.0]]),
            double_layer: false,
        }),
        vehicle: None,
        evidence: vec![],
        details: None,
        provenance: Provenance {
            pipeline: "plates".into(),
            pipeline_sha256: "00".into(),
            models: BTreeMap::new(),
            source: Source {
                kind: SourceKind::Rtsp,
                path: None,
                frame: 1,
                pts_90k: None,
                size: None,
            },
        },
    }
}

/// Plate read number `i` of a steady stream: 10 ms apart from 2026-11-29 10:00 (+08:00), over
/// `cameras` cameras (`cam-0`...) in turn and 977 plates.
pub fn numbered(i: i64, cameras: i64) -> Event {
    let ts = DateTime::parse_from_rfc3339("2026-11-29T10:00:00+08:00").unwrap()
        + chrono::Duration::milliseconds(i * 10);
    event(
        EventKind::PlateRead,
        &format!("cam-{}", i % cameras),
        &format!("皖S{:05}", i % 977),
        ts,
    )
}
