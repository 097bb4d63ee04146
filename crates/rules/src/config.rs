//! The `[rules]` table of a pipeline file: which enforcement rules run and with what settings.
use std::collections::HashSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use xl_schema::VehicleClass;

use crate::TimeWindow;

/// All rule settings. Every section is optional; a missing section turns that rule off.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RulesConfig {
    /// Watchlists (布控): plates to alert on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watchlist: Option<WatchlistConfig>,
    /// Restricted zones (闯禁行): polygons where listed vehicle classes may not enter at set times.
    pub zones: Vec<ZoneConfig>,
    /// Overload (超限超载): fuse weigh-in-motion records with plate reads and judge gross mass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overload: Option<OverloadConfig>,
    /// Obscured or missing plates: vehicles seen well enough that a plate should have been read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub obscured: Option<ObscuredConfig>,
    /// Cloned plates (套牌): one plate at two sites faster than a vehicle could travel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloned: Option<ClonedConfig>,
    /// Flow counts per count line, direction, vehicle class and interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<FlowConfig>,
}

/// Watchlist files and matching.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchlistConfig {
    /// CSV files with the header `plate,reason,list,valid_from,valid_to` (the last two may be
    /// left empty or omitted; they take `YYYY-MM-DD` or RFC 3339). Lines starting with `#` are
    /// comments.
    pub files: Vec<PathBuf>,
    /// Also alert when the read differs from a listed plate in one character that the
    /// recogniser commonly confuses (0/D/Q/O/U, 8/B, 5/S, 2/Z, 1/7/I/T, 6/G, 4/A), never in the
    /// province character. Default true.
    #[serde(default = "default_true")]
    pub fuzzy: bool,
}

/// One restricted zone on one camera.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneConfig {
    /// Unique zone id, used in events and error messages.
    pub id: String,
    /// The camera id whose image the polygon is drawn on.
    pub camera: String,
    /// The zone as `[x, y]` source-frame pixels (x right, y down), at least 3 points. A vehicle
    /// is in the zone when the middle of its box's bottom edge is inside (edges count as inside).
    pub polygon: Vec<[f32; 2]>,
    /// When the restriction applies, as `HH:MM-HH:MM` China local time (start inclusive, end
    /// exclusive; `22:00-06:00` crosses midnight; `24:00` is allowed as an end). Empty means
    /// always.
    #[serde(default)]
    pub windows: Vec<String>,
    /// Vehicle classes the restriction applies to (`car`, `motorcycle`, `bus`, `truck`). Empty
    /// means all.
    #[serde(default)]
    pub classes: Vec<VehicleClass>,
    /// Plates exempt from this zone (通行证), compared case-insensitively after trimming.
    #[serde(default)]
    pub permits: Vec<String>,
    /// A violation needs the vehicle's class to be clear: the listed class must hold at least
    /// this share of its track's score-weighted class votes. The COCO detector calls some estate
    /// cars and vans a truck in about half their frames; a real lorry it calls a truck in all.
    #[serde(default = "default_min_class_share")]
    pub min_class_share: f32,
}

fn default_min_class_share() -> f32 {
    2.0 / 3.0
}

/// Weigh-in-motion fusion and the gross-mass limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverloadConfig {
    /// How far (seconds) a plate sighting may be from a WIM record's time and still match it.
    /// Decisions wait as long again for late sightings. Default 5.
    #[serde(default = "default_window_secs")]
    pub window_secs: f32,
    /// Gross-mass limits by axle count, ascending; the last entry applies to that many axles or
    /// more. Default: [`default_axle_limits`] (GB 1589-2016 as used by the 2016 rules).
    #[serde(default = "default_axle_limits")]
    pub limits_kg: Vec<AxleLimit>,
    /// The WIM stations and the camera that watches each.
    #[serde(default)]
    pub stations: Vec<StationConfig>,
    /// How long (seconds) plate sightings are kept for WIM records that arrive late. Default 600.
    #[serde(default = "default_retain_secs")]
    pub retain_secs: u32,
    /// How long (seconds, by record time) a WIM record's idempotency key is remembered so that a
    /// repeated delivery is recognised. Default 86400.
    #[serde(default = "default_dedup_secs")]
    pub dedup_secs: u32,
}

