//! Evidence images on an object store (a local folder by default, S3 at scale), addressed by
//! `evidence://` URIs that name the same object whatever the backend.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use bytes::Bytes;
use chrono::{DateTime, FixedOffset};
use image::codecs::jpeg::JpegEncoder;
use image::RgbImage;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use uuid::Uuid;

use crate::objects::{object_err, open_object_store};
use crate::StoreError;

pub const URI_SCHEME: &str = "evidence://";

/// Evidence writes so far; a failing evidence store shows here (and in the logs) while the
/// pipeline goes on producing events without images.
#[derive(Debug, Default)]
pub struct EvidenceStats {
    pub written: AtomicU64,
    pub written_bytes: AtomicU64,
    pub failed: AtomicU64,
    pub last_error: Mutex<Option<String>>,
}

#[derive(Clone)]
pub struct EvidenceStore {
    objects: Arc<dyn ObjectStore>,
    location: String,
    uploads: Arc<Uploads>,
    stats: Arc<EvidenceStats>,
}

impl std::fmt::Debug for EvidenceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EvidenceStore({})", crate::redact_url(&self.location))
    }
}

impl EvidenceStore {
    /// Opens the evidence store at `location` (a folder, `file:///PATH` or `s3://BUCKET/PREFIX`).
    pub fn open(location: &str) -> Result<Self, StoreError> {
        let objects = open_object_store(location)?;
        Ok(Self::with_objects(objects, location))
    }

    /// Evidence on an already-built object store (tests, S3 set up by the caller).
    pub fn with_objects(objects: Arc<dyn ObjectStore>, location: &str) -> Self {
        Self {
            uploads: Arc::new(Uploads::start(objects.clone())),
            objects,
            location: location.to_string(),
            stats: Arc::new(EvidenceStats::default()),
        }
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    pub fn stats(&self) -> Arc<EvidenceStats> {
        self.stats.clone()
    }

    /// Stores `bytes` as `<date>/<camera>/<event>-<name>` and returns its URI. Blocks the
    /// calling thread (the inference workers) until the object is durable; must not be called
    /// from inside an async task.
    pub fn put(
        &self,
        camera_id: &str,
        event_id: Uuid,
        ts: DateTime<FixedOffset>,
        name: &str,
        bytes: &[u8],
    ) -> Result<String, StoreError> {
        let relative = format!("{}/{camera_id}/{event_id}-{name}", ts.format("%Y/%m/%d"));
        let path = ObjectPath::parse(&relative).map_err(|e| StoreError::ObjectStoreUrl {
            url: relative.clone(),
            reason: e.to_string(),
        })?;
        let result = self
            .uploads
            .put(path, Bytes::copy_from_slice(bytes))
            .map_err(object_err(format!("put evidence {relative}")));
        match &result {
            Ok(()) => {
                self.stats.written.fetch_add(1, Ordering::Relaxed);
                self.stats
                    .written_bytes
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
            }
            Err(e) => {
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut last) = self.stats.last_error.lock() {
                    *last = Some(e.to_string());
                }
            }
        }
        result.map(|()| format!("{URI_SCHEME}{relative}"))
    }

    /// The object behind an `evidence://` URI, refusing anything that would escape the store.
    pub fn object_path(uri: &str) -> Option<ObjectPath> {
        let relative = uri.strip_prefix(URI_SCHEME)?;
        let safe = !relative.is_empty()
            && relative
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..");
        safe.then(|| ObjectPath::parse(relative).ok()).flatten()
    }

    /// The bytes of the evidence at `uri`; `Ok(None)` when there is no such object.
    pub async fn get(&self, uri: &str) -> Result<Option<Bytes>, StoreError> {
        let Some(path) = Self::object_path(uri) else {
            return Ok(None);
        };
        match self.objects.get(&path).await {
            Ok(got) => got
                .bytes()
                .await
                .map(Some)
                .map_err(object_err(format!("read evidence {uri}"))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(object_err(format!("read evidence {uri}"))(e)),
        }
    }

    /// Deletes the evidence at `uri`; deleting what is already gone succeeds.
    pub async fn delete(&self, uri: &str) -> Result<(), StoreError> {
        let Some(path) = Self::object_path(uri) else {
            return Ok(());
        };
        match self.objects.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(object_err(format!("delete evidence {uri}"))(e)),
        }
    }
}

