//! What runs beside the live pipeline: the HTTP API, the followed WIM files and retention.
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::warn;
use xl_api::{ApiDeps, ApiState, TailStats, DEFAULT_RATE_PER_MINUTE};
use xl_config::SystemConfig;
use xl_pipeline::WimRouter;
use xl_schema::Event;
use xl_store::{AuditMode, CameraRecord, Store};

const WIM_FILE_POLL: Duration = Duration::from_millis(500);

/// Binds the API (when configured) before returning, so a port in use fails the start; the tasks
/// stop on `cancel`.
pub async fn start(
    system: &SystemConfig,
    wim: Arc<WimRouter>,
    live: tokio::sync::broadcast::Sender<Event>,
    cancel: CancellationToken,
) -> anyhow::Result<TaskTracker> {
    let tasks = TaskTracker::new();
    let opened = super::tiers::open(system).await?;
    register_cameras(&opened.tiers.hot, system).await?;
    let api_config = system.api.as_ref();
    let audit = match api_config.and_then(|a| a.audit.as_deref()) {
        None | Some("batched") => AuditMode::Batched,
        Some("sync") => AuditMode::Sync,
        Some(other) => anyhow::bail!("api.audit = {other:?}: expected \"batched\" or \"sync\""),
    };
    let hooks = if system.hooks.dispatch.unwrap_or(true) {
        Some(super::hooks::start_dispatch(
            opened.tiers.hot.clone(),
            &system.hooks,
            &tasks,
            cancel.clone(),
        )?)
    } else {
        None
    };
    let state = ApiState::new(ApiDeps {
        hooks,
        wim: wim.clone(),
        tiers: opened.tiers.clone(),
        evidence: Some(opened.evidence.clone()),
        live,
        audit,
        rate_per_minute: api_config
            .and_then(|a| a.rate_per_minute)
            .unwrap_or(DEFAULT_RATE_PER_MINUTE),
        view: xl_api::web::ViewSettings {
            tile_url: api_config.and_then(|a| a.tile_url.clone()),
            tile_attribution: api_config.and_then(|a| a.tile_attribution.clone()),
        },
    });
    if let Some(api) = &system.api {
        let listener = tokio::net::TcpListener::bind(api.listen)
            .await
            .with_context(|| format!("cannot listen on {} (api.listen)", api.listen))?;
        let tls = match (&api.tls_cert, &api.tls_key) {
            (Some(cert), Some(key)) => Some(xl_api::tls::server_config(cert, key)?),
            _ => None,
        };
        let (state, cancel) = (state.clone(), cancel.clone());
        tasks.spawn(async move {
            let served = match tls {
                Some(tls) => xl_api::serve_tls(listener, tls, state, cancel).await,
                None => xl_api::serve(listener, state, cancel).await,
            };
            if let Err(e) = served {
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
    let policy = super::tiers::policy(&system.retention)?;
    let interval =
        Duration::from_secs(60 * u64::from(system.retention.interval_minutes.unwrap_or(60)));
    tasks.spawn(super::tiers::retention_task(
        opened, policy, interval, cancel,
    ));
    tasks.close();
    Ok(tasks)
}

/// Registers the configured cameras with their owning department and share level (the sharing
/// model reads them from the store); departments named there are created if missing.
pub async fn register_cameras(store: &Store, system: &SystemConfig) -> anyhow::Result<()> {
    for camera in &system.cameras {
        store
            .ensure_department(&camera.department)
            .await
            .with_context(|| format!("camera {}: department", camera.id))?;
        let record = CameraRecord {
            id: camera.id.clone(),
            name: if camera.name.is_empty() {
                camera.id.clone()
            } else {
                camera.name.clone()
            },
            department_id: camera.department.clone(),
            share_level: camera.share_level,
            lat: Some(camera.lat),
            lon: Some(camera.lon),
        };
        store
            .upsert_camera(&record)
            .await
            .with_context(|| format!("cannot register camera {}", camera.id))?;
    }
    Ok(())
}
