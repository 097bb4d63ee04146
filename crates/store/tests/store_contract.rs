//! What every hot-store backend must do, run against SQLite and the real PostgreSQL server.

use chrono::{DateTime, Duration, FixedOffset};
use uuid::Uuid;
use xl_schema::{Event, EventKind};
use xl_store::{EventQuery, EventWriter, Store};

#[path = "support/events.rs"]
mod events;

fn event(camera: &str, plate: &str, ts: DateTime<FixedOffset>) -> Event {
    events::event(EventKind::PlateRead, camera, plate, ts)
}

#[macro_use]
#[path = "support/backends.rs"]
mod backends;
use backends::Backend;

contract!(
    inserts_are_idempotent_and_queries_filter_by_plate_camera_and_time,
    plate_prefix_finds_partial_reads_only,
    keyset_pages_cover_every_event_exactly_once,
    writer_drains_every_accepted_event_on_close,
    camera_health_snapshots_are_replaced_per_camera,
    reopening_keeps_data,
);

fn t0() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-29T10:00:00+08:00").unwrap()
}

async fn inserts_are_idempotent_and_queries_filter_by_plate_camera_and_time(backend: Backend) {
    let (_guard, store) = backend.open().await;
    let events: Vec<Event> = (0..30)
        .map(|i| {
            let camera = if i % 2 == 0 { "cam-1" } else { "cam-2" };
            let plate = if i % 3 == 0 { "皖S12345" } else { "苏A88888" };
            event(camera, plate, t0() + Duration::seconds(i))
        })
        .collect();
    assert_eq!(store.insert_events(&events).await.unwrap(), 30);
    assert_eq!(
        store.insert_events(&events[..10]).await.unwrap(),
        0,
        "re-insert is a no-op"
    );
    assert_eq!(store.count_events().await.unwrap(), 30);

    let by_plate = store
        .query(&EventQuery {
            plate: Some("皖S12345".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_plate.len(), 10);
    assert!(
        by_plate.windows(2).all(|w| w[0].ts <= w[1].ts),
        "time order"
    );

    let window = store
        .query(&EventQuery {
            camera_id: Some("cam-2".into()),
            from: Some(t0() + Duration::seconds(10)),
            to: Some(t0() + Duration::seconds(20)),
            kind: Some(EventKind::PlateRead),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let secs: Vec<i64> = window.iter().map(|e| (e.ts - t0()).num_seconds()).collect();
    assert_eq!(secs, [11, 13, 15, 17, 19]);
    assert_eq!(
        store.event(events[3].id).await.unwrap().as_ref(),
        Some(&events[3])
    );
}

async fn keyset_pages_cover_every_event_exactly_once(backend: Backend) {
    let (_guard, store) = backend.open().await;
    let events: Vec<Event> = (0..25)
        .map(|i| event("cam-1", "皖S12345", t0() + Duration::seconds(i / 2)))
        .collect();
    store.insert_events(&events).await.unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .query(&EventQuery {
                after,
                limit: 7,
                ..Default::default()
            })
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        let last = page.last().unwrap();
        after = Some((last.ts.timestamp_millis(), last.id));
        seen.extend(page.into_iter().map(|e| e.id));
    }
    let mut expected: Vec<Uuid> = events.iter().map(|e| e.id).collect();
    expected.sort();
    let mut got = seen.clone();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(seen.len(), 25);
}

async fn writer_drains_every_accepted_event_on_close(backend: Backend) {
    let (_guard, store) = backend.open().await;
    let writer = EventWriter::spawn(store.clone(), 16);
    for i in 0..1000 {
        writer
            .send(event("cam-1", "皖S12345", t0() + Duration::milliseconds(i)))
            .await
            .unwrap();
    }
    writer.close().await;
    assert_eq!(store.count_events().await.unwrap(), 1000);
}

async fn camera_health_snapshots_are_replaced_per_camera(backend: Backend) {
    let (_guard, store) = backend.open().await;
    let a = serde_json::json!({"camera_id": "cam-1", "state": "streaming"});
    let b = serde_json::json!({"camera_id": "cam-1", "state": "backoff"});
    store
        .put_camera_health(&[("cam-1".into(), a)])
        .await
        .unwrap();
    store
        .put_camera_health(&[("cam-1".into(), b.clone())])
        .await
        .unwrap();
    let health = store.camera_health().await.unwrap();
    assert_eq!(health.len(), 1);
    assert_eq!(health[0].1, b);
}

async fn reopening_keeps_data(backend: Backend) {
    let (_guard, url) = backend.url();
    let store = Store::open(&url).await.unwrap();
    store
        .insert_events(&[event("cam-1", "皖S12345", t0())])
        .await
        .unwrap();
    store.close().await;
    let store = Store::open(&url).await.unwrap();
    assert_eq!(store.count_events().await.unwrap(), 1);
}

async fn plate_prefix_finds_partial_reads_only(backend: Backend) {
    let (_guard, store) = backend.open().await;
    let plates = [
        "皖SA1234",
        "皖SA9999",
        "皖SB0000",
        "皖T12345",
        "苏A88888",
        "皖SA",
    ];
    let events: Vec<Event> = plates
        .iter()
        .enumerate()
        .map(|(i, p)| event("cam-1", p, t0() + Duration::seconds(i as i64)))
        .collect();
    store.insert_events(&events).await.unwrap();
    let texts = |prefix: &str| {
        let store = store.clone();
        let prefix = prefix.to_string();
        async move {
            store
                .query(&EventQuery {
                    plate_prefix: Some(prefix),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.plate.unwrap().text)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(texts("皖SA").await, ["皖SA1234", "皖SA9999", "皖SA"]);
    assert_eq!(
        texts("皖S").await,
        ["皖SA1234", "皖SA9999", "皖SB0000", "皖SA"]
    );
    assert_eq!(texts("皖").await.len(), 5);
    assert!(texts("京").await.is_empty());
}

#[tokio::test]
async fn unknown_store_urls_are_errors_that_hide_passwords() {
    let err = Store::open("mysql://admin:hunter2@db/x").await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("mysql://admin:***@db/x"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}
