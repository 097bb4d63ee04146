//! Bearer-token authentication, the endpoint table's role rule, and per-token rate limits.
//! Tokens never reach a log line or an error: only their id does.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::{debug, info_span, warn, Instrument};
use xl_store::{AuditRecord, Principal};

use crate::endpoints::{Access, Endpoint};
use crate::tls::ClientAddr;
use crate::{ApiState, Problem};

/// The authenticated caller of a request, put into its extensions by [`authorize`].
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// Client address ("" when unknown, e.g. in-process tests).
    pub address: String,
}

impl Caller {
    /// An audit record by this caller.
    pub fn audit(&self, action: &str, resource: String, outcome: &str) -> AuditRecord {
        AuditRecord {
            actor: self.principal.user_id.clone(),
            department_id: self.principal.department_id.clone(),
            action: action.to_string(),
            resource,
            outcome: outcome.to_string(),
            address: self.address.clone(),
            detail: serde_json::Value::Null,
        }
    }
}

pub(crate) fn client_address(req: &Request) -> String {
    req.extensions()
        .get::<ConnectInfo<ClientAddr>>()
        .map(|c| c.0 .0.ip().to_string())
        .unwrap_or_default()
}

fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Checks the token and the endpoint's role, then runs the handler inside a request span.
pub(crate) async fn authorize(
    State((state, endpoint)): State<(ApiState, &'static Endpoint)>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let address = client_address(&req);
    let span = info_span!(
        "request",
        method = endpoint.method,
        route = endpoint.path,
        user = tracing::field::Empty
    );
    let log_span = span.clone();
    let response = async {
        let Access::AtLeast(role) = endpoint.access else {
            return next.run(req).await;
        };
        // Failed sign-ins are limited per client address (a valid token always passes, so
        // operators sharing an address are not locked out by someone guessing there; 256-bit
        // secrets make guessing hopeless, the limit keeps its load off the store).
        let failures = format!("failed-from:{address}");
        let failure_budget = state.limits.per_minute;
        let now_ms = chrono::Utc::now().timestamp_millis();
        let principal = match bearer(&req) {
            None => None,
            Some(token) => match state.tiers.hot.authenticate(token, now_ms).await {
                Ok(p) => p,
                Err(e) => {
                    warn!(error = %e, "token check failed");
                    return Problem::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "store unavailable",
                        "the token could not be checked; retry shortly",
                    )
                    .into_response();
                }
            },
        };
        let Some(principal) = principal else {
            if !state.limits.allow(&failures, failure_budget) {
                return too_many();
            }
            let record = AuditRecord {
                actor: "anonymous".into(),
                action: "auth".into(),
                resource: endpoint.path.into(),
                outcome: "denied".into(),
                address: address.clone(),
                detail: serde_json::json!({"reason": if bearer(&req).is_some() { "invalid token" } else { "no token" }}),
                ..Default::default()
            };
            if let Err(e) = state.audit.record(record).await {
                warn!(error = %e, "audit write failed");
            }
            return Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid bearer token is required (Authorization: Bearer xl_...)",
            )
            .into_response();
        };
        tracing::Span::current().record("user", principal.user_id.as_str());
        if !state.limits.allow(&principal.token_id, state.limits.per_minute) {
            return too_many();
        }
        let caller = Caller { principal, address };
        if caller.principal.role < role {
            let route = format!("{} {}", endpoint.method, endpoint.path);
            let record = caller.audit("access", route, "denied");
            if let Err(e) = state.audit.record(record).await {
                warn!(error = %e, "audit write failed");
            }
            return Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("this needs role {role} or above; yours is {}", caller.principal.role),
            )
            .into_response();
        }
        req.extensions_mut().insert(caller);
        next.run(req).await
    }
    .instrument(span)
    .await;
    log_span.in_scope(|| {
        debug!(
            status = response.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "answered"
        );
    });
    state
        .metrics
        .observe(endpoint, response.status().as_u16(), started.elapsed());
    response
}

fn too_many() -> Response {
    let mut r = Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too many requests",
        "rate limit reached; retry after the time in Retry-After",
    )
    .into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// Token buckets refilled continuously: `per_minute` requests a minute, bursts up to that.
pub struct RateLimits {
    pub per_minute: u32,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimits {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s bucket of `capacity`; false when it is empty.
    pub fn allow(&self, key: &str, capacity: u32) -> bool {
        let now = Instant::now();
        let capacity = f64::from(capacity);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 100_000 {
            // Idle keys are full buckets: forgetting them changes nothing.
            buckets.retain(|_, (_, at)| now.duration_since(*at).as_secs() < 60);
        }
        let (tokens, at) = buckets.entry(key.to_string()).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * capacity / 60.0).min(capacity);
        *at = now;
        if *tokens < 1.0 {
            return false;
        }
        *tokens -= 1.0;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_capacity_then_refuses() {
        let limits = RateLimits::new(5);
        let allowed = (0..8).filter(|_| limits.allow("t", 5)).count();
        assert_eq!(allowed, 5);
        assert!(limits.allow("other", 5), "buckets are per key");
    }
}
