//! Locating ONNX Runtime, loading a pipeline's plate models, and applying its plate filters.
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use image::RgbImage;
use sha2::{Digest, Sha256};
use xl_config::{PipelineConfig, PlateSettings};
use xl_infer::{DecodeMode, DetectorConfig, PlateReader, PlateReaderConfig};
use xl_schema::PlateObservation;

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
    let a = pipeline.analysis;
    PlateReaderConfig {
        detector_model: m.plate_detector.clone(),
        recognizer_model: m.plate_recognizer.clone(),
        alphabet: m.plate_dictionary.clone(),
        detector: DetectorConfig {
            max_side: a.width.max(a.height),
            score_threshold: pipeline.plate.detector_score_threshold,
            nms_iou: pipeline.plate.nms_iou,
        },
        decode: DecodeMode::Grammar,
        intra_threads: 1,
        corner_variants: true,
    }
}

/// One reader (detector + recogniser sessions, one intra-op thread each) per worker.
pub fn load_readers(
    pipeline: &PipelineConfig,
    count: usize,
    ort_library: &Path,
) -> Result<Vec<PlateReader>, PipelineError> {
    let config = reader_config(pipeline);
    (0..count)
        .map(|_| PlateReader::load(&config, Some(ort_library)).map_err(PipelineError::from))
        .collect()
}

/// sha256 of each model file by role, for event provenance.
pub fn model_digests(pipeline: &PipelineConfig) -> Result<BTreeMap<String, String>, PipelineError> {
    let m = &pipeline.models;
    [
        ("plate_detector", &m.plate_detector),
        ("plate_recognizer", &m.plate_recognizer),
    ]
    .into_iter()
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

pub fn tracker_params(pipeline: &PipelineConfig) -> xl_track::TrackerParams {
    let t = &pipeline.tracking;
    xl_track::TrackerParams {
        iou_threshold: t.iou_threshold,
        max_gap_secs: f64::from(t.max_gap_secs),
        min_reads: t.min_reads,
        ..xl_track::TrackerParams::default()
    }
}
