//! Hot -> cold moves, queries across tiers, crash recovery and retention, on SQLite and the
//! real PostgreSQL server.
use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset};
use object_store::local::LocalFileSystem;
use object_store::{ObjectStore, ObjectStoreExt};
use uuid::Uuid;
use xl_schema::{Event, EventKind, Evidence, EvidenceKind};
use xl_store::cold::ColdEvents;
use xl_store::{
    run_retention, EventQuery, EvidenceStore, FileState, RetentionPolicy, Store, Tiers,
};

#[path = "support/pg.rs"]
mod pg;

fn t0() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-10-01T08:00:00+08:00").unwrap()
}

#[path = "support/events.rs"]
mod events;

/// A stored event with one evidence image.
fn event(kind: EventKind, camera: &str, plate: &str, ts: DateTime<FixedOffset>) -> Event {
    let mut e = events::event(kind, camera, plate, ts);
    e.evidence = vec![Evidence {
        kind: EvidenceKind::PlateJpeg,
        uri: format!(
            "evidence://{}/{camera}/{}-plate.jpg",
            ts.format("%Y/%m/%d"),
            e.id
        ),
    }];
    e
}

struct Setup {
    _db: Option<pg::FreshDb>,
    dir: tempfile::TempDir,
    tiers: Tiers,
    cold_objects: Arc<dyn ObjectStore>,
}

async fn setup(postgres: bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let (db, url) = if postgres {
        let db = pg::FreshDb::new("tiers");
        let url = db.url();
        (Some(db), url)
    } else {
        (None, format!("sqlite://{}/xl.db", dir.path().display()))
    };
    let hot = Store::open(&url).await.unwrap();
    std::fs::create_dir_all(dir.path().join("cold")).unwrap();
    let cold_objects: Arc<dyn ObjectStore> =
        Arc::new(LocalFileSystem::new_with_prefix(dir.path().join("cold")).unwrap());
    Setup {
        _db: db,
        tiers: Tiers::new(hot, Some(ColdEvents::new(cold_objects.clone()))),
        cold_objects,
        dir,
    }
}

/// Three days of events on two cameras, two kinds.
fn three_days() -> Vec<Event> {
    (0..600)
        .map(|i| {
            let kind = if i % 10 == 0 {
                EventKind::WatchlistHit
            } else {
                EventKind::PlateRead
            };
            let camera = if i % 2 == 0 { "cam-1" } else { "cam-2" };
            let plate = format!("皖S{:05}", i % 50);
            event(kind, camera, &plate, t0() + Duration::minutes(i * 7))
        })
        .collect()
}

async fn all(tiers: &Tiers, q: EventQuery) -> Vec<Event> {
    let mut out = Vec::new();
    let mut q = EventQuery { limit: 37, ..q };
    loop {
        let page = tiers.query(&q).await.unwrap();
        let Some(last) = page.last() else { break };
        q.after = Some((last.ts.timestamp_millis(), last.id));
        out.extend(page);
    }
    out
}

fn ids(events: &[Event]) -> Vec<Uuid> {
    events.iter().map(|e| e.id).collect()
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() { super::$name(false).await })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() { super::$name(true).await })*
        }
    };
}

both!(
    moved_events_are_found_once_across_tiers,
    an_interrupted_move_is_finished_or_rolled_back,
    retention_deletes_per_kind_with_evidence_and_audits,
);

