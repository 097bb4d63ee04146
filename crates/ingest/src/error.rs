/// Why one RTSP session ended. Messages carry the camera id and the redacted URL only.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("camera {camera} ({url}): {stage} failed: {message}")]
    Rtsp {
        camera: String,
        url: String,
        stage: &'static str,
        message: String,
    },

    #[error("camera {camera} ({url}): {stage} timed out after {seconds} s")]
    Timeout {
        camera: String,
        url: String,
        stage: &'static str,
        seconds: u64,
    },

    #[error("camera {camera} ({url}): no H.264/H.265 video stream (streams: {found})")]
    NoVideo {
        camera: String,
        url: String,
        found: String,
    },

    #[error("camera {camera} ({url}): server ended the stream")]
    Ended { camera: String, url: String },
}
