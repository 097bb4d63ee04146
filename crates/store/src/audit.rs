//! The append-only audit log as a hash chain: each record's hash covers its sequence number,
//! its fields and the previous record's hash, so an edited, deleted or reordered record breaks
//! the chain at that point and [`Store::verify_audit`] says where.
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

use crate::error::query_err;
use crate::store::{with_pool, Backend};
use crate::{Store, StoreError};

/// The hash before the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Advisory lock key serialising appends across processes on PostgreSQL ("xlaudit").
const PG_AUDIT_LOCK: i64 = 0x0078_6c61_7564_6974;

/// Records read per page while verifying.
const VERIFY_PAGE: i64 = 5000;

/// One audit record: who did what to which resources, from where, with what outcome.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AuditRecord {
    /// User id, or `system:<task>` for the system's own work.
    pub actor: String,
    /// The actor's department ("" for the system).
    pub department_id: String,
    /// e.g. `events.search`, `evidence.download`, `grant.create`, `login`, `retention.delete`.
    pub action: String,
    /// What was touched: `event:<id>`, `grant:<id>`, a query, ...
    pub resource: String,
    /// `ok`, `denied`, `not_found`, `error`.
    pub outcome: String,
    /// Client address ("" when local).
    pub address: String,
    /// Anything else, as JSON (the filters of a search, the ids it returned, ...).
    pub detail: serde_json::Value,
}

/// A stored record with its place in the chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredAudit {
    pub seq: i64,
    pub ts_ms: i64,
    #[serde(flatten)]
    pub record: AuditRecord,
    pub hash: String,
}

/// Which records to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only records of actors in this department.
    pub department_id: Option<String>,
    /// Only records after this sequence number (keyset pagination).
    pub after_seq: Option<i64>,
    pub limit: u32,
}

/// What verification found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditVerdict {
    pub records: u64,
    /// The last record's sequence number and hash: keep it elsewhere to detect a truncated tail.
    pub head: Option<(i64, String)>,
    pub problem: Option<AuditProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditProblem {
    /// The first record where the chain breaks.
    pub seq: i64,
    pub kind: AuditProblemKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditProblemKind {
    /// Sequence numbers skip: records were deleted.
    Missing,
    /// The record's hash does not follow from its fields and its predecessor: it was edited,
    /// or records were reordered or replaced here.
    Altered,
}

/// The chain hash of a record after `prev`.
fn chain_hash(prev: &str, seq: i64, ts_ms: i64, r: &AuditRecord, detail: &str) -> String {
    let fields = serde_json::json!([
        seq,
        ts_ms,
        r.actor,
        r.department_id,
        r.action,
        r.resource,
        r.outcome,
        r.address,
        detail
    ]);
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(fields.to_string().as_bytes());
    hex::encode(h.finalize())
}

type AuditRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
);

fn stored(row: AuditRow) -> (StoredAudit, String) {
    let (seq, ts_ms, actor, department_id, action, resource, outcome, address, detail, hash) = row;
    let record = AuditRecord {
        actor,
        department_id,
        action,
        resource,
        outcome,
        address,
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail.clone())),
    };
    (
        StoredAudit {
            seq,
            ts_ms,
            record,
            hash: hash.unwrap_or_default(),
        },
        detail,
    )
}

const AUDIT_COLUMNS: &str =
    "seq, ts_ms, actor, department_id, action, resource, outcome, address, detail, hash";

