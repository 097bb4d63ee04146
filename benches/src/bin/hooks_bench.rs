//! Webhook delivery figures (the webhooks issue), printed as JSON lines. Events are stored the
//! way the pipeline stores them (`insert_events`, outbox rows in the same transaction) and a
//! local receiver on a real socket records what arrives.
//!
//! * `rate URL [EVENTS_PER_S] [SECONDS] [CAMERAS]`: a steady stream; end-to-end latency from
//!   the event's creation to its receipt (p50/p99) and deliveries/s.
//! * `burst URL [EVENTS] [CAMERAS]`: EVENTS stored at once; deliveries/s until all arrived.
//! * `outage URL [EVENTS_PER_S] [SECONDS] [DOWN_FROM_S] [DOWN_FOR_S]`: the receiver refuses
//!   connections for a while in the middle; counts by event id (lost, duplicated) and the time
//!   from the receiver's return to the last delivery.
//!
//! Run: `cargo run --release -p xl-benches --bin hooks_bench -- outage sqlite:///tmp/h.db 200 300 60 180`
use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use xl_benches::store_events::percentiles;
use xl_hooks::{Backoff, DispatchConfig, Dispatcher};
use xl_schema::{Event, EventKind};
use xl_store::{NewSubscription, Role, Store};

#[path = "../../../crates/store/tests/support/events.rs"]
mod events;
#[path = "../../../crates/hooks/tests/support/receiver.rs"]
mod receiver;

use receiver::Receiver;

fn report(value: serde_json::Value) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{value}");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, default: u64| -> anyhow::Result<u64> {
        args.get(i)
            .map_or(Ok(default), |s| s.parse().context("expected a number"))
    };
    let url = args.get(1).context("second argument: store URL")?.clone();
    match args.first().map(String::as_str) {
        Some("rate") => rate(&url, num(2, 1000)?, num(3, 30)?, num(4, 50)?).await,
        Some("burst") => burst(&url, num(2, 20_000)?, num(3, 50)?).await,
        Some("outage") => outage(&url, num(2, 200)?, num(3, 300)?, num(4, 60)?, num(5, 180)?).await,
        _ => anyhow::bail!(
            "usage: hooks_bench rate|burst|outage URL [...] (see the source's header)"
        ),
    }
}

async fn setup(
    url: &str,
    rx: &Receiver,
    max_in_flight: u32,
) -> anyhow::Result<(Store, CancellationToken)> {
    let store = Store::open(url).await?;
    store.ensure_department("bench").await?;
    store.add_user("bench-admin", "bench", Role::Admin).await?;
    store
        .create_subscription(
            &NewSubscription {
                owner_user: "bench-admin".into(),
                target: rx.url(),
                kinds: vec![],
                cameras: vec![],
                plates: vec![],
                max_in_flight,
            },
            Utc::now().timestamp_millis(),
        )
        .await?;
    let config = DispatchConfig {
        backoff: Backoff {
            cap: Duration::from_secs(30),
            ..Backoff::default()
        },
        ..DispatchConfig::default()
    };
    let cancel = CancellationToken::new();
    tokio::spawn(Dispatcher::new(store.clone(), config)?.run(cancel.clone()));
    Ok((store, cancel))
}

fn batch(n: u64, first: u64, cameras: u64) -> Vec<Event> {
    (first..first + n)
        .map(|i| {
            events::event(
                EventKind::PlateRead,
                &format!("cam-{:04}", i % cameras),
                &format!("皖S{:05}", i % 100_000),
                Utc::now().fixed_offset(),
            )
        })
        .collect()
}

/// Stores `per_s` events a second (in 10 batches a second) for `seconds`, calling `each` after
/// every batch with the elapsed time; returns the events' ids and creation times.
async fn stream(
    store: &Store,
    per_s: u64,
    seconds: u64,
    cameras: u64,
    mut each: impl AsyncFnMut(Duration),
) -> anyhow::Result<HashMap<String, i64>> {
    let mut created = HashMap::new();
    let began = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let per_tick = (per_s / 10).max(1);
    for step in 0..seconds * 10 {
        tick.tick().await;
        let events = batch(per_tick, step * per_tick, cameras);
        store.insert_events(&events).await?;
        for e in &events {
            created.insert(e.id.to_string(), e.ts.timestamp_millis());
        }
        each(began.elapsed()).await;
    }
    Ok(created)
}

