//! `xl.toml`: the deployment's store, evidence root, runtime and cameras.
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::load::{read_toml, resolve};
use crate::ConfigError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemConfig {
    /// Where events are stored.
    #[serde(default)]
    pub store: StoreConfig,
    /// Where evidence images are written.
    #[serde(default)]
    pub evidence: EvidenceConfig,
    /// Inference workers and the ONNX Runtime library.
    #[serde(default)]
    pub runtime: RuntimeConfig,
    /// The cameras to analyse.
    #[serde(default)]
    pub cameras: Vec<CameraConfig>,
    /// The HTTP API (weigh-in-motion intake); off when absent.
    #[serde(default)]
    pub api: Option<ApiConfig>,
    /// Weigh-in-motion record files to follow.
    #[serde(default)]
    pub wim: WimSourcesConfig,
    /// The cold tier (Parquet files on an object store); events stay hot when absent.
    #[serde(default)]
    pub cold: Option<ColdConfig>,
    /// How long events stay in each tier, per kind.
    #[serde(default)]
    pub retention: RetentionConfig,
    /// Webhook and bus delivery (subscriptions are made with `xl hooks create`).
    #[serde(default)]
    pub hooks: HooksConfig,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HooksConfig {
    /// Run the delivery dispatcher in this process (default true; false when separate
    /// `xl hooks serve` processes deliver).
    pub dispatch: Option<bool>,
    /// Hours a failing delivery is retried before it becomes a dead letter (default 24).
    pub max_age_hours: Option<u32>,
    /// Longest pause between two attempts, seconds (default 600).
    pub max_backoff_seconds: Option<u32>,
    /// Longest wait for a receiver's answer, seconds (default 10).
    pub timeout_seconds: Option<u32>,
    /// Days delivered outbox rows are kept (default 7; dead letters are kept until redelivered).
    pub keep_delivered_days: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColdConfig {
    /// A folder, `file:///PATH`, or `s3://BUCKET/PREFIX` (endpoint and credentials from the
    /// AWS_* environment variables).
    pub url: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// Days in the hot store before moving to the cold tier (default 7).
    pub hot_days: Option<u32>,
    /// Lifetime in days per event kind, e.g. `plate_read = 90` (defaults: reads and flow
    /// counts 90, violations and hits 1095).
    #[serde(default)]
    pub keep_days: std::collections::BTreeMap<String, u32>,
    /// Lifetime of kinds not in `keep_days` (default 365).
    pub default_keep_days: Option<u32>,
    /// Minutes between background retention runs while the pipeline runs (default 60).
    pub interval_minutes: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Address to listen on, e.g. "127.0.0.1:8080".
    pub listen: std::net::SocketAddr,
    /// Requests per minute per token (default 600); over it: 429 with Retry-After.
    #[serde(default)]
    pub rate_per_minute: Option<u32>,
    /// Audit records written "batched" (default: a background writer, requests wait only when
    /// it falls behind) or "sync" (in the request; an audit failure fails the request).
    #[serde(default)]
    pub audit: Option<String>,
    /// PEM certificate chain: serve HTTPS (with `tls_key`) instead of HTTP.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// XYZ raster tiles for the command view's map, e.g.
    /// "https://tiles.county.example/{z}/{x}/{y}.png"; none (default): a plain offline map.
    #[serde(default)]
    pub tile_url: Option<String>,
    /// Credit line shown with the tiles.
    #[serde(default)]
    pub tile_attribution: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WimSourcesConfig {
    /// JSONL files that stations (or their gateways) append records to, one JSON record per
    /// line; followed like `tail -F` (new lines are read, a truncated file is read again from the
    /// start). Relative paths resolve against this file's folder.
    #[serde(default)]
    pub jsonl: Vec<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite://PATH` (relative paths are relative to the working directory) or
    /// `postgres://USER@HOST:PORT/DB`.
    pub url: String,
    /// Where the writer spills events while the store is unreachable (replayed on recovery
    /// and at the next start).
    #[serde(default = "default_spill_dir")]
    pub spill_dir: PathBuf,
}

fn default_spill_dir() -> PathBuf {
    PathBuf::from("var/spill")
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://var/xl.db".into(),
            spill_dir: default_spill_dir(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceConfig {
    /// Folder for evidence JPEGs; relative paths resolve against the working directory.
    #[serde(default = "default_evidence_root")]
    pub root: PathBuf,
    /// An object store instead of the folder: `s3://BUCKET/PREFIX` (endpoint and credentials
    /// from the AWS_* environment variables).
    pub url: Option<String>,
}

fn default_evidence_root() -> PathBuf {
    PathBuf::from("var/evidence")
}

impl Default for EvidenceConfig {
    fn default() -> Self {
        Self {
            root: default_evidence_root(),
            url: None,
        }
    }
}

impl EvidenceConfig {
    /// Where evidence goes: the object store URL when set, else the folder.
    pub fn location(&self) -> String {
        self.url
            .clone()
            .unwrap_or_else(|| self.root.to_string_lossy().into_owned())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    /// Path of libonnxruntime.so; default: $ORT_DYLIB_PATH, else .cache/lib/libonnxruntime.so.1.22.1.
    pub ort_library: Option<PathBuf>,
    /// Inference worker threads (one ONNX session pair each, 1 intra-op thread); default: one per core.
    pub workers: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportSetting {
    /// RTP interleaved on the RTSP TCP connection (works through NAT and firewalls).
    #[default]
    Tcp,
    /// RTP over UDP.
    Udp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecodeSetting {
    /// Decode every frame; analyse `sample_fps` of them.
    #[default]
    All,
    /// Decode keyframes (IDR) only: about 20x cheaper, for low-priority cameras.
    Keyframes,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraConfig {
    /// Stable camera id used in events, e.g. "cam-0001".
    pub id: String,
    /// Human-readable name.
    #[serde(default)]
    pub name: String,
    /// RTSP URL; may carry credentials (never logged).
    pub url: String,
    /// Pipeline file, relative to this config file.
    pub pipeline: PathBuf,
    pub lat: f64,
    pub lon: f64,
    #[serde(default)]
    pub decode: DecodeSetting,
    /// Frames analysed per second when decoding all frames (default 5).
    pub sample_fps: Option<f32>,
    #[serde(default)]
    pub transport: TransportSetting,
    /// The department that owns the camera (sharing model); created if missing.
    #[serde(default = "default_department")]
    pub department: String,
    /// Share level 1 (open) to 3 (restricted): other departments see it through grants up to
    /// this level.
    #[serde(default = "default_share_level")]
    pub share_level: u8,
}

fn default_department() -> String {
    "default".to_string()
}

fn default_share_level() -> u8 {
    1
}

impl std::fmt::Debug for CameraConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CameraConfig")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("url", &"<redacted>")
            .field("pipeline", &self.pipeline)
            .field("lat", &self.lat)
            .field("lon", &self.lon)
            .field("decode", &self.decode)
            .field("sample_fps", &self.sample_fps)
            .field("department", &self.department)
            .field("share_level", &self.share_level)
            .finish()
    }
}

pub const DEFAULT_SAMPLE_FPS: f32 = 5.0;

impl CameraConfig {
    pub fn effective_sample_fps(&self) -> f32 {
        self.sample_fps.unwrap_or(DEFAULT_SAMPLE_FPS)
    }
}

impl SystemConfig {
    /// Loads and validates `xl.toml`; camera pipeline paths are resolved against its folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let (mut config, _): (SystemConfig, _) = read_toml(path)?;
        for camera in &mut config.cameras {
            camera.pipeline = resolve(path, &camera.pipeline);
        }
        config.wim.jsonl = config.wim.jsonl.iter().map(|p| resolve(path, p)).collect();
        config.validate(path)?;
        Ok(config)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let config: SystemConfig = crate::load::parse_toml(path, text)?;
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let url = &self.store.url;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "store.url must be sqlite://PATH or postgres://USER@HOST:PORT/DB".into(),
            ));
        }
        if self.retention.hot_days == Some(0) {
            return Err(invalid("retention.hot_days must be at least 1".into()));
        }
        if self.retention.interval_minutes == Some(0) {
            return Err(invalid(
                "retention.interval_minutes must be at least 1".into(),
            ));
        }
        if let Some((kind, _)) = self.retention.keep_days.iter().find(|(_, d)| **d == 0) {
            return Err(invalid(format!(
                "retention.keep_days.{kind} must be at least 1"
            )));
        }
        if let Some(api) = &self.api {
            if api.tls_cert.is_some() != api.tls_key.is_some() {
                return Err(invalid(
                    "api.tls_cert and api.tls_key go together: give both or neither".into(),
                ));
            }
        }
        if self.runtime.workers == Some(0) {
            return Err(invalid("runtime.workers must be at least 1".into()));
        }
        let mut ids = HashSet::new();
        for camera in &self.cameras {
            let id = &camera.id;
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(invalid(format!(
                    "camera id {id:?} must be non-empty ASCII letters, digits, '-', '_' or '.'"
                )));
            }
            if !ids.insert(id.as_str()) {
                return Err(invalid(format!("camera id {id:?} appears twice")));
            }
            if !(1..=3).contains(&camera.share_level) {
                return Err(invalid(format!(
                    "camera {id}: share_level {} must be 1 (open), 2 or 3 (restricted)",
                    camera.share_level
                )));
            }
            if camera.department.is_empty() {
                return Err(invalid(format!(
                    "camera {id}: department must not be empty"
                )));
            }
            match url::Url::parse(&camera.url) {
                Ok(u) if u.scheme() == "rtsp" || u.scheme() == "rtsps" => {}
                Ok(u) => {
                    return Err(invalid(format!(
                        "camera {id}: url scheme {:?} is not rtsp",
                        u.scheme()
                    )))
                }
                Err(e) => return Err(invalid(format!("camera {id}: url is not a valid URL: {e}"))),
            }
            if !(-90.0..=90.0).contains(&camera.lat) || !(-180.0..=180.0).contains(&camera.lon) {
                return Err(invalid(format!("camera {id}: lat/lon out of range")));
            }
            if let Some(fps) = camera.sample_fps {
                if !(fps > 0.0 && fps <= 120.0) {
                    return Err(invalid(format!(
                        "camera {id}: sample_fps {fps} must be in (0, 120]"
                    )));
                }
                if camera.decode == DecodeSetting::Keyframes {
                    return Err(invalid(format!(
                        "camera {id}: sample_fps cannot be combined with decode = \"keyframes\""
                    )));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[store]
url = "sqlite://var/xl.db"

[[cameras]]
id = "cam-1"
url = "rtsp://admin:secret@127.0.0.1:8554/cam/1"
pipeline = "pipelines/plates.toml"
lat = 30.95
lon = 117.78
sample_fps = 4
"#;

    #[test]
    fn parses_cameras_with_defaults() {
        let c = SystemConfig::parse(Path::new("xl.toml"), GOOD).unwrap();
        assert_eq!(c.cameras.len(), 1);
        assert_eq!(c.cameras[0].effective_sample_fps(), 4.0);
        assert_eq!(c.cameras[0].transport, TransportSetting::Tcp);
        assert_eq!(c.evidence.root, PathBuf::from("var/evidence"));
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let text = GOOD.replace("lat = 30.95", "lat = 30.95\nlatitude = 1");
        let err = SystemConfig::parse(Path::new("site/xl.toml"), &text).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("site/xl.toml:10:1:"), "{msg}");
        assert!(msg.contains("latitude"), "{msg}");
        assert!(!msg.contains('\n'), "one line: {msg}");
    }

    #[test]
    fn rejects_duplicate_ids_and_bad_urls_without_leaking_credentials() {
        let dup = format!("{GOOD}{}", &GOOD[GOOD.find("[[cameras]]").unwrap()..]);
        let err = SystemConfig::parse(Path::new("xl.toml"), &dup).unwrap_err();
        assert!(err.to_string().contains("appears twice"));
        let http = GOOD.replace("rtsp://admin:secret@", "http://admin:secret@");
        let msg = SystemConfig::parse(Path::new("xl.toml"), &http)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("not rtsp") && !msg.contains("secret"), "{msg}");
        let c = SystemConfig::parse(Path::new("xl.toml"), GOOD).unwrap();
        assert!(!format!("{:?}", c).contains("secret"));
    }

    #[test]
    fn keyframes_and_sample_fps_conflict() {
        let text = GOOD.replace("sample_fps = 4", "sample_fps = 4\ndecode = \"keyframes\"");
        let err = SystemConfig::parse(Path::new("xl.toml"), &text).unwrap_err();
        assert!(err.to_string().contains("keyframes"));
    }
}
