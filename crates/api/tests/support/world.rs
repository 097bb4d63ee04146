//! A small county for API tests: three departments, five cameras at different share levels,
//! grants of every relationship (plain, kind-limited with masked plates, expired, masked
//! evidence, revoked), users of every role, and two events per camera with evidence.
//!
//! `expected_visible` is the same rule written out by hand, camera by camera: the tests compare
//! the API's answers with it.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Duration, FixedOffset};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use uuid::Uuid;
use xl_api::{router, ApiDeps, ApiState};
use xl_rules::{WimIngest, WimIntake, WimReject};
use xl_schema::{Event, EventKind, WimRecord};
use xl_store::cold::ColdEvents;
use xl_store::{AuditMode, CameraRecord, EvidenceStore, Masks, NewGrant, Role, Store, Tiers};

#[path = "../../../store/tests/support/pg.rs"]
pub mod pg;

#[path = "../../../store/tests/support/events.rs"]
mod events;

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub enum Guard {
    Sqlite,
    Postgres(pg::FreshDb),
}

/// Not ready: WIM posts answer 503 once authorised (the pipelines are not running).
struct NoPipelines;

impl WimIntake for NoPipelines {
    fn ingest(&self, _: WimRecord) -> Result<WimIngest, WimReject> {
        Err(WimReject::Invalid("no pipelines".into()))
    }
    fn is_ready(&self) -> bool {
        false
    }
}

pub const DEPARTMENTS: [&str; 3] = ["police", "traffic", "urban"];

/// (camera, owner, share level)
pub const CAMERAS: [(&str, &str, u8); 5] = [
    ("P1", "police", 1),
    ("P3", "police", 3),
    ("T1", "traffic", 1),
    ("T2", "traffic", 2),
    ("U1", "urban", 1),
];

/// An event from a camera nobody registered: only admins see it.
pub const UNREGISTERED: &str = "X9";

pub const KINDS: [EventKind; 2] = [EventKind::PlateRead, EventKind::WatchlistHit];

/// (user, department, role)
pub const USERS: [(&str, &str, Role); 10] = [
    ("police-viewer", "police", Role::Viewer),
    ("police-analyst", "police", Role::Analyst),
    ("police-supervisor", "police", Role::Supervisor),
    ("traffic-viewer", "traffic", Role::Viewer),
    ("traffic-analyst", "traffic", Role::Analyst),
    ("traffic-supervisor", "traffic", Role::Supervisor),
    ("urban-viewer", "urban", Role::Viewer),
    ("urban-analyst", "urban", Role::Analyst),
    ("urban-supervisor", "urban", Role::Supervisor),
    ("root", "police", Role::Admin),
];

const PLATE_ONLY: Masks = Masks {
    plate: true,
    evidence: false,
};
const EVIDENCE_ONLY: Masks = Masks {
    plate: false,
    evidence: true,
};
const NONE: Masks = Masks {
    plate: false,
    evidence: false,
};

/// What each department sees, written out from the grants below: (camera, kind) -> masks.
pub fn expected_visible(department: &str, role: Role) -> BTreeMap<(String, &'static str), Masks> {
    let (pr, wl) = ("plate_read", "watchlist_hit");
    let rows: Vec<(&str, &'static str, Masks)> = if role == Role::Admin {
        CAMERAS
            .iter()
            .map(|c| c.0)
            .chain([UNREGISTERED])
            .flat_map(|c| [(c, pr, NONE), (c, wl, NONE)])
            .collect()
    } else {
        match department {
            // Own cameras at every level; traffic's plate reads up to level 2 with masked
            // plates; urban's grant expired.
            "police" => vec![
                (("P1"), pr, NONE),
                ("P1", wl, NONE),
                ("P3", pr, NONE),
                ("P3", wl, NONE),
                ("T1", pr, PLATE_ONLY),
                ("T2", pr, PLATE_ONLY),
            ],
            // Own cameras; police's level-1 cameras, every kind, unmasked; urban's grant revoked.
            "traffic" => vec![
                ("T1", pr, NONE),
                ("T1", wl, NONE),
                ("T2", pr, NONE),
                ("T2", wl, NONE),
                ("P1", pr, NONE),
                ("P1", wl, NONE),
            ],
            // Own camera; police's watch-list hits at every level, without evidence.
            "urban" => vec![
                ("U1", pr, NONE),
                ("U1", wl, NONE),
                ("P1", wl, EVIDENCE_ONLY),
                ("P3", wl, EVIDENCE_ONLY),
            ],
            other => panic!("unknown department {other}"),
        }
    };
    rows.into_iter()
        .map(|(c, k, m)| ((c.to_string(), k), m))
        .collect()
}

