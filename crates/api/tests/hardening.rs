//! One error shape everywhere (RFC 7807 problem JSON, no internals), rate limits per token with
//! Retry-After, and body limits.
use axum::http::StatusCode;

#[path = "support/world.rs"]
mod support;
use support::{world, world_with_rate, Backend};

#[tokio::test]
async fn every_error_is_problem_json() {
    let w = world(Backend::Sqlite).await;
    let token = w.tokens["police-analyst"].clone();
    let cases = [
        (
            "GET",
            "/api/v1/nowhere".to_string(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            "DELETE",
            "/api/v1/events".to_string(),
            None,
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "GET",
            "/api/v1/events?limit=0".to_string(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            "GET",
            "/api/v1/events?from=yesterday".to_string(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            "GET",
            "/api/v1/events/not-a-uuid".to_string(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            "GET",
            format!("/api/v1/events/{}/evidence/x", w.events[0].id),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/v1/wim".to_string(),
            Some("x".repeat(300 * 1024)),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "POST",
            "/api/v1/wim".to_string(),
            Some("{".to_string()),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (method, uri, body, status) in cases {
        let r = w.call_text(method, &uri, Some(&token), body).await;
        assert_eq!(
            r.status,
            status,
            "{method} {uri}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.content_type, "application/problem+json", "{method} {uri}");
        let problem = r.json();
        assert_eq!(problem["status"], status.as_u16());
        assert!(
            problem["title"].is_string() && problem["detail"].is_string(),
            "{problem}"
        );
    }
    let r = w
        .get("/api/v1/events?from=yesterday", "police-analyst")
        .await;
    assert_eq!(
        r.json()["field"],
        "from",
        "the offending parameter is named"
    );
}

#[tokio::test]
async fn a_token_over_its_rate_gets_429_with_retry_after_and_others_are_unaffected() {
    let w = world_with_rate(Backend::Sqlite, 5).await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(w.get("/api/v1/me", "police-analyst").await.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429]);
    let limited = w.get("/api/v1/me", "police-analyst").await;
    assert_eq!(limited.content_type, "application/problem+json");
    assert_eq!(limited.headers.get("retry-after").unwrap(), "1");
    assert_eq!(
        w.get("/api/v1/me", "traffic-analyst").await.status,
        StatusCode::OK,
        "limits are per token"
    );
}

#[tokio::test]
async fn guessing_tokens_from_one_address_is_throttled_but_signed_in_users_are_not() {
    let w = world_with_rate(Backend::Sqlite, 5).await;
    let guess = format!("xl_0123456789abcdef_{}", "0".repeat(64));
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(
            w.call("GET", "/api/v1/me", Some(&guess), None)
                .await
                .status
                .as_u16(),
        );
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429]);
    assert_eq!(
        w.get("/api/v1/me", "urban-viewer").await.status,
        StatusCode::OK,
        "a valid token from the same address still works"
    );
}
