//! `xl serve`: the HTTP API, the command view and the webhook dispatcher over the store of
//! `--config`, without cameras or pipelines (more API processes in front of one store, or an
//! analysts' server beside the ingest hosts). Its live feed follows the store.
use std::sync::Arc;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use xl_api::{follow_store, FollowOptions};
use xl_config::SystemConfig;
use xl_pipeline::WimRouter;

use crate::args::ServeArgs;

pub fn run(a: ServeArgs) -> anyhow::Result<()> {
    let mut system = SystemConfig::load(&a.config)?;
    anyhow::ensure!(
        system.api.is_some(),
        "{}: [api] listen is needed to serve",
        a.config.display()
    );
    // Weigh-in-motion records are fused with plate reads by the process that runs the
    // pipelines: this one follows no WIM files, and its POST /api/v1/wim answers 503.
    system.wim.jsonl.clear();
    let rt = super::tokio_runtime()?;
    rt.block_on(async {
        let cancel = CancellationToken::new();
        super::shutdown::on_signal_or_timeout(cancel.clone(), a.duration);
        let (events, _) = tokio::sync::broadcast::channel(1024);
        let services = super::services::start(
            &system,
            Arc::new(WimRouter::new()),
            events.clone(),
            cancel.clone(),
        )
        .await?;
        let store = xl_store::Store::open(&system.store.url)
            .await
            .context("the store for the live feed")?;
        let follower = tokio::spawn(follow_store(
            store.clone(),
            events,
            FollowOptions::default(),
            cancel.clone(),
        ));
        cancel.cancelled().await;
        let _ = follower.await;
        store.close().await;
        services.wait().await;
        anyhow::Ok(())
    })
}
