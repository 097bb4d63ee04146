//! Live decoder fed with access units split from a raw H.264 clip by h264parse.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::clips;
use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use xl_decode::{DecodeMode, DecodedFrame, FrameQueue, StreamDecoder};
use xl_schema::VideoCodec;

struct Au {
    data: Vec<u8>,
    pts_90k: i64,
    key: bool,
}

/// Splits an Annex B file into access units (with PTS from h264parse) the way RTSP delivers them.
fn access_units(path: &Path) -> Vec<Au> {
    xl_decode::init().unwrap();
    let pipeline = gst::parse::launch(&format!(
        "filesrc location={} ! h264parse ! video/x-h264,stream-format=byte-stream,alignment=au ! appsink name=out sync=false",
        path.display()
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let sink = pipeline
        .by_name("out")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut aus = Vec::new();
    while let Ok(sample) = sink.pull_sample() {
        let buf = sample.buffer().unwrap();
        let pts_ns = buf
            .pts()
            .map(|t| t.nseconds())
            .unwrap_or(aus.len() as u64 * 40_000_000);
        aus.push(Au {
            data: buf.map_readable().unwrap().to_vec(),
            pts_90k: (pts_ns * 9 / 100_000) as i64,
            key: !buf.flags().contains(gst::BufferFlags::DELTA_UNIT),
        });
    }
    pipeline.set_state(gst::State::Null).unwrap();
    assert_eq!(aus.len(), 100);
    aus
}

fn wall(i: usize) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + 40 * i as u64)
}

fn run(mode: DecodeMode, aus: &[Au]) -> (Vec<DecodedFrame>, xl_decode::DecoderStats) {
    let queue = Arc::new(FrameQueue::new(256));
    let decoder =
        StreamDecoder::new("cam-t", VideoCodec::H264, 128, 96, mode, Arc::clone(&queue)).unwrap();
    for (i, au) in aus.iter().enumerate() {
        decoder.push(&au.data, au.pts_90k, au.key, wall(i)).unwrap();
    }
    decoder.finish(Duration::from_secs(20)).unwrap();
    let mut frames = Vec::new();
    while let Some(f) = queue.pop_timeout(Duration::ZERO) {
        frames.push(f);
    }
    assert_eq!(queue.dropped(), 0);
    (frames, decoder.stats())
}

#[test]
fn all_mode_outputs_every_frame_with_wall_time() {
    let aus = access_units(&clips().path("clip.h264"));
    let (frames, stats) = run(DecodeMode::All, &aus);
    assert_eq!(frames.len(), 100);
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f.image.dimensions(), (128, 96));
        assert_eq!((f.source_width, f.source_height), (320, 240));
        assert_eq!(f.pts_90k, aus[i].pts_90k);
        assert_eq!(f.frame_index, i as u64);
        assert_eq!(f.wall_time, Some(wall(i)));
    }
    assert_eq!(stats.frames_in, 100);
    assert_eq!(stats.frames_decoded, 100);
    assert_eq!(stats.frames_output, 100);
    assert_eq!(stats.frames_dropped(), 0);
}

#[test]
fn keyframes_mode_feeds_only_keyframes() {
    let aus = access_units(&clips().path("clip.h264"));
    let (frames, stats) = run(DecodeMode::Keyframes, &aus);
    let idx: Vec<u64> = frames.iter().map(|f| f.frame_index).collect();
    assert_eq!(idx, vec![0, 25, 50, 75]);
    assert_eq!(stats.frames_decoded, 4);
    assert_eq!(stats.skipped_by_mode, 96);
}

#[test]
fn sample_fps_thins_decoded_frames() {
    let aus = access_units(&clips().path("clip.h264"));
    let (frames, stats) = run(DecodeMode::SampleFps(5.0), &aus);
    assert_eq!(frames.len(), 20);
    assert!(frames
        .windows(2)
        .all(|w| w[1].pts_90k - w[0].pts_90k == 18_000));
    assert_eq!(stats.frames_decoded, 100);
    assert_eq!(stats.skipped_by_mode, 80);
}

#[test]
fn joining_mid_gop_waits_for_a_keyframe() {
    let aus = access_units(&clips().path("clip.h264"));
    let (frames, stats) = run(DecodeMode::All, &aus[10..]);
    assert_eq!(
        stats.dropped_input, 15,
        "frames 10..25 precede the first keyframe"
    );
    assert_eq!(frames.len(), 75);
    assert_eq!(frames[0].pts_90k, aus[25].pts_90k);
}

#[test]
fn new_session_with_pts_restarting_at_zero_keeps_decoding() {
    let aus = access_units(&clips().path("clip.h264"));
    let queue = Arc::new(FrameQueue::new(512));
    let decoder = StreamDecoder::new(
        "cam-r",
        VideoCodec::H264,
        64,
        48,
        DecodeMode::All,
        Arc::clone(&queue),
    )
    .unwrap();
    for round in 0..2 {
        for (i, au) in aus.iter().enumerate() {
            decoder
                .push(&au.data, au.pts_90k, au.key, wall(round * 100 + i))
                .unwrap();
        }
    }
    decoder.finish(Duration::from_secs(20)).unwrap();
    let mut frames = Vec::new();
    while let Some(f) = queue.pop_timeout(Duration::ZERO) {
        frames.push(f);
    }
    assert_eq!(frames.len(), 200);
    assert_eq!(
        frames[100].pts_90k, 0,
        "caller's PTS is returned, not the pipeline's"
    );
    assert_eq!(frames[100].wall_time, Some(wall(100)));
}

#[test]
fn garbage_input_does_not_stop_the_decoder() {
    let aus = access_units(&clips().path("clip.h264"));
    let queue = Arc::new(FrameQueue::new(256));
    let decoder = StreamDecoder::new(
        "cam-g",
        VideoCodec::H264,
        64,
        48,
        DecodeMode::All,
        Arc::clone(&queue),
    )
    .unwrap();
    let junk: Vec<u8> = (0..4000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for i in 0..5 {
        let mut au = vec![0, 0, 0, 1, 0x65];
        au.extend_from_slice(&junk);
        decoder.push(&au, i * 3600, true, wall(0)).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    for (i, au) in aus.iter().enumerate() {
        decoder
            .push(&au.data, 100_000 + au.pts_90k, au.key, wall(i))
            .unwrap();
    }
    decoder.finish(Duration::from_secs(20)).unwrap();
    let mut frames = 0;
    while queue.pop_timeout(Duration::ZERO).is_some() {
        frames += 1;
    }
    assert!(
        frames >= 75,
        "decoding must resume at a keyframe, got {frames} frames"
    );
}
