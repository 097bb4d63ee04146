//! The live feed of an API process that runs no pipeline (`xl serve`): new events are read from
//! the store in creation order and put on the same broadcast a pipeline would feed. An event
//! appears once `settle` has passed since it was created, so a batch that another writer lane
//! commits a little later than its neighbours is not skipped; events stored later than that
//! (replayed after a store outage) are searchable but do not appear on the feed.
use std::time::Duration;

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tracing::warn;
use xl_schema::Event;
use xl_store::{uuid_v7_floor, Store};

const PAGE: u32 = 1000;

#[derive(Debug, Clone, Copy)]
pub struct FollowOptions {
    /// How often the store is read.
    pub every: Duration,
    /// How long after its creation an event is taken as stored.
    pub settle: Duration,
}

impl Default for FollowOptions {
    fn default() -> Self {
        Self {
            every: Duration::from_secs(1),
            settle: Duration::from_secs(3),
        }
    }
}

fn floor_before(settle: Duration) -> uuid::Uuid {
    let now = chrono::Utc::now().timestamp_millis().max(0) as u64;
    uuid_v7_floor(now.saturating_sub(settle.as_millis() as u64))
}

/// Broadcasts every event created from now on, once, in creation order, until `cancel`.
pub async fn follow_store(
    store: Store,
    live: broadcast::Sender<Event>,
    opts: FollowOptions,
    cancel: CancellationToken,
) {
    let mut after = floor_before(opts.settle);
    let mut tick = tokio::time::interval(opts.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let before = floor_before(opts.settle);
        loop {
            match store.events_created_between(after, before, PAGE).await {
                Ok(events) => {
                    let full = events.len() == PAGE as usize;
                    for event in events {
                        after = event.id;
                        // No subscriber is not an error: the feed is for whoever is watching.
                        let _ = live.send(event);
                    }
                    if !full {
                        break;
                    }
                }
                Err(e) => {
                    warn!(error = %e, "live feed cannot read the store; retrying");
                    break;
                }
            }
        }
    }
}
