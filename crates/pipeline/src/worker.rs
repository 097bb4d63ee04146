//! Inference workers: each owns one set of models per pipeline and serves every camera, one frame at a time,
//! holding a camera's lock while it works so that each camera's frames are tracked in order.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use chrono::{DateTime, SubsecRound, Utc};
use tokio::sync::{broadcast, mpsc};
use tracing::{error, warn};
use xl_config::PipelineConfig;
use xl_decode::{DecodedFrame, FrameQueue};
use xl_schema::{china_offset, Event, SourceKind};

use crate::models::{AnalysisModels, FrameFindings};
use crate::{CameraAnalysis, FrameMeta};

pub(crate) struct CameraSlot {
    pub id: Arc<str>,
    pub source_path: Arc<str>,
    pub pipeline: usize,
    pub config: Arc<PipelineConfig>,
    pub queue: Arc<FrameQueue<DecodedFrame>>,
    pub analysis: Mutex<CameraAnalysis>,
}

pub(crate) struct EventOutlets {
    pub store: mpsc::Sender<Event>,
    pub live: broadcast::Sender<Event>,
}

impl EventOutlets {
    /// Blocks while the store writer is full: back-pressure reaches the frame queues (which drop
    /// and count frames), never the accepted events.
    pub fn publish(&self, events: Vec<Event>) {
        for event in events {
            if self.live.receiver_count() > 0 {
                // A subscriber may leave meanwhile; a failed send is then harmless.
                let _ = self.live.send(event.clone());
            }
            if self.store.blocking_send(event).is_err() {
                error!("event writer closed; event lost");
            }
        }
    }
}

const IDLE_WAIT: Duration = Duration::from_millis(5);

/// Runs until `draining` is set and every queue is empty.
pub(crate) fn run_worker(
    index: usize,
    models: Vec<AnalysisModels>,
    slots: Arc<Vec<CameraSlot>>,
    outlets: Arc<EventOutlets>,
    draining: Arc<AtomicBool>,
) {
    let n = slots.len();
    if n == 0 {
        return;
    }
    let mut next = index % n;
    loop {
        let mut worked = false;
        for k in 0..n {
            let slot = &slots[(next + k) % n];
            let Ok(mut analysis) = slot.analysis.try_lock() else {
                continue;
            };
            let Some(frame) = slot.queue.pop_timeout(Duration::ZERO) else {
                continue;
            };
            let events = analyse(slot, &models[slot.pipeline], &mut analysis, frame);
            drop(analysis);
            outlets.publish(events);
            next = (next + k + 1) % n;
            worked = true;
            break;
        }
        if !worked {
            if draining.load(Ordering::Acquire) && slots.iter().all(|s| s.queue.is_empty()) {
                return;
            }
            std::thread::sleep(IDLE_WAIT);
        }
    }
}

fn analyse(
    slot: &CameraSlot,
    models: &AnalysisModels,
    analysis: &mut CameraAnalysis,
    frame: DecodedFrame,
) -> Vec<Event> {
    let findings = match models.analyse(&frame.image, &slot.config) {
        Ok(f) => f,
        Err(e) => {
            warn!(camera = %slot.id, frame = frame.frame_index, error = %e, "inference failed");
            FrameFindings::default()
        }
    };
    let wall = frame.wall_time.unwrap_or_else(std::time::SystemTime::now);
    let time = wall
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let meta = FrameMeta {
        camera_id: slot.id.clone(),
        frame_index: frame.frame_index,
        pts_90k: Some(frame.pts_90k),
        time,
        // Event times are written to the millisecond (DESIGN.md's event schema).
        ts: DateTime::<Utc>::from(wall)
            .with_timezone(&china_offset())
            .trunc_subsecs(3),
        source_kind: SourceKind::Rtsp,
        source_path: Some(slot.source_path.clone()),
        scale_to_source: FrameMeta::scale_of(&frame),
        source_size: (frame.source_width, frame.source_height),
    };
    analysis.on_frame(
        Arc::new(frame.image),
        meta,
        findings.plates,
        &findings.vehicles,
    )
}
