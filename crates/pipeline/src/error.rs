use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Config(#[from] xl_config::ConfigError),
    #[error(transparent)]
    Infer(#[from] xl_infer::InferError),
    #[error(transparent)]
    Decode(#[from] xl_decode::DecodeError),
    #[error(transparent)]
    Store(#[from] xl_store::StoreError),
    #[error(transparent)]
    Rules(#[from] xl_rules::RulesError),
    #[error("ONNX Runtime library not found at {}: run `make setup` or set runtime.ort_library / ORT_DYLIB_PATH", .0.display())]
    OrtLibraryMissing(PathBuf),
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    #[error("camera {camera}: {message}")]
    Camera { camera: String, message: String },
    /// The process itself failed (a thread could not start, a task panicked).
    #[error("pipeline runtime: {0}")]
    Runtime(String),
    #[error("writing output failed: {0}")]
    Output(#[source] std::io::Error),
}