async fn moved_events_are_found_once_across_tiers(postgres: bool) {
    let s = setup(postgres).await;
    let events = three_days();
    s.tiers.hot.insert_events(&events).await.unwrap();
    let before = all(&s.tiers, EventQuery::default()).await;

    let cutoff = t0() + Duration::days(2);
    let report = s.tiers.move_to_cold(cutoff).await.unwrap();
    let moved = events.iter().filter(|e| e.ts < cutoff).count() as u64;
    assert_eq!(report.events, moved);
    // Three China days before the cutoff (the third one partly), two kinds each.
    assert_eq!(report.files, 6);
    assert_eq!(
        s.tiers.hot.count_events().await.unwrap() as u64,
        events.len() as u64 - moved
    );

    // Every query reads both tiers, in order, each event once.
    let after = all(&s.tiers, EventQuery::default()).await;
    assert_eq!(ids(&after), ids(&before));
    assert_eq!(after, before, "events come back from Parquet unchanged");
    let plate = all(
        &s.tiers,
        EventQuery {
            plate: Some("皖S00007".into()),
            ..Default::default()
        },
    )
    .await;
    let expected: Vec<Uuid> = before
        .iter()
        .filter(|e| e.plate.as_ref().unwrap().text == "皖S00007")
        .map(|e| e.id)
        .collect();
    assert_eq!(ids(&plate), expected);
    assert!(plate.iter().any(|e| e.ts < cutoff) && plate.iter().any(|e| e.ts >= cutoff));
    let window = all(
        &s.tiers,
        EventQuery {
            camera_id: Some("cam-1".into()),
            kind: Some(EventKind::WatchlistHit),
            from: Some(t0() + Duration::hours(30)),
            to: Some(t0() + Duration::hours(60)),
            ..Default::default()
        },
    )
    .await;
    let expected: Vec<Uuid> = before
        .iter()
        .filter(|e| {
            e.camera_id == "cam-1"
                && e.kind == EventKind::WatchlistHit
                && e.ts >= t0() + Duration::hours(30)
                && e.ts < t0() + Duration::hours(60)
        })
        .map(|e| e.id)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(ids(&window), expected);

    // A second move has nothing left to do.
    let again = s.tiers.move_to_cold(cutoff).await.unwrap();
    assert_eq!((again.files, again.events), (0, 0));
    let _ = &s.dir;
}

async fn an_interrupted_move_is_finished_or_rolled_back(postgres: bool) {
    let s = setup(postgres).await;
    let events = three_days();
    s.tiers.hot.insert_events(&events).await.unwrap();
    let cold = s.tiers.cold.clone().unwrap();
    let day1: Vec<_> = s
        .tiers
        .hot
        .rows_between(
            "plate_read",
            0,
            (t0() + Duration::hours(16)).timestamp_millis(),
            10_000,
        )
        .await
        .unwrap();
    assert!(!day1.is_empty());

    // Crash 1: the file was uploaded but its events were not yet deleted from the hot table.
    let uploaded = "events/kind=plate_read/day=2026-10-01/uploaded.parquet";
    s.tiers
        .hot
        .begin_cold_file(uploaded, "plate_read", "2026-10-01")
        .await
        .unwrap();
    cold.write(uploaded, day1.clone()).await.unwrap();
    // Crash 2: the upload never happened.
    let missing = "events/kind=watchlist_hit/day=2026-10-01/missing.parquet";
    s.tiers
        .hot
        .begin_cold_file(missing, "watchlist_hit", "2026-10-01")
        .await
        .unwrap();
    // Crash 3: a torn object (a store without atomic puts).
    let torn = "events/kind=watchlist_hit/day=2026-10-02/torn.parquet";
    s.tiers
        .hot
        .begin_cold_file(torn, "watchlist_hit", "2026-10-02")
        .await
        .unwrap();
    s.cold_objects
        .put(&torn.into(), b"PAR1 not really".to_vec().into())
        .await
        .unwrap();

    // While unfinished, the uploaded file is invisible: each event is counted once (in hot).
    assert_eq!(
        all(&s.tiers, EventQuery::default()).await.len(),
        events.len()
    );

    let report = s
        .tiers
        .move_to_cold(t0() + Duration::days(2))
        .await
        .unwrap();
    assert_eq!(report.resumed, 3);
    let found = all(&s.tiers, EventQuery::default()).await;
    let unique: HashSet<Uuid> = found.iter().map(|e| e.id).collect();
    assert_eq!(found.len(), events.len(), "nothing lost or duplicated");
    assert_eq!(unique.len(), events.len());
    let live: Vec<String> = s
        .tiers
        .hot
        .cold_files(FileState::Live, None, None, None)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.file.path)
        .collect();
    assert!(live.contains(&uploaded.to_string()), "{live:?}");
    assert!(!live.contains(&missing.to_string()) && !live.contains(&torn.to_string()));
    let torn_left = s.cold_objects.head(&torn.into()).await;
    assert!(torn_left.is_err(), "the torn object is deleted");
    assert!(s
        .tiers
        .hot
        .cold_files(FileState::Writing, None, None, None)
        .await
        .unwrap()
        .is_empty());
}

