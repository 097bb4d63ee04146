//! Building events (with evidence) from finished tracks and still-image reads.
use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use image::RgbImage;
use sha2::{Digest, Sha256};
use tracing::warn;
use uuid::Uuid;
use xl_schema::{
    BBox, Event, EventDetails, EventKind, Evidence, EvidenceKind, PlateInfo, PlateObservation,
    Provenance, Quad, Source, VehicleInfo,
};
use xl_store::{encode_jpeg, EvidenceStore};
use xl_track::FinishedTrack;

use crate::{AnalysedFrame, FrameMeta};

/// How event ids are made.
#[derive(Debug, Clone)]
pub enum IdMode {
    /// Fresh UUIDv7 per event (live).
    Random,
    /// UUIDv7 whose time is the event time and whose random bits hash the input, so re-running
    /// the same input gives the same ids (re-analysis).
    Deterministic,
}

pub struct EventFactory {
    pub pipeline: String,
    pub pipeline_sha256: String,
    pub models: BTreeMap<String, String>,
    pub evidence: Option<EvidenceStore>,
    pub ids: IdMode,
}

const JPEG_QUALITY: u8 = 85;
/// Margin around the plate box in the plate-crop evidence, as a share of the box size.
const CROP_MARGIN: f32 = 0.15;

/// One evidence image to write: its kind, file name and encoded bytes (or why encoding failed).
type EvidenceImage<'a> = (EvidenceKind, &'a str, Result<Vec<u8>, xl_store::StoreError>);

/// A rule's finding, ready to become an event.
#[derive(Debug, Clone)]
pub struct RuleEvent {
    pub kind: EventKind,
    pub camera_id: String,
    pub ts: DateTime<FixedOffset>,
    pub plate: Option<PlateInfo>,
    pub vehicle: Option<VehicleInfo>,
    pub evidence: Vec<Evidence>,
    pub details: EventDetails,
    pub source: Source,
    /// Unique per finding within its source; makes re-analysis ids stable.
    pub id_key: String,
}

impl EventFactory {
    /// The event of a finished plate track, with the vehicle it was associated with (in source
    /// pixels) when there was one.
    pub fn plate_read(
        &self,
        track: &FinishedTrack<AnalysedFrame>,
        vehicle: Option<VehicleInfo>,
    ) -> Event {
        let read = &track.best;
        let id_key = format!("track:{}:{}", read.frame.meta.frame_index, track.track_id);
        let mut event = self.build(
            &read.frame,
            &read.observation,
            track.text.clone(),
            track.confidence,
            &id_key,
        );
        event.vehicle = vehicle;
        event
    }

    /// An event for a rule's finding.
    pub fn rule_event(&self, r: RuleEvent) -> Event {
        let id = self.id_for(
            &r.camera_id,
            r.source.path.as_deref(),
            r.ts,
            &format!("{}:{}", r.kind.as_str(), r.id_key),
        );
        Event {
            id,
            kind: r.kind,
            camera_id: r.camera_id,
            ts: r.ts,
            plate: r.plate,
            vehicle: r.vehicle,
            evidence: r.evidence,
            details: Some(r.details),
            provenance: self.provenance(r.source),
        }
    }

    /// A rule event about one vehicle seen in `frame` (box `bbox`, analysis pixels), with the
    /// frame and a vehicle crop as evidence; `r.evidence` and `r.vehicle` are filled in here.
    pub fn vehicle_event(
        &self,
        frame: &AnalysedFrame,
        bbox: &BBox,
        vehicle: (u64, &str),
        mut r: RuleEvent,
    ) -> Event {
        let meta = &frame.meta;
        let id = self.event_id(meta, &format!("{}:{}", r.kind.as_str(), r.id_key));
        r.evidence = self.vehicle_evidence(frame, bbox, id);
        r.vehicle = Some(VehicleInfo {
            class: vehicle.1.to_string(),
            bbox: meta.to_source(bbox),
            track_id: vehicle.0,
        });
        let mut event = self.rule_event(r);
        // The evidence is filed under this id, so the event keeps it (rule_event would draw a
        // fresh one in live mode).
        event.id = id;
        event
    }

    /// The full frame and a crop of the vehicle (`bbox` in the frame's pixels) as evidence of
    /// event `id`.
    pub fn vehicle_evidence(&self, frame: &AnalysedFrame, bbox: &BBox, id: Uuid) -> Vec<Evidence> {
        let corners = Quad([
            [bbox.x1, bbox.y1],
            [bbox.x2, bbox.y1],
            [bbox.x2, bbox.y2],
            [bbox.x1, bbox.y2],
        ]);
        let crop = crop_around(&frame.image, &corners, 0.05);
        self.write_images(
            frame,
            id,
            [
                (
                    EvidenceKind::FrameJpeg,
                    "frame.jpg",
                    encode_jpeg(&frame.image, JPEG_QUALITY),
                ),
                (
                    EvidenceKind::VehicleJpeg,
                    "vehicle.jpg",
                    encode_jpeg(&crop, JPEG_QUALITY),
                ),
            ],
        )
    }

    fn provenance(&self, source: Source) -> Provenance {
        Provenance {
            pipeline: self.pipeline.clone(),
            pipeline_sha256: self.pipeline_sha256.clone(),
            models: self.models.clone(),
            source,
        }
    }