/// The gross-mass limit for vehicles with a given number of axles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AxleLimit {
    /// Number of axles; the last entry of a table applies to this many axles or more.
    pub axles: u8,
    /// Largest allowed gross mass in kilograms.
    pub max_gross_kg: u32,
}

/// The default gross-mass limits: 2 axles 18 t, 3 axles 25 t, 4 axles 31 t, 5 axles 43 t,
/// 6 or more axles 49 t.
///
/// These are the limits that the 2016 overload determination rules (《超限运输车辆行驶公路管理规定》,
/// art. 3) take from GB 1589-2016 for the commonest vehicle types. GB 1589-2016 itself sets some
/// different values for particular combinations (for example 27 t for a 3-axle articulated
/// vehicle, 36 t for some 4-axle combinations, 46 t for a 6-axle combination with a single drive
/// axle), which is why the table is configurable.
pub fn default_axle_limits() -> Vec<AxleLimit> {
    [
        (2, 18_000),
        (3, 25_000),
        (4, 31_000),
        (5, 43_000),
        (6, 49_000),
    ]
    .into_iter()
    .map(|(axles, max_gross_kg)| AxleLimit {
        axles,
        max_gross_kg,
    })
    .collect()
}

/// One WIM station and the camera watching its lanes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StationConfig {
    /// The station id as it appears in WIM records (`station_id`).
    pub id: String,
    /// The camera id that reads plates of vehicles crossing this station.
    pub camera: String,
    /// The station's lanes as they appear in WIM records; at least one.
    pub lanes: Vec<LaneConfig>,
}

/// One lane of a WIM station.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneConfig {
    /// Lane number as in WIM records (1-based).
    pub lane: u32,
    /// Where the lane is in the camera image, `[x, y]` source-frame pixels, at least 3 points.
    /// Omitted: the whole frame (at most one lane per station may omit it; it then takes the
    /// vehicles not inside any other lane's polygon).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polygon: Option<Vec<[f32; 2]>>,
}

/// When a vehicle with no readable plate is reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObscuredConfig {
    /// Vehicle classes that must carry a readable plate. Default `["truck", "bus", "car"]`.
    #[serde(default = "default_obscured_classes")]
    pub classes: Vec<VehicleClass>,
    /// Fewest frames the vehicle must be tracked for. Default 5.
    #[serde(default = "default_min_frames")]
    pub min_frames: u32,
    /// Smallest tallest-box height in source pixels: the vehicle came close enough for its plate
    /// to be legible. Default 120.
    #[serde(default = "default_min_box_height_px")]
    pub min_box_height_px: f32,
}

/// Cloned-plate detection across cameras.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClonedConfig {
    /// Implied speed (km/h) above which two sightings of one plate cannot be one vehicle.
    /// Default 180.
    #[serde(default = "default_max_speed_kmh")]
    pub max_speed_kmh: f32,
    /// Smallest distance (km) between the two cameras; closer pairs are never compared, since
    /// clock skew and position error dominate. Default 1.0.
    #[serde(default = "default_min_distance_km")]
    pub min_distance_km: f64,
    /// Sightings older than this (seconds) are forgotten. Default 86400.
    #[serde(default = "default_horizon_secs")]
    pub horizon_secs: u64,
}

/// Flow counting over count lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowConfig {
    /// Length of a counting interval in seconds; intervals start at multiples of it since the
    /// Unix epoch. Default 60.
    #[serde(default = "default_interval_secs")]
    pub interval_secs: u32,
    /// The count lines.
    #[serde(default)]
    pub lines: Vec<CountLineConfig>,
}

/// A count line: vehicles whose bottom-centre point crosses the segment are counted once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountLineConfig {
    /// Unique line id.
    pub id: String,
    /// The camera id whose image the line is drawn on.
    pub camera: String,
    /// Start of the segment, `[x, y]` source-frame pixels (x right, y down).
    pub from: [f32; 2],
    /// End of the segment.
    pub to: [f32; 2],
    /// Direction name for crossing from the left of `from -> to` to its right, as seen on screen.
    /// Default "forward".
    #[serde(default = "default_forward")]
    pub forward: String,
    /// Direction name for crossing from the right to the left. Default "backward".
    #[serde(default = "default_backward")]
    pub backward: String,
}

