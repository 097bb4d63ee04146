//! Cost measurement, not a correctness test: `cargo test -p xl-ingest --release --test
//! measure_cost -- --ignored --nocapture`. Eight cameras from one in-process 720p server;
//! reports ingest CPU per stream (the ingest runtime thread alone), decode CPU per stream
//! (process CPU with decoding minus without) and RSS per live decode pipeline.
#![allow(clippy::print_stderr)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{free_port, TestServer};
use tokio_util::sync::CancellationToken;
use url::Url;
use xl_decode::{DecodeMode, FrameQueue, StreamDecoder};
use xl_ingest::{run_camera, BackoffPolicy, CameraSource, HealthRegistry, Transport};
use xl_schema::VideoCodec;

const CAMERAS: usize = 8;
const SECONDS: u64 = 12;
const H264_720P: &str = "( videotestsrc is-live=true pattern=ball \
    ! video/x-raw,format=I420,width=1280,height=720,framerate=25/1 \
    ! x264enc tune=zerolatency speed-preset=ultrafast bitrate=2000 key-int-max=50 \
      option-string=scenecut=0 ! video/x-h264,profile=high ! rtph264pay name=pay0 pt=96 )";

fn cpu_seconds(stat_path: &str) -> f64 {
    let stat = std::fs::read_to_string(stat_path).unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// Runs the cameras on a dedicated current-thread runtime; returns (ingest thread CPU-s,
/// process CPU-s, frames received, RSS after).
fn run(port: u16, decode: bool) -> (f64, f64, u64, f64) {
    let registry = Arc::new(HealthRegistry::new());
    let cancel = CancellationToken::new();
    let mut decoders = Vec::new();
    let mut queues = Vec::new();
    for i in 0..CAMERAS {
        if decode {
            let q = Arc::new(FrameQueue::new(4));
            let d = StreamDecoder::new(
                &format!("m{i}"),
                VideoCodec::H264,
                640,
                360,
                DecodeMode::All,
                Arc::clone(&q),
            )
            .unwrap();
            decoders.push(Some(Arc::new(d)));
            queues.push(q);
        } else {
            decoders.push(None);
        }
    }
    let process0 = cpu_seconds("/proc/self/stat");
    let thread_cancel = cancel.clone();
    let reg = Arc::clone(&registry);
    let ingest = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let t0 = cpu_seconds("/proc/thread-self/stat");
        rt.block_on(async {
            let mut tasks = Vec::new();
            for (i, dec) in decoders.into_iter().enumerate() {
                let source = CameraSource {
                    id: format!("m{i}"),
                    url: Url::parse(&format!("rtsp://127.0.0.1:{port}/x")).unwrap(),
                    transport: Transport::Tcp,
                };
                tasks.push(tokio::spawn(run_camera(
                    source,
                    Arc::clone(&reg),
                    BackoffPolicy::default(),
                    thread_cancel.clone(),
                    move |au| {
                        if let Some(d) = &dec {
                            let _ = d.push(&au.data, au.pts_90k, au.is_keyframe, au.wall_time);
                        }
                    },
                )));
            }
            for t in tasks {
                t.await.unwrap();
            }
        });
        cpu_seconds("/proc/thread-self/stat") - t0
    });
    // Drain decoded frames like an inference stage would.
    let end = Instant::now() + Duration::from_secs(SECONDS);
    while Instant::now() < end {
        for q in &queues {
            while q.pop_timeout(Duration::ZERO).is_some() {}
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let rss = rss_mib();
    cancel.cancel();
    let ingest_cpu = ingest.join().unwrap();
    let process_cpu = cpu_seconds("/proc/self/stat") - process0;
    let frames = registry.snapshot().iter().map(|h| h.frames_in).sum();
    (ingest_cpu, process_cpu, frames, rss)
}

#[test]
#[ignore = "measurement; run explicitly"]
fn measure_ingest_and_decode_cost() {
    let port = free_port();
    let server = TestServer::start(port, H264_720P);
    let rss0 = rss_mib();
    let (ingest_cpu, base_cpu, frames, _) = run(port, false);
    let (ingest_cpu2, with_decode_cpu, frames2, rss_decode) = run(port, true);
    drop(server);
    let secs = SECONDS as f64;
    eprintln!("{CAMERAS} x 720p 25 fps H.264 streams, {SECONDS} s per phase");
    eprintln!(
        "ingest only: {frames} AUs, ingest thread {:.2}% of a core per stream",
        100.0 * ingest_cpu / secs / CAMERAS as f64
    );
    eprintln!(
        "ingest + decode to 640x360 RGB: {frames2} AUs, ingest thread {:.2}%/stream, decode {:.1}% of a core per stream (process CPU difference)",
        100.0 * ingest_cpu2 / secs / CAMERAS as f64,
        100.0 * (with_decode_cpu - base_cpu) / secs / CAMERAS as f64
    );
    eprintln!(
        "RSS: {rss0:.1} MiB with server only, {rss_decode:.1} MiB with {CAMERAS} live decoders: {:.1} MiB per pipeline (upper bound, includes ingest buffers)",
        (rss_decode - rss0) / CAMERAS as f64
    );
    assert!(frames > 0 && frames2 > 0);
}
