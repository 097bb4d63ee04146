//! The bus sinks against the machine's real servers: NATS JetStream at 127.0.0.1:4222 and
//! Mosquitto at 127.0.0.1:1883. Events reach a subscriber on the per-kind, per-camera subject
//! or topic, JetStream keeps them in the stream, and each carries its event id. Through an
//! outage (the dispatcher reaches the servers through a TCP proxy that cuts every connection and
//! refuses new ones for a while; the shared servers keep running for the subscriber) everything
//! stored before, during and after arrives, and JetStream still holds one message per event.
use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use rumqttc::{AsyncClient, Event as MqttEvent, MqttOptions, Packet, QoS};
use tokio_util::sync::CancellationToken;
use xl_hooks::{Backoff, DispatchConfig, Dispatcher};
use xl_schema::{Event, EventKind};
use xl_store::{NewSubscription, Role, Store};

#[path = "../../store/tests/support/events.rs"]
mod events;
#[path = "../../store/tests/support/proxy.rs"]
mod proxy;

async fn store_with_admin() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}/xl.db", dir.path().display()))
        .await
        .unwrap();
    store.add_department("police", "police").await.unwrap();
    store
        .add_user("admin", "police", Role::Admin)
        .await
        .unwrap();
    (dir, store)
}

fn batch(n: usize, from: usize) -> Vec<Event> {
    (from..from + n)
        .map(|i| {
            events::event(
                EventKind::PlateRead,
                ["cam-1", "cam.2"][i % 2],
                &format!("皖S{i:05}"),
                Utc::now().fixed_offset(),
            )
        })
        .collect()
}

fn subscription(url: String) -> NewSubscription {
    NewSubscription {
        owner_user: "admin".into(),
        target: url,
        kinds: vec![],
        cameras: vec![],
        plates: vec![],
        max_in_flight: 4,
    }
}

/// A subscriber on Mosquitto (directly, not through any proxy) to everything under `prefix`,
/// returned once its SUBACK arrived.
async fn mqtt_subscriber(prefix: &str) -> (AsyncClient, rumqttc::EventLoop) {
    let id = format!("sub-{}", uuid::Uuid::now_v7().simple());
    let mut options = MqttOptions::new(id, "127.0.0.1", 1883);
    options.set_keep_alive(Duration::from_secs(10));
    let (client, mut eventloop) = AsyncClient::new(options, 100);
    client
        .subscribe(format!("{prefix}/#"), QoS::AtLeastOnce)
        .await
        .unwrap();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), eventloop.poll())
            .await
            .expect("Mosquitto at 127.0.0.1:1883 (scripts/services.sh starts it)")
        {
            Ok(MqttEvent::Incoming(Packet::SubAck(_))) => break,
            Ok(_) => {}
            Err(e) => panic!("MQTT: {e}"),
        }
    }
    (client, eventloop)
}

async fn start(store: &Store, target: String, config: DispatchConfig) -> CancellationToken {
    store
        .create_subscription(&subscription(target), 0)
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    tokio::spawn(
        Dispatcher::new(store.clone(), config)
            .unwrap()
            .run(cancel.clone()),
    );
    cancel
}

#[tokio::test]
async fn jetstream_receives_every_event_on_its_subject() {
    let (_dir, store) = store_with_admin().await;
    let tag = uuid::Uuid::now_v7().simple().to_string();
    let prefix = format!("xltest.{tag}");
    let stream = format!("XLTEST_{tag}");
    let client = async_nats::connect("nats://127.0.0.1:4222")
        .await
        .expect("NATS at 127.0.0.1:4222 (scripts/services.sh starts it)");
    let mut live = client.subscribe(format!("{prefix}.>")).await.unwrap();
    let target = format!("nats://127.0.0.1:4222/{prefix}?stream={stream}");
    let cancel = start(&store, target, DispatchConfig::default()).await;
    let sent = batch(40, 0);
    store.insert_events(&sent).await.unwrap();

    let mut got = HashSet::new();
    let mut subjects = HashSet::new();
    while got.len() < sent.len() {
        let msg = tokio::time::timeout(Duration::from_secs(20), live.next())
            .await
            .expect("deliveries within 20 s")
            .unwrap();
        let id = msg
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.to_string())
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&msg.payload).unwrap();
        assert_eq!(body["id"], id);
        got.insert(id);
        subjects.insert(msg.subject.to_string());
    }
    assert_eq!(got.len(), sent.len());
    assert_eq!(
        subjects,
        HashSet::from([
            format!("{prefix}.plate_read.cam-1"),
            format!("{prefix}.plate_read.cam_2")
        ]),
        "one subject per kind and camera; dots in ids cannot split a subject"
    );
    let js = async_nats::jetstream::new(client);
    let mut info = js.get_stream(&stream).await.unwrap();
    // Retries are removed by JetStream's de-duplication on Nats-Msg-Id.
    assert_eq!(info.info().await.unwrap().state.messages, sent.len() as u64);
    cancel.cancel();
    js.delete_stream(&stream).await.unwrap();
}

