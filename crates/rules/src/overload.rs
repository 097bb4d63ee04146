//! Overload (超限超载): weigh-in-motion records fused with plate sightings by station, lane and
//! time, then judged against the gross-mass limit for the axle count.
use chrono::{DateTime, FixedOffset};
use xl_schema::{BBox, VehicleClass, WimRecord};

use crate::AxleLimit;

mod fuser;

pub use fuser::{check_wim_values, WimFuser, WimIngest, WimReject, WimStats};

/// The gross-mass limit for `axles` from a table ascending by axle count: the entry for the
/// largest axle count not above `axles` (so the last entry covers that many axles or more).
/// `None` below the smallest entry: such vehicles are not judged.
pub fn limit_for_axles(limits: &[AxleLimit], axles: u8) -> Option<u32> {
    limits
        .iter()
        .filter(|l| l.axles <= axles)
        .max_by_key(|l| l.axles)
        .map(|l| l.max_gross_kg)
}

/// One vehicle pass seen by a camera, as offered to the overload rule.
#[derive(Debug, Clone, PartialEq)]
pub struct PlateSighting {
    /// The event id of the pass (plate read or obscured-plate event).
    pub event_id: String,
    pub camera: String,
    /// The elected plate text, if one was read.
    pub plate: Option<String>,
    pub vehicle_class: Option<VehicleClass>,
    /// A representative box in source-frame pixels; its bottom-centre picks the lane.
    pub bbox: Option<BBox>,
    /// First time the vehicle was seen.
    pub first_ts: DateTime<FixedOffset>,
    /// Last time the vehicle was seen.
    pub last_ts: DateTime<FixedOffset>,
}

impl PlateSighting {
    /// Milliseconds from `ts` to the interval `[first_ts, last_ts]`; 0 inside it.
    pub fn distance_ms(&self, ts: DateTime<FixedOffset>) -> i64 {
        if ts < self.first_ts {
            (self.first_ts - ts).num_milliseconds()
        } else if ts > self.last_ts {
            (ts - self.last_ts).num_milliseconds()
        } else {
            0
        }
    }
}

/// A WIM record over its limit, with the plate sighting it was fused with.
#[derive(Debug, Clone, PartialEq)]
pub struct OverloadFinding {
    pub record: WimRecord,
    /// The limit for the record's axle count.
    pub limit_kg: u32,
    /// `(gross - limit) / limit` in percent, rounded to 0.1.
    pub excess_pct: f64,
    /// The sighting nearest in time in the station's lane, if any was within the window.
    pub matched: Option<PlateSighting>,
    /// Other sightings in that lane (matched to other records or not) whose distance in time is
    /// within 50 ms of the match's: the match is ambiguous and a person should look.
    pub ties: Vec<PlateSighting>,
}

/// `(gross - limit) / limit` in percent, rounded to one decimal.
pub fn excess_pct(gross_kg: u32, limit_kg: u32) -> f64 {
    let excess = f64::from(gross_kg) - f64::from(limit_kg);
    (excess * 1000.0 / f64::from(limit_kg)).round() / 10.0
}

#[cfg(test)]
mod tests;
