//! Locating ONNX Runtime, loading a pipeline's plate models, and applying its plate filters.
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use image::RgbImage;
use sha2::{Digest, Sha256};
use xl_config::{PipelineConfig, PlateSettings};
use xl_infer::{
    DecodeMode, DetectorConfig, PlateReader, PlateReaderConfig, VehicleDetector,
    VehicleDetectorConfig,
};
use xl_schema::{PlateObservation, VehicleDetection};

use crate::PipelineError;

/// Where `make setup` puts the library, relative to the repository root.
pub fn default_ort_library() -> PathBuf {
    PathBuf::from(".cache/lib/libonnxruntime.so.1.22.1")
}

/// The configured library, else `$ORT_DYLIB_PATH`, else the set-up default; it must exist.
pub fn resolve_ort_library(configured: Option<&Path>) -> Result<PathBuf, PipelineError> {
    let path = configured
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from))
        .unwrap_or_else(default_ort_library);
    if !path.is_file() {
        return Err(PipelineError::OrtLibraryMissing(path));
    }
    Ok(path)
}

fn reader_config(pipeline: &PipelineConfig) -> PlateReaderConfig {
    let m = &pipeline.models;
    PlateReaderConfig {
        detector_model: m.plate_detector.clone(),
        recognizer_model: m.plate_recognizer.clone(),
        classifier_model: m.plate_classifier.clone(),
        detector: DetectorConfig {
            score_threshold: pipeline.plate.detector_score_threshold,
            nms_iou: pipeline.plate.nms_iou,
        },
        decode: DecodeMode::Grammar,
        intra_threads: 1,
    }
}

/// One pipeline's models as one worker holds them (one intra-op thread per session).
#[derive(Debug)]
pub struct AnalysisModels {
    pub plates: PlateReader,
    pub vehicles: Option<VehicleDetector>,
}

/// What the models found in one frame, in its pixels.
#[derive(Debug, Clone, Default)]
pub struct FrameFindings {
    pub plates: Vec<PlateObservation>,
    pub vehicles: Vec<VehicleDetection>,
}

impl AnalysisModels {
    /// Runs every model of the pipeline on one frame and applies its plate filters.
    pub fn analyse(
        &self,
        image: &RgbImage,
        pipeline: &PipelineConfig,
    ) -> Result<FrameFindings, xl_infer::InferError> {
        let plates = read_plates(&self.plates, image, &pipeline.plate)?;
        let vehicles = match &self.vehicles {
            Some(detector) => detector.detect(image.into())?,
            None => Vec::new(),
        };
        Ok(FrameFindings { plates, vehicles })
    }
}

/// One set of models per worker.
pub fn load_models(
    pipeline: &PipelineConfig,
    count: usize,
    ort_library: &Path,
) -> Result<Vec<AnalysisModels>, PipelineError> {
    let config = reader_config(pipeline);
    let vehicle_config = VehicleDetectorConfig {
        score_threshold: pipeline.vehicle.score_threshold,
        nms_iou: pipeline.vehicle.nms_iou,
    };
    (0..count)
        .map(|_| {
            let plates = PlateReader::load(&config, Some(ort_library))?;
            let vehicles = match &pipeline.models.vehicle_detector {
                Some(path) => Some(VehicleDetector::load(path, vehicle_config, 1)?),
                None => None,
            };
            Ok(AnalysisModels { plates, vehicles })
        })
        .collect()
}

/// sha256 of each model file by role, for event provenance.
pub fn model_digests(pipeline: &PipelineConfig) -> Result<BTreeMap<String, String>, PipelineError> {
    let m = &pipeline.models;
    [
        ("plate_detector", Some(&m.plate_detector)),
        ("plate_recognizer", Some(&m.plate_recognizer)),
        ("plate_classifier", Some(&m.plate_classifier)),
        ("vehicle_detector", m.vehicle_detector.as_ref()),
    ]
    .into_iter()
    .filter_map(|(role, path)| path.map(|p| (role, p)))
    .map(|(role, path)| Ok((role.to_string(), sha256_file(path)?)))
    .collect()
}

fn sha256_file(path: &Path) -> Result<String, PipelineError> {
    let input_err = |e: std::io::Error| PipelineError::Input {
        path: path.to_path_buf(),
        message: format!("cannot read model: {e}"),
    };
    let mut file = std::fs::File::open(path).map_err(input_err)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(input_err)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// Runs the reader and drops plates the pipeline asks to ignore (too narrow, too unsure).
pub fn read_plates(
    reader: &PlateReader,
    image: &RgbImage,
    settings: &PlateSettings,
) -> Result<Vec<PlateObservation>, xl_infer::InferError> {
    let mut plates = reader.read(image.into())?;
    plates.retain(|p| {
        p.corners.bbox().width() >= settings.min_plate_width_px
            && p.text_confidence() >= settings.min_text_confidence
    });
    Ok(plates)
}

pub fn vehicle_tracker_params(pipeline: &PipelineConfig) -> xl_track::VehicleTrackerParams {
    let t = &pipeline.vehicle_tracking;
    xl_track::VehicleTrackerParams {
        high_score: t.high_score,
        low_score: t.low_score,
        new_track_score: t.new_track_score,
        match_iou: t.match_iou,
        max_lost_secs: f64::from(t.max_lost_secs),
        lead_in_secs: f64::from(t.lead_in_secs),
        min_hits: t.min_hits,
        ..xl_track::VehicleTrackerParams::default()
    }
}

pub fn tracker_params(pipeline: &PipelineConfig) -> xl_track::TrackerParams {
    let t = &pipeline.tracking;
    xl_track::TrackerParams {
        iou_threshold: t.iou_threshold,
        max_gap_secs: f64::from(t.max_gap_secs),
        min_reads: t.min_reads,
        min_char_agreement: t.min_char_agreement,
        ..xl_track::TrackerParams::default()
    }
}
