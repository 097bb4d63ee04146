//! Typed configuration: `xl.toml` (store, evidence, cameras) and `pipelines/*.toml` (models,
//! thresholds, tracking). Unknown keys are errors that name the file and line; see docs/config.md.
#![forbid(clippy::print_stdout, clippy::print_stderr)]

mod error;
mod load;
mod pipeline;
mod system;

pub use error::ConfigError;
pub use pipeline::{
    AnalysisSize, PipelineConfig, PipelineModels, PlateSettings, TrackingSettings, VehicleSettings,
    VehicleTrackingSettings,
};
pub use system::{
    ApiConfig, CameraConfig, ColdConfig, DecodeSetting, EvidenceConfig, HooksConfig,
    RetentionConfig, RuntimeConfig, StoreConfig, SystemConfig, TransportSetting, WimSourcesConfig,
};
