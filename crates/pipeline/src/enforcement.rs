//! The rules of one pipeline that span its cameras (watch lists, cloned plates, weigh-in-motion
//! fusion), and the per-camera rule state each camera's analysis owns (zones, flow, obscured).
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, FixedOffset};
use xl_rules::{
    ClonedPlateRule, FlowConfig, FlowCounter, ObscuredRule, OverloadFinding, PlateSighting,
    RulesConfig, Sighting, Watchlist, WimFuser, WimIngest, WimReject, WimStats, ZoneConfig,
    ZoneRule,
};
use xl_schema::{
    Event, EventDetails, EventKind, Evidence, PlateInfo, ReadRef, Source, VehicleInfo, WimRecord,
};

use crate::event_factory::RuleEvent;
use crate::{EventFactory, PipelineError};

/// Reads kept to build overload events from (a WIM record may be decided minutes later).
const KNOWN_READS: usize = 20_000;

/// A finished vehicle pass the cross-camera rules may refer back to.
#[derive(Debug, Clone)]
pub struct PassRecord {
    pub read: Option<ReadRef>,
    pub camera_id: String,
    pub ts: DateTime<FixedOffset>,
    pub plate: Option<PlateInfo>,
    pub vehicle: Option<VehicleInfo>,
    pub evidence: Vec<Evidence>,
    pub source: Source,
    /// Key of the event the pass produced (plate read or obscured plate).
    pub event_id: String,
    pub first_ts: DateTime<FixedOffset>,
    pub last_ts: DateTime<FixedOffset>,
    /// Where the vehicle was on the road, in source pixels (picks the WIM lane): the plate's box
    /// when a plate was read, else the vehicle's. A lorry seen at an angle has a box that leans
    /// toward its trailer, often into the next lane; its plate is at the front, on its lane.
    pub bbox: Option<xl_schema::BBox>,
}

struct OverloadState {
    fuser: WimFuser,
    passes: HashMap<String, PassRecord>,
    order: VecDeque<String>,
}

/// Cross-camera rule state of one pipeline, shared by its cameras' analyses.
pub struct Enforcement {
    config: RulesConfig,
    watchlist: Option<Watchlist>,
    cloned: Option<Mutex<ClonedPlateRule>>,
    overload: Option<Mutex<OverloadState>>,
}