fn default_true() -> bool {
    true
}
fn default_window_secs() -> f32 {
    5.0
}
fn default_retain_secs() -> u32 {
    600
}
fn default_dedup_secs() -> u32 {
    86_400
}
fn default_obscured_classes() -> Vec<VehicleClass> {
    vec![VehicleClass::Truck, VehicleClass::Bus, VehicleClass::Car]
}
fn default_min_frames() -> u32 {
    5
}
fn default_min_box_height_px() -> f32 {
    120.0
}
fn default_max_speed_kmh() -> f32 {
    180.0
}
fn default_min_distance_km() -> f64 {
    1.0
}
fn default_horizon_secs() -> u64 {
    86_400
}
fn default_interval_secs() -> u32 {
    60
}
fn default_forward() -> String {
    "forward".into()
}
fn default_backward() -> String {
    "backward".into()
}

impl Default for OverloadConfig {
    fn default() -> Self {
        Self {
            window_secs: default_window_secs(),
            limits_kg: default_axle_limits(),
            stations: Vec::new(),
            retain_secs: default_retain_secs(),
            dedup_secs: default_dedup_secs(),
        }
    }
}

impl Default for ObscuredConfig {
    fn default() -> Self {
        Self {
            classes: default_obscured_classes(),
            min_frames: default_min_frames(),
            min_box_height_px: default_min_box_height_px(),
        }
    }
}

impl Default for ClonedConfig {
    fn default() -> Self {
        Self {
            max_speed_kmh: default_max_speed_kmh(),
            min_distance_km: default_min_distance_km(),
            horizon_secs: default_horizon_secs(),
        }
    }
}

impl Default for FlowConfig {
    fn default() -> Self {
        Self {
            interval_secs: default_interval_secs(),
            lines: Vec::new(),
        }
    }
}

impl RulesConfig {
    /// Checks what serde cannot: polygon sizes, window syntax, limit order, positive intervals
    /// and speeds, unique ids. The message names the section, the offending id and the field,
    /// e.g. `rules.zones[school].windows: ...`.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(w) = &self.watchlist {
            if w.files.is_empty() {
                return Err("rules.watchlist.files: list at least one CSV file".into());
            }
        }
        let mut ids = HashSet::new();
        for z in &self.zones {
            z.validate()?;
            if !ids.insert(z.id.as_str()) {
                return Err(format!("rules.zones[{}].id: duplicate zone id", z.id));
            }
        }
        if let Some(o) = &self.overload {
            o.validate()?;
        }
        if let Some(o) = &self.obscured {
            o.validate()?;
        }
        if let Some(c) = &self.cloned {
            c.validate()?;
        }
        if let Some(f) = &self.flow {
            f.validate()?;
        }
        Ok(())
    }
}

fn check_id(section: &str, id: &str, camera: &str) -> Result<(), String> {
    if id.trim().is_empty() {
        return Err(format!("rules.{section}[]: id must not be empty"));
    }
    if camera.trim().is_empty() {
        return Err(format!("rules.{section}[{id}].camera: must not be empty"));
    }
    Ok(())
}

/// Checks a polygon: at least 3 finite points.
pub(crate) fn check_polygon(polygon: &[[f32; 2]]) -> Result<(), String> {
    if polygon.len() < 3 {
        return Err(format!("needs at least 3 points, got {}", polygon.len()));
    }
    if polygon.iter().flatten().any(|v| !v.is_finite()) {
        return Err("coordinates must be finite numbers".into());
    }
    Ok(())
}

impl ZoneConfig {
    /// Checks this zone alone (ids are checked for uniqueness by [`RulesConfig::validate`]).
    pub fn validate(&self) -> Result<(), String> {
        check_id("zones", &self.id, &self.camera)?;
        check_polygon(&self.polygon)
            .map_err(|e| format!("rules.zones[{}].polygon: {e}", self.id))?;
        for w in &self.windows {
            TimeWindow::parse(w).map_err(|e| format!("rules.zones[{}].windows: {e}", self.id))?;
        }
        if !(0.0..=1.0).contains(&self.min_class_share) {
            return Err(format!(
                "rules.zones[{}].min_class_share: must be within 0..1, got {}",
                self.id, self.min_class_share
            ));
        }
        Ok(())
    }
}

