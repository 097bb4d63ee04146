//! `xl serve`'s live feed: events stored by another process reach the broadcast once each, in
//! creation order; events created before the follower started are not replayed.
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;
use xl_api::{follow_store, FollowOptions};
use xl_schema::{china_offset, EventKind};
use xl_store::Store;

#[path = "../../store/tests/support/events.rs"]
mod events;

fn plate_read(plate: &str) -> xl_schema::Event {
    events::event(
        EventKind::PlateRead,
        "cam-1",
        plate,
        Utc::now().with_timezone(&china_offset()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_events_reach_the_feed_once_in_creation_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}/xl.db", dir.path().display()))
        .await
        .unwrap();
    let opts = FollowOptions {
        every: Duration::from_millis(50),
        settle: Duration::from_millis(1500),
    };
    let old = plate_read("皖S00001");
    store
        .insert_events(std::slice::from_ref(&old))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1800)).await;

    let (live, mut rx) = tokio::sync::broadcast::channel(64);
    let cancel = CancellationToken::new();
    let follower = tokio::spawn(follow_store(store.clone(), live, opts, cancel.clone()));
    let fresh: Vec<_> = (2..=4)
        .map(|i| plate_read(&format!("皖S0000{i}")))
        .collect();
    // Stored in two batches, the later-created first (as another writer lane might).
    store.insert_events(&fresh[2..]).await.unwrap();
    store.insert_events(&fresh[..2]).await.unwrap();

    let mut seen = Vec::new();
    while seen.len() < fresh.len() {
        let e = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("an event within 5 s")
            .unwrap();
        seen.push(e.id);
    }
    let want: Vec<_> = fresh.iter().map(|e| e.id).collect();
    assert_eq!(
        seen, want,
        "each new event once, in creation order; not the old one"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(rx.try_recv().is_err(), "nothing is sent twice");
    cancel.cancel();
    follower.await.unwrap();
}
