//! Routing weigh-in-motion records to the pipeline whose overload rule lists their station.
use std::sync::{Arc, RwLock};

use std::sync::atomic::{AtomicU64, Ordering};

use xl_rules::{WimIngest, WimIntake, WimReject};
use xl_schema::WimRecord;

use crate::enforcement::Enforcement;

/// Shared between the record sources (HTTP, tailed files) and the running pipelines; empty until
/// the pipelines have started.
#[derive(Default)]
pub struct WimRouter {
    pipelines: RwLock<Vec<Arc<Enforcement>>>,
    /// Records for stations no pipeline knows.
    unknown_station: AtomicU64,
}

impl WimRouter {
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn attach(&self, pipelines: Vec<Arc<Enforcement>>) {
        *self.pipelines.write().unwrap_or_else(|p| p.into_inner()) = pipelines;
    }

    pub(crate) fn detach(&self) {
        self.attach(Vec::new());
    }

    /// Records refused because no running pipeline has their station.
    pub fn unknown_station_count(&self) -> u64 {
        self.unknown_station.load(Ordering::Relaxed)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<Enforcement>>> {
        self.pipelines.read().unwrap_or_else(|p| p.into_inner())
    }
}

impl WimIntake for WimRouter {
    /// Hands the record to the pipeline that knows its station.
    fn ingest(&self, record: WimRecord) -> Result<WimIngest, WimReject> {
        let pipelines = self.read();
        match pipelines.iter().find(|e| e.has_station(&record.station_id)) {
            Some(e) => e.ingest_wim(record),
            None => {
                self.unknown_station.fetch_add(1, Ordering::Relaxed);
                Err(WimReject::UnknownStation(record.station_id))
            }
        }
    }

    fn is_ready(&self) -> bool {
        !self.read().is_empty()
    }
}
