//! Webhook delivery end to end on both backends (SQLite and the real PostgreSQL server): events
//! stored -> outbox -> dispatcher -> a receiver on a real socket. What an integrator relies on:
//! every event arrives, signed, in order per camera, once per id unless a retry was needed, and
//! nothing is lost while the receiver is down.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, Utc};
use tokio_util::sync::CancellationToken;
use xl_hooks::{signing, Backoff, DispatchConfig, Dispatcher};
use xl_schema::{Event, EventKind};
use xl_store::{CameraRecord, NewSubscription, Role, Store, SubscriptionState};

#[macro_use]
#[path = "../../store/tests/support/backends.rs"]
mod backends;
#[path = "../../store/tests/support/events.rs"]
mod events;
#[path = "support/receiver.rs"]
mod receiver;

use backends::Backend;
use receiver::Receiver;

/// Fast retries and a short circuit cool-down, so outages resolve within a test.
fn quick_config() -> DispatchConfig {
    DispatchConfig {
        backoff: Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
            max_age: Duration::from_secs(3600),
        },
        request_timeout: Duration::from_secs(5),
        poll: Duration::from_millis(50),
        breaker_first_cooldown: Duration::from_millis(300),
        breaker_max_cooldown: Duration::from_secs(1),
        ..DispatchConfig::default()
    }
}

/// Police own cam-1..cam-3 (share level 1) and cam-9 (level 3); `admin` is a police admin.
async fn world(backend: Backend) -> (backends::Guard, Store) {
    let (guard, store) = backend.open().await;
    for d in ["police", "traffic"] {
        store.add_department(d, d).await.unwrap();
    }
    for (cam, level) in [("cam-1", 1), ("cam-2", 1), ("cam-3", 1), ("cam-9", 3)] {
        store
            .upsert_camera(&CameraRecord {
                id: cam.into(),
                name: cam.into(),
                department_id: "police".into(),
                share_level: level,
                lat: None,
                lon: None,
            })
            .await
            .unwrap();
    }
    store
        .add_user("admin", "police", Role::Admin)
        .await
        .unwrap();
    (guard, store)
}

fn subscribe(user: &str, url: &str) -> NewSubscription {
    NewSubscription {
        owner_user: user.into(),
        target: url.into(),
        kinds: vec![],
        cameras: vec![],
        plates: vec![],
        max_in_flight: 8,
    }
}

fn now() -> DateTime<FixedOffset> {
    Utc::now().fixed_offset()
}

fn plate_read(camera: &str, n: usize) -> Event {
    events::event(
        EventKind::PlateRead,
        camera,
        &format!("皖S{:05}", n % 100_000),
        now(),
    )
}

fn start(store: &Store, config: DispatchConfig) -> CancellationToken {
    let cancel = CancellationToken::new();
    let dispatcher = Dispatcher::new(store.clone(), config).unwrap();
    tokio::spawn(dispatcher.run(cancel.clone()));
    cancel
}

