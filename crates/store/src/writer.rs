//! The store writer: events arrive on a bounded channel and are written in batches.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{error, info, warn};
use xl_schema::Event;

use crate::{Store, StoreError};

const MAX_BATCH: usize = 512;
const MAX_WAIT: Duration = Duration::from_millis(200);

#[derive(Debug, Default)]
pub struct WriterStats {
    pub written: AtomicU64,
    pub failed_batches: AtomicU64,
}

/// Handle to the writer task. `send` waits for room when the channel is full (back-pressure on
/// the producers, never loss); `close` drains everything already accepted.
pub struct EventWriter {
    tx: mpsc::Sender<Event>,
    task: JoinHandle<()>,
    stats: Arc<WriterStats>,
}

impl EventWriter {
    pub fn spawn(store: Store, capacity: usize) -> Self {
        let (tx, rx) = mpsc::channel(capacity);
        let stats = Arc::new(WriterStats::default());
        let task = tokio::spawn(run(store, rx, stats.clone()));
        Self { tx, task, stats }
    }

    pub fn sender(&self) -> mpsc::Sender<Event> {
        self.tx.clone()
    }

    pub async fn send(&self, event: Event) -> Result<(), StoreError> {
        self.tx
            .send(event)
            .await
            .map_err(|_| StoreError::WriterClosed)
    }

    pub fn stats(&self) -> Arc<WriterStats> {
        self.stats.clone()
    }

    /// Stops accepting events once every sender is dropped and waits until all are written.
    pub async fn close(self) {
        drop(self.tx);
        if let Err(e) = self.task.await {
            error!(error = %e, "event writer task failed");
        }
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Event>, stats: Arc<WriterStats>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let Some(first) = rx.recv().await else { break };
        batch.push(first);
        let deadline = tokio::time::Instant::now() + MAX_WAIT;
        while batch.len() < MAX_BATCH {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(e)) => batch.push(e),
                Ok(None) | Err(_) => break,
            }
        }
        write_with_retry(&store, &mut batch, &stats).await;
    }
    info!(
        written = stats.written.load(Ordering::Relaxed),
        "event writer drained"
    );
}

/// Retries a failing batch (e.g. a locked or full disk) rather than dropping accepted events.
async fn write_with_retry(store: &Store, batch: &mut Vec<Event>, stats: &WriterStats) {
    let mut delay = Duration::from_millis(100);
    loop {
        match store.insert_events(batch).await {
            Ok(_) => {
                stats
                    .written
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                batch.clear();
                return;
            }
            Err(e) => {
                stats.failed_batches.fetch_add(1, Ordering::Relaxed);
                warn!(error = %e, events = batch.len(), retry_in_ms = delay.as_millis() as u64, "event batch write failed");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}
