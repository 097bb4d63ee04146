//! Synthetic events with the pipeline's shape for the store benchmarks: plate reads (with two
//! evidence URIs, provenance with model digests) across many cameras and plates.
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;
use xl_schema::{
    BBox, Event, EventKind, Evidence, EvidenceKind, PlateColor, PlateInfo, Provenance, Quad,
    Source, SourceKind, VehicleInfo,
};

pub const PROVINCES: [&str; 8] = ["皖", "苏", "浙", "沪", "豫", "鲁", "鄂", "赣"];
const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const SERIAL: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// The plate with number `n` (deterministic, 7 characters).
pub fn plate(n: u64) -> String {
    let province = PROVINCES[(n % PROVINCES.len() as u64) as usize];
    let mut rest = n / PROVINCES.len() as u64;
    let city = LETTERS[(rest % LETTERS.len() as u64) as usize] as char;
    rest /= LETTERS.len() as u64;
    let serial: String = (0..5)
        .map(|_| {
            let c = SERIAL[(rest % SERIAL.len() as u64) as usize] as char;
            rest /= SERIAL.len() as u64;
            c
        })
        .collect();
    format!("{province}{city}{serial}")
}

pub fn camera(n: u32) -> String {
    format!("cam-{n:05}")
}

/// Generates events spread over `span` from `start`, over `cameras` cameras and `plates`
/// distinct plates, in time order.
pub struct EventGen {
    rng: ChaCha8Rng,
    pub start: DateTime<FixedOffset>,
    pub span: Duration,
    pub cameras: u32,
    pub plates: u64,
    provenance: Provenance,
}

impl EventGen {
    pub fn new(
        seed: u64,
        start: DateTime<FixedOffset>,
        span: Duration,
        cameras: u32,
        plates: u64,
    ) -> Self {
        let digest = |s: &str| format!("{:0>64}", s);
        let models: BTreeMap<String, String> = [
            ("plate_detector", digest("9a1c3e")),
            ("plate_recognizer", digest("4be07d")),
            ("vehicle_detector", digest("5dc1a3")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            start,
            span,
            cameras,
            plates,
            provenance: Provenance {
                pipeline: "checkpoint".into(),
                pipeline_sha256: digest("c0ffee"),
                models,
                source: Source {
                    kind: SourceKind::Rtsp,
                    path: Some("rtsp://10.12.0.1:554/cam/1".into()),
                    frame: 0,
                    pts_90k: Some(0),
                    size: None,
                },
            },
        }
    }

    /// Event `i` of `total` (times rise with `i`).
    pub fn event(&mut self, i: u64, total: u64) -> Event {
        let offset_ms =
            (self.span.num_milliseconds() as f64 * i as f64 / total.max(1) as f64) as i64;
        let ts = self.start + Duration::milliseconds(offset_ms);
        let camera = camera(self.rng.gen_range(1..=self.cameras));
        let plate = plate(self.rng.gen_range(0..self.plates));
        let id = Uuid::now_v7();
        let day = ts.format("%Y/%m/%d");
        let x = self.rng.gen_range(100.0..1000.0_f32);
        let y = self.rng.gen_range(300.0..600.0_f32);
        let mut provenance = self.provenance.clone();
        provenance.source.frame = i;
        provenance.source.pts_90k = Some(i as i64 * 3600);
        Event {
            id,
            kind: EventKind::PlateRead,
            ts,
            plate: Some(PlateInfo {
                text: plate,
                color: PlateColor::Blue,
                confidence: self.rng.gen_range(0.8..1.0),
                corners: Quad([
                    [x, y],
                    [x + 140.0, y + 2.0],
                    [x + 139.0, y + 46.0],
                    [x - 1.0, y + 44.0],
                ]),
                double_layer: false,
            }),
            vehicle: Some(VehicleInfo {
                class: "car".into(),
                bbox: BBox {
                    x1: x - 120.0,
                    y1: y - 260.0,
                    x2: x + 260.0,
                    y2: y + 90.0,
                },
                track_id: i,
            }),
            evidence: vec![
                Evidence {
                    kind: EvidenceKind::FrameJpeg,
                    uri: format!("evidence://{day}/{camera}/{id}-frame.jpg"),
                },
                Evidence {
                    kind: EvidenceKind::PlateJpeg,
                    uri: format!("evidence://{day}/{camera}/{id}-plate.jpg"),
                },
            ],
            details: None,
            provenance,
            camera_id: camera,
        }
    }
}

/// p50 and p99 of durations in milliseconds.
pub fn percentiles(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    (at(0.50), at(0.99))
}

/// Adds generated events (seed 3, over `span_days` from `start`) until `store` holds `n`;
/// returns how many were added and the rate.
pub async fn fill_store(
    store: &xl_store::Store,
    n: u64,
    start: DateTime<FixedOffset>,
    span_days: i64,
    cameras: u32,
    plates: u64,
) -> Result<(u64, f64), xl_store::StoreError> {
    let have = store.count_events().await?.max(0) as u64;
    let mut gen = EventGen::new(3, start, Duration::days(span_days), cameras, plates);
    let t = std::time::Instant::now();
    const CHUNK: u64 = 10_000;
    let mut i = have;
    while i < n {
        let end = (i + CHUNK).min(n);
        let batch: Vec<_> = (i..end).map(|j| gen.event(j, n)).collect();
        store.insert_events(&batch).await?;
        i = end;
        if i.is_multiple_of(500_000) {
            tracing::info!(events = i, elapsed_s = t.elapsed().as_secs(), "filled");
        }
    }
    let added = n.saturating_sub(have);
    Ok((added, added as f64 / t.elapsed().as_secs_f64().max(1e-9)))
}