/// Rule state of one camera.
pub struct CameraRules {
    pub zones: Option<ZoneRule>,
    pub flow: Option<FlowCounter>,
    pub obscured: Option<ObscuredRule>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Enforcement {
    /// `positions` maps camera ids to (lat, lon) for the cloned-plate rule.
    pub fn new(
        config: &RulesConfig,
        positions: HashMap<String, (f64, f64)>,
    ) -> Result<Self, PipelineError> {
        let watchlist = config
            .watchlist
            .as_ref()
            .map(Watchlist::from_config)
            .transpose()?;
        Ok(Self {
            config: config.clone(),
            watchlist,
            cloned: config
                .cloned
                .clone()
                .map(|c| Mutex::new(ClonedPlateRule::new(c, positions))),
            overload: config.overload.clone().map(|c| {
                Mutex::new(OverloadState {
                    fuser: WimFuser::new(c),
                    passes: HashMap::new(),
                    order: VecDeque::new(),
                })
            }),
        })
    }

    /// No rule at all: plate reads only.
    pub fn none() -> Self {
        Self {
            config: RulesConfig::default(),
            watchlist: None,
            cloned: None,
            overload: None,
        }
    }

    /// The per-camera rules for `camera` (zones and count lines drawn on its image).
    pub fn camera_rules(&self, camera: &str) -> Result<CameraRules, PipelineError> {
        let zones: Vec<ZoneConfig> = self
            .config
            .zones
            .iter()
            .filter(|z| z.camera == camera)
            .cloned()
            .collect();
        let flow = self.config.flow.as_ref().and_then(|f| {
            let lines: Vec<_> = f
                .lines
                .iter()
                .filter(|l| l.camera == camera)
                .cloned()
                .collect();
            (!lines.is_empty()).then(|| FlowCounter::new(&FlowConfig { lines, ..f.clone() }))
        });
        Ok(CameraRules {
            zones: if zones.is_empty() {
                None
            } else {
                Some(ZoneRule::new(&zones)?)
            },
            flow,
            obscured: self.config.obscured.clone().map(ObscuredRule::new),
        })
    }

    /// Whether any station of this pipeline is `station_id`.
    pub fn has_station(&self, station_id: &str) -> bool {
        self.config
            .overload
            .as_ref()
            .is_some_and(|o| o.stations.iter().any(|s| s.id == station_id))
    }

    /// Accepts one weigh-in-motion record (idempotent on its key).
    pub fn ingest_wim(&self, record: WimRecord) -> Result<WimIngest, WimReject> {
        match &self.overload {
            Some(state) => lock(state).fuser.ingest(record),
            None => Err(WimReject::UnknownStation(record.station_id)),
        }
    }

    pub fn wim_stats(&self) -> Option<WimStats> {
        self.overload
            .as_ref()
            .map(|s| lock(s).fuser.stats().clone())
    }

    /// Rules that follow from a plate read: watch-list hits and cloned plates. The pass is also
    /// offered to the overload rule.
    pub fn on_plate_read(
        &self,
        event: &Event,
        pass: PassRecord,
        factory: &EventFactory,
    ) -> Vec<Event> {
        let mut out = Vec::new();
        let Some(plate) = &event.plate else {
            return out;
        };
        let read = read_ref(event);
        if let Some(list) = &self.watchlist {
            for hit in list.check(&plate.text, event.ts) {
                let key = format!("{}:{}:{}", event.id, hit.list, hit.plate);
                out.push(factory.rule_event(RuleEvent {
                    kind: EventKind::WatchlistHit,
                    camera_id: event.camera_id.clone(),
                    ts: event.ts,
                    plate: event.plate.clone(),
                    vehicle: event.vehicle.clone(),
                    evidence: event.evidence.clone(),
                    details: EventDetails::WatchlistHit {
                        list: hit.list,
                        reason: hit.reason,
                        listed_plate: hit.plate,
                        fuzzy: hit.fuzzy,
                        read: read.clone(),
                    },
                    source: event.provenance.source.clone(),
                    id_key: key,
                }));
            }
        }
        if let Some(cloned) = &self.cloned {
            let sighting = Sighting {
                event_id: event.id.to_string(),
                camera: event.camera_id.clone(),
                plate: plate.text.clone(),
                ts: event.ts,
            };
            let found = lock(cloned).observe(sighting);
            if let Some(pair) = found {
                out.push(Self::cloned_event(event, pair, factory));
            }
        }
        self.offer_pass(pass);
        out
    }

    fn cloned_event(event: &Event, pair: xl_rules::ClonedPair, factory: &EventFactory) -> Event {
        let as_ref = |s: &Sighting| ReadRef {
            event_id: s.event_id.parse().unwrap_or_default(),
            camera_id: s.camera.clone(),
            ts: s.ts,
            plate: s.plate.clone(),
        };
        let (earlier, later) = (as_ref(&pair.earlier), as_ref(&pair.later));
        // JSON has no infinity: reads at the same instant get the largest finite speed.
        let speed = if pair.speed_kmh.is_finite() {
            (pair.speed_kmh * 10.0).round() / 10.0
        } else {
            f64::MAX
        };
        factory.rule_event(RuleEvent {
            kind: EventKind::ClonedPlate,
            camera_id: event.camera_id.clone(),
            ts: event.ts,
            plate: event.plate.clone(),
            vehicle: event.vehicle.clone(),
            // The other read's evidence stays with its own event (`earlier`/`later` name it).
            evidence: event.evidence.clone(),
            details: EventDetails::ClonedPlate {
                earlier: earlier.clone(),
                later: later.clone(),
                distance_km: (pair.distance_km * 1000.0).round() / 1000.0,
                implied_speed_kmh: speed,
            },
            source: event.provenance.source.clone(),
            id_key: format!("{}:{}", earlier.event_id, later.event_id),
        })
    }

    /// Offers a finished vehicle pass (read or not) to the overload rule.
    pub fn offer_pass(&self, pass: PassRecord) {
        let Some(state) = &self.overload else {
            return;
        };
        let mut state = lock(state);
        state.fuser.observe(PlateSighting {
            event_id: pass.event_id.clone(),
            camera: pass.camera_id.clone(),
            plate: pass.plate.as_ref().map(|p| p.text.clone()),
            vehicle_class: pass
                .vehicle
                .as_ref()
                .and_then(|v| xl_schema::VehicleClass::parse(&v.class)),
            bbox: pass.bbox,
            first_ts: pass.first_ts,
            last_ts: pass.last_ts,
        });
        state.order.push_back(pass.event_id.clone());
        state.passes.insert(pass.event_id.clone(), pass);
        while state.order.len() > KNOWN_READS {
            if let Some(old) = state.order.pop_front() {
                state.passes.remove(&old);
            }
        }
    }

    /// Overload events for the WIM records decided by `now`.
    pub fn poll_overload(&self, now: DateTime<FixedOffset>, factory: &EventFactory) -> Vec<Event> {
        self.overload_events(|f| f.poll(now), factory)
    }

    /// Decides every pending WIM record (end of input or shutdown).
    pub fn flush_overload(&self, factory: &EventFactory) -> Vec<Event> {
        self.overload_events(|f| f.flush(), factory)
    }

    fn overload_events(
        &self,
        decide: impl FnOnce(&mut WimFuser) -> Vec<OverloadFinding>,
        factory: &EventFactory,
    ) -> Vec<Event> {
        let Some(state) = &self.overload else {
            return Vec::new();
        };
        let mut state = lock(state);
        let findings = decide(&mut state.fuser);
        findings
            .into_iter()
            .map(|f| overload_event(f, &state.passes, &self.config, factory))
            .collect()
    }
}

fn overload_event(
    f: OverloadFinding,
    passes: &HashMap<String, PassRecord>,
    config: &RulesConfig,
    factory: &EventFactory,
) -> Event {
    let matched = f.matched.as_ref().and_then(|m| passes.get(&m.event_id));
    let ties = f
        .ties
        .iter()
        .filter_map(|t| passes.get(&t.event_id))
        .filter_map(|p| p.read.clone())
        .collect();
    let station_camera = config
        .overload
        .as_ref()
        .and_then(|o| o.stations.iter().find(|s| s.id == f.record.station_id))
        .map(|s| s.camera.clone())
        .unwrap_or_default();
    let source = matched.map(|p| p.source.clone()).unwrap_or(Source {
        kind: xl_schema::SourceKind::Rtsp,
        path: None,
        frame: 0,
        pts_90k: None,
        size: None,
    });
    factory.rule_event(RuleEvent {
        kind: EventKind::Overload,
        camera_id: matched.map_or(station_camera, |p| p.camera_id.clone()),
        ts: f.record.ts,
        plate: matched.and_then(|p| p.plate.clone()),
        vehicle: matched.and_then(|p| p.vehicle.clone()),
        evidence: matched.map(|p| p.evidence.clone()).unwrap_or_default(),
        id_key: format!("wim:{}", f.record.idempotency_key()),
        details: EventDetails::Overload {
            limit_kg: f.limit_kg,
            excess_pct: f.excess_pct as f32,
            read: matched.and_then(|p| p.read.clone()),
            tied_reads: ties,
            wim: f.record,
        },
        source,
    })
}

/// A reference to a plate-read event.
pub fn read_ref(event: &Event) -> ReadRef {
    ReadRef {
        event_id: event.id,
        camera_id: event.camera_id.clone(),
        ts: event.ts,
        plate: event
            .plate
            .as_ref()
            .map(|p| p.text.clone())
            .unwrap_or_default(),
    }
}
