//! Property test driven by the served OpenAPI document: for every documented operation,
//! requests with random and hostile parameters, bodies and tokens. No answer may be a 5xx
//! (the WIM intake's 503 "pipelines not running" aside), leak internals, or carry an event the
//! caller may not see or a field their grant masks.
use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use xl_store::Masks;

#[path = "support/world.rs"]
mod support;
use support::{expected_visible, url_escape, world, Backend, World, USERS};

const ROUNDS_PER_OPERATION: usize = 60;

fn hostile_strings(w: &World) -> Vec<String> {
    let mut pool: Vec<String> = [
        "",
        " ",
        "0",
        "-1",
        "1e309",
        "null",
        "true",
        "[]",
        "{}",
        "' OR '1'='1",
        "1; DROP TABLE events;--",
        "../../../../etc/passwd",
        "%00",
        "\u{0}",
        "皖S",
        "皖S1",
        "皖S00000",
        "😀",
        "P1",
        "U1",
        "X9",
        "plate_read",
        "watchlist_hit",
        "flow_count",
        "2026-11-29T08:00:00+08:00",
        "2026-13-45T99:00:00Z",
        "1700000000000:not-a-uuid",
        "9223372036854775807",
        "-9223372036854775808",
        "99999999999999999999",
        "xl_0000000000000000_0000",
        "g-0000000000000000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    pool.push("A".repeat(5000));
    pool.push(uuid::Uuid::now_v7().to_string());
    for e in w.events.iter().take(6) {
        pool.push(e.id.to_string());
        pool.push(e.plate.as_ref().unwrap().text.clone());
        pool.push(format!("{}:{}", e.ts.timestamp_millis(), e.id));
    }
    pool
}

fn random_value(rng: &mut ChaCha8Rng, pool: &[String]) -> Value {
    match rng.gen_range(0..6) {
        0 => json!(rng.gen_range(-5i64..10)),
        1 => json!(rng.gen::<bool>()),
        2 => Value::Null,
        3 => json!([pool.choose(rng).unwrap()]),
        _ => json!(pool.choose(rng).unwrap()),
    }
}

fn random_body(rng: &mut ChaCha8Rng, schema: &Value, pool: &[String]) -> String {
    match rng.gen_range(0..5) {
        0 => ["", "{", "[]", "null", "\"x\"", "{\"a\":"]
            .choose(rng)
            .unwrap()
            .to_string(),
        _ => {
            let mut body = serde_json::Map::new();
            if let Some(props) = schema["properties"].as_object() {
                for name in props.keys() {
                    if rng.gen_bool(0.8) {
                        body.insert(name.clone(), random_value(rng, pool));
                    }
                }
            }
            if rng.gen_bool(0.2) {
                body.insert("unexpected".into(), json!(1));
            }
            Value::Object(body).to_string()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_operation_fails_or_leaks_under_random_input() {
    let w = world(Backend::Sqlite).await;
    let doc = w
        .call("GET", "/api/v1/openapi.json", None, None)
        .await
        .json();
    let pool = hostile_strings(&w);
    let mut rng = ChaCha8Rng::seed_from_u64(20261129);
    let secrets: Vec<&str> = w
        .tokens
        .values()
        .map(|t| t.rsplit('_').next().unwrap())
        .collect();
    let mut requests = 0;
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method = method.to_uppercase();
            for _ in 0..ROUNDS_PER_OPERATION {
                let mut uri = path.clone();
                let mut query = Vec::new();
                for p in op["parameters"].as_array().unwrap() {
                    let name = p["name"].as_str().unwrap();
                    let value = pool.choose(&mut rng).unwrap();
                    if p["in"] == "path" {
                        uri = uri.replace(&format!("{{{name}}}"), &url_escape(value));
                    } else if rng.gen_bool(0.5) {
                        query.push(format!("{name}={}", url_escape(value)));
                    }
                }
                if rng.gen_bool(0.1) {
                    query.push("bogus=1".into());
                }
                if !query.is_empty() {
                    uri = format!("{uri}?{}", query.join("&"));
                }
                let (user, dept, role) = *USERS.choose(&mut rng).unwrap();
                let token = match rng.gen_range(0..10) {
                    0 => None,
                    1 => Some("xl_0123456789abcdef_".to_string() + &"0".repeat(64)),
                    _ => Some(w.tokens[user].clone()),
                };
                let body = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                    .as_str()
                    .map(|r| {
                        let name = r.rsplit('/').next().unwrap();
                        random_body(&mut rng, &doc["components"]["schemas"][name], &pool)
                    });
                let reply = w.call_text(&method, &uri, token.as_deref(), body).await;
                requests += 1;
                *by_status.entry(reply.status.as_u16()).or_default() += 1;
                let wim_not_ready = path == "/api/v1/wim" && reply.status.as_u16() == 503;
                assert!(
                    reply.status.as_u16() < 500 || wim_not_ready,
                    "{method} {uri} as {user}: {} {}",
                    reply.status,
                    String::from_utf8_lossy(&reply.body)
                );
                let text = String::from_utf8_lossy(&reply.body);
                for leak in [
                    "panicked",
                    "sqlx",
                    "SELECT ",
                    "INSERT ",
                    "stack backtrace",
                    "rtsp://",
                ] {
                    assert!(
                        !text.contains(leak),
                        "{method} {uri} leaks {leak:?}: {text}"
                    );
                }
                if token.as_deref() == Some(w.tokens[user].as_str())
                    && reply.status.is_success()
                    && reply.content_type.starts_with("application/json")
                {
                    let expected = expected_visible(dept, role);
                    check_scope(&w, &reply.json(), &expected, user);
                    if !path.contains("/admin/tokens") {
                        for s in &secrets {
                            assert!(!text.contains(s), "{method} {uri} returns a token secret");
                        }
                    }
                }
            }
        }
    }
    tracing::info!(requests, ?by_status, "fuzzed");
    assert!(requests > 1000);
    assert!(
        by_status.get(&200).copied().unwrap_or(0) > 100,
        "enough requests got through to test scope: {by_status:?}"
    );
}

/// Every event-shaped object in `value` is one the caller may see, masked as granted.
fn check_scope(
    w: &World,
    value: &Value,
    expected: &BTreeMap<(String, &'static str), Masks>,
    user: &str,
) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| check_scope(w, v, expected, user)),
        Value::Object(map) => {
            let id = map
                .get("id")
                .or_else(|| map.get("event_id"))
                .and_then(Value::as_str);
            if let (Some(id), Some(camera), Some(kind)) = (
                id,
                map.get("camera_id").and_then(Value::as_str),
                map.get("kind").and_then(Value::as_str),
            ) {
                if w.events.iter().any(|e| e.id.to_string() == id) {
                    let kind = xl_schema::EventKind::parse(kind).unwrap().as_str();
                    assert!(
                        expected.contains_key(&(camera.to_string(), kind)),
                        "{user} was shown {camera}/{kind}: {value}"
                    );
                    if map.contains_key("plate") {
                        w.seen(std::slice::from_ref(value), expected);
                    }
                }
            }
            map.values().for_each(|v| check_scope(w, v, expected, user));
        }
        _ => {}
    }
}
