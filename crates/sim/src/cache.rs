//! On-disk cache of encoded clips: one file per camera of length-prefixed AUs with keyframe
//! flags, named by a hash of every input that shapes the bytes.
use std::io::Write;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tracing::warn;

use crate::encode::{encoder_launch, AccessUnit};
use crate::{SimConfig, SimError};

const MAGIC: &[u8; 8] = b"XLCLIP01";
/// Bump when rendering changes in a way the other inputs do not capture.
const RENDER_VERSION: u32 = 8;

pub fn clip_path(config: &SimConfig, camera: u32, font_fingerprint: &str) -> PathBuf {
    let mut h = Sha256::new();
    let key = format!(
        "render={RENDER_VERSION}|seed={}|camera={camera}|{}x{}@{}|clip={}|codec={}|enc={}|font={font_fingerprint}",
        config.seed,
        config.width,
        config.height,
        config.fps,
        config.clip_secs,
        config.codec.as_str(),
        encoder_launch(config.codec, config.width, config.height, config.fps),
    );
    h.update(key.as_bytes());
    let digest = hex::encode(h.finalize());
    config
        .cache_dir
        .join(format!("cam{camera}-{}.xlclip", &digest[..24]))
}

/// Loads a cached clip; None (with a warning when the file exists) if absent or unusable.
pub fn load(path: &Path, frames: u32) -> Option<Vec<AccessUnit>> {
    let data = match std::fs::read(path) {
        Ok(d) => Bytes::from(d),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            warn!(path = %path.display(), error = %e, "unreadable clip cache, re-encoding");
            return None;
        }
    };
    let parsed = parse(&data, frames);
    if parsed.is_none() {
        warn!(path = %path.display(), "corrupt clip cache, re-encoding");
    }
    parsed
}

fn parse(data: &Bytes, frames: u32) -> Option<Vec<AccessUnit>> {
    if data.len() < 12 || &data[..8] != MAGIC {
        return None;
    }
    let count = u32::from_le_bytes(data[8..12].try_into().ok()?);
    if count != frames {
        return None;
    }
    let mut pos = 12;
    let mut aus = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let flags = *data.get(pos)?;
        let len = u32::from_le_bytes(data.get(pos + 1..pos + 5)?.try_into().ok()?) as usize;
        pos += 5;
        if pos + len > data.len() {
            return None;
        }
        aus.push(AccessUnit {
            key: flags & 1 == 1,
            data: data.slice(pos..pos + len),
        });
        pos += len;
    }
    (pos == data.len()).then_some(aus)
}

/// Writes atomically (temp file then rename) so a killed run never leaves a torn clip.
pub fn store(path: &Path, aus: &[AccessUnit]) -> Result<(), SimError> {
    let io = |context, source| SimError::Io {
        context,
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io("creating cache dir", e))?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut buf = Vec::with_capacity(aus.iter().map(|a| a.data.len() + 5).sum::<usize>() + 12);
    buf.extend_from_slice(MAGIC);
    buf.extend_from_slice(&(aus.len() as u32).to_le_bytes());
    for au in aus {
        buf.push(au.key as u8);
        buf.extend_from_slice(&(au.data.len() as u32).to_le_bytes());
        buf.extend_from_slice(&au.data);
    }
    let mut f = std::fs::File::create(&tmp).map_err(|e| io("creating cache file", e))?;
    f.write_all(&buf).map_err(|e| io("writing cache file", e))?;
    std::fs::rename(&tmp, path).map_err(|e| io("renaming cache file", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.xlclip");
        let aus = vec![
            AccessUnit {
                key: true,
                data: Bytes::from_static(b"\0\0\0\x01\x67abc"),
            },
            AccessUnit {
                key: false,
                data: Bytes::from_static(b"\0\0\0\x01\x41d"),
            },
        ];
        store(&path, &aus).unwrap();
        assert_eq!(load(&path, 2).unwrap(), aus);
        assert!(load(&path, 3).is_none());
        let mut raw = std::fs::read(&path).unwrap();
        raw.pop();
        std::fs::write(&path, raw).unwrap();
        assert!(load(&path, 2).is_none());
    }
}
