//! Restricted zones (闯禁行): a vehicle of a listed class whose ground point enters a zone polygon
//! during one of the zone's time windows.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset};
use xl_schema::{BBox, VehicleClass};

use crate::config::check_polygon;
use crate::geometry::{bottom_centre, point_in_polygon, Point};
use crate::{RulesError, TimeWindow, ZoneConfig};

/// A track entering a zone while the restriction applies; reported once per track and zone.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneEntry {
    pub zone_id: String,
    pub camera: String,
    pub track_id: u64,
    pub class: VehicleClass,
    /// Time of the observation that was first inside.
    pub ts: DateTime<FixedOffset>,
    /// The box's bottom-centre in source-frame pixels.
    pub point: Point,
}

#[derive(Debug)]
struct Zone {
    id: String,
    camera: String,
    polygon: Vec<Point>,
    windows: Vec<TimeWindow>,
    classes: Vec<VehicleClass>,
    min_class_share: f32,
    permits: HashSet<String>,
}

impl Zone {
    fn applies(&self, class: VehicleClass, ts: DateTime<FixedOffset>) -> bool {
        (self.classes.is_empty() || self.classes.contains(&class))
            && (self.windows.is_empty() || self.windows.iter().any(|w| w.contains(ts)))
    }
}

#[derive(Debug, Default)]
struct TrackState {
    /// Indexes of the zones this track has already been reported in.
    reported: HashSet<usize>,
    last_ts: Option<DateTime<FixedOffset>>,
}

/// The restricted-zone rule for any number of cameras.
#[derive(Debug)]
pub struct ZoneRule {
    zones: Vec<Zone>,
    tracks: HashMap<(String, u64), TrackState>,
}

