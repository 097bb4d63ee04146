//! Against a real in-process RTSP server: unreachable and audio-only cameras.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{fast_policy, free_port, health, runtime, wait_for, TestServer, AUDIO_ONLY};
use tokio_util::sync::CancellationToken;
use url::Url;
use xl_ingest::{run_camera, CameraSource, CameraState, HealthRegistry, Transport};

#[test]
fn unreachable_camera_backs_off_without_panicking() {
    let port = free_port();
    let source = CameraSource {
        id: "cam-down".into(),
        url: Url::parse(&format!("rtsp://admin:pw12345@127.0.0.1:{port}/x")).unwrap(),
        transport: Transport::Tcp,
    };
    let registry = Arc::new(HealthRegistry::new());
    let cancel = CancellationToken::new();
    runtime().block_on(async {
        let task = tokio::spawn(run_camera(
            source,
            Arc::clone(&registry),
            fast_policy(),
            cancel.clone(),
            |_| panic!("no frames expected"),
        ));
        wait_for("two failed attempts", Duration::from_secs(10), || {
            let h = health(&registry, "cam-down");
            h.state == CameraState::Backoff && h.reconnects >= 2
        })
        .await;
        cancel.cancel();
        task.await.unwrap();
    });
    let h = health(&registry, "cam-down");
    assert_eq!(h.state, CameraState::Stopped);
    assert_eq!(h.frames_in, 0);
    let err = h.last_error.unwrap();
    assert!(
        err.contains("DESCRIBE") && err.contains("cam-down"),
        "{err}"
    );
    assert!(!err.contains("pw12345"), "{err}");
}

#[test]
fn audio_only_camera_is_reported_as_having_no_video() {
    let port = free_port();
    let _server = TestServer::start(port, AUDIO_ONLY);
    let source = CameraSource {
        id: "cam-audio".into(),
        url: Url::parse(&format!("rtsp://127.0.0.1:{port}/x")).unwrap(),
        transport: Transport::Tcp,
    };
    let registry = Arc::new(HealthRegistry::new());
    let cancel = CancellationToken::new();
    runtime().block_on(async {
        let task = tokio::spawn(run_camera(
            source,
            Arc::clone(&registry),
            fast_policy(),
            cancel.clone(),
            |_| panic!("no video expected"),
        ));
        wait_for("a no-video failure", Duration::from_secs(15), || {
            health(&registry, "cam-audio").last_error.is_some()
        })
        .await;
        cancel.cancel();
        task.await.unwrap();
    });
    let err = health(&registry, "cam-audio").last_error.unwrap();
    assert!(err.contains("no H.264/H.265 video stream"), "{err}");
    assert!(err.contains("audio/"), "{err}");
}
