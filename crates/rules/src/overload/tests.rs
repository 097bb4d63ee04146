use chrono::{DateTime, Duration, FixedOffset};
use xl_schema::{BBox, VehicleClass, WimRecord};

use super::*;
use crate::{default_axle_limits, AxleLimit, LaneConfig, OverloadConfig, StationConfig};

const T0: &str = "2024-05-01T10:00:00+08:00";

fn t(offset_ms: i64) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(T0).unwrap() + Duration::milliseconds(offset_ms)
}

fn config() -> OverloadConfig {
    OverloadConfig {
        stations: vec![
            StationConfig {
                id: "S1".into(),
                camera: "cam-wim".into(),
                lanes: vec![
                    LaneConfig {
                        lane: 1,
                        polygon: Some(vec![
                            [0.0, 0.0],
                            [500.0, 0.0],
                            [500.0, 1000.0],
                            [0.0, 1000.0],
                        ]),
                    },
                    LaneConfig {
                        lane: 2,
                        polygon: Some(vec![
                            [500.0, 0.0],
                            [1000.0, 0.0],
                            [1000.0, 1000.0],
                            [500.0, 1000.0],
                        ]),
                    },
                ],
            },
            StationConfig {
                id: "S2".into(),
                camera: "cam-s2".into(),
                lanes: vec![LaneConfig {
                    lane: 1,
                    polygon: None,
                }],
            },
        ],
        ..OverloadConfig::default()
    }
}

fn rec(station: &str, lane: u32, at_ms: i64, axles: u8, gross_kg: u32) -> WimRecord {
    WimRecord {
        record_id: None,
        station_id: station.into(),
        lane,
        ts: t(at_ms),
        axles,
        gross_kg,
        speed_kmh: Some(60.0),
    }
}

/// A pass on cam-wim in lane 1 (x < 500) or lane 2, seen from `from_ms` to `to_ms`.
fn seen(id: &str, lane: u32, from_ms: i64, to_ms: i64) -> PlateSighting {
    let x = if lane == 1 { 250.0 } else { 750.0 };
    PlateSighting {
        event_id: id.into(),
        camera: "cam-wim".into(),
        plate: Some(format!("皖A{id}")),
        vehicle_class: Some(VehicleClass::Truck),
        bbox: Some(BBox::new(x - 100.0, 400.0, x + 100.0, 700.0)),
        first_ts: t(from_ms),
        last_ts: t(to_ms),
    }
}

/// `now` at which a record at `at_ms` becomes due under the default 5 s window.
fn due(at_ms: i64) -> DateTime<FixedOffset> {
    t(at_ms + 10_001)
}

fn ids(f: &[PlateSighting]) -> Vec<&str> {
    f.iter().map(|s| s.event_id.as_str()).collect()
}

#[test]
fn limits_by_axle_count() {
    let l = default_axle_limits();
    assert_eq!(limit_for_axles(&l, 1), None, "below the table: not judged");
    assert_eq!(limit_for_axles(&l, 2), Some(18_000));
    assert_eq!(limit_for_axles(&l, 3), Some(25_000));
    assert_eq!(limit_for_axles(&l, 4), Some(31_000));
    assert_eq!(limit_for_axles(&l, 5), Some(43_000));
    assert_eq!(limit_for_axles(&l, 6), Some(49_000));
    assert_eq!(
        limit_for_axles(&l, 11),
        Some(49_000),
        "last entry: that many or more"
    );
    let gap = [
        AxleLimit {
            axles: 2,
            max_gross_kg: 18_000,
        },
        AxleLimit {
            axles: 5,
            max_gross_kg: 43_000,
        },
    ];
    assert_eq!(
        limit_for_axles(&gap, 4),
        Some(18_000),
        "largest entry not above"
    );
    assert_eq!(limit_for_axles(&[], 4), None);
}

#[test]
fn excess_is_rounded_to_a_tenth_of_a_percent() {
    assert_eq!(excess_pct(20_000, 18_000), 11.1);
    assert_eq!(excess_pct(49_050, 49_000), 0.1);
    assert_eq!(excess_pct(98_000, 49_000), 100.0);
}

#[test]
fn wim_after_the_plate_read() {
    let mut f = WimFuser::new(config());
    f.observe(seen("P1", 1, 0, 2_000));
    assert_eq!(
        f.ingest(rec("S1", 1, 1_000, 2, 20_000)),
        Ok(WimIngest::Accepted)
    );
    assert!(
        f.poll(due(1_000) - Duration::milliseconds(2)).is_empty(),
        "not yet due"
    );
    let out = f.poll(due(1_000));
    assert_eq!(out.len(), 1);
    let o = &out[0];
    assert_eq!(o.limit_kg, 18_000);
    assert_eq!(o.excess_pct, 11.1);
    assert_eq!(o.matched.as_ref().unwrap().event_id, "P1");
    assert!(o.ties.is_empty());
    assert!(
        f.poll(due(1_000) + Duration::seconds(5)).is_empty(),
        "never twice"
    );
    assert!(f.flush().is_empty());
    assert_eq!(f.stats().findings, 1);
    assert_eq!(f.stats().decided, 1);
}

