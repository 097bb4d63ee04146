//! `POST /api/v1/wim` against the real overload fuser: accepted, duplicate, malformed (400 with
//! the field named, nothing stored), unknown station (422, counted), batches.
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use xl_api::{router, ApiDeps, ApiState};
use xl_rules::{
    LaneConfig, OverloadConfig, StationConfig, WimFuser, WimIngest, WimIntake, WimReject,
};
use xl_schema::WimRecord;
use xl_store::{AuditMode, Role, Store, Tiers};

struct FuserIntake(Mutex<WimFuser>);

impl WimIntake for FuserIntake {
    fn ingest(&self, record: WimRecord) -> Result<WimIngest, WimReject> {
        self.0.lock().unwrap().ingest(record)
    }
    fn is_ready(&self) -> bool {
        true
    }
}

/// The API with a store holding one analyst ("station") and their token.
struct Api {
    state: ApiState,
    token: String,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for Api {
    type Target = ApiState;
    fn deref(&self) -> &ApiState {
        &self.state
    }
}

async fn state() -> (Api, Arc<FuserIntake>) {
    let config = OverloadConfig {
        stations: vec![StationConfig {
            id: "WIM-01".into(),
            camera: "cam-1".into(),
            lanes: vec![LaneConfig {
                lane: 1,
                polygon: None,
            }],
        }],
        ..OverloadConfig::default()
    };
    let intake = Arc::new(FuserIntake(Mutex::new(WimFuser::new(config))));
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}/xl.db", dir.path().display()))
        .await
        .unwrap();
    store.add_department("traffic", "traffic").await.unwrap();
    store
        .add_user("station", "traffic", Role::Analyst)
        .await
        .unwrap();
    let token = store
        .create_token("station", "wim", None)
        .await
        .unwrap()
        .secret;
    let state = ApiState::new(ApiDeps {
        wim: intake.clone(),
        tiers: Tiers::new(store, None),
        evidence: None,
        live: tokio::sync::broadcast::channel(16).0,
        audit: AuditMode::Batched,
        rate_per_minute: 100_000,
        hooks: None,
        view: Default::default(),
    });
    (
        Api {
            state,
            token,
            _dir: dir,
        },
        intake,
    )
}

const GOOD: &str = r#"{"record_id":"r1","station_id":"WIM-01","lane":1,"ts":"2026-11-29T10:00:00+08:00","axles":3,"gross_kg":31000,"speed_kmh":62.5}"#;

async fn post(state: &Api, body: &str) -> (StatusCode, serde_json::Value) {
    let response = router(state.state.clone())
        .oneshot(
            Request::post("/api/v1/wim")
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {}", state.token))
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

fn pending(intake: &FuserIntake) -> usize {
    intake.0.lock().unwrap().pending()
}

#[tokio::test]
async fn accepts_a_record_once_and_recognises_the_repeat() {
    let (state, intake) = state().await;
    let (status, body) = post(&state, GOOD).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["results"][0]["status"], "accepted");
    let (status, body) = post(&state, GOOD).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body["results"][0]["status"], "duplicate");
    assert_eq!(pending(&intake), 1);
    let stats = state.counters.view();
    assert_eq!((stats.accepted, stats.duplicates), (1, 1));
}

#[tokio::test]
async fn malformed_records_name_the_field_and_store_nothing() {
    let (state, intake) = state().await;
    for (body, field) in [
        (GOOD.replace("31000", "\"31t\""), "gross_kg"),
        (GOOD.replace(r#""axles":3,"#, ""), "axles"),
        (
            GOOD.replace(r#""lane":1"#, r#""lane":1,"weight":2"#),
            "weight",
        ),
        (GOOD.replace("2026-11-29T10:00:00+08:00", "10:00"), "ts"),
        (GOOD.replace(r#""axles":3"#, r#""axles":0"#), "axles"),
        (
            format!("[{GOOD},{}]", GOOD.replace("62.5", "-4")),
            "[1].speed_kmh",
        ),
    ] {
        let (status, problem) = post(&state, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {problem}");
        assert_eq!(problem["field"], field, "{problem}");
        assert_eq!(problem["status"], 400);
        assert!(problem["detail"]
            .as_str()
            .is_some_and(|d| !d.contains("line 1")));
    }
    let (status, _) = post(&state, "{not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(pending(&intake), 0, "nothing stored");
    assert_eq!(state.counters.view().accepted, 0);
}

#[tokio::test]
async fn unknown_stations_are_refused_and_counted() {
    let (state, intake) = state().await;
    let (status, problem) = post(&state, &GOOD.replace("WIM-01", "WIM-99")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["field"], "station_id");
    let (status, _) = post(&state, &GOOD.replace(r#""lane":1"#, r#""lane":4"#)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(state.counters.view().unknown_station, 1);
    assert_eq!(pending(&intake), 0);
    // In a batch, the good records are taken and the bad one is listed.
    let batch = format!(
        "[{GOOD},{}]",
        GOOD.replace("WIM-01", "WIM-99").replace("r1", "r2")
    );
    let (status, body) = post(&state, &batch).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["results"][0]["status"], "accepted");
    assert_eq!(body["results"][1]["status"], "rejected");
    assert_eq!(body["results"][1]["field"], "station_id");
    assert_eq!(pending(&intake), 1);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let (state, _) = state().await;
    let huge = format!("[{}]", vec![GOOD; 4000].join(","));
    let (status, _) = post(&state, &huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}
