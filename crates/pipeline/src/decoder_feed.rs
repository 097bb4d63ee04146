//! Feeding one camera's access units to its decoder, on the ingest task.
use std::sync::Arc;

use tracing::{info, warn};
use xl_config::AnalysisSize;
use xl_decode::{DecodeMode, DecodedFrame, FrameQueue, StreamDecoder};
use xl_ingest::{AccessUnit, CameraHandle};
use xl_schema::VideoCodec;

/// Owns the camera's current decoder: a new one per RTSP session (or codec change), so a
/// reconnect starts from a clean state. Decoder counters are forwarded to camera health.
pub(crate) struct DecoderFeed {
    camera_id: String,
    size: AnalysisSize,
    mode: DecodeMode,
    queue: Arc<FrameQueue<DecodedFrame>>,
    current: Option<Current>,
    reported_queue_drops: u64,
}

struct Current {
    session: u64,
    codec: VideoCodec,
    decoder: StreamDecoder,
    reported_decoded: u64,
    reported_dropped: u64,
}

impl DecoderFeed {
    pub fn new(
        camera_id: String,
        size: AnalysisSize,
        mode: DecodeMode,
        queue: Arc<FrameQueue<DecodedFrame>>,
    ) -> Self {
        Self {
            camera_id,
            size,
            mode,
            queue,
            current: None,
            reported_queue_drops: 0,
        }
    }

    /// Never blocks: the decoder drops input it cannot keep up with, and counts it.
    pub fn push(&mut self, au: AccessUnit, health: &CameraHandle) {
        let stale = self
            .current
            .as_ref()
            .is_none_or(|c| c.session != au.session || c.codec != au.codec);
        if stale {
            self.current = match StreamDecoder::new(
                &self.camera_id,
                au.codec,
                self.size.width,
                self.size.height,
                self.mode,
                self.queue.clone(),
            ) {
                Ok(decoder) => {
                    info!(camera = %self.camera_id, session = au.session, codec = au.codec.as_str(), "decoder started");
                    Some(Current {
                        session: au.session,
                        codec: au.codec,
                        decoder,
                        reported_decoded: 0,
                        reported_dropped: 0,
                    })
                }
                Err(e) => {
                    warn!(camera = %self.camera_id, error = %e, "decoder could not start");
                    None
                }
            };
        }
        let Some(c) = &mut self.current else { return };
        if let Err(e) = c
            .decoder
            .push(&au.data, au.pts_90k, au.is_keyframe, au.wall_time)
        {
            warn!(camera = %self.camera_id, error = %e, "decoder rejected an access unit");
        }
        let stats = c.decoder.stats();
        health.add_decoded(stats.frames_decoded.saturating_sub(c.reported_decoded));
        health.add_dropped(stats.dropped_input.saturating_sub(c.reported_dropped));
        c.reported_decoded = stats.frames_decoded;
        c.reported_dropped = stats.dropped_input;
        let queue_drops = self.queue.dropped();
        health.add_dropped(queue_drops.saturating_sub(self.reported_queue_drops));
        self.reported_queue_drops = queue_drops;
    }
}
