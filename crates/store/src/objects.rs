//! Object stores from a location string: a local folder (default) or `s3://bucket/prefix`.
use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::prefix::PrefixStore;
use object_store::ObjectStore;

use crate::StoreError;

/// Opens `location`: `s3://BUCKET[/PREFIX]` (endpoint, region and credentials from the standard
/// AWS_* environment variables, e.g. AWS_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
/// AWS_ALLOW_HTTP=true for a plain-HTTP endpoint), `file:///PATH`, or a plain folder path
/// (created if missing).
pub fn open_object_store(location: &str) -> Result<Arc<dyn ObjectStore>, StoreError> {
    let bad = |reason: String| StoreError::ObjectStoreUrl {
        url: crate::redact_url(location),
        reason,
    };
    if let Some(rest) = location.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket name".into()));
        }
        let s3 = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .map_err(|e| bad(e.to_string()))?;
        let prefix = prefix.trim_matches('/');
        return Ok(if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(PrefixStore::new(s3, prefix))
        });
    }
    if location.contains("://") && !location.starts_with("file://") {
        return Err(bad(
            "expected a folder, file:///PATH or s3://BUCKET/PREFIX".into()
        ));
    }
    let folder = location.strip_prefix("file://").unwrap_or(location);
    if folder.is_empty() {
        return Err(bad("empty path".into()));
    }
    std::fs::create_dir_all(folder).map_err(|e| bad(format!("cannot create the folder: {e}")))?;
    let local = LocalFileSystem::new_with_prefix(folder).map_err(|e| bad(e.to_string()))?;
    Ok(Arc::new(local))
}

pub(crate) fn object_err(
    context: impl Into<String>,
) -> impl FnOnce(object_store::Error) -> StoreError {
    let context = context.into();
    move |source| StoreError::ObjectStore { context, source }
}
