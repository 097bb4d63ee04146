//! What runs beside the live pipeline: the HTTP API, the followed WIM files and retention.
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::warn;
use xl_api::{ApiState, TailStats};
use xl_config::SystemConfig;
use xl_pipeline::WimRouter;

const WIM_FILE_POLL: Duration = Duration::from_millis(500);

/// Binds the API (when configured) before returning, so a port in use fails the start; the tasks
/// stop on `cancel`.
pub async fn start(
    system: &SystemConfig,
    wim: Arc<WimRouter>,
    cancel: CancellationToken,
) -> anyhow::Result<TaskTracker> {
    let tasks = TaskTracker::new();
    let state = ApiState::new(wim.clone());
    if let Some(api) = &system.api {
        let listener = tokio::net::TcpListener::bind(api.listen)
            .await
            .with_context(|| format!("cannot listen on {} (api.listen)", api.listen))?;
        let (state, cancel) = (state.clone(), cancel.clone());
        tasks.spawn(async move {
            if let Err(e) = xl_api::serve(listener, state, cancel).await {
                warn!(error = %e, "API server stopped");
            }
        });
    }
    if !system.wim.jsonl.is_empty() {
        tasks.spawn(xl_api::follow_wim_files(
            system.wim.jsonl.clone(),
            wim,
            state.counters.clone(),
            Arc::new(TailStats::default()),
            WIM_FILE_POLL,
            cancel.clone(),
        ));
    }
    let tiers = super::tiers::open(system).await?;
    let policy = super::tiers::policy(&system.retention)?;
    let interval =
        Duration::from_secs(60 * u64::from(system.retention.interval_minutes.unwrap_or(60)));
    tasks.spawn(super::tiers::retention_task(
        tiers, policy, interval, cancel,
    ));
    tasks.close();
    Ok(tasks)
}