    /// One event per plate found in a still image.
    pub fn still_read(
        &self,
        frame: &AnalysedFrame,
        observation: &PlateObservation,
        index: usize,
    ) -> Event {
        let confidence = observation.text_confidence();
        self.build(
            frame,
            observation,
            observation.text.clone(),
            confidence,
            &format!("still:{index}"),
        )
    }

    fn build(
        &self,
        frame: &AnalysedFrame,
        observation: &PlateObservation,
        text: String,
        confidence: f32,
        id_key: &str,
    ) -> Event {
        let meta = &frame.meta;
        let id = self.event_id(meta, id_key);
        let (sx, sy) = meta.scale_to_source;
        let corners = observation.corners.map(|[x, y]| [x * sx, y * sy]);
        let evidence = self.write_evidence(frame, &observation.corners, id);
        Event {
            id,
            kind: EventKind::PlateRead,
            camera_id: meta.camera_id.to_string(),
            ts: meta.ts,
            plate: Some(PlateInfo {
                text,
                color: observation.color,
                confidence: (confidence * 1000.0).round() / 1000.0,
                corners: Quad(corners.0.map(|[x, y]| [x.round(), y.round()])),
                double_layer: observation.double_layer,
            }),
            vehicle: None,
            evidence,
            details: None,
            provenance: self.provenance(source_of(meta)),
        }
    }

    fn event_id(&self, meta: &FrameMeta, key: &str) -> Uuid {
        self.id_for(&meta.camera_id, meta.source_path.as_deref(), meta.ts, key)
    }

    fn id_for(
        &self,
        camera_id: &str,
        source_path: Option<&str>,
        ts: DateTime<FixedOffset>,
        key: &str,
    ) -> Uuid {
        let ms = ts.timestamp_millis().max(0) as u64;
        match self.ids {
            IdMode::Random => Uuid::now_v7(),
            IdMode::Deterministic => {
                let mut h = Sha256::new();
                h.update(camera_id.as_bytes());
                h.update(source_path.unwrap_or("").as_bytes());
                h.update(key.as_bytes());
                let digest = h.finalize();
                let mut random = [0u8; 10];
                random.copy_from_slice(&digest[..10]);
                uuid::Builder::from_unix_timestamp_millis(ms, &random).into_uuid()
            }
        }
    }

    /// Evidence failures (e.g. a full disk) are logged and leave the event without that image:
    /// the event itself is never lost for want of a picture.
    fn write_evidence(&self, frame: &AnalysedFrame, corners: &Quad, id: Uuid) -> Vec<Evidence> {
        let crop = crop_around(&frame.image, corners, CROP_MARGIN);
        let items = [
            (
                EvidenceKind::FrameJpeg,
                "frame.jpg",
                encode_jpeg(&frame.image, JPEG_QUALITY),
            ),
            (
                EvidenceKind::PlateJpeg,
                "plate.jpg",
                encode_jpeg(&crop, JPEG_QUALITY),
            ),
        ];
        self.write_images(frame, id, items)
    }

    fn write_images<const N: usize>(
        &self,
        frame: &AnalysedFrame,
        id: Uuid,
        items: [EvidenceImage<'_>; N],
    ) -> Vec<Evidence> {
        let Some(store) = &self.evidence else {
            return Vec::new();
        };
        let meta = &frame.meta;
        let mut out = Vec::with_capacity(N);
        for (kind, name, jpeg) in items {
            let written =
                jpeg.and_then(|bytes| store.put(&meta.camera_id, id, meta.ts, name, &bytes));
            match written {
                Ok(uri) => out.push(Evidence { kind, uri }),
                Err(e) => {
                    warn!(camera = %meta.camera_id, event = %id, error = %e, "evidence not written")
                }
            }
        }
        out
    }
}

/// Where an event built from `meta`'s frame came from.
pub fn source_of(meta: &FrameMeta) -> Source {
    Source {
        kind: meta.source_kind,
        path: meta.source_path.as_deref().map(str::to_string),
        frame: meta.frame_index,
        pts_90k: meta.pts_90k,
        size: Some([meta.source_size.0, meta.source_size.1]),
    }
}

/// The quad's box grown by `margin` of its size on each side, clamped to the image.
fn crop_around(image: &RgbImage, corners: &Quad, margin: f32) -> RgbImage {
    let b = corners.bbox();
    let (mx, my) = (b.width() * margin, b.height() * margin);
    let clamp_x = |v: f32| v.clamp(0.0, image.width() as f32) as u32;
    let clamp_y = |v: f32| v.clamp(0.0, image.height() as f32) as u32;
    let (x1, y1) = (clamp_x(b.x1 - mx), clamp_y(b.y1 - my));
    let (x2, y2) = (clamp_x(b.x2 + mx), clamp_y(b.y2 + my));
    let (w, h) = (x2.saturating_sub(x1).max(1), y2.saturating_sub(y1).max(1));
    let (x1, y1) = (x1.min(image.width() - 1), y1.min(image.height() - 1));
    image::imageops::crop_imm(
        image,
        x1,
        y1,
        w.min(image.width() - x1),
        h.min(image.height() - y1),
    )
    .to_image()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plate_crop_stays_inside_the_frame() {
        let image = RgbImage::new(100, 50);
        let q = Quad([[90.0, 40.0], [130.0, 40.0], [130.0, 60.0], [90.0, 60.0]]);
        let crop = crop_around(&image, &q, CROP_MARGIN);
        assert!(crop.width() >= 1 && crop.width() <= 16, "{}", crop.width());
        assert!(crop.height() >= 1 && crop.height() <= 13);
    }
}
