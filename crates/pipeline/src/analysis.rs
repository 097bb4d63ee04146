//! Per-camera analysis: one frame's plate and vehicle findings in; plate reads and rule events
//! out. Plates are tracked on their own (text voting); vehicles are tracked ByteTrack-style, and a
//! plate read belongs to the vehicle whose box holds the plate in the read's best frame.
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset};
use image::RgbImage;
use xl_rules::{VehiclePassSummary, ZoneEntry};
use xl_schema::{
    BBox, Event, EventDetails, EventKind, PlateObservation, ReadRef, SourceKind, VehicleDetection,
    VehicleInfo,
};
use xl_track::{
    FinishedTrack, FinishedVehicle, PlateTracker, TrackedVehicle, TrackerParams, VehicleTracker,
    VehicleTrackerParams,
};

use crate::enforcement::{read_ref, CameraRules, Enforcement, PassRecord};
use crate::event_factory::{source_of, RuleEvent};
use crate::held_reads::HeldReads;
use crate::EventFactory;

/// Where and when a frame was taken; carried with the frame through tracking into the event.
#[derive(Debug, Clone)]
pub struct FrameMeta {
    pub camera_id: Arc<str>,
    /// Index of the frame in its stream or file.
    pub frame_index: u64,
    pub pts_90k: Option<i64>,
    /// Monotonic seconds used for tracking (wall clock for live, PTS for files).
    pub time: f64,
    /// Event time.
    pub ts: DateTime<FixedOffset>,
    pub source_kind: SourceKind,
    /// File path, or the camera URL without credentials.
    pub source_path: Option<Arc<str>>,
    /// Factor from analysis pixels to source pixels (x, y).
    pub scale_to_source: (f32, f32),
    /// The source frame's width and height in pixels (what event coordinates are in).
    pub source_size: (u32, u32),
}

impl FrameMeta {
    /// Factor from a decoded frame's analysis pixels back to its source pixels (x, y).
    pub fn scale_of(frame: &xl_decode::DecodedFrame) -> (f32, f32) {
        (
            frame.source_width as f32 / frame.image.width().max(1) as f32,
            frame.source_height as f32 / frame.image.height().max(1) as f32,
        )
    }

    /// `bbox` (analysis pixels) in source pixels, rounded.
    pub fn to_source(&self, bbox: &BBox) -> BBox {
        let (sx, sy) = self.scale_to_source;
        BBox::new(
            (bbox.x1 * sx).round(),
            (bbox.y1 * sy).round(),
            (bbox.x2 * sx).round(),
            (bbox.y2 * sy).round(),
        )
    }

    /// The event time of tracking time `time` (seconds on this frame's clock).
    fn ts_at(&self, time: f64) -> DateTime<FixedOffset> {
        self.ts + Duration::milliseconds(((time - self.time) * 1000.0).round() as i64)
    }
}

/// A frame kept for evidence while its tracks are alive, with the vehicles tracked in it.
#[derive(Debug, Clone)]
pub struct AnalysedFrame {
    pub image: Arc<RgbImage>,
    pub meta: FrameMeta,
    /// Confirmed vehicle tracks seen in this frame (analysis pixels).
    pub vehicles: Arc<[TrackedVehicle]>,
}

/// What is known about one vehicle track while it lasts, and until late plate reads settle.
struct VehiclePass {
    class: xl_schema::VehicleClass,
    frames: u32,
    plate_observations: u32,
    first_ts: DateTime<FixedOffset>,
    last_ts: DateTime<FixedOffset>,
    /// The frame where the vehicle looked biggest, and its box there (analysis pixels).
    best: Option<(AnalysedFrame, BBox)>,
    max_height_src: f32,
    zone_entries: Vec<(ZoneEntry, AnalysedFrame, BBox)>,
    /// The share of the class vote `class` holds (see `TrackedVehicle::class_share`).
    class_share: f32,
    read: Option<(ReadRef, Event)>,
    /// Texts of the plate observations inside this vehicle's box, counted: the plate track
    /// whose elected text was seen most inside it belongs to it.
    plate_texts: HashMap<String, u32>,
    /// Its last box (analysis pixels), for the event's vehicle.
    last_box: BBox,
}

/// Tracking and per-camera rule state of one camera (or one video file).
pub struct CameraAnalysis {
    camera: Arc<str>,
    plates: PlateTracker<AnalysedFrame>,
    vehicles: VehicleTracker,
    passes: HashMap<u64, VehiclePass>,
    /// Ended vehicle passes waiting (until the time given) for plate tracks that end later.
    settling: Vec<(f64, u64, VehiclePass)>,
    /// How long a finished pass waits for its plate read.
    settle_secs: f64,
    /// Plate reads waiting for their vehicle's pass to settle, so one pass gives one read.
    held: HeldReads<AnalysedFrame>,
    rules: CameraRules,
    enforcement: Arc<Enforcement>,
    factory: Arc<EventFactory>,
    last_meta: Option<FrameMeta>,
}

