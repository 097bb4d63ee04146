use super::*;

/// Camera positions: A and B 10 km apart east-west at the equator-ish latitude of Hefei; C at
/// A's position (0 km); D about 0.5 km from A.
fn positions() -> HashMap<String, (f64, f64)> {
    let lat: f64 = 31.8;
    let deg_per_km_lon = 1.0 / (111.195 * lat.to_radians().cos());
    HashMap::from([
        ("A".to_string(), (lat, 117.0)),
        ("B".to_string(), (lat, 117.0 + 10.0 * deg_per_km_lon)),
        ("C".to_string(), (lat, 117.0)),
        ("D".to_string(), (lat, 117.0 + 0.5 * deg_per_km_lon)),
        ("E".to_string(), (lat, 117.0 + 100.0 * deg_per_km_lon)),
    ])
}

fn rule() -> ClonedPlateRule {
    ClonedPlateRule::new(ClonedConfig::default(), positions())
}

fn t(secs: i64) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2024-05-01T08:00:00+08:00").unwrap() + Duration::seconds(secs)
}

fn s(id: &str, camera: &str, plate: &str, secs: i64) -> Sighting {
    Sighting {
        event_id: id.into(),
        camera: camera.into(),
        plate: plate.into(),
        ts: t(secs),
    }
}

#[test]
fn haversine_matches_known_distances() {
    // Beijing Tiananmen to Shanghai People's Square: about 1067 km.
    let d = haversine_km((39.9087, 116.3975), (31.2304, 121.4737));
    assert!((d - 1067.0).abs() < 5.0, "{d}");
    assert_eq!(haversine_km((31.8, 117.0), (31.8, 117.0)), 0.0);
    let p = positions();
    let ab = haversine_km(p["A"], p["B"]);
    assert!((ab - 10.0).abs() < 0.05, "{ab}");
}

#[test]
fn too_fast_between_two_cameras_is_reported() {
    let mut r = rule();
    assert!(r.observe(s("e1", "A", "皖A12345", 0)).is_none());
    // 10 km in 60 s is 600 km/h.
    let p = r.observe(s("e2", "B", "皖A12345", 60)).unwrap();
    assert_eq!(p.earlier.event_id, "e1");
    assert_eq!(p.later.event_id, "e2");
    assert!((p.distance_km - 10.0).abs() < 0.05);
    assert!((p.speed_kmh - 600.0).abs() < 5.0, "{}", p.speed_kmh);
    // 10 km in 10 minutes is 60 km/h: plausible.
    assert!(r.observe(s("e3", "A", "皖B00001", 0)).is_none());
    assert!(r.observe(s("e4", "B", "皖B00001", 600)).is_none());
}

#[test]
fn same_camera_twice_never_triggers() {
    let mut r = rule();
    assert!(r.observe(s("e1", "A", "皖A12345", 0)).is_none());
    assert!(r.observe(s("e2", "A", "皖A12345", 0)).is_none());
    assert!(r.observe(s("e3", "A", "皖A12345", 1)).is_none());
    // Two cameras at the same position are 0 km apart: below min_distance_km.
    assert!(r.observe(s("e4", "C", "皖A12345", 1)).is_none());
    // 0.5 km apart in 1 s is 1800 km/h, but closer than 1 km.
    assert!(r.observe(s("e5", "D", "皖A12345", 2)).is_none());
}

#[test]
fn simultaneous_reads_are_infinitely_fast_and_order_may_be_reversed() {
    let mut r = rule();
    r.observe(s("e1", "B", "皖A12345", 100));
    let p = r.observe(s("e2", "A", "皖A12345", 100)).unwrap();
    assert!(p.speed_kmh.is_infinite());
    // A read arriving late (its time earlier than the one already seen) is compared by |dt|.
    let mut r = rule();
    r.observe(s("e1", "B", "皖A12345", 100));
    let p = r.observe(s("e0", "A", "皖A12345", 40)).unwrap();
    assert_eq!(p.earlier.event_id, "e0");
    assert_eq!(p.later.event_id, "e1");
}

#[test]
fn the_fastest_pair_is_reported_and_never_twice() {
    let mut r = rule();
    r.observe(s("a", "A", "皖A12345", 0));
    r.observe(s("b", "B", "皖A12345", 3_000)); // 10 km in 50 min: fine
                                               // At E: 100 km from A 1 h 40 after a (60 km/h, fine), 90 km from B 100 s after b (3240 km/h).
    let p = r.observe(s("e", "E", "皖A12345", 3_100)).unwrap();
    assert_eq!(p.earlier.event_id, "b");
    // The same read delivered again does not report the same pair.
    assert!(r.observe(s("e", "E", "皖A12345", 3_100)).is_none());
}

#[test]
fn unknown_cameras_are_skipped_and_counted() {
    let mut r = rule();
    assert!(r.observe(s("x", "nowhere", "皖A12345", 0)).is_none());
    assert!(r.observe(s("y", "A", "皖A12345", 1)).is_none());
    assert_eq!(r.unknown_camera_skips(), 1);
    assert_eq!(r.kept(), 1);
}

#[test]
fn old_sightings_are_forgotten() {
    let cfg = ClonedConfig {
        horizon_secs: 600,
        ..ClonedConfig::default()
    };
    let mut r = ClonedPlateRule::new(cfg, positions());
    r.observe(s("a", "A", "皖A12345", 0));
    r.observe(s("x", "A", "皖Z99999", 700));
    assert_eq!(r.kept(), 1, "pruned by the newest time");
    // Simultaneous but beyond the horizon from newest: dropped, not compared.
    assert!(r.observe(s("b", "B", "皖A12345", 0)).is_none());
    assert_eq!(r.kept(), 1);
    for i in 0..1000 {
        r.observe(s(&format!("m{i}"), "A", &format!("皖M{i:05}"), 700 + i));
    }
    assert!(r.kept() <= 601, "{}", r.kept());
}

#[test]
fn partial_reads_are_never_paired() {
    let mut r = rule();
    assert!(r.observe(s("e1", "A", "?A12345", 0)).is_none());
    // Far too fast for one vehicle, but the unread provinces may differ.
    assert!(r.observe(s("e2", "B", "?A12345", 60)).is_none());
    assert_eq!(r.kept(), 0, "partial reads are not remembered");
}
