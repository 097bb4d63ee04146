//! Against a real in-process RTSP server: streaming, reconnecting after the server goes away and
//! comes back on the same port, credentials kept out of logs and health. The only test in this
//! binary, because it installs a process-wide log capture.

mod common;

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use common::{
    fast_policy, free_port, health, runtime, wait_for, LogCapture, TestServer, H264_320X240,
};
use tokio_util::sync::CancellationToken;
use url::Url;
use xl_ingest::{run_camera, AccessUnit, CameraSource, CameraState, HealthRegistry, Transport};
use xl_schema::VideoCodec;

#[test]
fn streams_reconnects_and_never_leaks_credentials() {
    let logs = LogCapture::default();
    logs.install_global();
    let port = free_port();
    let server = TestServer::start(port, H264_320X240);
    let source = CameraSource {
        id: "cam-test".into(),
        url: Url::parse(&format!("rtsp://user:secret@127.0.0.1:{port}/x")).unwrap(),
        transport: Transport::Tcp,
    };
    let registry = Arc::new(HealthRegistry::new());
    let cancel = CancellationToken::new();
    let (tx, rx) = mpsc::channel::<AccessUnit>();
    let rt = runtime();
    let mut received: Vec<AccessUnit> = Vec::new();
    rt.block_on(async {
        let task = tokio::spawn(run_camera(
            source,
            Arc::clone(&registry),
            fast_policy(),
            cancel.clone(),
            move |au| {
                let _ = tx.send(au);
            },
        ));

        wait_for("first session frames", Duration::from_secs(20), || {
            received.extend(rx.try_iter());
            received.iter().filter(|a| a.is_keyframe).count() >= 2
        })
        .await;
        let h = health(&registry, "cam-test");
        assert_eq!(h.state, CameraState::Streaming);
        assert!(h.frames_in >= 26, "{h:?}");
        assert!(h.fps_in > 0.0);
        assert!(h.last_frame_at.is_some());

        server.stop();
        wait_for(
            "backoff after the server stopped",
            Duration::from_secs(15),
            || {
                let h = health(&registry, "cam-test");
                h.reconnects >= 1 && h.last_error.is_some()
            },
        )
        .await;
        // While the port is closed every attempt fails straight into backoff.
        wait_for("Backoff state", Duration::from_secs(10), || {
            health(&registry, "cam-test").state == CameraState::Backoff
        })
        .await;

        let restarted = TestServer::start(port, H264_320X240);
        let before = received.len();
        wait_for(
            "frames from the restarted server",
            Duration::from_secs(15),
            || {
                received.extend(rx.try_iter());
                received[before..]
                    .iter()
                    .filter(|a| a.is_keyframe && a.session >= 2)
                    .count()
                    >= 1
            },
        )
        .await;
        cancel.cancel();
        task.await.unwrap();
        drop(restarted);
    });

    let h = health(&registry, "cam-test");
    assert_eq!(h.state, CameraState::Stopped);
    assert!(h.reconnects >= 1);

    // First session: H.264, starts at pts 0 and increases (no B-frames with zerolatency).
    let first: Vec<&AccessUnit> = received.iter().filter(|a| a.session == 1).collect();
    assert!(first.iter().all(|a| a.codec == VideoCodec::H264));
    assert_eq!(first[0].pts_90k, 0);
    assert!(first.windows(2).all(|w| w[1].pts_90k > w[0].pts_90k));
    assert!(
        first.iter().all(|a| a.data.starts_with(&[0, 0, 0, 1])),
        "Annex B"
    );
    let later: Vec<&AccessUnit> = received.iter().filter(|a| a.session >= 2).collect();
    assert_eq!(later[0].pts_90k, 0, "pts restarts at 0 in a new session");

    let text = logs.text();
    assert!(
        text.contains("rtsp://***@127.0.0.1"),
        "redacted URL should be logged:\n{text}"
    );
    assert!(text.contains("reconnecting"), "{text}");
    assert!(
        !text.contains("secret"),
        "password leaked into logs:\n{text}"
    );
    assert!(
        !text.contains("user:"),
        "user name leaked into logs:\n{text}"
    );
    let last_error = h.last_error.unwrap_or_default();
    assert!(!last_error.contains("secret"), "{last_error}");
}