impl CameraAnalysis {
    pub fn new(
        camera: Arc<str>,
        params: TrackerParams,
        vehicle_params: VehicleTrackerParams,
        rules: CameraRules,
        enforcement: Arc<Enforcement>,
        factory: Arc<EventFactory>,
    ) -> Self {
        Self {
            camera,
            settle_secs: params.max_gap_secs + 0.5,
            held: HeldReads::new(params.text_similarity),
            plates: PlateTracker::new(params),
            vehicles: VehicleTracker::new(vehicle_params),
            passes: HashMap::new(),
            settling: Vec::new(),
            rules,
            enforcement,
            factory,
            last_meta: None,
        }
    }

    /// Adds one analysed frame; returns the events that became final with it.
    pub fn on_frame(
        &mut self,
        image: Arc<RgbImage>,
        meta: FrameMeta,
        plates: Vec<PlateObservation>,
        vehicles: &[VehicleDetection],
    ) -> Vec<Event> {
        let time = meta.time;
        let update = self.vehicles.update(time, vehicles);
        if tracing::enabled!(tracing::Level::TRACE) {
            let boxes = |b: &BBox| [b.x1, b.y1, b.x2, b.y2].map(|v| v.round() as i32);
            let found: Vec<_> = vehicles
                .iter()
                .map(|d| {
                    (
                        d.class.as_str(),
                        (d.score * 100.0).round() as u8,
                        boxes(&d.bbox),
                    )
                })
                .collect();
            let tracked: Vec<_> = update
                .seen
                .iter()
                .map(|v| (v.track_id, v.class.as_str(), boxes(&v.bbox)))
                .collect();
            let plates: Vec<_> = plates
                .iter()
                .map(|p| {
                    let chars: Vec<u8> = p
                        .char_confidences
                        .iter()
                        .map(|c| (c * 100.0).round() as u8)
                        .collect();
                    let score = (p.detection_score * 100.0).round() as u8;
                    (p.text.as_str(), score, chars, boxes(&p.corners.bbox()))
                })
                .collect();
            tracing::trace!(camera = %self.camera, frame = meta.frame_index, ?found, ?tracked, ?plates, "analysed");
        }
        let frame = AnalysedFrame {
            image,
            meta: meta.clone(),
            vehicles: update.seen.clone().into(),
        };
        let mut events = Vec::new();
        self.observe_vehicles(&frame, &plates);
        let current = frame.vehicles.clone();
        let finished = self.plates.update(time, plates, frame);
        for track in finished {
            events.extend(self.on_plate_track(track, &current, time));
        }
        for v in update.finished {
            self.end_vehicle(v, time);
        }
        for (owner, track) in self.held.take_due(time, false) {
            events.extend(self.plate_read(&track, Some(owner)));
        }
        events.extend(self.settle(time, false));
        if let Some(flow) = &mut self.rules.flow {
            events.extend(
                flow.poll(meta.ts)
                    .into_iter()
                    .map(|b| flow_event(b, &meta, &self.factory)),
            );
        }
        events.extend(self.enforcement.poll_overload(meta.ts, &self.factory));
        self.last_meta = Some(meta);
        events
    }

    /// Ends every live track (end of input or shutdown).
    pub fn finish(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        let time = self.last_meta.as_ref().map_or(0.0, |m| m.time);
        for track in self.plates.finish_all() {
            events.extend(self.on_plate_track(track, &[], time));
        }
        for v in self.vehicles.finish_all() {
            self.end_vehicle(v, time);
        }
        events.extend(self.settle(time, true));
        for (owner, track) in self.held.take_due(time, true) {
            events.extend(self.plate_read(&track, Some(owner)));
        }
        if let (Some(flow), Some(meta)) = (&mut self.rules.flow, &self.last_meta) {
            events.extend(
                flow.flush(meta.ts)
                    .into_iter()
                    .map(|b| flow_event(b, meta, &self.factory)),
            );
        }
        events
    }

    pub fn camera(&self) -> &Arc<str> {
        &self.camera
    }

    pub fn active_tracks(&self) -> usize {
        self.plates.active_tracks() + self.vehicles.active_tracks()
    }

