//! A webhook receiver on a real socket for the delivery tests and the benchmark: records every
//! request (headers, body, arrival time), can answer slowly, fail with a status, or be taken
//! down (its port refuses connections) and brought back on the same port.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct Received {
    pub event_id: String,
    pub timestamp: i64,
    pub signature: String,
    pub attempt: u32,
    pub body: Bytes,
    /// Unix ms when the request arrived.
    pub at_ms: i64,
}

#[derive(Default)]
pub struct Shared {
    pub received: Mutex<Vec<Received>>,
    /// 0 answers 204; otherwise this status.
    pub fail_status: AtomicU16,
    pub delay_ms: AtomicU64,
}

pub struct Receiver {
    pub addr: SocketAddr,
    pub shared: Arc<Shared>,
    cancel: Option<CancellationToken>,
    task: Option<tokio::task::JoinHandle<()>>,
}

async fn take(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let delay = shared.delay_ms.load(Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let status = shared.fail_status.load(Ordering::Relaxed);
    if status != 0 {
        return StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    shared.received.lock().unwrap().push(Received {
        event_id: h("x-xl-event-id"),
        timestamp: h("x-xl-timestamp").parse().unwrap_or(0),
        signature: h("x-xl-signature"),
        attempt: h("x-xl-attempt").parse().unwrap_or(0),
        body,
        at_ms: chrono::Utc::now().timestamp_millis(),
    });
    StatusCode::NO_CONTENT
}

impl Receiver {
    pub async fn start() -> Self {
        let mut r = Self {
            addr: "127.0.0.1:0".parse().unwrap(),
            shared: Arc::default(),
            cancel: None,
            task: None,
        };
        r.up().await;
        r
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Serves (again) on the same address.
    pub async fn up(&mut self) {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(self.addr).unwrap();
        let listener = socket.listen(1024).unwrap();
        self.addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/hook", post(take))
            .with_state(self.shared.clone());
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        self.task = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await;
        }));
        self.cancel = Some(cancel);
    }

    /// Stops listening: connections are refused until `up`.
    pub async fn down(&mut self) {
        if let Some(c) = self.cancel.take() {
            c.cancel();
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.shared.received.lock().unwrap().len()
    }

    /// Waits until at least `n` requests were taken, or panics after `limit`.
    pub async fn wait_for(&self, n: usize, limit: Duration) {
        let start = std::time::Instant::now();
        while self.count() < n {
            assert!(
                start.elapsed() < limit,
                "receiver got {} of {n} deliveries within {limit:?}",
                self.count()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
