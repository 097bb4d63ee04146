//! Per-camera analysis: observations of one frame in, finished vehicle passes out as events.
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use image::RgbImage;
use xl_schema::{Event, PlateObservation, SourceKind};
use xl_track::{PlateTracker, TrackerParams};

use crate::EventFactory;

/// Where and when a frame was taken; carried with the frame through tracking into the event.
#[derive(Debug, Clone)]
pub struct FrameMeta {
    pub camera_id: Arc<str>,
    /// Index of the frame in its stream or file.
    pub frame_index: u64,
    pub pts_90k: Option<i64>,
    /// Monotonic seconds used for tracking (wall clock for live, PTS for files).
    pub time: f64,
    /// Event time.
    pub ts: DateTime<FixedOffset>,
    pub source_kind: SourceKind,
    /// File path, or the camera URL without credentials.
    pub source_path: Option<Arc<str>>,
    /// Factor from analysis pixels to source pixels (x, y).
    pub scale_to_source: (f32, f32),
}

impl FrameMeta {
    /// Factor from a decoded frame's analysis pixels back to its source pixels (x, y).
    pub fn scale_of(frame: &xl_decode::DecodedFrame) -> (f32, f32) {
        (
            frame.source_width as f32 / frame.image.width().max(1) as f32,
            frame.source_height as f32 / frame.image.height().max(1) as f32,
        )
    }
}

/// A frame kept for evidence while its track is alive.
#[derive(Debug, Clone)]
pub struct AnalysedFrame {
    pub image: Arc<RgbImage>,
    pub meta: FrameMeta,
}

/// Tracking state of one camera (or one video file).
pub struct CameraAnalysis {
    tracker: PlateTracker<AnalysedFrame>,
    factory: Arc<EventFactory>,
}

impl CameraAnalysis {
    pub fn new(params: TrackerParams, factory: Arc<EventFactory>) -> Self {
        Self {
            tracker: PlateTracker::new(params),
            factory,
        }
    }

    /// Adds one analysed frame; returns events for vehicle passes that ended before it.
    pub fn on_frame(
        &mut self,
        frame: AnalysedFrame,
        observations: Vec<PlateObservation>,
    ) -> Vec<Event> {
        let time = frame.meta.time;
        let finished = self.tracker.update(time, observations, frame);
        finished
            .iter()
            .map(|t| self.factory.plate_read(t))
            .collect()
    }

    /// Ends every live track (end of input or shutdown).
    pub fn finish(&mut self) -> Vec<Event> {
        let finished = self.tracker.finish_all();
        finished
            .iter()
            .map(|t| self.factory.plate_read(t))
            .collect()
    }

    pub fn active_tracks(&self) -> usize {
        self.tracker.active_tracks()
    }
}