#[test]
fn wim_before_the_plate_read() {
    let mut f = WimFuser::new(config());
    f.ingest(rec("S1", 1, 1_000, 6, 55_000)).unwrap();
    // The sighting ends 4 s after the weighing and is handed over later still.
    assert!(f.poll(t(6_000)).is_empty());
    f.observe(seen("P1", 1, 4_000, 5_000));
    let out = f.poll(due(1_000));
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0].matched.as_ref().unwrap().plate.as_deref(),
        Some("皖AP1")
    );
    assert_eq!(out[0].limit_kg, 49_000);
}

#[test]
fn within_limit_is_decided_silently_and_below_table_is_not_judged() {
    let mut f = WimFuser::new(config());
    f.observe(seen("P1", 1, 0, 2_000));
    f.ingest(rec("S1", 1, 1_000, 2, 18_000)).unwrap();
    f.ingest(rec("S1", 1, 1_500, 1, 90_000)).unwrap();
    assert!(f.flush().is_empty());
    assert_eq!(f.stats().decided, 2);
    assert_eq!(f.stats().not_judged, 1);
    assert_eq!(f.pending(), 0);
}

#[test]
fn duplicates_are_idempotent_before_and_after_the_decision() {
    let mut f = WimFuser::new(config());
    let r = rec("S1", 1, 1_000, 3, 30_000);
    assert_eq!(f.ingest(r.clone()), Ok(WimIngest::Accepted));
    assert_eq!(f.ingest(r.clone()), Ok(WimIngest::Duplicate));
    assert_eq!(f.poll(due(1_000)).len(), 1);
    assert_eq!(f.ingest(r.clone()), Ok(WimIngest::Duplicate));
    assert!(f.flush().is_empty());
    // The station's own record id is the key when present: a resend with other values repeats.
    let mut a = rec("S1", 1, 5_000, 3, 30_000);
    a.record_id = Some("r-77".into());
    let mut b = a.clone();
    b.gross_kg = 31_000;
    assert_eq!(f.ingest(a), Ok(WimIngest::Accepted));
    assert_eq!(f.ingest(b), Ok(WimIngest::Duplicate));
    assert_eq!(f.stats().duplicates, 3);
    assert_eq!(f.stats().accepted, 2);
}

#[test]
fn unknown_station_and_lane_are_rejected_and_counted() {
    let mut f = WimFuser::new(config());
    assert_eq!(
        f.ingest(rec("S9", 1, 0, 2, 20_000)),
        Err(WimReject::UnknownStation("S9".into()))
    );
    assert_eq!(
        f.ingest(rec("S1", 3, 0, 2, 20_000)),
        Err(WimReject::UnknownLane {
            station: "S1".into(),
            lane: 3
        })
    );
    assert_eq!(f.stats().rejected_unknown_station, 1);
    assert_eq!(f.stats().rejected_unknown_lane, 1);
    assert_eq!(f.pending(), 0);
}

#[test]
fn implausible_records_are_rejected_and_counted() {
    let mut f = WimFuser::new(config());
    let mut bad = vec![
        rec("S1", 1, 0, 0, 20_000),
        rec("S1", 1, 0, 21, 20_000),
        rec("S1", 1, 0, 2, 0),
        rec("S1", 1, 0, 2, 200_001),
    ];
    for v in [f32::NAN, -1.0, 301.0, f32::INFINITY] {
        let mut r = rec("S1", 1, 0, 2, 20_000);
        r.speed_kmh = Some(v);
        bad.push(r);
    }
    for r in bad {
        let e = f.ingest(r.clone()).unwrap_err();
        assert!(matches!(e, WimReject::Invalid(_)), "{r:?}: {e}");
    }
    assert_eq!(f.stats().rejected_invalid, 8);
    let mut ok = rec("S1", 1, 0, 20, 200_000);
    ok.speed_kmh = None;
    assert_eq!(f.ingest(ok), Ok(WimIngest::Accepted));
}

#[test]
fn lane_and_camera_must_agree() {
    let mut f = WimFuser::new(config());
    f.observe(seen("P2", 2, 0, 2_000));
    let mut other_cam = seen("X", 1, 0, 2_000);
    other_cam.camera = "cam-elsewhere".into();
    f.observe(other_cam);
    f.ingest(rec("S1", 1, 1_000, 2, 20_000)).unwrap();
    let out = f.flush();
    assert_eq!(out.len(), 1, "still an overload, without a plate");
    assert!(out[0].matched.is_none());
    assert_eq!(f.stats().findings_unmatched, 1);
    assert_eq!(
        f.sightings(),
        1,
        "only the station camera's sighting is kept"
    );
}

