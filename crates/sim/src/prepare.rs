//! Clip preparation: scenario, render and encode per camera (or load the cache), on up to two
//! threads.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use tracing::info;

use crate::cache;
use crate::encode::{encode_clip, AccessUnit};
use crate::font::PlateFont;
use crate::scenario::{generate, Scenario};
use crate::scene_render::SceneRenderer;
use crate::{SimConfig, SimError};

/// One camera's looping clip and the scenario it was rendered from.
pub struct PreparedClip {
    pub scenario: Scenario,
    pub aus: Vec<AccessUnit>,
    /// True when the clip came from the cache.
    pub cached: bool,
}

fn prepare_one(
    config: &SimConfig,
    font: &PlateFont,
    camera: u32,
) -> Result<PreparedClip, SimError> {
    let started = Instant::now();
    let scenario = scenario_for(config, camera);
    let path = cache::clip_path(config, camera, &font.fingerprint);
    if let Some(aus) = cache::load(&path, scenario.frames) {
        info!(camera, path = %path.display(), "clip loaded from cache");
        return Ok(PreparedClip {
            scenario,
            aus,
            cached: true,
        });
    }
    let renderer = SceneRenderer::new(&scenario, font);
    let aus = encode_clip(
        &renderer,
        camera,
        scenario.frames,
        config.codec,
        config.width,
        config.height,
        config.fps,
    )?;
    cache::store(&path, &aus)?;
    info!(
        camera,
        frames = scenario.frames,
        vehicles = scenario.vehicles.len(),
        bytes = aus.iter().map(|a| a.data.len()).sum::<usize>(),
        secs = started.elapsed().as_secs_f32(),
        "clip rendered and encoded"
    );
    Ok(PreparedClip {
        scenario,
        aus,
        cached: false,
    })
}

/// Camera `camera`'s scenario: generated, and for even cameras with some of the previous
/// camera's plates cloned (see `world::apply_clones`).
pub fn scenario_for(config: &SimConfig, camera: u32) -> Scenario {
    let gen = |c| {
        generate(
            config.seed,
            c,
            config.width,
            config.height,
            config.fps,
            config.clip_secs,
        )
    };
    let mut scenario = gen(camera);
    if camera.is_multiple_of(2) {
        crate::world::apply_clones(config.seed, &gen(camera - 1), &mut scenario);
    }
    scenario
}

/// Prepares every camera's clip (index 0 is camera 1). GStreamer must be initialised.
pub fn prepare_clips(config: &SimConfig) -> Result<Vec<PreparedClip>, SimError> {
    config.validate()?;
    gstreamer::init().map_err(|e| SimError::Gst(format!("init: {e}")))?;
    let font = PlateFont::load()?;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<PreparedClip, SimError>>>> =
        Mutex::new((0..config.cameras).map(|_| None).collect());
    let workers = config.cameras.min(2);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= config.cameras {
                    break;
                }
                let r = prepare_one(config, &font, i as u32 + 1);
                if let Ok(mut slots) = results.lock() {
                    slots[i] = Some(r);
                }
            });
        }
    });
    let slots = results
        .into_inner()
        .map_err(|_| SimError::PrepPanicked { camera: 0 })?;
    slots
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.unwrap_or(Err(SimError::PrepPanicked {
                camera: i as u32 + 1,
            }))
        })
        .collect()
}
