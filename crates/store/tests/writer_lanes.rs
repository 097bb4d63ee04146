//! The writer's lanes: on PostgreSQL two batches are written at once, split by camera, so each
//! camera's events still reach the store (and the webhook outbox) in the order they arrived; and
//! spill files of lanes that no longer exist are replayed, not forgotten.
use std::collections::HashMap;

use xl_schema::Event;
use xl_store::{EventWriter, NewSubscription, Role, Store};

#[path = "support/pg.rs"]
mod pg;

#[path = "support/events.rs"]
mod events;

fn event(i: i64) -> Event {
    events::numbered(i, 16)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_lanes_keep_each_cameras_order_into_the_outbox() {
    let db = pg::FreshDb::new("lanes");
    let store = Store::open(&db.url()).await.unwrap();
    store.ensure_department("police").await.unwrap();
    store
        .add_user("admin", "police", Role::Admin)
        .await
        .unwrap();
    let sub = store
        .create_subscription(
            &NewSubscription {
                owner_user: "admin".into(),
                target: "http://127.0.0.1:9/never".into(),
                kinds: vec![],
                cameras: vec![],
                plates: vec![],
                max_in_flight: 8,
            },
            0,
        )
        .await
        .unwrap();
    let n = 20_000;
    let sent: Vec<Event> = (0..n).map(event).collect();
    let order: HashMap<uuid::Uuid, i64> = sent
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id, i as i64))
        .collect();
    // Small channel and two lanes: the lanes write concurrently, batch against batch.
    let writer = EventWriter::spawn_with_lanes(store.clone(), 512, 2);
    for e in sent {
        writer.send(e).await.unwrap();
    }
    writer.close().await;
    assert_eq!(store.count_events().await.unwrap(), n);

    let mut rows = Vec::new();
    let mut after = 0;
    loop {
        let page = store
            .pending_deliveries(&sub.id, after, 5000)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        rows.extend(page);
    }
    assert_eq!(rows.len(), n as usize, "one delivery per event");
    let mut last_by_camera: HashMap<String, i64> = HashMap::new();
    for row in &rows {
        let arrived = order[&row.event_id];
        if let Some(prev) = last_by_camera.insert(row.camera_id.clone(), arrived) {
            assert!(
                prev < arrived,
                "camera {}: event #{arrived} queued after #{prev}",
                row.camera_id
            );
        }
    }
    store.close().await;
}

#[tokio::test]
async fn spill_files_of_a_lane_that_no_longer_exists_are_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let spill = dir.path().join("spill");
    // Left by an earlier run with more lanes.
    let orphan = spill.join("lane-3");
    std::fs::create_dir_all(&orphan).unwrap();
    let events: Vec<Event> = (0..10).map(event).collect();
    let lines: String = events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap() + "\n")
        .collect();
    std::fs::write(
        orphan.join(format!("spill-{}-000000.jsonl", uuid::Uuid::now_v7())),
        lines,
    )
    .unwrap();

    let store = Store::open(&format!("sqlite://{}/xl.db", dir.path().display()))
        .await
        .unwrap();
    let writer = EventWriter::spawn_with_spill(store.clone(), 64, spill.clone());
    assert_eq!(
        writer
            .stats()
            .spill_files
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    writer.send(event(10)).await.unwrap();
    writer.close().await;
    assert_eq!(
        store.count_events().await.unwrap(),
        11,
        "the orphaned batch was written"
    );
    assert_eq!(
        std::fs::read_dir(&orphan).unwrap().count(),
        0,
        "the replayed spill file is removed"
    );
}
