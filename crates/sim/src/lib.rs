//! Camera simulator: synthetic road scenes with rendered Chinese plates served over RTSP.
//!
//! Each camera's clip is generated from (seed, camera), rendered, encoded once (cached on disk)
//! and looped on a wall-clock timeline; ground truth of visible plates goes to a JSONL file.
//! See README.md for the meaning of "visible", the truth format and the cache.
#![forbid(clippy::print_stdout, clippy::print_stderr)]

mod cache;
mod color;
mod encode;
mod error;
mod export;
mod font;
mod frame;
#[cfg(test)]
mod plate_dump;
mod plate_render;
mod plate_text;
mod prepare;
mod rng;
pub mod scenario;
mod scene_render;
mod server;
mod snapshot;
mod timeline;
mod truth;
mod vehicle_art;
#[cfg(test)]
mod vehicle_dump;
mod vehicle_models;
mod vehicle_raster;
pub mod world;
mod world_files;

use std::path::PathBuf;

use xl_schema::VideoCodec;

pub use error::SimError;
pub use export::{export, Export};
pub use prepare::{prepare_clips, scenario_for, PreparedClip};
pub use snapshot::render_rgb_frames;
pub use truth::TruthRecord;
pub use world::{camera_id, camera_position, RuleTruth};
pub use world_files::{write_wim_all, write_world, WimFeeder, WorldFiles};

/// Simulator settings; `Default` gives one 1280x720 25 fps H.264 camera on 127.0.0.1:8554.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub cameras: usize,
    pub bind: String,
    pub port: u16,
    pub seed: u64,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub codec: VideoCodec,
    /// Length of each camera's pre-rendered looping clip, seconds.
    pub clip_secs: u32,
    /// Ground truth JSONL; truncated at start, appended as time goes on, flushed per line.
    pub truth_path: PathBuf,
    /// Pre-encoded clips, keyed by every input that shapes them.
    pub cache_dir: PathBuf,
    /// Also write the enforcement side of the deployment (rules, watch list, rule truth) to this
    /// folder and feed WIM records into its `wim.jsonl` in real time.
    pub world: Option<WorldFiles>,
    /// How far ahead (seconds) the rule truth and WIM records are generated.
    pub world_horizon_secs: u32,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            cameras: 1,
            bind: "127.0.0.1".into(),
            port: 8554,
            seed: 1,
            width: 1280,
            height: 720,
            fps: 25,
            codec: VideoCodec::H264,
            clip_secs: 60,
            truth_path: PathBuf::from("var/sim-truth.jsonl"),
            cache_dir: PathBuf::from("var/sim-cache"),
            world: None,
            world_horizon_secs: 3600,
        }
    }
}

impl SimConfig {
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |m: String| Err(SimError::InvalidConfig(m));
        if self.cameras == 0 || self.cameras > 256 {
            return bad(format!("cameras must be 1..=256, got {}", self.cameras));
        }
        if !self.width.is_multiple_of(2)
            || !self.height.is_multiple_of(2)
            || self.width < 160
            || self.height < 120
        {
            return bad(format!(
                "frame size must be even and at least 160x120 (4:2:0), got {}x{}",
                self.width, self.height
            ));
        }
        if self.width > 4096 || self.height > 2304 {
            return bad(format!(
                "frame size {}x{} is above 4096x2304",
                self.width, self.height
            ));
        }
        if !(1..=60).contains(&self.fps) {
            return bad(format!("fps must be 1..=60, got {}", self.fps));
        }
        if !(4..=600).contains(&self.clip_secs) {
            return bad(format!("clip_secs must be 4..=600, got {}", self.clip_secs));
        }
        Ok(())
    }
}

/// A running simulator. Dropping it stops it too; `stop` makes the intent explicit.
pub struct Simulator {
    server: server::Server,
    bind: String,
    cameras: usize,
    wim: Option<WimFeeder>,
}

impl Simulator {
    /// Prepares (or loads cached) clips, starts the RTSP server; returns once clients can connect.
    pub fn start(config: SimConfig) -> Result<Simulator, SimError> {
        config.validate()?;
        gstreamer::init().map_err(|e| SimError::Gst(format!("init: {e}")))?;
        let truth = truth::TruthWriter::create(&config.truth_path)?;
        let prepared = prepare_clips(&config)?;
        let (clips, scenarios): (Vec<_>, Vec<_>) =
            prepared.into_iter().map(|p| (p.aus, p.scenario)).unzip();
        let server = server::Server::start(
            &config.bind,
            config.port,
            config.codec,
            clips,
            scenarios.clone(),
            truth,
        )?;
        let wim = match &config.world {
            Some(files) => {
                let records = write_world(
                    files,
                    config.seed,
                    &scenarios,
                    server.t0_wall(),
                    config.world_horizon_secs,
                )?;
                Some(WimFeeder::start(files, config.seed, records)?)
            }
            None => None,
        };
        Ok(Simulator {
            server,
            bind: config.bind,
            cameras: config.cameras,
            wim,
        })
    }

    /// rtsp://BIND:PORT/cam/1 ... /cam/N (PORT is the bound one, so port 0 works).
    pub fn urls(&self) -> Vec<String> {
        (1..=self.cameras)
            .map(|i| format!("rtsp://{}:{}/cam/{i}", self.bind, self.server.port))
            .collect()
    }

    pub fn port(&self) -> u16 {
        self.server.port
    }

    /// Stops serving, disconnects clients, closes the listening socket and flushes the truth.
    pub fn stop(mut self) {
        if let Some(mut w) = self.wim.take() {
            w.stop();
        }
        self.server.shutdown();
    }
}
