//! Errors of the inference stage, each carrying the model, file or input it concerns.
use std::path::PathBuf;

/// Failures of loading or running the plate models.
///
/// Camera and frame context belong to the caller (the pipeline wraps these with its own
/// `camera`/`frame` fields); everything this crate knows is recorded here.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    #[error(
        "no ONNX Runtime library: set ORT_DYLIB_PATH or pass a path (scripts/setup.sh puts it under .cache/lib)"
    )]
    RuntimeNotConfigured,

    #[error("cannot load ONNX Runtime from {path}: {reason}")]
    RuntimeLoad { path: PathBuf, reason: String },

    #[error("cannot load model {model} from {path}: {source}")]
    ModelLoad {
        model: &'static str,
        path: PathBuf,
        #[source]
        source: ort::Error,
    },

    #[error("model {model} failed on input {shape:?}: {source}")]
    Run {
        model: &'static str,
        shape: Vec<usize>,
        #[source]
        source: ort::Error,
    },

    #[error("model {model} output {output}: {reason}")]
    BadOutput {
        model: &'static str,
        output: String,
        reason: String,
    },

    #[error("model {model} at {path} is not the expected model: {reason}")]
    UnexpectedModel {
        model: &'static str,
        path: PathBuf,
        reason: String,
    },

    #[error("image buffer of {len} bytes does not hold {width}x{height} RGB pixels")]
    ImageSize { width: u32, height: u32, len: usize },

    #[error("resizing {from:?} to {to:?}: {reason}")]
    Resize {
        from: (u32, u32),
        to: (u32, u32),
        reason: String,
    },
}

pub type Result<T, E = InferError> = std::result::Result<T, E>;