    fn observe_vehicles(&mut self, frame: &AnalysedFrame, plates: &[PlateObservation]) {
        let meta = &frame.meta;
        for v in frame.vehicles.iter() {
            let src = meta.to_source(&v.bbox);
            let pass = self
                .passes
                .entry(v.track_id)
                .or_insert_with(|| VehiclePass {
                    class: v.class,
                    frames: 0,
                    plate_observations: 0,
                    first_ts: meta.ts,
                    last_ts: meta.ts,
                    best: None,
                    max_height_src: 0.0,
                    zone_entries: Vec::new(),
                    class_share: v.class_share,
                    read: None,
                    plate_texts: HashMap::new(),
                    last_box: v.bbox,
                });
            pass.class = v.class;
            pass.class_share = v.class_share;
            pass.last_box = v.bbox;
            pass.frames += 1;
            pass.last_ts = meta.ts;
            if src.height() > pass.max_height_src {
                pass.max_height_src = src.height();
                pass.best = Some((frame.clone(), v.bbox));
            }
            for p in plates {
                if vehicle_of(&p.corners.bbox(), std::slice::from_ref(v)).is_some() {
                    pass.plate_observations += 1;
                    *pass.plate_texts.entry(p.text.clone()).or_default() += 1;
                }
            }
            // A vehicle may cross a line or enter a zone while its track is still tentative:
            // its earlier boxes go first, with their own times (the entry's evidence is this
            // frame, the first one the vehicle is reported in).
            let earlier = v
                .tentative
                .iter()
                .map(|(t, b)| (meta.ts_at(*t), meta.to_source(b)));
            for (ts, src) in earlier.chain(std::iter::once((meta.ts, src))) {
                if let Some(zones) = &mut self.rules.zones {
                    for entry in zones.observe(&meta.camera_id, v.track_id, v.class, src, ts) {
                        pass.zone_entries.push((entry, frame.clone(), v.bbox));
                    }
                }
                if let Some(flow) = &mut self.rules.flow {
                    flow.observe(&meta.camera_id, v.track_id, v.class, src, ts);
                }
            }
        }
    }

    /// A finished plate track: held while its vehicle's pass is open (a later track of the same
    /// plate on that vehicle joins it), else reported now. `current` holds the vehicles tracked in
    /// the frame at `now`, the one that ended the track.
    fn on_plate_track(
        &mut self,
        track: FinishedTrack<AnalysedFrame>,
        current: &[TrackedVehicle],
        now: f64,
    ) -> Vec<Event> {
        let owner = self.owner_of(&track, current, now);
        match owner {
            Some(id) if self.pass_of(id).is_some() => match self.held.hold(id, track, now) {
                Some(displaced) => self.plate_read(&displaced, Some(id)),
                None => Vec::new(),
            },
            _ => self.plate_read(&track, owner),
        }
    }

    /// The open pass of vehicle `id`: still tracked, or ended and settling.
    fn pass_of(&self, id: u64) -> Option<&VehiclePass> {
        self.passes.get(&id).or_else(|| {
            self.settling
                .iter()
                .find(|(_, i, _)| *i == id)
                .map(|(_, _, p)| p)
        })
    }

    /// The vehicle a finished plate track belongs to: the one that held its text most often; else
    /// the one holding its best read; else a vehicle that has shown no plate of its own and now
    /// holds where this plate was heading. The detector often loses a big vehicle's plate while
    /// the vehicle is tracked, and finds the vehicle only after the plate (a bus seen first by its
    /// plate, far away).
    fn owner_of(
        &self,
        track: &FinishedTrack<AnalysedFrame>,
        current: &[TrackedVehicle],
        now: f64,
    ) -> Option<u64> {
        let frame = &track.best.frame;
        let plate_box = track.best.observation.corners.bbox();
        self.passes
            .iter()
            .chain(self.settling.iter().map(|(_, id, p)| (id, p)))
            .filter_map(|(id, p)| p.plate_texts.get(&track.text).map(|n| (*n, *id)))
            .max()
            .map(|(_, id)| id)
            .or_else(|| vehicle_of(&plate_box, &frame.vehicles).map(|v| v.track_id))
            .or_else(|| {
                let plateless: Vec<TrackedVehicle> = current
                    .iter()
                    .filter(|v| {
                        self.passes
                            .get(&v.track_id)
                            .is_some_and(|p| p.plate_observations == 0 && p.read.is_none())
                            && !self.held.holds(v.track_id)
                    })
                    .cloned()
                    .collect();
                vehicle_of(&track.predicted_box(now), &plateless).map(|v| v.track_id)
            })
    }

