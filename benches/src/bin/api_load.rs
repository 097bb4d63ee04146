//! End-to-end API load: event search over HTTP against a store holding EVENTS events, at a
//! fixed request rate from an open-loop generator on loopback (latency is measured from each
//! request's scheduled time, so queueing counts). Runs once with audit records batched and
//! once with them written in the request, and reports both and their ratio.
//!
//! usage: api_load STORE_URL [EVENTS=1000000] [SECS=30] [RATE=200]
//!
//! The caller is an analyst of department d0, who sees d0's cameras and, through a grant, d1's
//! cameras up to level 2: every search carries the visibility clause. Half the requests look
//! up a plate (first page of 50), half page a camera's hour (50).
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, FixedOffset};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use xl_api::{ApiDeps, ApiState};
use xl_benches::store_events::{camera, fill_store, percentiles, plate};
use xl_benches::NoWim;
use xl_store::{AuditMode, CameraRecord, Masks, NewGrant, Role, Store, StoreError, Tiers};

const CAMERAS: u32 = 2000;
const PLATES: u64 = 1_000_000;
const SPAN_DAYS: i64 = 30;
const CONNECTIONS: usize = 64;

fn start() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-10-01T00:00:00+08:00").expect("constant time")
}

fn report(value: serde_json::Value) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{value}");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .first()
        .context("usage: api_load STORE_URL [EVENTS] [SECS] [RATE]")?;
    let num = |i: usize, default: u64| -> anyhow::Result<u64> {
        args.get(i)
            .map_or(Ok(default), |s| s.parse().context("expected a number"))
    };
    let (events, secs, rate) = (num(1, 1_000_000)?, num(2, 30)?, num(3, 200)?);
    let store = Store::open(url).await?;
    let (added, per_s) = fill_store(&store, events, start(), SPAN_DAYS, CAMERAS, PLATES).await?;
    report(
        json!({"bench": "api_load.fill", "events": events, "added": added, "events_per_s": per_s.round()}),
    );
    let token = sharing(&store).await?;

    let mut results = Vec::new();
    for mode in [AuditMode::Batched, AuditMode::Sync] {
        let (p50, p99, max, done, errors, audited) = run(&store, mode, &token, secs, rate).await?;
        report(json!({
            "bench": "api_load", "backend": store.backend_name(), "events": events,
            "audit": format!("{mode:?}").to_lowercase(), "rate_target": rate,
            "rate_achieved": (done as f64 / secs as f64).round(), "requests": done, "errors": errors,
            "p50_ms": (p50 * 100.0).round() / 100.0, "p99_ms": (p99 * 100.0).round() / 100.0,
            "max_ms": (max * 100.0).round() / 100.0, "audit_records": audited,
        }));
        results.push((p50, p99));
    }
    report(json!({
        "bench": "api_load.audit_overhead",
        "p50_sync_over_batched": (results[1].0 / results[0].0 * 100.0).round() / 100.0,
        "p99_sync_over_batched": (results[1].1 / results[0].1 * 100.0).round() / 100.0,
    }));
    store.close().await;
    Ok(())
}

