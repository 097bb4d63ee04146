//! Flow counts: vehicles crossing count lines, per line, direction, class and fixed interval.
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, FixedOffset, Utc};
use xl_schema::{china_offset, BBox, VehicleClass};

use crate::geometry::{bottom_centre, segments_intersect, side_of_line, Point, Side};
use crate::FlowConfig;

/// Vehicles that crossed one line in one direction during one interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowBucket {
    pub line_id: String,
    pub camera: String,
    /// The line's `forward` or `backward` name.
    pub direction: String,
    /// Inclusive start, China local time.
    pub interval_start: DateTime<FixedOffset>,
    /// Exclusive end.
    pub interval_end: DateTime<FixedOffset>,
    /// Crossings by class. Only classes that crossed are present: an interval with no crossings
    /// has an empty map. Use [`FlowBucket::count`] to read a class with zero as default.
    pub counts: BTreeMap<VehicleClass, u32>,
}

impl FlowBucket {
    pub fn count(&self, class: VehicleClass) -> u32 {
        self.counts.get(&class).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u32 {
        self.counts.values().sum()
    }
}

#[derive(Debug)]
struct Line {
    id: String,
    camera: String,
    from: Point,
    to: Point,
    /// `[forward, backward]` names.
    names: [String; 2],
}

#[derive(Debug, Default)]
struct CameraState {
    /// Indexes of this camera's lines in config order.
    lines: Vec<usize>,
    /// First interval not yet emitted; `None` before the first observation.
    next: Option<i64>,
    /// Whether any interval was emitted (until then an earlier observation moves `next` back).
    emitted: bool,
    /// Latest interval observed.
    last: i64,
    /// Counts by (interval, line, direction 0 = forward / 1 = backward).
    counts: BTreeMap<(i64, usize, usize), BTreeMap<VehicleClass, u32>>,
}

#[derive(Debug)]
struct TrackState {
    last: Point,
    last_ts: DateTime<FixedOffset>,
    /// Last strict side of each line (by line index), ignoring points exactly on it.
    sides: HashMap<usize, Side>,
    /// Lines this track has been counted on.
    counted: HashSet<usize>,
}

/// Counts line crossings of tracked vehicles.
#[derive(Debug)]
pub struct FlowCounter {
    interval_ms: i64,
    lines: Vec<Line>,
    cameras: HashMap<String, CameraState>,
    tracks: HashMap<(String, u64), TrackState>,
    late_crossings: u64,
}

impl FlowCounter {
    /// Builds the counter; the config is expected to have passed [`FlowConfig::validate`] (a zero
    /// interval is treated as one second).
    pub fn new(cfg: &FlowConfig) -> Self {
        let mut cameras: HashMap<String, CameraState> = HashMap::new();
        let lines: Vec<Line> = cfg
            .lines
            .iter()
            .map(|l| Line {
                id: l.id.clone(),
                camera: l.camera.clone(),
                from: l.from,
                to: l.to,
                names: [l.forward.clone(), l.backward.clone()],
            })
            .collect();
        for (i, l) in lines.iter().enumerate() {
            cameras.entry(l.camera.clone()).or_default().lines.push(i);
        }
        Self {
            interval_ms: i64::from(cfg.interval_secs.max(1)) * 1000,
            lines,
            cameras,
            tracks: HashMap::new(),
            late_crossings: 0,
        }
    }

    /// Crossings dropped because their interval had already been emitted.
    pub fn late_crossings(&self) -> u64 {
        self.late_crossings
    }

    /// Tracks currently remembered.
    pub fn tracked(&self) -> usize {
        self.tracks.len()
    }