#[test]
fn whole_frame_lane_and_box_less_sightings() {
    let mut f = WimFuser::new(config());
    let mut s = seen("Q", 1, 0, 1_000);
    s.camera = "cam-s2".into();
    s.bbox = None;
    f.observe(s);
    f.ingest(rec("S2", 1, 500, 2, 20_000)).unwrap();
    assert_eq!(f.flush()[0].matched.as_ref().unwrap().event_id, "Q");
    // Two polygon lanes and no box: the lane is unknown, so the sighting is not kept.
    let mut s = seen("R", 1, 0, 1_000);
    s.bbox = None;
    f.observe(s);
    assert_eq!(f.stats().sightings_without_lane, 1);
}

#[test]
fn nearest_sighting_wins_and_outside_the_window_is_no_match() {
    let mut f = WimFuser::new(config());
    f.observe(seen("far", 1, -4_000, -3_000));
    f.observe(seen("near", 1, 1_500, 2_500));
    f.observe(seen("late", 1, 7_000, 8_000));
    f.ingest(rec("S1", 1, 1_000, 2, 20_000)).unwrap();
    let out = f.poll(due(1_000));
    assert_eq!(out[0].matched.as_ref().unwrap().event_id, "near");
    assert!(out[0].ties.is_empty());
    // 5.001 s away from every sighting: no match.
    f.ingest(rec("S1", 1, 13_001, 2, 20_000)).unwrap();
    let out = f.flush();
    assert!(out[0].matched.is_none());
}

#[test]
fn equally_near_sightings_are_reported_as_ties() {
    let mut f = WimFuser::new(config());
    f.observe(seen("b", 1, 2_000, 3_000));
    f.observe(seen("a", 1, -1_030, 0));
    f.observe(seen("c", 1, 2_100, 3_000));
    f.ingest(rec("S1", 1, 1_000, 2, 20_000)).unwrap();
    let out = f.flush();
    // a is 1000 ms before, b 1000 ms after, c 1100 ms after: a and b tie; a came first.
    assert_eq!(out[0].matched.as_ref().unwrap().event_id, "a");
    assert_eq!(ids(&out[0].ties), ["b"]);
}

#[test]
fn competing_records_the_nearer_takes_the_sighting() {
    let mut f = WimFuser::new(config());
    f.observe(seen("only", 1, 3_000, 3_500));
    // The later record is nearer (0.5 s) than the earlier (2 s), and is not due yet when the
    // earlier one is decided: the earlier must still leave the sighting to it.
    f.ingest(rec("S1", 1, 1_000, 2, 20_000)).unwrap();
    f.ingest(rec("S1", 1, 4_000, 2, 21_000)).unwrap();
    let first = f.poll(due(1_000));
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].record.gross_kg, 20_000);
    assert!(first[0].matched.is_none());
    let second = f.poll(due(4_000));
    assert_eq!(second[0].matched.as_ref().unwrap().event_id, "only");
}

#[test]
fn a_claimed_sighting_is_not_matched_again_and_the_loser_falls_back() {
    let mut f = WimFuser::new(config());
    f.observe(seen("x", 1, 0, 1_000));
    f.observe(seen("y", 1, 4_000, 5_000));
    f.ingest(rec("S1", 1, 500, 2, 20_000)).unwrap();
    f.ingest(rec("S1", 1, 1_200, 2, 20_000)).unwrap();
    let out = f.flush();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].matched.as_ref().unwrap().event_id, "x");
    assert_eq!(
        out[1].matched.as_ref().unwrap().event_id,
        "y",
        "next unclaimed within 5 s"
    );
    f.ingest(rec("S1", 1, 700, 2, 20_000)).unwrap();
    assert!(f.flush()[0].matched.is_none(), "both sightings are claimed");
}

#[test]
fn a_repeated_sighting_replaces_the_earlier_one() {
    let mut f = WimFuser::new(config());
    f.observe(seen("P", 1, -20_000, -19_000));
    f.observe(seen("P", 1, 0, 1_000));
    assert_eq!(f.sightings(), 1);
    f.ingest(rec("S1", 1, 500, 2, 20_000)).unwrap();
    assert_eq!(f.flush()[0].matched.as_ref().unwrap().event_id, "P");
}

#[test]
fn old_sightings_and_keys_are_pruned() {
    let cfg = OverloadConfig {
        retain_secs: 60,
        dedup_secs: 120,
        ..config()
    };
    let mut f = WimFuser::new(cfg);
    f.observe(seen("P", 1, 0, 1_000));
    let r = rec("S1", 1, 500, 2, 20_000);
    f.ingest(r.clone()).unwrap();
    f.poll(t(30_000));
    assert_eq!(f.sightings(), 1);
    f.poll(t(61_001));
    assert_eq!(f.sightings(), 0);
    f.poll(t(120_501));
    assert_eq!(
        f.ingest(r),
        Ok(WimIngest::Accepted),
        "key forgotten after dedup_secs"
    );
}
