//! Webhook and bus subscriptions over the API (supervisors and admins): a subscription is owned
//! by its creator, whose scope and masks apply to what it receives. Callers see and change their
//! own subscriptions; admins see and change all. Every call is audited.
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;
use xl_schema::EventKind;
use xl_store::{NewSubscription, Redeliver, Role, StoreError, Subscription, SubscriptionState};

use crate::admin::{answer, body};
use crate::auth::Caller;
use crate::{ApiState, Problem};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewHook {
    target: String,
    #[serde(default)]
    kinds: Vec<EventKind>,
    #[serde(default)]
    cameras: Vec<String>,
    #[serde(default)]
    plates: Vec<String>,
    #[serde(default = "default_in_flight")]
    max_in_flight: u32,
}

fn default_in_flight() -> u32 {
    8
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RedeliverBody {
    #[serde(default)]
    dead: bool,
    from: Option<chrono::DateTime<chrono::FixedOffset>>,
    to: Option<chrono::DateTime<chrono::FixedOffset>>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn hidden_from(sub: &Subscription, caller: &Caller) -> bool {
    caller.principal.role != Role::Admin && sub.owner_user != caller.principal.user_id
}

/// The subscription as [`Subscription::view`] shows it, with this process's delivery figures
/// when it runs the dispatcher.
fn shown(
    state: &ApiState,
    sub: &Subscription,
    counts: &[(String, xl_store::OutboxCounts)],
) -> serde_json::Value {
    let mut v = sub.view(counts);
    if let Some(stats) = state.hooks.as_ref().and_then(|h| h.snapshot(&sub.id)) {
        v["delivery"] = serde_json::to_value(stats).unwrap_or_default();
    }
    v
}

pub(crate) async fn list(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let store = &state.tiers.hot;
    let result = async {
        let counts = store.outbox_counts(false).await?;
        let subs: Vec<serde_json::Value> = store
            .subscriptions()
            .await?
            .iter()
            .filter(|s| !hidden_from(s, &caller))
            .map(|s| shown(&state, s, &counts))
            .collect();
        Ok(Json(json!({"hooks": subs})).into_response())
    }
    .await;
    answer(&state, &caller, "hooks.list", "hooks".into(), result).await
}

pub(crate) async fn create(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> Response {
    let h: NewHook = match body(&bytes) {
        Ok(h) => h,
        Err(r) => return r.into_response(),
    };
    if let Err(e) = xl_hooks::Target::parse(&h.target) {
        return Problem::new(StatusCode::BAD_REQUEST, "invalid target", e.to_string())
            .with_field(Some("target".into()))
            .into_response();
    }
    let new = NewSubscription {
        owner_user: caller.principal.user_id.clone(),
        target: h.target,
        kinds: h.kinds.iter().map(|k| k.as_str().to_string()).collect(),
        cameras: h.cameras,
        plates: h.plates,
        max_in_flight: h.max_in_flight,
    };
    let store = &state.tiers.hot;
    let result = store.create_subscription(&new, now_ms()).await;
    let resource = match &result {
        Ok(sub) => format!("hook:{}", sub.id),
        Err(_) => "hook:".into(),
    };
    let result = result.map(|sub| {
        let mut v = shown(&state, &sub, &[]);
        // Shown once: the receiver needs it to verify signatures.
        v["secret"] = json!(sub.secret);
        (StatusCode::CREATED, Json(v)).into_response()
    });
    answer(&state, &caller, "hook.create", resource, result).await
}

/// The caller's (or, for admins, any) subscription `id`; others' are "not found".
async fn owned(state: &ApiState, caller: &Caller, id: &str) -> Result<Subscription, StoreError> {
    match state.tiers.hot.subscription(id).await? {
        Some(s) if s.state != SubscriptionState::Deleted && !hidden_from(&s, caller) => Ok(s),
        _ => Err(StoreError::NotFound {
            what: "subscription",
            id: id.to_string(),
        }),
    }
}

async fn set_state(state: ApiState, caller: Caller, id: String, to: SubscriptionState) -> Response {
    let result = async {
        owned(&state, &caller, &id).await?;
        state
            .tiers
            .hot
            .set_subscription_state(&id, to, now_ms())
            .await?;
        Ok(match to {
            SubscriptionState::Deleted => StatusCode::NO_CONTENT.into_response(),
            _ => Json(json!({"id": id, "state": to})).into_response(),
        })
    }
    .await;
    let action = format!("hook.{}", to.as_str());
    answer(&state, &caller, &action, format!("hook:{id}"), result).await
}

pub(crate) async fn pause(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    set_state(state, caller, id, SubscriptionState::Paused).await
}

pub(crate) async fn resume(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    set_state(state, caller, id, SubscriptionState::Active).await
}

pub(crate) async fn delete(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    set_state(state, caller, id, SubscriptionState::Deleted).await
}

pub(crate) async fn redeliver(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let b: RedeliverBody = match body(&bytes) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let what = match (b.dead, b.from, b.to) {
        (true, None, None) => Redeliver::Dead,
        (false, Some(from), Some(to)) if from < to => Redeliver::Range {
            from_ms: from.timestamp_millis(),
            to_ms: to.timestamp_millis(),
        },
        _ => {
            return Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid body",
                "give {\"dead\": true} or {\"from\": T, \"to\": T} with from before to",
            )
            .into_response()
        }
    };
    let result = async {
        owned(&state, &caller, &id).await?;
        let queued = state.tiers.hot.redeliver(&id, what, now_ms()).await?;
        Ok(Json(json!({"id": id, "queued": queued})).into_response())
    }
    .await;
    answer(
        &state,
        &caller,
        "hook.redeliver",
        format!("hook:{id}"),
        result,
    )
    .await
}
