use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use xl_schema::VideoCodec;

use crate::backoff::Backoff;
use crate::health::CameraState;
use crate::session::run_session;
use crate::source::redact_url;
use crate::{BackoffPolicy, CameraSource, HealthRegistry};

/// One compressed picture from a camera.
#[derive(Clone, Debug)]
pub struct AccessUnit {
    /// Annex B, with SPS/PPS (and VPS) before each keyframe.
    pub data: Bytes,
    pub codec: VideoCodec,
    /// 90 kHz, 0 at the first frame of each session. Increases frame to frame except where the
    /// camera sends B-frames, whose presentation order differs from arrival order.
    pub pts_90k: i64,
    pub is_keyframe: bool,
    /// Arrival time at this process.
    pub wall_time: SystemTime,
    /// 1 for the first session, +1 on each reconnect.
    pub session: u64,
}

/// Ingests one camera until `cancel` fires: connects, streams, calls `on_au` for every access
/// unit, and on any failure logs it (redacted), records it in `health`, waits per `policy` and
/// reconnects. Network problems never end the loop; `on_au` runs on the ingest task, so it must
/// not block (hand frames to a non-blocking decoder or queue).
pub async fn run_camera(
    source: CameraSource,
    health: Arc<HealthRegistry>,
    policy: BackoffPolicy,
    cancel: CancellationToken,
    mut on_au: impl FnMut(AccessUnit) + Send,
) {
    let handle = health.camera(&source.id);
    let url = redact_url(&source.url);
    let mut backoff = Backoff::new(policy);
    let mut rng = StdRng::from_entropy();
    let mut session_no = 0u64;
    while !cancel.is_cancelled() {
        session_no += 1;
        handle.set_state(CameraState::Connecting);
        info!(camera = %source.id, url = %url, session = session_no, "connecting");
        let outcome = tokio::select! {
            outcome = run_session(&source, session_no, &handle, &mut on_au) => outcome,
            () = cancel.cancelled() => break,
        };
        backoff.session_ended(outcome.streamed);
        let delay = backoff.next_delay(&mut rng);
        let error = outcome.error.to_string();
        warn!(
            camera = %source.id,
            url = %url,
            error = %error,
            retry_in_ms = delay.as_millis() as u64,
            "camera session ended; reconnecting"
        );
        handle.failed(error);
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = cancel.cancelled() => break,
        }
    }
    handle.set_state(CameraState::Stopped);
    info!(camera = %source.id, url = %url, "ingest stopped");
}
