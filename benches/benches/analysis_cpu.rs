//! Per-camera CPU cost of the whole analysis at 5 analysed fps: a 1280x720 25 fps H.264 clip
//! (CCPD photos, letterboxed, with light temporal noise so P-frames carry data) is decoded with
//! `DecodeMode::SampleFps(5)` (as live cameras are) and every handed-on frame goes through
//! `AnalysisModels::analyse`, for pipelines/plates.toml and pipelines/checkpoint.toml in the same
//! process, alternating per round. Reports process CPU-seconds (utime + stime, all threads, from
//! /proc/self/stat) per analysed frame, the analysing thread's share (/proc/thread-self/stat: ORT
//! runs on the calling thread with one intra-op thread), a decode-only pass, the implied cores per
//! camera at 5 fps (5 x CPU-s per frame) and the checkpoint / plates ratio.
//!
//! `cargo bench -p xl-benches --bench analysis_cpu` (XL_BENCH_ROUNDS: rounds, default 3;
//! XL_PLATES_DEV: data folder; ORT_DYLIB_PATH: ONNX Runtime library). Needs ffmpeg (libx264).

// A benchmark harness reports on stdout.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use xl_benches::{data_dir, ort_library, workspace};

use xl_config::PipelineConfig;
use xl_decode::{open_file, DecodeMode};
use xl_pipeline::{load_models, AnalysisModels};

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;
const ANALYSED_FPS: f32 = 5.0;
/// Each photo is shown this long in the 25 fps clip (2 analysed frames per photo at 5 fps).
const SECONDS_PER_PHOTO: f64 = 0.4;

enum Who {
    Process,
    Thread,
}

