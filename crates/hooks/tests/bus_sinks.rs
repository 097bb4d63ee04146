//! The bus sinks against the machine's real servers: NATS JetStream at 127.0.0.1:4222 and
//! Mosquitto at 127.0.0.1:1883. Events reach a subscriber on the per-kind, per-camera subject
//! or topic, JetStream keeps them in the stream, and each carries its event id.
use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use rumqttc::{AsyncClient, Event as MqttEvent, MqttOptions, Packet, QoS};
use tokio_util::sync::CancellationToken;
use xl_hooks::{DispatchConfig, Dispatcher};
use xl_schema::{Event, EventKind};
use xl_store::{NewSubscription, Role, Store};

#[path = "../../store/tests/support/events.rs"]
mod events;

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

fn batch(n: usize) -> Vec<Event> {
    (0..n)
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
    store
        .create_subscription(
            &subscription(format!("nats://127.0.0.1:4222/{prefix}?stream={stream}")),
            0,
        )
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    tokio::spawn(
        Dispatcher::new(store.clone(), DispatchConfig::default())
            .unwrap()
            .run(cancel.clone()),
    );
    let sent = batch(40);
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
    let mut options = MqttOptions::new(format!("sub-{tag}"), "127.0.0.1", 1883);
    options.set_keep_alive(Duration::from_secs(10));
    let (client, mut eventloop) = AsyncClient::new(options, 100);
    client
        .subscribe(format!("{prefix}/#"), QoS::AtLeastOnce)
        .await
        .unwrap();
    // Wait for the SUBACK before anything is published.
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
    store
        .create_subscription(&subscription(format!("mqtt://127.0.0.1:1883/{prefix}")), 0)
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    tokio::spawn(
        Dispatcher::new(store.clone(), DispatchConfig::default())
            .unwrap()
            .run(cancel.clone()),
    );
    let sent = batch(40);
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
