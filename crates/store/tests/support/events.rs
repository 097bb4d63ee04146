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
