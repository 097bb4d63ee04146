//! The store's tiers and retention as configured in `xl.toml`.
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use xl_config::{RetentionConfig, SystemConfig};
use xl_store::cold::ColdEvents;
use xl_store::{open_object_store, run_retention, EvidenceStore, RetentionPolicy, Store, Tiers};

/// The hot store, the cold tier (when configured) and the evidence store.
pub struct OpenTiers {
    pub tiers: Tiers,
    pub evidence: EvidenceStore,
}

pub async fn open(system: &SystemConfig) -> anyhow::Result<OpenTiers> {
    let hot = Store::open(&system.store.url).await?;
    open_with(hot, system)
}

pub fn open_with(hot: Store, system: &SystemConfig) -> anyhow::Result<OpenTiers> {
    let cold = system
        .cold
        .as_ref()
        .map(|c| {
            open_object_store(&c.url)
                .map(ColdEvents::new)
                .context("cannot open the cold tier (cold.url)")
        })
        .transpose()?;
    let evidence = EvidenceStore::open(&system.evidence.location())
        .context("cannot open the evidence store")?;
    Ok(OpenTiers {
        tiers: Tiers::new(hot, cold),
        evidence,
    })
}

pub fn policy(config: &RetentionConfig) -> anyhow::Result<RetentionPolicy> {
    let mut policy = RetentionPolicy::default();
    if let Some(d) = config.hot_days {
        policy.hot_days = d;
    }
    if let Some(d) = config.default_keep_days {
        policy.default_keep_days = d;
    }
    policy
        .keep_days
        .extend(config.keep_days.iter().map(|(k, d)| (k.clone(), *d)));
    policy.validate().map_err(anyhow::Error::msg)?;
    Ok(policy)
}

/// Runs retention every `interval` until cancelled; a failed run is logged and retried at the
/// next interval (every step is resumable).
pub async fn retention_task(
    open: OpenTiers,
    policy: RetentionPolicy,
    interval: Duration,
    cancel: CancellationToken,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let now = chrono::Utc::now().with_timezone(&xl_schema::china_offset());
        match run_retention(&open.tiers, Some(&open.evidence), &policy, now).await {
            Ok(report) => info!(?report, "retention run"),
            Err(e) => warn!(error = %e, "retention run failed; retrying at the next interval"),
        }
    }
}
