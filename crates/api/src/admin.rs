//! Administration (admins): users, grants, cameras, tokens; and the audit log (supervisors see
//! their department's records, admins all). Every change is audited.
use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;
use xl_store::{AuditFilter, CameraRecord, NewGrant, Role, StoreError};

use crate::auth::Caller;
use crate::events::{audited, bad, limit_param, only_params, store_problem};
use crate::{ApiState, Problem};

pub(crate) fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, Problem> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid body",
            e.inner().to_string(),
        )
        .with_field((field != ".").then_some(field))
    })
}

/// A store error from a change: the caller's mistake (400/404/409) or a 503.
fn change_problem(e: StoreError) -> Response {
    match e {
        StoreError::Invalid(m) => {
            Problem::new(StatusCode::BAD_REQUEST, "invalid", m).into_response()
        }
        StoreError::NotFound { .. } => {
            Problem::new(StatusCode::NOT_FOUND, "not found", e.to_string()).into_response()
        }
        StoreError::Conflict { .. } => {
            Problem::new(StatusCode::CONFLICT, "conflict", e.to_string()).into_response()
        }
        other => store_problem(other),
    }
}

/// Audits a change with its outcome, then answers.
pub(crate) async fn answer(
    state: &ApiState,
    caller: &Caller,
    action: &str,
    resource: String,
    result: Result<Response, StoreError>,
) -> Response {
    let outcome = match &result {
        Ok(_) => "ok",
        Err(StoreError::Invalid(_) | StoreError::Conflict { .. }) => "invalid",
        Err(StoreError::NotFound { .. }) => "not_found",
        Err(_) => "error",
    };
    if let Err(r) = audited(state, caller.audit(action, resource, outcome)).await {
        return r;
    }
    result.unwrap_or_else(change_problem)
}

pub(crate) async fn list_users(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let result = state
        .tiers
        .hot
        .users()
        .await
        .map(|u| Json(json!({"users": u})).into_response());
    answer(&state, &caller, "users.list", "users".into(), result).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    id: String,
    department_id: String,
    role: Role,
}

pub(crate) async fn add_user(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> Response {
    let u: NewUser = match body(&bytes) {
        Ok(u) => u,
        Err(r) => return r.into_response(),
    };
    let result = state
        .tiers
        .hot
        .add_user(&u.id, &u.department_id, u.role)
        .await
        .map(|()| {
            (
                StatusCode::CREATED,
                Json(json!({"id": u.id, "department_id": u.department_id, "role": u.role})),
            )
                .into_response()
        });
    answer(
        &state,
        &caller,
        "user.create",
        format!("user:{}", u.id),
        result,
    )
    .await
}

pub(crate) async fn list_grants(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let result = state
        .tiers
        .hot
        .grants()
        .await
        .map(|g| Json(json!({"grants": g})).into_response());
    answer(&state, &caller, "grants.list", "grants".into(), result).await
}

pub(crate) async fn create_grant(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> Response {
    let g: NewGrant = match body(&bytes) {
        Ok(g) => g,
        Err(r) => return r.into_response(),
    };
    let result = state
        .tiers
        .hot
        .create_grant(&g, &caller.principal.user_id)
        .await;
    let resource = match &result {
        Ok(grant) => format!("grant:{}", grant.id),
        Err(_) => format!("grant:{}->{}", g.owner_department, g.grantee_department),
    };
    let result = result.map(|grant| (StatusCode::CREATED, Json(grant)).into_response());
    answer(&state, &caller, "grant.create", resource, result).await
}

pub(crate) async fn revoke_grant(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    let result = state
        .tiers
        .hot
        .revoke_grant(&id)
        .await
        .map(|()| StatusCode::NO_CONTENT.into_response());
    answer(
        &state,
        &caller,
        "grant.revoke",
        format!("grant:{id}"),
        result,
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CameraBody {
    name: String,
    department_id: String,
    share_level: u8,
    #[serde(default)]
    lat: Option<f64>,
    #[serde(default)]
    lon: Option<f64>,
}

pub(crate) async fn put_camera(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let c: CameraBody = match body(&bytes) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let record = CameraRecord {
        id: id.clone(),
        name: c.name,
        department_id: c.department_id,
        share_level: c.share_level,
        lat: c.lat,
        lon: c.lon,
    };
    let result = state
        .tiers
        .hot
        .upsert_camera(&record)
        .await
        .map(|()| Json(record).into_response());
    answer(
        &state,
        &caller,
        "camera.update",
        format!("camera:{id}"),
        result,
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    user_id: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    expires_ms: Option<i64>,
}

pub(crate) async fn create_token(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> Response {
    let t: NewToken = match body(&bytes) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let result = state
        .tiers
        .hot
        .create_token(&t.user_id, &t.label, t.expires_ms)
        .await;
    let resource = match &result {
        Ok(issued) => format!("token:{}", issued.id),
        Err(_) => format!("user:{}", t.user_id),
    };
    let result = result.map(|issued| {
        (
            StatusCode::CREATED,
            Json(json!({"id": issued.id, "user_id": t.user_id, "token": issued.secret})),
        )
            .into_response()
    });
    answer(&state, &caller, "token.create", resource, result).await
}

pub(crate) async fn revoke_token(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    let result = state
        .tiers
        .hot
        .revoke_token(&id)
        .await
        .map(|()| StatusCode::NO_CONTENT.into_response());
    answer(
        &state,
        &caller,
        "token.revoke",
        format!("token:{id}"),
        result,
    )
    .await
}

/// `GET /api/v1/audit`: supervisors see their department's records, admins everything.
pub(crate) async fn audit_log(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if let Err(p) = only_params(&params, &["after", "limit"]) {
        return p.into_response();
    }
    let after = match params.get("after").map(|a| a.parse::<i64>()) {
        None => None,
        Some(Ok(a)) => Some(a),
        Some(Err(_)) => return bad("after", "after must be a sequence number").into_response(),
    };
    let limit = match limit_param(&params, 100) {
        Ok(l) => l,
        Err(p) => return p.into_response(),
    };
    let filter = AuditFilter {
        department_id: (caller.principal.role != Role::Admin)
            .then(|| caller.principal.department_id.clone()),
        after_seq: after,
        limit,
    };
    let result = state.tiers.hot.audit_records(&filter).await.map(|records| {
        let next_after = (records.len() == limit as usize)
            .then(|| records.last().map(|r| r.seq))
            .flatten();
        Json(json!({"records": records, "next_after": next_after})).into_response()
    });
    answer(&state, &caller, "audit.read", "audit".into(), result).await
}
