//! kill -9 of a dispatcher (`xl hooks serve`) in the middle of delivering, then a restart:
//! every event reaches the receiver, and only deliveries that were in flight at the kill
//! arrive twice (same event id, as at-least-once allows). SQLite and the real PostgreSQL.
mod common;

use std::collections::HashMap;
use std::process::{Child, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::Utc;
use xl_schema::{Event, EventKind};
use xl_store::{NewSubscription, Role, Store};

#[path = "../crates/store/tests/support/events.rs"]
mod events;
#[path = "../crates/store/tests/support/pg.rs"]
mod pg;
#[path = "../crates/hooks/tests/support/receiver.rs"]
mod receiver;

fn serve(store: &str, dir: &std::path::Path) -> Child {
    common::xl()
        .args(["hooks", "serve", "--store", store])
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn kill_9_mid_delivery_then_restart(url: &str, dir: &std::path::Path) {
    let store = Store::open(url).await.unwrap();
    store.add_department("police", "police").await.unwrap();
    store
        .add_user("admin", "police", Role::Admin)
        .await
        .unwrap();
    let rx = receiver::Receiver::start().await;
    // 50 ms per request: delivering takes seconds, so the kill lands mid-stream.
    rx.shared.delay_ms.store(50, Ordering::Relaxed);
    store
        .create_subscription(
            &NewSubscription {
                owner_user: "admin".into(),
                target: rx.url(),
                kinds: vec![],
                cameras: vec![],
                plates: vec![],
                max_in_flight: 8,
            },
            0,
        )
        .await
        .unwrap();
    let sent: Vec<Event> = (0..300)
        .map(|i| {
            events::event(
                EventKind::PlateRead,
                ["cam-1", "cam-2", "cam-3"][i % 3],
                &format!("皖S{i:05}"),
                Utc::now().fixed_offset(),
            )
        })
        .collect();
    store.insert_events(&sent).await.unwrap();

    let mut first = serve(url, dir);
    let deadline = Instant::now() + Duration::from_secs(60);
    while rx.count() < 40 {
        assert!(
            Instant::now() < deadline,
            "the dispatcher delivered nothing"
        );
        assert!(first.try_wait().unwrap().is_none(), "xl hooks serve exited");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let at_kill = rx.count();
    assert!(at_kill < sent.len(), "killed before the end");

    let mut second = serve(url, dir);
    // The dead process's lease expires after 15 s; then the new one takes over.
    rx.wait_for(sent.len(), Duration::from_secs(90)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    second.kill().unwrap();
    second.wait().unwrap();

    let mut times: HashMap<String, usize> = HashMap::new();
    for r in rx.received() {
        *times.entry(r.event_id).or_default() += 1;
    }
    for e in &sent {
        assert!(times.contains_key(&e.id.to_string()), "event {} lost", e.id);
    }
    let duplicates: usize = times.values().map(|n| n - 1).sum();
    // At most the deliveries in flight (one per camera) plus those acknowledged but not yet
    // recorded when the process died.
    assert!(duplicates <= 30, "{duplicates} duplicates after one kill");
    let counts = store.outbox_counts(true).await.unwrap();
    assert_eq!(counts[0].1.delivered, Some(sent.len() as i64), "{counts:?}");
    store.close().await;
}

#[tokio::test]
async fn sqlite_kill_9_loses_no_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/xl.db", dir.path().display());
    kill_9_mid_delivery_then_restart(&url, dir.path()).await;
}

#[tokio::test]
async fn postgres_kill_9_loses_no_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let db = pg::FreshDb::new("hooks_kill");
    kill_9_mid_delivery_then_restart(&db.url(), dir.path()).await;
}
