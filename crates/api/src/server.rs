//! The router and the server loop.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put, MethodRouter};
use axum::{Json, Router};
use serde::Serialize;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use xl_hooks::HookStats;
use xl_rules::{check_wim_values, WimIngest, WimIntake, WimReject};
use xl_schema::Event;
use xl_store::{AuditMode, AuditWriter, EvidenceStore, Tiers};

use crate::auth::{authorize, RateLimits};
use crate::endpoints::{openapi, Endpoint, ENDPOINTS};
use crate::metrics::Metrics;
use crate::tls::{ClientAddr, TlsListener};
use crate::web::ViewSettings;
use crate::wim::parse_wim_json;
use crate::{admin, events, hooks, live, review, web, Problem};

/// A WIM batch is a few records, an admin body smaller still; anything bigger is a mistake or
/// an attack.
const MAX_BODY: usize = 256 * 1024;

/// Default requests per minute per token.
pub const DEFAULT_RATE_PER_MINUTE: u32 = 600;

/// What the API is built from.
pub struct ApiDeps {
    pub wim: Arc<dyn WimIntake>,
    pub tiers: Tiers,
    /// Where evidence images are read from (None: downloads answer 404).
    pub evidence: Option<EvidenceStore>,
    /// Every event the pipelines produce, for the live feed.
    pub live: broadcast::Sender<Event>,
    pub audit: AuditMode,
    pub rate_per_minute: u32,
    /// The webhook dispatcher's figures, when this process runs it.
    pub hooks: Option<Arc<HookStats>>,
    /// The command view's settings.
    pub view: ViewSettings,
}

/// What the handlers share.
#[derive(Clone)]
pub struct ApiState {
    pub wim: Arc<dyn WimIntake>,
    pub counters: Arc<WimCounters>,
    pub tiers: Tiers,
    pub evidence: Option<EvidenceStore>,
    pub live: broadcast::Sender<Event>,
    pub audit: AuditWriter,
    pub metrics: Arc<Metrics>,
    pub limits: Arc<RateLimits>,
    pub hooks: Option<Arc<HookStats>>,
    pub view: ViewSettings,
}

impl ApiState {
    /// Must be called inside a Tokio runtime (a batched audit writer is spawned).
    pub fn new(deps: ApiDeps) -> Self {
        Self {
            wim: deps.wim,
            counters: Arc::default(),
            audit: AuditWriter::new(deps.tiers.hot.clone(), deps.audit),
            tiers: deps.tiers,
            evidence: deps.evidence,
            live: deps.live,
            metrics: Arc::default(),
            limits: Arc::new(RateLimits::new(deps.rate_per_minute)),
            hooks: deps.hooks,
            view: deps.view,
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

/// The handler of a table entry; every entry has one (the router panics at start otherwise,
/// which the endpoint tests catch).
fn handler(e: &Endpoint) -> MethodRouter<ApiState> {
    match (e.method, e.path) {
        ("GET", "/healthz") => get(|| async { "ok" }),
        ("GET", "/metrics") => get(metrics),
        ("GET", "/api/v1/openapi.json") => get(|| async { Json(openapi()) }),
        ("GET", "/api/v1/view-config") => get(web::view_config),
        ("GET", "/api/v1/me") => get(events::me),
        ("GET", "/api/v1/events") => get(events::search),
        ("GET", "/api/v1/events/{id}") => get(events::detail),
        ("POST", "/api/v1/events/{id}/review") => post(review::review),
        ("GET", "/api/v1/events/{id}/evidence/{index}") => get(events::evidence),
        ("GET", "/api/v1/plates/{plate}/trajectory") => get(events::trajectory),
        ("GET", "/api/v1/cameras") => get(events::cameras),
        ("GET", "/api/v1/live") => get(live::live),
        ("POST", "/api/v1/wim") => post(post_wim),
        ("GET", "/api/v1/wim/stats") => get(wim_stats),
        ("GET", "/api/v1/audit") => get(admin::audit_log),
        ("GET", "/api/v1/admin/users") => get(admin::list_users),
        ("POST", "/api/v1/admin/users") => post(admin::add_user),
        ("GET", "/api/v1/admin/grants") => get(admin::list_grants),
        ("POST", "/api/v1/admin/grants") => post(admin::create_grant),
        ("DELETE", "/api/v1/admin/grants/{id}") => delete(admin::revoke_grant),
        ("PUT", "/api/v1/admin/cameras/{id}") => put(admin::put_camera),
        ("POST", "/api/v1/admin/tokens") => post(admin::create_token),
        ("DELETE", "/api/v1/admin/tokens/{id}") => delete(admin::revoke_token),
        ("GET", "/api/v1/hooks") => get(hooks::list),
        ("POST", "/api/v1/hooks") => post(hooks::create),
        ("POST", "/api/v1/hooks/{id}/pause") => post(hooks::pause),
        ("POST", "/api/v1/hooks/{id}/resume") => post(hooks::resume),
        ("POST", "/api/v1/hooks/{id}/redeliver") => post(hooks::redeliver),
        ("DELETE", "/api/v1/hooks/{id}") => delete(hooks::delete),
        (method, path) => panic!("endpoint {method} {path} is in the table but has no handler"),
    }
}

pub fn router(state: ApiState) -> Router {
    let mut router = web::routes(&state);
    for e in ENDPOINTS {
        let route = handler(e).layer(from_fn_with_state((state.clone(), e), authorize));
        router = router.route(e.path, route);
    }
    router
        .fallback(|| async {
            Problem::new(
                StatusCode::NOT_FOUND,
                "not found",
                "no such endpoint; see /api/v1/openapi.json",
            )
        })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed",
                "see /api/v1/openapi.json",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(uniform_errors))
        .with_state(state)
}

/// Turns every error that is not already problem JSON (axum's own rejections: a body over the
/// limit, an unreadable path parameter) into one, so clients see a single error shape and no
/// internal text: 4xx keep a short description of what was wrong with the input, 5xx none.
async fn uniform_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if status.as_u16() < 400 || is_problem {
        return response;
    }
    let title = status.canonical_reason().unwrap_or("error");
    let detail = if status == StatusCode::PAYLOAD_TOO_LARGE {
        format!("the request body is larger than {} KiB", MAX_BODY / 1024)
    } else if status.is_client_error() {
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        text.chars().take(200).collect()
    } else {
        warn!(status = status.as_u16(), "internal error answered");
        "the server could not answer; retry shortly".to_string()
    };
    let mut problem = Problem::new(status, "error", detail);
    problem.title = title;
    problem.into_response()
}

async fn metrics(State(state): State<ApiState>) -> Response {
    let mut text = state
        .metrics
        .render(state.audit.written(), &state.counters.view());
    if let Some(hooks) = &state.hooks {
        hooks.render(&mut text);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// Serves plain HTTP until `cancel`, then finishes the requests in flight and the audit queue.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    info!(addr = ?listener.local_addr().ok(), "API listening (http)");
    serve_on(listener, state, cancel).await
}

/// As [`serve`], over TLS.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    state: ApiState,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    info!(addr = ?listener.local_addr().ok(), "API listening (https)");
    serve_on(TlsListener::new(listener, tls)?, state, cancel).await
}

async fn serve_on<L>(listener: L, state: ApiState, cancel: CancellationToken) -> std::io::Result<()>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
    ClientAddr: for<'a> axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, L>>,
{
    let audit = state.audit.clone();
    let served = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<ClientAddr>(),
    )
    .with_graceful_shutdown(async move { cancel.cancelled().await })
    .await;
    audit.flush().await;
    served
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
