//! Retention per tier and per event kind: old hot events move to the cold tier, and events past
//! their kind's lifetime are deleted from either tier together with their evidence. Every
//! deletion is audited.
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::info;
use uuid::Uuid;
use xl_schema::{Event, EventKind};

use crate::hot_tiers::FileState;
use crate::store::decode_event;
use crate::tiers::MoveReport;
use crate::AuditRecord;
use crate::{EvidenceStore, StoreError, Tiers};

/// How long events stay, per tier and kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicy {
    /// Days an event stays in the hot store before it moves to the cold tier (when one is
    /// configured).
    #[serde(default = "default_hot_days")]
    pub hot_days: u32,
    /// Lifetime in days (hot and cold together) per event kind, e.g. `plate_read = 90`.
    #[serde(default = "default_keep_days")]
    pub keep_days: BTreeMap<String, u32>,
    /// Lifetime of kinds not listed in `keep_days`.
    #[serde(default = "default_keep_days_other")]
    pub default_keep_days: u32,
}

fn default_hot_days() -> u32 {
    7
}

fn default_keep_days_other() -> u32 {
    365
}

/// Plain reads are kept 90 days; violations, watch-list hits and cloned plates three years.
fn default_keep_days() -> BTreeMap<String, u32> {
    EventKind::ALL
        .iter()
        .map(|k| {
            let days = match k {
                EventKind::PlateRead | EventKind::FlowCount => 90,
                _ => 3 * 365,
            };
            (k.as_str().to_string(), days)
        })
        .collect()
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            hot_days: default_hot_days(),
            keep_days: default_keep_days(),
            default_keep_days: default_keep_days_other(),
        }
    }
}

impl RetentionPolicy {
    /// Checks that every kind named is a real event kind.
    pub fn validate(&self) -> Result<(), String> {
        for kind in self.keep_days.keys() {
            if EventKind::parse(kind).is_none() {
                let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
                return Err(format!(
                    "retention.keep_days names unknown event kind {kind:?} (known: {})",
                    known.join(", ")
                ));
            }
        }
        Ok(())
    }

    pub fn keep_days(&self, kind: EventKind) -> u32 {
        self.keep_days
            .get(kind.as_str())
            .copied()
            .unwrap_or(self.default_keep_days)
    }
}

/// What one retention run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    pub moved_files: u64,
    pub moved_events: u64,
    pub resumed_moves: u64,
    pub deleted_hot_events: u64,
    pub deleted_cold_files: u64,
    pub deleted_cold_events: u64,
    pub deleted_evidence: u64,
}

/// Hot events read per deletion step.
const DELETE_BATCH: usize = 1000;

/// Runs retention as of `now`: moves events older than `hot_days` to the cold tier, then
/// deletes each kind's events (and their evidence) older than its lifetime from both tiers.
pub async fn run_retention(
    tiers: &Tiers,
    evidence: Option<&EvidenceStore>,
    policy: &RetentionPolicy,
    now: DateTime<FixedOffset>,
) -> Result<RetentionReport, StoreError> {
    let mut report = RetentionReport::default();
    let moved: MoveReport = tiers
        .move_to_cold(now - Duration::days(i64::from(policy.hot_days)))
        .await?;
    report.moved_files = moved.files;
    report.moved_events = moved.events;
    report.resumed_moves = moved.resumed;
    for kind in EventKind::ALL {
        let cutoff = now - Duration::days(i64::from(policy.keep_days(kind)));
        expire_hot(tiers, evidence, kind, cutoff, &mut report).await?;
        expire_cold(tiers, evidence, kind, cutoff, &mut report).await?;
    }
    info!(?report, "retention run finished");
    Ok(report)
}

