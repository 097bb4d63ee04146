//! A cloned-plate event names two sightings; a caller who may see the event but not the other
//! sighting's camera gets that sighting withheld, in search, detail and the live feed.
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use xl_schema::{EventDetails, EventKind, ReadRef};

#[path = "support/world.rs"]
mod support;
use support::{world, Backend};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sightings_on_cameras_out_of_scope_are_withheld() {
    let w = world(Backend::Sqlite).await;
    // A plate read on urban's U1, then the same plate on police's P1 too soon after.
    let (on_u1, on_p1) = (
        w.events.iter().find(|e| e.camera_id == "U1").unwrap(),
        w.events.iter().find(|e| e.camera_id == "P1").unwrap(),
    );
    let mut cloned = on_p1.clone();
    cloned.id = uuid::Uuid::now_v7();
    cloned.kind = EventKind::ClonedPlate;
    cloned.evidence.clear();
    let sighting = |e: &xl_schema::Event| ReadRef {
        event_id: e.id,
        camera_id: e.camera_id.clone(),
        ts: e.ts,
        plate: on_p1.plate.as_ref().unwrap().text.clone(),
    };
    cloned.details = Some(EventDetails::ClonedPlate {
        earlier: sighting(on_u1),
        later: sighting(on_p1),
        distance_km: 40.0,
        implied_speed_kmh: 900.0,
    });
    w.tiers
        .hot
        .insert_events(std::slice::from_ref(&cloned))
        .await
        .unwrap();

    let details = |v: &Value| {
        (
            v["details"]["earlier"].clone(),
            v["details"]["later"].clone(),
        )
    };
    // Police own P1 but urban's grant to them expired: U1's sighting is withheld.
    let police = w
        .get(&format!("/api/v1/events/{}", cloned.id), "police-analyst")
        .await
        .json();
    let (earlier, later) = details(&police);
    assert_eq!(earlier, serde_json::json!({"withheld": true}), "{police}");
    assert_eq!(later["camera_id"], "P1");
    assert_eq!(police["details"]["implied_speed_kmh"], 900.0);
    let searched = w
        .get("/api/v1/events?kind=cloned_plate", "police-analyst")
        .await
        .json();
    assert_eq!(
        details(&searched["events"][0]).0,
        serde_json::json!({"withheld": true})
    );
    // Admins see both sightings.
    let root = w
        .get(&format!("/api/v1/events/{}", cloned.id), "root")
        .await
        .json();
    assert_eq!(details(&root).0["camera_id"], "U1");
    // Urban sees neither the event (its grant from police covers watch-list hits only).
    let urban = w
        .get(&format!("/api/v1/events/{}", cloned.id), "urban-analyst")
        .await;
    assert_eq!(urban.status.as_u16(), 404);

    // The live feed withholds the same way.
    let req = Request::get("/api/v1/live?kind=cloned_plate")
        .header(
            "authorization",
            format!("Bearer {}", w.tokens["traffic-analyst"]),
        )
        .body(Body::empty())
        .unwrap();
    let mut body = w.router.clone().oneshot(req).await.unwrap().into_body();
    w.state.live.send(cloned.clone()).unwrap();
    let mut text = String::new();
    while let Ok(Some(Ok(frame))) =
        tokio::time::timeout(Duration::from_millis(500), body.frame()).await
    {
        if let Some(data) = frame.data_ref() {
            text.push_str(&String::from_utf8_lossy(data));
        }
    }
    let live: Value = serde_json::from_str(
        text.lines()
            .find_map(|l| l.strip_prefix("data: "))
            .expect("the event arrives"),
    )
    .unwrap();
    assert_eq!(
        details(&live).0,
        serde_json::json!({"withheld": true}),
        "traffic's grant from urban was revoked"
    );
    assert_eq!(details(&live).1["camera_id"], "P1");
}
