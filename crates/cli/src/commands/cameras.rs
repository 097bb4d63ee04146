use chrono::{DateTime, Utc};
use xl_store::Store;

use crate::args::{Format, StoreArgs};
use crate::output::stdout_line;

pub fn status(store_args: StoreArgs, format: Format) -> anyhow::Result<()> {
    let url = super::store_url(&store_args)?;
    let rt = super::tokio_runtime()?;
    let rows = rt.block_on(async {
        let store = Store::open(&url).await?;
        let rows = store.camera_health().await;
        store.close().await;
        rows
    })?;
    if rows.is_empty() {
        stdout_line(
            "no camera has reported yet (is `xl run` or `xl demo` running against this store?)",
        )?;
        return Ok(());
    }
    if matches!(format, Format::Table) {
        stdout_line(&format!(
            "{:<12} {:<11} {:>6} {:>9} {:>8} {:>6} {:<24} {:<20} {}",
            "camera",
            "state",
            "fps",
            "decoded",
            "dropped",
            "recon",
            "last frame",
            "reported",
            "last error"
        ))?;
    }
    for (updated_ms, h) in rows {
        let line = match format {
            Format::Jsonl => h.to_string(),
            Format::Table => {
                let s = |k: &str| h.get(k).and_then(|v| v.as_str()).unwrap_or("-").to_string();
                let n = |k: &str| h.get(k).and_then(|v| v.as_f64()).unwrap_or(0.0);
                let reported = DateTime::<Utc>::from_timestamp_millis(updated_ms)
                    .map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string());
                format!(
                    "{:<12} {:<11} {:>6.1} {:>9} {:>8} {:>6} {:<24} {:<20} {}",
                    s("camera_id"),
                    s("state"),
                    n("fps_in"),
                    n("frames_decoded"),
                    n("frames_dropped"),
                    n("reconnects"),
                    s("last_frame_at"),
                    reported,
                    s("last_error")
                )
            }
        };
        stdout_line(&line)?;
    }
    Ok(())
}
