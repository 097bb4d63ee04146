//! The plate stage: detect plates in a frame, rectify each, read its text and colour.
use std::path::{Path, PathBuf};

use xl_schema::{PlateObservation, Quad};

use crate::color::classify_color;
use crate::detector::{DetectorConfig, PlateDetection, PlateDetector};
use crate::error::Result;
use crate::grammar::LengthPrior;
use crate::image::{resize_rgb, RgbView};
use crate::recognizer::{input_size, DecodeMode, PlateRecognizer, PlateText};
use crate::runtime::load_onnx_runtime;
use crate::warp::plate_band;

/// Where the plate models live and how to run them.
#[derive(Debug, Clone, PartialEq)]
pub struct PlateReaderConfig {
    pub detector_model: PathBuf,
    pub recognizer_model: PathBuf,
    pub alphabet: PathBuf,
    pub detector: DetectorConfig,
    pub decode: DecodeMode,
    /// Intra-op threads per session; 1 with one reader per core beats sharing threads.
    pub intra_threads: usize,
    /// Also read the plate from slightly enlarged corners and keep the most probable reading;
    /// detector corners are often a few pixels tight, clipping the outer characters.
    pub corner_variants: bool,
}

impl PlateReaderConfig {
    /// The standard file names (`clp_det.onnx`, `clp_v2_c_rec.onnx`, `clp_dict.txt`) in `dir`.
    pub fn from_model_dir(dir: &Path) -> Self {
        Self {
            detector_model: dir.join("clp_det.onnx"),
            recognizer_model: dir.join("clp_v2_c_rec.onnx"),
            alphabet: dir.join("clp_dict.txt"),
            detector: DetectorConfig::default(),
            decode: DecodeMode::default(),
            intra_threads: 1,
            corner_variants: true,
        }
    }
}

/// Detector + recogniser. `Send + Sync`; each model runs one call at a time, so create one reader
/// per worker for parallelism on CPU.
#[derive(Debug)]
pub struct PlateReader {
    detector: PlateDetector,
    recognizer: PlateRecognizer,
    decode: DecodeMode,
    corner_variants: bool,
}

/// Scale factors (width, height) about the quad's centre for the extra readings.
const VARIANTS: [(f32, f32); 2] = [(1.06, 1.0), (1.0, 1.12)];

fn scale_quad(q: &Quad, sx: f32, sy: f32) -> Quad {
    let cx = q.0.iter().map(|p| p[0]).sum::<f32>() / 4.0;
    let cy = q.0.iter().map(|p| p[1]).sum::<f32>() / 4.0;
    q.map(|p| [cx + (p[0] - cx) * sx, cy + (p[1] - cy) * sy])
}

impl PlateReader {
    /// Loads both models. `ort_library` (or `ORT_DYLIB_PATH`) names the ONNX Runtime library.
    pub fn load(config: &PlateReaderConfig, ort_library: Option<&Path>) -> Result<Self> {
        load_onnx_runtime(ort_library)?;
        let detector = PlateDetector::load(
            &config.detector_model,
            config.detector,
            config.intra_threads,
        )?;
        let recognizer = PlateRecognizer::load(
            &config.recognizer_model,
            &config.alphabet,
            config.intra_threads,
        )?;
        Ok(Self {
            detector,
            recognizer,
            decode: config.decode,
            corner_variants: config.corner_variants,
        })
    }

    pub fn detector(&self) -> &PlateDetector {
        &self.detector
    }

    pub fn recognizer(&self) -> &PlateRecognizer {
        &self.recognizer
    }

    /// Every plate in the frame, best detection first. Plates whose corners cannot be rectified
    /// (degenerate quads) are skipped with a debug log.
    pub fn read(&self, frame: RgbView<'_>) -> Result<Vec<PlateObservation>> {
        let detections = self.detector.detect(frame)?;
        let mut out = Vec::with_capacity(detections.len());
        for det in detections {
            if let Some(obs) = self.read_detection(frame, &det)? {
                out.push(obs);
            }
        }
        Ok(out)
    }

    /// Reads one detected plate; `None` when its corners are degenerate.
    pub fn read_detection(
        &self,
        frame: RgbView<'_>,
        det: &PlateDetection,
    ) -> Result<Option<PlateObservation>> {
        let Some((text, color)) = self.read_corners(frame, &det.corners)? else {
            tracing::debug!(corners = ?det.corners, "skipping plate with degenerate corners");
            return Ok(None);
        };
        Ok(Some(PlateObservation {
            corners: det.corners,
            detection_score: det.score,
            text: text.text,
            char_confidences: text.char_confidences,
            color,
        }))
    }

    /// Reads the plate inside known corners (TL, TR, BR, BL): warp, band, recognise, colour.
    pub fn read_corners(
        &self,
        frame: RgbView<'_>,
        corners: &Quad,
    ) -> Result<Option<(PlateText, xl_schema::PlateColor)>> {
        let Some(band) = plate_band(frame, corners) else {
            return Ok(None);
        };
        let color = classify_color(band.view());
        let prior = LengthPrior::for_color(color);
        let mut best = self.read_band(&band, prior)?;
        if self.corner_variants {
            for (sx, sy) in VARIANTS {
                let Some(band) = plate_band(frame, &scale_quad(corners, sx, sy)) else {
                    continue;
                };
                let text = self.read_band(&band, prior)?;
                // A valid plate beats an invalid one; then the more probable frame path wins.
                if (text.valid, text.path_log_prob) > (best.valid, best.path_log_prob) {
                    best = text;
                }
            }
        }
        Ok(Some((best, color)))
    }

    fn read_band(&self, band: &crate::image::RgbBuf, prior: LengthPrior) -> Result<PlateText> {
        let (w, h) = input_size(band.width, band.height);
        let crop = resize_rgb(band.view(), w, h)?;
        self.recognizer
            .recognize_with_prior(crop.view(), self.decode, prior)
    }
}
