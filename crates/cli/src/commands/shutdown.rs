//! One shutdown signal: Ctrl-C / SIGTERM (or a duration) cancels; a second signal exits at once.
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

pub fn on_signal_or_timeout(cancel: CancellationToken, duration: Option<f64>) {
    tokio::spawn(async move {
        let timeout = async {
            match duration {
                Some(secs) => tokio::time::sleep(Duration::from_secs_f64(secs)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = signal() => info!("shutting down gracefully; send another SIGINT or SIGTERM to stop immediately"),
            _ = timeout => info!("duration reached; shutting down gracefully"),
            _ = cancel.cancelled() => return,
        }
        cancel.cancel();
        signal().await;
        warn!("second signal: exiting immediately");
        std::process::exit(130);
    });
}

async fn signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
