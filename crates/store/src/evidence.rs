//! Evidence images on the local file system, addressed by stable `evidence://` URIs.
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use image::codecs::jpeg::JpegEncoder;
use image::RgbImage;
use uuid::Uuid;

use crate::StoreError;

pub const URI_SCHEME: &str = "evidence://";

#[derive(Debug, Clone)]
pub struct EvidenceStore {
    root: PathBuf,
}

impl EvidenceStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes `bytes` atomically (temp file, then rename) as `<date>/<camera>/<event>-<name>`
    /// and returns its URI.
    pub fn put(
        &self,
        camera_id: &str,
        event_id: Uuid,
        ts: DateTime<FixedOffset>,
        name: &str,
        bytes: &[u8],
    ) -> Result<String, StoreError> {
        let relative = format!("{}/{camera_id}/{event_id}-{name}", ts.format("%Y/%m/%d"));
        let path = self.root.join(&relative);
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StoreError::Evidence { path, source }
        };
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let tmp = path.with_extension("tmp");
        let mut file = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
        file.write_all(bytes).map_err(io_err(&tmp))?;
        file.sync_data().map_err(io_err(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
        Ok(format!("{URI_SCHEME}{relative}"))
    }

    /// The file behind an `evidence://` URI, refusing anything that would escape the root.
    pub fn resolve(&self, uri: &str) -> Option<PathBuf> {
        let relative = uri.strip_prefix(URI_SCHEME)?;
        let safe = Path::new(relative)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        safe.then(|| self.root.join(relative))
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

    #[test]
    fn evidence_round_trips_and_refuses_path_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let store = EvidenceStore::new(dir.path());
        let ts = DateTime::parse_from_rfc3339("2026-11-29T10:00:00+08:00").unwrap();
        let id = Uuid::now_v7();
        let jpeg =
            encode_jpeg(&RgbImage::from_pixel(64, 32, image::Rgb([0, 60, 200])), 85).unwrap();
        let uri = store.put("cam-1", id, ts, "plate.jpg", &jpeg).unwrap();
        assert_eq!(uri, format!("evidence://2026/11/29/cam-1/{id}-plate.jpg"));
        let path = store.resolve(&uri).unwrap();
        let back = image::open(&path).unwrap().to_rgb8();
        assert_eq!(back.dimensions(), (64, 32));
        assert!(store.resolve("evidence://../etc/passwd").is_none());
        assert!(store.resolve("file:///etc/passwd").is_none());
    }
}