async fn retention_deletes_per_kind_with_evidence_and_audits(postgres: bool) {
    let s = setup(postgres).await;
    let evidence = EvidenceStore::open(s.dir.path().join("evidence").to_str().unwrap()).unwrap();
    let events = three_days();
    // Real evidence objects for every event, so deletion is observable.
    let writer = evidence.clone();
    let written = events.clone();
    tokio::task::spawn_blocking(move || {
        for e in &written {
            let uri = writer
                .put(&e.camera_id, e.id, e.ts, "plate.jpg", b"jpeg")
                .unwrap();
            assert_eq!(uri, e.evidence[0].uri);
        }
    })
    .await
    .unwrap();
    s.tiers.hot.insert_events(&events).await.unwrap();

    // "Now" is 2026-10-04 20:00: one day hot; plate reads live 2 days, watch-list hits 10.
    let now = t0() + Duration::hours(84);
    let policy = RetentionPolicy {
        hot_days: 1,
        keep_days: [
            ("plate_read".to_string(), 2),
            ("watchlist_hit".to_string(), 10),
        ]
        .into(),
        default_keep_days: 365,
    };
    let report = run_retention(&s.tiers, Some(&evidence), &policy, now)
        .await
        .unwrap();
    let kept = all(&s.tiers, EventQuery::default()).await;
    let expected: Vec<Uuid> = events
        .iter()
        .filter(|e| e.kind == EventKind::WatchlistHit || e.ts >= now - Duration::days(2))
        .map(|e| e.id)
        .collect();
    // Cold files go whole, by day: plate reads of the day straddling the cutoff stay until the
    // whole day has expired.
    let straddling_day = t0() + Duration::hours(16)..now - Duration::days(2);
    let kept_ids: HashSet<Uuid> = kept.iter().map(|e| e.id).collect();
    for e in &events {
        let should_keep = expected.contains(&e.id);
        let may_keep = e.kind == EventKind::PlateRead && straddling_day.contains(&e.ts);
        if should_keep {
            assert!(
                kept_ids.contains(&e.id),
                "lost {} at {}",
                e.kind.as_str(),
                e.ts
            );
        } else if !may_keep {
            assert!(
                !kept_ids.contains(&e.id),
                "kept {} at {}",
                e.kind.as_str(),
                e.ts
            );
        }
    }
    assert!(report.deleted_cold_events > 0 || report.deleted_hot_events > 0);
    // Evidence went with its events, and only theirs.
    for e in &events {
        let exists = evidence.get(&e.evidence[0].uri).await.unwrap().is_some();
        assert_eq!(
            exists,
            kept_ids.contains(&e.id),
            "evidence of {} at {}",
            e.id,
            e.ts
        );
    }
    let audit = s
        .tiers
        .hot
        .audit_records(&xl_store::AuditFilter::default())
        .await
        .unwrap();
    let audited: u64 = audit
        .iter()
        .filter(|a| a.record.action == "retention.delete")
        .map(|a| a.record.detail["events"].as_u64().unwrap())
        .sum();
    assert_eq!(
        audited,
        report.deleted_hot_events + report.deleted_cold_events
    );
    assert_eq!(
        events.len() - kept.len(),
        (report.deleted_hot_events + report.deleted_cold_events) as usize
    );
}
