//! `xl events query|trajectory` (searches across the hot and cold tiers) and `xl events import`.
use anyhow::Context;
use chrono::{DateTime, FixedOffset};
use xl_schema::{Event, EventKind};
use xl_store::EventQuery;

use crate::args::{EventFilters, Format, StoreArgs};
use crate::output::{event_line, stdout_line};

fn time(s: Option<&str>, flag: &str) -> anyhow::Result<Option<DateTime<FixedOffset>>> {
    s.map(DateTime::parse_from_rfc3339)
        .transpose()
        .with_context(|| {
            format!("{flag} must be an RFC 3339 time such as 2026-11-29T08:00:00+08:00")
        })
}

fn cursor(s: &str) -> anyhow::Result<(i64, uuid::Uuid)> {
    let parse = || -> Option<(i64, uuid::Uuid)> {
        let (ts, id) = s.split_once(':')?;
        Some((ts.parse().ok()?, uuid::Uuid::parse_str(id).ok()?))
    };
    parse().with_context(|| {
        format!("--after {s:?} must be a cursor TS_MS:EVENT_ID as printed after a full page")
    })
}

pub fn query(store_args: StoreArgs, f: EventFilters, format: Format) -> anyhow::Result<()> {
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
        plate_prefix: f.plate_prefix,
        camera_id: f.camera,
        kind,
        from: time(f.from.as_deref(), "--from")?,
        to: time(f.to.as_deref(), "--to")?,
        after: f.after.as_deref().map(cursor).transpose()?,
        limit: f.limit,
        id: None,
        visibility: None,
    };
    let events = search(&store_args, &q)?;
    print_events(&events, format)?;
    if matches!(format, Format::Table) && events.len() == q.page_size() as usize {
        if let Some(last) = events.last() {
            stdout_line(&format!(
                "-- more: --after {}:{}",
                last.ts.timestamp_millis(),
                last.id
            ))?;
        }
    }
    Ok(())
}

pub fn trajectory(
    store_args: StoreArgs,
    plate: String,
    from: Option<String>,
    to: Option<String>,
    limit: u32,
    format: Format,
) -> anyhow::Result<()> {
    let q = EventQuery {
        plate: Some(plate),
        kind: Some(EventKind::PlateRead),
        from: time(from.as_deref(), "--from")?,
        to: time(to.as_deref(), "--to")?,
        limit,
        ..Default::default()
    };
    let events = search(&store_args, &q)?;
    print_events(&events, format)
}

/// Reads `file` line by line and writes the events in batches; prints how many were read.
pub fn import(store_args: StoreArgs, file: &std::path::Path) -> anyhow::Result<()> {
    use std::io::BufRead;
    let system = super::system_config(&store_args)?;
    let reader = std::io::BufReader::new(
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?,
    );
    let rt = super::tokio_runtime()?;
    let read = rt.block_on(async {
        let store = xl_store::Store::open(&system.store.url).await?;
        let writer = xl_store::EventWriter::spawn_with_spill(
            store.clone(),
            8192,
            system.store.spill_dir.clone(),
        );
        let mut read = 0u64;
        for (i, line) in reader.lines().enumerate() {
            let line = line.with_context(|| format!("cannot read {}", file.display()))?;
            if line.trim().is_empty() {
                continue;
            }
            let event: Event = serde_json::from_str(&line)
                .with_context(|| format!("{}:{}: not an event", file.display(), i + 1))?;
            writer.send(event).await?;
            read += 1;
        }
        writer.close().await;
        store.close().await;
        anyhow::Ok(read)
    })?;
    stdout_line(&format!("imported {read} events from {}", file.display()))?;
    Ok(())
}

fn search(store_args: &StoreArgs, q: &EventQuery) -> anyhow::Result<Vec<Event>> {
    let system = super::system_config(store_args)?;
    let rt = super::tokio_runtime()?;
    rt.block_on(async {
        let open = super::tiers::open(&system).await?;
        let events = open.tiers.query(q).await;
        open.tiers.hot.close().await;
        Ok(events?)
    })
}

fn print_events(events: &[Event], format: Format) -> anyhow::Result<()> {
    for e in events {
        let line = match format {
            Format::Jsonl => serde_json::to_string(e)?,
            Format::Table => event_line(e),
        };
        stdout_line(&line)?;
    }
    Ok(())
}