impl Store {
    /// Appends one audit record to the chain.
    pub async fn audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        self.audit_batch(std::slice::from_ref(record)).await
    }

    /// Appends records to the chain in one transaction, in order.
    pub async fn audit_batch(&self, records: &[AuditRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let _one_appender = self.audit_lock.lock().await;
        // Another process appending between our read of the head and our insert makes the
        // insert collide on `seq`; reading the head again is then enough.
        let mut attempt = 0;
        loop {
            match self.append_chained(records).await {
                Err(StoreError::Conflict { .. }) if attempt < 5 => attempt += 1,
                other => return other,
            }
        }
    }

    async fn append_chained(&self, records: &[AuditRecord]) -> Result<(), StoreError> {
        let now = chrono::Utc::now().timestamp_millis();
        with_pool!(self, pool, _d => {
            // SQLite: take the write lock first (a read upgraded to a write fails at once when
            // another connection writes; waiting for the lock honours the busy timeout).
            let mut tx = match self.backend {
                Backend::Sqlite(_) => pool.begin_with("BEGIN IMMEDIATE").await,
                Backend::Postgres(_) => pool.begin().await,
            }
            .map_err(query_err("begin audit"))?;
            if matches!(self.backend, Backend::Postgres(_)) {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(PG_AUDIT_LOCK)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err("audit lock"))?;
            }
            let head: Option<(i64, Option<String>)> =
                sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(query_err("audit head"))?;
            let (mut seq, mut prev) = match head {
                None => (0, GENESIS.to_string()),
                Some((seq, Some(hash))) => (seq, hash),
                Some((_, None)) => {
                    // Records from before the chain existed: chain them first, in order.
                    let rows: Vec<AuditRow> = sqlx::query_as(&format!(
                        "SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq"
                    ))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(query_err("audit seal"))?;
                    let mut prev = GENESIS.to_string();
                    let mut last = 0;
                    for row in rows {
                        let (s, detail) = stored(row);
                        let hash = match s.hash.is_empty() {
                            true => {
                                let hash = chain_hash(&prev, s.seq, s.ts_ms, &s.record, &detail);
                                sqlx::query("UPDATE audit_log SET hash = $1 WHERE seq = $2")
                                    .bind(&hash)
                                    .bind(s.seq)
                                    .execute(&mut *tx)
                                    .await
                                    .map_err(query_err("audit seal"))?;
                                hash
                            }
                            false => s.hash,
                        };
                        prev = hash;
                        last = s.seq;
                    }
                    (last, prev)
                }
            };
            for r in records {
                seq += 1;
                let detail = r.detail.to_string();
                let hash = chain_hash(&prev, seq, now, r, &detail);
                sqlx::query(
                    "INSERT INTO audit_log (seq, ts_ms, actor, department_id, action, resource, outcome, address, detail, hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(seq)
                .bind(now)
                .bind(&r.actor)
                .bind(&r.department_id)
                .bind(&r.action)
                .bind(&r.resource)
                .bind(&r.outcome)
                .bind(&r.address)
                .bind(&detail)
                .bind(&hash)
                .execute(&mut *tx)
                .await
                .map_err(|source| match &source {
                    sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict {
                        what: "audit record",
                        id: seq.to_string(),
                    },
                    _ => StoreError::Query { context: "audit append", source },
                })?;
                prev = hash;
            }
            tx.commit().await.map_err(query_err("commit audit"))
        })
    }

    /// Audit records, oldest first.
    pub async fn audit_records(
        &self,
        filter: &AuditFilter,
    ) -> Result<Vec<StoredAudit>, StoreError> {
        let limit = if filter.limit == 0 {
            1000
        } else {
            filter.limit.min(10_000)
        };
        with_pool!(self, pool, _d => {
            let mut qb = sqlx::QueryBuilder::new(format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE 1=1"));
            if let Some(dept) = &filter.department_id {
                qb.push(" AND department_id = ").push_bind(dept.clone());
            }
            if let Some(after) = filter.after_seq {
                qb.push(" AND seq > ").push_bind(after);
            }
            qb.push(" ORDER BY seq LIMIT ").push_bind(i64::from(limit));
            let rows: Vec<AuditRow> = qb
                .build_query_as()
                .fetch_all(pool)
                .await
                .map_err(query_err("audit records"))?;
            Ok(rows.into_iter().map(|r| stored(r).0).collect())
        })
    }

    /// Walks the whole chain and reports the first break.
    pub async fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        let mut prev = GENESIS.to_string();
        let mut last_seq = 0i64;
        let mut records = 0u64;
        loop {
            let page: Vec<AuditRow> = with_pool!(self, pool, _d => {
                sqlx::query_as(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
                ))
                .bind(last_seq)
                .bind(VERIFY_PAGE)
                .fetch_all(pool)
                .await
                .map_err(query_err("audit verify"))?
            });
            if page.is_empty() {
                break;
            }
            for row in page {
                let (s, detail) = stored(row);
                if s.seq != last_seq + 1 {
                    let message = match s.seq - last_seq - 1 {
                        1 => format!("record {} is missing (deleted)", last_seq + 1),
                        n => format!(
                            "records {}..={} are missing (deleted: {n})",
                            last_seq + 1,
                            s.seq - 1
                        ),
                    };
                    return Ok(AuditVerdict {
                        records,
                        head: None,
                        problem: Some(AuditProblem {
                            seq: last_seq + 1,
                            kind: AuditProblemKind::Missing,
                            message,
                        }),
                    });
                }
                let expected = chain_hash(&prev, s.seq, s.ts_ms, &s.record, &detail);
                if expected != s.hash {
                    return Ok(AuditVerdict {
                        records,
                        head: None,
                        problem: Some(AuditProblem {
                            seq: s.seq,
                            kind: AuditProblemKind::Altered,
                            message: format!(
                                "record {} does not match the chain: it was edited, or records were reordered or replaced here",
                                s.seq
                            ),
                        }),
                    });
                }
                records += 1;
                last_seq = s.seq;
                prev = s.hash;
            }
        }
        Ok(AuditVerdict {
            records,
            head: (records > 0).then_some((last_seq, prev)),
            problem: None,
        })
    }
}