    /// The plate read of a finished plate track on vehicle `owner_id`, and what the cross-camera
    /// rules make of it.
    fn plate_read(
        &mut self,
        track: &FinishedTrack<AnalysedFrame>,
        owner_id: Option<u64>,
    ) -> Vec<Event> {
        let frame = &track.best.frame;
        let plate_box = track.best.observation.corners.bbox();
        let vehicle: Option<(u64, xl_schema::VehicleClass, BBox)> = owner_id.and_then(|id| {
            let in_frame = frame.vehicles.iter().find(|v| v.track_id == id);
            match (in_frame, self.pass_of(id)) {
                (Some(v), Some(p)) => Some((id, p.class, v.bbox)),
                (Some(v), None) => Some((id, v.class, v.bbox)),
                (None, Some(p)) => Some((id, p.class, p.last_box)),
                (None, None) => None,
            }
        });
        let info = vehicle.map(|(id, class, bbox)| VehicleInfo {
            class: class.as_str().to_string(),
            bbox: frame.meta.to_source(&bbox),
            track_id: id,
        });
        let event = self.factory.plate_read(track, info.clone());
        let meta = &frame.meta;
        let pass = PassRecord {
            read: Some(read_ref(&event)),
            camera_id: event.camera_id.clone(),
            ts: event.ts,
            plate: event.plate.clone(),
            vehicle: info,
            evidence: event.evidence.clone(),
            source: event.provenance.source.clone(),
            event_id: event.id.to_string(),
            first_ts: meta.ts_at(track.first_time),
            last_ts: meta.ts_at(track.last_time),
            bbox: Some(meta.to_source(&plate_box)),
        };
        if let Some((id, _, _)) = vehicle {
            let owner = self.passes.get_mut(&id).or_else(|| {
                self.settling
                    .iter_mut()
                    .find(|(_, i, _)| *i == id)
                    .map(|(_, _, p)| p)
            });
            if let Some(p) = owner {
                p.read = Some((read_ref(&event), event.clone()));
            }
        }
        let mut events = self.enforcement.on_plate_read(&event, pass, &self.factory);
        events.insert(0, event);
        events
    }

    fn end_vehicle(&mut self, v: FinishedVehicle, now: f64) {
        if let Some(pass) = self.passes.remove(&v.track_id) {
            self.settling
                .push((now + self.settle_secs, v.track_id, pass));
        }
        if let Some(zones) = &mut self.rules.zones {
            zones.forget_track(&self.camera, v.track_id);
        }
        if let Some(flow) = &mut self.rules.flow {
            flow.forget_track(&self.camera, v.track_id);
        }
    }

    /// Judges the passes whose plate reads have had time to arrive (all of them at the end).
    fn settle(&mut self, now: f64, all: bool) -> Vec<Event> {
        let mut events = Vec::new();
        let due_ids: Vec<u64> = self
            .settling
            .iter()
            .filter(|(deadline, _, _)| all || *deadline <= now)
            .map(|(_, id, _)| *id)
            .collect();
        for id in due_ids {
            if let Some(track) = self.held.take(id) {
                events.extend(self.plate_read(&track, Some(id)));
            }
        }
        let (due, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.settling)
            .into_iter()
            .partition(|(deadline, _, _)| all || *deadline <= now);
        self.settling = keep;
        for (_, track_id, pass) in due {
            events.extend(self.judge_pass(track_id, pass));
        }
        events
    }

    fn judge_pass(&mut self, track_id: u64, pass: VehiclePass) -> Vec<Event> {
        let mut events = Vec::new();
        let plate_text = pass.read.as_ref().map(|(r, _)| r.plate.clone());
        for (entry, frame, bbox) in &pass.zone_entries {
            let permitted = match (&self.rules.zones, &plate_text) {
                (Some(z), Some(text)) => z.is_permitted(&entry.zone_id, text),
                _ => false,
            };
            // Entries are found with the class as it stood then; the violation is judged on the
            // whole pass's class vote.
            let clear =
                self.rules.zones.as_ref().is_some_and(|z| {
                    z.class_is_clear(&entry.zone_id, pass.class, pass.class_share)
                });
            if clear && !permitted {
                events.push(self.zone_event(track_id, &pass, entry, frame, bbox));
            }
        }
        let summary = VehiclePassSummary {
            class: pass.class,
            frames: pass.frames,
            max_box_height_px: pass.max_height_src,
            plate_observations: pass.plate_observations,
        };
        let obscured = self
            .rules
            .obscured
            .as_ref()
            .is_some_and(|r| r.judge(&summary));
        if obscured && pass.read.is_none() {
            if let Some(event) = self.obscured_event(track_id, &pass) {
                self.enforcement.offer_pass(PassRecord {
                    read: None,
                    camera_id: event.camera_id.clone(),
                    ts: event.ts,
                    plate: None,
                    vehicle: event.vehicle.clone(),
                    evidence: event.evidence.clone(),
                    source: event.provenance.source.clone(),
                    event_id: event.id.to_string(),
                    first_ts: pass.first_ts,
                    last_ts: pass.last_ts,
                    bbox: event.vehicle.as_ref().map(|v| v.bbox),
                });
                events.push(event);
            }
        }
        events
    }