async fn signed_deliveries_arrive_once_each_in_camera_order(backend: Backend) {
    let (_g, store) = world(backend).await;
    let rx = Receiver::start().await;
    let sub = store
        .create_subscription(&subscribe("admin", &rx.url()), 0)
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    let dispatcher = Dispatcher::new(store.clone(), quick_config()).unwrap();
    let stats = dispatcher.stats();
    tokio::spawn(dispatcher.run(cancel.clone()));
    let mut sent: Vec<Event> = Vec::new();
    for batch in 0..10 {
        let events: Vec<Event> = (0..30)
            .map(|i| plate_read(["cam-1", "cam-2", "cam-3"][i % 3], batch * 30 + i))
            .collect();
        assert_eq!(store.insert_events(&events).await.unwrap(), 30);
        // Storing the same batch again (a writer retry) queues nothing more.
        assert_eq!(store.insert_events(&events).await.unwrap(), 0);
        sent.extend(events);
    }
    rx.wait_for(sent.len(), Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = rx.received();
    assert_eq!(got.len(), sent.len(), "no duplicates on a healthy endpoint");
    let ids: HashSet<&str> = got.iter().map(|r| r.event_id.as_str()).collect();
    for e in &sent {
        assert!(
            ids.contains(e.id.to_string().as_str()),
            "event {} missing",
            e.id
        );
    }
    for r in &got {
        signing::verify(
            &sub.secret,
            r.timestamp,
            &r.body,
            &r.signature,
            Utc::now().timestamp(),
            signing::DEFAULT_TOLERANCE_SECS,
        )
        .expect("signature verifies");
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["id"], r.event_id, "the body is the event itself");
    }
    // Per camera, arrival order is storage order.
    let order: HashMap<String, usize> = sent
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id.to_string(), i))
        .collect();
    let mut last: BTreeMap<String, usize> = BTreeMap::new();
    for r in &got {
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        let camera = body["camera_id"].as_str().unwrap().to_string();
        let i = order[&r.event_id];
        if let Some(prev) = last.insert(camera.clone(), i) {
            assert!(prev < i, "camera {camera}: event {i} arrived after {prev}");
        }
    }
    let counts = store.outbox_counts(true).await.unwrap();
    assert_eq!(counts[0].1.delivered, Some(sent.len() as i64), "{counts:?}");
    assert_eq!(counts[0].1.pending + counts[0].1.retrying, 0);
    let figures = stats.snapshot(&sub.id).unwrap();
    assert_eq!(figures.delivered, sent.len() as u64);
    assert_eq!(figures.failed_attempts, 0);
    assert!(figures.latency_p99_ms_at_most.is_some());
    let mut text = String::new();
    stats.render(&mut text);
    assert!(text.contains(&format!(
        "xl_hook_deliveries_total{{subscription=\"{}\",outcome=\"delivered\"}} {}",
        sub.id,
        sent.len()
    )));
    cancel.cancel();
}

