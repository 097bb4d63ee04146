//! Store benchmarks (figures for the tiered-store issue), printed as JSON lines:
//!
//! * `ingest URL [N]`: N pipeline-shaped events through the batched writer (sustained
//!   events/s), against a plain single-row INSERT loop on the same store in the same run; on
//!   PostgreSQL also through a one-lane writer into `URL_one_lane` (use fresh database names).
//! * `fill URL N`: loads N events (30 days, 2,000 cameras, 1M plates) for the query benchmark.
//! * `query URL [ITER]`: plate lookup and camera+time page latency (p50/p99).
//! * `cold URL FOLDER [ITER]`: moves every event to a cold tier in FOLDER, then the same queries
//!   over the cold tier only.
//!
//! Run: `cargo run --release -p xl-benches --bin store_bench -- ingest postgres://postgres@127.0.0.1/xl_bench 200000`
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Duration, FixedOffset};
use rand::{Rng, SeedableRng};
use serde_json::json;
use xl_benches::store_events::{camera, fill_store, percentiles, plate, EventGen};
use xl_store::cold::ColdEvents;
use xl_store::{open_object_store, EventQuery, EventWriter, Store, Tiers};

const CAMERAS: u32 = 2000;
const PLATES: u64 = 1_000_000;
const SPAN_DAYS: i64 = 30;

fn start() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-10-01T00:00:00+08:00").expect("constant time")
}

fn report(value: serde_json::Value) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{value}");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    let num = |i: usize, default: u64| -> anyhow::Result<u64> {
        arg(i).map_or(Ok(default), |s| s.parse().context("expected a number"))
    };
    match (arg(0), arg(1)) {
        (Some("ingest"), Some(url)) => ingest(url, num(2, 200_000)?).await,
        (Some("fill"), Some(url)) => fill(url, num(2, 10_000_000)?).await,
        (Some("query"), Some(url)) => {
            let store = Store::open(url).await?;
            queries(&Tiers::new(store, None), "hot", num(2, 2000)? as usize).await
        }
        (Some("cold"), Some(url)) => {
            let folder = arg(2).context("cold needs a folder for the cold tier")?;
            cold(url, folder, num(3, 200)? as usize).await
        }
        _ => anyhow::bail!(
            "usage: store_bench ingest|fill|query|cold URL [...] (see the source's header)"
        ),
    }
}

async fn ingest(url: &str, n: u64) -> anyhow::Result<()> {
    let store = Store::open(url).await?;
    let mut gen = EventGen::new(1, start(), Duration::days(1), CAMERAS, PLATES);
    let events: Vec<_> = (0..n).map(|i| gen.event(i, n)).collect();

    let writer = EventWriter::spawn(store.clone(), 8192);
    let t = Instant::now();
    for e in events {
        writer.send(e).await?;
    }
    writer.close().await;
    let batched = n as f64 / t.elapsed().as_secs_f64();
    // PostgreSQL writes two lanes at once; the same load through one lane, into a second fresh
    // database, shows what the lanes bring.
    let one_lane = if store.backend_name() == "postgres" {
        let other = Store::open(&format!("{url}_one_lane")).await?;
        let mut gen = EventGen::new(1, start(), Duration::days(1), CAMERAS, PLATES);
        let events: Vec<_> = (0..n).map(|i| gen.event(i, n)).collect();
        let writer = EventWriter::spawn_with_lanes(other.clone(), 8192, 1);
        let t = Instant::now();
        for e in events {
            writer.send(e).await?;
        }
        writer.close().await;
        other.close().await;
        Some((n as f64 / t.elapsed().as_secs_f64()).round())
    } else {
        None
    };

    let single_n = (n / 20).clamp(1000, 10_000);
    let mut gen = EventGen::new(2, start(), Duration::days(1), CAMERAS, PLATES);
    let singles: Vec<_> = (0..single_n).map(|i| gen.event(i, single_n)).collect();
    let t = Instant::now();
    for e in &singles {
        store.insert_events(std::slice::from_ref(e)).await?;
    }
    let single = single_n as f64 / t.elapsed().as_secs_f64();
    let body = serde_json::to_string(&singles[0])?.len();
    report(json!({
        "bench": "ingest", "backend": store.backend_name(), "events": n,
        "batched_events_per_s": batched.round(), "single_row_events_per_s": single.round(),
        "ratio": (batched / single * 10.0).round() / 10.0, "event_json_bytes": body,
        "one_lane_events_per_s": one_lane,
    }));
    store.close().await;
    Ok(())
}

async fn fill(url: &str, n: u64) -> anyhow::Result<()> {
    let store = Store::open(url).await?;
    let (added, per_s) = fill_store(&store, n, start(), SPAN_DAYS, CAMERAS, PLATES).await?;
    report(json!({
        "bench": "fill", "backend": store.backend_name(), "events": n, "added": added,
        "events_per_s": per_s.round(),
    }));
    store.close().await;
    Ok(())
}

/// Plate lookups (exact plate, first page of 50) and camera + one-hour pages of 50.
async fn queries(tiers: &Tiers, tier: &str, iterations: usize) -> anyhow::Result<()> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let mut plate_ms = Vec::with_capacity(iterations);
    let mut camera_ms = Vec::with_capacity(iterations);
    let mut rows = 0usize;
    for _ in 0..iterations {
        let q = EventQuery {
            plate: Some(plate(rng.gen_range(0..PLATES))),
            limit: 50,
            ..Default::default()
        };
        let t = Instant::now();
        rows += tiers.query(&q).await?.len();
        plate_ms.push(t.elapsed().as_secs_f64() * 1e3);

        let from = start() + Duration::minutes(rng.gen_range(0..SPAN_DAYS * 24 * 60 - 60));
        let q = EventQuery {
            camera_id: Some(camera(rng.gen_range(1..=CAMERAS))),
            from: Some(from),
            to: Some(from + Duration::hours(1)),
            limit: 50,
            ..Default::default()
        };
        let t = Instant::now();
        rows += tiers.query(&q).await?.len();
        camera_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let events = tiers.hot.count_events().await?;
    let (p50, p99) = percentiles(plate_ms);
    let (c50, c99) = percentiles(camera_ms);
    report(json!({
        "bench": "query", "tier": tier, "backend": tiers.hot.backend_name(), "hot_events": events,
        "iterations": iterations, "rows_returned": rows,
        "plate_p50_ms": p50, "plate_p99_ms": p99, "camera_time_p50_ms": c50, "camera_time_p99_ms": c99,
    }));
    Ok(())
}

async fn cold(url: &str, folder: &str, iterations: usize) -> anyhow::Result<()> {
    let store = Store::open(url).await?;
    let tiers = Tiers::new(store, Some(ColdEvents::new(open_object_store(folder)?)));
    let t = Instant::now();
    let moved = tiers
        .move_to_cold(start() + Duration::days(SPAN_DAYS + 1))
        .await?;
    report(json!({
        "bench": "cold_move", "files": moved.files, "events": moved.events,
        "events_per_s": (moved.events as f64 / t.elapsed().as_secs_f64()).round(),
    }));
    queries(&tiers, "cold", iterations).await
}
