//! One RTSP session: DESCRIBE, SETUP of the video stream, PLAY, then frames until it fails.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::StreamExt;
use retina::client::{
    PlayOptions, SessionOptions, SetupOptions, TcpTransportOptions, UdpTransportOptions,
};
use retina::codec::{CodecItem, FrameFormat};
use tokio::time::{timeout, timeout_at, Instant};
use xl_schema::VideoCodec;

use crate::health::CameraHandle;
use crate::source::{redact_url, scrub, split_credentials};
use crate::{AccessUnit, CameraSource, IngestError, Transport};

/// Limit for each RTSP request round trip (a black-holed camera would otherwise hang forever).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// No video frame for this long means the session is dead.
pub(crate) const FRAME_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) struct SessionOutcome {
    pub(crate) error: IngestError,
    /// How long frames were flowing, for backoff reset.
    pub(crate) streamed: Duration,
}

pub(crate) async fn run_session(
    source: &CameraSource,
    session_no: u64,
    handle: &CameraHandle,
    on_au: &mut (impl FnMut(AccessUnit) + Send),
) -> SessionOutcome {
    let mut streaming_since = None;
    let error = match stream(source, session_no, handle, on_au, &mut streaming_since).await {
        Ok(never) => match never {},
        Err(e) => e,
    };
    SessionOutcome {
        error,
        streamed: streaming_since.map_or(Duration::ZERO, |t: Instant| t.elapsed()),
    }
}

enum Never {}

async fn stream(
    source: &CameraSource,
    session_no: u64,
    handle: &CameraHandle,
    on_au: &mut (impl FnMut(AccessUnit) + Send),
    streaming_since: &mut Option<Instant>,
) -> Result<Never, IngestError> {
    let ctx = Ctx { source };
    let (url, creds) = split_credentials(&source.url);
    let options = SessionOptions::default()
        .creds(creds)
        .user_agent(format!("xueliang/{}", env!("CARGO_PKG_VERSION")));
    let mut session = ctx
        .step("DESCRIBE", retina::client::Session::describe(url, options))
        .await?;

    let (stream_i, codec) = session
        .streams()
        .iter()
        .enumerate()
        .find_map(|(i, s)| {
            let codec = match (s.media(), s.encoding_name()) {
                ("video", "h264") => VideoCodec::H264,
                ("video", "h265") => VideoCodec::H265,
                _ => return None,
            };
            Some((i, codec))
        })
        .ok_or_else(|| IngestError::NoVideo {
            camera: source.id.clone(),
            url: redact_url(&source.url),
            found: session
                .streams()
                .iter()
                .map(|s| format!("{}/{}", s.media(), s.encoding_name()))
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let transport = match source.transport {
        Transport::Tcp => retina::client::Transport::Tcp(TcpTransportOptions::default()),
        Transport::Udp => retina::client::Transport::Udp(UdpTransportOptions::default()),
    };
    let setup = SetupOptions::default()
        .transport(transport)
        .frame_format(FrameFormat::SIMPLE);
    ctx.step("SETUP", session.setup(stream_i, setup)).await?;
    let playing = ctx
        .step("PLAY", session.play(PlayOptions::default()))
        .await?;
    let mut demuxed = playing.demuxed().map_err(|e| ctx.rtsp("demux", &e))?;

    let mut first_elapsed = None;
    let mut last_video = Instant::now();
    loop {
        let next = timeout_at(last_video + FRAME_TIMEOUT, demuxed.next()).await;
        let item = match next {
            Err(_) => return Err(ctx.timeout("receiving video", FRAME_TIMEOUT)),
            Ok(None) => {
                return Err(IngestError::Ended {
                    camera: source.id.clone(),
                    url: redact_url(&source.url),
                })
            }
            Ok(Some(Err(e))) => return Err(ctx.rtsp("receiving", &e)),
            Ok(Some(Ok(item))) => item,
        };
        let CodecItem::VideoFrame(frame) = item else {
            continue;
        };
        if frame.stream_id() != stream_i {
            continue;
        }
        last_video = Instant::now();
        streaming_since.get_or_insert(last_video);
        let elapsed = frame.timestamp().elapsed();
        let first = *first_elapsed.get_or_insert(elapsed);
        let is_keyframe = frame.is_random_access_point();
        handle.frame_received();
        on_au(AccessUnit {
            data: Bytes::from(frame.into_data()),
            codec,
            pts_90k: rebase_to_90k(elapsed - first, demuxed.streams()[stream_i].clock_rate_hz()),
            is_keyframe,
            wall_time: SystemTime::now(),
            session: session_no,
        });
    }
}

/// Converts a timestamp in the stream's clock (90 kHz for video in practice) to 90 kHz ticks.
fn rebase_to_90k(ticks: i64, clock_rate_hz: u32) -> i64 {
    if clock_rate_hz == 90_000 || clock_rate_hz == 0 {
        return ticks;
    }
    (i128::from(ticks) * 90_000 / i128::from(clock_rate_hz)) as i64
}

struct Ctx<'a> {
    source: &'a CameraSource,
}

impl Ctx<'_> {
    async fn step<T>(
        &self,
        stage: &'static str,
        fut: impl std::future::Future<Output = Result<T, retina::Error>>,
    ) -> Result<T, IngestError> {
        match timeout(REQUEST_TIMEOUT, fut).await {
            Err(_) => Err(self.timeout(stage, REQUEST_TIMEOUT)),
            Ok(result) => result.map_err(|e| self.rtsp(stage, &e)),
        }
    }

    fn rtsp(&self, stage: &'static str, e: &retina::Error) -> IngestError {
        IngestError::Rtsp {
            camera: self.source.id.clone(),
            url: redact_url(&self.source.url),
            stage,
            // retina never saw the credentials, but scrub anyway: this string is logged and
            // shown by the API.
            message: scrub(&e.to_string(), &self.source.url),
        }
    }

    fn timeout(&self, stage: &'static str, after: Duration) -> IngestError {
        IngestError::Timeout {
            camera: self.source.id.clone(),
            url: redact_url(&self.source.url),
            stage,
            seconds: after.as_secs(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rebase_to_90k;

    #[test]
    fn rebases_other_clock_rates() {
        assert_eq!(rebase_to_90k(3600, 90_000), 3600);
        assert_eq!(rebase_to_90k(1000, 1000), 90_000);
    }
}