/// How API reads are audited: in the request (an audit failure fails the request) or batched
/// by a background writer (bounded: requests wait when it falls behind; nothing is dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditMode {
    Sync,
    Batched,
}

enum AuditMsg {
    Record(AuditRecord),
    Flush(oneshot::Sender<()>),
}

/// Appends audit records for a running service.
#[derive(Clone)]
pub struct AuditWriter {
    store: Store,
    tx: Option<mpsc::Sender<AuditMsg>>,
    written: Arc<std::sync::atomic::AtomicU64>,
}

/// Records waiting for the batched writer.
const AUDIT_QUEUE: usize = 10_000;
/// Records per transaction.
const AUDIT_BATCH: usize = 1000;

impl AuditWriter {
    pub fn new(store: Store, mode: AuditMode) -> Self {
        let written = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let tx = match mode {
            AuditMode::Sync => None,
            AuditMode::Batched => {
                let (tx, rx) = mpsc::channel(AUDIT_QUEUE);
                tokio::spawn(run_batched(store.clone(), rx, written.clone()));
                Some(tx)
            }
        };
        Self { store, tx, written }
    }

    pub async fn record(&self, record: AuditRecord) -> Result<(), StoreError> {
        match &self.tx {
            None => {
                self.store.audit(&record).await?;
                self.written
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            }
            Some(tx) => tx
                .send(AuditMsg::Record(record))
                .await
                .map_err(|_| StoreError::WriterClosed),
        }
    }

    /// Waits until every record handed in so far is stored.
    pub async fn flush(&self) {
        if let Some(tx) = &self.tx {
            let (done, wait) = oneshot::channel();
            if tx.send(AuditMsg::Flush(done)).await.is_ok() {
                let _ = wait.await;
            }
        }
    }

    /// Records stored so far.
    pub fn written(&self) -> u64 {
        self.written.load(std::sync::atomic::Ordering::Relaxed)
    }
}

async fn run_batched(
    store: Store,
    mut rx: mpsc::Receiver<AuditMsg>,
    written: Arc<std::sync::atomic::AtomicU64>,
) {
    let mut batch = Vec::with_capacity(AUDIT_BATCH);
    let mut waiting = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                AuditMsg::Record(r) => batch.push(r),
                AuditMsg::Flush(done) => waiting.push(done),
            }
            if batch.len() < AUDIT_BATCH {
                next = rx.try_recv().ok();
            }
        }
        // Retried until stored: an audit record is never dropped.
        let mut delay = Duration::from_millis(100);
        while let Err(e) = store.audit_batch(&batch).await {
            warn!(error = %e, records = batch.len(), "audit write failed; retrying");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
        written.fetch_add(batch.len() as u64, std::sync::atomic::Ordering::Relaxed);
        batch.clear();
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}
