use super::*;

fn ts(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

const NOON: &str = "2024-05-01T12:00:00+08:00";

fn list(csv: &str) -> Watchlist {
    Watchlist::from_reader("test.csv", csv.as_bytes()).unwrap()
}

#[test]
fn exact_match_with_trimming_and_case() {
    let w = list("plate,reason,list\n 皖a12345 , stolen , 盗抢\n");
    let hits = w.check(" 皖A12345", ts(NOON));
    assert_eq!(
        hits,
        vec![WatchHit {
            plate: "皖A12345".into(),
            list: "盗抢".into(),
            reason: "stolen".into(),
            fuzzy: false,
            read_text: "皖A12345".into(),
        }]
    );
    assert!(w.check("皖A12346", ts(NOON)).is_empty());
}

#[test]
fn fuzzy_matches_one_confusable_character() {
    let w = list("plate,reason,list\n京A0B123,r,l\n粤B8S5Z1,r,l\n");
    let h = w.check("京AD8123", ts(NOON));
    assert!(h.is_empty(), "two positions differ: {h:?}");
    let h = w.check("京AQB123", ts(NOON));
    assert_eq!(h.len(), 1);
    assert!(h[0].fuzzy);
    assert_eq!(h[0].plate, "京A0B123");
    assert_eq!(h[0].read_text, "京AQB123");
    for read in ["京ADB123", "京AOB123", "京AUB123", "京A0B1Z3"] {
        assert_eq!(w.check(read, ts(NOON)).len(), 1, "{read}");
    }
    for read in [
        "粤BBS5Z1",
        "粤B8555Z1",
        "粤B8SSZ1",
        "粤B8S521",
        "粤B8S5ZT",
        "粤B8S5Z7",
    ] {
        let hits = w.check(read, ts(NOON));
        let expect = usize::from(read.chars().count() == 7);
        assert_eq!(hits.len(), expect, "{read}: {hits:?}");
    }
    assert!(w.check("京A0B12", ts(NOON)).is_empty(), "shorter text");
    assert!(
        w.check("京A0C123", ts(NOON)).is_empty(),
        "B/C are not confusable"
    );
    assert!(
        w.check("京A0B12X", ts(NOON)).is_empty(),
        "3/X are not confusable"
    );
}

#[test]
fn fuzzy_can_be_turned_off() {
    let w = list("plate,reason,list\n京A0B123,r,l\n").with_fuzzy(false);
    assert!(w.check("京ADB123", ts(NOON)).is_empty());
    assert_eq!(w.check("京A0B123", ts(NOON)).len(), 1);
}

#[test]
fn no_fuzzy_on_the_province_character() {
    // Two ASCII "provinces" that are confusable must still not match: position 0 is exact.
    let w = list("plate,reason,list\n8A12345,r,l\n京A12345,r,l\n");
    assert!(w.check("BA12345", ts(NOON)).is_empty());
    assert!(w.check("津A12345", ts(NOON)).is_empty());
}

#[test]
fn exact_and_fuzzy_hits_on_different_entries_come_exact_first() {
    let w = list("plate,reason,list\n京AD1234,fuzzy one,a\n京A01234,exact one,b\n");
    let hits = w.check("京A01234", ts(NOON));
    assert_eq!(hits.len(), 2);
    assert!(!hits[0].fuzzy);
    assert_eq!(hits[0].reason, "exact one");
    assert!(hits[1].fuzzy);
    assert_eq!(hits[1].plate, "京AD1234");
}

#[test]
fn one_plate_on_two_lists_hits_both_and_duplicates_once() {
    let w = list("plate,reason,list\n京A12345,x,a\n京A12345,y,b\n京A12345,x again,a\n");
    let hits = w.check("京A12345", ts(NOON));
    let lists: Vec<_> = hits.iter().map(|h| h.list.as_str()).collect();
    assert_eq!(lists, ["a", "b"]);
}

#[test]
fn validity_dates_are_local_days_inclusive() {
    let w = list(
        "plate,reason,list,valid_from,valid_to\n\
         京A11111,r,l,2024-05-01,2024-05-31\n\
         京A22222,r,l,,2024-05-01T12:00:00+08:00\n\
         京A33333,r,l,2024-05-01T04:00:00Z,\n",
    );
    let hit = |p: &str, t: &str| !w.check(p, ts(t)).is_empty();
    assert!(!hit("京A11111", "2024-04-30T23:59:59.999+08:00"));
    assert!(hit("京A11111", "2024-05-01T00:00:00+08:00"));
    assert!(
        !hit("京A11111", "2024-04-30T15:59:59Z"),
        "23:59:59 local on 30 April"
    );
    assert!(hit("京A11111", "2024-05-31T23:59:59.999+08:00"));
    assert!(!hit("京A11111", "2024-06-01T00:00:00+08:00"));
    assert!(
        hit("京A22222", "2024-05-01T12:00:00+08:00"),
        "RFC 3339 end inclusive"
    );
    assert!(!hit("京A22222", "2024-05-01T12:00:00.001+08:00"));
    assert!(!hit("京A33333", "2024-05-01T11:59:59+08:00"));
    assert!(hit("京A33333", "2024-05-01T12:00:00+08:00"));
    // An expired entry does not hit fuzzily either.
    assert!(w
        .check("京A1111T", ts("2024-06-02T00:00:00+08:00"))
        .is_empty());
    assert!(!w.check("京A1111T", ts(NOON)).is_empty());
}

#[test]
fn columns_may_come_in_any_order_and_optional_ones_may_be_absent() {
    let w = list("\u{feff}list,plate,reason\n盗抢,京A12345,stolen\n");
    assert_eq!(w.len(), 1);
    assert_eq!(w.entries()[0].list, "盗抢");
    let w = list("plate,reason,list\n# a comment\n京A12345,,l\n");
    assert_eq!(w.len(), 1);
}

fn err(csv: &str) -> String {
    Watchlist::from_reader("lists/a.csv", csv.as_bytes())
        .unwrap_err()
        .to_string()
}

#[test]
fn errors_name_file_and_line() {
    let e = err("plate,reason,list\n京A12345,r,l\n京A22222,r,l,2024-13-01,\n");
    assert!(e.starts_with("lists/a.csv:3:"), "{e}");
    let e = err("plate,reason,list,valid_from,valid_to\n京A12345,r,l,2024-13-01,\n");
    assert!(
        e.starts_with("lists/a.csv:2: valid_from \"2024-13-01\""),
        "{e}"
    );
    let e = err("plate,reason,list,valid_from,valid_to\n京A1,r,l,2024-05-02,2024-05-01\n");
    assert!(e.contains(":2: valid_from is not before valid_to"), "{e}");
    let e = err("plate,reason,list\n,r,l\n");
    assert!(e.contains(":2: empty plate"), "{e}");
    let e = err("plate,reason,list\n京A1,r,\n");
    assert!(e.contains(":2: empty list name"), "{e}");
    let e = err("plate,reason\n");
    assert!(e.contains(":1: missing column \"list\""), "{e}");
    let e = err("plate,reason,list,vaild_to\n");
    assert!(e.contains(":1: unknown column \"vaild_to\""), "{e}");
}

#[test]
fn files_are_merged_and_a_missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    std::fs::write(&a, "plate,reason,list\n京A11111,r,a\n").unwrap();
    std::fs::write(&b, "plate,reason,list\n京A22222,r,b\n").unwrap();
    let w = Watchlist::from_csv_files(&[a.clone(), b]).unwrap();
    assert_eq!(w.len(), 2);
    assert_eq!(w.check("京A22222", ts(NOON))[0].list, "b");
    let missing = dir.path().join("missing.csv");
    let e = Watchlist::from_csv_files(&[a, missing])
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.csv"), "{e}");
}

