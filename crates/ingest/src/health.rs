use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Where a camera's ingest loop is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CameraState {
    Connecting,
    Streaming,
    Backoff,
    Stopped,
}

/// A point-in-time view of one camera, for the API and metrics.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CameraHealth {
    pub camera_id: String,
    pub state: CameraState,
    pub last_frame_at: Option<DateTime<Utc>>,
    /// Access units per second received over the last few seconds.
    pub fps_in: f64,
    pub frames_in: u64,
    pub frames_decoded: u64,
    pub frames_dropped: u64,
    /// Times the session failed and a reconnection was scheduled.
    pub reconnects: u64,
    /// Last failure, with credentials removed.
    pub last_error: Option<String>,
}

/// Width of the moving window behind `fps_in`.
const FPS_WINDOW: Duration = Duration::from_secs(5);

/// Arrival times of the last frames within the window; pure, so it is tested with fake instants.
#[derive(Debug, Default)]
pub(crate) struct FpsWindow {
    arrivals: VecDeque<Instant>,
}

impl FpsWindow {
    pub(crate) fn record(&mut self, now: Instant) {
        self.arrivals.push_back(now);
        self.expire(now);
    }

    pub(crate) fn rate(&mut self, now: Instant) -> f64 {
        self.expire(now);
        self.arrivals.len() as f64 / FPS_WINDOW.as_secs_f64()
    }

    fn expire(&mut self, now: Instant) {
        while let Some(first) = self.arrivals.front() {
            if now.saturating_duration_since(*first) > FPS_WINDOW {
                self.arrivals.pop_front();
            } else {
                break;
            }
        }
    }
}

/// Live health of one camera. Counters are atomics; the rest sits behind one small lock per
/// camera, so cameras never contend with each other.
#[derive(Debug)]
pub struct CameraHandle {
    camera_id: String,
    frames_in: AtomicU64,
    frames_decoded: AtomicU64,
    frames_dropped: AtomicU64,
    reconnects: AtomicU64,
    detail: Mutex<Detail>,
}

#[derive(Debug)]
struct Detail {
    state: CameraState,
    last_frame_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    fps: FpsWindow,
}

impl CameraHandle {
    fn new(camera_id: &str) -> Self {
        Self {
            camera_id: camera_id.to_owned(),
            frames_in: AtomicU64::new(0),
            frames_decoded: AtomicU64::new(0),
            frames_dropped: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            detail: Mutex::new(Detail {
                state: CameraState::Connecting,
                last_frame_at: None,
                last_error: None,
                fps: FpsWindow::default(),
            }),
        }
    }

    pub fn camera_id(&self) -> &str {
        &self.camera_id
    }

    pub(crate) fn frame_received(&self) {
        self.frames_in.fetch_add(1, Ordering::Relaxed);
        let mut d = self.lock();
        d.last_frame_at = Some(Utc::now());
        d.fps.record(Instant::now());
        d.state = CameraState::Streaming;
    }

    pub(crate) fn set_state(&self, state: CameraState) {
        self.lock().state = state;
    }

    /// The session failed: record the (already redacted) reason and count the reconnect.
    pub(crate) fn failed(&self, error: String) {
        self.reconnects.fetch_add(1, Ordering::Relaxed);
        let mut d = self.lock();
        d.last_error = Some(error);
        d.state = CameraState::Backoff;
    }

    pub fn add_decoded(&self, n: u64) {
        self.frames_decoded.fetch_add(n, Ordering::Relaxed);
    }

    pub fn add_dropped(&self, n: u64) {
        self.frames_dropped.fetch_add(n, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> CameraHealth {
        let mut d = self.lock();
        let fps_in = d.fps.rate(Instant::now());
        CameraHealth {
            camera_id: self.camera_id.clone(),
            state: d.state,
            last_frame_at: d.last_frame_at,
            fps_in,
            frames_in: self.frames_in.load(Ordering::Relaxed),
            frames_decoded: self.frames_decoded.load(Ordering::Relaxed),
            frames_dropped: self.frames_dropped.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            last_error: d.last_error.clone(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Detail> {
        self.detail.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Health of every camera, shared (`Arc`) between ingest tasks, decoders and the API.
#[derive(Debug, Default)]
pub struct HealthRegistry {
    cameras: Mutex<BTreeMap<String, Arc<CameraHandle>>>,
}

impl HealthRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// The handle of `camera_id`, created on first use. Keep it to update counters without a
    /// registry lookup.
    pub fn camera(&self, camera_id: &str) -> Arc<CameraHandle> {
        let mut cameras = self.cameras.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(
            cameras
                .entry(camera_id.to_owned())
                .or_insert_with(|| Arc::new(CameraHandle::new(camera_id))),
        )
    }

    pub fn get(&self, camera_id: &str) -> Option<CameraHealth> {
        let cameras = self.cameras.lock().unwrap_or_else(|p| p.into_inner());
        cameras.get(camera_id).map(|c| c.snapshot())
    }

    /// All cameras, ordered by id.
    pub fn snapshot(&self) -> Vec<CameraHealth> {
        let handles: Vec<Arc<CameraHandle>> = {
            let cameras = self.cameras.lock().unwrap_or_else(|p| p.into_inner());
            cameras.values().cloned().collect()
        };
        handles.iter().map(|c| c.snapshot()).collect()
    }

    pub fn add_decoded(&self, camera_id: &str, n: u64) {
        self.camera(camera_id).add_decoded(n);
    }

    pub fn add_dropped(&self, camera_id: &str, n: u64) {
        self.camera(camera_id).add_dropped(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fps_window_counts_recent_frames_only() {
        let mut w = FpsWindow::default();
        let t0 = Instant::now();
        for i in 0..125 {
            w.record(t0 + Duration::from_millis(40 * i));
        }
        let now = t0 + Duration::from_millis(40 * 124);
        assert!((w.rate(now) - 25.0).abs() <= 0.2, "{}", w.rate(now));
        assert_eq!(w.rate(now + Duration::from_secs(6)), 0.0);
    }

    #[test]
    fn registry_tracks_counters_and_state() {
        let reg = HealthRegistry::new();
        let cam = reg.camera("cam-2");
        reg.camera("cam-1");
        cam.frame_received();
        cam.frame_received();
        reg.add_decoded("cam-2", 2);
        reg.add_dropped("cam-2", 1);
        cam.failed("connection refused".into());
        let snap = reg.snapshot();
        assert_eq!(snap.len(), 2);
        assert_eq!(snap[0].camera_id, "cam-1");
        assert_eq!(snap[0].state, CameraState::Connecting);
        let h = &snap[1];
        assert_eq!(
            (
                h.frames_in,
                h.frames_decoded,
                h.frames_dropped,
                h.reconnects
            ),
            (2, 2, 1, 1)
        );
        assert_eq!(h.state, CameraState::Backoff);
        assert_eq!(h.last_error.as_deref(), Some("connection refused"));
        assert!(h.last_frame_at.is_some());
    }

    #[test]
    fn serializes_state_in_snake_case() {
        let reg = HealthRegistry::new();
        reg.camera("c").set_state(CameraState::Backoff);
        let json = serde_json::to_value(reg.get("c").unwrap()).unwrap();
        assert_eq!(json["state"], "backoff");
        assert_eq!(json["camera_id"], "c");
        assert!(json["last_frame_at"].is_null());
    }
}
