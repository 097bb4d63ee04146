//! The analysis pipeline shared by live cameras (`xl run`, `xl demo`) and files (`xl reanalyze`):
//! frames -> plate and vehicle inference -> per-camera tracking -> plate reads and rule events
//! (watch list, restricted zone, overload, obscured and cloned plates, flow counts) with evidence.
#![forbid(clippy::print_stdout, clippy::print_stderr)]

mod analysis;
mod decoder_feed;
mod enforcement;
mod error;
mod event_factory;
mod files;
mod held_reads;
mod live;
mod models;
mod reanalyze;
mod wim_router;
mod worker;

pub use analysis::{AnalysedFrame, CameraAnalysis, FrameMeta};
pub use enforcement::{CameraRules, Enforcement, PassRecord};
pub use error::PipelineError;
pub use event_factory::{EventFactory, IdMode, RuleEvent};
pub use files::{collect_inputs, read_image, InputFile, InputKind};
pub use live::{run_live, LiveOptions, LiveReport};
pub use models::{
    default_ort_library, load_models, model_digests, read_plates, resolve_ort_library,
    tracker_params, vehicle_tracker_params, AnalysisModels, FrameFindings,
};
pub use reanalyze::{reanalyze, ReanalyzeOptions, ReanalyzeProgress, ReanalyzeSummary};
pub use wim_router::WimRouter;