#[tokio::test]
async fn mqtt_subscribers_receive_every_event_at_least_once() {
    let (_dir, store) = store_with_admin().await;
    let tag = uuid::Uuid::now_v7().simple().to_string();
    let prefix = format!("xltest/{tag}");
    let (_client, mut eventloop) = mqtt_subscriber(&prefix).await;
    let target = format!("mqtt://127.0.0.1:1883/{prefix}");
    let cancel = start(&store, target, DispatchConfig::default()).await;
    let sent = batch(40, 0);
    store.insert_events(&sent).await.unwrap();
    let want: HashSet<String> = sent.iter().map(|e| e.id.to_string()).collect();
    let mut got = HashSet::new();
    let mut topics = HashSet::new();
    while got.len() < want.len() {
        let event = tokio::time::timeout(Duration::from_secs(20), eventloop.poll())
            .await
            .expect("deliveries within 20 s")
            .unwrap();
        if let MqttEvent::Incoming(Packet::Publish(p)) = event {
            let body: serde_json::Value = serde_json::from_slice(&p.payload).unwrap();
            got.insert(body["id"].as_str().unwrap().to_string());
            topics.insert(p.topic.clone());
        }
    }
    assert_eq!(got, want);
    assert_eq!(
        topics,
        HashSet::from([
            format!("{prefix}/plate_read/cam-1"),
            format!("{prefix}/plate_read/cam.2")
        ])
    );
    cancel.cancel();
}

fn quick() -> DispatchConfig {
    DispatchConfig {
        backoff: Backoff {
            base: Duration::from_millis(200),
            cap: Duration::from_secs(1),
            max_age: Duration::from_secs(3600),
        },
        request_timeout: Duration::from_secs(2),
        breaker_first_cooldown: Duration::from_millis(300),
        breaker_max_cooldown: Duration::from_secs(1),
        ..DispatchConfig::default()
    }
}

/// Stores 20 events, cuts the proxy, stores 40 more, restores it after 3 s; returns every
/// event stored.
async fn store_across_a_cut(store: &Store, proxy: &proxy::Proxy) -> Vec<Event> {
    let mut sent = batch(20, 0);
    store.insert_events(&sent).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.cut().await;
    for step in 0..4 {
        let more = batch(10, 20 + step * 10);
        store.insert_events(&more).await.unwrap();
        sent.extend(more);
        tokio::time::sleep(Duration::from_millis(750)).await;
    }
    proxy.restore().await;
    sent
}

#[tokio::test]
async fn jetstream_deliveries_survive_a_cut_connection() {
    let (_dir, store) = store_with_admin().await;
    let upstream: SocketAddr = "127.0.0.1:4222".parse().unwrap();
    let proxy = proxy::Proxy::start(upstream).await;
    let tag = uuid::Uuid::now_v7().simple().to_string();
    let (prefix, stream) = (format!("xlcut.{tag}"), format!("XLCUT_{tag}"));
    let client = async_nats::connect("nats://127.0.0.1:4222")
        .await
        .expect("NATS at 127.0.0.1:4222");
    let mut live = client.subscribe(format!("{prefix}.>")).await.unwrap();
    let target = format!("nats://127.0.0.1:{}/{prefix}?stream={stream}", proxy.port);
    let cancel = start(&store, target, quick()).await;
    let sent = store_across_a_cut(&store, &proxy).await;
    let want: HashSet<String> = sent.iter().map(|e| e.id.to_string()).collect();
    let mut got = HashSet::new();
    while got.len() < want.len() {
        let msg = tokio::time::timeout(Duration::from_secs(60), live.next())
            .await
            .unwrap_or_else(|_| panic!("{} of {} within 60 s", got.len(), want.len()))
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&msg.payload).unwrap();
        got.insert(body["id"].as_str().unwrap().to_string());
    }
    assert_eq!(got, want);
    let js = async_nats::jetstream::new(client);
    let mut info = js.get_stream(&stream).await.unwrap();
    assert_eq!(
        info.info().await.unwrap().state.messages,
        want.len() as u64,
        "JetStream de-duplicates retried publishes by Nats-Msg-Id"
    );
    cancel.cancel();
    js.delete_stream(&stream).await.unwrap();
}

#[tokio::test]
async fn mqtt_deliveries_survive_a_cut_connection() {
    let (_dir, store) = store_with_admin().await;
    let upstream: SocketAddr = "127.0.0.1:1883".parse().unwrap();
    let proxy = proxy::Proxy::start(upstream).await;
    let tag = uuid::Uuid::now_v7().simple().to_string();
    let prefix = format!("xlcut/{tag}");
    let (_client, mut eventloop) = mqtt_subscriber(&prefix).await;
    let target = format!("mqtt://127.0.0.1:{}/{prefix}", proxy.port);
    let cancel = start(&store, target, quick()).await;
    let received = tokio::spawn(async move {
        let mut got = HashSet::new();
        while let Ok(Ok(event)) =
            tokio::time::timeout(Duration::from_secs(60), eventloop.poll()).await
        {
            if let MqttEvent::Incoming(Packet::Publish(p)) = event {
                let body: serde_json::Value = serde_json::from_slice(&p.payload).unwrap();
                got.insert(body["id"].as_str().unwrap().to_string());
                if got.len() == 60 {
                    break;
                }
            }
        }
        got
    });
    let sent = store_across_a_cut(&store, &proxy).await;
    let want: HashSet<String> = sent.iter().map(|e| e.id.to_string()).collect();
    let got = received.await.unwrap();
    assert_eq!(got, want);
    // Acknowledgements are recorded in batches: give the last ones a moment.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let counts = store.outbox_counts(true).await.unwrap();
        if counts[0].1.delivered == Some(want.len() as i64) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{counts:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cancel.cancel();
}
