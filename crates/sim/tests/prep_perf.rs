//! Manual measurements (ignored by default): preparation time and a preview dump.
//! Run: CARGO_PROFILE_DEV_OPT_LEVEL=3 cargo test -p xl-sim --test prep_perf -- --ignored --nocapture
use std::time::Instant;

use xl_sim::{prepare_clips, SimConfig};

#[test]
#[ignore]
fn measure_preparation() {
    let dir = tempfile::tempdir().unwrap();
    let cameras: usize = std::env::var("XL_SIM_CAMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let clip_secs: u32 = std::env::var("XL_SIM_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let config = SimConfig {
        cameras,
        clip_secs,
        cache_dir: dir.path().join("cache"),
        ..SimConfig::default()
    };
    let t = Instant::now();
    let clips = prepare_clips(&config).unwrap();
    let cold = t.elapsed();
    let t = Instant::now();
    let again = prepare_clips(&config).unwrap();
    let warm = t.elapsed();
    let bytes: usize = clips
        .iter()
        .flat_map(|c| &c.aus)
        .map(|a| a.data.len())
        .sum();
    assert!(again.iter().all(|c| c.cached));
    tracing::info!(?cold, ?warm, bytes, "measured");
    std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("cameras={cameras} clip={clip_secs}s cold={cold:?} warm={warm:?} bytes={bytes}\n")
            .as_bytes(),
    )
    .unwrap();
    if let Ok(out) = std::env::var("XL_SIM_DUMP") {
        // Annex B elementary stream of camera 1 for ffmpeg/ffprobe inspection.
        let mut es = Vec::new();
        for au in &clips[0].aus {
            es.extend_from_slice(&au.data);
        }
        std::fs::write(out, es).unwrap();
    }
}

/// Serves XL_SIM_CAMS cameras on XL_SIM_PORT for XL_SIM_SERVE_SECS so external clients can
/// measure CPU and RSS of the serving process.
#[test]
#[ignore]
fn serve_for_measurement() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let config = SimConfig {
        cameras: env("XL_SIM_CAMS", 8) as usize,
        port: env("XL_SIM_PORT", 18554) as u16,
        clip_secs: env("XL_SIM_SECS", 60) as u32,
        truth_path: std::env::temp_dir().join("xl-sim-measure-truth.jsonl"),
        cache_dir: std::env::temp_dir().join("xl-sim-measure-cache"),
        ..SimConfig::default()
    };
    let sim = xl_sim::Simulator::start(config).unwrap();
    std::fs::write(
        std::env::temp_dir().join("xl-sim-ready"),
        sim.urls().join("\n"),
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(env("XL_SIM_SERVE_SECS", 40)));
    sim.stop();
}