pub struct World {
    pub router: Router,
    pub state: ApiState,
    pub tiers: Tiers,
    /// user -> bearer token
    pub tokens: HashMap<String, String>,
    /// Tokens that must be refused: revoked, expired, of a disabled user, malformed.
    pub bad_tokens: Vec<(String, &'static str)>,
    pub events: Vec<Event>,
    /// event id -> evidence bytes
    pub evidence: HashMap<Uuid, Vec<u8>>,
    pub dir: tempfile::TempDir,
    pub guard: Guard,
}

pub fn t0() -> DateTime<FixedOffset> {
    (chrono::Utc::now() - Duration::days(3)).with_timezone(&xl_schema::china_offset())
}

/// The `i`-th event of the world: one plate each, seven seconds apart.
fn event(i: usize, camera: &str, kind: EventKind) -> Event {
    let ts = t0() + Duration::seconds(i as i64 * 7);
    events::event(kind, camera, &format!("皖S{:05}", 10_000 + i), ts)
}

pub async fn world(backend: Backend) -> World {
    world_with_rate(backend, 1_000_000).await
}

/// The world with `rate_per_minute` requests per minute per token.
pub async fn world_with_rate(backend: Backend, rate_per_minute: u32) -> World {
    let dir = tempfile::tempdir().unwrap();
    let (url, guard) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}/xl.db", dir.path().display()),
            Guard::Sqlite,
        ),
        Backend::Postgres => {
            let db = pg::FreshDb::new("api");
            (db.url(), Guard::Postgres(db))
        }
    };
    let store = Store::open(&url).await.unwrap();
    for d in DEPARTMENTS {
        store.add_department(d, d).await.unwrap();
    }
    for (id, dept, level) in CAMERAS {
        let camera = CameraRecord {
            id: id.into(),
            name: format!("camera {id}"),
            department_id: dept.into(),
            share_level: level,
            lat: Some(31.0),
            lon: Some(117.0),
        };
        store.upsert_camera(&camera).await.unwrap();
    }
    let now = chrono::Utc::now().timestamp_millis();
    let grant = |from: &str,
                 to: &str,
                 level: u8,
                 kinds: Vec<EventKind>,
                 masks: Masks,
                 expires_ms: Option<i64>| NewGrant {
        owner_department: from.into(),
        grantee_department: to.into(),
        max_level: level,
        kinds,
        masks,
        expires_ms,
    };
    store
        .create_grant(&grant("police", "traffic", 1, vec![], NONE, None), "setup")
        .await
        .unwrap();
    store
        .create_grant(
            &grant(
                "traffic",
                "police",
                2,
                vec![EventKind::PlateRead],
                PLATE_ONLY,
                None,
            ),
            "setup",
        )
        .await
        .unwrap();
    store
        .create_grant(
            &grant("urban", "police", 3, vec![], NONE, Some(now - 3_600_000)),
            "setup",
        )
        .await
        .unwrap();
    store
        .create_grant(
            &grant(
                "police",
                "urban",
                3,
                vec![EventKind::WatchlistHit],
                EVIDENCE_ONLY,
                None,
            ),
            "setup",
        )
        .await
        .unwrap();
    let revoked = store
        .create_grant(&grant("urban", "traffic", 3, vec![], NONE, None), "setup")
        .await
        .unwrap();
    store.revoke_grant(&revoked.id).await.unwrap();

    let mut tokens = HashMap::new();
    for (user, dept, role) in USERS {
        store.add_user(user, dept, role).await.unwrap();
        tokens.insert(
            user.to_string(),
            store.create_token(user, "test", None).await.unwrap().secret,
        );
    }
    let mut bad_tokens = Vec::new();
    let revoked_token = store
        .create_token("police-analyst", "revoked", None)
        .await
        .unwrap();
    store.revoke_token(&revoked_token.id).await.unwrap();
    bad_tokens.push((revoked_token.secret, "revoked"));
    let expired = store
        .create_token("traffic-analyst", "expired", Some(now - 1000))
        .await
        .unwrap();
    bad_tokens.push((expired.secret, "expired"));
    store
        .add_user("urban-gone", "urban", Role::Analyst)
        .await
        .unwrap();
    let gone = store
        .create_token("urban-gone", "disabled user", None)
        .await
        .unwrap();
    store
        .update_user("urban-gone", None, Some(true))
        .await
        .unwrap();
    bad_tokens.push((gone.secret, "disabled user"));
    let good = tokens["police-analyst"].clone();
    let forged = format!(
        "{}{}",
        &good[..good.len() - 1],
        if good.ends_with('0') { '1' } else { '0' }
    );
    bad_tokens.push((forged, "wrong secret"));
    bad_tokens.push(("not-a-token".into(), "malformed"));

    let evidence_store =
        EvidenceStore::open(&dir.path().join("evidence").display().to_string()).unwrap();
    let mut events = Vec::new();
    let mut evidence = HashMap::new();
    let cameras: Vec<&str> = CAMERAS.iter().map(|c| c.0).chain([UNREGISTERED]).collect();
    for (ci, camera) in cameras.iter().enumerate() {
        for (ki, kind) in KINDS.iter().enumerate() {
            let mut e = event(ci * 2 + ki, camera, *kind);
            let bytes = format!("JPEG evidence of {}", e.id).into_bytes();
            let (store, e2, b2) = (evidence_store.clone(), e.clone(), bytes.clone());
            let uri = tokio::task::spawn_blocking(move || {
                store.put(&e2.camera_id, e2.id, e2.ts, "frame.jpg", &b2)
            })
            .await
            .unwrap()
            .unwrap();
            e.evidence.push(xl_schema::Evidence {
                kind: xl_schema::EvidenceKind::FrameJpeg,
                uri,
            });
            evidence.insert(e.id, bytes);
            events.push(e);
        }
    }
    store.insert_events(&events).await.unwrap();

    let cold = ColdEvents::new(
        xl_store::open_object_store(&dir.path().join("cold").display().to_string()).unwrap(),
    );
    let tiers = Tiers::new(store, Some(cold));
    let (live, _) = tokio::sync::broadcast::channel(1024);
    let state = ApiState::new(ApiDeps {
        wim: Arc::new(NoPipelines),
        tiers: tiers.clone(),
        evidence: Some(evidence_store),
        live,
        audit: AuditMode::Batched,
        rate_per_minute,
        hooks: None,
        view: Default::default(),
    });
    World {
        router: router(state.clone()),
        state,
        tiers,
        tokens,
        bad_tokens,
        events,
        evidence,
        dir,
        guard,
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
    pub content_type: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

impl World {
    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        self.call_text(method, uri, token, body.map(Value::to_string))
            .await
    }

    /// As `call`, with the body sent exactly as given (malformed JSON included).
    pub async fn call_text(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b)),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let response = self.router.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        // A live stream never ends: only its headers are looked at here.
        let body = if content_type.starts_with("text/event-stream") {
            Vec::new()
        } else {
            response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec()
        };
        Reply {
            status,
            headers,
            body,
            content_type,
        }
    }

    pub async fn get(&self, uri: &str, user: &str) -> Reply {
        self.call("GET", uri, Some(&self.tokens[user]), None).await
    }

    pub fn event(&self, id: &str) -> &Event {
        self.events.iter().find(|e| e.id.to_string() == id).unwrap()
    }

    /// (camera, kind) of each event in a JSON list, checking each one's masks against
    /// `expected` on the way: a masked plate never shows its text, withheld evidence is empty.
    pub fn seen(
        &self,
        events: &[Value],
        expected: &BTreeMap<(String, &'static str), Masks>,
    ) -> BTreeSet<(String, String)> {
        let mut seen = BTreeSet::new();
        for e in events {
            let camera = e["camera_id"].as_str().unwrap().to_string();
            let kind = e["kind"].as_str().unwrap().to_string();
            let original = self.event(e["id"].as_str().unwrap());
            let key = (camera.clone(), kind.as_str());
            let key = (key.0, EventKind::parse(key.1).unwrap().as_str());
            if let Some(masks) = expected.get(&key) {
                let text = e["plate"]["text"].as_str().unwrap();
                let real = &original.plate.as_ref().unwrap().text;
                if masks.plate {
                    assert_ne!(text, real, "plate of {camera}/{kind} must be masked");
                    assert!(
                        !e.to_string().contains(real.as_str()),
                        "masked plate leaked: {e}"
                    );
                    assert_eq!(text, xl_store::mask_plate_text(real));
                } else {
                    assert_eq!(text, real);
                }
                let evidence = e["evidence"].as_array().unwrap();
                assert_eq!(
                    evidence.is_empty(),
                    masks.plate || masks.evidence,
                    "evidence of {camera}/{kind}: {e}"
                );
            }
            seen.insert((camera, kind));
        }
        seen
    }
}

pub fn keys(expected: &BTreeMap<(String, &'static str), Masks>) -> BTreeSet<(String, String)> {
    expected
        .keys()
        .map(|(c, k)| (c.clone(), k.to_string()))
        .collect()
}

/// Percent-encodes everything but unreserved characters, for paths and query values.
pub fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