#[test]
fn lookups_stay_fast_with_100k_entries() {
    let mut csv = String::from("plate,reason,list\n");
    for i in 0..100_000 {
        csv.push_str(&format!("京A{i:05},r,l\n"));
    }
    let w = list(&csv);
    assert_eq!(w.len(), 100_000);
    let start = std::time::Instant::now();
    for i in 0..10_000 {
        let read = format!("京A{:05}", i * 7 % 100_000);
        assert!(!w.check(&read, ts(NOON)).is_empty());
    }
    // A linear scan would take seconds here even optimised; hashed lookups take milliseconds.
    assert!(
        start.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_read_with_its_province_unread_hits_the_entries_that_agree_on_the_rest() {
    let w = list("plate,reason,list\n新G6NN34,stolen,盗抢\n鲁G6NN34,wanted,布控\n京G6NN35,r,l\n");
    let hits = w.check("?G6NN34", ts(NOON));
    let plates: Vec<&str> = hits.iter().map(|h| h.plate.as_str()).collect();
    assert_eq!(plates, ["新G6NN34", "鲁G6NN34"]);
    assert!(hits.iter().all(|h| h.fuzzy && h.read_text == "?G6NN34"));
    assert!(
        w.check("?G6NN3?", ts(NOON)).is_empty(),
        "two unread characters say too little"
    );
    assert!(
        w.clone()
            .with_fuzzy(false)
            .check("?G6NN34", ts(NOON))
            .is_empty(),
        "a partial read is a fuzzy hit at best"
    );
}
