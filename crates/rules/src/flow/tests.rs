use chrono::Duration;

use super::*;
use crate::CountLineConfig;

/// 2024-05-01 08:00:00 local: a multiple of 60 s since the epoch.
fn t(ms: i64) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2024-05-01T08:00:00+08:00").unwrap() + Duration::milliseconds(ms)
}

/// A horizontal line across the road at y = 500 from x = 0 to x = 1000, pointing right: above it
/// (y < 500) is its left, below is its right, so driving down the image is "inbound".
fn config() -> FlowConfig {
    FlowConfig {
        interval_secs: 60,
        lines: vec![
            CountLineConfig {
                id: "stop-line".into(),
                camera: "cam1".into(),
                from: [0.0, 500.0],
                to: [1000.0, 500.0],
                forward: "inbound".into(),
                backward: "outbound".into(),
            },
            CountLineConfig {
                id: "other".into(),
                camera: "cam2".into(),
                from: [0.0, 0.0],
                to: [0.0, 100.0],
                forward: "forward".into(),
                backward: "backward".into(),
            },
        ],
    }
}

fn foot(x: f32, y: f32) -> BBox {
    BBox::new(x - 30.0, y - 80.0, x + 30.0, y)
}

fn drive(c: &mut FlowCounter, track: u64, class: VehicleClass, ys: &[f32], start_ms: i64) {
    for (i, &y) in ys.iter().enumerate() {
        c.observe(
            "cam1",
            track,
            class,
            foot(400.0, y),
            t(start_ms + 100 * i as i64),
        );
    }
}

#[test]
fn counts_by_direction_and_class_with_zero_buckets() {
    let mut c = FlowCounter::new(&config());
    drive(
        &mut c,
        1,
        VehicleClass::Car,
        &[300.0, 450.0, 550.0, 700.0],
        1_000,
    );
    drive(&mut c, 2, VehicleClass::Truck, &[400.0, 600.0], 2_000);
    drive(&mut c, 3, VehicleClass::Car, &[700.0, 520.0, 480.0], 3_000);
    assert!(c.poll(t(59_999)).is_empty(), "interval still open");
    let out = c.poll(t(60_000));
    assert_eq!(out.len(), 2, "one line on cam1, two directions: {out:?}");
    let inbound = &out[0];
    assert_eq!(inbound.line_id, "stop-line");
    assert_eq!(inbound.camera, "cam1");
    assert_eq!(inbound.direction, "inbound");
    assert_eq!(inbound.interval_start, t(0));
    assert_eq!(inbound.interval_end, t(60_000));
    assert_eq!(inbound.count(VehicleClass::Car), 1);
    assert_eq!(inbound.count(VehicleClass::Truck), 1);
    assert_eq!(inbound.total(), 2);
    assert_eq!(out[1].direction, "outbound");
    assert_eq!(out[1].counts, BTreeMap::from([(VehicleClass::Car, 1)]));
    // Two quiet minutes later: zero buckets for both closed intervals, with empty maps.
    let out = c.poll(t(180_000));
    assert_eq!(out.len(), 4);
    assert!(out.iter().all(|b| b.counts.is_empty() && b.total() == 0));
    assert_eq!(out[0].interval_start, t(60_000));
    assert_eq!(out[2].interval_start, t(120_000));
    assert!(c.poll(t(180_000)).is_empty(), "each interval once");
}

#[test]
fn jitter_across_the_line_counts_once() {
    let mut c = FlowCounter::new(&config());
    drive(
        &mut c,
        1,
        VehicleClass::Bus,
        &[490.0, 510.0, 495.0, 505.0, 490.0, 520.0],
        0,
    );
    let out = c.flush(t(0));
    assert_eq!(out[0].count(VehicleClass::Bus), 1, "inbound");
    assert_eq!(
        out[1].total(),
        0,
        "never back the other way for the same track"
    );
}

#[test]
fn a_stop_exactly_on_the_line_still_counts() {
    let mut c = FlowCounter::new(&config());
    drive(
        &mut c,
        1,
        VehicleClass::Car,
        &[450.0, 500.0, 500.0, 550.0],
        0,
    );
    assert_eq!(c.flush(t(0))[0].total(), 1);
}

#[test]
fn passing_beside_the_end_of_the_segment_does_not_count() {
    let mut c = FlowCounter::new(&config());
    for (i, y) in [400.0, 600.0].into_iter().enumerate() {
        c.observe(
            "cam1",
            1,
            VehicleClass::Car,
            foot(1200.0, y),
            t(i as i64 * 100),
        );
    }
    assert!(c.flush(t(0)).iter().all(|b| b.total() == 0));
}

#[test]
fn a_crossing_belongs_to_the_interval_of_its_observation() {
    let mut c = FlowCounter::new(&config());
    c.observe("cam1", 1, VehicleClass::Car, foot(400.0, 450.0), t(59_900));
    c.observe("cam1", 1, VehicleClass::Car, foot(400.0, 550.0), t(60_000));
    let out = c.flush(t(60_000));
    assert_eq!(out.len(), 4);
    assert_eq!(out[0].total(), 0);
    assert_eq!((out[2].interval_start, out[2].total()), (t(60_000), 1));
}

#[test]
fn late_crossings_are_counted_not_lost_silently() {
    let mut c = FlowCounter::new(&config());
    c.observe("cam1", 1, VehicleClass::Car, foot(400.0, 450.0), t(1_000));
    assert_eq!(c.poll(t(60_000)).len(), 2);
    c.observe("cam1", 1, VehicleClass::Car, foot(400.0, 550.0), t(59_000));
    assert_eq!(c.late_crossings(), 1);
}

#[test]
fn forgotten_tracks_start_afresh_and_idle_ones_are_pruned() {
    let mut c = FlowCounter::new(&config());
    drive(&mut c, 1, VehicleClass::Car, &[450.0, 550.0], 0);
    c.forget_track("cam1", 1);
    // The tracker reused id 1 for a vehicle driving the other way.
    drive(&mut c, 1, VehicleClass::Car, &[550.0, 450.0], 1_000);
    let out = c.flush(t(2_000));
    assert_eq!((out[0].total(), out[1].total()), (1, 1));
    drive(&mut c, 2, VehicleClass::Car, &[100.0], 120_000);
    assert_eq!(c.tracked(), 2);
    assert_eq!(c.prune_idle(t(100_000)), 1);
    assert_eq!(c.tracked(), 1);
}

#[test]
fn buckets_only_for_observed_cameras_and_in_time_order() {
    let mut c = FlowCounter::new(&config());
    c.observe("cam2", 9, VehicleClass::Car, foot(50.0, 50.0), t(61_000));
    c.observe("cam1", 1, VehicleClass::Car, foot(400.0, 450.0), t(1_000));
    c.observe("nocam", 1, VehicleClass::Car, foot(400.0, 450.0), t(1_000));
    let out = c.poll(t(120_000));
    let rows: Vec<_> = out
        .iter()
        .map(|b| (b.interval_start, b.line_id.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            (t(0), "stop-line"),
            (t(0), "stop-line"),
            (t(60_000), "stop-line"),
            (t(60_000), "stop-line"),
            (t(60_000), "other"),
            (t(60_000), "other"),
        ]
    );
    assert_eq!(out[0].interval_start.offset(), &china_offset());
}
