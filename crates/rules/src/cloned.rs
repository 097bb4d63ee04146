//! Cloned plates (套牌): the same plate read at two cameras further apart than a vehicle could
//! have travelled in the time between the reads.
use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, FixedOffset};
use xl_schema::plate::is_partial_plate;

use crate::ClonedConfig;

/// Mean Earth radius used by the haversine distance, in km.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// One plate read at one camera.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    pub event_id: String,
    pub camera: String,
    pub plate: String,
    pub ts: DateTime<FixedOffset>,
}

/// Two reads of one plate that one vehicle cannot explain.
#[derive(Debug, Clone, PartialEq)]
pub struct ClonedPair {
    /// The read with the earlier time (the first observed when the times are equal).
    pub earlier: Sighting,
    pub later: Sighting,
    /// Great-circle distance between the two cameras.
    pub distance_km: f64,
    /// `distance_km` over the time between the reads; infinite when the times are equal.
    pub speed_kmh: f64,
}

/// Great-circle distance in km between two `(lat, lon)` points in degrees.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// The cloned-plate rule over all cameras with known positions.
#[derive(Debug)]
pub struct ClonedPlateRule {
    cfg: ClonedConfig,
    horizon: Duration,
    positions: HashMap<String, (f64, f64)>,
    /// Latest sighting per plate per camera.
    latest: HashMap<String, HashMap<String, Sighting>>,
    /// `(ts, plate, camera)` of every kept sighting, oldest first, for pruning.
    by_time: BTreeSet<(DateTime<FixedOffset>, String, String)>,
    /// Event-id pairs already reported (ordered), with the later read's time, for pruning.
    reported: HashSet<(String, String)>,
    reported_by_time: BTreeSet<(DateTime<FixedOffset>, String, String)>,
    /// Newest time seen; the horizon is measured back from it.
    newest: Option<DateTime<FixedOffset>>,
    unknown_camera: u64,
}

impl ClonedPlateRule {
    /// `positions` maps camera ids to `(latitude, longitude)` in degrees (WGS 84).
    pub fn new(cfg: ClonedConfig, positions: HashMap<String, (f64, f64)>) -> Self {
        let horizon = Duration::seconds(i64::try_from(cfg.horizon_secs).unwrap_or(i64::MAX / 1000));
        Self {
            cfg,
            horizon,
            positions,
            latest: HashMap::new(),
            by_time: BTreeSet::new(),
            reported: HashSet::new(),
            reported_by_time: BTreeSet::new(),
            newest: None,
            unknown_camera: 0,
        }
    }

    /// Reads skipped because their camera has no position.
    pub fn unknown_camera_skips(&self) -> u64 {
        self.unknown_camera
    }

    /// Sightings currently kept.
    pub fn kept(&self) -> usize {
        self.by_time.len()
    }

    /// Takes one read; returns the pair with the highest implied speed among this read and the
    /// latest read of the same plate at each other camera within the horizon, when that speed is
    /// above `max_speed_kmh` over at least `min_distance_km` and the pair was not reported before.
    pub fn observe(&mut self, mut s: Sighting) -> Option<ClonedPair> {
        s.plate = s.plate.trim().to_uppercase();
        // A partial read names no one plate: `?G6NN34` at two cameras may be two provinces.
        if s.plate.is_empty() || is_partial_plate(&s.plate) {
            return None;
        }
        let Some(&here) = self.positions.get(&s.camera) else {
            self.unknown_camera += 1;
            tracing::debug!(camera = %s.camera, "cloned-plate rule: camera has no position");
            return None;
        };
        self.newest = Some(self.newest.map_or(s.ts, |n| n.max(s.ts)));
        self.prune();
        if self.newest.is_some_and(|n| s.ts < n - self.horizon) {
            return None;
        }
        let best = self.best_pair(&s, here);
        let pair = best.map(|(other, distance_km, speed_kmh)| {
            let (earlier, later) = if other.ts <= s.ts {
                (other, s.clone())
            } else {
                (s.clone(), other)
            };
            ClonedPair {
                earlier,
                later,
                distance_km,
                speed_kmh,
            }
        });
        if let Some(p) = &pair {
            let key = ordered(&p.earlier.event_id, &p.later.event_id);
            self.reported_by_time
                .insert((p.later.ts, key.0.clone(), key.1.clone()));
            self.reported.insert(key);
        }
        self.remember(s);
        pair
    }

    fn best_pair(&self, s: &Sighting, here: (f64, f64)) -> Option<(Sighting, f64, f64)> {
        let cameras = self.latest.get(&s.plate)?;
        let mut best: Option<(Sighting, f64, f64)> = None;
        for (camera, other) in cameras {
            if *camera == s.camera
                || self
                    .reported
                    .contains(&ordered(&s.event_id, &other.event_id))
            {
                continue;
            }
            let Some(&there) = self.positions.get(camera) else {
                continue;
            };
            let dt = (s.ts - other.ts).abs();
            if dt > self.horizon {
                continue;
            }
            let distance_km = haversine_km(here, there);
            if distance_km < self.cfg.min_distance_km {
                continue;
            }
            let hours = dt.num_milliseconds() as f64 / 3_600_000.0;
            let speed_kmh = if hours > 0.0 {
                distance_km / hours
            } else {
                f64::INFINITY
            };
            if speed_kmh <= f64::from(self.cfg.max_speed_kmh) {
                continue;
            }
            let better = best.as_ref().is_none_or(|(b, _, bs)| {
                speed_kmh > *bs || (speed_kmh == *bs && other.camera < b.camera)
            });
            if better {
                best = Some((other.clone(), distance_km, speed_kmh));
            }
        }
        best
    }

    fn remember(&mut self, s: Sighting) {
        let cams = self.latest.entry(s.plate.clone()).or_default();
        match cams.get(&s.camera) {
            Some(old) if old.ts > s.ts => {}
            old => {
                if let Some(old) = old {
                    self.by_time
                        .remove(&(old.ts, old.plate.clone(), old.camera.clone()));
                }
                self.by_time
                    .insert((s.ts, s.plate.clone(), s.camera.clone()));
                cams.insert(s.camera.clone(), s);
            }
        }
    }

    fn prune(&mut self) {
        let Some(newest) = self.newest else { return };
        let oldest = newest - self.horizon;
        while self.by_time.first().is_some_and(|f| f.0 < oldest) {
            let Some((_, plate, camera)) = self.by_time.pop_first() else {
                break;
            };
            if let Some(cams) = self.latest.get_mut(&plate) {
                cams.remove(&camera);
                if cams.is_empty() {
                    self.latest.remove(&plate);
                }
            }
        }
        while self.reported_by_time.first().is_some_and(|f| f.0 < oldest) {
            if let Some((_, a, b)) = self.reported_by_time.pop_first() {
                self.reported.remove(&(a, b));
            }
        }
    }
}

fn ordered(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

#[cfg(test)]
mod tests;
