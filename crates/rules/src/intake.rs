//! Where weigh-in-motion records are handed in (HTTP, followed files), implemented by whatever
//! runs the overload rule.
use xl_schema::WimRecord;

use crate::{WimIngest, WimReject};

/// A destination for WIM records.
pub trait WimIntake: Send + Sync {
    /// Takes one record: accepted, a repeat, or refused with the reason.
    fn ingest(&self, record: WimRecord) -> Result<WimIngest, WimReject>;
    /// Whether the pipelines that judge records are running.
    fn is_ready(&self) -> bool;
}
