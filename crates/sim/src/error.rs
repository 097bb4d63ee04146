use std::path::PathBuf;

/// Everything that can stop the simulator from starting; each variant names what it was doing.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid simulator config: {0}")]
    InvalidConfig(String),
    #[error("no CJK font for plate rendering; tried {tried:?} (install fonts-noto-cjk or fonts-wqy-zenhei)")]
    FontMissing { tried: Vec<PathBuf> },
    #[error("font {path} could not be parsed")]
    FontInvalid { path: PathBuf },
    #[error("{context} {path}: {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("GStreamer: {0}")]
    Gst(String),
    #[error("camera {camera}: encoding failed at frame {frame}: {message}")]
    Encode {
        camera: u32,
        frame: u64,
        message: String,
    },
    #[error("RTSP server on {bind}:{port}: {message}")]
    Server {
        bind: String,
        port: u16,
        message: String,
    },
    #[error("camera {camera}: preparation thread panicked")]
    PrepPanicked { camera: u32 },
}
