//! The authorization matrix: every endpoint in the table x every role x every department
//! relationship (own, granted, not granted, expired grant, revoked grant, masked fields),
//! asserting the exact visible set, on SQLite and PostgreSQL, with the events in the hot tier
//! and again after they moved to the cold tier. A new endpoint without a case here fails it.
//! Logs are captured throughout: no token secret may appear in them.
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use xl_api::endpoints::{Access, Endpoint, ENDPOINTS};
use xl_store::Role;

#[path = "support/world.rs"]
mod support;
use support::{expected_visible, keys, url_escape, world, Backend, World, USERS};

#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> &'static LogBuffer {
    static LOGS: OnceLock<LogBuffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = LogBuffer::default();
        let writer = buffer.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        buffer
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_sqlite() {
    matrix(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_postgres() {
    matrix(Backend::Postgres).await
}

async fn matrix(backend: Backend) {
    let logs = logs();
    let w = world(backend).await;
    for e in ENDPOINTS {
        gate(&w, e).await;
        case(&w, e).await;
    }
    sql_enforces_scope(&w).await;
    // The same reads with every event in the cold tier.
    let cutoff =
        (chrono::Utc::now() - chrono::Duration::days(1)).with_timezone(&xl_schema::china_offset());
    let moved = w.tiers.move_to_cold(cutoff).await.unwrap();
    assert_eq!(moved.events, w.events.len() as u64);
    assert_eq!(w.tiers.hot.count_events().await.unwrap(), 0);
    search_sets(&w).await;
    trajectories(&w).await;
    details_and_evidence(&w).await;

    let metrics = String::from_utf8(w.call("GET", "/metrics", None, None).await.body).unwrap();
    for line in [
        "route=\"/api/v1/events\",status=\"200\"",
        "route=\"/api/v1/events/{id}\",status=\"404\"",
        "route=\"/api/v1/me\",status=\"401\"",
    ] {
        assert!(metrics.contains(line), "metrics count {line}: {metrics}");
    }
    w.state.audit.flush().await;
    let verdict = w.tiers.hot.verify_audit().await.unwrap();
    assert_eq!(verdict.problem, None);
    assert!(
        verdict.records > 300,
        "every read was audited: {} records",
        verdict.records
    );

    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        text.contains("police-analyst"),
        "the log capture works (requests are logged with their user)"
    );
    for (user, token) in &w.tokens {
        assert!(
            !text.contains(token.as_str()),
            "{user}'s token appears in the logs"
        );
        let secret = token.rsplit('_').next().unwrap();
        assert!(
            !text.contains(secret),
            "{user}'s token secret appears in the logs"
        );
    }
    for (token, why) in &w.bad_tokens {
        assert!(
            !text.contains(token.as_str()),
            "a {why} token appears in the logs"
        );
    }
}

/// A valid request to `e`, for the role gate.
fn probe(w: &World, e: &Endpoint) -> (String, Option<Value>) {
    let id = w.events[0].id;
    let plate = &w.events[0].plate.as_ref().unwrap().text;
    let path = e
        .path
        .replace(
            "{id}",
            &match e.path {
                p if p.contains("grants") => "g-0000000000000000".to_string(),
                p if p.contains("hooks") => "hk_0000000000000000".to_string(),
                p if p.contains("tokens") => "0000000000000000".to_string(),
                p if p.contains("cameras") => "P1".to_string(),
                _ => id.to_string(),
            },
        )
        .replace("{index}", "0")
        .replace("{plate}", &url_escape(plate));
    let body = e.body.map(|schema| match schema {
        "NewUser" => json!({"id": "probe-user", "department_id": "police", "role": "viewer"}),
        // Flow counts only: no such events exist, so the visible sets stay as written.
        "NewGrant" => json!({"owner_department": "urban", "grantee_department": "police", "max_level": 1, "kinds": ["flow_count"]}),
        "CameraRecord" => json!({"name": "camera P1", "department_id": "police", "share_level": 1, "lat": 31.0, "lon": 117.0}),
        "NewToken" => json!({"user_id": "police-viewer", "label": "probe"}),
        "WimRecord" => json!({}),
        // Flow counts only, to a port nothing listens on; no dispatcher runs in this world.
        "NewHook" => json!({"target": "http://127.0.0.1:9/probe", "kinds": ["flow_count"]}),
        "Redeliver" => json!({"dead": true}),
        // events[0] is a plate read: refused as an observation (400), never as a role.
        "Review" => json!({"decision": "confirm"}),
        other => panic!("no probe body for schema {other}"),
    });
    (path, body)
}

/// The role gate of every endpoint: no token or a bad one -> 401, a role below the table's ->
/// 403, otherwise not refused. Public endpoints answer anyone.
async fn gate(w: &World, e: &Endpoint) {
    let (path, body) = probe(w, e);
    let anonymous = w.call(e.method, &path, None, body.as_ref()).await;
    match e.access {
        Access::Public => {
            assert_eq!(
                anonymous.status,
                StatusCode::OK,
                "{} {path} is public",
                e.method
            );
        }
        Access::AtLeast(min) => {
            assert_eq!(
                anonymous.status,
                StatusCode::UNAUTHORIZED,
                "{} {path} without a token",
                e.method
            );
            assert_eq!(anonymous.content_type, "application/problem+json");
            for (token, why) in &w.bad_tokens {
                let r = w.call(e.method, &path, Some(token), body.as_ref()).await;
                assert_eq!(
                    r.status,
                    StatusCode::UNAUTHORIZED,
                    "{} {path} with a {why} token",
                    e.method
                );
            }
            for (user, _, role) in USERS {
                let r = w
                    .call(e.method, &path, Some(&w.tokens[user]), body.as_ref())
                    .await;
                if role < min {
                    assert_eq!(
                        r.status,
                        StatusCode::FORBIDDEN,
                        "{} {path} as {user} ({role} < {min})",
                        e.method
                    );
                    assert!(r.json()["detail"].as_str().unwrap().contains(min.as_str()));
                } else {
                    assert!(
                        r.status != StatusCode::UNAUTHORIZED
                            && r.status != StatusCode::FORBIDDEN
                            && r.status.as_u16() < 500
                            || r.status == StatusCode::SERVICE_UNAVAILABLE
                                && e.path == "/api/v1/wim",
                        "{} {path} as {user} ({role} >= {min}) was refused: {} {}",
                        e.method,
                        r.status,
                        String::from_utf8_lossy(&r.body)
                    );
                }
            }
        }
    }
}

/// What each endpoint must show each user.
async fn case(w: &World, e: &Endpoint) {
    match (e.method, e.path) {
        ("GET", "/healthz") => assert_eq!(w.call("GET", "/healthz", None, None).await.body, b"ok"),
        ("GET", "/metrics") => {
            let text = String::from_utf8(w.call("GET", "/metrics", None, None).await.body).unwrap();
            assert!(
                text.contains(
                    "xl_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"
                ),
                "{text}"
            );
            assert!(!text.contains("皖S"), "metrics carry no event data");
        }
        ("GET", "/api/v1/openapi.json") => {
            let doc = w
                .call("GET", "/api/v1/openapi.json", None, None)
                .await
                .json();
            for e in ENDPOINTS {
                assert!(
                    doc["paths"][e.path][e.method.to_lowercase()].is_object(),
                    "{} {} documented",
                    e.method,
                    e.path
                );
            }
        }
        ("GET", "/api/v1/me") => {
            for (user, dept, role) in USERS {
                let me = w.get("/api/v1/me", user).await.json();
                assert_eq!(
                    (
                        me["user_id"].as_str(),
                        me["department_id"].as_str(),
                        me["role"].as_str()
                    ),
                    (Some(user), Some(dept), Some(role.as_str()))
                );
            }
        }
        ("GET", "/api/v1/events") => search_sets(w).await,
        ("GET", "/api/v1/events/{id}") => details(w).await,
        ("POST", "/api/v1/events/{id}/review") => reviews(w).await,
        ("GET", "/api/v1/view-config") => {
            let config = w
                .call("GET", "/api/v1/view-config", None, None)
                .await
                .json();
            assert_eq!(config, json!({"tile_url": null, "tile_attribution": null}));
        }
        ("GET", "/api/v1/events/{id}/evidence/{index}") => evidence(w).await,
        ("GET", "/api/v1/plates/{plate}/trajectory") => trajectories(w).await,
        ("GET", "/api/v1/cameras") => {
            for (user, dept, role) in USERS {
                let r = w.get("/api/v1/cameras", user).await;
                assert!(
                    !String::from_utf8_lossy(&r.body).contains("rtsp://"),
                    "no stream URLs"
                );
                let seen: BTreeSet<String> = r.json()["cameras"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["id"].as_str().unwrap().to_string())
                    .collect();
                let mut want: BTreeSet<String> = expected_visible(dept, role)
                    .keys()
                    .map(|k| k.0.clone())
                    .collect();
                want.remove(support::UNREGISTERED);
                assert_eq!(seen, want, "cameras of {user}");
            }
        }
        ("GET", "/api/v1/live") => live(w).await,
        ("POST", "/api/v1/wim") => {
            let r = w
                .call(
                    "POST",
                    "/api/v1/wim",
                    Some(&w.tokens["police-analyst"]),
                    Some(&json!({"station_id": 5})),
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "a malformed record is refused with its field"
            );
        }
        ("GET", "/api/v1/wim/stats") => {
            assert!(w.get("/api/v1/wim/stats", "police-viewer").await.json()["malformed"].is_u64())
        }
        ("GET", "/api/v1/audit") => {
            w.state.audit.flush().await;
            for (user, dept, role) in USERS.into_iter().filter(|u| u.2 >= Role::Supervisor) {
                let records = w.get("/api/v1/audit?limit=1000", user).await.json()["records"]
                    .as_array()
                    .unwrap()
                    .clone();
                assert!(!records.is_empty());
                let departments: BTreeSet<&str> = records
                    .iter()
                    .map(|r| r["department_id"].as_str().unwrap())
                    .collect();
                if role == Role::Admin {
                    assert!(
                        departments.len() >= 3,
                        "admins see every department's records: {departments:?}"
                    );
                } else {
                    assert_eq!(
                        departments,
                        BTreeSet::from([dept]),
                        "{user} sees only their department's records"
                    );
                }
            }
        }
        ("GET", "/api/v1/admin/users") => {
            let users = w.get("/api/v1/admin/users", "root").await.json()["users"]
                .as_array()
                .unwrap()
                .len();
            assert!(users >= USERS.len());
        }
        ("POST", "/api/v1/admin/users") => {
            let token = &w.tokens["root"];
            let r = w
                .call(
                    "POST",
                    "/api/v1/admin/users",
                    Some(token),
                    Some(
                        &json!({"id": "new-analyst", "department_id": "urban", "role": "analyst"}),
                    ),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED);
            let again = w
                .call(
                    "POST",
                    "/api/v1/admin/users",
                    Some(token),
                    Some(
                        &json!({"id": "new-analyst", "department_id": "urban", "role": "analyst"}),
                    ),
                )
                .await;
            assert_eq!(again.status, StatusCode::CONFLICT);
            let bad = w
                .call(
                    "POST",
                    "/api/v1/admin/users",
                    Some(token),
                    Some(&json!({"id": "x", "department_id": "nowhere", "role": "analyst"})),
                )
                .await;
            assert_eq!(
                bad.status,
                StatusCode::BAD_REQUEST,
                "{}",
                String::from_utf8_lossy(&bad.body)
            );
        }
        ("GET", "/api/v1/admin/grants") => {
            let grants = w.get("/api/v1/admin/grants", "root").await.json()["grants"]
                .as_array()
                .unwrap()
                .len();
            assert!(grants >= 5);
        }
        ("POST", "/api/v1/admin/grants") => grant_round_trip(w).await,
        ("DELETE", "/api/v1/admin/grants/{id}") => {
            let r = w
                .call(
                    "DELETE",
                    "/api/v1/admin/grants/g-unknown",
                    Some(&w.tokens["root"]),
                    None,
                )
                .await;
            assert_eq!(r.status, StatusCode::NOT_FOUND);
        }
        ("PUT", "/api/v1/admin/cameras/{id}") => {
            let r = w
                .call(
                    "PUT",
                    "/api/v1/admin/cameras/P1",
                    Some(&w.tokens["root"]),
                    Some(
                        &json!({"name": "camera P1", "department_id": "police", "share_level": 9}),
                    ),
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "share level 9 is refused"
            );
        }
        ("POST", "/api/v1/admin/tokens") => {
            let r = w
                .call(
                    "POST",
                    "/api/v1/admin/tokens",
                    Some(&w.tokens["root"]),
                    Some(&json!({"user_id": "urban-viewer"})),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED);
            let issued = r.json();
            let token = issued["token"].as_str().unwrap();
            assert_eq!(
                w.call("GET", "/api/v1/me", Some(token), None).await.status,
                StatusCode::OK
            );
            let id = issued["id"].as_str().unwrap();
            let revoke = w
                .call(
                    "DELETE",
                    &format!("/api/v1/admin/tokens/{id}"),
                    Some(&w.tokens["root"]),
                    None,
                )
                .await;
            assert_eq!(revoke.status, StatusCode::NO_CONTENT);
            assert_eq!(
                w.call("GET", "/api/v1/me", Some(token), None).await.status,
                StatusCode::UNAUTHORIZED,
                "a revoked token stops working at once"
            );
        }
        ("DELETE", "/api/v1/admin/tokens/{id}") => {
            let r = w
                .call(
                    "DELETE",
                    "/api/v1/admin/tokens/0000000000000000",
                    Some(&w.tokens["root"]),
                    None,
                )
                .await;
            assert_eq!(r.status, StatusCode::NOT_FOUND);
        }
        ("POST", "/api/v1/hooks") => hook_round_trip(w).await,
        ("GET", "/api/v1/hooks") => {
            // Each supervisor's subscription is theirs alone; admins see all of them.
            for user in [
                "police-supervisor",
                "traffic-supervisor",
                "urban-supervisor",
            ] {
                let r = w
                    .call(
                        "POST",
                        "/api/v1/hooks",
                        Some(&w.tokens[user]),
                        Some(
                            &json!({"target": "http://127.0.0.1:9/list", "kinds": ["flow_count"]}),
                        ),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::CREATED);
            }
            let mine = w.get("/api/v1/hooks", "traffic-supervisor").await.json();
            for h in mine["hooks"].as_array().unwrap() {
                assert_eq!(h["owner_user"], "traffic-supervisor", "{h}");
                assert!(
                    h.get("secret").is_none(),
                    "secrets are shown once, at creation"
                );
            }
            let all = w.get("/api/v1/hooks", "root").await.json();
            let owners: BTreeSet<&str> = all["hooks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["owner_user"].as_str().unwrap())
                .collect();
            assert!(owners.len() >= 3, "admins see every owner's: {owners:?}");
        }
        ("POST", "/api/v1/hooks/{id}/pause")
        | ("POST", "/api/v1/hooks/{id}/resume")
        | ("POST", "/api/v1/hooks/{id}/redeliver")
        | ("DELETE", "/api/v1/hooks/{id}") => {
            let path = e.path.replace("{id}", "hk_unknown");
            let body = (e.body == Some("Redeliver")).then(|| json!({"dead": true}));
            let r = w
                .call(e.method, &path, Some(&w.tokens["root"]), body.as_ref())
                .await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{} {path}", e.method);
        }
        (method, path) => panic!("endpoint {method} {path} has no authorization matrix case"),
    }
}

/// Search without filters, by plate, by camera and by kind: exactly the expected set.
async fn search_sets(w: &World) {
    for (user, dept, role) in USERS {
        let expected = expected_visible(dept, role);
        let all = w.get("/api/v1/events?limit=1000", user).await.json();
        let seen = w.seen(all["events"].as_array().unwrap(), &expected);
        assert_eq!(seen, keys(&expected), "events visible to {user}");
        for ev in &w.events {
            let plate = &ev.plate.as_ref().unwrap().text;
            let r = w
                .get(&format!("/api/v1/events?plate={}", url_escape(plate)), user)
                .await
                .json();
            let found = w.seen(r["events"].as_array().unwrap(), &expected);
            let key = (ev.camera_id.clone(), ev.kind.as_str());
            let searchable = expected.get(&key).is_some_and(|m| !m.plate);
            assert_eq!(
                !found.is_empty(),
                searchable,
                "{user} searching {plate} ({key:?})"
            );
            let by_camera = w
                .get(
                    &format!(
                        "/api/v1/events?camera={}&kind={}",
                        ev.camera_id,
                        ev.kind.as_str()
                    ),
                    user,
                )
                .await
                .json();
            assert_eq!(
                by_camera["events"].as_array().unwrap().len(),
                usize::from(expected.contains_key(&key)),
                "{user} camera+kind {key:?}"
            );
        }
        // Keyset pages of one cover the same set.
        let mut paged = BTreeSet::new();
        let mut after: Option<String> = None;
        loop {
            let uri = match &after {
                Some(a) => format!("/api/v1/events?limit=1&after={a}"),
                None => "/api/v1/events?limit=1".into(),
            };
            let page = w.get(&uri, user).await.json();
            paged.extend(w.seen(page["events"].as_array().unwrap(), &expected));
            match page["next_after"].as_str() {
                Some(a) => after = Some(a.to_string()),
                None => break,
            }
        }
        assert_eq!(paged, keys(&expected), "paged events of {user}");
    }
}

async fn trajectories(w: &World) {
    for (user, dept, role) in USERS.into_iter().filter(|u| u.2 >= Role::Analyst) {
        let expected = expected_visible(dept, role);
        for ev in &w.events {
            let plate = &ev.plate.as_ref().unwrap().text;
            let r = w
                .get(
                    &format!("/api/v1/plates/{}/trajectory", url_escape(plate)),
                    user,
                )
                .await;
            assert_eq!(r.status, StatusCode::OK);
            let reads = r.json()["reads"].as_array().unwrap().len();
            let key = (ev.camera_id.clone(), ev.kind.as_str());
            let want = usize::from(expected.get(&key).is_some_and(|m| !m.plate));
            assert_eq!(reads, want, "{user}: trajectory of {plate} ({key:?})");
        }
    }
}

/// A supervisor's subscription: created with its secret shown once, invisible and untouchable
/// to another department's supervisor, paused, resumed, redelivered and deleted by its owner.
async fn hook_round_trip(w: &World) {
    let owner = &w.tokens["police-supervisor"];
    let other = &w.tokens["traffic-supervisor"];
    let bad = w
        .call(
            "POST",
            "/api/v1/hooks",
            Some(owner),
            Some(&json!({"target": "ftp://u:hunter2@x/y"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(!String::from_utf8_lossy(&bad.body).contains("hunter2"));
    let created = w
        .call(
            "POST",
            "/api/v1/hooks",
            Some(owner),
            Some(&json!({"target": "https://u:pw@dispatch.example/xl", "kinds": ["watchlist_hit"], "plates": ["皖S*"]})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let created = created.json();
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    assert!(
        !created["target"].as_str().unwrap().contains("pw@"),
        "{created}"
    );
    let id = created["id"].as_str().unwrap();
    let listed = |token: &str| {
        let token = token.to_string();
        async move {
            w.call("GET", "/api/v1/hooks", Some(&token), None)
                .await
                .json()["hooks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["id"] == id)
        }
    };
    assert!(listed(owner).await);
    assert!(
        !listed(other).await,
        "another department's supervisor cannot see it"
    );
    let path = |action: &str| format!("/api/v1/hooks/{id}/{action}");
    for action in ["pause", "resume"] {
        let r = w.call("POST", &path(action), Some(other), None).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{action} by another department"
        );
    }
    let r = w.call("POST", &path("pause"), Some(owner), None).await;
    assert_eq!(r.json()["state"], "paused");
    let r = w.call("POST", &path("resume"), Some(owner), None).await;
    assert_eq!(r.json()["state"], "active");
    let r = w
        .call(
            "POST",
            &path("redeliver"),
            Some(owner),
            Some(&json!({"dead": true})),
        )
        .await;
    assert_eq!(r.json()["queued"], 0);
    let r = w
        .call(
            "POST",
            &path("redeliver"),
            Some(owner),
            Some(&json!({"from": "2026-11-29T10:00:00+08:00", "to": "2026-11-29T09:00:00+08:00"})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "an empty range is refused"
    );
    let gone = format!("/api/v1/hooks/{id}");
    assert_eq!(
        w.call("DELETE", &gone, Some(other), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.call("DELETE", &gone, Some(owner), None).await.status,
        StatusCode::NO_CONTENT
    );
    assert!(!listed(owner).await, "deleted");
    assert_eq!(
        w.call("POST", &path("pause"), Some(owner), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn grant_round_trip(w: &World) {
    let root = &w.tokens["root"];
    let before = w
        .get("/api/v1/events?camera=U1", "traffic-viewer")
        .await
        .json()["events"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, 0, "traffic does not see urban's camera");
    let r = w.call("POST", "/api/v1/admin/grants", Some(root), Some(&json!({"owner_department": "urban", "grantee_department": "traffic", "max_level": 1, "kinds": ["plate_read"]}))).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let id = r.json()["id"].as_str().unwrap().to_string();
    let during = w
        .get("/api/v1/events?camera=U1", "traffic-viewer")
        .await
        .json()["events"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(during, 1, "the new grant shows urban's plate read (only)");
    let revoke = w
        .call(
            "DELETE",
            &format!("/api/v1/admin/grants/{id}"),
            Some(root),
            None,
        )
        .await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT);
    let after = w
        .get("/api/v1/events?camera=U1", "traffic-viewer")
        .await
        .json()["events"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(after, 0, "revoking takes effect at once");
    let bad = w.call("POST", "/api/v1/admin/grants", Some(root), Some(&json!({"owner_department": "urban", "grantee_department": "urban", "max_level": 1}))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let unknown_field = w.call("POST", "/api/v1/admin/grants", Some(root), Some(&json!({"owner_department": "urban", "grantee_department": "traffic", "max_level": "high"}))).await;
    assert_eq!(unknown_field.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown_field.json()["field"], "max_level");
}

/// Every user opens the live feed; every event is published; each stream carries exactly the
/// user's visible set, masked.
async fn live(w: &World) {
    let mut streams = Vec::new();
    for (user, dept, role) in USERS {
        let req = Request::get("/api/v1/live")
            .header("authorization", format!("Bearer {}", w.tokens[user]))
            .body(Body::empty())
            .unwrap();
        let response = w.router.clone().oneshot(req).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        streams.push((user, expected_visible(dept, role), response.into_body()));
    }
    for ev in &w.events {
        w.state.live.send(ev.clone()).unwrap();
    }
    for (user, expected, mut body) in streams {
        let mut text = String::new();
        while let Ok(Some(Ok(frame))) =
            tokio::time::timeout(Duration::from_millis(300), body.frame()).await
        {
            if let Some(data) = frame.data_ref() {
                text.push_str(&String::from_utf8_lossy(data));
            }
        }
        let events: Vec<Value> = text
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .map(|d| serde_json::from_str(d).unwrap())
            .collect();
        let seen = w.seen(&events, &expected);
        assert_eq!(seen, keys(&expected), "live events of {user}");
        assert_eq!(events.len(), expected.len());
    }
}

async fn details_and_evidence(w: &World) {
    details(w).await;
    evidence(w).await;
}

/// Every event to every user: 200 and masked as granted when visible, else 404.
async fn details(w: &World) {
    for (user, dept, role) in USERS {
        let expected = expected_visible(dept, role);
        for ev in &w.events {
            let r = w.get(&format!("/api/v1/events/{}", ev.id), user).await;
            let key = (ev.camera_id.clone(), ev.kind.as_str());
            match expected.get(&key) {
                Some(_) => {
                    assert_eq!(r.status, StatusCode::OK, "{user} sees {key:?}");
                    let seen = w.seen(&[r.json()], &expected);
                    assert_eq!(seen.len(), 1);
                }
                None => assert_eq!(
                    r.status,
                    StatusCode::NOT_FOUND,
                    "{user} must not see {key:?}"
                ),
            }
        }
    }
}

/// Reviews: an analyst or above reviews the violations in their scope (201, then listed in the
/// event's detail, history kept); out of scope answers 404 as a read would; a plate read is an
/// observation (400); a dismissal without a reason and an unknown decision are refused by field.
/// Every attempt is audited with its outcome.
async fn reviews(w: &World) {
    let post = |id: uuid::Uuid, user: &str, body: Value| {
        let token = w.tokens[user].clone();
        async move {
            w.call(
                "POST",
                &format!("/api/v1/events/{id}/review"),
                Some(&token),
                Some(&body),
            )
            .await
        }
    };
    for (user, dept, role) in USERS.into_iter().filter(|u| u.2 >= Role::Analyst) {
        let expected = expected_visible(dept, role);
        for ev in &w.events {
            let key = (ev.camera_id.clone(), ev.kind.as_str());
            let want = match (expected.contains_key(&key), ev.kind) {
                (false, _) => StatusCode::NOT_FOUND,
                (true, xl_schema::EventKind::PlateRead) => StatusCode::BAD_REQUEST,
                (true, _) => StatusCode::CREATED,
            };
            let reason = format!("checked by {user}");
            let r = post(
                ev.id,
                user,
                json!({"decision": "confirm", "reason": reason}),
            )
            .await;
            assert_eq!(
                r.status,
                want,
                "{user} reviews {key:?}: {}",
                String::from_utf8_lossy(&r.body)
            );
            if want == StatusCode::CREATED {
                assert_eq!(r.json()["user_id"], user);
                let detail = w
                    .get(&format!("/api/v1/events/{}", ev.id), user)
                    .await
                    .json();
                let last = detail["reviews"]
                    .as_array()
                    .unwrap()
                    .last()
                    .unwrap()
                    .clone();
                assert_eq!(
                    (
                        last["decision"].as_str(),
                        last["reason"].as_str(),
                        last["department_id"].as_str()
                    ),
                    (Some("confirm"), Some(reason.as_str()), Some(dept))
                );
            }
        }
    }
    let hit = w
        .events
        .iter()
        .find(|e| e.kind == xl_schema::EventKind::WatchlistHit)
        .unwrap();
    let before = w
        .get(&format!("/api/v1/events/{}", hit.id), "root")
        .await
        .json()["reviews"]
        .as_array()
        .unwrap()
        .len();
    for (body, field) in [
        (json!({"decision": "dismiss"}), "reason"),
        (json!({"decision": "dismiss", "reason": "  "}), "reason"),
        (json!({"decision": "maybe"}), "decision"),
        (json!({"decision": "confirm", "note": "x"}), "note"),
        (
            json!({"decision": "confirm", "reason": "长".repeat(501)}),
            "reason",
        ),
    ] {
        let r = post(hit.id, "root", body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.json()["field"], field, "{body}");
    }
    let r = post(
        hit.id,
        "root",
        json!({"decision": "dismiss", "reason": "plate misread: 8 for B"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let after = w
        .get(&format!("/api/v1/events/{}", hit.id), "root")
        .await
        .json()["reviews"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(after.len(), before + 1, "history is kept: {after:?}");
    assert_eq!(after.last().unwrap()["decision"], "dismiss");
    w.state.audit.flush().await;
    let mut records = Vec::new();
    loop {
        let filter = xl_store::AuditFilter {
            department_id: None,
            after_seq: records.last().map(|r: &xl_store::StoredAudit| r.seq),
            limit: 10_000,
        };
        let page = w.tiers.hot.audit_records(&filter).await.unwrap();
        if page.is_empty() {
            break;
        }
        records.extend(page);
    }
    let outcomes: BTreeSet<(&str, &str)> = records
        .iter()
        .filter(|r| r.record.action == "events.review")
        .map(|r| (r.record.resource.as_str(), r.record.outcome.as_str()))
        .collect();
    let resource = format!("event:{}", hit.id);
    for outcome in ["ok", "invalid"] {
        assert!(
            outcomes.contains(&(resource.as_str(), outcome)),
            "review of {resource} audited as {outcome}: {outcomes:?}"
        );
    }
}

/// Every event's evidence to every analyst and above: the bytes when visible and unmasked, 403
/// when masked, 404 when out of scope.
async fn evidence(w: &World) {
    for (user, dept, role) in USERS.into_iter().filter(|u| u.2 >= Role::Analyst) {
        let expected = expected_visible(dept, role);
        for ev in &w.events {
            let r = w
                .get(&format!("/api/v1/events/{}/evidence/0", ev.id), user)
                .await;
            let key = (ev.camera_id.clone(), ev.kind.as_str());
            match expected.get(&key) {
                Some(m) if m.plate || m.evidence => assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{user}: evidence of {key:?} is withheld"
                ),
                Some(_) => {
                    assert_eq!(
                        r.status,
                        StatusCode::OK,
                        "{user} downloads evidence of {key:?}"
                    );
                    assert_eq!(r.content_type, "image/jpeg");
                    assert_eq!(r.body, w.evidence[&ev.id]);
                }
                None => assert_eq!(
                    r.status,
                    StatusCode::NOT_FOUND,
                    "{user} must not reach evidence of {key:?}"
                ),
            }
            let beyond = w
                .get(&format!("/api/v1/events/{}/evidence/5", ev.id), user)
                .await;
            assert!(matches!(
                beyond.status,
                StatusCode::NOT_FOUND | StatusCode::FORBIDDEN
            ));
        }
    }
}

/// The hot store's own query (before any masking or re-check in Rust) returns exactly the
/// visible set, and a search by plate never matches through a plate-masking grant: the scope
/// is enforced inside the SQL.
async fn sql_enforces_scope(w: &World) {
    for (user, dept, role) in USERS {
        let expected = expected_visible(dept, role);
        let principal = xl_store::Principal {
            user_id: user.into(),
            token_id: String::new(),
            department_id: dept.into(),
            role,
        };
        let vis = xl_store::Visibility::new(principal, chrono::Utc::now().timestamp_millis());
        let all = w
            .tiers
            .hot
            .query(&xl_store::EventQuery {
                limit: 1000,
                visibility: Some(vis.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        let seen: BTreeSet<(String, String)> = all
            .iter()
            .map(|e| (e.camera_id.clone(), e.kind.as_str().to_string()))
            .collect();
        assert_eq!(seen, keys(&expected), "SQL visible set of {user}");
        for ev in &w.events {
            let found = w
                .tiers
                .hot
                .query(&xl_store::EventQuery {
                    plate: ev.plate.as_ref().map(|p| p.text.clone()),
                    visibility: Some(vis.clone()),
                    ..Default::default()
                })
                .await
                .unwrap();
            let key = (ev.camera_id.clone(), ev.kind.as_str());
            let searchable = expected.get(&key).is_some_and(|m| !m.plate);
            assert_eq!(
                !found.is_empty(),
                searchable,
                "SQL plate search of {user} for {key:?}"
            );
        }
    }
}
