use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use xl_config::SystemConfig;
use xl_ingest::HealthRegistry;
use xl_pipeline::{resolve_ort_library, run_live, LiveOptions, WimRouter};

use crate::args::RunArgs;

/// Loads the ONNX Runtime library and checks GStreamer before anything starts; returns the
/// library's path.
pub fn init_runtimes(ort_library: Option<&Path>) -> anyhow::Result<PathBuf> {
    let library = resolve_ort_library(ort_library)?;
    xl_infer::load_onnx_runtime(Some(&library))?;
    xl_decode::init()?;
    Ok(library)
}

pub fn run(a: RunArgs) -> anyhow::Result<()> {
    let system = SystemConfig::load(&a.config)?;
    anyhow::ensure!(
        !system.cameras.is_empty(),
        "{}: no [[cameras]] configured",
        a.config.display()
    );
    let ort_library = init_runtimes(system.runtime.ort_library.as_deref())?;
    let workers = a
        .workers
        .or(system.runtime.workers)
        .unwrap_or_else(super::default_workers);
    let rt = super::tokio_runtime()?;
    rt.block_on(async {
        let cancel = CancellationToken::new();
        super::shutdown::on_signal_or_timeout(cancel.clone(), a.duration);
        let (events, _) = tokio::sync::broadcast::channel(1024);
        let wim = Arc::new(WimRouter::new());
        let services =
            super::services::start(&system, wim.clone(), events.clone(), cancel.clone()).await?;
        let opts = LiveOptions {
            system,
            workers,
            events,
            health: Arc::new(HealthRegistry::new()),
            health_interval: Duration::from_secs(2),
            ort_library,
            wim,
        };
        let result = run_live(opts, cancel.clone())
            .await
            .context("pipeline failed");
        cancel.cancel();
        services.wait().await;
        result
    })?;
    Ok(())
}