    fn zone_event(
        &self,
        track_id: u64,
        pass: &VehiclePass,
        entry: &ZoneEntry,
        frame: &AnalysedFrame,
        bbox: &BBox,
    ) -> Event {
        let meta = &frame.meta;
        let rule = RuleEvent {
            kind: EventKind::RestrictedZone,
            camera_id: meta.camera_id.to_string(),
            ts: entry.ts,
            plate: pass.read.as_ref().and_then(|(_, e)| e.plate.clone()),
            vehicle: None,
            evidence: Vec::new(),
            details: EventDetails::RestrictedZone {
                zone_id: entry.zone_id.clone(),
                entered_at: entry.ts,
                point: entry.point,
                read: pass.read.as_ref().map(|(r, _)| r.clone()),
            },
            source: source_of(meta),
            id_key: format!("zone:{}:{}:{}", entry.zone_id, meta.frame_index, track_id),
        };
        self.factory
            .vehicle_event(frame, bbox, (track_id, pass.class.as_str()), rule)
    }

    fn obscured_event(&self, track_id: u64, pass: &VehiclePass) -> Option<Event> {
        let (frame, bbox) = pass.best.as_ref()?;
        let meta = &frame.meta;
        let rule = RuleEvent {
            kind: EventKind::ObscuredPlate,
            camera_id: meta.camera_id.to_string(),
            ts: meta.ts,
            plate: None,
            vehicle: None,
            evidence: Vec::new(),
            details: EventDetails::ObscuredPlate {
                frames: pass.frames,
                max_box_height_px: pass.max_height_src,
                first_seen: pass.first_ts,
                last_seen: pass.last_ts,
            },
            source: source_of(meta),
            id_key: format!("obscured:{}:{}", meta.frame_index, track_id),
        };
        Some(
            self.factory
                .vehicle_event(frame, bbox, (track_id, pass.class.as_str()), rule),
        )
    }
}

/// The smallest vehicle box that holds the plate's centre in its lower part (a plate sits on
/// the front or rear, never on the roof).
fn vehicle_of<'a>(plate: &BBox, vehicles: &'a [TrackedVehicle]) -> Option<&'a TrackedVehicle> {
    let (cx, cy) = plate.center();
    vehicles
        .iter()
        .filter(|v| {
            let b = v.bbox;
            cx >= b.x1
                && cx <= b.x2
                && cy >= b.y1 + 0.3 * b.height()
                && cy <= b.y2 + 0.05 * b.height()
        })
        .min_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()))
}

