//! Scoped reads: event search and detail, evidence, plate trajectories, cameras. Every handler
//! reads through the caller's visibility (inside the query) and writes one audit record.
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, FixedOffset};
use serde_json::{json, Value};
use tracing::warn;
use uuid::Uuid;
use xl_schema::EventKind;
use xl_store::{masked_event_json, EventQuery, Masks, StoreError, Visibility};

use crate::auth::Caller;
use crate::{ApiState, Problem};

/// Largest page of a search or trajectory.
const MAX_LIMIT: u32 = 1000;

pub(crate) fn visibility(caller: &Caller) -> Visibility {
    Visibility::new(
        caller.principal.clone(),
        chrono::Utc::now().timestamp_millis(),
    )
}

/// A store failure as a 503 (its text stays in the log, never in the response).
pub(crate) fn store_problem(e: StoreError) -> Response {
    warn!(error = %e, "store read failed");
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "store unavailable",
        "the event store could not answer; retry shortly",
    )
    .into_response()
}

pub(crate) fn bad(field: &str, detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "invalid parameter", detail)
        .with_field(Some(field.to_string()))
}

/// Refuses a query string carrying a parameter not in `allowed` (a typo must not silently
/// widen a search).
pub(crate) fn only_params(
    params: &HashMap<String, String>,
    allowed: &[&str],
) -> Result<(), Problem> {
    match params.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(unknown) => Err(bad(unknown, format!("unknown parameter {unknown:?}"))),
        None => Ok(()),
    }
}

/// Writes the audit record; a failure fails the request (an unaudited read must not happen).
pub(crate) async fn audited(
    state: &ApiState,
    record: xl_store::AuditRecord,
) -> Result<(), Response> {
    state.audit.record(record).await.map_err(|e| {
        warn!(error = %e, "audit write failed");
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "audit unavailable",
            "the request could not be audited, so it was not served; retry shortly",
        )
        .into_response()
    })
}

type Params = Query<HashMap<String, String>>;

fn time_param(
    params: &HashMap<String, String>,
    name: &str,
) -> Result<Option<DateTime<FixedOffset>>, Problem> {
    params
        .get(name)
        .map(|v| {
            DateTime::parse_from_rfc3339(v).map_err(|_| {
                bad(
                    name,
                    format!("{name} must be an RFC 3339 time, e.g. 2026-11-29T08:00:00+08:00"),
                )
            })
        })
        .transpose()
}

pub(crate) fn limit_param(params: &HashMap<String, String>, default: u32) -> Result<u32, Problem> {
    match params.get("limit") {
        None => Ok(default),
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(bad(
                "limit",
                format!("limit must be an integer from 1 to {MAX_LIMIT}"),
            )),
        },
    }
}

fn text_param(params: &HashMap<String, String>, name: &str) -> Result<Option<String>, Problem> {
    match params.get(name) {
        Some(v) if v.is_empty() || v.len() > 256 => {
            Err(bad(name, format!("{name} must be 1-256 bytes")))
        }
        other => Ok(other.cloned()),
    }
}

const SEARCH_PARAMS: [&str; 8] = [
    "plate",
    "plate_prefix",
    "camera",
    "kind",
    "from",
    "to",
    "after",
    "limit",
];

fn search_query(params: &HashMap<String, String>) -> Result<EventQuery, Problem> {
    only_params(params, &SEARCH_PARAMS)?;
    let kind = match params.get("kind") {
        None => None,
        Some(k) => Some(
            EventKind::parse(k).ok_or_else(|| bad("kind", format!("unknown event kind {k:?}")))?,
        ),
    };
    let after = match params.get("after") {
        None => None,
        Some(a) => {
            let parsed = a
                .split_once(':')
                .and_then(|(ts, id)| Some((ts.parse::<i64>().ok()?, Uuid::parse_str(id).ok()?)));
            Some(
                parsed
                    .ok_or_else(|| bad("after", "after must be TS_MS:ID as given in next_after"))?,
            )
        }
    };
    Ok(EventQuery {
        plate: text_param(params, "plate")?,
        plate_prefix: text_param(params, "plate_prefix")?,
        camera_id: text_param(params, "camera")?,
        kind,
        from: time_param(params, "from")?,
        to: time_param(params, "to")?,
        after,
        limit: limit_param(params, 100)?,
        id: None,
        visibility: None,
    })
}

