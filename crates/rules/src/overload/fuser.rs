//! The WIM/plate fusion state machine.
//!
//! Records and sightings arrive in any order. A record is decided once it is `2 × window` old
//! (its match window plus as long again for sightings that finish late), by `poll(now)`, or at
//! once by `flush()`.
//!
//! Matching, per station and lane: every pending record (decided now or not) is paired with
//! every unclaimed sighting within `window_secs` of it; pairs are taken greedily from the
//! nearest (ties broken by earlier record, then its idempotency key, then earlier sighting, then
//! event id), each record and each sighting at most once. So when two records compete for one
//! sighting the nearer wins and the other falls back to its next unclaimed sighting, if any.
//! Records being decided then claim their sighting for good; the pairings of records still
//! pending are worked out again at the next poll. Once claimed, a sighting never matches another
//! record. Given the same calls in the same order, the output is the same.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, FixedOffset};
use xl_schema::WimRecord;

use super::{excess_pct, limit_for_axles, OverloadFinding, PlateSighting};
use crate::geometry::{bottom_centre, point_in_polygon, Point};
use crate::OverloadConfig;

/// Sightings within this many milliseconds of the match's distance are reported as ties.
const TIE_MS: i64 = 50;

/// What happened to an accepted record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WimIngest {
    /// New; it will be decided later.
    Accepted,
    /// Its idempotency key was seen before; ignored.
    Duplicate,
}

/// Why a record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WimReject {
    #[error("unknown WIM station {0:?}")]
    UnknownStation(String),
    #[error("station {station:?} has no lane {lane}")]
    UnknownLane { station: String, lane: u32 },
    #[error("invalid WIM record: {0}")]
    Invalid(String),
}

/// Counters since start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WimStats {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected_unknown_station: u64,
    pub rejected_unknown_lane: u64,
    pub rejected_invalid: u64,
    /// Records decided (whatever the outcome).
    pub decided: u64,
    /// Decided records with fewer axles than the limit table covers.
    pub not_judged: u64,
    /// Findings emitted.
    pub findings: u64,
    /// Findings emitted without a matched sighting.
    pub findings_unmatched: u64,
    /// Sightings at a station camera that fell in none of its lanes.
    pub sightings_without_lane: u64,
}

#[derive(Debug)]
struct Lane {
    lane: u32,
    polygon: Option<Vec<Point>>,
}

#[derive(Debug)]
struct Station {
    id: String,
    camera: String,
    lanes: Vec<Lane>,
}

impl Station {
    /// The lane a sighting belongs to: with a box, the first lane whose polygon contains its
    /// bottom-centre, else the lane without a polygon; without a box, the lane without a polygon,
    /// else the only lane.
    fn lane_of(&self, s: &PlateSighting) -> Option<u32> {
        let whole = self.lanes.iter().find(|l| l.polygon.is_none());
        let lane = match &s.bbox {
            Some(b) => {
                let p = bottom_centre(b);
                self.lanes
                    .iter()
                    .find(|l| {
                        l.polygon
                            .as_ref()
                            .is_some_and(|poly| point_in_polygon(p, poly))
                    })
                    .or(whole)
            }
            None => whole.or(match self.lanes.as_slice() {
                [only] => Some(only),
                _ => None,
            }),
        };
        lane.map(|l| l.lane)
    }
}

#[derive(Debug)]
struct Stored {
    sighting: PlateSighting,
    claimed: bool,
}

/// Fuses WIM records with plate sightings and reports overloads.
#[derive(Debug)]
pub struct WimFuser {
    limits: Vec<crate::AxleLimit>,
    window: Duration,
    retain: Duration,
    dedup: Duration,
    stations: Vec<Station>,
    pending: Vec<WimRecord>,
    /// Sightings by (station index, lane).
    sightings: HashMap<(usize, u32), Vec<Stored>>,
    /// Idempotency keys with their record time.
    keys: HashMap<String, DateTime<FixedOffset>>,
    stats: WimStats,
}