/// Departments d0-d3 own the cameras round-robin at levels 1-3; d1 grants d0 its cameras up
/// to level 2. Returns a fresh token of an analyst of d0.
async fn sharing(store: &Store) -> anyhow::Result<String> {
    for d in 0..4 {
        store.ensure_department(&format!("d{d}")).await?;
    }
    if store.cameras().await?.len() < CAMERAS as usize {
        for i in 0..CAMERAS {
            store
                .upsert_camera(&CameraRecord {
                    id: camera(i),
                    name: camera(i),
                    department_id: format!("d{}", i % 4),
                    share_level: 1 + (i % 3) as u8,
                    lat: None,
                    lon: None,
                })
                .await?;
        }
    }
    if !store
        .grants()
        .await?
        .iter()
        .any(|g| g.grantee_department == "d0")
    {
        let grant = NewGrant {
            owner_department: "d1".into(),
            grantee_department: "d0".into(),
            max_level: 2,
            kinds: vec![],
            masks: Masks::default(),
            expires_ms: None,
        };
        store.create_grant(&grant, "bench").await?;
    }
    match store.add_user("bench-analyst", "d0", Role::Analyst).await {
        Ok(()) | Err(StoreError::Conflict { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(store
        .create_token("bench-analyst", "api_load", None)
        .await?
        .secret)
}

type Outcome = (f64, f64, f64, usize, usize, u64);

async fn run(
    store: &Store,
    mode: AuditMode,
    token: &str,
    secs: u64,
    rate: u64,
) -> anyhow::Result<Outcome> {
    let state = ApiState::new(ApiDeps {
        wim: Arc::new(NoWim),
        tiers: Tiers::new(store.clone(), None),
        evidence: None,
        live: tokio::sync::broadcast::channel(16).0,
        audit: mode,
        rate_per_minute: 1_000_000,
        hooks: None,
        view: Default::default(),
    });
    let audit = state.audit.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let cancel = CancellationToken::new();
    let server = tokio::spawn(xl_api::serve(listener, state, cancel.clone()));

    let (free_tx, mut free_rx) = mpsc::channel(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        free_tx.send(TcpStream::connect(addr).await?).await?;
    }
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(f64, bool)>();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let begin = Instant::now();
    let total = (secs * rate) as usize;
    let every = Duration::from_secs_f64(1.0 / rate as f64);
    let span_hours = SPAN_DAYS * 24;
    let visible: Vec<u32> = (0..CAMERAS)
        .filter(|i| i % 4 == 0 || (i % 4 == 1 && i % 3 < 2))
        .collect();
    for n in 0..total {
        let due = begin + every * n as u32;
        tokio::time::sleep_until(due.into()).await;
        let path = if n % 2 == 0 {
            format!(
                "/api/v1/events?plate={}&limit=50",
                escape(&plate(rng.gen_range(0..PLATES)))
            )
        } else {
            let cam = visible[rng.gen_range(0..visible.len())];
            let from = start() + chrono::Duration::hours(rng.gen_range(0..span_hours));
            let to = from + chrono::Duration::hours(1);
            format!(
                "/api/v1/events?camera={}&from={}&to={}&limit=50",
                camera(cam),
                escape(&from.to_rfc3339()),
                escape(&to.to_rfc3339())
            )
        };
        let conn = free_rx.recv().await.context("connection pool closed")?;
        let (free_tx, done_tx, token) = (free_tx.clone(), done_tx.clone(), token.to_string());
        tokio::spawn(async move {
            let (conn, ok) = match get(conn, &path, &token).await {
                Ok((conn, status)) => (Some(conn), status == 200),
                Err(_) => (None, false),
            };
            let conn = match conn {
                Some(c) => c,
                None => match TcpStream::connect(addr).await {
                    Ok(c) => c,
                    Err(_) => return,
                },
            };
            let _ = done_tx.send((due.elapsed().as_secs_f64() * 1000.0, ok));
            let _ = free_tx.send(conn).await;
        });
    }
    drop(done_tx);
    let mut latencies = Vec::with_capacity(total);
    let mut errors = 0;
    while let Some((ms, ok)) = done_rx.recv().await {
        latencies.push(ms);
        errors += usize::from(!ok);
        if latencies.len() == total {
            break;
        }
    }
    audit.flush().await;
    let audited = audit.written();
    cancel.cancel();
    let _ = server.await;
    let max = latencies.iter().copied().fold(0.0, f64::max);
    let done = latencies.len();
    let (p50, p99) = percentiles(latencies);
    Ok((p50, p99, max, done, errors, audited))
}

fn escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One keep-alive GET; returns the connection for reuse and the status.
async fn get(mut conn: TcpStream, path: &str, token: &str) -> std::io::Result<(TcpStream, u16)> {
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n");
    conn.write_all(request.as_bytes()).await?;
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut chunk = [0u8; 16 * 1024];
    let header_end = loop {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or(std::io::ErrorKind::InvalidData)?;
    while buf.len() < header_end + length {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok((conn, status))
}