/// `GET /api/v1/events`
pub(crate) async fn search(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Query(params): Params,
) -> Response {
    let q = match search_query(&params) {
        Ok(q) => q,
        Err(r) => return r.into_response(),
    };
    let found = match state.tiers.query_visible(&visibility(&caller), &q).await {
        Ok(found) => found,
        Err(e) => return store_problem(e),
    };
    let next_after = (found.len() == q.page_size() as usize)
        .then(|| found.last())
        .flatten()
        .map(|s| format!("{}:{}", s.item.ts.timestamp_millis(), s.item.id));
    let mut record = caller.audit("events.search", search_resource(&params), "ok");
    record.detail = json!({
        "filters": params,
        "returned": found.len(),
        "ids": found.iter().map(|s| s.item.id).collect::<Vec<_>>(),
    });
    if let Err(r) = audited(&state, record).await {
        return r;
    }
    let events: Vec<Value> = found
        .iter()
        .map(|s| masked_event_json(&s.item, s.masks, &s.withheld))
        .collect();
    Json(json!({ "events": events, "next_after": next_after })).into_response()
}

fn search_resource(params: &HashMap<String, String>) -> String {
    let mut parts: Vec<String> = params
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "limit" | "after"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    parts.sort();
    format!("events?{}", parts.join("&"))
}

pub(crate) fn event_id(raw: &str) -> Result<Uuid, Problem> {
    Uuid::parse_str(raw).map_err(|_| bad("id", "id must be an event id (UUID)"))
}

/// `GET /api/v1/events/{id}`: 404 both for unknown events and for events out of scope, so the
/// answer says nothing about events the caller may not see.
pub(crate) async fn detail(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(raw): Path<String>,
) -> Response {
    let id = match event_id(&raw) {
        Ok(id) => id,
        Err(r) => return r.into_response(),
    };
    let found = match state.tiers.event_visible(&visibility(&caller), id).await {
        Ok(found) => found,
        Err(e) => return store_problem(e),
    };
    let outcome = if found.is_some() { "ok" } else { "not_found" };
    if let Err(r) = audited(
        &state,
        caller.audit("events.read", format!("event:{id}"), outcome),
    )
    .await
    {
        return r;
    }
    let Some(s) = found else {
        return not_found("no such event in your scope");
    };
    let reviews = match state.tiers.hot.reviews(id).await {
        Ok(r) => r,
        Err(e) => return store_problem(e),
    };
    let mut shown = masked_event_json(&s.item, s.masks, &s.withheld);
    shown["reviews"] = crate::review::reviews_json(&s.item, s.masks, &reviews);
    Json(shown).into_response()
}

pub(crate) fn not_found(detail: &str) -> Response {
    Problem::new(StatusCode::NOT_FOUND, "not found", detail).into_response()
}

/// `GET /api/v1/events/{id}/evidence/{index}`
pub(crate) async fn evidence(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path((raw, index)): Path<(String, String)>,
) -> Response {
    let id = match event_id(&raw) {
        Ok(id) => id,
        Err(r) => return r.into_response(),
    };
    let Ok(index) = index.parse::<usize>() else {
        return bad("index", "index must be a non-negative integer").into_response();
    };
    let found = match state.tiers.event_visible(&visibility(&caller), id).await {
        Ok(found) => found,
        Err(e) => return store_problem(e),
    };
    let resource = format!("event:{id}/evidence/{index}");
    let Some(scoped) = found else {
        let _ = audited(
            &state,
            caller.audit("evidence.download", resource, "not_found"),
        )
        .await;
        return not_found("no such event in your scope");
    };
    if scoped.masks != Masks::default() {
        if let Err(r) = audited(
            &state,
            caller.audit("evidence.download", resource, "denied"),
        )
        .await
        {
            return r;
        }
        return Problem::new(
            StatusCode::FORBIDDEN,
            "withheld",
            "your department's grant withholds evidence images for this camera",
        )
        .into_response();
    }
    let Some(item) = scoped.item.evidence.get(index) else {
        let _ = audited(
            &state,
            caller.audit("evidence.download", resource, "not_found"),
        )
        .await;
        return not_found("the event has no evidence at this index");
    };
    let Some(store) = &state.evidence else {
        return not_found("this server has no evidence store configured");
    };
    let bytes = match store.get(&item.uri).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            let _ = audited(
                &state,
                caller.audit("evidence.download", resource, "not_found"),
            )
            .await;
            return not_found("the evidence file is gone (expired or never written)");
        }
        Err(e) => return store_problem(e),
    };
    if let Err(r) = audited(&state, caller.audit("evidence.download", resource, "ok")).await {
        return r;
    }
    ([(header::CONTENT_TYPE, "image/jpeg")], bytes).into_response()
}

