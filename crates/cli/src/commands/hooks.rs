//! `xl hooks create|list|pause|resume|delete|redeliver|serve`: subscriptions from the shell, and
//! a dispatcher-only process for scale-out. Every change is audited as `cli:<login>`.
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use xl_config::HooksConfig;
use xl_hooks::{Backoff, DispatchConfig, Dispatcher, HookStats, Target};
use xl_schema::EventKind;
use xl_store::{NewSubscription, Redeliver, Store, SubscriptionState};

use super::sharing::{audit_change, json_lines, say, with_store};
use crate::args::HooksCommand;

/// The dispatcher's settings from `[hooks]`.
pub fn dispatch_config(config: &HooksConfig) -> DispatchConfig {
    let defaults = DispatchConfig::default();
    DispatchConfig {
        backoff: Backoff {
            max_age: config.max_age_hours.map_or(defaults.backoff.max_age, |h| {
                Duration::from_secs(3600 * u64::from(h))
            }),
            cap: config
                .max_backoff_seconds
                .map_or(defaults.backoff.cap, |s| {
                    Duration::from_secs(u64::from(s.max(1)))
                }),
            ..defaults.backoff
        },
        request_timeout: config
            .timeout_seconds
            .map_or(defaults.request_timeout, |s| {
                Duration::from_secs(u64::from(s.max(1)))
            }),
        ..defaults
    }
}

/// Starts the dispatcher (and hourly pruning of delivered outbox rows) on `tasks`, until
/// `cancel`; returns its figures for the API and /metrics.
pub fn start_dispatch(
    store: Store,
    config: &HooksConfig,
    tasks: &TaskTracker,
    cancel: CancellationToken,
) -> anyhow::Result<Arc<HookStats>> {
    let dispatcher = Dispatcher::new(store.clone(), dispatch_config(config))
        .context("cannot set up the HTTP client for webhooks")?;
    let stats = dispatcher.stats();
    let keep_days = i64::from(config.keep_delivered_days.unwrap_or(7));
    let prune_cancel = cancel.clone();
    tasks.spawn(async move {
        loop {
            let before = chrono::Utc::now().timestamp_millis() - keep_days * 86_400_000;
            match store.prune_outbox(before).await {
                Ok(n) if n > 0 => tracing::info!(rows = n, "pruned delivered outbox rows"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot prune the outbox"),
            }
            tokio::select! {
                _ = prune_cancel.cancelled() => break,
                _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            }
        }
    });
    tasks.spawn(dispatcher.run(cancel));
    Ok(stats)
}

pub fn run(command: HooksCommand) -> anyhow::Result<()> {
    match command {
        HooksCommand::Create {
            store,
            user,
            url,
            kinds,
            cameras,
            plates,
            max_in_flight,
        } => {
            Target::parse(&url)?;
            for k in &kinds {
                EventKind::parse(k).with_context(|| format!("unknown event kind {k:?}"))?;
            }
            let new = NewSubscription {
                owner_user: user,
                target: url,
                kinds,
                cameras,
                plates,
                max_in_flight,
            };
            with_store(&store, async |s| {
                let sub = s.create_subscription(&new, now_ms()).await?;
                audit_change(s, "hook.create", format!("hook:{}", sub.id)).await?;
                let mut shown = serde_json::to_value(&sub)?;
                shown["secret"] = json!(sub.secret);
                say(&shown.to_string())
            })
        }
        HooksCommand::List { store } => with_store(&store, async |s| {
            let counts = s.outbox_counts(false).await?;
            let rows: Vec<serde_json::Value> = s
                .subscriptions()
                .await?
                .iter()
                .map(|sub| sub.view(&counts))
                .collect();
            json_lines(&rows)
        }),
        HooksCommand::Pause { store, id } => set_state(&store, &id, SubscriptionState::Paused),
        HooksCommand::Resume { store, id } => set_state(&store, &id, SubscriptionState::Active),
        HooksCommand::Delete { store, id } => set_state(&store, &id, SubscriptionState::Deleted),
        HooksCommand::Redeliver {
            store,
            id,
            dead,
            from,
            to,
        } => {
            let what = match (dead, from, to) {
                (true, _, _) => Redeliver::Dead,
                (false, Some(from), Some(to)) => Redeliver::Range {
                    from_ms: super::flow::parse_time(Some(&from), "--from")?
                        .expect("given")
                        .timestamp_millis(),
                    to_ms: super::flow::parse_time(Some(&to), "--to")?
                        .expect("given")
                        .timestamp_millis(),
                },
                _ => anyhow::bail!("say what to redeliver: --dead, or --from T --to T"),
            };
            with_store(&store, async |s| {
                if s.subscription(&id).await?.is_none() {
                    anyhow::bail!("no subscription {id:?}");
                }
                let n = s.redeliver(&id, what, now_ms()).await?;
                audit_change(s, "hook.redeliver", format!("hook:{id}")).await?;
                say(&format!("{n} deliveries queued again for {id}"))
            })
        }
        HooksCommand::Serve { store } => {
            let system = super::system_config(&store)?;
            super::tokio_runtime()?.block_on(async {
                let hot = Store::open(&system.store.url).await?;
                let cancel = CancellationToken::new();
                super::shutdown::on_signal_or_timeout(cancel.clone(), None);
                let tasks = TaskTracker::new();
                start_dispatch(hot.clone(), &system.hooks, &tasks, cancel)?;
                tasks.close();
                tasks.wait().await;
                hot.close().await;
                anyhow::Ok(())
            })
        }
    }
}

fn set_state(
    store: &crate::args::StoreArgs,
    id: &str,
    state: SubscriptionState,
) -> anyhow::Result<()> {
    with_store(store, async |s| {
        s.set_subscription_state(id, state, now_ms()).await?;
        audit_change(s, &format!("hook.{}", state.as_str()), format!("hook:{id}")).await?;
        say(&format!("subscription {id} is {}", state.as_str()))
    })
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