impl WimFuser {
    /// Builds the fuser; the config is expected to have passed [`OverloadConfig::validate`].
    pub fn new(cfg: OverloadConfig) -> Self {
        let window_ms = (f64::from(cfg.window_secs) * 1000.0).round().max(0.0) as i64;
        let stations = cfg
            .stations
            .into_iter()
            .map(|s| Station {
                id: s.id,
                camera: s.camera,
                lanes: s
                    .lanes
                    .into_iter()
                    .map(|l| Lane {
                        lane: l.lane,
                        polygon: l.polygon,
                    })
                    .collect(),
            })
            .collect();
        Self {
            limits: cfg.limits_kg,
            window: Duration::milliseconds(window_ms),
            retain: Duration::seconds(i64::from(cfg.retain_secs)),
            dedup: Duration::seconds(i64::from(cfg.dedup_secs)),
            stations,
            pending: Vec::new(),
            sightings: HashMap::new(),
            keys: HashMap::new(),
            stats: WimStats::default(),
        }
    }

    pub fn stats(&self) -> &WimStats {
        &self.stats
    }

    /// Records waiting for a decision.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Sightings currently kept.
    pub fn sightings(&self) -> usize {
        self.sightings.values().map(Vec::len).sum()
    }

    /// Takes one WIM record: checks its station, lane and values, and drops repeats.
    pub fn ingest(&mut self, rec: WimRecord) -> Result<WimIngest, WimReject> {
        let Some(station) = self.stations.iter().find(|s| s.id == rec.station_id) else {
            self.stats.rejected_unknown_station += 1;
            return Err(WimReject::UnknownStation(rec.station_id));
        };
        if !station.lanes.iter().any(|l| l.lane == rec.lane) {
            self.stats.rejected_unknown_lane += 1;
            return Err(WimReject::UnknownLane {
                station: rec.station_id,
                lane: rec.lane,
            });
        }
        if let Err(why) = check_wim_values(&rec) {
            self.stats.rejected_invalid += 1;
            return Err(WimReject::Invalid(why));
        }
        let key = rec.idempotency_key();
        if self.keys.contains_key(&key) {
            self.stats.duplicates += 1;
            return Ok(WimIngest::Duplicate);
        }
        self.keys.insert(key, rec.ts);
        self.pending.push(rec);
        self.stats.accepted += 1;
        Ok(WimIngest::Accepted)
    }

    /// Takes one vehicle pass. Kept only when its camera watches a station and it falls in one of
    /// that station's lanes; a pass with an event id seen before replaces the earlier one.
    pub fn observe(&mut self, mut s: PlateSighting) {
        if s.first_ts > s.last_ts {
            std::mem::swap(&mut s.first_ts, &mut s.last_ts);
        }
        for (si, station) in self.stations.iter().enumerate() {
            if station.camera != s.camera {
                continue;
            }
            let mut claimed = false;
            for lane in &station.lanes {
                if let Some(list) = self.sightings.get_mut(&(si, lane.lane)) {
                    if let Some(pos) = list.iter().position(|x| x.sighting.event_id == s.event_id) {
                        claimed |= list.remove(pos).claimed;
                    }
                }
            }
            let Some(lane) = station.lane_of(&s) else {
                self.stats.sightings_without_lane += 1;
                continue;
            };
            self.sightings.entry((si, lane)).or_default().push(Stored {
                sighting: s.clone(),
                claimed,
            });
        }
    }

    /// Decides the records whose match window closed at least one window before `now`
    /// (`ts + window < now - window`) and forgets old sightings and keys. Returns the overloads
    /// among them, by record time.
    pub fn poll(&mut self, now: DateTime<FixedOffset>) -> Vec<OverloadFinding> {
        self.prune(now);
        let cutoff = now - self.window - self.window;
        self.decide(|r| r.ts < cutoff)
    }

    /// Decides every pending record (end of input).
    pub fn flush(&mut self) -> Vec<OverloadFinding> {
        self.decide(|_| true)
    }

    fn prune(&mut self, now: DateTime<FixedOffset>) {
        let oldest_sighting = now - self.retain;
        for list in self.sightings.values_mut() {
            list.retain(|s| s.sighting.last_ts >= oldest_sighting);
        }
        self.sightings.retain(|_, list| !list.is_empty());
        let oldest_key = now - self.dedup;
        self.keys.retain(|_, ts| *ts >= oldest_key);
    }

