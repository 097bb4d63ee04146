use anyhow::Context;
use chrono::DateTime;
use xl_schema::EventKind;
use xl_store::{EventQuery, Store};

use crate::args::{EventFilters, Format, StoreArgs};
use crate::output::{event_line, stdout_line};

pub fn query(store_args: StoreArgs, f: EventFilters, format: Format) -> anyhow::Result<()> {
    let url = super::store_url(&store_args)?;
    let time = |s: &Option<String>, flag: &str| {
        s.as_deref()
            .map(DateTime::parse_from_rfc3339)
            .transpose()
            .with_context(|| {
                format!("{flag} must be an RFC 3339 time such as 2026-11-29T08:00:00+08:00")
            })
    };
    let kind = f
        .kind
        .as_deref()
        .map(|k| {
            EventKind::parse(k).with_context(|| {
                let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown event kind {k:?} (known: {})", known.join(", "))
            })
        })
        .transpose()?;
    let q = EventQuery {
        plate: f.plate,
        camera_id: f.camera,
        kind,
        from: time(&f.from, "--from")?,
        to: time(&f.to, "--to")?,
        after: None,
        limit: f.limit,
    };
    let rt = super::tokio_runtime()?;
    let events = rt.block_on(async {
        let store = Store::open(&url).await?;
        let events = store.query(&q).await;
        store.close().await;
        events
    })?;
    for e in &events {
        let line = match format {
            Format::Jsonl => serde_json::to_string(e)?,
            Format::Table => event_line(e),
        };
        stdout_line(&line)?;
    }
    Ok(())
}