impl ZoneRule {
    /// Builds the rule; fails on a zone with a bad polygon or window, or a repeated id.
    pub fn new(zones: &[ZoneConfig]) -> Result<Self, RulesError> {
        let mut built: Vec<Zone> = Vec::with_capacity(zones.len());
        for z in zones {
            if built.iter().any(|b| b.id == z.id) {
                return Err(RulesError::config(&z.id, "duplicate zone id"));
            }
            check_polygon(&z.polygon)
                .map_err(|e| RulesError::config(&z.id, format!("polygon: {e}")))?;
            let windows = z
                .windows
                .iter()
                .map(|w| TimeWindow::parse(w))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| RulesError::config(&z.id, format!("windows: {e}")))?;
            built.push(Zone {
                id: z.id.clone(),
                camera: z.camera.clone(),
                polygon: z.polygon.clone(),
                windows,
                classes: z.classes.clone(),
                min_class_share: z.min_class_share,
                permits: z.permits.iter().map(|p| p.trim().to_uppercase()).collect(),
            });
        }
        Ok(Self {
            zones: built,
            tracks: HashMap::new(),
        })
    }

    /// Feeds one observation of a track; returns the zones it has just entered (each at most once
    /// per track), in config order.
    pub fn observe(
        &mut self,
        camera: &str,
        track_id: u64,
        class: VehicleClass,
        bbox: BBox,
        ts: DateTime<FixedOffset>,
    ) -> Vec<ZoneEntry> {
        let point = bottom_centre(&bbox);
        let mut entries = Vec::new();
        let mut candidates = self
            .zones
            .iter()
            .enumerate()
            .filter(|(_, z)| z.camera == camera)
            .peekable();
        if candidates.peek().is_none() {
            return entries;
        }
        let state = self
            .tracks
            .entry((camera.to_string(), track_id))
            .or_default();
        state.last_ts = Some(state.last_ts.map_or(ts, |t| t.max(ts)));
        for (i, zone) in candidates {
            if state.reported.contains(&i)
                || !zone.applies(class, ts)
                || !point_in_polygon(point, &zone.polygon)
            {
                continue;
            }
            state.reported.insert(i);
            entries.push(ZoneEntry {
                zone_id: zone.id.clone(),
                camera: camera.to_string(),
                track_id,
                class,
                ts,
                point,
            });
        }
        entries
    }

    /// True when a vehicle of `class`, holding `share` of its track's class votes, is clearly of
    /// a class the zone restricts (see `ZoneConfig::min_class_share`); false for an unknown zone.
    pub fn class_is_clear(&self, zone_id: &str, class: VehicleClass, share: f32) -> bool {
        self.zones
            .iter()
            .find(|z| z.id == zone_id)
            .is_some_and(|z| {
                (z.classes.is_empty() || z.classes.contains(&class)) && share >= z.min_class_share
            })
    }

    /// True when `plate` holds a permit for the zone (false for an unknown zone).
    pub fn is_permitted(&self, zone_id: &str, plate: &str) -> bool {
        self.zones
            .iter()
            .find(|z| z.id == zone_id)
            .is_some_and(|z| z.permits.contains(&plate.trim().to_uppercase()))
    }

    /// Drops what is remembered about a finished track.
    pub fn forget_track(&mut self, camera: &str, track_id: u64) {
        self.tracks.remove(&(camera.to_string(), track_id));
    }

    /// Drops tracks last observed before `before` (for callers that do not report track ends);
    /// returns how many were dropped.
    pub fn prune_idle(&mut self, before: DateTime<FixedOffset>) -> usize {
        let n = self.tracks.len();
        self.tracks
            .retain(|_, s| s.last_ts.is_some_and(|t| t >= before));
        n - self.tracks.len()
    }

    /// Number of tracks currently remembered.
    pub fn tracked(&self) -> usize {
        self.tracks.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(&format!("2024-05-01T{s}+08:00")).unwrap()
    }

    fn zone(windows: &[&str], classes: &[VehicleClass]) -> ZoneConfig {
        ZoneConfig {
            id: "school".into(),
            camera: "cam1".into(),
            polygon: vec![
                [100.0, 100.0],
                [500.0, 100.0],
                [500.0, 500.0],
                [100.0, 500.0],
            ],
            windows: windows.iter().map(|s| s.to_string()).collect(),
            classes: classes.to_vec(),
            permits: vec![" 京a12345 ".into()],
            min_class_share: 2.0 / 3.0,
        }
    }

    /// A box whose bottom-centre is at (x, y).
    fn foot(x: f32, y: f32) -> BBox {
        BBox::new(x - 20.0, y - 50.0, x + 20.0, y)
    }

    #[test]
    fn entry_is_reported_once_per_track() {
        let mut r = ZoneRule::new(&[zone(&[], &[])]).unwrap();
        let truck = VehicleClass::Truck;
        assert!(r
            .observe("cam1", 1, truck, foot(50.0, 300.0), at("12:00:00"))
            .is_empty());
        let e = r.observe("cam1", 1, truck, foot(150.0, 300.0), at("12:00:01"));
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].zone_id, "school");
        assert_eq!(e[0].point, [150.0, 300.0]);
        assert_eq!(e[0].ts, at("12:00:01"));
        assert!(r
            .observe("cam1", 1, truck, foot(200.0, 300.0), at("12:00:02"))
            .is_empty());
        // Leaving and coming back is still the same pass.
        r.observe("cam1", 1, truck, foot(50.0, 300.0), at("12:00:03"));
        assert!(r
            .observe("cam1", 1, truck, foot(200.0, 300.0), at("12:00:04"))
            .is_empty());
        // Another track, and the same track id on another camera, are separate.
        assert_eq!(
            r.observe("cam1", 2, truck, foot(200.0, 300.0), at("12:00:04"))
                .len(),
            1
        );
        assert!(r
            .observe("cam2", 1, truck, foot(200.0, 300.0), at("12:00:04"))
            .is_empty());
        // A forgotten track id reused by the tracker is a new pass.
        r.forget_track("cam1", 1);
        assert_eq!(
            r.observe("cam1", 1, truck, foot(200.0, 300.0), at("12:00:05"))
                .len(),
            1
        );
    }

    #[test]
    fn uses_the_bottom_centre_not_the_box_centre() {
        let mut r = ZoneRule::new(&[zone(&[], &[])]).unwrap();
        // Box centre inside, feet below the zone.
        let b = BBox::new(200.0, 400.0, 300.0, 600.0);
        assert!(r
            .observe("cam1", 1, VehicleClass::Car, b, at("12:00:00"))
            .is_empty());
        // Feet exactly on the zone's bottom edge count as inside.
        let b = BBox::new(200.0, 300.0, 300.0, 500.0);
        assert_eq!(
            r.observe("cam1", 1, VehicleClass::Car, b, at("12:00:01"))
                .len(),
            1
        );
    }

    #[test]
    fn only_inside_a_window_and_reported_when_the_window_opens() {
        let mut r = ZoneRule::new(&[zone(&["22:00-06:00"], &[])]).unwrap();
        let car = VehicleClass::Car;
        assert!(r
            .observe("cam1", 1, car, foot(200.0, 200.0), at("21:59:59"))
            .is_empty());
        let e = r.observe("cam1", 1, car, foot(210.0, 200.0), at("22:00:00"));
        assert_eq!(e.len(), 1, "the same track, first time inside the window");
        assert_eq!(
            r.observe("cam1", 2, car, foot(200.0, 200.0), at("05:59:59"))
                .len(),
            1
        );
        assert!(r
            .observe("cam1", 3, car, foot(200.0, 200.0), at("06:00:00"))
            .is_empty());
    }

    #[test]
    fn class_filter() {
        let mut r = ZoneRule::new(&[zone(&[], &[VehicleClass::Truck])]).unwrap();
        assert!(r
            .observe(
                "cam1",
                1,
                VehicleClass::Car,
                foot(200.0, 200.0),
                at("12:00:00")
            )
            .is_empty());
        assert_eq!(
            r.observe(
                "cam1",
                2,
                VehicleClass::Truck,
                foot(200.0, 200.0),
                at("12:00:00")
            )
            .len(),
            1
        );
    }

    #[test]
    fn overlapping_zones_each_report() {
        let mut b = zone(&[], &[]);
        b.id = "bridge".into();
        let mut r = ZoneRule::new(&[zone(&[], &[]), b]).unwrap();
        let ids: Vec<_> = r
            .observe(
                "cam1",
                1,
                VehicleClass::Bus,
                foot(200.0, 200.0),
                at("12:00:00"),
            )
            .into_iter()
            .map(|e| e.zone_id)
            .collect();
        assert_eq!(ids, ["school", "bridge"]);
    }

    #[test]
    fn a_violation_needs_a_clearly_restricted_class() {
        let r = ZoneRule::new(&[zone(&[], &[VehicleClass::Truck])]).unwrap();
        assert!(r.class_is_clear("school", VehicleClass::Truck, 1.0));
        assert!(r.class_is_clear("school", VehicleClass::Truck, 0.7));
        // An estate car the detector calls a truck in 57% of the vote is no clear truck.
        assert!(!r.class_is_clear("school", VehicleClass::Truck, 0.57));
        assert!(!r.class_is_clear("school", VehicleClass::Car, 1.0));
        assert!(!r.class_is_clear("elsewhere", VehicleClass::Truck, 1.0));
        // Without `min_class_share` in the file, two thirds apply; out of range is an error.
        let parsed: ZoneConfig = toml::from_str(
            "id = \"z\"\ncamera = \"c\"\npolygon = [[0.0, 0.0], [9.0, 0.0], [9.0, 9.0]]\n",
        )
        .unwrap();
        assert!((parsed.min_class_share - 2.0 / 3.0).abs() < 1e-6);
        let bad = ZoneConfig {
            min_class_share: 1.5,
            ..zone(&[], &[])
        };
        assert!(bad.validate().unwrap_err().contains("min_class_share"));
    }

    #[test]
    fn permits_are_per_zone_and_normalised() {
        let r = ZoneRule::new(&[zone(&[], &[])]).unwrap();
        assert!(r.is_permitted("school", "京A12345"));
        assert!(r.is_permitted("school", "京a12345 "));
        assert!(!r.is_permitted("school", "京A12346"));
        assert!(!r.is_permitted("other", "京A12345"));
    }

    #[test]
    fn bad_zones_are_rejected_with_their_id() {
        let mut z = zone(&["22:00-22:00"], &[]);
        let e = ZoneRule::new(&[z.clone()]).unwrap_err().to_string();
        assert!(e.starts_with("school: windows:"), "{e}");
        z.windows.clear();
        z.polygon.truncate(2);
        let e = ZoneRule::new(&[z]).unwrap_err().to_string();
        assert!(
            e.starts_with("school: polygon: needs at least 3 points"),
            "{e}"
        );
        let e = ZoneRule::new(&[zone(&[], &[]), zone(&[], &[])])
            .unwrap_err()
            .to_string();
        assert_eq!(e, "school: duplicate zone id");
    }

    #[test]
    fn idle_tracks_are_pruned() {
        let mut r = ZoneRule::new(&[zone(&[], &[])]).unwrap();
        r.observe(
            "cam1",
            1,
            VehicleClass::Car,
            foot(50.0, 50.0),
            at("12:00:00"),
        );
        r.observe(
            "cam1",
            2,
            VehicleClass::Car,
            foot(50.0, 50.0),
            at("12:05:00"),
        );
        r.observe(
            "cam9",
            3,
            VehicleClass::Car,
            foot(50.0, 50.0),
            at("12:05:00"),
        );
        assert_eq!(r.tracked(), 2, "cameras without zones keep no state");
        assert_eq!(r.prune_idle(at("12:01:00")), 1);
        assert_eq!(r.tracked(), 1);
    }
}