async fn wait_all(rx: &Receiver, n: usize, limit: Duration) -> anyhow::Result<()> {
    let start = Instant::now();
    while distinct(rx) < n {
        anyhow::ensure!(
            start.elapsed() < limit,
            "only {} of {n} arrived within {limit:?}",
            distinct(rx)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

fn distinct(rx: &Receiver) -> usize {
    let got = rx.received();
    got.iter()
        .map(|r| r.event_id.as_str())
        .collect::<std::collections::HashSet<_>>()
        .len()
}

fn latencies(rx: &Receiver, created: &HashMap<String, i64>) -> Vec<f64> {
    rx.received()
        .iter()
        .filter_map(|r| created.get(&r.event_id).map(|c| (r.at_ms - c) as f64))
        .collect()
}

async fn rate(url: &str, per_s: u64, seconds: u64, cameras: u64) -> anyhow::Result<()> {
    let rx = Receiver::start().await;
    let (store, cancel) = setup(url, &rx, 32).await?;
    let began = Instant::now();
    let created = stream(&store, per_s, seconds, cameras, async |_| {}).await?;
    wait_all(&rx, created.len(), Duration::from_secs(120)).await?;
    let took = began.elapsed().as_secs_f64();
    let (p50, p99) = percentiles(latencies(&rx, &created));
    report(
        json!({"bench": "hooks_rate", "backend": store.backend_name(), "events_per_s_offered": per_s,
        "seconds": seconds, "cameras": cameras, "delivered": created.len(),
        "deliveries_per_s": created.len() as f64 / took, "latency_ms_p50": p50, "latency_ms_p99": p99}),
    );
    cancel.cancel();
    Ok(())
}

async fn burst(url: &str, n: u64, cameras: u64) -> anyhow::Result<()> {
    let rx = Receiver::start().await;
    let (store, cancel) = setup(url, &rx, 32).await?;
    let events = batch(n, 0, cameras);
    let began = Instant::now();
    for chunk in events.chunks(1000) {
        store.insert_events(chunk).await?;
    }
    let stored = began.elapsed().as_secs_f64();
    wait_all(&rx, n as usize, Duration::from_secs(600)).await?;
    let took = began.elapsed().as_secs_f64();
    report(
        json!({"bench": "hooks_burst", "backend": store.backend_name(), "events": n, "cameras": cameras,
        "store_seconds": stored, "deliver_seconds": took, "deliveries_per_s": n as f64 / took}),
    );
    cancel.cancel();
    Ok(())
}

async fn outage(
    url: &str,
    per_s: u64,
    seconds: u64,
    down_from: u64,
    down_for: u64,
) -> anyhow::Result<()> {
    let mut rx = Receiver::start().await;
    let (store, cancel) = setup(url, &rx, 8).await?;
    let (down_at, up_at) = (
        Duration::from_secs(down_from),
        Duration::from_secs(down_from + down_for),
    );
    let mut state = 0; // 0 up, 1 down, 2 up again
    let mut back_at = None;
    let created = stream(&store, per_s, seconds, 4, async |elapsed| {
        if state == 0 && elapsed >= down_at {
            rx.down().await;
            state = 1;
        } else if state == 1 && elapsed >= up_at {
            rx.up().await;
            state = 2;
            back_at = Some(Utc::now().timestamp_millis());
        }
    })
    .await?;
    anyhow::ensure!(state == 2, "the run ended before the receiver came back");
    let waiting = store.outbox_counts(true).await?;
    wait_all(&rx, created.len(), Duration::from_secs(900)).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    // The backlog is drained when the last event stored before the receiver came back arrives.
    let back_ms = back_at.unwrap_or_default();
    let drained_ms = rx
        .received()
        .iter()
        .filter(|r| created.get(&r.event_id).is_some_and(|c| *c < back_ms))
        .map(|r| r.at_ms)
        .max()
        .unwrap_or(back_ms);
    let backlog = created
        .values()
        .filter(|c| **c >= back_ms - (down_for as i64) * 1000 && **c < back_ms)
        .count();
    let mut times: HashMap<String, usize> = HashMap::new();
    for r in rx.received() {
        *times.entry(r.event_id).or_default() += 1;
    }
    let lost = created.keys().filter(|id| !times.contains_key(*id)).count();
    let duplicates: usize = times.values().map(|n| n - 1).sum();
    let counts = store.outbox_counts(true).await?;
    report(
        json!({"bench": "hooks_outage", "backend": store.backend_name(), "events": created.len(),
        "events_per_s": per_s, "seconds": seconds, "receiver_down_s": [down_from, down_from + down_for],
        "lost": lost, "duplicates": duplicates, "backlog_when_stream_ended": waiting.first().map(|c| &c.1),
        "stored_while_down": backlog, "seconds_to_drain_backlog_after_receiver_back": (drained_ms - back_ms) as f64 / 1000.0,
        "outbox_after": counts.first().map(|c| &c.1)}),
    );
    cancel.cancel();
    Ok(())
}
