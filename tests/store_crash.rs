//! kill -9 in the middle of batched writes and of a cold-tier move, then a restart: counting
//! proves no event was lost or duplicated. Runs the real `xl` binary on SQLite and on the real
//! PostgreSQL server.
mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use chrono::DateTime;
use xl_benches::store_events::EventGen;
use xl_schema::Event;
use xl_store::cold::ColdEvents;
use xl_store::{open_object_store, EventQuery, FileState, Store, Tiers};

#[path = "../crates/store/tests/support/pg.rs"]
mod pg;

fn events(n: u64, seed: u64) -> Vec<Event> {
    let start = DateTime::parse_from_rfc3339("2026-10-01T00:00:00+08:00").unwrap();
    let mut gen = EventGen::new(seed, start, chrono::Duration::days(3), 50, 5000);
    (0..n).map(|i| gen.event(i, n)).collect()
}

fn config(dir: &Path, url: &str) -> std::path::PathBuf {
    let path = dir.join("xl.toml");
    let text = format!(
        "[store]\nurl = \"{url}\"\nspill_dir = \"{spill}\"\n\n[evidence]\nroot = \"{evidence}\"\n\n[cold]\nurl = \"{cold}\"\n\n[retention]\nhot_days = 1\ndefault_keep_days = 3650\nkeep_days = {{ plate_read = 3650 }}\n",
        spill = dir.join("spill").display(),
        evidence = dir.join("evidence").display(),
        cold = dir.join("cold").display(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn spawn(args: &[&str]) -> Child {
    common::xl()
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Kills `child` with SIGKILL once `started` holds (checked every 20 ms), after a further
/// `delay`; returns false if the child finished first.
async fn kill_9_when(child: &mut Child, delay: Duration, started: impl AsyncFn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !started().await {
        if child.try_wait().unwrap().is_some() || Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(delay).await;
    if child.try_wait().unwrap().is_some() {
        return false;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    true
}

async fn batched_writes(url: String, dir: &Path) {
    let all = events(120_000, 1);
    let file = dir.join("events.jsonl");
    let text: String = all
        .iter()
        .map(|e| serde_json::to_string(e).unwrap() + "\n")
        .collect();
    std::fs::write(&file, text).unwrap();
    let cfg = config(dir, &url);
    let store = Store::open(&url).await.unwrap();
    let args = [
        "events",
        "import",
        "--config",
        cfg.to_str().unwrap(),
        file.to_str().unwrap(),
    ];

    let mut child = spawn(&args);
    let killed = kill_9_when(&mut child, Duration::from_millis(300), async || {
        store.count_events().await.unwrap() > 0
    })
    .await;
    assert!(killed, "the import was killed mid-way");
    let at_kill = store.count_events().await.unwrap() as usize;
    assert!(at_kill < all.len(), "killed before the end ({at_kill})");

    let status = common::xl().args(args).output().unwrap();
    assert!(status.status.success(), "{}", common::stderr(&status));
    assert_eq!(store.count_events().await.unwrap() as usize, all.len());
    for e in all.iter().step_by(997) {
        assert!(store.event(e.id).await.unwrap().is_some());
    }
    store.close().await;
}

async fn cold_move(url: String, dir: &Path) {
    let all = events(300_000, 2);
    let store = Store::open(&url).await.unwrap();
    for chunk in all.chunks(10_000) {
        store.insert_events(chunk).await.unwrap();
    }
    let cfg = config(dir, &url);
    let args = [
        "retention",
        "run",
        "--config",
        cfg.to_str().unwrap(),
        "--now",
        "2026-10-05T00:00:00+08:00",
    ];
    let mut child = spawn(&args);
    let killed = kill_9_when(&mut child, Duration::from_millis(50), async || {
        !store
            .cold_files(FileState::Writing, None, None, None)
            .await
            .unwrap()
            .is_empty()
    })
    .await;
    assert!(killed, "the move was killed mid-way");
    let hot_at_kill = store.count_events().await.unwrap() as usize;
    assert!(hot_at_kill > 0, "killed before every event moved");

    let status = common::xl().args(args).output().unwrap();
    assert!(status.status.success(), "{}", common::stderr(&status));
    let cold = ColdEvents::new(open_object_store(dir.join("cold").to_str().unwrap()).unwrap());
    let tiers = Tiers::new(store.clone(), Some(cold));
    let mut seen = HashSet::new();
    let mut q = EventQuery {
        limit: 50_000,
        ..Default::default()
    };
    let mut total = 0;
    loop {
        let page = tiers.query(&q).await.unwrap();
        let Some(last) = page.last() else { break };
        q.after = Some((last.ts.timestamp_millis(), last.id));
        total += page.len();
        seen.extend(page.iter().map(|e| e.id));
    }
    assert_eq!(total, all.len(), "every event once across the tiers");
    assert_eq!(seen.len(), all.len(), "no duplicates");
    assert!(all.iter().all(|e| seen.contains(&e.id)));
    assert!(store
        .cold_files(FileState::Writing, None, None, None)
        .await
        .unwrap()
        .is_empty());
    store.close().await;
}

#[tokio::test]
async fn sqlite_kill_9_during_batched_writes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/xl.db", dir.path().display());
    batched_writes(url, dir.path()).await;
}

#[tokio::test]
async fn postgres_kill_9_during_batched_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = pg::FreshDb::new("crash");
    batched_writes(db.url(), dir.path()).await;
}

#[tokio::test]
async fn sqlite_kill_9_during_cold_move() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/xl.db", dir.path().display());
    cold_move(url, dir.path()).await;
}

#[tokio::test]
async fn postgres_kill_9_during_cold_move() {
    let dir = tempfile::tempdir().unwrap();
    let db = pg::FreshDb::new("crash");
    cold_move(db.url(), dir.path()).await;
}