    fn decide(&mut self, due: impl Fn(&WimRecord) -> bool) -> Vec<OverloadFinding> {
        if !self.pending.iter().any(&due) {
            return Vec::new();
        }
        self.pending
            .sort_by_cached_key(|r| (r.ts, r.idempotency_key()));
        let group_of = |stations: &[Station], r: &WimRecord| {
            let si = stations.iter().position(|s| s.id == r.station_id);
            si.map(|si| (si, r.lane))
        };
        let groups: HashSet<(usize, u32)> = self
            .pending
            .iter()
            .filter(|r| due(r))
            .filter_map(|r| group_of(&self.stations, r))
            .collect();
        // Pending index -> index of its sighting in that group's list.
        let mut matched: HashMap<usize, usize> = HashMap::new();
        for group in &groups {
            let Some(list) = self.sightings.get(group) else {
                continue;
            };
            let mut pairs = Vec::new();
            for (ri, r) in self.pending.iter().enumerate() {
                if group_of(&self.stations, r) != Some(*group) {
                    continue;
                }
                for (k, st) in list.iter().enumerate() {
                    let d = st.sighting.distance_ms(r.ts);
                    if !st.claimed && d <= self.window.num_milliseconds() {
                        pairs.push((
                            d,
                            ri,
                            st.sighting.first_ts,
                            st.sighting.event_id.as_str(),
                            k,
                        ));
                    }
                }
            }
            // `ri` follows (ts, key) order, so sorting by it breaks ties by record.
            pairs.sort();
            let (mut used_r, mut used_k) = (HashSet::new(), HashSet::new());
            for (_, ri, _, _, k) in pairs {
                if !used_r.contains(&ri) && !used_k.contains(&k) {
                    used_r.insert(ri);
                    used_k.insert(k);
                    matched.insert(ri, k);
                }
            }
        }
        let mut findings = Vec::new();
        let mut keep = Vec::new();
        for (ri, r) in std::mem::take(&mut self.pending).into_iter().enumerate() {
            if !due(&r) {
                keep.push(r);
                continue;
            }
            self.stats.decided += 1;
            let group = group_of(&self.stations, &r);
            let list = group.and_then(|g| self.sightings.get_mut(&g));
            let (m, ties) = match (matched.get(&ri), list) {
                (Some(&k), Some(list)) => {
                    list[k].claimed = true;
                    let dm = list[k].sighting.distance_ms(r.ts);
                    let ties = list
                        .iter()
                        .enumerate()
                        .filter(|&(j, st)| {
                            let d = st.sighting.distance_ms(r.ts);
                            j != k
                                && d <= self.window.num_milliseconds()
                                && (d - dm).abs() <= TIE_MS
                        })
                        .map(|(_, st)| st.sighting.clone())
                        .collect();
                    (Some(list[k].sighting.clone()), ties)
                }
                _ => (None, Vec::new()),
            };
            let Some(limit_kg) = limit_for_axles(&self.limits, r.axles) else {
                self.stats.not_judged += 1;
                continue;
            };
            if r.gross_kg <= limit_kg {
                continue;
            }
            self.stats.findings += 1;
            if m.is_none() {
                self.stats.findings_unmatched += 1;
            }
            if !ties.is_empty() {
                tracing::debug!(station = %r.station_id, lane = r.lane, ties = ties.len(), "ambiguous WIM match");
            }
            findings.push(OverloadFinding {
                limit_kg,
                excess_pct: excess_pct(r.gross_kg, limit_kg),
                record: r,
                matched: m,
                ties,
            });
        }
        self.pending = keep;
        findings
    }
}

/// Plausibility of a record's values.
/// Plausibility of a record's values; the message starts with the field at fault.
pub fn check_wim_values(rec: &WimRecord) -> Result<(), String> {
    if rec.axles == 0 || rec.axles > 20 {
        return Err(format!("axles {} not in 1..=20", rec.axles));
    }
    if rec.gross_kg == 0 || rec.gross_kg > 200_000 {
        return Err(format!("gross_kg {} not in 1..=200000", rec.gross_kg));
    }
    if let Some(v) = rec.speed_kmh {
        if !(v.is_finite() && (0.0..=300.0).contains(&v)) {
            return Err(format!("speed_kmh {v} not in 0..=300"));
        }
    }
    Ok(())
}
