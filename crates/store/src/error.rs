use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported store url {0:?}: expected sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("cannot open store {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("store migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("store query failed ({context}): {source}")]
    Query {
        context: &'static str,
        source: sqlx::Error,
    },
    #[error("stored event {id} is not valid JSON: {source}")]
    Corrupt {
        id: String,
        source: serde_json::Error,
    },
    #[error("stored {table} row is invalid: {detail}")]
    CorruptRow { table: &'static str, detail: String },
    #[error("evidence write to {} failed: {source}", path.display())]
    Evidence {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("JPEG encoding failed: {0}")]
    Jpeg(#[from] image::ImageError),
    #[error("{0} timed out (store unreachable?)")]
    Timeout(&'static str),
    #[error("the event writer has shut down")]
    WriterClosed,
    #[error("object store {context}: {source}")]
    ObjectStore {
        context: String,
        source: object_store::Error,
    },
    #[error("Parquet file {path}: {source}")]
    Parquet {
        path: String,
        source: parquet::errors::ParquetError,
    },
    #[error("cold file {path} failed verification: {reason}")]
    ColdVerify { path: String, reason: String },
    #[error("{what} {id:?} already exists")]
    Conflict { what: &'static str, id: String },
    #[error("no {what} {id:?}")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    Invalid(String),
    #[error("invalid object store url {url:?}: {reason}")]
    ObjectStoreUrl { url: String, reason: String },
}

pub(crate) fn query_err(context: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { context, source }
}
