use std::path::PathBuf;

/// Everything that can go wrong while decoding. Each variant renders as one line that names the
/// camera or file it concerns.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DecodeError {
    #[error("GStreamer could not be initialised: {0}")]
    Init(String),

    #[error("GStreamer element `{element}` is missing (install {package})")]
    MissingElement {
        element: &'static str,
        package: &'static str,
    },

    #[error("invalid decode argument: {0}")]
    InvalidArgument(String),

    #[error("{context}: cannot build decode pipeline: {message}")]
    Pipeline { context: String, message: String },

    #[error("{context}: decoder error: {message}")]
    Stream { context: String, message: String },

    #[error("camera {camera}: decoder is closed after a fatal error")]
    Closed { camera: String },

    #[error("video file not found: {}", path.display())]
    FileNotFound { path: PathBuf },

    #[error("{}: not a decodable video file: {detail}", path.display())]
    NotVideo { path: PathBuf, detail: String },

    #[error(
        "{}: file ends early (truncated?): video stops at {decoded_until_s:.2} s of {duration_s:.2} s",
        path.display()
    )]
    Truncated {
        path: PathBuf,
        decoded_until_s: f64,
        duration_s: f64,
    },

    #[error("{}: decoding stalled: no frame nor end of stream for {seconds} s", path.display())]
    Stalled { path: PathBuf, seconds: u64 },

    #[error("{context}: frame {frame_index}: unexpected frame layout: {message}")]
    Frame {
        context: String,
        frame_index: u64,
        message: String,
    },
}