async fn expire_hot(
    tiers: &Tiers,
    evidence: Option<&EvidenceStore>,
    kind: EventKind,
    cutoff: DateTime<FixedOffset>,
    report: &mut RetentionReport,
) -> Result<(), StoreError> {
    let cutoff_ms = cutoff.timestamp_millis();
    loop {
        let rows = tiers
            .hot
            .rows_between(kind.as_str(), i64::MIN, cutoff_ms, DELETE_BATCH)
            .await?;
        if rows.is_empty() {
            return Ok(());
        }
        // Evidence first: a crash in between leaves events whose images are gone, and the next
        // run deletes them; the other order would leave images nothing refers to.
        let mut events = Vec::with_capacity(rows.len());
        for row in rows {
            events.push(decode_event(row.id.to_string(), row.body)?);
        }
        report.deleted_evidence += delete_evidence(evidence, &events).await?;
        let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
        let deleted = tiers.hot.delete_events(&ids).await?;
        report.deleted_hot_events += deleted;
        tiers
            .hot
            .audit(&AuditRecord {
                actor: "system:retention".into(),
                action: "retention.delete".into(),
                resource: format!("events/hot/kind={}", kind.as_str()),
                outcome: "ok".into(),
                detail: json!({
                    "tier": "hot",
                    "kind": kind.as_str(),
                    "before": cutoff.to_rfc3339(),
                    "events": deleted,
                    "first_id": ids.first(),
                    "last_id": ids.last(),
                }),
                ..Default::default()
            })
            .await?;
    }
}

async fn expire_cold(
    tiers: &Tiers,
    evidence: Option<&EvidenceStore>,
    kind: EventKind,
    cutoff: DateTime<FixedOffset>,
    report: &mut RetentionReport,
) -> Result<(), StoreError> {
    let Some(cold) = &tiers.cold else {
        return Ok(());
    };
    let cutoff_ms = cutoff.timestamp_millis();
    // A file goes when its newest event is past the lifetime; files already marked expired by
    // an interrupted run are finished first.
    let mut doomed = tiers
        .hot
        .cold_files(FileState::Expired, Some(kind.as_str()), None, None)
        .await?;
    for entry in tiers
        .hot
        .cold_files(FileState::Live, Some(kind.as_str()), None, Some(cutoff_ms))
        .await?
    {
        if entry.file.max_ts_ms < cutoff_ms {
            tiers
                .hot
                .set_cold_file_state(&entry.file.path, FileState::Expired)
                .await?;
            doomed.push(entry);
        }
    }
    for entry in doomed {
        let path = &entry.file.path;
        let rows = match cold.rows(path).await {
            Ok(rows) => rows,
            // Already deleted by an interrupted run: only the manifest row is left.
            Err(StoreError::ObjectStore {
                source: object_store::Error::NotFound { .. },
                ..
            }) => Vec::new(),
            Err(e) => return Err(e),
        };
        let mut events = Vec::with_capacity(rows.len());
        for row in rows {
            events.push(decode_event(row.id.to_string(), row.body)?);
        }
        report.deleted_evidence += delete_evidence(evidence, &events).await?;
        cold.delete(path).await?;
        tiers.hot.forget_cold_file(path).await?;
        report.deleted_cold_files += 1;
        report.deleted_cold_events += events.len() as u64;
        tiers
            .hot
            .audit(&AuditRecord {
                actor: "system:retention".into(),
                action: "retention.delete".into(),
                resource: format!("events/cold/{path}"),
                outcome: "ok".into(),
                detail: json!({
                    "tier": "cold",
                    "kind": kind.as_str(),
                    "before": cutoff.to_rfc3339(),
                    "events": events.len(),
                    "file": path,
                }),
                ..Default::default()
            })
            .await?;
    }
    Ok(())
}

async fn delete_evidence(
    evidence: Option<&EvidenceStore>,
    events: &[Event],
) -> Result<u64, StoreError> {
    let Some(store) = evidence else {
        return Ok(0);
    };
    let mut deleted = 0;
    for e in events {
        for item in &e.evidence {
            store.delete(&item.uri).await?;
            deleted += 1;
        }
    }
    Ok(deleted)
}