    /// Feeds one observation of a track. A crossing is counted when the bottom-centre's movement
    /// since the track's previous observation meets the line segment and takes it from one side
    /// to the other; each track counts at most once per line. Cameras without lines are ignored.
    pub fn observe(
        &mut self,
        camera: &str,
        track_id: u64,
        class: VehicleClass,
        bbox: BBox,
        ts: DateTime<FixedOffset>,
    ) {
        let Some(cam) = self.cameras.get_mut(camera) else {
            return;
        };
        let idx = ts.timestamp_millis().div_euclid(self.interval_ms);
        match cam.next {
            None => {
                cam.next = Some(idx);
                cam.last = idx;
            }
            Some(next) => {
                if !cam.emitted && idx < next {
                    cam.next = Some(idx);
                }
                cam.last = cam.last.max(idx);
            }
        }
        let point = bottom_centre(&bbox);
        let key = (camera.to_string(), track_id);
        let Some(state) = self.tracks.get_mut(&key) else {
            let sides = cam
                .lines
                .iter()
                .map(|&li| {
                    (
                        li,
                        side_of_line(self.lines[li].from, self.lines[li].to, point),
                    )
                })
                .filter(|(_, s)| *s != Side::On)
                .collect();
            self.tracks.insert(
                key,
                TrackState {
                    last: point,
                    last_ts: ts,
                    sides,
                    counted: HashSet::new(),
                },
            );
            return;
        };
        for &li in &cam.lines {
            let line = &self.lines[li];
            let side = side_of_line(line.from, line.to, point);
            if side == Side::On {
                continue;
            }
            let before = state.sides.insert(li, side);
            let crossed = before.is_some_and(|b| b != side)
                && !state.counted.contains(&li)
                && segments_intersect(state.last, point, line.from, line.to);
            if !crossed {
                continue;
            }
            state.counted.insert(li);
            if cam.next.is_some_and(|next| idx < next) {
                self.late_crossings += 1;
                tracing::debug!(camera, line = %line.id, "flow crossing in an interval already reported; dropped");
                continue;
            }
            let dir = usize::from(side == Side::Left);
            *cam.counts
                .entry((idx, li, dir))
                .or_default()
                .entry(class)
                .or_insert(0) += 1;
        }
        state.last = point;
        state.last_ts = state.last_ts.max(ts);
    }

    /// Returns the buckets of every interval that ended at or before `now`, for every line of
    /// every camera observed so far, zero counts included, ordered by interval, then line (config
    /// order), then direction (forward first).
    pub fn poll(&mut self, now: DateTime<FixedOffset>) -> Vec<FlowBucket> {
        let closed = now.timestamp_millis().div_euclid(self.interval_ms);
        self.emit(|_| closed)
    }

    /// Like [`FlowCounter::poll`], but also closes the interval containing `now` and any later
    /// interval that has observations (end of input).
    pub fn flush(&mut self, now: DateTime<FixedOffset>) -> Vec<FlowBucket> {
        let current = now.timestamp_millis().div_euclid(self.interval_ms);
        self.emit(|cam| current.max(cam.last) + 1)
    }

    /// Emits intervals `next..end(camera)` of each camera.
    fn emit(&mut self, end: impl Fn(&CameraState) -> i64) -> Vec<FlowBucket> {
        let mut out = Vec::new();
        for (camera, cam) in &mut self.cameras {
            let Some(next) = cam.next else { continue };
            let end = end(cam);
            for idx in next..end {
                for &li in &cam.lines {
                    for dir in 0..2 {
                        let counts = cam.counts.remove(&(idx, li, dir)).unwrap_or_default();
                        out.push((idx, li, dir, camera.clone(), counts));
                    }
                }
            }
            if end > next {
                cam.next = Some(end);
                cam.emitted = true;
            }
        }
        out.sort_by_key(|(idx, li, dir, _, _)| (*idx, *li, *dir));
        out.into_iter()
            .map(|(idx, li, dir, camera, counts)| FlowBucket {
                line_id: self.lines[li].id.clone(),
                camera,
                direction: self.lines[li].names[dir].clone(),
                interval_start: local(idx * self.interval_ms),
                interval_end: local((idx + 1) * self.interval_ms),
                counts,
            })
            .collect()
    }

    /// Drops what is remembered about a finished track.
    pub fn forget_track(&mut self, camera: &str, track_id: u64) {
        self.tracks.remove(&(camera.to_string(), track_id));
    }

    /// Drops tracks last observed before `before`; returns how many.
    pub fn prune_idle(&mut self, before: DateTime<FixedOffset>) -> usize {
        let n = self.tracks.len();
        self.tracks.retain(|_, s| s.last_ts >= before);
        n - self.tracks.len()
    }
}

fn local(ms: i64) -> DateTime<FixedOffset> {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&china_offset())
}

#[cfg(test)]
mod tests;
