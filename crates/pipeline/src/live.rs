//! The live pipeline: cameras -> ingest -> decode -> inference workers -> tracking -> events.
//!
//! Shutdown drains in a fixed order: ingest stops, decoders are dropped, workers empty the frame
//! queues, every open track is finished, then the store writer writes everything it accepted.
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn, Instrument};
use xl_config::{CameraConfig, DecodeSetting, PipelineConfig, SystemConfig, TransportSetting};
use xl_decode::{DecodeMode, FrameQueue};
use xl_ingest::{BackoffPolicy, CameraSource, HealthRegistry, Transport};
use xl_schema::Event;
use xl_store::{EventWriter, EvidenceStore, Store};

use crate::decoder_feed::DecoderFeed;
use crate::enforcement::Enforcement;
use crate::models::{load_models, model_digests, tracker_params, vehicle_tracker_params};
use crate::worker::{run_worker, CameraSlot, EventOutlets};
use crate::{CameraAnalysis, EventFactory, IdMode, PipelineError, WimRouter};

/// Frames waiting for inference per camera; older ones are dropped (and counted) beyond this.
const FRAME_QUEUE_PER_CAMERA: usize = 2;
const STORE_CHANNEL: usize = 4096;

pub struct LiveOptions {
    pub system: SystemConfig,
    /// Inference worker threads.
    pub workers: usize,
    /// Every event is also sent here (live feed, demo printing).
    pub events: broadcast::Sender<Event>,
    pub health: Arc<HealthRegistry>,
    /// How often camera health is logged and written to the store.
    pub health_interval: Duration,
    /// The ONNX Runtime library (already checked to exist).
    pub ort_library: PathBuf,
    /// Weigh-in-motion records reach the pipelines' overload rules through this.
    pub wim: Arc<WimRouter>,
}

/// What a finished live run did.
#[derive(Debug, Clone, Default)]
pub struct LiveReport {
    pub events_written: u64,
}