fn flow_event(bucket: xl_rules::FlowBucket, meta: &FrameMeta, factory: &EventFactory) -> Event {
    let counts = bucket
        .counts
        .iter()
        .map(|(class, n)| (class.as_str().to_string(), *n))
        .collect();
    factory.rule_event(RuleEvent {
        kind: EventKind::FlowCount,
        camera_id: bucket.camera.clone(),
        ts: bucket.interval_end,
        plate: None,
        vehicle: None,
        evidence: Vec::new(),
        id_key: format!(
            "flow:{}:{}:{}",
            bucket.line_id,
            bucket.direction,
            bucket.interval_start.timestamp()
        ),
        details: EventDetails::FlowCount {
            line_id: bucket.line_id,
            direction: bucket.direction,
            interval_start: bucket.interval_start,
            interval_end: bucket.interval_end,
            counts,
        },
        source: source_of(meta),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use xl_rules::{
        CountLineConfig, FlowConfig, LaneConfig, ObscuredConfig, OverloadConfig, RulesConfig,
        StationConfig, WatchlistConfig, ZoneConfig,
    };
    use xl_schema::{china_offset, PlateColor, Quad, VehicleClass, WimRecord};

    use crate::IdMode;

    fn factory() -> Arc<EventFactory> {
        Arc::new(EventFactory {
            pipeline: "test".into(),
            pipeline_sha256: "00".into(),
            models: Default::default(),
            evidence: None,
            ids: IdMode::Deterministic,
        })
    }

    fn rules(dir: &std::path::Path) -> RulesConfig {
        let list = dir.join("list.csv");
        std::fs::write(&list, "plate,reason,list\n皖S12345,stolen,盗抢车辆\n").unwrap();
        RulesConfig {
            watchlist: Some(WatchlistConfig {
                files: vec![list],
                fuzzy: true,
            }),
            zones: vec![ZoneConfig {
                id: "z1".into(),
                camera: "cam-1".into(),
                polygon: vec![[0.0, 300.0], [640.0, 300.0], [640.0, 360.0], [0.0, 360.0]],
                windows: vec![],
                classes: vec![VehicleClass::Truck],
                permits: vec![],
                min_class_share: 2.0 / 3.0,
            }],
            obscured: Some(ObscuredConfig {
                classes: vec![VehicleClass::Car, VehicleClass::Truck],
                min_frames: 5,
                min_box_height_px: 60.0,
            }),
            flow: Some(FlowConfig {
                interval_secs: 60,
                lines: vec![CountLineConfig {
                    id: "l1".into(),
                    camera: "cam-1".into(),
                    from: [0.0, 200.0],
                    to: [640.0, 200.0],
                    forward: "inbound".into(),
                    backward: "outbound".into(),
                }],
            }),
            ..RulesConfig::default()
        }
    }

    fn analysis(rules: &RulesConfig) -> CameraAnalysis {
        let enforcement = Arc::new(Enforcement::new(rules, Default::default()).unwrap());
        CameraAnalysis::new(
            Arc::from("cam-1"),
            TrackerParams::default(),
            VehicleTrackerParams::default(),
            enforcement.camera_rules("cam-1").unwrap(),
            enforcement,
            factory(),
        )
    }

    /// Feeds frames 0..`frames` (their plates and vehicles from `frame`) to a fresh analysis under
    /// `rules`, then ends the input; returns every event.
    fn drive(
        rules: &RulesConfig,
        frames: u64,
        mut frame: impl FnMut(u64) -> (Vec<PlateObservation>, Vec<VehicleDetection>),
    ) -> Vec<Event> {
        let mut a = analysis(rules);
        let image = Arc::new(RgbImage::new(640, 360));
        let mut events = Vec::new();
        for k in 0..frames {
            let (plates, vehicles) = frame(k);
            events.extend(a.on_frame(image.clone(), meta(k), plates, &vehicles));
        }
        events.extend(a.finish());
        events
    }

    fn meta(k: u64) -> FrameMeta {
        let t0 = china_offset()
            .with_ymd_and_hms(2026, 11, 29, 10, 0, 0)
            .unwrap();
        FrameMeta {
            camera_id: Arc::from("cam-1"),
            frame_index: k,
            pts_90k: Some(k as i64 * 18_000),
            time: k as f64 * 0.2,
            ts: t0 + Duration::milliseconds(k as i64 * 200),
            source_kind: SourceKind::File,
            source_path: Some(Arc::from("cam-1.mp4")),
            scale_to_source: (1.0, 1.0),
            source_size: (1280, 720),
        }
    }

    /// A confident detection of `class` at `bbox`.
    fn seen(class: VehicleClass, bbox: BBox) -> VehicleDetection {
        VehicleDetection {
            class,
            score: 0.8,
            bbox,
        }
    }

    fn plate_at(bbox: &BBox) -> PlateObservation {
        let (cx, y) = (bbox.center().0, bbox.y2 - 0.15 * bbox.height());
        PlateObservation {
            corners: Quad([
                [cx - 30.0, y - 8.0],
                [cx + 30.0, y - 8.0],
                [cx + 30.0, y + 8.0],
                [cx - 30.0, y + 8.0],
            ]),
            detection_score: 0.95,
            text: "皖S12345".into(),
            char_confidences: vec![0.99; 8],
            color: PlateColor::Blue,
            double_layer: false,
        }
    }

    /// A truck with a watch-listed plate and a car with no plate drive down through the count line
    /// into the zone.
    #[test]
    fn vehicle_passes_become_reads_and_rule_events() {
        let dir = tempfile::tempdir().unwrap();
        let rules = rules(dir.path());
        let mut a = analysis(&rules);
        let image = Arc::new(RgbImage::new(640, 360));
        let mut events = Vec::new();
        for k in 0..20u64 {
            let y = 40.0 + 15.0 * k as f32;
            let truck = BBox::new(60.0, y, 260.0, y + 120.0);
            let car = BBox::new(380.0, y, 540.0, y + 100.0);
            let dets = [
                seen(VehicleClass::Truck, truck),
                seen(VehicleClass::Car, car),
            ];
            events.extend(a.on_frame(image.clone(), meta(k), vec![plate_at(&truck)], &dets));
        }
        events.extend(a.finish());
        let of = |kind: EventKind| events.iter().filter(move |e| e.kind == kind);

        let read = of(EventKind::PlateRead).next().expect("a plate read");
        let vehicle = read.vehicle.as_ref().expect("the read names its vehicle");
        assert_eq!(vehicle.class, "truck");
        assert_eq!(of(EventKind::PlateRead).count(), 1);

        let hit = of(EventKind::WatchlistHit)
            .next()
            .expect("a watch-list hit");
        assert!(matches!(
            &hit.details,
            Some(EventDetails::WatchlistHit { fuzzy: false, .. })
        ));

        let zone: Vec<_> = of(EventKind::RestrictedZone).collect();
        assert_eq!(zone.len(), 1, "only the truck is restricted: {zone:?}");
        assert_eq!(zone[0].plate.as_ref().unwrap().text, "皖S12345");
        assert_eq!(zone[0].vehicle.as_ref().unwrap().track_id, vehicle.track_id);

        let obscured: Vec<_> = of(EventKind::ObscuredPlate).collect();
        assert_eq!(obscured.len(), 1, "only the car showed no plate");
        assert_eq!(obscured[0].vehicle.as_ref().unwrap().class, "car");

        assert_eq!(inbound(&events), 2, "both vehicles crossed the line once");
    }

    /// Vehicles counted inbound on the test's count line.
    fn inbound(events: &[Event]) -> u32 {
        events
            .iter()
            .filter_map(|e| match &e.details {
                Some(EventDetails::FlowCount {
                    direction, counts, ..
                }) if direction == "inbound" => Some(counts.values().sum::<u32>()),
                _ => None,
            })
            .sum()
    }

    #[test]
    fn a_line_crossed_before_the_track_is_confirmed_is_still_counted() {
        // First seen just above the line (y = 200), then below it: the crossing happens between
        // the tentative frame and the confirming one.
        let dir = tempfile::tempdir().unwrap();
        let events = drive(&rules(dir.path()), 8, |k| {
            let y = 70.0 + 25.0 * k as f32;
            let car = seen(VehicleClass::Car, BBox::new(380.0, y, 540.0, y + 120.0));
            (vec![], vec![car])
        });
        assert_eq!(inbound(&events), 1);
    }

    #[test]
    fn a_bus_that_crossed_the_line_while_scored_weakly_is_still_counted() {
        // NanoDet scores an approaching bus 0.3-0.45, too weak to start a track, until it is past
        // the line (y = 200, crossed near frame 5); its first confident frame (7) starts a track
        // that keeps the weak boxes before it.
        let dir = tempfile::tempdir().unwrap();
        let events = drive(&rules(dir.path()), 10, |k| {
            let y = 15.0 * k as f32;
            let bus = VehicleDetection {
                score: if k < 7 { 0.38 } else { 0.6 },
                ..seen(VehicleClass::Bus, BBox::new(200.0, y, 500.0, y + 120.0))
            };
            (vec![], vec![bus])
        });
        assert_eq!(inbound(&events), 1);
    }

    #[test]
    fn a_lorry_leaning_into_the_next_lane_is_weighed_in_its_plates_lane() {
        // Seen at an angle, the lorry's box (x 100-600) has its bottom-centre in lane 2; its
        // plate, at the front, is in lane 1, where the scale weighed it.
        let dir = tempfile::tempdir().unwrap();
        let mut rules = rules(dir.path());
        let lane = |number: u32, x1: f32, x2: f32| LaneConfig {
            lane: number,
            polygon: Some(vec![[x1, 0.0], [x2, 0.0], [x2, 720.0], [x1, 720.0]]),
        };
        rules.overload = Some(OverloadConfig {
            stations: vec![StationConfig {
                id: "WIM-1".into(),
                camera: "cam-1".into(),
                lanes: vec![lane(1, 0.0, 320.0), lane(2, 320.0, 1280.0)],
            }],
            ..OverloadConfig::default()
        });
        let enforcement = Arc::new(Enforcement::new(&rules, Default::default()).unwrap());
        let mut a = CameraAnalysis::new(
            Arc::from("cam-1"),
            TrackerParams::default(),
            VehicleTrackerParams::default(),
            enforcement.camera_rules("cam-1").unwrap(),
            enforcement.clone(),
            factory(),
        );
        enforcement
            .ingest_wim(WimRecord {
                record_id: Some("1".into()),
                station_id: "WIM-1".into(),
                lane: 1,
                ts: meta(10).ts,
                axles: 2,
                gross_kg: 30_000,
                speed_kmh: None,
            })
            .unwrap();
        let image = Arc::new(RgbImage::new(640, 360));
        let mut events = Vec::new();
        for k in 0..20u64 {
            let y = 40.0 + 15.0 * k as f32;
            let lorry = BBox::new(100.0, y, 600.0, y + 200.0);
            let mut plate = plate_at(&lorry);
            for c in plate.corners.0.iter_mut() {
                c[0] -= 170.0;
            }
            let det = seen(VehicleClass::Truck, lorry);
            events.extend(a.on_frame(image.clone(), meta(k), vec![plate], &[det]));
        }
        events.extend(a.finish());
        events.extend(enforcement.flush_overload(&factory()));
        let overload: Vec<_> = events
            .iter()
            .filter(|e| e.kind == EventKind::Overload)
            .collect();
        assert_eq!(overload.len(), 1, "{overload:?}");
        let plate = overload[0]
            .plate
            .as_ref()
            .expect("fused with the lorry's read");
        assert_eq!(plate.text, "皖S12345");
    }

    #[test]
    fn a_plate_read_before_its_vehicle_is_found_belongs_to_that_vehicle() {
        // The plate is read while the lorry is far (frames 0-3) and the detector does not see
        // the lorry yet; from frame 5 the lorry is tracked but its plate is no longer found.
        // The read is the lorry's, and the lorry is not reported as having an obscured plate.
        let dir = tempfile::tempdir().unwrap();
        let mut a = analysis(&rules(dir.path()));
        let image = Arc::new(RgbImage::new(640, 360));
        let mut events = Vec::new();
        for k in 0..20u64 {
            let lorry = BBox::new(60.0, 15.0 * k as f32, 260.0, 15.0 * k as f32 + 200.0);
            let plates = if k < 4 {
                vec![plate_at(&lorry)]
            } else {
                vec![]
            };
            let dets = if k >= 5 {
                vec![seen(VehicleClass::Truck, lorry)]
            } else {
                vec![]
            };
            events.extend(a.on_frame(image.clone(), meta(k), plates, &dets));
        }
        events.extend(a.finish());
        let read = events
            .iter()
            .find(|e| e.kind == EventKind::PlateRead)
            .expect("a plate read");
        let vehicle = read.vehicle.as_ref().expect("the read names the lorry");
        assert_eq!(vehicle.class, "truck");
        assert!(
            events.iter().all(|e| e.kind != EventKind::ObscuredPlate),
            "{events:?}"
        );
    }

    #[test]
    fn a_plate_lost_for_two_seconds_mid_pass_is_still_one_read() {
        // Read in three far frames with the wrong province, not found for 2 s (longer than the
        // plate tracker's 1.5 s gap), then read right for 2.4 s: one vehicle, one read.
        let dir = tempfile::tempdir().unwrap();
        let events = drive(&rules(dir.path()), 30, |k| {
            let y = 20.0 + 5.0 * k as f32;
            let car = BBox::new(300.0, y, 500.0, y + 120.0);
            let text = match k {
                0..=2 => Some("浙C70L71"),
                13..=24 => Some("渝C70L71"),
                _ => None,
            };
            let plates = text.map(|t| PlateObservation {
                text: t.into(),
                ..plate_at(&car)
            });
            (
                plates.into_iter().collect(),
                vec![seen(VehicleClass::Car, car)],
            )
        });
        let reads: Vec<_> = events
            .iter()
            .filter(|e| e.kind == EventKind::PlateRead)
            .filter_map(|e| e.plate.as_ref().map(|p| p.text.as_str()))
            .collect();
        assert_eq!(reads, vec!["渝C70L71"]);
    }

    #[test]
    fn a_car_the_detector_calls_a_truck_only_some_of_the_time_raises_no_zone_event() {
        // An estate car: "car" in its 10 far frames, "truck" in the 16 nearer ones; it enters
        // the zone (y >= 300) at frame 18 and is a truck by the running vote from frame 20, but
        // the truck holds 62% of the vote, which is no clear truck. A lorry called a truck
        // throughout is a violation.
        for (mixed, expected) in [(true, 0), (false, 1)] {
            let dir = tempfile::tempdir().unwrap();
            let events = drive(&rules(dir.path()), 26, |k| {
                let y = 40.0 + 8.0 * k as f32;
                let class = if mixed && k < 10 {
                    VehicleClass::Car
                } else {
                    VehicleClass::Truck
                };
                (
                    vec![],
                    vec![seen(class, BBox::new(60.0, y, 260.0, y + 120.0))],
                )
            });
            let zone = events
                .iter()
                .filter(|e| e.kind == EventKind::RestrictedZone)
                .count();
            assert_eq!(zone, expected, "mixed {mixed}");
        }
    }

    #[test]
    fn a_permitted_truck_with_a_readable_plate_raises_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut rules = rules(dir.path());
        rules.zones[0].permits = vec!["皖S12345".into()];
        let mut a = analysis(&rules);
        let image = Arc::new(RgbImage::new(640, 360));
        let mut events = Vec::new();
        for k in 0..20u64 {
            let y = 40.0 + 15.0 * k as f32;
            let truck = BBox::new(60.0, y, 260.0, y + 120.0);
            let det = seen(VehicleClass::Truck, truck);
            events.extend(a.on_frame(image.clone(), meta(k), vec![plate_at(&truck)], &[det]));
        }
        events.extend(a.finish());
        assert!(events.iter().all(|e| e.kind != EventKind::RestrictedZone));
        assert!(events.iter().all(|e| e.kind != EventKind::ObscuredPlate));
    }
}
