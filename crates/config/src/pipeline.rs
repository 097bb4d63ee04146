//! `pipelines/<name>.toml`: which models run, at what analysis size, with which thresholds.
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::load::{read_toml, resolve};
use crate::ConfigError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Pipeline name recorded in every event's provenance.
    pub name: String,
    /// Size frames are decoded and scaled to before detection.
    pub analysis: AnalysisSize,
    pub models: PipelineModels,
    #[serde(default)]
    pub plate: PlateSettings,
    #[serde(default)]
    pub tracking: TrackingSettings,
    /// Vehicle detection (used only when `models.vehicle_detector` is set).
    #[serde(default)]
    pub vehicle: VehicleSettings,
    /// Vehicle tracking (ByteTrack-style), per camera.
    #[serde(default)]
    pub vehicle_tracking: VehicleTrackingSettings,
    /// Enforcement rules; every section is optional (see docs/rules.md).
    #[serde(default)]
    pub rules: xl_rules::RulesConfig,
    /// Read the rules from this TOML file instead of `[rules]` (rules managed apart from the
    /// models, or generated, e.g. by `xl sim --world`). Relative to this file.
    #[serde(default)]
    pub rules_file: Option<PathBuf>,
    /// sha256 of the file's bytes (filled in by `load`).
    #[serde(skip)]
    pub sha256: String,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisSize {
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineModels {
    /// Plate detector ONNX file, relative to the pipeline file: HyperLPR3's
    /// `y5fu_640x_sim.onnx` or `y5fu_320x_sim.onnx` (the file fixes the input size).
    pub plate_detector: PathBuf,
    /// Plate recogniser ONNX file (PP-OCRv4, its dictionary in its metadata).
    pub plate_recognizer: PathBuf,
    /// Plate-colour classifier ONNX file (HyperLPR3 `litemodel_cls_96x_r1.onnx`).
    pub plate_classifier: PathBuf,
    /// Vehicle detector ONNX file (NanoDet COCO, models/vehicles). Without it events carry no
    /// vehicle and the zone, obscured-plate and flow rules cannot run.
    #[serde(default)]
    pub vehicle_detector: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VehicleSettings {
    /// Minimum class score (0..1) for car, bus, truck and motorcycle detections.
    pub score_threshold: f32,
    /// Overlap (IoU) above which the weaker of two vehicle boxes is dropped, whatever the class.
    pub nms_iou: f32,
}

impl Default for VehicleSettings {
    fn default() -> Self {
        Self {
            score_threshold: 0.3,
            nms_iou: 0.6,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VehicleTrackingSettings {
    /// Detections at or above this score are associated first (ByteTrack's first stage).
    pub high_score: f32,
    /// Detections between this and `high_score` only continue existing tracks.
    pub low_score: f32,
    /// An unmatched detection starts a track only at or above this score.
    pub new_track_score: f32,
    /// Minimum IoU between a track's predicted box and a detection.
    pub match_iou: f32,
    /// A track unmatched for longer than this (seconds) has left the view.
    pub max_lost_secs: f32,
    /// A new track takes the weak, unclaimed detections that led up to it over this many seconds
    /// (0: off).
    pub lead_in_secs: f32,
    /// Matches needed before a track counts (suppresses one-frame false detections).
    pub min_hits: u32,
}

impl Default for VehicleTrackingSettings {
    fn default() -> Self {
        Self {
            high_score: 0.4,
            low_score: 0.2,
            new_track_score: 0.45,
            match_iou: 0.2,
            max_lost_secs: 1.0,
            lead_in_secs: 2.0,
            min_hits: 2,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlateSettings {
    /// Minimum detector score (0..1): objectness times the single/double-layer class score.
    pub detector_score_threshold: f32,
    /// IoU above which overlapping detections are merged.
    pub nms_iou: f32,
    /// Detections narrower than this (analysis pixels) are ignored.
    pub min_plate_width_px: f32,
    /// Reads whose weakest character is below this confidence are ignored.
    pub min_text_confidence: f32,
}

impl Default for PlateSettings {
    fn default() -> Self {
        Self {
            detector_score_threshold: 0.5,
            // HyperLPR3's own NMS overlap.
            nms_iou: 0.5,
            min_plate_width_px: 40.0,
            // plates-dev/crops: reads whose weakest character is under 0.1 are right as often as
            // wrong (5 right, 4 wrong of 500); above it right reads outnumber wrong ones 40 to 1.
            min_text_confidence: 0.1,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrackingSettings {
    /// Minimum IoU between a track's last box and a detection to associate them.
    pub iou_threshold: f32,
    /// A track unseen for this long (seconds) has ended and emits its event.
    pub max_gap_secs: f32,
    /// Tracks with fewer reads than this emit nothing (suppresses one-frame misreads).
    pub min_reads: usize,
    /// A character of a pass's plate text needs more than this share of its reads' votes; below
    /// it the character is reported unread (`?`). 0 always elects the strongest guess.
    pub min_char_agreement: f32,
}

impl Default for TrackingSettings {
    fn default() -> Self {
        Self {
            iou_threshold: 0.1,
            max_gap_secs: 1.5,
            min_reads: 2,
            min_char_agreement: 0.5,
        }
    }
}

impl PipelineConfig {
    /// Loads and validates a pipeline file; model paths are resolved against its folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let (mut config, text): (PipelineConfig, String) = read_toml(path)?;
        let mut hasher = Sha256::new();
        hasher.update(text.as_bytes());
        if let Some(file) = config.rules_file.clone() {
            let file = resolve(path, &file);
            if config.rules != xl_rules::RulesConfig::default() {
                return Err(ConfigError::Invalid {
                    path: path.to_path_buf(),
                    message: "set either [rules] or rules_file, not both".into(),
                });
            }
            let (mut rules, rules_text): (xl_rules::RulesConfig, String) = read_toml(&file)?;
            if let Some(w) = &mut rules.watchlist {
                w.files = w.files.iter().map(|f| resolve(&file, f)).collect();
            }
            hasher.update(rules_text.as_bytes());
            config.rules = rules;
            config.rules_file = Some(file);
        } else if let Some(w) = &mut config.rules.watchlist {
            w.files = w.files.iter().map(|f| resolve(path, f)).collect();
        }
        config.sha256 = hex::encode(hasher.finalize());
        let m = &mut config.models;
        m.plate_detector = resolve(path, &m.plate_detector);
        m.plate_recognizer = resolve(path, &m.plate_recognizer);
        m.plate_classifier = resolve(path, &m.plate_classifier);
        m.vehicle_detector = m.vehicle_detector.as_ref().map(|p| resolve(path, p));
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: &str| {
            Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                message: message.to_string(),
            })
        };
        let a = self.analysis;
        if !(64..=3840).contains(&a.width) || !(64..=2160).contains(&a.height) {
            return invalid("analysis width/height must be within 64x64 .. 3840x2160");
        }
        if !a.width.is_multiple_of(2) || !a.height.is_multiple_of(2) {
            return invalid("analysis width and height must be even");
        }
        let unit = |v: f32| (0.0..=1.0).contains(&v);
        let p = &self.plate;
        if !unit(p.detector_score_threshold) || !unit(p.nms_iou) || !unit(p.min_text_confidence) {
            return invalid("plate thresholds must be within 0..1");
        }
        let t = &self.tracking;
        if !unit(t.iou_threshold) || t.max_gap_secs <= 0.0 || t.min_reads == 0 {
            return invalid("tracking: iou_threshold in 0..1, max_gap_secs > 0, min_reads >= 1");
        }
        if !(0.0..1.0).contains(&t.min_char_agreement) {
            return invalid("tracking: min_char_agreement must be at least 0 and below 1");
        }
        let v = &self.vehicle;
        if !unit(v.score_threshold) || !unit(v.nms_iou) {
            return invalid("vehicle thresholds must be within 0..1");
        }
        let vt = &self.vehicle_tracking;
        if ![
            vt.high_score,
            vt.low_score,
            vt.new_track_score,
            vt.match_iou,
        ]
        .into_iter()
        .all(unit)
            || vt.low_score > vt.high_score
            || vt.max_lost_secs <= 0.0
            || !(vt.lead_in_secs >= 0.0 && vt.lead_in_secs.is_finite())
            || vt.min_hits == 0
        {
            return invalid(
                "vehicle_tracking: scores and match_iou in 0..1, low_score <= high_score, max_lost_secs > 0, lead_in_secs >= 0, min_hits >= 1",
            );
        }
        if let Err(message) = self.rules.validate() {
            return invalid(&message);
        }
        let r = &self.rules;
        let needs_vehicles = !r.zones.is_empty() || r.obscured.is_some() || r.flow.is_some();
        if needs_vehicles && self.models.vehicle_detector.is_none() {
            return invalid(
                "rules.zones, rules.obscured and rules.flow need vehicles: set models.vehicle_detector",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_relative_model_paths_and_hashes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "name = \"plates\"\n[analysis]\nwidth = 960\nheight = 540\n[models]\nplate_detector = \"../m/d.onnx\"\nplate_recognizer = \"r.onnx\"\nplate_classifier = \"c.onnx\"\n[tracking]\nmin_reads = 3\n",
        )
        .unwrap();
        let p = PipelineConfig::load(&path).unwrap();
        assert_eq!(p.models.plate_detector, dir.path().join("../m/d.onnx"));
        assert_eq!(p.tracking.min_reads, 3);
        assert_eq!(p.tracking.min_char_agreement, 0.5, "a majority by default");
        assert_eq!(p.plate.nms_iou, 0.5);
        assert_eq!(p.sha256.len(), 64);
    }

    #[test]
    fn a_character_agreement_that_no_vote_can_pass_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        let base = "name = \"plates\"\n[analysis]\nwidth = 960\nheight = 540\n[models]\nplate_detector = \"d\"\nplate_recognizer = \"r\"\nplate_classifier = \"c\"\n[tracking]\n";
        std::fs::write(&path, format!("{base}min_char_agreement = 1.0\n")).unwrap();
        let msg = PipelineConfig::load(&path).unwrap_err().to_string();
        assert!(msg.contains("min_char_agreement"), "{msg}");
        std::fs::write(&path, format!("{base}min_char_agreement = 0.0\n")).unwrap();
        assert_eq!(
            PipelineConfig::load(&path)
                .unwrap()
                .tracking
                .min_char_agreement,
            0.0
        );
    }

    #[test]
    fn unknown_threshold_key_is_an_error_with_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "name = \"plates\"\n[analysis]\nwidth = 960\nheight = 540\n[models]\nplate_detector = \"d\"\nplate_recognizer = \"r\"\nplate_classifier = \"c\"\n[plate]\nscore = 0.5\n",
        )
        .unwrap();
        let msg = PipelineConfig::load(&path).unwrap_err().to_string();
        assert!(msg.contains("p.toml:10:1"), "{msg}");
        assert!(msg.contains("unknown field `score`"), "{msg}");
    }
}
