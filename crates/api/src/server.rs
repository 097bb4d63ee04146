//! The router and the server loop.
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use xl_rules::{check_wim_values, WimIngest, WimIntake, WimReject};

use crate::wim::parse_wim_json;
use crate::Problem;

/// A WIM batch is a few records; anything bigger is a mistake or an attack.
const MAX_BODY: usize = 256 * 1024;

/// What the handlers share.
#[derive(Clone)]
pub struct ApiState {
    pub wim: Arc<dyn WimIntake>,
    pub counters: Arc<WimCounters>,
}

impl ApiState {
    pub fn new(wim: Arc<dyn WimIntake>) -> Self {
        Self {
            wim,
            counters: Arc::default(),
        }
    }
}

/// Counts of WIM records by outcome, across HTTP and followed files.
#[derive(Debug, Default)]
pub struct WimCounters {
    pub accepted: AtomicU64,
    pub duplicates: AtomicU64,
    pub malformed: AtomicU64,
    pub unknown_station: AtomicU64,
    pub invalid: AtomicU64,
}

#[derive(Debug, Clone, Serialize)]
pub struct WimCountersView {
    pub accepted: u64,
    pub duplicates: u64,
    pub malformed: u64,
    pub unknown_station: u64,
    pub invalid: u64,
}

impl WimCounters {
    pub fn view(&self) -> WimCountersView {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        WimCountersView {
            accepted: get(&self.accepted),
            duplicates: get(&self.duplicates),
            malformed: get(&self.malformed),
            unknown_station: get(&self.unknown_station),
            invalid: get(&self.invalid),
        }
    }

    pub(crate) fn count(&self, outcome: &Result<WimIngest, WimReject>) {
        let c = match outcome {
            Ok(WimIngest::Accepted) => &self.accepted,
            Ok(WimIngest::Duplicate) => &self.duplicates,
            Err(WimReject::UnknownStation(_)) => &self.unknown_station,
            Err(WimReject::UnknownLane { .. } | WimReject::Invalid(_)) => &self.invalid,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }
}

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/v1/wim", post(post_wim))
        .route("/api/v1/wim/stats", get(wim_stats))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Serves until `cancel`, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    let addr: Option<SocketAddr> = listener.local_addr().ok();
    info!(addr = ?addr, "API listening");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move { cancel.cancelled().await })
        .await
}

#[derive(Serialize)]
struct IngestReply {
    /// Per record, in order.
    results: Vec<RecordOutcome>,
}

#[derive(Serialize)]
struct RecordOutcome {
    /// "accepted", "duplicate" or "rejected".
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
}

/// `POST /api/v1/wim`: one record or a JSON array of records.
/// - Malformed JSON or an implausible value anywhere: 400 naming the field; nothing is stored.
/// - One record for an unknown station or lane: 422. In a batch, such records are refused one by
///   one (listed in `results`) and the others are taken.
/// - Otherwise 202 with each record's outcome (a repeat of a known record is "duplicate").
async fn post_wim(State(state): State<ApiState>, body: Bytes) -> Response {
    let records = match parse_wim_json(&body) {
        Ok(r) => r,
        Err(e) => {
            state.counters.malformed.fetch_add(1, Ordering::Relaxed);
            return Problem::new(StatusCode::BAD_REQUEST, "invalid WIM record", e.message)
                .with_field(e.field)
                .into_response();
        }
    };
    let many = records.len() > 1;
    for (i, r) in records.iter().enumerate() {
        if let Err(why) = check_wim_values(r) {
            state.counters.invalid.fetch_add(1, Ordering::Relaxed);
            let field = why.split_whitespace().next().map(|f| {
                if many {
                    format!("[{i}].{f}")
                } else {
                    f.to_string()
                }
            });
            return Problem::new(StatusCode::BAD_REQUEST, "invalid WIM record", why)
                .with_field(field)
                .into_response();
        }
    }
    if !state.wim.is_ready() {
        return Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready",
            "the pipelines are not running yet; retry shortly",
        )
        .into_response();
    }
    let mut results = Vec::with_capacity(records.len());
    for record in records {
        let outcome = state.wim.ingest(record);
        state.counters.count(&outcome);
        results.push(match outcome {
            Ok(WimIngest::Accepted) => RecordOutcome {
                status: "accepted",
                reason: None,
                field: None,
            },
            Ok(WimIngest::Duplicate) => RecordOutcome {
                status: "duplicate",
                reason: None,
                field: None,
            },
            Err(e) => {
                warn!(error = %e, "WIM record refused");
                let field = match &e {
                    WimReject::UnknownStation(_) => "station_id",
                    WimReject::UnknownLane { .. } => "lane",
                    WimReject::Invalid(_) => "record",
                };
                if !many {
                    return Problem::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "WIM record refused",
                        e.to_string(),
                    )
                    .with_field(Some(field.to_string()))
                    .into_response();
                }
                RecordOutcome {
                    status: "rejected",
                    reason: Some(e.to_string()),
                    field: Some(field),
                }
            }
        });
    }
    (StatusCode::ACCEPTED, Json(IngestReply { results })).into_response()
}

async fn wim_stats(State(state): State<ApiState>) -> Json<WimCountersView> {
    Json(state.counters.view())
}
