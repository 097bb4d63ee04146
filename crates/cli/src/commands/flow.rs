//! `xl flow query`: the flow-count time series.
use anyhow::Context;
use chrono::{DateTime, FixedOffset};
use xl_store::{FlowQuery, Store};

use crate::args::{Format, StoreArgs};
use crate::output::stdout_line;

pub fn parse_time(s: Option<&str>, flag: &str) -> anyhow::Result<Option<DateTime<FixedOffset>>> {
    s.map(DateTime::parse_from_rfc3339)
        .transpose()
        .with_context(|| {
            format!("{flag} must be an RFC 3339 time such as 2026-11-29T08:00:00+08:00")
        })
}

pub fn query(store_args: StoreArgs, q: FlowQuery, format: Format) -> anyhow::Result<()> {
    let url = super::store_url(&store_args)?;
    let rt = super::tokio_runtime()?;
    let rows = rt.block_on(async {
        let store = Store::open(&url).await?;
        let rows = store.flow_counts(&q).await;
        store.close().await;
        rows
    })?;
    for r in &rows {
        let line = match format {
            Format::Jsonl => serde_json::to_string(r)?,
            Format::Table => format!(
                "{} .. {}  {:<10} {:<12} {:<10} {:<10} {:>5}",
                r.interval_start.format("%Y-%m-%d %H:%M:%S"),
                r.interval_end.format("%H:%M:%S"),
                r.camera_id,
                r.line_id,
                r.direction,
                r.class,
                r.count
            ),
        };
        stdout_line(&line)?;
    }
    Ok(())
}
