//! `POST /api/v1/events/{id}/review`: an analyst confirms a violation or dismisses it with a
//! reason. Only events in the caller's scope can be reviewed (others answer 404, as a read
//! would); every attempt is audited with its decision.
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use xl_schema::{china_offset, Event};
use xl_store::{is_reviewable, mask_plate_text, Decision, Masks, Review, StoreError};

use crate::admin::body;
use crate::auth::Caller;
use crate::events::{audited, event_id, not_found, store_problem, visibility};
use crate::{ApiState, Problem};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewBody {
    decision: String,
    #[serde(default)]
    reason: String,
}

/// The reviews as the event's reader may see them: a masked plate stays masked in reasons too.
pub(crate) fn reviews_json(event: &Event, masks: Masks, reviews: &[Review]) -> Value {
    let plate = event.plate.as_ref().map(|p| p.text.as_str()).unwrap_or("");
    let shown: Vec<Value> = reviews
        .iter()
        .map(|r| {
            let mut v = json!(r);
            if masks.plate && !plate.is_empty() {
                v["reason"] = json!(r.reason.replace(plate, &mask_plate_text(plate)));
            }
            v
        })
        .collect();
    Value::Array(shown)
}

pub(crate) async fn review(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(raw): Path<String>,
    bytes: Bytes,
) -> Response {
    let id = match event_id(&raw) {
        Ok(id) => id,
        Err(p) => return p.into_response(),
    };
    let request: ReviewBody = match body(&bytes) {
        Ok(b) => b,
        Err(p) => return p.into_response(),
    };
    let Some(decision) = Decision::parse(&request.decision) else {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid body",
            format!(
                "decision {:?} is not one of \"confirm\", \"dismiss\"",
                request.decision
            ),
        )
        .with_field(Some("decision".into()))
        .into_response();
    };
    let found = match state.tiers.event_visible(&visibility(&caller), id).await {
        Ok(found) => found,
        Err(e) => return store_problem(e),
    };
    let mut record = caller.audit("events.review", format!("event:{id}"), "ok");
    record.detail = json!({"decision": decision.as_str(), "reason": request.reason});
    let Some(scoped) = found else {
        record.outcome = "not_found".into();
        if let Err(r) = audited(&state, record).await {
            return r;
        }
        return not_found("no such event in your scope");
    };
    let kind = scoped.item.kind;
    let review = Review {
        decision,
        reason: request.reason.trim().to_string(),
        user_id: caller.principal.user_id.clone(),
        department_id: caller.principal.department_id.clone(),
        at: chrono::Utc::now().with_timezone(&china_offset()),
    };
    let refused = if !is_reviewable(kind) {
        Some((
            "kind",
            format!(
                "{} events are observations, not violations; only violations are reviewed",
                kind.as_str()
            ),
        ))
    } else {
        review.validate().err().map(|e| ("reason", e.to_string()))
    };
    if let Some((field, why)) = refused {
        record.outcome = "invalid".into();
        if let Err(r) = audited(&state, record).await {
            return r;
        }
        return Problem::new(StatusCode::BAD_REQUEST, "not reviewable", why)
            .with_field(Some(field.into()))
            .into_response();
    }
    let stored = state.tiers.hot.add_review(id, &review).await;
    if stored.is_err() {
        record.outcome = "error".into();
    }
    if let Err(r) = audited(&state, record).await {
        return r;
    }
    match stored {
        Ok(()) => {
            let shown = reviews_json(&scoped.item, scoped.masks, std::slice::from_ref(&review));
            (StatusCode::CREATED, Json(shown[0].clone())).into_response()
        }
        Err(StoreError::Invalid(m)) => Problem::new(StatusCode::BAD_REQUEST, "invalid body", m)
            .with_field(Some("reason".into()))
            .into_response(),
        Err(e) => store_problem(e),
    }
}
