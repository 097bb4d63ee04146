//! End to end: access units from `run_camera` decoded by `xl_decode::StreamDecoder` to RGB.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{free_port, TestServer, H264_320X240};
use tokio_util::sync::CancellationToken;
use url::Url;
use xl_decode::{DecodeMode, FrameQueue, StreamDecoder};
use xl_ingest::{run_camera, BackoffPolicy, CameraSource, HealthRegistry, Transport};
use xl_schema::VideoCodec;

#[test]
fn rtsp_access_units_decode_to_rgb_frames_of_the_requested_size() {
    let port = free_port();
    let _server = TestServer::start(port, H264_320X240);
    let frames = Arc::new(FrameQueue::new(64));
    let decoder = Arc::new(
        StreamDecoder::new(
            "cam-e2e",
            VideoCodec::H264,
            160,
            96,
            DecodeMode::All,
            Arc::clone(&frames),
        )
        .unwrap(),
    );
    let registry = Arc::new(HealthRegistry::new());
    let cancel = CancellationToken::new();
    let source = CameraSource {
        id: "cam-e2e".into(),
        url: Url::parse(&format!("rtsp://127.0.0.1:{port}/x")).unwrap(),
        transport: Transport::Tcp,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let feed = Arc::clone(&decoder);
    let task = rt.spawn(run_camera(
        source,
        Arc::clone(&registry),
        BackoffPolicy::default(),
        cancel.clone(),
        move |au| {
            feed.push(&au.data, au.pts_90k, au.is_keyframe, au.wall_time)
                .unwrap();
        },
    ));

    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while got.len() < 20 && Instant::now() < deadline {
        if let Some(f) = frames.pop_timeout(Duration::from_millis(200)) {
            got.push(f);
        }
    }
    cancel.cancel();
    rt.block_on(task).unwrap();

    assert!(
        got.len() >= 20,
        "only {} frames decoded: {:?}",
        got.len(),
        decoder.stats()
    );
    for f in &got {
        assert_eq!(f.image.dimensions(), (160, 96));
        assert_eq!((f.source_width, f.source_height), (320, 240));
        assert!(f.wall_time.is_some());
    }
    assert!(got.windows(2).all(|w| w[1].pts_90k > w[0].pts_90k));
    // videotestsrc's colour bars: the picture must not be flat.
    let px = &got[got.len() - 1].image;
    let distinct: std::collections::HashSet<[u8; 3]> = px.pixels().map(|p| p.0).collect();
    assert!(distinct.len() > 4, "decoded picture looks blank");
    let stats = decoder.stats();
    assert!(stats.frames_decoded >= 20 && stats.errors == 0, "{stats:?}");
}
