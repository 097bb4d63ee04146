//! RTSP ingest with retina: one task per camera, reconnect with capped exponential backoff and
//! jitter, per-camera health. Camera credentials never leave this crate in clear text: logs,
//! errors, `Debug` output and health all use [`redact_url`].

mod backoff;
mod error;
mod health;
mod run;
mod session;
mod source;

pub use backoff::BackoffPolicy;
pub use error::IngestError;
pub use health::{CameraHandle, CameraHealth, CameraState, HealthRegistry};
pub use run::{run_camera, AccessUnit};
pub use source::{redact_url, CameraSource, Transport};
