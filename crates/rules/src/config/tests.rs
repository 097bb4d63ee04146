use super::*;

const SNIPPET: &str = r#"
[watchlist]
files = ["lists/stolen.csv", "lists/escaped.csv"]

[[zones]]
id = "old-town"
camera = "cam1"
polygon = [[100, 100], [1800, 100], [1800, 1000], [100, 1000]]
windows = ["07:00-09:00", "22:00-06:00"]
classes = ["truck"]
permits = ["皖A12345"]

[overload]
window_secs = 3.5

[[overload.stations]]
id = "WIM-01"
camera = "cam-wim"
lanes = [{ lane = 1, polygon = [[0, 0], [960, 0], [960, 1080], [0, 1080]] }, { lane = 2 }]

[obscured]
min_frames = 8

[cloned]
max_speed_kmh = 200

[flow]
interval_secs = 300

[[flow.lines]]
id = "north-stop"
camera = "cam1"
from = [0, 700]
to = [1920, 700]
forward = "southbound"
"#;

fn parse(text: &str) -> Result<RulesConfig, toml::de::Error> {
    toml::from_str(text)
}

#[test]
fn toml_round_trip_with_defaults_filled_in() {
    let cfg = parse(SNIPPET).unwrap();
    cfg.validate().unwrap();
    let w = cfg.watchlist.as_ref().unwrap();
    assert!(w.fuzzy, "fuzzy defaults to true");
    assert_eq!(cfg.zones[0].classes, [VehicleClass::Truck]);
    assert_eq!(cfg.zones[0].polygon[2], [1800.0, 1000.0]);
    let o = cfg.overload.as_ref().unwrap();
    assert_eq!(o.window_secs, 3.5);
    assert_eq!(o.limits_kg, default_axle_limits());
    assert_eq!(o.stations[0].lanes[1].polygon, None);
    let ob = cfg.obscured.as_ref().unwrap();
    assert_eq!((ob.min_frames, ob.min_box_height_px), (8, 120.0));
    assert_eq!(ob.classes, default_obscured_classes());
    let c = cfg.cloned.as_ref().unwrap();
    assert_eq!(
        (c.max_speed_kmh, c.min_distance_km, c.horizon_secs),
        (200.0, 1.0, 86_400)
    );
    let f = cfg.flow.as_ref().unwrap();
    assert_eq!(
        (f.lines[0].forward.as_str(), f.lines[0].backward.as_str()),
        ("southbound", "backward")
    );

    let text = toml::to_string(&cfg).unwrap();
    assert_eq!(parse(&text).unwrap(), cfg, "{text}");
}

#[test]
fn empty_table_turns_every_rule_off() {
    let cfg = parse("").unwrap();
    assert_eq!(cfg, RulesConfig::default());
    cfg.validate().unwrap();
}

#[test]
fn unknown_keys_are_rejected() {
    for (bad, key) in [
        ("zone = []", "zone"),
        ("[cloned]\nmax_speed = 100", "max_speed"),
        (
            "[[zones]]\nid='a'\ncamera='c'\npolygon=[[0,0],[1,0],[1,1]]\nwindow=['07:00-09:00']",
            "window",
        ),
        (
            "[overload]\n[[overload.stations]]\nid='s'\ncamera='c'\nlanes=[{lane=1, poly=[]}]",
            "poly",
        ),
        (
            "[flow]\n[[flow.lines]]\nid='l'\ncamera='c'\nfrom=[0,0]\nto=[1,1]\nfwd='x'",
            "fwd",
        ),
    ] {
        let e = parse(bad).unwrap_err().to_string();
        assert!(e.contains(&format!("unknown field `{key}`")), "{bad}: {e}");
    }
    let e = parse("[[zones]]\nid='a'\ncamera='c'\npolygon=[[0,0],[1,0],[1,1]]\nclasses=['tank']")
        .unwrap_err()
        .to_string();
    assert!(e.contains("tank"), "{e}");
}

type Edit = Box<dyn FnOnce(&mut RulesConfig)>;

fn invalid(edit: impl FnOnce(&mut RulesConfig)) -> String {
    let mut cfg = parse(SNIPPET).unwrap();
    edit(&mut cfg);
    cfg.validate().unwrap_err()
}