const TRAJECTORY_PARAMS: [&str; 3] = ["from", "to", "limit"];

/// `GET /api/v1/plates/{plate}/trajectory`: the plate's reads in time order with the camera
/// positions, for drawing on a map.
pub(crate) async fn trajectory(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(plate): Path<String>,
    Query(params): Params,
) -> Response {
    if let Err(p) = only_params(&params, &TRAJECTORY_PARAMS) {
        return p.into_response();
    }
    if plate.is_empty() || plate.len() > 64 {
        return bad("plate", "plate must be 1-64 bytes").into_response();
    }
    let q = match (
        time_param(&params, "from"),
        time_param(&params, "to"),
        limit_param(&params, MAX_LIMIT),
    ) {
        (Ok(from), Ok(to), Ok(limit)) => EventQuery {
            plate: Some(plate.clone()),
            from,
            to,
            limit,
            ..Default::default()
        },
        (Err(r), _, _) | (_, Err(r), _) | (_, _, Err(r)) => return r.into_response(),
    };
    let vis = visibility(&caller);
    let reads = match state.tiers.query_visible(&vis, &q).await {
        Ok(found) => found,
        Err(e) => return store_problem(e),
    };
    let cameras = match state.tiers.hot.cameras().await {
        Ok(c) => c
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect::<HashMap<_, _>>(),
        Err(e) => return store_problem(e),
    };
    let mut record = caller.audit("plates.trajectory", format!("plate:{plate}"), "ok");
    record.detail = json!({"returned": reads.len(), "ids": reads.iter().map(|s| s.item.id).collect::<Vec<_>>()});
    if let Err(r) = audited(&state, record).await {
        return r;
    }
    let points: Vec<Value> = reads
        .iter()
        .map(|s| {
            let camera = cameras.get(&s.item.camera_id);
            json!({
                "event_id": s.item.id,
                "kind": s.item.kind.as_str(),
                "camera_id": s.item.camera_id,
                "ts": s.item.ts,
                "lat": camera.and_then(|c| c.lat),
                "lon": camera.and_then(|c| c.lon),
            })
        })
        .collect();
    Json(json!({"plate": plate, "reads": points})).into_response()
}

/// `GET /api/v1/cameras`: cameras in scope, each with its latest health and the masks under
/// which the caller sees it.
pub(crate) async fn cameras(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let vis = visibility(&caller);
    let (all, access, health) = match tokio::try_join!(
        state.tiers.hot.cameras(),
        state.tiers.hot.access_map(&vis, None),
        state.tiers.hot.camera_health()
    ) {
        Ok(r) => r,
        Err(e) => return store_problem(e),
    };
    let health: HashMap<String, Value> = health
        .into_iter()
        .filter_map(|(updated_ms, body)| {
            let id = body.get("camera_id")?.as_str()?.to_string();
            Some((id, json!({"updated_ms": updated_ms, "state": body})))
        })
        .collect();
    let visible: Vec<Value> = all
        .into_iter()
        .filter_map(|c| {
            let masks = access.camera_masks(&c.id)?;
            Some(json!({
                "id": c.id,
                "name": c.name,
                "department_id": c.department_id,
                "share_level": c.share_level,
                "lat": c.lat,
                "lon": c.lon,
                "masks": masks,
                "health": health.get(&c.id),
            }))
        })
        .collect();
    let mut record = caller.audit("cameras.list", "cameras".into(), "ok");
    record.detail = json!({"returned": visible.len()});
    if let Err(r) = audited(&state, record).await {
        return r;
    }
    Json(json!({ "cameras": visible })).into_response()
}

/// `GET /api/v1/me`: the caller, as a sign-in check (audited as a login).
pub(crate) async fn me(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
) -> Response {
    if let Err(r) = audited(
        &state,
        caller.audit("login", format!("user:{}", caller.principal.user_id), "ok"),
    )
    .await
    {
        return r;
    }
    Json(json!({
        "user_id": caller.principal.user_id,
        "department_id": caller.principal.department_id,
        "role": caller.principal.role,
        "token_id": caller.principal.token_id,
    }))
    .into_response()
}
