//! `GET /api/v1/live`: events in the caller's scope as they happen, as Server-Sent Events.
//!
//! The caller's scope is resolved per camera when the stream opens and again every few
//! seconds (a revoked grant stops the flow within that time); each event is checked against it
//! and masked before it is sent.
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;
use xl_schema::EventKind;
use xl_store::{masked_event_json, AccessMap};

use crate::auth::Caller;
use crate::events::{audited, bad, only_params, store_problem, visibility};
use crate::ApiState;

/// How often an open stream re-reads the caller's scope.
const RESCOPE_EVERY: Duration = Duration::from_secs(5);

pub(crate) async fn live(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if let Err(p) = only_params(&params, &["kind", "camera", "plate"]) {
        return p.into_response();
    }
    let kind = match params.get("kind") {
        None => None,
        Some(k) => match EventKind::parse(k) {
            Some(k) => Some(k),
            None => return bad("kind", format!("unknown event kind {k:?}")).into_response(),
        },
    };
    let access = match state.tiers.hot.access_map(&visibility(&caller), None).await {
        Ok(a) => a,
        Err(e) => return store_problem(e),
    };
    let mut record = caller.audit("live.subscribe", "live".into(), "ok");
    record.detail = serde_json::json!({"filters": params});
    if let Err(r) = audited(&state, record).await {
        return r;
    }
    let filter = LiveFilter {
        kind: kind.map(|k| k.as_str()),
        camera: params.get("camera").cloned(),
        plate: params.get("plate").cloned(),
    };
    state.metrics.live_opened();
    Sse::new(stream(state, caller, filter, Arc::new(access)))
        .keep_alive(KeepAlive::default())
        .into_response()
}

struct LiveFilter {
    kind: Option<&'static str>,
    camera: Option<String>,
    plate: Option<String>,
}

fn stream(
    state: ApiState,
    caller: Caller,
    filter: LiveFilter,
    access: Arc<AccessMap>,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    let rx = state.live.subscribe();
    let guard = LiveGuard(state.clone());
    futures::stream::unfold(
        (rx, access, Instant::now(), guard),
        move |(mut rx, mut access, mut scoped_at, guard)| {
            let (state, caller) = (state.clone(), caller.clone());
            let filter = (filter.kind, filter.camera.clone(), filter.plate.clone());
            async move {
                loop {
                    let event = match rx.recv().await {
                        Ok(e) => e,
                        Err(RecvError::Lagged(n)) => {
                            let note = SseEvent::default().event("lagged").data(n.to_string());
                            return Some((Ok(note), (rx, access, scoped_at, guard)));
                        }
                        Err(RecvError::Closed) => return None,
                    };
                    if scoped_at.elapsed() >= RESCOPE_EVERY {
                        if let Ok(fresh) =
                            state.tiers.hot.access_map(&visibility(&caller), None).await
                        {
                            access = Arc::new(fresh);
                        }
                        scoped_at = Instant::now();
                    }
                    let (kind, camera, plate) = &filter;
                    let wanted = kind.is_none_or(|k| event.kind.as_str() == k)
                        && camera.as_deref().is_none_or(|c| event.camera_id == c)
                        && plate
                            .as_deref()
                            .is_none_or(|p| event.plate.as_ref().is_some_and(|e| e.text == p));
                    if !wanted {
                        continue;
                    }
                    let Some(masks) =
                        access.masks(&event.camera_id, event.kind.as_str(), plate.is_some())
                    else {
                        continue;
                    };
                    let withheld = access.withheld_refs(&event);
                    let data = masked_event_json(&event, masks, &withheld).to_string();
                    let sse = SseEvent::default()
                        .event(event.kind.as_str())
                        .id(event.id.to_string())
                        .data(data);
                    return Some((Ok(sse), (rx, access, scoped_at, guard)));
                }
            }
        },
    )
}

/// Counts open streams down when a stream is dropped (the client went away).
struct LiveGuard(ApiState);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.metrics.live_closed();
    }
}
