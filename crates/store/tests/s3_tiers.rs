//! Evidence and the cold tier on a real S3-compatible server (moto, started by the test),
//! opened from `s3://` locations the way the config names them.

use chrono::{DateTime, Duration};
use uuid::Uuid;
use xl_schema::{Event, EventKind};
use xl_store::cold::ColdEvents;
use xl_store::{open_object_store, EventQuery, EvidenceStore, Store, Tiers};

#[path = "support/s3.rs"]
mod s3;

#[path = "support/events.rs"]
mod events;

fn event(i: i64) -> Event {
    let ts =
        DateTime::parse_from_rfc3339("2026-10-01T10:00:00+08:00").unwrap() + Duration::minutes(i);
    events::event(
        EventKind::PlateRead,
        &format!("cam-{}", i % 3),
        &format!("皖S{:05}", i % 7),
        ts,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_and_cold_files_live_on_s3_under_stable_uris() {
    let server = s3::S3Server::start();
    let bucket = server.create_bucket("xl");
    // The same variables a deployment sets; this test binary has no other test, so setting
    // the process environment is safe.
    std::env::set_var("AWS_ENDPOINT", server.endpoint());
    std::env::set_var("AWS_ALLOW_HTTP", "true");
    std::env::set_var("AWS_ACCESS_KEY_ID", "test");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
    std::env::set_var("AWS_REGION", "us-east-1");

    let evidence = EvidenceStore::open(&format!("s3://{bucket}/evidence")).unwrap();
    let folder = tempfile::tempdir().unwrap();
    let local = EvidenceStore::open(folder.path().to_str().unwrap()).unwrap();
    let ts = DateTime::parse_from_rfc3339("2026-11-29T10:00:00+08:00").unwrap();
    let id = Uuid::now_v7();
    let (on_s3, on_disk) = {
        let (evidence, local) = (evidence.clone(), local.clone());
        tokio::task::spawn_blocking(move || {
            (
                evidence
                    .put("cam-1", id, ts, "frame.jpg", b"jpeg bytes")
                    .unwrap(),
                local
                    .put("cam-1", id, ts, "frame.jpg", b"jpeg bytes")
                    .unwrap(),
            )
        })
        .await
        .unwrap()
    };
    assert_eq!(on_s3, on_disk, "URIs do not depend on the backend");
    assert_eq!(
        evidence.get(&on_s3).await.unwrap().unwrap().as_ref(),
        b"jpeg bytes"
    );
    evidence.delete(&on_s3).await.unwrap();
    assert!(evidence.get(&on_s3).await.unwrap().is_none());

    let db = tempfile::tempdir().unwrap();
    let hot = Store::open(&format!("sqlite://{}/xl.db", db.path().display()))
        .await
        .unwrap();
    let cold = ColdEvents::new(open_object_store(&format!("s3://{bucket}/cold")).unwrap());
    let tiers = Tiers::new(hot, Some(cold));
    let events: Vec<Event> = (0..300).map(event).collect();
    tiers.hot.insert_events(&events).await.unwrap();
    let cutoff = events[200].ts;
    let report = tiers.move_to_cold(cutoff).await.unwrap();
    assert_eq!(report.events, 200);
    assert_eq!(tiers.hot.count_events().await.unwrap(), 100);
    let found = tiers
        .query(&EventQuery {
            plate: Some("皖S00003".into()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    let expected: Vec<Uuid> = events
        .iter()
        .filter(|e| e.plate.as_ref().unwrap().text == "皖S00003")
        .map(|e| e.id)
        .collect();
    assert_eq!(found.iter().map(|e| e.id).collect::<Vec<_>>(), expected);
    let listed = server.store(&bucket);
    use futures::TryStreamExt;
    use object_store::ObjectStore;
    let objects: Vec<_> = listed
        .list(Some(&"cold/events".into()))
        .try_collect()
        .await
        .unwrap();
    assert!(!objects.is_empty(), "cold files are in the bucket");
}