/// utime + stime of this process (all threads) or of the calling thread, in seconds.
fn cpu_seconds(who: Who) -> f64 {
    // Linux reports these in USER_HZ, which is 100 on every supported architecture.
    const USER_HZ: f64 = 100.0;
    let file = match who {
        Who::Process => "/proc/self/stat",
        Who::Thread => "/proc/thread-self/stat",
    };
    let stat = std::fs::read_to_string(file).unwrap_or_default();
    // Fields after the parenthesised command name; utime is field 14 overall.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<f64> = rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    (fields.get(11).copied().unwrap_or(0.0) + fields.get(12).copied().unwrap_or(0.0)) / USER_HZ
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The CCPD photos (truth.csv order), each shown `SECONDS_PER_PHOTO`, scaled to fit 1280x720
/// and padded, as a 25 fps H.264 mp4 (2 Mb/s, GOP 50, like the decode bench's clip).
fn make_clip() -> Result<(PathBuf, usize), String> {
    let ccpd = data_dir().join("ccpd");
    let truth = std::fs::read_to_string(ccpd.join("truth.csv"))
        .map_err(|e| format!("{}: {e}", ccpd.join("truth.csv").display()))?;
    let photos: Vec<PathBuf> = truth
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .map(|f| ccpd.join(f))
        .collect();
    if photos.is_empty() {
        return Err("no photos in ccpd/truth.csv".into());
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("xl-analysis-bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let clip = dir.join(format!("ccpd_{}photos_720p25.mp4", photos.len()));
    if clip.is_file() {
        return Ok((clip, photos.len()));
    }
    // concat demuxer list; the last file is repeated so its duration is honoured.
    let mut list = String::new();
    for p in &photos {
        let abs = std::fs::canonicalize(p).map_err(|e| format!("{}: {e}", p.display()))?;
        list.push_str(&format!(
            "file '{}'\nduration {SECONDS_PER_PHOTO}\n",
            abs.display()
        ));
    }
    let last =
        std::fs::canonicalize(photos.last().expect("non-empty")).map_err(|e| e.to_string())?;
    list.push_str(&format!("file '{}'\n", last.display()));
    let list_path = dir.join("photos.txt");
    std::fs::write(&list_path, list).map_err(|e| e.to_string())?;
    let filter = format!(
        "fps=25,scale={WIDTH}:{HEIGHT}:force_original_aspect_ratio=decrease,\
         pad={WIDTH}:{HEIGHT}:(ow-iw)/2:(oh-ih)/2,noise=alls=6:allf=t,format=yuv420p"
    );
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(["-f", "concat", "-safe", "0", "-i"])
        .arg(&list_path)
        .args(["-vf", &filter])
        .args(["-c:v", "libx264", "-preset", "fast", "-profile:v", "high"])
        .args([
            "-b:v",
            "2M",
            "-g",
            "50",
            "-keyint_min",
            "50",
            "-sc_threshold",
            "0",
        ])
        .args(["-r", "25"])
        .arg(&clip)
        .status()
        .map_err(|e| format!("ffmpeg: {e}"))?;
    if status.success() {
        Ok((clip, photos.len()))
    } else {
        let _ = std::fs::remove_file(&clip);
        Err(format!("ffmpeg exited with {status}"))
    }
}

/// One pass over the clip. `models: None` decodes only.
struct Pass {
    frames: u64,
    process_cpu: f64,
    thread_cpu: f64,
    wall: f64,
    plates: usize,
    vehicles: usize,
}

impl Pass {
    fn per_frame(&self, cpu: f64) -> f64 {
        cpu / self.frames.max(1) as f64
    }
}

fn run_pass(clip: &Path, models: Option<(&AnalysisModels, &PipelineConfig)>) -> Pass {
    let wall = Instant::now();
    let p0 = cpu_seconds(Who::Process);
    let t0 = cpu_seconds(Who::Thread);
    let decoder = open_file(clip, WIDTH, HEIGHT, DecodeMode::SampleFps(ANALYSED_FPS))
        .expect("open bench clip");
    let (mut frames, mut plates, mut vehicles) = (0u64, 0usize, 0usize);
    for frame in decoder {
        let frame = frame.expect("decode bench clip");
        frames += 1;
        if let Some((m, pipeline)) = models {
            let found = m.analyse(&frame.image, pipeline).expect("analyse");
            plates += found.plates.len();
            vehicles += found.vehicles.len();
        }
    }
    Pass {
        frames,
        process_cpu: cpu_seconds(Who::Process) - p0,
        thread_cpu: cpu_seconds(Who::Thread) - t0,
        wall: wall.elapsed().as_secs_f64(),
        plates,
        vehicles,
    }
}

fn main() {
    let rounds: usize = std::env::var("XL_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let (clip, photos) = match make_clip() {
        Ok(c) => c,
        Err(e) => {
            println!("analysis_cpu: skipped, cannot make the test clip: {e}");
            return;
        }
    };
    if let Err(e) = xl_decode::init() {
        println!("analysis_cpu: skipped: {e}");
        return;
    }
    let ort = ort_library();
    let load = |name: &str| {
        let pipeline = PipelineConfig::load(&workspace().join("pipelines").join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let models = load_models(&pipeline, 1, &ort)
            .unwrap_or_else(|e| panic!("{name}: {e} (run scripts/setup.sh)"))
            .pop()
            .expect("one set of models");
        (name.trim_end_matches(".toml").to_string(), pipeline, models)
    };
    let pipelines = [load("plates.toml"), load("checkpoint.toml")];
    let load_start = loadavg();
    println!(
        "clip: {} ({photos} CCPD photos x {SECONDS_PER_PHOTO} s, {WIDTH}x{HEIGHT} 25 fps H.264 2 Mb/s); \
         decode SampleFps({ANALYSED_FPS}) at {WIDTH}x{HEIGHT}; 1 intra-op thread per model; {rounds} rounds, medians",
        clip.display()
    );
    println!("load average at start: {load_start}");

    // Warm-up (first runs allocate), untimed.
    let _ = run_pass(&clip, None);
    for (_, pipeline, models) in &pipelines {
        let image = image::RgbImage::new(WIDTH, HEIGHT);
        models.analyse(&image, pipeline).expect("warm-up analyse");
    }

    let mut decode_only = Vec::new();
    let mut results: Vec<Vec<Pass>> = vec![Vec::new(), Vec::new()];
    for round in 0..rounds {
        decode_only.push(run_pass(&clip, None));
        // Alternate the order so slow drift in machine load hits both alike.
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let (name, pipeline, models) = &pipelines[i];
            let pass = run_pass(&clip, Some((models, pipeline)));
            println!(
                "  round {round} {name:<10} {} frames, {:.2} CPU-s ({:.2} on the analysing thread), {:.2} s wall",
                pass.frames, pass.process_cpu, pass.thread_cpu, pass.wall
            );
            results[i].push(pass);
        }
    }
    let load_end = loadavg();

    let dec = median(
        decode_only
            .iter()
            .map(|p| p.per_frame(p.process_cpu))
            .collect(),
    );
    println!(
        "decode only: {:.1} ms CPU per analysed frame ({} frames handed on; all 25 fps decoded)",
        dec * 1000.0,
        decode_only[0].frames
    );
    let mut totals = Vec::new();
    let mut analysing = Vec::new();
    for ((name, _, _), passes) in pipelines.iter().zip(&results) {
        let total = median(passes.iter().map(|p| p.per_frame(p.process_cpu)).collect());
        let thread = median(passes.iter().map(|p| p.per_frame(p.thread_cpu)).collect());
        let first = &passes[0];
        println!(
            "{name:<10} {:.1} ms CPU per analysed frame ({:.1} ms on the analysing thread) -> {:.2} cores per camera at {ANALYSED_FPS} fps; \
             {:.2} plates and {:.2} vehicles per frame",
            total * 1000.0,
            thread * 1000.0,
            total * f64::from(ANALYSED_FPS),
            first.plates as f64 / first.frames.max(1) as f64,
            first.vehicles as f64 / first.frames.max(1) as f64,
        );
        totals.push(total);
        analysing.push(thread);
    }
    println!(
        "ratio checkpoint / plates: {:.2} (whole process), {:.2} (analysing thread)",
        totals[1] / totals[0],
        analysing[1] / analysing[0]
    );
    println!("load average at start: {load_start}; at end: {load_end}");
}