type UploadJob = (
    ObjectPath,
    Bytes,
    mpsc::SyncSender<Result<(), object_store::Error>>,
);

/// A thread with its own Tokio runtime that performs uploads for blocking callers, so the
/// inference workers need no runtime of their own and the runtime is never dropped inside an
/// async context.
struct Uploads {
    jobs: Mutex<mpsc::Sender<UploadJob>>,
}

impl Uploads {
    fn start(objects: Arc<dyn ObjectStore>) -> Self {
        let (tx, rx) = mpsc::channel::<UploadJob>();
        let spawned = std::thread::Builder::new()
            .name("xl-evidence".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("xl-evidence-io")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        tracing::error!(error = %e, "evidence upload runtime failed to start");
                        return;
                    }
                };
                while let Ok((path, bytes, reply)) = rx.recv() {
                    let objects = objects.clone();
                    runtime.spawn(async move {
                        let result = objects.put(&path, bytes.into()).await.map(|_| ());
                        let _ = reply.send(result);
                    });
                }
                runtime.shutdown_timeout(std::time::Duration::from_secs(30));
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "evidence upload thread failed to start");
        }
        Self {
            jobs: Mutex::new(tx),
        }
    }

    fn put(&self, path: ObjectPath, bytes: Bytes) -> Result<(), object_store::Error> {
        let (reply, answer) = mpsc::sync_channel(1);
        let gone = || object_store::Error::Generic {
            store: "evidence",
            source: "the evidence upload thread has stopped".into(),
        };
        self.jobs
            .lock()
            .map_err(|_| gone())?
            .send((path, bytes, reply))
            .map_err(|_| gone())?;
        answer.recv().map_err(|_| gone())?
    }
}

pub fn encode_jpeg(image: &RgbImage, quality: u8) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::with_capacity((image.width() * image.height() / 8) as usize);
    JpegEncoder::new_with_quality(&mut out, quality).encode_image(image)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn evidence_round_trips_in_a_folder_and_refuses_path_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let store = EvidenceStore::open(dir.path().to_str().unwrap()).unwrap();
        let ts = DateTime::parse_from_rfc3339("2026-11-29T10:00:00+08:00").unwrap();
        let id = Uuid::now_v7();
        let jpeg =
            encode_jpeg(&RgbImage::from_pixel(64, 32, image::Rgb([0, 60, 200])), 85).unwrap();
        let writer = store.clone();
        let uri =
            tokio::task::spawn_blocking(move || writer.put("cam-1", id, ts, "plate.jpg", &jpeg))
                .await
                .unwrap()
                .unwrap();
        assert_eq!(uri, format!("evidence://2026/11/29/cam-1/{id}-plate.jpg"));
        let file = dir.path().join(format!("2026/11/29/cam-1/{id}-plate.jpg"));
        let on_disk = image::open(&file).unwrap();
        assert_eq!((on_disk.width(), on_disk.height()), (64, 32));
        let bytes = store.get(&uri).await.unwrap().unwrap();
        let back = image::load_from_memory(&bytes).unwrap();
        assert_eq!((back.width(), back.height()), (64, 32));
        assert_eq!(store.stats().written.load(Ordering::Relaxed), 1);

        for escape in [
            "evidence://../etc/passwd",
            "evidence://a/../../b",
            "file:///etc/passwd",
        ] {
            assert!(EvidenceStore::object_path(escape).is_none(), "{escape}");
            assert!(store.get(escape).await.unwrap().is_none());
        }
        store.delete(&uri).await.unwrap();
        store.delete(&uri).await.unwrap();
        assert!(store.get(&uri).await.unwrap().is_none());
        assert!(!file.exists());
    }

    #[test]
    fn a_failing_store_is_a_counted_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the date folder must go: every write fails.
        std::fs::write(dir.path().join("2026"), b"not a folder").unwrap();
        let store = EvidenceStore::open(dir.path().to_str().unwrap()).unwrap();
        let ts = DateTime::parse_from_rfc3339("2026-11-29T10:00:00+08:00").unwrap();
        let err = store
            .put("cam-1", Uuid::now_v7(), ts, "frame.jpg", b"jpeg")
            .unwrap_err();
        assert!(
            err.to_string().contains("put evidence 2026/11/29/cam-1/"),
            "{err}"
        );
        let stats = store.stats();
        assert_eq!(stats.failed.load(Ordering::Relaxed), 1);
        assert!(stats.last_error.lock().unwrap().is_some());
    }
}
