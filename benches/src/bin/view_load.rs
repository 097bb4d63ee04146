//! Command-centre load on the command view: CAMERAS cameras registered (with health, a share
//! of them down and changing) and RATE events per second on the live feed, while
//! tests/browser/load.mjs measures the page in Debian's Chromium (long tasks, frame times,
//! input delay). The page and API are the real ones (`xl_api::router`); only the pipeline is
//! replaced by a generator that broadcasts synthetic events.
//!
//! usage: view_load [CAMERAS=20000] [RATE=100] [SECS=30]
//! Prints the browser's measurements as one JSON line; screenshots in test-artifacts/view-load/.
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use xl_api::{ApiDeps, ApiState};
use xl_benches::store_events::{camera, EventGen};
use xl_benches::{workspace, NoWim};
use xl_schema::{china_offset, Event, EventKind};
use xl_store::{AuditMode, CameraRecord, Role, Store, Tiers};

/// The county's extent (宿州, 皖S), where the synthetic cameras are scattered.
const LAT: (f64, f64) = (33.2, 34.2);
const LON: (f64, f64) = (116.4, 117.9);
/// Every camera's health is rewritten this often, as `xl run` does.
const HEALTH_EVERY: Duration = Duration::from_secs(5);

fn report(value: serde_json::Value) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{value}");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, default: u64| -> anyhow::Result<u64> {
        args.get(i)
            .map(|s| {
                s.parse()
                    .with_context(|| format!("argument {} = {s:?}", i + 1))
            })
            .unwrap_or(Ok(default))
    };
    let (cameras, rate, secs) = (num(0, 20_000)? as u32, num(1, 100)?, num(2, 30)?);
    let dir = tempfile::tempdir()?;
    let store = Store::open(&format!("sqlite://{}/view.db", dir.path().display())).await?;
    let token = register(&store, cameras).await?;
    let (live, _) = tokio::sync::broadcast::channel(4096);
    let state = ApiState::new(ApiDeps {
        wim: Arc::new(NoWim),
        tiers: Tiers::new(store.clone(), None),
        evidence: None,
        live: live.clone(),
        audit: AuditMode::Batched,
        rate_per_minute: 1_000_000,
        hooks: None,
        view: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let cancel = CancellationToken::new();
    let server = tokio::spawn(xl_api::serve(listener, state, cancel.clone()));
    let health = tokio::spawn(refresh_health(store.clone(), cameras, cancel.clone()));
    let feed = tokio::spawn(broadcast_events(live, cameras, rate, cancel.clone()));

    let artifacts = workspace().join("test-artifacts/view-load");
    let browser = tokio::process::Command::new("node")
        .arg(workspace().join("tests/browser/load.mjs"))
        .current_dir(workspace().join("tests/browser"))
        .env("XL_URL", format!("http://{addr}"))
        .env("XL_TOKEN", &token)
        .env("XL_SECONDS", secs.to_string())
        .env("XL_ARTIFACTS", &artifacts)
        .output()
        .await
        .context("node (scripts/setup.sh installs it)")?;
    cancel.cancel();
    let _ = tokio::join!(server, health, feed);
    anyhow::ensure!(
        browser.status.success(),
        "load.mjs failed: {}\n{}",
        browser.status,
        String::from_utf8_lossy(&browser.stderr)
    );
    let measured: serde_json::Value =
        serde_json::from_slice(&browser.stdout).with_context(|| {
            format!(
                "load.mjs printed {:?}",
                String::from_utf8_lossy(&browser.stdout)
            )
        })?;
    report(json!({
        "cameras": cameras,
        "events_per_second": rate,
        "seconds": secs,
        "browser": measured,
    }));
    Ok(())
}

/// Registers the cameras in two departments and returns an admin token (sees all of them).
async fn register(store: &Store, cameras: u32) -> anyhow::Result<String> {
    store.ensure_department("traffic").await?;
    store.ensure_department("police").await?;
    let mut rng = ChaCha8Rng::seed_from_u64(20_000);
    for n in 1..=cameras {
        store
            .upsert_camera(&CameraRecord {
                id: camera(n),
                name: format!("卡口 {n}"),
                department_id: if n % 2 == 0 { "traffic" } else { "police" }.into(),
                share_level: 1 + (n % 3) as u8,
                lat: Some(rng.gen_range(LAT.0..LAT.1)),
                lon: Some(rng.gen_range(LON.0..LON.1)),
            })
            .await?;
    }
    store
        .add_user("command-centre", "traffic", Role::Admin)
        .await?;
    Ok(store
        .create_token("command-centre", "view load", None)
        .await?
        .secret)
}

/// Rewrites every camera's health every few seconds; about 3% are down at any time, and which
/// ones changes, so the map and the wall keep recolouring.
async fn refresh_health(store: Store, cameras: u32, cancel: CancellationToken) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut tick = tokio::time::interval(HEALTH_EVERY);
    while !cancel.is_cancelled() {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tick.tick() => {}
        }
        let now = chrono::Utc::now();
        let snapshots: Vec<(String, serde_json::Value)> = (1..=cameras)
            .map(|n| {
                let down = rng.gen_bool(0.03);
                let id = camera(n);
                let body = json!({
                    "camera_id": id,
                    "state": if down { "backoff" } else { "streaming" },
                    "last_frame_at": if down { None } else { Some(now) },
                    "fps_in": if down { 0.0 } else { 25.0 },
                    "frames_in": 1000 + n,
                    "frames_decoded": 1000 + n,
                    "frames_dropped": 0,
                    "reconnects": u32::from(down),
                    "last_error": if down { Some("connection refused") } else { None },
                });
                (id, body)
            })
            .collect();
        if let Err(e) = store.put_camera_health(&snapshots).await {
            tracing::warn!(error = %e, "health not written");
        }
    }
}

/// RATE events per second on the live feed: plate reads with one violation in twenty.
async fn broadcast_events(
    live: tokio::sync::broadcast::Sender<Event>,
    cameras: u32,
    rate: u64,
    cancel: CancellationToken,
) {
    let start = chrono::Utc::now().with_timezone(&china_offset());
    let mut events = EventGen::new(3, start, chrono::Duration::hours(1), cameras, 1_000_000);
    let violations = [
        EventKind::WatchlistHit,
        EventKind::RestrictedZone,
        EventKind::Overload,
        EventKind::ObscuredPlate,
        EventKind::ClonedPlate,
    ];
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut i = 0u64;
    while !cancel.is_cancelled() {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tick.tick() => {}
        }
        let mut event = events.event(i, u64::MAX);
        event.ts = chrono::Utc::now().with_timezone(&china_offset());
        if i % 20 == 19 {
            event.kind = violations[(i / 20) as usize % violations.len()];
        }
        let _ = live.send(event);
        i += 1;
    }
}