async fn an_outage_loses_nothing(backend: Backend) {
    let (_g, store) = world(backend).await;
    let mut rx = Receiver::start().await;
    store
        .create_subscription(&subscribe("admin", &rx.url()), 0)
        .await
        .unwrap();
    let cancel = start(&store, quick_config());
    // 200 events/s for 6 s; the receiver refuses connections from 1.5 s to 4.5 s.
    let mut sent: Vec<String> = Vec::new();
    let began = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut down = false;
    let mut up_again = false;
    let mut during_outage = None;
    for step in 0..60 {
        tick.tick().await;
        let events: Vec<Event> = (0..20)
            .map(|i| plate_read(["cam-1", "cam-2", "cam-3"][i % 3], step * 20 + i))
            .collect();
        store.insert_events(&events).await.unwrap();
        sent.extend(events.iter().map(|e| e.id.to_string()));
        if !down && began.elapsed() >= Duration::from_millis(1500) {
            rx.down().await;
            down = true;
        }
        if down && !up_again && began.elapsed() >= Duration::from_millis(4500) {
            during_outage = Some(store.outbox_counts(true).await.unwrap()[0].1.clone());
            rx.up().await;
            up_again = true;
        }
    }
    assert!(up_again);
    let during_outage = during_outage.unwrap();
    rx.wait_for(sent.len(), Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got: HashSet<String> = rx.received().into_iter().map(|r| r.event_id).collect();
    let missing: Vec<&String> = sent.iter().filter(|id| !got.contains(*id)).collect();
    assert!(missing.is_empty(), "{} events lost", missing.len());
    assert_eq!(got.len(), sent.len());
    let after = store.outbox_counts(true).await.unwrap()[0].1.clone();
    assert_eq!(after.delivered, Some(sent.len() as i64), "{after:?}");
    assert_eq!(after.dead, 0);
    assert!(
        during_outage.pending + during_outage.retrying >= 200,
        "the outage held deliveries back: {during_outage:?}"
    );
    cancel.cancel();
}

async fn owners_see_only_their_scope_with_masks(backend: Backend) {
    let (_g, store) = world(backend).await;
    store
        .add_user("t-analyst", "traffic", Role::Analyst)
        .await
        .unwrap();
    let grant = store
        .create_grant(
            &xl_store::NewGrant {
                owner_department: "police".into(),
                grantee_department: "traffic".into(),
                max_level: 1,
                kinds: vec![EventKind::PlateRead],
                masks: xl_store::Masks {
                    plate: true,
                    evidence: false,
                },
                expires_ms: None,
            },
            "test",
        )
        .await
        .unwrap();
    let rx = Receiver::start().await;
    let all = store
        .create_subscription(&subscribe("t-analyst", &rx.url()), 0)
        .await
        .unwrap();
    let mut by_plate = subscribe("t-analyst", &rx.url());
    by_plate.plates = vec!["皖S*".into()];
    let by_plate = store.create_subscription(&by_plate, 0).await.unwrap();

    let visible = plate_read("cam-1", 1);
    let restricted_camera = plate_read("cam-9", 2);
    let other_kind = events::event(EventKind::WatchlistHit, "cam-1", "皖S00003", now());
    store
        .insert_events(&[visible.clone(), restricted_camera, other_kind])
        .await
        .unwrap();
    let counts: HashMap<String, i64> = store
        .outbox_counts(true)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, c)| (id, c.pending))
        .collect();
    assert_eq!(
        counts.get(&all.id),
        Some(&1),
        "only the granted camera and kind"
    );
    assert_eq!(
        counts.get(&by_plate.id),
        None,
        "a plate filter never matches through a masking grant"
    );

    let cancel = start(&store, quick_config());
    rx.wait_for(1, Duration::from_secs(20)).await;
    let got = rx.received();
    let body: serde_json::Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(got[0].event_id, visible.id.to_string());
    assert_eq!(
        body["plate"]["text"], "皖S****1",
        "the grant's plate mask applies"
    );

    // Queued while visible, then the grant is revoked before it goes out: withheld, not sent.
    store
        .set_subscription_state(&all.id, SubscriptionState::Paused, 0)
        .await
        .unwrap();
    // The worker notices the pause at its next lease renewal (within a second).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let late = plate_read("cam-1", 4);
    store
        .insert_events(std::slice::from_ref(&late))
        .await
        .unwrap();
    store.revoke_grant(&grant.id).await.unwrap();
    store
        .set_subscription_state(&all.id, SubscriptionState::Active, 0)
        .await
        .unwrap();
    let limit = Instant::now() + Duration::from_secs(30);
    loop {
        let c = store.outbox_counts(true).await.unwrap();
        let c = &c.iter().find(|(id, _)| *id == all.id).unwrap().1;
        if c.withheld == Some(1) {
            break;
        }
        assert!(Instant::now() < limit, "not withheld: {c:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(rx.count(), 1, "nothing sent after the grant was revoked");
    // And after revocation nothing new is even queued.
    store
        .insert_events(&[plate_read("cam-1", 5)])
        .await
        .unwrap();
    let c = store.outbox_counts(true).await.unwrap();
    let c = &c.iter().find(|(id, _)| *id == all.id).unwrap().1;
    assert_eq!(c.pending + c.retrying, 0, "{c:?}");
    cancel.cancel();
}

async fn dead_letters_can_be_redelivered(backend: Backend) {
    let (_g, store) = world(backend).await;
    let rx = Receiver::start().await;
    rx.shared.fail_status.store(500, Ordering::Relaxed);
    let sub = store
        .create_subscription(&subscribe("admin", &rx.url()), 0)
        .await
        .unwrap();
    let mut config = quick_config();
    config.backoff.max_age = Duration::from_secs(2);
    let cancel = start(&store, config);
    let events: Vec<Event> = (0..6).map(|i| plate_read("cam-1", i)).collect();
    store.insert_events(&events).await.unwrap();
    let limit = Instant::now() + Duration::from_secs(30);
    loop {
        let c = store.outbox_counts(true).await.unwrap()[0].1.clone();
        if c.dead == 6 {
            break;
        }
        assert!(Instant::now() < limit, "not dead yet: {c:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rx.count(), 0);
    rx.shared.fail_status.store(0, Ordering::Relaxed);
    assert_eq!(
        store
            .redeliver(
                &sub.id,
                xl_store::Redeliver::Dead,
                Utc::now().timestamp_millis()
            )
            .await
            .unwrap(),
        6
    );
    rx.wait_for(6, Duration::from_secs(20)).await;
    let got: Vec<String> = rx.received().into_iter().map(|r| r.event_id).collect();
    let want: Vec<String> = events.iter().map(|e| e.id.to_string()).collect();
    assert_eq!(got, want, "redelivered in order");
    cancel.cancel();
}

async fn a_slow_endpoint_holds_up_only_itself(backend: Backend) {
    let (_g, store) = world(backend).await;
    let slow = Receiver::start().await;
    slow.shared.delay_ms.store(2_000, Ordering::Relaxed);
    let fast = Receiver::start().await;
    store
        .create_subscription(&subscribe("admin", &slow.url()), 0)
        .await
        .unwrap();
    store
        .create_subscription(&subscribe("admin", &fast.url()), 0)
        .await
        .unwrap();
    let cancel = start(&store, quick_config());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut worst_insert = Duration::ZERO;
    let mut n = 0;
    for step in 0..20 {
        let events: Vec<Event> = (0..10)
            .map(|i| plate_read(["cam-1", "cam-2", "cam-3"][i % 3], step * 10 + i))
            .collect();
        let t = Instant::now();
        store.insert_events(&events).await.unwrap();
        worst_insert = worst_insert.max(t.elapsed());
        n += events.len();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    fast.wait_for(n, Duration::from_secs(10)).await;
    assert!(
        slow.count() < n / 4,
        "the slow endpoint is rate-limited by its own receiver"
    );
    assert!(
        worst_insert < Duration::from_secs(1),
        "storing events never waits for deliveries ({worst_insert:?})"
    );
    cancel.cancel();
}

async fn pruning_keeps_dead_letters_and_drops_the_rest(backend: Backend) {
    let (_g, store) = world(backend).await;
    let ok = Receiver::start().await;
    let failing = Receiver::start().await;
    failing.shared.fail_status.store(503, Ordering::Relaxed);
    let delivered = store
        .create_subscription(&subscribe("admin", &ok.url()), 0)
        .await
        .unwrap();
    let dead = store
        .create_subscription(&subscribe("admin", &failing.url()), 0)
        .await
        .unwrap();
    let mut config = quick_config();
    config.backoff.max_age = Duration::from_secs(1);
    let cancel = start(&store, config);
    store
        .insert_events(&(0..5).map(|i| plate_read("cam-1", i)).collect::<Vec<_>>())
        .await
        .unwrap();
    let by_sub = |counts: Vec<(String, xl_store::OutboxCounts)>, id: &str| {
        counts.into_iter().find(|(s, _)| s == id).map(|(_, c)| c)
    };
    let limit = Instant::now() + Duration::from_secs(30);
    loop {
        let counts = store.outbox_counts(true).await.unwrap();
        let d = by_sub(counts.clone(), &delivered.id).unwrap_or_default();
        let x = by_sub(counts, &dead.id).unwrap_or_default();
        if d.delivered == Some(5) && x.dead == 5 {
            break;
        }
        assert!(Instant::now() < limit, "{d:?} {x:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cancel.cancel();
    let later = Utc::now().timestamp_millis() + 1;
    assert_eq!(
        store.prune_outbox(later).await.unwrap(),
        5,
        "the delivered rows"
    );
    let counts = store.outbox_counts(true).await.unwrap();
    assert_eq!(by_sub(counts.clone(), &delivered.id), None);
    assert_eq!(
        by_sub(counts, &dead.id).unwrap().dead,
        5,
        "dead letters are kept"
    );
    store
        .set_subscription_state(&dead.id, SubscriptionState::Deleted, 0)
        .await
        .unwrap();
    assert_eq!(
        store.prune_outbox(later).await.unwrap(),
        5,
        "a deleted subscription's rows go"
    );
    assert!(store.outbox_counts(true).await.unwrap().is_empty());
}

contract!(
    pruning_keeps_dead_letters_and_drops_the_rest,
    signed_deliveries_arrive_once_each_in_camera_order,
    an_outage_loses_nothing,
    owners_see_only_their_scope_with_masks,
    dead_letters_can_be_redelivered,
    a_slow_endpoint_holds_up_only_itself,
);
