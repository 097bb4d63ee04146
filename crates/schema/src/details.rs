//! The rule-specific part of an event: what was found and from which sources.
use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::WimRecord;

/// A plate read another event was built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadRef {
    /// The `plate_read` event.
    pub event_id: Uuid,
    pub camera_id: String,
    pub ts: DateTime<FixedOffset>,
    pub plate: String,
}

/// Tagged by `rule`, which always equals the event's `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum EventDetails {
    WatchlistHit {
        list: String,
        reason: String,
        /// The plate as listed (differs from the read text when the match is fuzzy).
        listed_plate: String,
        /// True when the read differs from the listed plate in one confusable character.
        fuzzy: bool,
        read: ReadRef,
    },
    RestrictedZone {
        zone_id: String,
        /// When the vehicle's bottom-centre first entered the zone.
        entered_at: DateTime<FixedOffset>,
        /// That point, in source pixels.
        point: [f32; 2],
        /// The plate read of the same vehicle, if one was made.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        read: Option<ReadRef>,
    },
    Overload {
        wim: WimRecord,
        limit_kg: u32,
        excess_pct: f32,
        /// The fused plate read; none when no read was close enough in time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        read: Option<ReadRef>,
        /// Other reads exactly as close in time as `read` (an analyst must choose).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tied_reads: Vec<ReadRef>,
    },
    ObscuredPlate {
        /// Analysed frames the vehicle was tracked in.
        frames: u32,
        /// Tallest box of the vehicle, in source pixels.
        max_box_height_px: f32,
        first_seen: DateTime<FixedOffset>,
        last_seen: DateTime<FixedOffset>,
    },
    ClonedPlate {
        earlier: ReadRef,
        later: ReadRef,
        distance_km: f64,
        /// Distance over the time between the reads.
        implied_speed_kmh: f64,
    },
    FlowCount {
        line_id: String,
        direction: String,
        interval_start: DateTime<FixedOffset>,
        interval_end: DateTime<FixedOffset>,
        /// Vehicles by class (`car`, `bus`, `truck`, `motorcycle`); classes not seen are absent.
        counts: BTreeMap<String, u32>,
    },
}
