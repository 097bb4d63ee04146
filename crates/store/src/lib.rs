//! The event store: a hot tier on SQLite (embedded default) or PostgreSQL through sqlx with
//! versioned migrations, a batched writer fed by a bounded channel, evidence on an object store,
//! and a cold tier of Parquet files.
#![forbid(clippy::print_stdout, clippy::print_stderr)]

mod audit;
pub mod cold;
mod error;
mod evidence;
mod flow;
mod follow;
mod hooks;
mod hot_tiers;
mod objects;
mod postgres;
mod query;
mod retention;
mod reviews;
mod rows;
mod scope;
mod sharing;
mod sqlite;
mod store;
mod tiers;
mod writer;

pub use audit::{
    AuditFilter, AuditMode, AuditProblem, AuditProblemKind, AuditRecord, AuditVerdict, AuditWriter,
    StoredAudit, GENESIS,
};
pub use error::StoreError;
pub use evidence::{encode_jpeg, EvidenceStats, EvidenceStore};
pub use flow::{flow_rows, FlowQuery, FlowRow};
pub use follow::uuid_v7_floor;
pub use hooks::{
    Failure, NewSubscription, OutboxCounts, OutboxRow, Redeliver, Subscription, SubscriptionState,
};
pub use hot_tiers::{FileState, ManifestEntry};
pub use objects::open_object_store;
pub use query::{EventQuery, RowKey, DEFAULT_PAGE, MAX_PAGE};
pub use retention::{run_retention, RetentionPolicy, RetentionReport};
pub use reviews::{is_reviewable, Decision, Review, MAX_REASON_CHARS};
pub use scope::{mask_plate_text, masked_event_json, AccessMap, Scoped, Visibility};
pub use sharing::{
    CameraRecord, Department, Grant, IssuedToken, Masks, NewGrant, Principal, Role, TokenInfo, User,
};
pub use store::Store;
pub use tiers::{MoveReport, Tiers, MAX_ROWS_PER_FILE};
pub use writer::{EventWriter, WriterStats};

/// `url` with any password replaced by `***`, for errors and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}
