//! The analysis pipeline shared by live cameras (`xl run`, `xl demo`) and files (`xl reanalyze`):
//! frames -> plate inference -> per-camera tracking -> `plate_read` events with evidence.
#![forbid(clippy::print_stdout, clippy::print_stderr)]

mod analysis;
mod decoder_feed;
mod error;
mod event_factory;
mod files;
mod live;
mod models;
mod reanalyze;
mod worker;

pub use analysis::{AnalysedFrame, CameraAnalysis, FrameMeta};
pub use error::PipelineError;
pub use event_factory::{EventFactory, IdMode};
pub use files::{collect_inputs, InputFile, InputKind};
pub use live::{run_live, LiveOptions, LiveReport};
pub use models::{
    default_ort_library, load_readers, model_digests, read_plates, resolve_ort_library,
};
pub use reanalyze::{reanalyze, ReanalyzeOptions, ReanalyzeProgress, ReanalyzeSummary};
