//! The event store: SQLite through sqlx with versioned migrations, a batched writer fed by a
//! bounded channel, and evidence JPEGs on the local file system.
#![forbid(clippy::print_stdout, clippy::print_stderr)]

mod error;
mod evidence;
mod flow;
mod query;
mod sqlite;
mod writer;

pub use error::StoreError;
pub use evidence::{encode_jpeg, EvidenceStore};
pub use flow::{flow_rows, FlowQuery, FlowRow};
pub use query::EventQuery;
pub use sqlite::Store;
pub use writer::{EventWriter, WriterStats};