pub async fn run_live(
    opts: LiveOptions,
    cancel: CancellationToken,
) -> Result<LiveReport, PipelineError> {
    let system = &opts.system;
    let store = Store::open(&system.store.url).await?;
    let writer =
        EventWriter::spawn_with_spill(store.clone(), STORE_CHANNEL, system.store.spill_dir.clone());
    let evidence = EvidenceStore::open(&system.evidence.location())?;

    // Pipelines in first-use order; cameras refer to them by index.
    let mut pipeline_index: HashMap<PathBuf, usize> = HashMap::new();
    let mut pipelines: Vec<Arc<PipelineConfig>> = Vec::new();
    for camera in &system.cameras {
        if !pipeline_index.contains_key(&camera.pipeline) {
            pipeline_index.insert(camera.pipeline.clone(), pipelines.len());
            pipelines.push(Arc::new(PipelineConfig::load(&camera.pipeline)?));
        }
    }
    let positions: HashMap<String, (f64, f64)> = system
        .cameras
        .iter()
        .map(|c| (c.id.clone(), (c.lat, c.lon)))
        .collect();
    let enforcements: Vec<Arc<Enforcement>> = pipelines
        .iter()
        .map(|p| Enforcement::new(&p.rules, positions.clone()).map(Arc::new))
        .collect::<Result<_, _>>()?;
    let workers = opts.workers.max(1);
    let mut readers_per_worker: Vec<Vec<crate::AnalysisModels>> =
        (0..workers).map(|_| Vec::new()).collect();
    let mut factories = Vec::new();
    for pipeline in &pipelines {
        let mut readers = load_models(pipeline, workers, &opts.ort_library)?;
        factories.push(Arc::new(EventFactory {
            pipeline: pipeline.name.clone(),
            pipeline_sha256: pipeline.sha256.clone(),
            models: model_digests(pipeline)?,
            evidence: Some(evidence.clone()),
            ids: IdMode::Random,
        }));
        for worker in readers_per_worker.iter_mut().rev() {
            if let Some(r) = readers.pop() {
                worker.push(r);
            }
        }
    }

    let mut slots = Vec::new();
    for camera in &system.cameras {
        let p = pipeline_index[&camera.pipeline];
        let url = camera_url(camera)?;
        slots.push(CameraSlot {
            id: Arc::from(camera.id.as_str()),
            source_path: Arc::from(xl_ingest::redact_url(&url).as_str()),
            pipeline: p,
            config: pipelines[p].clone(),
            queue: Arc::new(FrameQueue::new(FRAME_QUEUE_PER_CAMERA)),
            analysis: Mutex::new(CameraAnalysis::new(
                Arc::from(camera.id.as_str()),
                tracker_params(&pipelines[p]),
                vehicle_tracker_params(&pipelines[p]),
                enforcements[p].camera_rules(&camera.id)?,
                enforcements[p].clone(),
                factories[p].clone(),
            )),
        });
    }
    opts.wim.attach(enforcements.clone());
    let slots = Arc::new(slots);
    let outlets = Arc::new(EventOutlets {
        store: writer.sender(),
        live: opts.events.clone(),
    });
    let draining = Arc::new(AtomicBool::new(false));
    let worker_threads: Vec<_> = readers_per_worker
        .into_iter()
        .enumerate()
        .map(|(i, readers)| {
            let (slots, outlets, draining) = (slots.clone(), outlets.clone(), draining.clone());
            std::thread::Builder::new()
                .name(format!("xl-infer-{i}"))
                .spawn(move || run_worker(i, readers, slots, outlets, draining))
                .map_err(|e| PipelineError::Runtime(format!("cannot start worker thread: {e}")))
        })
        .collect::<Result<_, _>>()?;

    let ingest = TaskTracker::new();
    for (camera, slot) in system.cameras.iter().zip(slots.iter()) {
        let source = CameraSource {
            id: camera.id.clone(),
            url: camera_url(camera)?,
            transport: match camera.transport {
                TransportSetting::Tcp => Transport::Tcp,
                TransportSetting::Udp => Transport::Udp,
            },
        };
        let analysis_size = pipelines[slot.pipeline].analysis;
        let mode = match camera.decode {
            DecodeSetting::Keyframes => DecodeMode::Keyframes,
            DecodeSetting::All => DecodeMode::SampleFps(camera.effective_sample_fps()),
        };
        let queue = slot.queue.clone();
        let health = opts.health.clone();
        let camera_id = camera.id.clone();

        let span = tracing::info_span!("camera", camera = %camera.id);
        let on_au = {
            let camera = health.camera(&camera_id);
            let mut feed = DecoderFeed::new(camera_id.clone(), analysis_size, mode, queue.clone());
            move |au: xl_ingest::AccessUnit| feed.push(au, &camera)
        };
        ingest.spawn(
            xl_ingest::run_camera(
                source,
                health,
                reconnect_policy(),
                cancel.child_token(),
                on_au,
            )
            .instrument(span),
        );
    }
    ingest.close();

    let health_task = tokio::spawn(report_health(
        store.clone(),
        opts.health.clone(),
        opts.health_interval,
        cancel.clone(),
    ));

    cancel.cancelled().await;
    info!("shutting down: stopping ingest");
    opts.wim.detach();
    ingest.wait().await;
    draining.store(true, Ordering::Release);
    let outlets_for_finish = outlets.clone();
    let slots_for_finish = slots.clone();
    tokio::task::spawn_blocking(move || {
        for t in worker_threads {
            if t.join().is_err() {
                warn!("an inference worker panicked");
            }
        }
        for slot in slots_for_finish.iter() {
            let events = match slot.analysis.lock() {
                Ok(mut a) => a.finish(),
                Err(poisoned) => poisoned.into_inner().finish(),
            };
            outlets_for_finish.publish(events);
        }
        for (e, f) in enforcements.iter().zip(&factories) {
            outlets_for_finish.publish(e.flush_overload(f));
        }
    })
    .await
    .map_err(|e| PipelineError::Runtime(format!("shutdown failed: {e}")))?;
    drop(outlets);
    let _ = health_task.await;
    let stats = writer.stats();
    writer.close().await;
    write_health(&store, &opts.health).await;
    store.close().await;
    let events_written = stats.written.load(Ordering::Relaxed);
    info!(events_written, "pipeline stopped");
    Ok(LiveReport { events_written })
}

/// Cameras come back within seconds of a network or power cut; retrying at most every ~5 s
/// keeps recovery under 10 s while costing an idle RTSP server little.
fn reconnect_policy() -> BackoffPolicy {
    BackoffPolicy {
        max: Duration::from_secs(5),
        ..BackoffPolicy::default()
    }
}

fn camera_url(camera: &CameraConfig) -> Result<url::Url, PipelineError> {
    url::Url::parse(&camera.url).map_err(|e| PipelineError::Camera {
        camera: camera.id.clone(),
        message: format!("invalid url: {e}"),
    })
}

async fn report_health(
    store: Store,
    health: Arc<HealthRegistry>,
    every: Duration,
    cancel: CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => write_health(&store, &health).await,
        }
    }
}

async fn write_health(store: &Store, health: &HealthRegistry) {
    let snapshots: Vec<(String, serde_json::Value)> = health
        .snapshot()
        .into_iter()
        .filter_map(|h| {
            serde_json::to_value(&h)
                .ok()
                .map(|v| (h.camera_id.clone(), v))
        })
        .collect();
    if let Err(e) = store.put_camera_health(&snapshots).await {
        warn!(error = %e, "camera health not stored");
    }
}
