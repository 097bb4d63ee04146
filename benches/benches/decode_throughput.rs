//! Decode throughput per CPU-second of a 720p H.264 clip to 640x360 RGB (All and Keyframes
//! modes), against `ffmpeg -threads 1 -i clip -f null -` on the same clip in the same run, plus
//! the resident memory each extra decode pipeline costs.
//!
//! `cargo bench -p xl-benches --bench decode_throughput` (set XL_BENCH_ROUNDS to change the 3
//! rounds). Prints one line per measurement; medians of the rounds.

// A benchmark harness reports on stdout.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use xl_decode::{open_file, DecodeMode, FileDecoder};

const WIDTH: u32 = 640;
const HEIGHT: u32 = 360;
const CLIP_SECONDS: u32 = 20;

fn main() {
    let rounds: usize = std::env::var("XL_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let clip = match make_clip() {
        Ok(clip) => clip,
        Err(e) => {
            println!("decode_throughput: skipped, cannot make the test clip: {e}");
            return;
        }
    };
    if let Err(e) = xl_decode::init() {
        println!("decode_throughput: skipped: {e}");
        return;
    }
    println!(
        "clip: {} (1280x720, 25 fps, {CLIP_SECONDS} s, 2 Mb/s, GOP 50); output {WIDTH}x{HEIGHT} RGB; {rounds} rounds, medians",
        clip.display()
    );

    let all = median(rounds, || measure_decoder(&clip, DecodeMode::All));
    let keys = median(rounds, || measure_decoder(&clip, DecodeMode::Keyframes));
    let ffmpeg = median(rounds, || measure_ffmpeg(&clip));
    report("xl-decode All (frames/CPU-s)", all, ffmpeg);
    report("xl-decode Keyframes (IDR/CPU-s)", keys, ffmpeg);
    println!("{:<34} {:>8.1}", "ffmpeg -threads 1 (frames/CPU-s)", ffmpeg);

    match rss_per_pipeline(&clip, 8) {
        Some((base, per)) => println!(
            "RSS: {base:.1} MiB before pipelines, +{per:.1} MiB per open 720p decode pipeline (8 open)"
        ),
        None => println!("RSS: not measured (no /proc/self/status)"),
    }
}

fn report(label: &str, value: f64, reference: f64) {
    println!(
        "{label:<34} {value:>8.1}   ratio to ffmpeg: {:.2}",
        value / reference
    );
}

fn median(rounds: usize, mut f: impl FnMut() -> f64) -> f64 {
    let mut v: Vec<f64> = (0..rounds).map(|_| f()).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn make_clip() -> Result<PathBuf, String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("xl-decode-bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let clip = dir.join(format!("720p_{CLIP_SECONDS}s_gop50.mp4"));
    if clip.is_file() {
        return Ok(clip);
    }
    let status = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg("testsrc2=size=1280x720:rate=25")
        .args(["-t", &CLIP_SECONDS.to_string()])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "fast",
            "-profile:v",
            "high",
            "-b:v",
            "2M",
        ])
        .args([
            "-g",
            "50",
            "-keyint_min",
            "50",
            "-sc_threshold",
            "0",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(&clip)
        .status()
        .map_err(|e| format!("ffmpeg: {e}"))?;
    if status.success() {
        Ok(clip)
    } else {
        Err(format!("ffmpeg exited with {status}"))
    }
}

/// Frames per CPU-second of this process (all GStreamer threads included).
fn measure_decoder(clip: &Path, mode: DecodeMode) -> f64 {
    let cpu0 = cpu_seconds(Who::SelfProcess);
    let wall = Instant::now();
    let decoder = open_file(clip, WIDTH, HEIGHT, mode).expect("open bench clip");
    let mut frames = 0u64;
    for frame in decoder {
        let frame = frame.expect("decode bench clip");
        assert_eq!(frame.image.width(), WIDTH);
        frames += 1;
    }
    let cpu = cpu_seconds(Who::SelfProcess) - cpu0;
    println!(
        "  {mode:?}: {frames} frames, {cpu:.2} CPU-s, {:.2} s wall",
        wall.elapsed().as_secs_f64()
    );
    frames as f64 / cpu.max(0.01)
}

/// Frames per CPU-second of `ffmpeg -threads 1` decoding the clip to nothing.
fn measure_ffmpeg(clip: &Path) -> f64 {
    let cpu0 = cpu_seconds(Who::Children);
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-threads", "1", "-i"])
        .arg(clip)
        .args(["-f", "null", "-"])
        .status()
        .expect("run ffmpeg");
    assert!(status.success());
    let cpu = cpu_seconds(Who::Children) - cpu0;
    let frames = f64::from(CLIP_SECONDS * 25);
    println!("  ffmpeg: {frames} frames, {cpu:.2} CPU-s");
    frames / cpu.max(0.01)
}

enum Who {
    SelfProcess,
    Children,
}

/// utime+stime (or cutime+cstime of waited-for children) from /proc/self/stat, in seconds.
fn cpu_seconds(who: Who) -> f64 {
    // Linux reports these in USER_HZ, which is 100 on every supported architecture.
    const USER_HZ: f64 = 100.0;
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime is field 14 overall.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<f64> = rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    let (a, b) = match who {
        Who::SelfProcess => (11, 12),
        Who::Children => (13, 14),
    };
    (fields.get(a).copied().unwrap_or(0.0) + fields.get(b).copied().unwrap_or(0.0)) / USER_HZ
}

fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Opens `n` decoders on the clip, pulls a few frames from each so every pipeline is running,
/// and reports RSS before and the increase per pipeline.
fn rss_per_pipeline(clip: &Path, n: usize) -> Option<(f64, f64)> {
    let before = rss_mib()?;
    let mut open: Vec<FileDecoder> = Vec::new();
    for _ in 0..n {
        let mut d = open_file(clip, WIDTH, HEIGHT, DecodeMode::All).ok()?;
        for _ in 0..10 {
            d.next()?.ok()?;
        }
        open.push(d);
    }
    let after = rss_mib()?;
    drop(open);
    Some((before, (after - before) / n as f64))
}