impl OverloadConfig {
    /// Checks the window, the limit table and the stations.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.window_secs.is_finite() && self.window_secs > 0.0) {
            return Err(format!(
                "rules.overload.window_secs: must be a positive number of seconds, got {}",
                self.window_secs
            ));
        }
        if self.limits_kg.is_empty() {
            return Err("rules.overload.limits_kg: must not be empty".into());
        }
        for (i, l) in self.limits_kg.iter().enumerate() {
            if l.axles == 0 || l.max_gross_kg == 0 {
                return Err(format!(
                    "rules.overload.limits_kg[{i}]: axles and max_gross_kg must be positive"
                ));
            }
            if i > 0 && l.axles <= self.limits_kg[i - 1].axles {
                return Err(format!(
                    "rules.overload.limits_kg[{i}]: axle counts must ascend ({} after {})",
                    l.axles,
                    self.limits_kg[i - 1].axles
                ));
            }
        }
        if self.retain_secs < 1 {
            return Err("rules.overload.retain_secs: must be positive".into());
        }
        let mut ids = HashSet::new();
        for s in &self.stations {
            check_id("overload.stations", &s.id, &s.camera)?;
            if !ids.insert(s.id.as_str()) {
                return Err(format!(
                    "rules.overload.stations[{}].id: duplicate station id",
                    s.id
                ));
            }
            if s.lanes.is_empty() {
                return Err(format!(
                    "rules.overload.stations[{}].lanes: list at least one lane",
                    s.id
                ));
            }
            let mut lanes = HashSet::new();
            let mut whole_frame = 0;
            for l in &s.lanes {
                if !lanes.insert(l.lane) {
                    return Err(format!(
                        "rules.overload.stations[{}].lanes: lane {} listed twice",
                        s.id, l.lane
                    ));
                }
                match &l.polygon {
                    Some(p) => check_polygon(p).map_err(|e| {
                        format!(
                            "rules.overload.stations[{}].lanes[{}].polygon: {e}",
                            s.id, l.lane
                        )
                    })?,
                    None => whole_frame += 1,
                }
            }
            if whole_frame > 1 {
                return Err(format!(
                    "rules.overload.stations[{}].lanes: at most one lane may omit its polygon",
                    s.id
                ));
            }
        }
        Ok(())
    }
}

impl ObscuredConfig {
    /// Checks the class list and the thresholds.
    pub fn validate(&self) -> Result<(), String> {
        if self.classes.is_empty() {
            return Err("rules.obscured.classes: list at least one vehicle class".into());
        }
        if !(self.min_box_height_px.is_finite() && self.min_box_height_px >= 0.0) {
            return Err("rules.obscured.min_box_height_px: must be a non-negative number".into());
        }
        Ok(())
    }
}

impl ClonedConfig {
    /// Checks the speed, distance and horizon.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.max_speed_kmh.is_finite() && self.max_speed_kmh > 0.0) {
            return Err(format!(
                "rules.cloned.max_speed_kmh: must be positive, got {}",
                self.max_speed_kmh
            ));
        }
        if !(self.min_distance_km.is_finite() && self.min_distance_km >= 0.0) {
            return Err(format!(
                "rules.cloned.min_distance_km: must be a non-negative number, got {}",
                self.min_distance_km
            ));
        }
        if self.horizon_secs == 0 {
            return Err("rules.cloned.horizon_secs: must be positive".into());
        }
        Ok(())
    }
}

impl FlowConfig {
    /// Checks the interval and the count lines.
    pub fn validate(&self) -> Result<(), String> {
        if self.interval_secs == 0 {
            return Err("rules.flow.interval_secs: must be positive".into());
        }
        let mut ids = HashSet::new();
        for l in &self.lines {
            check_id("flow.lines", &l.id, &l.camera)?;
            if !ids.insert(l.id.as_str()) {
                return Err(format!("rules.flow.lines[{}].id: duplicate line id", l.id));
            }
            if l.from.iter().chain(&l.to).any(|v| !v.is_finite()) {
                return Err(format!(
                    "rules.flow.lines[{}].from/to: coordinates must be finite numbers",
                    l.id
                ));
            }
            if l.from == l.to {
                return Err(format!(
                    "rules.flow.lines[{}].to: must differ from `from`",
                    l.id
                ));
            }
            if l.forward.trim().is_empty()
                || l.backward.trim().is_empty()
                || l.forward == l.backward
            {
                return Err(format!(
                    "rules.flow.lines[{}].forward/backward: need two different non-empty names",
                    l.id
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
