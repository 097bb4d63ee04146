//! End to end: serve two small cameras, read one with a real RTSP client, check pacing, truth,
//! the cache and that stop() frees the port.
use std::time::{Duration, Instant};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use xl_sim::{prepare_clips, SimConfig, Simulator, TruthRecord};

/// Decodes `url` over TCP for `secs` and returns (frames decoded, seconds from first frame).
fn decode_frames(url: &str, secs: f64) -> (u32, f64) {
    let pipeline = gst::parse::launch(&format!(
        "rtspsrc location={url} protocols=tcp latency=0 ! rtph264depay ! h264parse ! \
         avdec_h264 ! appsink name=sink sync=false"
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let sink = pipeline
        .by_name("sink")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut first = None;
    let mut last = Instant::now();
    let mut frames = 0;
    while Instant::now() < deadline {
        if let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_mseconds(100)) {
            let caps = sample.caps().unwrap().structure(0).unwrap().to_owned();
            assert_eq!(caps.get::<i32>("width").unwrap(), 640);
            frames += 1;
            // The first two frames prime the session (see server.rs); real-time flow follows.
            if frames >= 3 {
                first.get_or_insert_with(Instant::now);
                last = Instant::now();
            }
        }
    }
    pipeline.set_state(gst::State::Null).unwrap();
    let span = first.map_or(0.0, |f| (last - f).as_secs_f64());
    (frames, span)
}

#[test]
fn serves_cameras_in_real_time_with_truth() {
    let dir = tempfile::tempdir().unwrap();
    let config = SimConfig {
        cameras: 2,
        port: 0,
        seed: 42,
        width: 640,
        height: 360,
        fps: 25,
        clip_secs: 6,
        truth_path: dir.path().join("truth.jsonl"),
        cache_dir: dir.path().join("cache"),
        ..SimConfig::default()
    };
    let sim = Simulator::start(config.clone()).unwrap();
    let urls = sim.urls();
    assert_eq!(urls.len(), 2);
    assert!(urls[1].ends_with("/cam/2"));
    let port = sim.port();
    assert_ne!(port, 0);

    let (frames, span) = decode_frames(&urls[1], 5.0);
    // Joining waits for the next keyframe (< 1 s) and the session setup; then 25 fps.
    assert!(frames >= 60, "only {frames} frames in 5 s");
    let rate = (frames - 3) as f64 / span;
    assert!(
        (21.0..29.0).contains(&rate),
        "{frames} frames in {span:.2} s = {rate:.1} fps"
    );

    let truth = std::fs::read_to_string(&config.truth_path).unwrap();
    let records: Vec<TruthRecord> = truth
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!records.is_empty());
    assert!(records.iter().any(|r| r.camera == 1) && records.iter().any(|r| r.camera == 2));
    // Write-ahead: after ~5 s of a 6 s loop, iteration 1 (starting at T0 + 6 s) is announced.
    let first_from = records.iter().map(|r| r.visible_from).min().unwrap();
    assert!(records
        .iter()
        .any(|r| r.visible_from > first_from + chrono::Duration::seconds(6)));
    for r in &records {
        assert!(xl_schema::plate::is_valid_plate(&r.plate), "{}", r.plate);
        assert!(r.visible_to > r.visible_from);
        assert_eq!(r.visible_from.offset().local_minus_utc(), 8 * 3600);
    }

    sim.stop();
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("port released by stop()");

    // Same config again: everything comes from the cache.
    let t = Instant::now();
    let again = prepare_clips(&config).unwrap();
    assert!(again.iter().all(|c| c.cached));
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "cache load took {:?}",
        t.elapsed()
    );
}