#[test]
fn validation_messages_name_the_id_and_field() {
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|c| c.zones[0].polygon.truncate(2)),
            "rules.zones[old-town].polygon: needs at least 3 points, got 2",
        ),
        (
            Box::new(|c| c.zones[0].windows.push("9:00-9:00".into())),
            "rules.zones[old-town].windows: time window \"9:00-9:00\" is empty",
        ),
        (
            Box::new(|c| c.zones[0].windows.push("07:00-25:00".into())),
            "rules.zones[old-town].windows: time window \"07:00-25:00\": bad end",
        ),
        (
            Box::new(|c| {
                let z = c.zones[0].clone();
                c.zones.push(z);
            }),
            "rules.zones[old-town].id: duplicate zone id",
        ),
        (
            Box::new(|c| c.zones[0].camera = " ".into()),
            "rules.zones[old-town].camera: must not be empty",
        ),
        (
            Box::new(|c| c.overload.as_mut().unwrap().limits_kg.clear()),
            "rules.overload.limits_kg: must not be empty",
        ),
        (
            Box::new(|c| c.overload.as_mut().unwrap().limits_kg.swap(1, 2)),
            "rules.overload.limits_kg[2]: axle counts must ascend (3 after 4)",
        ),
        (
            Box::new(|c| c.overload.as_mut().unwrap().window_secs = 0.0),
            "rules.overload.window_secs: must be a positive number",
        ),
        (
            Box::new(|c| c.overload.as_mut().unwrap().stations[0].lanes[1].lane = 1),
            "rules.overload.stations[WIM-01].lanes: lane 1 listed twice",
        ),
        (
            Box::new(|c| c.overload.as_mut().unwrap().stations[0].lanes[0].polygon = None),
            "rules.overload.stations[WIM-01].lanes: at most one lane may omit its polygon",
        ),
        (
            Box::new(|c| {
                c.overload.as_mut().unwrap().stations[0].lanes[0].polygon = Some(vec![[0.0, 0.0]])
            }),
            "rules.overload.stations[WIM-01].lanes[1].polygon: needs at least 3 points, got 1",
        ),
        (
            Box::new(|c| {
                let o = c.overload.as_mut().unwrap();
                let s = o.stations[0].clone();
                o.stations.push(s);
            }),
            "rules.overload.stations[WIM-01].id: duplicate station id",
        ),
        (
            Box::new(|c| c.overload.as_mut().unwrap().stations[0].lanes.clear()),
            "rules.overload.stations[WIM-01].lanes: list at least one lane",
        ),
        (
            Box::new(|c| c.cloned.as_mut().unwrap().max_speed_kmh = -1.0),
            "rules.cloned.max_speed_kmh: must be positive",
        ),
        (
            Box::new(|c| c.cloned.as_mut().unwrap().horizon_secs = 0),
            "rules.cloned.horizon_secs: must be positive",
        ),
        (
            Box::new(|c| c.obscured.as_mut().unwrap().classes.clear()),
            "rules.obscured.classes: list at least one vehicle class",
        ),
        (
            Box::new(|c| c.flow.as_mut().unwrap().interval_secs = 0),
            "rules.flow.interval_secs: must be positive",
        ),
        (
            Box::new(|c| c.flow.as_mut().unwrap().lines[0].to = [0.0, 700.0]),
            "rules.flow.lines[north-stop].to: must differ from `from`",
        ),
        (
            Box::new(|c| c.flow.as_mut().unwrap().lines[0].backward = "southbound".into()),
            "rules.flow.lines[north-stop].forward/backward",
        ),
        (
            Box::new(|c| {
                let f = c.flow.as_mut().unwrap();
                let l = f.lines[0].clone();
                f.lines.push(l);
            }),
            "rules.flow.lines[north-stop].id: duplicate line id",
        ),
        (
            Box::new(|c| c.watchlist.as_mut().unwrap().files.clear()),
            "rules.watchlist.files: list at least one CSV file",
        ),
    ];
    for (edit, want) in cases {
        let got = invalid(edit);
        assert!(got.starts_with(want), "want {want:?}\n got {got:?}");
    }
}
